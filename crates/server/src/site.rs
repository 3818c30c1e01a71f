//! `pull-site`: a ConfigMgr site read through its AdminService (the SMS Provider's WMI classes as
//! OData JSON at `https://<provider>/AdminService/wmi/<Class>`, with `$select`, `$filter` and
//! `@odata.nextLink` paging), turned into the upload batches a site sends, and posted to a running
//! server's upload API.
//!
//! Everything is read before anything is posted: a refused sign-in (401) or a class that cannot be
//! read writes nothing. A 5xx in the middle of a class is tried again from the same page (no page
//! is taken twice); a class an older site does not have (404) is left out and reported. Uploads are
//! upserts by natural key, so a pull taken again — or after a failure — adds nothing twice.

use crate::client::{BoxError, Server};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::time::Duration;

/// One WMI class the pull reads: its properties (`$select`) and filter.
pub struct Class {
    pub name: &'static str,
    pub select: &'static str,
    pub filter: Option<&'static str>,
    /// Without it the pull cannot make its records (else: left out, reported).
    pub required: bool,
}

const fn class(name: &'static str, select: &'static str, filter: Option<&'static str>, required: bool) -> Class {
    Class { name, select, filter, required }
}

/// The classes of `../shared/domain.md`, in the order they are read.
pub const CLASSES: &[Class] = &[
    class("SMS_Identification", "ThisSiteCode,SupportID,SMSVersion,LocaleID", None, false),
    class("SMS_CombinedDeviceResources", "MachineId,Name,SMSID,AADDeviceID,AADTenantID,DeviceOS,DeviceOSBuild,IsVirtualMachine", Some("IsClient eq true"), true),
    class("SMS_R_System", "ResourceId,Name,AADDeviceID,AADTenantID,ResourceDomainORWorkgroup,FullDomainName", None, true),
    class("SMS_G_System_COMPUTER_SYSTEM", "ResourceID,Model,Manufacturer", None, false),
    class("SMS_G_System_PC_BIOS", "ResourceID,SerialNumber", None, false),
    class("SMS_G_System_OPERATING_SYSTEM", "ResourceID,OperatingSystemSKU", None, false),
    class("SMS_UserMachineRelationship", "ResourceID,UniqueUserName,IsActive", Some("IsActive eq true"), false),
    class("SMS_R_User", "UniqueUserName,AADUserID", None, false),
    class("SMS_Application", "ModelName,LocalizedDisplayName,Manufacturer,SoftwareVersion", Some("IsLatest eq true"), false),
    class("SMS_DeploymentType", "AppModelName,CI_UniqueID,LocalizedDisplayName", Some("Technology eq 'MSI'"), false),
    class("SMS_Collection", "CollectionID,Name,CollectionType", None, false),
    class(
        "SMS_DeploymentSummary",
        "CollectionID,FeatureType,NumberTargeted,NumberSuccess,NumberErrors,NumberInProgress,NumberOther,NumberUnknown",
        None,
        false,
    ),
    class(
        "SMS_G_System_AntimalwareHealthStatus",
        "ResourceID,ProductStatus,Enabled,RtpEnabled,NisEnabled,EngineVersion,Version,AntivirusSignatureVersion,\
         AntivirusSignatureAge,AntivirusSignatureUpdateDateTime,LastQuickScanDateTimeEnd,LastFullScanDateTimeEnd,\
         LastQuickScanDetectorVersion,LastFullScanDetectorVersion,IsVirtualMachine",
        None,
        false,
    ),
    class(
        "SMS_G_System_AntimalwareInfectionStatus",
        "ResourceID,ComputerStatus,PendingFullScan,PendingReboot,PendingManualSteps,PendingOfflineScan,CriticallyFailedDetections",
        None,
        false,
    ),
    class("SMS_G_System_AdvancedThreatProtectionHealthStatus", "ResourceID,OnboardingState,SenseIsRunning", None, false),
    class("SMS_G_System_Threats", "ResourceID,ThreatID,ThreatName,CategoryID,SeverityID,DetectionTime,ActionTime,ActionSuccess,CleaningAction", None, false),
];

