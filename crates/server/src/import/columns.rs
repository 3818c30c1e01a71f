//! The one alias table: which column of an Intune report export (CSV or JSON), or which property of
//! a Microsoft Graph object, fills which field of the upload contract, and how its text becomes the
//! model's value. Header names compare case-insensitively, so `MalwareProtectionEnabled` (export)
//! and `malwareProtectionEnabled` (Graph) are one alias. A `<column>_loc` twin (the localized label
//! of a coded column) is used only when its column is missing, and then read as an English label.

use tenantscope_model::{Category, DetectionStatus, ExecutionStatus, MdeOnboardingState, Severity, ThreatState};

/// How a column's text becomes a field value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conv {
    Text,
    Bool,
    Int,
    /// A time, written into the stored form (UTC RFC 3339); empty and `0001-01-01` read as none.
    Time,
    Code(Codes),
    /// Bit flags: a number, or flag names separated by commas (`serviceNotRunning,avSignaturesOutOfDate`).
    Flags(FlagSet),
    /// One bit of ComputerState carried as a boolean column (the older export column set).
    StateBit(u64),
}

/// One field of the upload contract and the columns that may carry it, preferred first.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub field: &'static str,
    pub names: &'static [&'static str],
    pub conv: Conv,
}

const fn col(field: &'static str, names: &'static [&'static str], conv: Conv) -> Column {
    Column { field, names, conv }
}

/// Columns that say which device a row is about. The Intune `DeviceId` is Intune's own id: it is
/// reported, never used to match (it is not the ConfigMgr SMSID nor the Entra device id).
pub const ENTRA_DEVICE_ID: &[&str] = &["AADDeviceID", "AzureADDeviceId", "AadDeviceId", "EntraDeviceId"];
pub const DEVICE_NAME: &[&str] = &["DeviceName", "Name"];
pub const INTUNE_DEVICE_ID: &[&str] = &["DeviceId", "IntuneDeviceId", "ManagedDeviceId"];
/// Identity columns that are read but carry no field (people's names stay out of the store).
pub const NOT_STORED: &[&str] = &["UPN", "UserEmail", "UserName", "_ManagedBy", "UserPrincipalName", "EmailAddress"];

/// Defender health (`DefenderAgents`, `UnhealthyDefenderAgents`, Graph `windowsProtectionState`).
pub const HEALTH: &[Column] = &[
    col("ProductStatus", &["ProductStatus"], Conv::Flags(FlagSet::ProductStatus)),
    col("ComputerState", &["DeviceState", "ComputerState"], Conv::Flags(FlagSet::ComputerState)),
    col("ComputerState", &["PendingFullScan"], Conv::StateBit(1)),
    col("ComputerState", &["PendingReboot"], Conv::StateBit(2)),
    col("ComputerState", &["PendingManualSteps"], Conv::StateBit(4)),
    col("ComputerState", &["PendingOfflineScan"], Conv::StateBit(8)),
    col("ComputerState", &["CriticalFailure"], Conv::StateBit(16)),
    col("DefenderEnabled", &["MalwareProtectionEnabled", "DefenderEnabled"], Conv::Bool),
    col("RtpEnabled", &["RealTimeProtectionEnabled", "RtpEnabled"], Conv::Bool),
    col("NisEnabled", &["NetworkInspectionSystemEnabled", "NisEnabled"], Conv::Bool),
    col("QuickScanOverdue", &["QuickScanOverdue"], Conv::Bool),
    col("FullScanOverdue", &["FullScanOverdue"], Conv::Bool),
    col("SignatureOutOfDate", &["SignatureUpdateOverdue", "SignatureOutOfDate"], Conv::Bool),
    col("RebootRequired", &["RebootRequired"], Conv::Bool),
    col("FullScanRequired", &["FullScanRequired"], Conv::Bool),
    col("TamperProtectionEnabled", &["TamperProtectionEnabled"], Conv::Bool),
    col("IsMdeSenseRunning", &["IsWDATPSenseRunning", "IsMdeSenseRunning", "SenseIsRunning"], Conv::Bool),
    col("IsVirtualMachine", &["IsVirtualMachine"], Conv::Bool),
    col("MdeOnboardingState", &["WDATPOnboardingState", "MdeOnboardingState", "OnboardingState"], Conv::Code(Codes::Onboarding)),
    col("EngineVersion", &["EngineVersion"], Conv::Text),
    col("SignatureVersion", &["SignatureVersion"], Conv::Text),
    col("DefenderVersion", &["AntiMalwareVersion", "DefenderVersion"], Conv::Text),
    col("QuickScanTime", &["LastQuickScanDateTime", "QuickScanTime"], Conv::Time),
    col("FullScanTime", &["LastFullScanDateTime", "FullScanTime"], Conv::Time),
    col("QuickScanSigVersion", &["LastQuickScanSignatureVersion", "QuickScanSigVersion"], Conv::Text),
    col("FullScanSigVersion", &["LastFullScanSignatureVersion", "FullScanSigVersion"], Conv::Text),
    col("LastUpdateTime", &["LastSignatureUpdateDateTime", "LastUpdateTime"], Conv::Time),
];

/// Detections (`Malware`, `ActiveMalware`, Graph `windowsDeviceMalwareState`).
pub const THREAT: &[Column] = &[
    col("ThreatID", &["MalwareId", "ThreatID"], Conv::Int),
    col("ThreatName", &["MalwareName", "ThreatName", "displayName"], Conv::Text),
    col("URL", &["AdditionalInformationUrl", "URL"], Conv::Text),
    col("Severity", &["Severity"], Conv::Code(Codes::Severity)),
    col("Category", &["MalwareCategory", "Category"], Conv::Code(Codes::Category)),
    col("ExecutionStatus", &["ExecutionState", "ExecutionStatus"], Conv::Code(Codes::Execution)),
    col("CurrentStatusID", &["State", "CurrentStatusID"], Conv::Code(Codes::Detection)),
    col("CurrentStatus", &["ThreatState", "CurrentStatus"], Conv::Code(Codes::Threat)),
    col("InitialDetectionTime", &["InitialDetectionDateTime", "InitialDetectionTime"], Conv::Time),
    col("LastThreatStatusChangeTime", &["LastStateChangeDateTime", "LastThreatStatusChangeTime"], Conv::Time),
    col("NumberOfDetections", &["DetectionCount", "NumberOfDetections"], Conv::Int),
];

/// Devices (Graph `managedDevices`; an export's rows never create devices).
pub const DEVICE: &[Column] = &[
    col("AADDeviceID", ENTRA_DEVICE_ID, Conv::Text),
    col("Name", &["deviceName"], Conv::Text),
    col("DeviceOSBuild", &["osVersion"], Conv::Text),
    col("Model", &["model"], Conv::Text),
    col("Manufacturer", &["manufacturer"], Conv::Text),
    col("SerialNumber", &["serialNumber"], Conv::Text),
    col("AADPrimaryUserID", &["userId"], Conv::Text),
    col("SKU", &["skuFamily"], Conv::Text),
];

/// Collections with their policy summary (Graph `configManagerCollection` + `getPolicySummary`).
pub const COLLECTION: &[Column] = &[
    col("CollectionId", &["collectionIdentifier", "CollectionId"], Conv::Text),
    col("CollectionName", &["displayName", "CollectionName"], Conv::Text),
    col("HierarchyId", &["hierarchyIdentifier", "HierarchyId"], Conv::Text),
    col("CountTargeted", &["targetedDeviceCount", "CountTargeted"], Conv::Int),
    col("CountCompliant", &["compliantDeviceCount", "CountCompliant"], Conv::Int),
    col("CountNonCompliant", &["nonCompliantDeviceCount", "CountNonCompliant"], Conv::Int),
    col("CountFailed", &["failedDeviceCount", "CountFailed"], Conv::Int),
    col("CountEnforced", &["enforcedDeviceCount", "CountEnforced"], Conv::Int),
];

/// Graph properties read for other purposes (identity, OS name, pending count): not "unused".
pub const GRAPH_READ: &[&str] = &["id", "operatingSystem", "pendingDeviceCount", "windowsProtectionState", "detectedMalwareState",
    "policySummary", "@odata.type", "@odata.id", "@odata.etag", "hierarchyName", "createdDateTime", "lastModifiedDateTime"];

/// A coded field: the model's enum, read from a number or a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codes {
    Severity,
    Category,
    Execution,
    Detection,
    Threat,
    Onboarding,
}

