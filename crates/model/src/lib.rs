//! Tenantscope's shared model: the tenant-attach wire types, Defender codes and flags, the data class
//! of every field, the derived health verdict and the `/api/v1` contract. No UI, no I/O: it compiles
//! for the browser (wasm32) and the server alike.

pub mod access;
pub mod agent;
pub mod api;
pub mod codes;
pub mod entities;
pub mod flags;
pub mod json;
pub mod privacy;
pub mod time;
pub mod upload;
pub mod verdict;

pub use codes::*;
pub use entities::*;
pub use flags::*;
pub use agent::AgentState;
pub use verdict::{ActiveThreat, Finding, HealthVerdict};

#[cfg(test)]
mod round_trip {
    use super::api::*;
    use super::*;
    use serde::{de::DeserializeOwned, Serialize};
    use std::fmt::Debug;

    /// Serde writes it, and both readers (serde's and the console's `FromJson`) read it back equal.
    fn round_trip<T: Serialize + DeserializeOwned + crate::json::FromJson + PartialEq + Debug>(value: &T) -> serde_json::Value {
        let json = serde_json::to_value(value).unwrap();
        let back: T = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(&back, value);
        let read = T::from_json(&json).unwrap_or_else(|e| panic!("{}: {e}", std::any::type_name::<T>()));
        assert_eq!(&read, value, "FromJson of {}", std::any::type_name::<T>());
        json
    }

    /// Sorted keys (serde_json's key order depends on features other crates turn on).
    fn keys(json: &serde_json::Value) -> Vec<String> {
        let mut keys: Vec<String> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The JSON keys are exactly the documented names listed in FIELDS.
    fn assert_keys_match<T>(json: &serde_json::Value, fields: &[FieldInfo]) {
        let mut expected: Vec<String> = fields.iter().map(|f| f.name.to_string()).collect();
        let mut got = keys(json);
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "{}", std::any::type_name::<T>());
    }

    pub(crate) fn device() -> Device {
        Device {
            smsid: "GUID:5B1D6C9A-1111-4A5B-9C3D-0123456789AB".into(),
            aad_tenant_id: "72f988bf-0000-4000-8000-000000000000".into(),
            aad_device_id: "6f1c2b7e-0000-4000-8000-000000000001".into(),
            name: "WKS-LON-0042".into(),
            device_os: "Microsoft Windows NT Workstation 10.0".into(),
            device_os_build: "10.0.22631".into(),
            aad_primary_user_id: Some("0d5c1a2b-0000-4000-8000-000000000002".into()),
            model: "Latitude 7440".into(),
            manufacturer: "Dell Inc.".into(),
            serial_number: "5CG1234XYZ".into(),
            domain_names: "corp.contoso.com".into(),
            sku: "Enterprise".into(),
        }
    }

    #[test]
    fn device_uses_documented_keys() {
        let json = round_trip(&device());
        assert_keys_match::<Device>(&json, Device::FIELDS);
        assert_eq!(json["SMSID"], "GUID:5B1D6C9A-1111-4A5B-9C3D-0123456789AB");
        assert_eq!(json["DeviceOSBuild"], "10.0.22631");
    }

    #[test]
    fn device_row_adds_derived_fields() {
        let row = DeviceRow { device: device(), defender_health: HealthVerdict::AtRisk, agent_state: AgentState::RtpOff, active_threats: 2 };
        let json = round_trip(&row);
        assert_eq!(json["DefenderHealth"], "at_risk");
        assert_eq!(json["ActiveThreats"], 2);
        assert_eq!(json["AgentState"], "rtp_off");
        assert_eq!(json["Name"], "WKS-LON-0042");
    }