/// How to reach the AdminService.
#[derive(Clone, Debug)]
pub struct SiteOptions {
    /// `https://<provider>/AdminService`.
    pub adminservice: String,
    /// An Entra ID access token for the AdminService (through a cloud management gateway, or
    /// where the provider accepts it).
    pub bearer: Option<String>,
    /// Windows integrated authentication (NTLMv2) as this account.
    pub windows: Option<crate::ntlm::Account>,
    /// Extra trusted roots (PEM): the provider's certificate is often from the organisation's CA.
    pub ca_bundle: Option<Vec<u8>>,
    /// First wait after a 5xx (doubling; 4 tries).
    pub retry: Duration,
}

/// What a pull read and sent.
#[derive(Debug, Default)]
pub struct SitePulled {
    pub rows: Vec<(String, usize)>,
    pub missing: Vec<String>,
    pub sent: Vec<(String, usize)>,
    pub skipped_without_entra_id: usize,
    pub requests: u64,
    pub retries: u64,
}

struct Reader {
    http: reqwest::Client,
    windows: Option<crate::ntlm::Connection>,
    opts: SiteOptions,
    requests: u64,
    retries: u64,
}

impl Reader {
    fn new(opts: SiteOptions) -> Result<Reader, BoxError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("tenantscope/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(300));
        if let Some(pem) = &opts.ca_bundle {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("--ca-bundle: not PEM certificates ({e})"))?;
            if certs.is_empty() {
                return Err("--ca-bundle: no certificate in the file".into());
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let windows = match &opts.windows {
            Some(account) => Some(crate::ntlm::Connection::new(account.clone(), opts.ca_bundle.as_deref())?),
            None => None,
        };
        Ok(Reader { http: builder.build()?, windows, opts, requests: 0, retries: 0 })
    }

    /// Every row of a class (all pages); None if the site does not have the class.
    async fn read(&mut self, class: &Class) -> Result<Option<Vec<Map<String, Value>>>, BoxError> {
        let base = self.opts.adminservice.trim_end_matches('/').to_string();
        let mut url = reqwest::Url::parse(&format!("{base}/wmi/{}", class.name)).map_err(|e| format!("--adminservice {base}: {e}"))?;
        url.query_pairs_mut().append_pair("$select", class.select);
        if let Some(filter) = class.filter {
            url.query_pairs_mut().append_pair("$filter", filter);
        }
        let mut next = Some(url.to_string());
        let mut rows = Vec::new();
        while let Some(page_url) = next {
            let Some(page) = self.page(class.name, &page_url).await? else { return Ok(None) };
            let items = page["value"].as_array().ok_or_else(|| format!("{}: an answer without `value`", class.name))?;
            rows.extend(items.iter().filter_map(|v| v.as_object().cloned()));
            next = page["@odata.nextLink"].as_str().map(str::to_string);
            if let Some(link) = &next {
                if !crate::client::same_origin(&base, link) {
                    return Err(format!("{}: the next page is on another host ({link}); the token is not sent there", class.name).into());
                }
            }
        }
        Ok(Some(rows))
    }

    /// One GET: with the bearer token, or as the Windows account on the reader's own kept-alive
    /// connection (signed in once with NTLM). Status and body.
    async fn send(&mut self, url: &str) -> Result<(u16, bytes::Bytes), BoxError> {
        if let Some(windows) = &mut self.windows {
            let answer = windows.get(url).await?;
            return Ok((answer.status, answer.body));
        }
        let mut req = self.http.get(url).header("accept", "application/json");
        if let Some(token) = &self.opts.bearer {
            req = req.bearer_auth(token);
        }
        self.requests += 1;
        let answer = req.send().await?;
        let status = answer.status().as_u16();
        Ok((status, answer.bytes().await?))
    }

    /// One page, tried again (from this page) after a 5xx or a dropped connection.
    async fn page(&mut self, class: &str, url: &str) -> Result<Option<Value>, BoxError> {
        let mut wait = self.opts.retry;
        for attempt in 0..4 {
            let answer = match self.send(url).await {
                Ok(a) => a,
                Err(e) if attempt < 3 => {
                    tracing::warn!("pull-site: {class}: {e}; trying the same page again");
                    self.retries += 1;
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    continue;
                }
                Err(e) => return Err(format!("{class}: {e}").into()),
            };
            let (status, bytes) = answer;
            let message = || {
                serde_json::from_slice::<Value>(&bytes)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                    .unwrap_or_else(|| String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned())
            };
            match status {
                200..=299 => return Ok(Some(serde_json::from_slice(&bytes).map_err(|e| format!("{class}: not OData JSON ({e})"))?)),
                401 | 403 => {
                    return Err(format!(
                        "the AdminService refused the credentials (HTTP {status}) reading {class}: {}; nothing was sent",
                        message()
                    )
                    .into())
                }
                404 => return Ok(None),
                500..=599 if attempt < 3 => {
                    tracing::warn!("pull-site: {class}: HTTP {status}; trying the same page again");
                    self.retries += 1;
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                _ => return Err(format!("{class}: HTTP {status}: {}", message()).into()),
            }
        }
        Err(format!("{class}: the AdminService kept failing; nothing was sent").into())
    }
}

fn text(row: &Map<String, Value>, key: &str) -> String {
    match row.get(key) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn int(row: &Map<String, Value>, key: &str) -> i64 {
    match row.get(key) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        Some(Value::Bool(b)) => i64::from(*b),
        _ => 0,
    }
}

fn flag(row: &Map<String, Value>, key: &str) -> bool {
    int(row, key) != 0 || text(row, key).eq_ignore_ascii_case("true")
}

/// A WMI time in the stored form: OData answers `2026-11-24T09:30:00Z`, CIM answers
/// `20261124093000.000000+060` (local time and its offset from UTC in minutes); None when empty or
/// not a time.
fn time(row: &Map<String, Value>, key: &str) -> Value {
    let t = text(row, key);
    let b = t.as_bytes();
    if b.len() == 25 && b[..14].iter().all(u8::is_ascii_digit) && b[14] == b'.' && matches!(b[21], b'+' | b'-') {
        let num = |r: std::ops::Range<usize>| t[r].parse::<i64>().ok();
        let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec), Some(offset)) =
            (num(0..4), num(4..6), num(6..8), num(8..10), num(10..12), num(12..14), num(22..25))
        else {
            return Value::Null;
        };
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
            return Value::Null;
        }
        let offset = if b[21] == b'-' { -offset } else { offset };
        use tenantscope_model::time::{days_from_civil, format_rfc3339};
        let local = days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + sec;
        return Value::String(format_rfc3339(local - offset * 60));
    }
    match crate::import::columns::read_time(&t) {
        Ok(Some(t)) => Value::String(t),
        _ => Value::Null,
    }
}

