//! The upload contract: what a site posts to `/api/v1/upload/{kind}`, checked record by record.
//! A record is an object with the documented field names (`entities`), nothing else; its natural
//! key makes uploads idempotent (the same batch twice changes nothing).

use crate::entities::*;
use crate::json::{FromJson, Value};

/// What a batch holds: one kind of record per upload route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UploadKind {
    Devices,
    Applications,
    Collections,
    Defender,
    Threats,
    Telemetry,
}

/// A checked record, ready for the store.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Device(Device),
    Application(Application),
    Collection(DefenderCollection),
    Health(DefenderHealth),
    Threat(ThreatDetection),
    Telemetry(TelemetryEvent),
}

/// Why a record was refused: its position in the batch, the field (if one) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    pub index: usize,
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "record {}: {field}: {}", self.index, self.message),
            None => write!(f, "record {}: {}", self.index, self.message),
        }
    }
}

/// Longest text a field takes, in characters (ids: `MAX_ID`; URLs and messages: `MAX_LONG_TEXT`).
pub const MAX_TEXT: usize = 256;
pub const MAX_ID: usize = 64;
pub const MAX_LONG_TEXT: usize = 4096;

/// Fields holding an RFC 3339 time.
const TIME_FIELDS: [&str; 7] = [
    "QuickScanTime",
    "FullScanTime",
    "LastUpdateTime",
    "LastThreatStatusChangeTime",
    "InitialDetectionTime",
    "Time",
    "LastUploadTime",
];

impl UploadKind {
    pub const ALL: [UploadKind; 6] = [
        UploadKind::Devices,
        UploadKind::Applications,
        UploadKind::Collections,
        UploadKind::Defender,
        UploadKind::Threats,
        UploadKind::Telemetry,
    ];

    /// The route segment (`/upload/devices`).
    pub fn key(self) -> &'static str {
        match self {
            UploadKind::Devices => "devices",
            UploadKind::Applications => "applications",
            UploadKind::Collections => "collections",
            UploadKind::Defender => "defender",
            UploadKind::Threats => "threats",
            UploadKind::Telemetry => "telemetry",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    pub fn entity(self) -> Entity {
        match self {
            UploadKind::Devices => Entity::Device,
            UploadKind::Applications => Entity::Application,
            UploadKind::Collections => Entity::DefenderCollection,
            UploadKind::Defender => Entity::DefenderHealth,
            UploadKind::Threats => Entity::ThreatDetection,
            UploadKind::Telemetry => Entity::TelemetryEvent,
        }
    }

    /// The natural key: an upload replaces the record with the same values of these fields.
    pub fn key_fields(self) -> &'static [&'static str] {
        match self {
            UploadKind::Devices => &["AADDeviceID"],
            UploadKind::Applications => &["ProgramID"],
            UploadKind::Collections => &["CollectionId"],
            UploadKind::Defender => &["DeviceId"],
            UploadKind::Threats => &["DeviceId", "ThreatID"],
            UploadKind::Telemetry => &["Time", "Kind", "Name", "Message"],
        }
    }

