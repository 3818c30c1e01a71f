//! The derived "Defender health" verdict of a device. The rule is written once, here.

use crate::entities::DefenderHealth;
use crate::flags::FlagSeverity;
use crate::codes::{MdeOnboardingState, Severity};
use crate::time;
use serde::{Deserialize, Serialize};

/// Overall Defender health of a device, worst first in `ALL` order of severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum HealthVerdict {
    Healthy,
    AtRisk,
    Unhealthy,
    NotReporting,
}

impl HealthVerdict {
    pub const ALL: [HealthVerdict; 4] =
        [HealthVerdict::Healthy, HealthVerdict::AtRisk, HealthVerdict::Unhealthy, HealthVerdict::NotReporting];

    /// Stable integer stored in the database.
    pub fn code(self) -> i64 {
        match self {
            HealthVerdict::Healthy => 0,
            HealthVerdict::AtRisk => 1,
            HealthVerdict::Unhealthy => 2,
            HealthVerdict::NotReporting => 3,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == code)
    }

    /// The wire name (`healthy`, `at_risk`, `unhealthy`, `not_reporting`), used in filters.
    pub fn key(self) -> &'static str {
        match self {
            HealthVerdict::Healthy => "healthy",
            HealthVerdict::AtRisk => "at_risk",
            HealthVerdict::Unhealthy => "unhealthy",
            HealthVerdict::NotReporting => "not_reporting",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            HealthVerdict::Healthy => "Healthy",
            HealthVerdict::AtRisk => "At risk",
            HealthVerdict::Unhealthy => "Unhealthy",
            HealthVerdict::NotReporting => "Not reporting",
        }
    }

    /// Why a device gets this verdict, in one sentence for tooltips and legends.
    pub fn rule(self) -> &'static str {
        match self {
            HealthVerdict::Healthy => "Defender and real-time protection on, signatures current, scans done, nothing pending.",
            HealthVerdict::AtRisk => "Something needs attention: signatures out of date, a scan overdue, a reboot or scan pending, tamper protection off, not onboarded to Defender for Endpoint, or a Low or Moderate threat still active.",
            HealthVerdict::Unhealthy => "Not protected: Defender or real-time protection off, the service not running or expired, a critical failure, or a High or Severe threat still active.",
            HealthVerdict::NotReporting => "No Defender health record has been uploaded for this device.",
        }
    }

    /// The verdict for a device with this health record (None: nothing reported) and these threats
    /// still active on it. The one rule; `assess` says why.
    pub fn of(health: Option<&DefenderHealth>, threats: &[ActiveThreat<'_>]) -> Self {
        Self::assess(health, threats, None).0
    }

    /// The verdict and every finding behind it, worst first. A finding is anything that keeps the
    /// device from being healthy: protection off or broken (unhealthy), something needing attention
    /// (at risk), or a threat still active on it (unhealthy for High and Severe, at risk otherwise).
    /// `now` (Unix seconds) adds the signature age to "Signatures out of date".
    pub fn assess(health: Option<&DefenderHealth>, threats: &[ActiveThreat<'_>], now: Option<i64>) -> (Self, Vec<Finding>) {
        use HealthVerdict::{AtRisk, Unhealthy};
        let mut findings: Vec<Finding> = Vec::new();
        let mut add = |verdict: HealthVerdict, text: String| {
            if !findings.iter().any(|f| f.text == text) {
                findings.push(Finding { verdict, text });
            }
        };
        for t in threats {
            let verdict = if matches!(t.severity, Severity::High | Severity::Severe) { Unhealthy } else { AtRisk };
            add(verdict, format!("Active threat: {} ({})", t.name, t.severity.label()));
        }
        if let Some(h) = health {
            if !h.defender_enabled {
                add(Unhealthy, "Defender Antivirus off".into());
            }
            if !h.rtp_enabled {
                add(Unhealthy, "Real-time protection off".into());
            }
            for f in h.product_status.flags().into_iter().chain(h.computer_state.flags()) {
                match f.severity {
                    FlagSeverity::Critical => add(Unhealthy, f.label.to_string()),
                    FlagSeverity::Warning => add(AtRisk, f.label.to_string()),
                    FlagSeverity::Info => {}
                }
            }
            if h.signature_out_of_date {
                let age = now.zip(h.last_update_time.as_deref().and_then(time::parse_rfc3339)).map(|(n, t)| (n - t) / 86_400);
                add(AtRisk, match age {
                    Some(d) if d >= 1 => format!("Signatures {d} day{} old", if d == 1 { "" } else { "s" }),
                    _ => "Signatures out of date".into(),
                });
            }
            for (set, text) in [
                (h.quick_scan_overdue, "Quick scan overdue"),
                (h.full_scan_overdue, "Full scan overdue"),
                (h.reboot_required, "Reboot required"),
                (h.full_scan_required, "Full scan required"),
                (!h.tamper_protection_enabled, "Tamper protection off"),
            ] {
                if set {
                    add(AtRisk, text.into());
                }
            }
            if h.mde_onboarding_state != MdeOnboardingState::Onboarded {
                add(AtRisk, format!("Defender for Endpoint: {}", h.mde_onboarding_state.label()));
            }
        }
        // Worst first, keeping the order within each verdict (a partition, not a sort: smaller wasm).
        let (mut findings, at_risk): (Vec<Finding>, Vec<Finding>) = findings.into_iter().partition(|f| f.verdict == Unhealthy);
        findings.extend(at_risk);
        let verdict = match findings.first() {
            Some(f) => f.verdict,
            None if health.is_none() => HealthVerdict::NotReporting,
            None => HealthVerdict::Healthy,
        };
        (verdict, findings)
    }
}

/// A threat still active on a device, as the verdict sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActiveThreat<'a> {
    pub name: &'a str,
    pub severity: Severity,
}