/// Lower-case letters and digits only: `Not running`, `notRunning` and `not_running` compare equal.
pub fn norm(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

impl Codes {
    /// The model's labels, and the Graph enum names where they differ from them.
    fn names(self) -> Vec<(String, i64)> {
        fn labels<E: Copy>(all: &[E], label: impl Fn(E) -> String, code: impl Fn(E) -> i64) -> Vec<(String, i64)> {
            all.iter().map(|e| (norm(&label(*e)), code(*e))).collect()
        }
        let (mut names, extra): (Vec<(String, i64)>, &[(&str, i64)]) = match self {
            Codes::Severity => (labels(Severity::ALL, |e| e.label().into(), |e| e.code()), &[("medium", 2), ("critical", 5)]),
            Codes::Category => (
                labels(Category::ALL, |e| e.label().into(), |e| e.code()),
                &[("potentialunwantedsoftware", 27), ("filesharingprogram", 31), ("ransom", 50), ("hipsrule", 51), ("remotecontrolsoftware", 25)],
            ),
            Codes::Execution => (labels(ExecutionStatus::ALL, |e| e.label().into(), |e| e.code()), &[]),
            Codes::Detection => (labels(DetectionStatus::ALL, |e| e.label().into(), |e| e.code()), &[]),
            Codes::Threat => (labels(ThreatState::ALL, |e| e.label().into(), |e| e.code()), &[("nostatus", 10)]),
            Codes::Onboarding => (
                labels(MdeOnboardingState::ALL, |e| e.label().into(), |e| e.code()),
                &[("notonboarded", 0), ("onboarded", 1), ("false", 0), ("true", 1)],
            ),
        };
        names.extend(extra.iter().map(|(n, c)| (n.to_string(), *c)));
        names
    }

    /// The code of a number or a (case- and space-insensitive) name; None if it is neither.
    pub fn read(self, text: &str) -> Option<i64> {
        if let Ok(n) = text.trim().parse::<i64>() {
            return Some(n);
        }
        let key = norm(text);
        // Built once per code list (a file reads the same names row after row).
        static NAMES: [std::sync::OnceLock<Vec<(String, i64)>>; 6] = [const { std::sync::OnceLock::new() }; 6];
        let names = NAMES[self as usize].get_or_init(|| self.names());
        names.iter().find(|(name, _)| *name == key).map(|(_, code)| *code)
    }

    /// Whether a code is one the model documents.
    pub fn known(self, code: i64) -> bool {
        match self {
            Codes::Severity => !matches!(Severity::from_code(code), Severity::Unknown(_)),
            Codes::Category => !matches!(Category::from_code(code), Category::Unknown(_)),
            Codes::Execution => !matches!(ExecutionStatus::from_code(code), ExecutionStatus::Unknown(_)),
            Codes::Detection => !matches!(DetectionStatus::from_code(code), DetectionStatus::Unknown(_)),
            Codes::Threat => !matches!(ThreatState::from_code(code), ThreatState::Unknown(_)),
            Codes::Onboarding => !matches!(MdeOnboardingState::from_code(code), MdeOnboardingState::Unknown(_)),
        }
    }

    /// The documented "unknown" value a text the model does not know is kept as (the row stays).
    pub fn unknown(self) -> i64 {
        match self {
            Codes::Severity | Codes::Execution | Codes::Detection | Codes::Onboarding => 0,
            Codes::Category => 44,
            // No "unknown" threat state: taken from the detection state instead (`threat_state_of`).
            Codes::Threat => -1,
        }
    }
}

/// Threat state (CurrentStatus) where a source carries only the detection state (CurrentStatusID,
/// the Malware export's `State`): still active unless the detection was dealt with.
pub fn threat_state_of(detection: i64) -> i64 {
    match detection {
        2 => 8,   // cleaned
        3 => 6,   // quarantined
        4 => 7,   // removed
        5 => 9,   // allowed
        6 => 10,  // blocked: no status (cleared)
        106 => 2, // abandoned: manual steps required
        102..=105 | 107 => 1, // a failed action
        _ => 0,   // unknown, detected: active
    }
}

/// Bit-flag fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagSet {
    ProductStatus,
    ComputerState,
}

