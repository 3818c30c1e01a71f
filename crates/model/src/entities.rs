//! The entities a tenant-attached site uploads. JSON keys are the documented field names, verbatim.

use crate::codes::*;
use crate::flags::{ComputerState, ProductStatus};
use serde::{Deserialize, Serialize};

/// Data class of a field, from the product's privacy statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataClass {
    /// Tied to a user, device or application.
    Identified,
    /// A system-generated identifier that alone identifies no person.
    Pseudonymized,
    /// Usage statistics and counts.
    Aggregated,
}

/// A field of an entity: its wire name, data class and the label people read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    pub name: &'static str,
    pub class: DataClass,
    /// Sentence-case label for column headers, filters and CSV exports for people.
    pub label: &'static str,
    /// Unit of a number ("%", "devices"), empty when none.
    pub unit: &'static str,
}

const fn derived(name: &'static str, class: DataClass, label: &'static str, unit: &'static str) -> FieldInfo {
    FieldInfo { name, class, label, unit }
}

/// Fields the server derives for lists (not uploaded by the site), and the lists' filter-only names.
pub const DERIVED_FIELDS: &[FieldInfo] = &[
    derived("DefenderHealth", DataClass::Pseudonymized, "Defender health", ""),
    derived("ActiveThreats", DataClass::Aggregated, "Active threats", ""),
    derived("HasActiveThreats", DataClass::Aggregated, "Active threats", ""),
    derived("ScanOverdue", DataClass::Pseudonymized, "Scan overdue", ""),
    derived("AgentState", DataClass::Pseudonymized, "Antivirus state", ""),
    derived("DeviceCount", DataClass::Aggregated, "Targeted devices", "devices"),
    derived("ProductDeviceCount", DataClass::Aggregated, "Devices reached", "devices"),
    derived("CompliancePercent", DataClass::Aggregated, "Compliance", "%"),
    derived("DevicesAffected", DataClass::Aggregated, "Devices affected", "devices"),
    derived("DevicesActive", DataClass::Aggregated, "Devices still active", "devices"),
    derived("DeviceName", DataClass::Identified, "Device", ""),
    derived("CollectionId", DataClass::Pseudonymized, "Collection", ""),
    derived("Active", DataClass::Pseudonymized, "Still active", ""),
    derived("from", DataClass::Aggregated, "Detected from", ""),
    derived("to", DataClass::Aggregated, "Detected before", ""),
    derived("range", DataClass::Aggregated, "Time range", ""),
    derived("PublisherGroup", DataClass::Identified, "Vendor", ""),
    derived("Versions", DataClass::Aggregated, "Versions", ""),
    derived("Languages", DataClass::Aggregated, "Languages", ""),
    derived("DeploymentTypes", DataClass::Aggregated, "Deployment types", ""),
    derived("ProgramIDs", DataClass::Pseudonymized, "Deployment type IDs", ""),
];

/// Legal-form suffixes that do not tell publishers apart ("Microsoft" and "Microsoft Corporation").
const PUBLISHER_SUFFIXES: &[&str] = &[
    "corporation", "corp", "incorporated", "inc", "limited", "ltd", "llc", "gmbh", "ag", "se", "co", "company", "sa", "bv", "plc",
];

/// The vendor a publisher name stands for: the name without legal-form suffixes, trailing commas
/// and dots ("Citrix Systems, Inc." → "Citrix Systems"), so publishers that differ only by them
/// filter together; the uploaded value stays visible next to it.
pub fn publisher_group(publisher: &str) -> String {
    let mut words: Vec<&str> = publisher.split_whitespace().collect();
    while words.len() > 1 {
        let last = words[words.len() - 1].trim_matches(|c: char| c == ',' || c == '.').to_ascii_lowercase();
        if PUBLISHER_SUFFIXES.contains(&last.as_str()) {
            words.pop();
        } else {
            break;
        }
    }
    words.join(" ").trim_end_matches([',', '.']).to_string()
}

