//! The antivirus agent state of a device: the Intune "Antivirus agent status" report's question
//! ("what is wrong with this agent?") answered with exactly one state per device, so that the states
//! partition the estate and each one opens a device list whose total equals its count.

use crate::codes::MdeOnboardingState;
use crate::entities::DefenderHealth;
use serde::{Deserialize, Serialize};

/// One state per device: the first of these, in this order, that applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// No Defender health record uploaded.
    NotReporting,
    /// Defender or its real-time protection is off.
    RtpOff,
    SignaturesOutOfDate,
    FullScanRequired,
    RebootRequired,
    QuickScanOverdue,
    FullScanOverdue,
    TamperProtectionOff,
    NotOnboarded,
    /// None of the above.
    Healthy,
}

impl AgentState {
    /// Every state, in the order the rule checks them (worst first, healthy last).
    pub const ALL: [AgentState; 10] = [
        AgentState::NotReporting,
        AgentState::RtpOff,
        AgentState::SignaturesOutOfDate,
        AgentState::FullScanRequired,
        AgentState::RebootRequired,
        AgentState::QuickScanOverdue,
        AgentState::FullScanOverdue,
        AgentState::TamperProtectionOff,
        AgentState::NotOnboarded,
        AgentState::Healthy,
    ];

    /// Stable integer stored in the database.
    pub fn code(self) -> i64 {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) as i64
    }

    pub fn from_code(code: i64) -> Option<Self> {
        usize::try_from(code).ok().and_then(|i| Self::ALL.get(i).copied())
    }

    /// The wire name used in filters (`rtp_off`, ...).
    pub fn key(self) -> &'static str {
        match self {
            AgentState::NotReporting => "not_reporting",
            AgentState::RtpOff => "rtp_off",
            AgentState::SignaturesOutOfDate => "signatures_out_of_date",
            AgentState::FullScanRequired => "full_scan_required",
            AgentState::RebootRequired => "reboot_required",
            AgentState::QuickScanOverdue => "quick_scan_overdue",
            AgentState::FullScanOverdue => "full_scan_overdue",
            AgentState::TamperProtectionOff => "tamper_protection_off",
            AgentState::NotOnboarded => "not_onboarded",
            AgentState::Healthy => "healthy",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            AgentState::NotReporting => "Not reporting",
            AgentState::RtpOff => "Real-time protection off",
            AgentState::SignaturesOutOfDate => "Signatures out of date",
            AgentState::FullScanRequired => "Full scan required",
            AgentState::RebootRequired => "Reboot required",
            AgentState::QuickScanOverdue => "Quick scan overdue",
            AgentState::FullScanOverdue => "Full scan overdue",
            AgentState::TamperProtectionOff => "Tamper protection off",
            AgentState::NotOnboarded => "Not onboarded to Defender for Endpoint",
            AgentState::Healthy => "Healthy",
        }
    }

    /// The rule in one sentence, for tooltips and the chart's description.
    pub const RULE: &'static str = "Each device is counted once, under the first state that applies, in the order of the legend.";

    /// The state of a device with this health record (None: nothing reported).
    pub fn of(health: Option<&DefenderHealth>) -> Self {
        let Some(h) = health else { return AgentState::NotReporting };
        if !h.defender_enabled || !h.rtp_enabled {
            AgentState::RtpOff
        } else if h.signature_out_of_date {
            AgentState::SignaturesOutOfDate
        } else if h.full_scan_required {
            AgentState::FullScanRequired
        } else if h.reboot_required {
            AgentState::RebootRequired
        } else if h.quick_scan_overdue {
            AgentState::QuickScanOverdue
        } else if h.full_scan_overdue {
            AgentState::FullScanOverdue
        } else if !h.tamper_protection_enabled {
            AgentState::TamperProtectionOff
        } else if h.mde_onboarding_state != MdeOnboardingState::Onboarded {
            AgentState::NotOnboarded
        } else {
            AgentState::Healthy
        }
    }
}

impl crate::json::FromJson for AgentState {
    fn from_json(v: &crate::json::Value) -> Result<Self, crate::json::JsonError> {
        v.as_str()
            .and_then(AgentState::from_key)
            .ok_or_else(|| crate::json::JsonError::new(format!("expected one of {}", AgentState::ALL.map(|x| x.key()).join(", "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::tests::healthy;

    #[test]
    fn one_state_per_device_first_rule_wins() {
        assert_eq!(AgentState::of(None), AgentState::NotReporting);
        assert_eq!(AgentState::of(Some(&healthy())), AgentState::Healthy);
        let h = DefenderHealth { rtp_enabled: false, signature_out_of_date: true, ..healthy() };
        assert_eq!(AgentState::of(Some(&h)), AgentState::RtpOff);
        let h = DefenderHealth { signature_out_of_date: true, reboot_required: true, ..healthy() };
        assert_eq!(AgentState::of(Some(&h)), AgentState::SignaturesOutOfDate);
        let h = DefenderHealth { quick_scan_overdue: true, full_scan_overdue: true, ..healthy() };
        assert_eq!(AgentState::of(Some(&h)), AgentState::QuickScanOverdue);
        let h = DefenderHealth { full_scan_overdue: true, ..healthy() };
        assert_eq!(AgentState::of(Some(&h)), AgentState::FullScanOverdue);
        let h = DefenderHealth { tamper_protection_enabled: false, ..healthy() };
        assert_eq!(AgentState::of(Some(&h)), AgentState::TamperProtectionOff);
        let h = DefenderHealth { mde_onboarding_state: MdeOnboardingState::NotOnboarded, ..healthy() };
        assert_eq!(AgentState::of(Some(&h)), AgentState::NotOnboarded);
    }

    #[test]
    fn keys_and_codes_round_trip() {
        for s in AgentState::ALL {
            assert_eq!(AgentState::from_key(s.key()), Some(s));
            assert_eq!(AgentState::from_code(s.code()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.key()));
        }
        assert_eq!(AgentState::from_code(10), None);
        assert_eq!(AgentState::from_key("sick"), None);
    }
}