/// Graph `windowsDefenderProductStatus` names.
const PRODUCT_STATUS: &[(&str, u64)] = &[
    ("noStatus", 0),
    ("serviceNotRunning", 1),
    ("serviceStartedWithoutMalwareProtection", 2),
    ("pendingFullScanDueToThreatAction", 4),
    ("pendingRebootDueToThreatAction", 8),
    ("pendingManualStepsDueToThreatAction", 16),
    ("avSignaturesOutOfDate", 32),
    ("asSignaturesOutOfDate", 64),
    ("noQuickScanHappenedForSpecifiedPeriod", 128),
    ("noFullScanHappenedForSpecifiedPeriod", 256),
    ("systemInitiatedScanInProgress", 512),
    ("systemInitiatedCleanInProgress", 1024),
    ("samplesPendingSubmission", 2048),
    ("productRunningInEvaluationMode", 4096),
    ("productRunningInNonGenuineMode", 8192),
    ("productExpired", 16384),
    ("offlineScanRequired", 32768),
    ("serviceShutdownAsPartOfSystemShutdown", 65536),
    ("threatRemediationFailedCritically", 131072),
    ("threatRemediationFailedNonCritically", 262144),
    ("noStatusFlagsSet", 524288),
    ("platformOutOfDate", 1048576),
    ("platformUpdateInProgress", 2097152),
    ("platformAboutToBeOutdated", 4194304),
    ("signatureOrPlatformEndOfLifeIsPastOrIsImpending", 8388608),
    ("windowsSModeSignaturesInUseOnNonWin10SInstall", 16777216),
];