/// `OperatingSystemSKU` as the SKU name a site uploads.
pub fn sku_name(code: i64) -> String {
    match code {
        1 => "Ultimate",
        4 => "Enterprise",
        7 => "ServerStandard",
        8 => "ServerDatacenter",
        27 => "EnterpriseN",
        48 => "Professional",
        49 => "ProfessionalN",
        98 | 100 | 101 => "Core",
        121 => "Education",
        125 => "EnterpriseS",
        175 => "ServerRdsh",
        0 => "",
        other => return format!("SKU {other}"),
    }
    .to_string()
}

/// The threat's state from the site's action columns: (CurrentStatus, CurrentStatusID).
fn threat_states(row: &Map<String, Value>) -> (i64, i64) {
    let action = int(row, "CleaningAction");
    if text(row, "ActionTime").is_empty() {
        return (0, 1); // detected, nothing done yet: active
    }
    if !flag(row, "ActionSuccess") {
        return (1, 102); // the action failed
    }
    match action {
        1 => (8, 2),  // cleaned
        2 => (6, 3),  // quarantined
        3 => (7, 4),  // removed
        6 => (9, 5),  // allowed
        10 => (10, 6), // blocked
        _ => (7, 4),
    }
}

fn by_resource(rows: &[Map<String, Value>], key: &str) -> HashMap<i64, Map<String, Value>> {
    rows.iter().map(|r| (int(r, key), r.clone())).collect()
}