    /// Checks one record of a batch (its position is `index`) and reads it.
    pub fn check(self, index: usize, v: &Value) -> Result<Record, RecordError> {
        let err = |field: Option<&str>, message: String| RecordError { index, field: field.map(str::to_string), message };
        let object = v.as_object().ok_or_else(|| err(None, "must be a JSON object".into()))?;
        let fields = self.entity().fields();
        // Times are stored in one form (UTC, `2026-11-24T09:30:00Z`), so that they compare as text:
        // those in another form are rewritten (the record copied only then).
        let mut rewritten: Vec<(&String, String)> = Vec::new();
        for (name, value) in object {
            if value.as_u64().is_some_and(|n| n > i64::MAX as u64) {
                return Err(err(Some(name), format!("at most {}", i64::MAX)));
            }
            if !fields.iter().any(|f| f.name == name) {
                let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
                return Err(err(Some(name), format!("unknown field; {} records have: {}", self.key(), known.join(", "))));
            }
            if let Some(text) = value.as_str() {
                let key = self.key_fields().contains(&name.as_str());
                // Ids that appear in URLs (`/devices/{AADDeviceID}`) are short; free text may be long.
                let limit = match name.as_str() {
                    "URL" | "Message" => MAX_LONG_TEXT,
                    "AADDeviceID" | "DeviceId" | "CollectionId" => MAX_ID,
                    _ => MAX_TEXT,
                };
                if text.chars().count() > limit {
                    return Err(err(Some(name), format!("at most {limit} characters")));
                }
                // No store keeps it as text (PostgreSQL refuses it; SQLite would cut it short in places).
                if text.contains('\0') {
                    return Err(err(Some(name), "must not contain a NUL character (U+0000)".into()));
                }
                if key && text.trim().is_empty() {
                    return Err(err(Some(name), "must not be empty".into()));
                }
                if TIME_FIELDS.contains(&name.as_str()) {
                    let Some(at) = crate::time::parse_rfc3339(text) else {
                        return Err(err(Some(name), format!("must be an RFC 3339 time such as 2026-11-24T09:30:00Z, got {text:?}")));
                    };
                    // Already in the stored form (`2026-11-24T09:30:00Z`, no leap second): as it is.
                    let b = text.as_bytes();
                    let stored_form = b.len() == 20 && b[10] == b'T' && b[19] == b'Z' && &b[17..19] != b"60";
                    if !stored_form {
                        let utc = crate::time::format_rfc3339(at);
                        if utc != *text {
                            rewritten.push((name, utc));
                        }
                    }
                }
            }
        }
        let copy;
        let v = if rewritten.is_empty() {
            v
        } else {
            let mut normalized = object.clone();
            for (name, utc) in rewritten {
                normalized.insert(name.clone(), Value::String(utc));
            }
            copy = Value::Object(normalized);
            &copy
        };
        let read = |e: crate::json::JsonError| err(e.field(), e.message().to_string());
        Ok(match self {
            UploadKind::Devices => Record::Device(Device::from_json(v).map_err(read)?),
            UploadKind::Applications => Record::Application(Application::from_json(v).map_err(read)?),
            UploadKind::Collections => Record::Collection(DefenderCollection::from_json(v).map_err(read)?),
            UploadKind::Defender => Record::Health(DefenderHealth::from_json(v).map_err(read)?),
            UploadKind::Threats => Record::Threat(ThreatDetection::from_json(v).map_err(read)?),
            UploadKind::Telemetry => {
                let event = TelemetryEvent::from_json(v).map_err(read)?;
                if !TELEMETRY_KINDS.contains(&event.kind.as_str()) {
                    return Err(err(Some("Kind"), format!("must be one of {}", TELEMETRY_KINDS.join(", "))));
                }
                Record::Telemetry(event)
            }
        })
    }

    /// Checks a whole batch: every record, and no natural key twice. The first problem refuses it.
    pub fn check_batch(self, records: &[Value]) -> Result<Vec<Record>, RecordError> {
        let mut seen = std::collections::HashSet::with_capacity(records.len());
        let mut out = Vec::with_capacity(records.len());
        for (index, v) in records.iter().enumerate() {
            let record = self.check(index, v)?;
            let key: Vec<String> = self
                .key_fields()
                .iter()
                .map(|f| match v.get(*f) {
                    Some(Value::String(text)) => format!("\"{text}"),
                    Some(other) => other.to_string(),
                    None => String::new(),
                })
                .collect();
            if !seen.insert(key) {
                return Err(RecordError {
                    index,
                    field: Some(self.key_fields().join("+")),
                    message: "the same record twice in one batch".into(),
                });
            }
            out.push(record);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_character_is_refused_naming_the_field() {
        let mut device = serde_json::json!({ "SMSID": "GUID:1", "AADTenantID": "t", "AADDeviceID": "nul-1", "Name": "A\u{0}B",
            "DeviceOS": "Microsoft Windows NT Workstation 10.0", "DeviceOSBuild": "10.0.26100", "AADPrimaryUserID": null,
            "Model": "M", "Manufacturer": "X", "SerialNumber": "S", "DomainNames": "d", "SKU": "Enterprise" });
        let e = UploadKind::Devices.check(0, &device).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("Name"), "{e:?}");
        device["Name"] = serde_json::json!("AB");
        assert!(UploadKind::Devices.check(0, &device).is_ok());
    }
}