/// Graph `windowsDeviceHealthState` names (and the report's labels).
const COMPUTER_STATE: &[(&str, u64)] = &[
    ("clean", 0),
    ("fullScanPending", 1),
    ("pendingFullScan", 1),
    ("rebootPending", 2),
    ("pendingReboot", 2),
    ("manualStepsPending", 4),
    ("pendingManualSteps", 4),
    ("offlineScanPending", 8),
    ("pendingOfflineScan", 8),
    ("critical", 16),
    ("criticalFailure", 16),
    ("pendingCriticalFailure", 16),
];

impl FlagSet {
    /// The flags of a number or of names; Err(names it does not know) (the known ones still count).
    pub fn read(self, text: &str) -> Result<u64, (u64, Vec<String>)> {
        let text = text.trim();
        if let Ok(n) = text.parse::<u64>() {
            return Ok(n);
        }
        let (table, labels) = match self {
            FlagSet::ProductStatus => (PRODUCT_STATUS, tenantscope_model::ProductStatus::documented()),
            FlagSet::ComputerState => (COMPUTER_STATE, tenantscope_model::ComputerState::documented()),
        };
        let mut value = 0;
        let mut unknown = Vec::new();
        for part in text.split([',', ';', '|']).map(str::trim).filter(|p| !p.is_empty()) {
            let key = norm(part);
            let hit = table.iter().find(|(n, _)| norm(n) == key).map(|(_, v)| *v).or_else(|| {
                labels.iter().find(|f| norm(f.label) == key).map(|f| f.value)
            });
            match hit {
                Some(v) => value |= v,
                None => unknown.push(part.to_string()),
            }
        }
        if unknown.is_empty() { Ok(value) } else { Err((value, unknown)) }
    }
}

/// `true`/`false`, `1`/`0`, `yes`/`no` (any case); None for anything else.
pub fn read_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Some(true),
        "false" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// A time as exports and Graph write it, in the stored form: `2026-11-20T09:30:00Z`,