macro_rules! entity {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty = $json:literal / $class:ident / $label:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $($(#[$fmeta])* #[serde(rename = $json)] pub $field: $ty,)*
        }

        impl $crate::json::FromJson for $name {
            fn from_json(v: &$crate::json::Value) -> Result<Self, $crate::json::JsonError> {
                Ok($name { $($field: $crate::json::field(v, $json)?,)* })
            }
        }

        impl $name {
            /// Every field with its wire name and data class, in upload order.
            pub const FIELDS: &'static [FieldInfo] = &[$(FieldInfo { name: $json, class: DataClass::$class, label: $label, unit: "" },)*];
        }
    };
}

entity! {
    /// One managed device (device sync).
    Device {
        smsid: String = "SMSID" / Pseudonymized / "SMS ID",
        aad_tenant_id: String = "AADTenantID" / Pseudonymized / "Tenant ID",
        aad_device_id: String = "AADDeviceID" / Identified / "Entra device ID",
        name: String = "Name" / Identified / "Name",
        device_os: String = "DeviceOS" / Identified / "OS",
        device_os_build: String = "DeviceOSBuild" / Identified / "OS build",
        aad_primary_user_id: Option<String> = "AADPrimaryUserID" / Identified / "Primary user ID",
        model: String = "Model" / Identified / "Model",
        manufacturer: String = "Manufacturer" / Identified / "Manufacturer",
        serial_number: String = "SerialNumber" / Identified / "Serial number",
        domain_names: String = "DomainNames" / Identified / "Domain",
        sku: String = "SKU" / Identified / "SKU",
    }
}

entity! {
    /// One Windows Installer (MSI) deployment type.
    Application {
        product_name: String = "ProductName" / Identified / "Product",
        publisher: String = "Publisher" / Identified / "Publisher",
        version: String = "Version" / Identified / "Version",
        /// A Windows LCID; 0 is language neutral.
        product_language: u32 = "ProductLanguage" / Identified / "Language",
        program_id: String = "ProgramID" / Pseudonymized / "Deployment type (ProgramID)",
    }
}

entity! {
    /// One collection targeted by Endpoint protection policy, with its compliance counts.
    DefenderCollection {
        collection_id: String = "CollectionId" / Pseudonymized / "Collection ID",
        collection_name: String = "CollectionName" / Identified / "Collection",
        collection_type: CollectionType = "CollectionType" / Pseudonymized / "Type",
        count_targeted: u64 = "CountTargeted" / Aggregated / "Targeted",
        count_compliant: u64 = "CountCompliant" / Aggregated / "Compliant",
        count_non_compliant: u64 = "CountNonCompliant" / Aggregated / "Non-compliant",
        count_failed: u64 = "CountFailed" / Aggregated / "Failed",
        count_activated: u64 = "CountActivated" / Aggregated / "Activated",
        count_enforced: u64 = "CountEnforced" / Aggregated / "Enforced",
        tenant_id: String = "TenantId" / Pseudonymized / "Tenant ID",
        hierarchy_id: String = "HierarchyId" / Pseudonymized / "Hierarchy ID",
    }
}