    #[test]
    fn every_entity_round_trips_with_documented_keys() {
        let app = Application {
            product_name: "7-Zip 23.01 (x64 edition)".into(),
            publisher: "Igor Pavlov".into(),
            version: "23.01.00.0".into(),
            product_language: 1033,
            program_id: "ScopeId_1/DeploymentType_2".into(),
        };
        assert_keys_match::<Application>(&round_trip(&app), Application::FIELDS);

        let coll = DefenderCollection {
            collection_id: "ABC00014".into(),
            collection_name: "All Windows servers".into(),
            collection_type: CollectionType::Device,
            count_targeted: 10,
            count_compliant: 7,
            count_non_compliant: 2,
            count_failed: 1,
            count_activated: 9,
            count_enforced: 8,
            tenant_id: "t".into(),
            hierarchy_id: "h".into(),
        };
        let json = round_trip(&coll);
        assert_keys_match::<DefenderCollection>(&json, DefenderCollection::FIELDS);
        assert_eq!(json["CollectionType"], 2);
        assert_eq!(json["CountNonCompliant"], 2);

        let health = DefenderHealth {
            device_id: "d".into(),
            product_status: ProductStatus(PRODUCT_STATUS_HEALTHY),
            computer_state: ComputerState(0),
            defender_enabled: true,
            rtp_enabled: false,
            nis_enabled: true,
            quick_scan_overdue: false,
            full_scan_overdue: true,
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
            quick_scan_time: None,
            full_scan_time: Some("2026-11-01T00:00:00Z".into()),
            quick_scan_sig_version: None,
            full_scan_sig_version: None,
            last_update_time: None,
        };
        let json = round_trip(&health);
        assert_keys_match::<DefenderHealth>(&json, DefenderHealth::FIELDS);
        assert_eq!(json["ProductStatus"], 524288);
        assert_eq!(json["RtpEnabled"], false);

        let threat = ThreatDetection {
            threat_id: 2147735505,
            threat_name: "Trojan:Win32/Wacatac.B!ml".into(),
            category: Category::Trojan,
            severity: Severity::Severe,
            url: Some("https://go.microsoft.com/fwlink/?linkid=37020&name=Trojan:Win32/Wacatac.B!ml".into()),
            current_status: ThreatState::Quarantined,
            current_status_id: DetectionStatus::Quarantined,
            execution_status: ExecutionStatus::Blocked,
            last_threat_status_change_time: "2026-11-24T10:00:00Z".into(),
            initial_detection_time: "2026-11-24T09:58:00Z".into(),
            number_of_detections: 3,
            device_id: "d".into(),
        };
        let json = round_trip(&threat);
        assert_keys_match::<ThreatDetection>(&json, ThreatDetection::FIELDS);
        assert_eq!(json["ThreatName"], "Trojan:Win32/Wacatac.B!ml");
        assert_eq!(json["Severity"], 5);

        let facts = ConnectorFacts {
            os_version: "Microsoft Windows Server 2022".into(),
            site_version: "5.00.9128.1000".into(),
            site_support_id: "h".into(),
            language: "en-US".into(),
            azure_tenant_id: "t".into(),
            aad_client_id: "c".into(),
            last_upload_time: Some("2026-11-24T15:45:00Z".into()),
        };
        assert_keys_match::<ConnectorFacts>(&round_trip(&facts), ConnectorFacts::FIELDS);
        let event = TelemetryEvent {
            time: "2026-11-24T15:45:00Z".into(),
            kind: "TrackException".into(),
            name: "UploadFailed".into(),
            severity_level: TelemetrySeverity::Error,
            message: "The remote server returned an error: (503)".into(),
        };
        assert_keys_match::<TelemetryEvent>(&round_trip(&event), TelemetryEvent::FIELDS);
    }

    #[test]
    fn api_shapes_round_trip() {
        let page = Page { items: vec![device()], total: 1, page: 1, page_size: 50 };
        let json = round_trip(&page);
        assert_eq!(keys(&json), ["items", "page", "page_size", "total"]);
        let summary = Summary {
            tenant: TenantInfo { tenant_id: "t".into(), tenant_name: "Contoso".into(), hierarchy_id: "h".into(), site_code: "ABC".into() },
            total_devices: 4,
            healthy: 1,
            at_risk: 1,
            unhealthy: 1,
            not_reporting: 1,
            active_threats_by_severity: vec![SeverityCount { severity: Severity::High, count: 2 }],
            active_threats: 2,
            devices_with_active_threats: 1,
            signatures_out_of_date: 1,
            scans_overdue: 1,
            reboot_required: 0,
            last_upload: None,
        };
        round_trip(&summary);
        assert_eq!(summary.healthy_percent(), 25.0);
        round_trip(&ErrorBody { error: "bad_request".into(), detail: "x".into() });
    }

    #[test]
    fn data_classes_are_queryable() {
        assert_eq!(Entity::Device.data_class("Name"), Some(DataClass::Identified));
        assert_eq!(Entity::Device.data_class("SerialNumber"), Some(DataClass::Identified));
        assert_eq!(Entity::Device.data_class("SMSID"), Some(DataClass::Pseudonymized));
        assert_eq!(Entity::Application.data_class("ProgramID"), Some(DataClass::Pseudonymized));
        assert_eq!(Entity::ThreatDetection.data_class("ThreatID"), Some(DataClass::Pseudonymized));
        assert_eq!(Entity::DefenderCollection.data_class("CountEnforced"), Some(DataClass::Aggregated));
        assert_eq!(Entity::DefenderCollection.data_class("HierarchyId"), Some(DataClass::Pseudonymized));
        assert_eq!(Entity::Device.data_class("Nope"), None);
        for entity in Entity::ALL {
            assert!(!entity.fields().is_empty());
        }
    }

    #[test]
    fn languages() {
        assert_eq!(language_name(1033), Some("English (United States)"));
        assert_eq!(language_name(0), Some("Neutral"));
        assert_eq!(language_name(2052), Some("Chinese (Simplified, China)"));
        assert_eq!(language_name(9999), None);
    }
}