/// One reason a device is not healthy, with the verdict it leads to.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub verdict: HealthVerdict,
    pub text: String,
}

impl crate::json::FromJson for HealthVerdict {
    fn from_json(v: &crate::json::Value) -> Result<Self, crate::json::JsonError> {
        v.as_str()
            .and_then(HealthVerdict::from_key)
            .ok_or_else(|| crate::json::JsonError::new(format!("expected one of {}", HealthVerdict::ALL.map(|x| x.key()).join(", "))))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::flags::{ComputerState, ProductStatus, PRODUCT_STATUS_HEALTHY};

    pub(crate) fn healthy() -> DefenderHealth {
        DefenderHealth {
            device_id: "6f1c2b7e-0000-4000-8000-000000000001".into(),
            product_status: ProductStatus(PRODUCT_STATUS_HEALTHY),
            computer_state: ComputerState(0),
            defender_enabled: true,
            rtp_enabled: true,
            nis_enabled: true,
            quick_scan_overdue: false,
            full_scan_overdue: false,
            signature_out_of_date: false,
            reboot_required: false,
            full_scan_required: false,
            tamper_protection_enabled: true,
            is_mde_sense_running: true,
            is_virtual_machine: false,
            mde_onboarding_state: MdeOnboardingState::Onboarded,
            engine_version: "1.1.24090.11".into(),
            signature_version: "1.421.123.0".into(),
            defender_version: "4.18.24090.11".into(),
            quick_scan_time: Some("2026-11-23T02:00:00Z".into()),
            full_scan_time: Some("2026-11-20T02:00:00Z".into()),
            quick_scan_sig_version: Some("1.421.120.0".into()),
            full_scan_sig_version: Some("1.421.100.0".into()),
            last_update_time: Some("2026-11-24T06:00:00Z".into()),
        }
    }

    #[test]
    fn no_record_is_not_reporting() {
        assert_eq!(HealthVerdict::of(None, &[]), HealthVerdict::NotReporting);
    }

    #[test]
    fn clean_record_is_healthy() {
        assert_eq!(HealthVerdict::of(Some(&healthy()), &[]), HealthVerdict::Healthy);
        // A scan in progress is informational only.
        let h = DefenderHealth { product_status: ProductStatus(PRODUCT_STATUS_HEALTHY | 512), ..healthy() };
        assert_eq!(HealthVerdict::of(Some(&h), &[]), HealthVerdict::Healthy);
    }

    #[test]
    fn degraded_records_are_at_risk() {
        let cases: Vec<DefenderHealth> = vec![
            DefenderHealth { signature_out_of_date: true, ..healthy() },
            DefenderHealth { quick_scan_overdue: true, ..healthy() },
            DefenderHealth { full_scan_overdue: true, ..healthy() },
            DefenderHealth { reboot_required: true, ..healthy() },
            DefenderHealth { full_scan_required: true, ..healthy() },
            DefenderHealth { tamper_protection_enabled: false, ..healthy() },
            DefenderHealth { mde_onboarding_state: MdeOnboardingState::NotOnboarded, ..healthy() },
            DefenderHealth { product_status: ProductStatus(32), ..healthy() },
            DefenderHealth { computer_state: ComputerState(2), ..healthy() },
        ];
        for h in cases {
            assert_eq!(HealthVerdict::of(Some(&h), &[]), HealthVerdict::AtRisk, "{h:?}");
        }
    }

    #[test]
    fn broken_protection_is_unhealthy_even_if_also_at_risk() {
        let cases: Vec<DefenderHealth> = vec![
            DefenderHealth { defender_enabled: false, ..healthy() },
            DefenderHealth { rtp_enabled: false, signature_out_of_date: true, ..healthy() },
            DefenderHealth { product_status: ProductStatus(1), ..healthy() },
            DefenderHealth { product_status: ProductStatus(16384 | 32), ..healthy() },
            DefenderHealth { computer_state: ComputerState(16), ..healthy() },
        ];
        for h in cases {
            assert_eq!(HealthVerdict::of(Some(&h), &[]), HealthVerdict::Unhealthy, "{h:?}");
        }
    }

    #[test]
    fn active_threats_are_never_healthy() {
        let low = [ActiveThreat { name: "PUA:Win32/DlManager", severity: Severity::Low }];
        let severe = [ActiveThreat { name: "Trojan:Win32/Emotet", severity: Severity::Severe }];
        let high = [ActiveThreat { name: "Backdoor:Win32/X", severity: Severity::High }];
        assert_eq!(HealthVerdict::of(Some(&healthy()), &low), HealthVerdict::AtRisk);
        assert_eq!(HealthVerdict::of(Some(&healthy()), &severe), HealthVerdict::Unhealthy);
        assert_eq!(HealthVerdict::of(Some(&healthy()), &high), HealthVerdict::Unhealthy);
        // Without a health record, a severe threat still decides.
        assert_eq!(HealthVerdict::of(None, &severe), HealthVerdict::Unhealthy);
        let (_, findings) = HealthVerdict::assess(Some(&healthy()), &low, None);
        assert_eq!(findings[0].text, "Active threat: PUA:Win32/DlManager (Low)");
    }

    #[test]
    fn findings_explain_the_verdict_worst_first() {
        let h = DefenderHealth { rtp_enabled: false, signature_out_of_date: true, last_update_time: Some("2026-11-15T06:00:00Z".into()), ..healthy() };
        let now = time::parse_rfc3339("2026-11-24T06:00:00Z");
        let (verdict, findings) = HealthVerdict::assess(Some(&h), &[], now);
        assert_eq!(verdict, HealthVerdict::Unhealthy);
        let texts: Vec<&str> = findings.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(texts, ["Real-time protection off", "Signatures 9 days old"]);
        assert!(HealthVerdict::assess(Some(&healthy()), &[], now).1.is_empty());
        let (v, f) = HealthVerdict::assess(None, &[], now);
        assert_eq!((v, f.len()), (HealthVerdict::NotReporting, 0));
    }

    #[test]
    fn keys_and_codes_round_trip() {
        for v in HealthVerdict::ALL {
            assert_eq!(HealthVerdict::from_key(v.key()), Some(v));
            assert_eq!(HealthVerdict::from_code(v.code()), Some(v));
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{}\"", v.key()));
        }
        assert_eq!(HealthVerdict::from_key("sick"), None);
    }
}
