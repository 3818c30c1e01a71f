//! Documented Defender / Graph integer codes with human labels.
//!
//! Every enum keeps the raw integer on the wire and is tolerant of codes it does not know:
//! `Unknown(n)` keeps the number and labels it "Unknown (n)".

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal => $label:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            /// A code this version does not know; the number is kept.
            Unknown(i64),
        }

        impl $name {
            /// Every documented value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn from_code(code: i64) -> Self {
                match code {
                    $($code => $name::$variant,)*
                    other => $name::Unknown(other),
                }
            }

            pub fn code(self) -> i64 {
                match self {
                    $($name::$variant => $code,)*
                    $name::Unknown(code) => code,
                }
            }

            /// The documented name, or "Unknown (n)" for an undocumented code.
            pub fn label(self) -> Cow<'static, str> {
                match self {
                    $($name::$variant => Cow::Borrowed($label),)*
                    $name::Unknown(code) => Cow::Owned(format!("Unknown ({code})")),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.label())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i64(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                i64::deserialize(d).map($name::from_code)
            }
        }

        impl $crate::json::FromJson for $name {
            fn from_json(v: &$crate::json::Value) -> Result<Self, $crate::json::JsonError> {
                <i64 as $crate::json::FromJson>::from_json(v).map($name::from_code)
            }
        }
    };
}

code_enum! {
    /// Threat severity. There is no code 3.
    Severity {
        Unknown0 = 0 => "Unknown",
        Low = 1 => "Low",
        Moderate = 2 => "Moderate",
        High = 4 => "High",
        Severe = 5 => "Severe",
    }
}

code_enum! {
    /// ExecutionStatus of a detected threat.
    ExecutionStatus {
        Unknown0 = 0 => "Unknown",
        Blocked = 1 => "Blocked",
        Allowed = 2 => "Allowed",
        Running = 3 => "Running",
        NotRunning = 4 => "Not running",
    }
}

code_enum! {
    /// Threat state (CurrentStatus in current Defender docs).
    ThreatState {
        Active = 0 => "Active",
        ActionFailed = 1 => "Action failed",
        ManualStepsRequired = 2 => "Manual steps required",
        FullScanRequired = 3 => "Full scan required",
        RebootRequired = 4 => "Reboot required",
        RemediatedWithNonCriticalFailures = 5 => "Remediated with non-critical failures",
        Quarantined = 6 => "Quarantined",
        Removed = 7 => "Removed",
        Cleaned = 8 => "Cleaned",
        Allowed = 9 => "Allowed",
        NoStatus = 10 => "No status (cleared)",
    }
}

impl ThreatState {
    /// Codes of the states that still need attention: the threat is not yet dealt with.
    pub const ACTIVE_CODES: [i64; 5] = [0, 1, 2, 3, 4];

    /// A threat in this state is still "active": present, or its remediation is incomplete.
    /// Undocumented codes count as active, so that nothing unknown is hidden.
    pub fn is_active(self) -> bool {
        match self {
            ThreatState::Unknown(_) => true,
            other => Self::ACTIVE_CODES.contains(&other.code()),
        }
    }
}

code_enum! {
    /// Detection status: the older code list, which CurrentStatusID may carry.
    DetectionStatus {
        Unknown0 = 0 => "Unknown",
        Detected = 1 => "Detected",
        Cleaned = 2 => "Cleaned",
        Quarantined = 3 => "Quarantined",
        Removed = 4 => "Removed",
        Allowed = 5 => "Allowed",
        Blocked = 6 => "Blocked",
        CleanFailed = 102 => "Clean failed",
        QuarantineFailed = 103 => "Quarantine failed",
        RemoveFailed = 104 => "Remove failed",
        AllowFailed = 105 => "Allow failed",
        Abandoned = 106 => "Abandoned",
        BlockFailed = 107 => "Block failed",
    }
}