entity! {
    /// Defender health of one device (keyed by DeviceId = AADDeviceID).
    DefenderHealth {
        device_id: String = "DeviceId" / Identified / "Entra device ID",
        product_status: ProductStatus = "ProductStatus" / Pseudonymized / "Product status",
        computer_state: ComputerState = "ComputerState" / Pseudonymized / "Computer state",
        defender_enabled: bool = "DefenderEnabled" / Pseudonymized / "Defender enabled",
        rtp_enabled: bool = "RtpEnabled" / Pseudonymized / "Real-time protection",
        nis_enabled: bool = "NisEnabled" / Pseudonymized / "Network protection",
        quick_scan_overdue: bool = "QuickScanOverdue" / Pseudonymized / "Quick scan overdue",
        full_scan_overdue: bool = "FullScanOverdue" / Pseudonymized / "Full scan overdue",
        signature_out_of_date: bool = "SignatureOutOfDate" / Pseudonymized / "Signatures out of date",
        reboot_required: bool = "RebootRequired" / Pseudonymized / "Reboot required",
        full_scan_required: bool = "FullScanRequired" / Pseudonymized / "Full scan required",
        tamper_protection_enabled: bool = "TamperProtectionEnabled" / Pseudonymized / "Tamper protection",
        is_mde_sense_running: bool = "IsMdeSenseRunning" / Pseudonymized / "Defender for Endpoint sensor running",
        is_virtual_machine: bool = "IsVirtualMachine" / Pseudonymized / "Virtual machine",
        mde_onboarding_state: MdeOnboardingState = "MdeOnboardingState" / Pseudonymized / "Defender for Endpoint onboarding",
        engine_version: String = "EngineVersion" / Pseudonymized / "Engine version",
        signature_version: String = "SignatureVersion" / Pseudonymized / "Signature version",
        defender_version: String = "DefenderVersion" / Pseudonymized / "Platform version",
        quick_scan_time: Option<String> = "QuickScanTime" / Pseudonymized / "Last quick scan",
        full_scan_time: Option<String> = "FullScanTime" / Pseudonymized / "Last full scan",
        quick_scan_sig_version: Option<String> = "QuickScanSigVersion" / Pseudonymized / "Quick scan signature version",
        full_scan_sig_version: Option<String> = "FullScanSigVersion" / Pseudonymized / "Full scan signature version",
        /// Last signature update.
        last_update_time: Option<String> = "LastUpdateTime" / Pseudonymized / "Last signature update",
    }
}

entity! {
    /// One threat detected on one device.
    ThreatDetection {
        threat_id: i64 = "ThreatID" / Pseudonymized / "Threat ID",
        threat_name: String = "ThreatName" / Identified / "Threat",
        category: Category = "Category" / Pseudonymized / "Category",
        severity: Severity = "Severity" / Pseudonymized / "Severity",
        /// More information; untrusted text. Only ever rendered as a link when it is http(s).
        url: Option<String> = "URL" / Pseudonymized / "More information",
        current_status: ThreatState = "CurrentStatus" / Pseudonymized / "Status",
        current_status_id: DetectionStatus = "CurrentStatusID" / Pseudonymized / "Detection status",
        execution_status: ExecutionStatus = "ExecutionStatus" / Pseudonymized / "Execution",
        last_threat_status_change_time: String = "LastThreatStatusChangeTime" / Pseudonymized / "Last status change",
        initial_detection_time: String = "InitialDetectionTime" / Pseudonymized / "First detected",
        number_of_detections: u32 = "NumberOfDetections" / Aggregated / "Detections",
        device_id: String = "DeviceId" / Identified / "Entra device ID",
    }
}

entity! {
    /// Facts the service connection point reports about itself (Application Insights context).
    ConnectorFacts {
        os_version: String = "OSVersion" / Pseudonymized / "OS version",
        site_version: String = "SiteVersion" / Pseudonymized / "Site version",
        /// Site support id = hierarchy id.
        site_support_id: String = "SiteSupportID" / Pseudonymized / "Hierarchy ID (site support ID)",
        language: String = "Language" / Pseudonymized / "Language",
        azure_tenant_id: String = "AzureTenantID" / Pseudonymized / "Tenant ID",
        aad_client_id: String = "AADClientID" / Pseudonymized / "Client (app) ID",
        last_upload_time: Option<String> = "LastUploadTime" / Aggregated / "Last upload",
    }
}

entity! {
    /// One telemetry item the service connection point sent: a status event, exception, request or trace.
    TelemetryEvent {
        time: String = "Time" / Aggregated / "Time",
        /// The SDK call: TrackEvent, TrackException, TrackRequest or TrackTrace.
        kind: String = "Kind" / Pseudonymized / "Kind",
        name: String = "Name" / Pseudonymized / "Name",
        severity_level: TelemetrySeverity = "SeverityLevel" / Pseudonymized / "Severity",
        message: String = "Message" / Pseudonymized / "Message",
    }
}