/// Reads the site, then posts its records (devices, collections, applications, health, threats).
pub async fn pull(opts: &SiteOptions, server: &Server) -> Result<SitePulled, BoxError> {
    let mut reader = Reader::new(opts.clone())?;
    let mut read: HashMap<&str, Vec<Map<String, Value>>> = HashMap::new();
    let mut pulled = SitePulled::default();
    for class in CLASSES {
        match reader.read(class).await? {
            Some(rows) => {
                pulled.rows.push((class.name.to_string(), rows.len()));
                read.insert(class.name, rows);
            }
            None if class.required => return Err(format!("{}: the AdminService has no such class (HTTP 404); is --adminservice right?", class.name).into()),
            None => pulled.missing.push(class.name.to_string()),
        }
    }
    let rows = |name: &str| read.get(name).map(Vec::as_slice).unwrap_or(&[]);
    let site = rows("SMS_Identification").first().cloned().unwrap_or_default();
    let hierarchy = text(&site, "SupportID");
    let systems = by_resource(rows("SMS_R_System"), "ResourceId");
    let hardware = by_resource(rows("SMS_G_System_COMPUTER_SYSTEM"), "ResourceID");
    let bios = by_resource(rows("SMS_G_System_PC_BIOS"), "ResourceID");
    let os = by_resource(rows("SMS_G_System_OPERATING_SYSTEM"), "ResourceID");
    let users: HashMap<String, String> =
        rows("SMS_R_User").iter().map(|u| (text(u, "UniqueUserName").to_lowercase(), text(u, "AADUserID"))).collect();
    let primary: HashMap<i64, String> = rows("SMS_UserMachineRelationship")
        .iter()
        .filter_map(|r| users.get(&text(r, "UniqueUserName").to_lowercase()).filter(|id| !id.is_empty()).map(|id| (int(r, "ResourceID"), id.clone())))
        .collect();
    let health = by_resource(rows("SMS_G_System_AntimalwareHealthStatus"), "ResourceID");
    let infection = by_resource(rows("SMS_G_System_AntimalwareInfectionStatus"), "ResourceID");
    let atp = by_resource(rows("SMS_G_System_AdvancedThreatProtectionHealthStatus"), "ResourceID");
    let atp_read = read.contains_key("SMS_G_System_AdvancedThreatProtectionHealthStatus");

    let mut devices = Vec::new();
    let mut healths = Vec::new();
    let mut entra: HashMap<i64, String> = HashMap::new();
    for d in rows("SMS_CombinedDeviceResources") {
        let id = int(d, "MachineId");
        let system = systems.get(&id).cloned().unwrap_or_default();
        let pick = |k: &str| Some(text(d, k)).filter(|s| !s.is_empty()).unwrap_or_else(|| text(&system, k));
        let aad = pick("AADDeviceID");
        if aad.is_empty() {
            pulled.skipped_without_entra_id += 1;
            continue;
        }
        entra.insert(id, aad.clone());
        let domain = Some(text(&system, "FullDomainName")).filter(|s| !s.is_empty()).unwrap_or_else(|| text(&system, "ResourceDomainORWorkgroup"));
        let hw = hardware.get(&id).cloned().unwrap_or_default();
        let build: String = text(d, "DeviceOSBuild").split('.').take(3).collect::<Vec<_>>().join(".");
        devices.push(json!({
            "SMSID": Some(text(d, "SMSID")).filter(|s| !s.is_empty()).unwrap_or_else(|| hierarchy.clone()),
            "AADTenantID": pick("AADTenantID"),
            "AADDeviceID": aad,
            "Name": Some(text(d, "Name")).filter(|s| !s.is_empty()).unwrap_or_else(|| text(&system, "Name")),
            "DeviceOS": text(d, "DeviceOS"),
            "DeviceOSBuild": build,
            "AADPrimaryUserID": primary.get(&id),
            "Model": text(&hw, "Model"),
            "Manufacturer": text(&hw, "Manufacturer"),
            "SerialNumber": bios.get(&id).map(|b| text(b, "SerialNumber")).unwrap_or_default(),
            "DomainNames": domain,
            "SKU": os.get(&id).map(|o| sku_name(int(o, "OperatingSystemSKU"))).unwrap_or_default(),
        }));
        let Some(h) = health.get(&id) else { continue };
        let inf = infection.get(&id).cloned().unwrap_or_default();
        let mde = atp.get(&id).cloned().unwrap_or_default();
        let status = int(h, "ProductStatus") as u64;
        let state = int(&inf, "ComputerStatus") as u64
            | u64::from(flag(&inf, "PendingFullScan"))
            | u64::from(flag(&inf, "PendingReboot")) << 1
            | u64::from(flag(&inf, "PendingManualSteps")) << 2
            | u64::from(flag(&inf, "PendingOfflineScan")) << 3
            | u64::from(int(&inf, "CriticallyFailedDetections") > 0) << 4;
        let mut record = json!({
            "AADDeviceID": entra[&id],
            "ProductStatus": status,
            "ComputerState": state,
            "DefenderEnabled": flag(h, "Enabled"),
            "RtpEnabled": flag(h, "RtpEnabled"),
            "NisEnabled": flag(h, "NisEnabled"),
            "QuickScanOverdue": status & 128 != 0,
            "FullScanOverdue": status & 256 != 0,
            "SignatureOutOfDate": status & 32 != 0 || int(h, "AntivirusSignatureAge") > 7,
            "RebootRequired": state & 2 != 0,
            "FullScanRequired": state & 1 != 0,
            "IsMdeSenseRunning": flag(&mde, "SenseIsRunning"),
            "IsVirtualMachine": flag(h, "IsVirtualMachine") || flag(d, "IsVirtualMachine"),
            "MdeOnboardingState": i64::from(int(&mde, "OnboardingState") == 1),
            "EngineVersion": text(h, "EngineVersion"),
            "SignatureVersion": text(h, "AntivirusSignatureVersion"),
            "DefenderVersion": text(h, "Version"),
            "QuickScanTime": time(h, "LastQuickScanDateTimeEnd"),
            "FullScanTime": time(h, "LastFullScanDateTimeEnd"),
            "QuickScanSigVersion": Some(text(h, "LastQuickScanDetectorVersion")).filter(|s| !s.is_empty()),
            "FullScanSigVersion": Some(text(h, "LastFullScanDetectorVersion")).filter(|s| !s.is_empty()),
            "LastUpdateTime": time(h, "AntivirusSignatureUpdateDateTime"),
        });
        if !atp_read {
            // An older site without the ATP class: what the store has stays.
            let fields = record.as_object_mut().expect("object");
            fields.remove("IsMdeSenseRunning");
            fields.remove("MdeOnboardingState");
        }
        healths.push(record);
    }

    // Detections: one record per device and threat, counting the site's detections of it.
    let mut threats: HashMap<(String, i64), (Value, u32, String)> = HashMap::new();
    for t in rows("SMS_G_System_Threats") {
        let Some(aad) = entra.get(&int(t, "ResourceID")) else { continue };
        let (current, detection) = threat_states(t);
        let detected = time(t, "DetectionTime");
        let changed = Some(time(t, "ActionTime")).filter(|v| !v.is_null()).unwrap_or_else(|| detected.clone());
        let key = (aad.clone(), int(t, "ThreatID"));
        let entry = threats.entry(key.clone()).or_insert_with(|| (Value::Null, 0, String::new()));
        entry.1 += 1;
        // The latest detection says the state; the first says when it was first seen.
        let first = entry.0.get("InitialDetectionTime").cloned().filter(|v| v.as_str() < detected.as_str()).unwrap_or(detected.clone());
        if changed.as_str().unwrap_or("") >= entry.2.as_str() {
            entry.2 = changed.as_str().unwrap_or("").to_string();
            entry.0 = json!({
                "ThreatID": key.1, "ThreatName": text(t, "ThreatName"), "Category": int(t, "CategoryID"), "Severity": int(t, "SeverityID"),
                "URL": null, "CurrentStatus": current, "CurrentStatusID": detection, "ExecutionStatus": 0,
                "LastThreatStatusChangeTime": changed, "InitialDetectionTime": first, "NumberOfDetections": 0, "DeviceId": aad,
            });
        } else {
            entry.0["InitialDetectionTime"] = first;
        }
    }
    let threats: Vec<Value> = threats
        .into_values()
        .filter(|(t, _, _)| t["InitialDetectionTime"].is_string())
        .map(|(mut t, n, _)| {
            t["NumberOfDetections"] = json!(n);
            t
        })
        .collect();

    // Collections with a configuration-policy / baseline summary (Endpoint Protection policies).
    let mut summaries: HashMap<String, [i64; 6]> = HashMap::new();
    for s in rows("SMS_DeploymentSummary").iter().filter(|s| matches!(int(s, "FeatureType"), 6 | 11)) {
        let sum = summaries.entry(text(s, "CollectionID")).or_default();
        for (i, k) in ["NumberTargeted", "NumberSuccess", "NumberErrors", "NumberInProgress", "NumberOther", "NumberUnknown"].iter().enumerate() {
            sum[i] += int(s, k);
        }
    }
    let tenant = devices.first().map(|d| d["AADTenantID"].clone()).unwrap_or(json!(""));
    let collections: Vec<Value> = rows("SMS_Collection")
        .iter()
        .filter_map(|c| {
            let [targeted, success, errors, in_progress, other, unknown] = *summaries.get(&text(c, "CollectionID"))?;
            Some(json!({
                "CollectionId": text(c, "CollectionID"), "CollectionName": text(c, "Name"), "CollectionType": int(c, "CollectionType"),
                "CountTargeted": targeted, "CountCompliant": success, "CountNonCompliant": other + unknown, "CountFailed": errors,
                "CountActivated": success + errors + other + in_progress, "CountEnforced": success,
                "TenantId": tenant, "HierarchyId": hierarchy,
            }))
        })
        .collect();

    // MSI deployment types with their application's name, publisher and version.
    let apps: HashMap<String, Map<String, Value>> = rows("SMS_Application").iter().map(|a| (text(a, "ModelName"), a.clone())).collect();
    let applications: Vec<Value> = rows("SMS_DeploymentType")
        .iter()
        .filter_map(|dt| {
            let app = apps.get(&text(dt, "AppModelName"))?;
            Some(json!({
                "ProductName": text(app, "LocalizedDisplayName"), "Publisher": text(app, "Manufacturer"),
                "Version": text(app, "SoftwareVersion"), "ProductLanguage": 0, "ProgramID": text(dt, "CI_UniqueID"),
            }))
        })
        .collect();

    // Devices, collections and applications as a site uploads them. Health goes through the
    // import route, merged over what the store has: the site's classes do not say everything a
    // health record holds (tamper protection; Defender for Endpoint on an older site), and what
    // they do not say is kept from the store (say, from a Graph pull) instead of being made up.
    // Records the store already has as they are are not written again.
    let health_count = healths.len();
    for (kind, records) in [("devices", devices), ("collections", collections), ("applications", applications)] {
        for chunk in records.chunks(crate::import::BATCH) {
            server.upload(kind, chunk).await?;
        }
        pulled.sent.push((kind.to_string(), records.len()));
    }
    let mut health_written = 0;
    if !healths.is_empty() {
        let body = serde_json::to_vec(&json!({ "value": healths }))?;
        let report = server.import("AdminService antimalware health", body, None, |_| {}).await?;
        health_written = report["written"].as_u64().unwrap_or(0) as usize;
    }
    pulled.sent.push((format!("defender ({health_written} changed)"), health_count));
    for chunk in threats.chunks(crate::import::BATCH) {
        server.upload("threats", chunk).await?;
    }
    pulled.sent.push(("threats".to_string(), threats.len()));
    pulled.requests = reader.requests + reader.windows.as_ref().map_or(0, |w| w.requests);
    pulled.retries = reader.retries;
    Ok(pulled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wmi_and_odata_times() {
        let row: Map<String, Value> = serde_json::from_value(json!({
            "a": "20261124093000.000000+000", "b": "2026-11-24T09:30:00Z", "c": "", "d": null
        }))
        .unwrap();
        assert_eq!(time(&row, "a"), json!("2026-11-24T09:30:00Z"));
        let row2: Map<String, Value> =
            serde_json::from_value(json!({ "e": "20261124103000.000000+060", "f": "2026112410300x.000000+060", "g": "20261324103000.000000+000" })).unwrap();
        assert_eq!(time(&row2, "e"), json!("2026-11-24T09:30:00Z"));
        assert_eq!(time(&row2, "f"), Value::Null);
        assert_eq!(time(&row2, "g"), Value::Null);
        assert_eq!(time(&row, "b"), json!("2026-11-24T09:30:00Z"));
        assert_eq!(time(&row, "c"), Value::Null);
        assert_eq!(time(&row, "d"), Value::Null);
    }

    #[test]
    fn threat_states_follow_the_action() {
        let row = |v: Value| -> Map<String, Value> { serde_json::from_value(v).unwrap() };
        assert_eq!(threat_states(&row(json!({"ActionTime": ""}))), (0, 1));
        assert_eq!(threat_states(&row(json!({"ActionTime": "2026-11-24T09:30:00Z", "ActionSuccess": false}))), (1, 102));
        assert_eq!(threat_states(&row(json!({"ActionTime": "2026-11-24T09:30:00Z", "ActionSuccess": true, "CleaningAction": 2}))), (6, 3));
    }
}