/// `2026-11-20T09:30:00.1234567+01:00`, `2026-11-20 09:30:00.0000000` (UTC), `11/20/2026 9:30:00 AM`.
/// Ok(None) for an empty cell or Graph's `0001-01-01T00:00:00Z` (never).
pub fn read_time(text: &str) -> Result<Option<String>, ()> {
    let t = text.trim();
    if t.is_empty() || t.starts_with("0001-01-01") {
        return Ok(None);
    }
    use tenantscope_model::time::{days_from_civil, format_rfc3339, parse_rfc3339};
    if let Some(secs) = parse_rfc3339(t) {
        return Ok(Some(format_rfc3339(secs)));
    }
    // No offset: UTC.
    if t.len() >= 19 && t.as_bytes()[4] == b'-' {
        let with_zone = format!("{}Z", t.replacen(' ', "T", 1));
        if let Some(secs) = parse_rfc3339(&with_zone) {
            return Ok(Some(format_rfc3339(secs)));
        }
        return Err(());
    }
    // M/D/YYYY [h:mm[:ss] [AM|PM]] (US-style report exports), UTC.
    let mut parts = t.split_whitespace();
    let date: Vec<&str> = parts.next().unwrap_or("").split('/').collect();
    if date.len() != 3 {
        return Err(());
    }
    let (m, d, y) = (date[0].parse::<u32>(), date[1].parse::<u32>(), date[2].parse::<i64>());
    let (Ok(m), Ok(d), Ok(y)) = (m, d, y) else { return Err(()) };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1000..=9999).contains(&y) {
        return Err(());
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(clock) = parts.next() {
        let hms: Vec<i64> = clock.split(':').map(|p| p.split('.').next().unwrap_or("").parse::<i64>()).collect::<Result<_, _>>().map_err(|_| ())?;
        let (mut h, mi, s) = (hms[0], *hms.get(1).unwrap_or(&0), *hms.get(2).unwrap_or(&0));
        match parts.next().map(|p| p.to_ascii_uppercase()) {
            Some(p) if p == "PM" && h < 12 => h += 12,
            Some(p) if p == "AM" && h == 12 => h = 0,
            Some(p) if p != "AM" && p != "PM" => return Err(()),
            _ => {}
        }
        if h > 23 || mi > 59 || s > 60 {
            return Err(());
        }
        secs += h * 3600 + mi * 60 + s;
    }
    Ok(Some(format_rfc3339(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_numbers_model_labels_and_graph_names() {
        assert_eq!(Codes::Severity.read("5"), Some(5));
        assert_eq!(Codes::Severity.read("Severe"), Some(5));
        assert_eq!(Codes::Execution.read("notRunning"), Some(4));
        assert_eq!(Codes::Detection.read("quarantineFailed"), Some(103));
        assert_eq!(Codes::Threat.read("noStatusCleared"), Some(10));
        assert_eq!(Codes::Category.read("potentialUnwantedSoftware"), Some(27));
        assert_eq!(Codes::Category.read("Trojan downloader"), Some(4));
        assert_eq!(Codes::Onboarding.read("Onboarded"), Some(1));
        assert_eq!(Codes::Severity.read("Extreme"), None);
    }

    #[test]
    fn flags_read_numbers_and_names() {
        assert_eq!(FlagSet::ProductStatus.read("524288"), Ok(524_288));
        assert_eq!(FlagSet::ProductStatus.read("serviceNotRunning, avSignaturesOutOfDate"), Ok(33));
        assert_eq!(FlagSet::ComputerState.read("rebootPending,fullScanPending"), Ok(3));
        assert_eq!(FlagSet::ComputerState.read("Clean"), Ok(0));
        assert_eq!(FlagSet::ComputerState.read("rebootPending,sleeping"), Err((2, vec!["sleeping".to_string()])));
    }

    #[test]
    fn times_in_the_forms_exports_write() {
        let t = |s| read_time(s);
        assert_eq!(t("2026-11-20T09:30:00Z"), Ok(Some("2026-11-20T09:30:00Z".into())));
        assert_eq!(t("2026-11-20T10:30:00.1234567+01:00"), Ok(Some("2026-11-20T09:30:00Z".into())));
        assert_eq!(t("2026-11-20 09:30:00.0000000"), Ok(Some("2026-11-20T09:30:00Z".into())));
        assert_eq!(t("11/20/2026 9:30:00 PM"), Ok(Some("2026-11-20T21:30:00Z".into())));
        assert_eq!(t("11/20/2026"), Ok(Some("2026-11-20T00:00:00Z".into())));
        assert_eq!(t(""), Ok(None));
        assert_eq!(t("0001-01-01T00:00:00Z"), Ok(None));
        assert_eq!(t("yesterday"), Err(()));
        assert_eq!(t("13/45/2026"), Err(()));
    }

    #[test]
    fn every_threat_state_derived_is_documented() {
        for d in DetectionStatus::ALL {
            let s = ThreatState::from_code(threat_state_of(d.code()));
            assert!(!matches!(s, ThreatState::Unknown(_)), "{d:?}");
        }
        assert!(ThreatState::from_code(threat_state_of(1)).is_active());
        assert!(!ThreatState::from_code(threat_state_of(3)).is_active());
    }
}