/// The SDK calls a service connection point uses.
pub const TELEMETRY_KINDS: [&str; 4] = ["TrackEvent", "TrackException", "TrackRequest", "TrackTrace"];

/// Which entity a field belongs to, for `data_class` look-ups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entity {
    Device,
    Application,
    DefenderCollection,
    DefenderHealth,
    ThreatDetection,
    ConnectorFacts,
    TelemetryEvent,
}

impl Entity {
    pub const ALL: [Entity; 7] = [
        Entity::Device,
        Entity::Application,
        Entity::DefenderCollection,
        Entity::DefenderHealth,
        Entity::ThreatDetection,
        Entity::ConnectorFacts,
        Entity::TelemetryEvent,
    ];

    pub fn fields(self) -> &'static [FieldInfo] {
        match self {
            Entity::Device => Device::FIELDS,
            Entity::Application => Application::FIELDS,
            Entity::DefenderCollection => DefenderCollection::FIELDS,
            Entity::DefenderHealth => DefenderHealth::FIELDS,
            Entity::ThreatDetection => ThreatDetection::FIELDS,
            Entity::ConnectorFacts => ConnectorFacts::FIELDS,
            Entity::TelemetryEvent => TelemetryEvent::FIELDS,
        }
    }

    /// The data class of a field by its wire name, or None if the entity has no such field.
    pub fn data_class(self, field: &str) -> Option<DataClass> {
        self.fields().iter().find(|f| f.name == field).map(|f| f.class)
    }

    /// A field of this entity, or a derived list field, by wire name.
    pub fn field(self, name: &str) -> Option<&'static FieldInfo> {
        self.fields().iter().chain(DERIVED_FIELDS).find(|f| f.name == name)
    }
}

/// A Windows LCID as a language name ("English (United States)"), if it is one we know.
pub fn language_name(lcid: u32) -> Option<&'static str> {
    Some(match lcid {
        0 => "Neutral",
        1025 => "Arabic (Saudi Arabia)",
        1028 => "Chinese (Traditional, Taiwan)",
        1029 => "Czech (Czech Republic)",
        1030 => "Danish (Denmark)",
        1031 => "German (Germany)",
        1032 => "Greek (Greece)",
        1033 => "English (United States)",
        1035 => "Finnish (Finland)",
        1036 => "French (France)",
        1037 => "Hebrew (Israel)",
        1038 => "Hungarian (Hungary)",
        1040 => "Italian (Italy)",
        1041 => "Japanese (Japan)",
        1042 => "Korean (Korea)",
        1043 => "Dutch (Netherlands)",
        1044 => "Norwegian Bokmål (Norway)",
        1045 => "Polish (Poland)",
        1046 => "Portuguese (Brazil)",
        1049 => "Russian (Russia)",
        1053 => "Swedish (Sweden)",
        1055 => "Turkish (Turkey)",
        2052 => "Chinese (Simplified, China)",
        2057 => "English (United Kingdom)",
        2070 => "Portuguese (Portugal)",
        3082 => "Spanish (Spain)",
        _ => return None,
    })
}

#[cfg(test)]
mod publisher_tests {
    #[test]
    fn publishers_group_by_name_without_legal_form() {
        use super::publisher_group as g;
        assert_eq!(g("Microsoft Corporation"), "Microsoft");
        assert_eq!(g("Microsoft"), "Microsoft");
        assert_eq!(g("Citrix Systems, Inc."), "Citrix Systems");
        assert_eq!(g("Google LLC"), "Google");
        assert_eq!(g("Adobe Inc."), "Adobe");
        assert_eq!(g("Co"), "Co");
        assert_eq!(g("  Mozilla  "), "Mozilla");
    }
}