code_enum! {
    /// Threat category (35 and 41 are unused).
    Category {
        Invalid = 0 => "Invalid",
        Adware = 1 => "Adware",
        Spyware = 2 => "Spyware",
        PasswordStealer = 3 => "Password stealer",
        TrojanDownloader = 4 => "Trojan downloader",
        Worm = 5 => "Worm",
        Backdoor = 6 => "Backdoor",
        RemoteAccessTrojan = 7 => "Remote access trojan",
        Trojan = 8 => "Trojan",
        EmailFlooder = 9 => "Email flooder",
        Keylogger = 10 => "Keylogger",
        Dialer = 11 => "Dialer",
        MonitoringSoftware = 12 => "Monitoring software",
        BrowserModifier = 13 => "Browser modifier",
        Cookie = 14 => "Cookie",
        BrowserPlugin = 15 => "Browser plugin",
        AolExploit = 16 => "AOL exploit",
        Nuker = 17 => "Nuker",
        SecurityDisabler = 18 => "Security disabler",
        JokeProgram = 19 => "Joke program",
        HostileActiveXControl = 20 => "Hostile ActiveX control",
        SoftwareBundler = 21 => "Software bundler",
        StealthNotifier = 22 => "Stealth notifier",
        SettingsModifier = 23 => "Settings modifier",
        Toolbar = 24 => "Toolbar",
        RemoteControlSoftware = 25 => "Remote control software",
        TrojanFtp = 26 => "Trojan FTP",
        PotentiallyUnwantedSoftware = 27 => "Potentially unwanted software",
        IcqExploit = 28 => "ICQ exploit",
        TrojanTelnet = 29 => "Trojan telnet",
        Exploit = 30 => "Exploit",
        FileSharingProgram = 31 => "File sharing program",
        MalwareCreationTool = 32 => "Malware creation tool",
        RemoteControlSoftware33 = 33 => "Remote control software",
        Tool = 34 => "Tool",
        TrojanDenialOfService = 36 => "Trojan denial of service",
        TrojanDropper = 37 => "Trojan dropper",
        TrojanMassMailer = 38 => "Trojan mass mailer",
        TrojanMonitoringSoftware = 39 => "Trojan monitoring software",
        TrojanProxyServer = 40 => "Trojan proxy server",
        Virus = 42 => "Virus",
        Known = 43 => "Known",
        Unknown44 = 44 => "Unknown",
        Spp = 45 => "SPP",
        Behavior = 46 => "Behavior",
        Vulnerability = 47 => "Vulnerability",
        Policy = 48 => "Policy",
        EnterpriseUnwantedSoftware = 49 => "Enterprise unwanted software",
        Ransomware = 50 => "Ransomware",
        AsrRule = 51 => "ASR rule",
    }
}

code_enum! {
    /// ConfigMgr collection type.
    CollectionType {
        Other = 0 => "Other",
        User = 1 => "User",
        Device = 2 => "Device",
    }
}

code_enum! {
    /// Application Insights severity level of a service connection point trace.
    TelemetrySeverity {
        Verbose = 0 => "Verbose",
        Information = 1 => "Information",
        Warning = 2 => "Warning",
        Error = 3 => "Error",
        Critical = 4 => "Critical",
    }
}

code_enum! {
    /// MdeOnboardingState.
    MdeOnboardingState {
        NotOnboarded = 0 => "Not onboarded",
        Onboarded = 1 => "Onboarded",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_round_trip_and_label() {
        for s in Severity::ALL {
            assert_eq!(Severity::from_code(s.code()), *s);
        }
        assert_eq!(Severity::from_code(5).label(), "Severe");
        assert_eq!(Severity::from_code(2).label(), "Moderate");
        assert_eq!(Category::from_code(50).label(), "Ransomware");
        assert_eq!(Category::from_code(33).label(), "Remote control software");
        assert_eq!(ThreatState::from_code(10).label(), "No status (cleared)");
        assert_eq!(DetectionStatus::from_code(103).label(), "Quarantine failed");
        assert_eq!(ExecutionStatus::from_code(4).label(), "Not running");
        assert_eq!(CollectionType::from_code(2).label(), "Device");
        assert_eq!(TelemetrySeverity::from_code(3).label(), "Error");
    }

    #[test]
    fn unknown_codes_keep_their_number() {
        assert_eq!(Severity::from_code(3), Severity::Unknown(3));
        assert_eq!(Severity::from_code(3).label(), "Unknown (3)");
        assert_eq!(Severity::from_code(3).code(), 3);
        assert_eq!(Category::from_code(35).label(), "Unknown (35)");
        assert_eq!(Category::from_code(41).label(), "Unknown (41)");
        assert_eq!(DetectionStatus::from_code(7).label(), "Unknown (7)");
        assert_eq!(ThreatState::from_code(-1).label(), "Unknown (-1)");
        // "Unknown" is also a documented label for some codes; those are not Unknown(n).
        assert_eq!(Severity::from_code(0), Severity::Unknown0);
        assert_eq!(Severity::from_code(0).label(), "Unknown");
        assert_eq!(Category::from_code(44).label(), "Unknown");
    }

    #[test]
    fn codes_serialize_as_integers() {
        assert_eq!(serde_json::to_string(&Severity::High).unwrap(), "4");
        assert_eq!(serde_json::from_str::<Severity>("3").unwrap(), Severity::Unknown(3));
        assert_eq!(serde_json::from_str::<Category>("8").unwrap(), Category::Trojan);
        assert!(serde_json::from_str::<Severity>("\"High\"").is_err());
    }

    #[test]
    fn active_states() {
        let active: Vec<_> = ThreatState::ALL.iter().filter(|s| s.is_active()).map(|s| s.code()).collect();
        assert_eq!(active, ThreatState::ACTIVE_CODES.to_vec());
        assert!(ThreatState::Unknown(42).is_active());
        assert!(!ThreatState::Quarantined.is_active());
    }

    #[test]
    fn documented_lists_are_complete() {
        assert_eq!(Category::ALL.len(), 50); // 0..=51 without 35 and 41
        assert_eq!(ThreatState::ALL.len(), 11);
        assert_eq!(DetectionStatus::ALL.len(), 13);
        assert_eq!(Severity::ALL.len(), 5);
    }
}
