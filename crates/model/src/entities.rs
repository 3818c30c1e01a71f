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

/// A field of an entity: its wire name and data class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    pub name: &'static str,
    pub class: DataClass,
}

macro_rules! entity {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty = $json:literal / $class:ident,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $($(#[$fmeta])* #[serde(rename = $json)] pub $field: $ty,)*
        }

        impl $name {
            /// Every field with its wire name and data class, in upload order.
            pub const FIELDS: &'static [FieldInfo] = &[$(FieldInfo { name: $json, class: DataClass::$class },)*];
        }
    };
}

entity! {
    /// One managed device (device sync).
    Device {
        smsid: String = "SMSID" / Pseudonymized,
        aad_tenant_id: String = "AADTenantID" / Pseudonymized,
        aad_device_id: String = "AADDeviceID" / Identified,
        name: String = "Name" / Identified,
        device_os: String = "DeviceOS" / Identified,
        device_os_build: String = "DeviceOSBuild" / Identified,
        aad_primary_user_id: Option<String> = "AADPrimaryUserID" / Identified,
        model: String = "Model" / Identified,
        manufacturer: String = "Manufacturer" / Identified,
        serial_number: String = "SerialNumber" / Identified,
        domain_names: String = "DomainNames" / Identified,
        sku: String = "SKU" / Identified,
    }
}

entity! {
    /// One Windows Installer (MSI) deployment type.
    Application {
        product_name: String = "ProductName" / Identified,
        publisher: String = "Publisher" / Identified,
        version: String = "Version" / Identified,
        /// A Windows LCID; 0 is language neutral.
        product_language: u32 = "ProductLanguage" / Identified,
        program_id: String = "ProgramID" / Pseudonymized,
    }
}

entity! {
    /// One collection targeted by Endpoint protection policy, with its compliance counts.
    DefenderCollection {
        collection_id: String = "CollectionId" / Pseudonymized,
        collection_name: String = "CollectionName" / Identified,
        collection_type: CollectionType = "CollectionType" / Pseudonymized,
        count_targeted: u64 = "CountTargeted" / Aggregated,
        count_compliant: u64 = "CountCompliant" / Aggregated,
        count_non_compliant: u64 = "CountNonCompliant" / Aggregated,
        count_failed: u64 = "CountFailed" / Aggregated,
        count_activated: u64 = "CountActivated" / Aggregated,
        count_enforced: u64 = "CountEnforced" / Aggregated,
        tenant_id: String = "TenantId" / Pseudonymized,
        hierarchy_id: String = "HierarchyId" / Pseudonymized,
    }
}

entity! {
    /// Defender health of one device (keyed by DeviceId = AADDeviceID).
    DefenderHealth {
        device_id: String = "DeviceId" / Identified,
        product_status: ProductStatus = "ProductStatus" / Pseudonymized,
        computer_state: ComputerState = "ComputerState" / Pseudonymized,
        defender_enabled: bool = "DefenderEnabled" / Pseudonymized,
        rtp_enabled: bool = "RtpEnabled" / Pseudonymized,
        nis_enabled: bool = "NisEnabled" / Pseudonymized,
        quick_scan_overdue: bool = "QuickScanOverdue" / Pseudonymized,
        full_scan_overdue: bool = "FullScanOverdue" / Pseudonymized,
        signature_out_of_date: bool = "SignatureOutOfDate" / Pseudonymized,
        reboot_required: bool = "RebootRequired" / Pseudonymized,
        full_scan_required: bool = "FullScanRequired" / Pseudonymized,
        tamper_protection_enabled: bool = "TamperProtectionEnabled" / Pseudonymized,
        is_mde_sense_running: bool = "IsMdeSenseRunning" / Pseudonymized,
        is_virtual_machine: bool = "IsVirtualMachine" / Pseudonymized,
        mde_onboarding_state: MdeOnboardingState = "MdeOnboardingState" / Pseudonymized,
        engine_version: String = "EngineVersion" / Pseudonymized,
        signature_version: String = "SignatureVersion" / Pseudonymized,
        defender_version: String = "DefenderVersion" / Pseudonymized,
        quick_scan_time: Option<String> = "QuickScanTime" / Pseudonymized,
        full_scan_time: Option<String> = "FullScanTime" / Pseudonymized,
        quick_scan_sig_version: Option<String> = "QuickScanSigVersion" / Pseudonymized,
        full_scan_sig_version: Option<String> = "FullScanSigVersion" / Pseudonymized,
        /// Last signature update.
        last_update_time: Option<String> = "LastUpdateTime" / Pseudonymized,
    }
}

entity! {
    /// One threat detected on one device.
    ThreatDetection {
        threat_id: i64 = "ThreatID" / Pseudonymized,
        threat_name: String = "ThreatName" / Identified,
        category: Category = "Category" / Pseudonymized,
        severity: Severity = "Severity" / Pseudonymized,
        /// More information; untrusted text. Only ever rendered as a link when it is http(s).
        url: Option<String> = "URL" / Pseudonymized,
        current_status: ThreatState = "CurrentStatus" / Pseudonymized,
        current_status_id: DetectionStatus = "CurrentStatusID" / Pseudonymized,
        execution_status: ExecutionStatus = "ExecutionStatus" / Pseudonymized,
        last_threat_status_change_time: String = "LastThreatStatusChangeTime" / Pseudonymized,
        initial_detection_time: String = "InitialDetectionTime" / Pseudonymized,
        number_of_detections: u32 = "NumberOfDetections" / Aggregated,
        device_id: String = "DeviceId" / Identified,
    }
}

entity! {
    /// Facts the service connection point reports about itself (Application Insights context).
    ConnectorFacts {
        os_version: String = "OSVersion" / Pseudonymized,
        site_version: String = "SiteVersion" / Pseudonymized,
        /// Site support id = hierarchy id.
        site_support_id: String = "SiteSupportID" / Pseudonymized,
        language: String = "Language" / Pseudonymized,
        azure_tenant_id: String = "AzureTenantID" / Pseudonymized,
        aad_client_id: String = "AADClientID" / Pseudonymized,
        last_upload_time: Option<String> = "LastUploadTime" / Aggregated,
    }
}

entity! {
    /// One telemetry item the service connection point sent: a status event, exception, request or trace.
    TelemetryEvent {
        time: String = "Time" / Aggregated,
        /// The SDK call: TrackEvent, TrackException, TrackRequest or TrackTrace.
        kind: String = "Kind" / Pseudonymized,
        name: String = "Name" / Pseudonymized,
        severity_level: TelemetrySeverity = "SeverityLevel" / Pseudonymized,
        message: String = "Message" / Pseudonymized,
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
