//! The site simulator: a ConfigMgr site that never sleeps. It reads the tenant through the API and
//! posts realistic changes through the upload API (never the store): detections arriving in bursts
//! and being remediated, scans completing, signature updates rolling out in waves, devices joining
//! and retiring, collection counts moving, connector status events and the odd exception.

use crate::seed::{gen_health, Rng, THREAT_CATALOG};
use serde_json::{json, Value};
use std::time::Duration;
use tenantscope_model::api::{DeviceDetail, DeviceRow, Page};
use tenantscope_model::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A minimal HTTP/1.1 client for a loopback `http://host:port` (one request per connection).
struct Client {
    host: String,
    token: String,
}

impl Client {
    fn new(url: &str, token: &str) -> Result<Client, BoxError> {
        let host = url.strip_prefix("http://").ok_or("the simulator speaks plain http:// (a loopback or trusted address)")?;
        Ok(Client { host: host.trim_end_matches('/').to_string(), token: token.to_string() })
    }

    async fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Vec<u8>), BoxError> {
        let mut stream = tokio::net::TcpStream::connect(&self.host).await?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let head = format!(
            "{method} /api/v1{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.host,
            self.token,
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        let split = answer.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no HTTP answer")?;
        let head = String::from_utf8_lossy(&answer[..split]).to_string();
        let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or("no HTTP status")?;
        let mut body = answer[split + 4..].to_vec();
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            body = unchunk(&body);
        }
        Ok((status, body))
    }

    async fn get<T: json::FromJson>(&self, path: &str) -> Result<T, BoxError> {
        let (status, body) = self.request("GET", path, None).await?;
        if status != 200 {
            return Err(format!("GET {path}: HTTP {status}").into());
        }
        json::parse(std::str::from_utf8(&body)?).map_err(|e| format!("GET {path}: {e}").into())
    }

    async fn upload(&self, kind: &str, records: Vec<Value>) -> Result<(), BoxError> {
        if records.is_empty() {
            return Ok(());
        }
        let (status, body) = self.request("POST", &format!("/upload/{kind}"), Some(&Value::Array(records))).await?;
        if status != 200 {
            return Err(format!("upload {kind}: HTTP {status}: {}", String::from_utf8_lossy(&body)).into());
        }
        Ok(())
    }
}

fn unchunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&body[..eol]).unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 || body.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&body[eol + 2..eol + 2 + size]);
        body = &body[(eol + 4 + size).min(body.len())..];
    }
    out
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A random page of the devices list (their AADDeviceIDs).
async fn some_devices(client: &Client, rng: &mut Rng, total: u64, n: u32) -> Result<Vec<String>, BoxError> {
    let pages = (total / n as u64).max(1);
    let page: Page<DeviceRow> = client.get(&format!("/devices?page_size={n}&page={}", 1 + rng.below(pages))).await?;
    Ok(page.items.into_iter().map(|d| d.device.aad_device_id).collect())
}

/// Posts changes at `rate` batches per second until it fails.
pub async fn run(url: &str, token: &str, rate: f64, seed: u64) -> Result<(), BoxError> {
    let client = Client::new(url, token)?;
    let mut rng = Rng::new(seed ^ now() as u64);
    let pause = Duration::from_secs_f64(1.0 / rate.clamp(0.01, 100.0));
    // Detections this simulator raised and has not remediated yet.
    let mut open: Vec<Value> = Vec::new();
    let mut signature_build: u64 = 500 + rng.below(100);
    tracing::info!(url, rate, "site simulator running");
    let mut tick: u64 = 0;
    loop {
        tokio::time::sleep(pause).await;
        tick += 1;
        let summary: tenantscope_model::api::Summary = match client.get("/summary").await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "simulator: the server does not answer; trying again");
                continue;
            }
        };
        let total = summary.total_devices.max(1);
        let t = now();
        // One tick's changes; a failure (a device removed meanwhile, a busy server) is logged and
        // the simulator goes on.
        let result: Result<(), BoxError> = async { match tick % 6 {
            // A burst of detections on a few devices.
            0 | 3 => {
                let devices = some_devices(&client, &mut rng, total, 50).await?;
                let mut records = Vec::new();
                for device in devices.iter().take(1 + rng.below(4) as usize) {
                    let (name, category, severity, _) = *rng.pick(&THREAT_CATALOG);
                    let index = THREAT_CATALOG.iter().position(|c| c.0 == name).unwrap_or(0) as i64;
                    let threat_id = 2_147_700_000 + index * 7_919 + 113;
                    let record = json!({
                        "ThreatID": threat_id, "ThreatName": name, "Category": category, "Severity": severity,
                        "URL": format!("https://go.microsoft.com/fwlink/?linkid=37020&threatid={threat_id}&enterprise=1"),
                        "CurrentStatus": 0, "CurrentStatusID": 1, "ExecutionStatus": 3,
                        "LastThreatStatusChangeTime": time::format_rfc3339(t), "InitialDetectionTime": time::format_rfc3339(t),
                        "NumberOfDetections": 1, "DeviceId": device,
                    });
                    open.push(record.clone());
                    records.push(record);
                }
                client.upload("threats", records).await
            }
            // Remediation: the oldest open detections are quarantined or removed.
            1 => {
                let n = open.len().min(1 + rng.below(3) as usize);
                let records: Vec<Value> = open
                    .drain(..n)
                    .map(|mut r| {
                        let (state, status) = *rng.pick(&[(6, 3), (7, 4), (8, 2)]);
                        r["CurrentStatus"] = json!(state);
                        r["CurrentStatusID"] = json!(status);
                        r["ExecutionStatus"] = json!(1);
                        r["LastThreatStatusChangeTime"] = json!(time::format_rfc3339(t));
                        r
                    })
                    .collect();
                client.upload("threats", records).await
            }
            // Scans complete and signatures update, in waves after a release.
            2 | 4 => {
                if tick % 60 == 2 {
                    signature_build += 1;
                }
                let devices = some_devices(&client, &mut rng, total, 100).await?;
                let mut records = Vec::new();
                for device in devices.iter().take(20 + rng.below(60) as usize) {
                    let detail: DeviceDetail = client.get(&format!("/devices/{device}")).await?;
                    let mut h = detail.health.unwrap_or_else(|| gen_health(&mut rng, device, false, t));
                    h.quick_scan_time = Some(time::format_rfc3339(t - rng.below(600) as i64));
                    h.quick_scan_overdue = false;
                    if rng.chance(0.7) {
                        h.signature_version = format!("1.421.{signature_build}.0");
                        h.quick_scan_sig_version = Some(h.signature_version.clone());
                        h.last_update_time = Some(time::format_rfc3339(t));
                        h.signature_out_of_date = false;
                    } else if rng.chance(0.1) {
                        h.signature_out_of_date = true;
                    }
                    if rng.chance(0.05) {
                        h.reboot_required = !h.reboot_required;
                    }
                    records.push(serde_json::to_value(&h)?);
                }
                client.upload("defender", records).await
            }
            // The connector's status: an upload completed, now and then an exception; a device joins
            // or retires; a collection's counts move.
            _ => {
                let mut events = vec![json!({ "Time": time::format_rfc3339(t), "Kind": "TrackEvent", "Name": "DeviceSyncUploadCompleted",
                    "SeverityLevel": 1, "Message": format!("Uploaded {} device changes.", 20 + rng.below(400)) })];
                if rng.chance(0.05) {
                    events.push(json!({ "Time": time::format_rfc3339(t), "Kind": "TrackException", "Name": "DeviceSyncUploadFailed",
                        "SeverityLevel": 3, "Message": "System.Net.WebException: The remote server returned an error: (503) Server Unavailable." }));
                }
                client.upload("telemetry", events).await?;
                if rng.chance(0.3) {
                    let guid = rng.guid();
                    let device = json!({
                        "SMSID": format!("GUID:{}", rng.guid().to_uppercase()), "AADTenantID": summary.tenant.tenant_id,
                        "AADDeviceID": guid, "Name": format!("LTP-SIM-{:05}", rng.below(100_000)),
                        "DeviceOS": "Microsoft Windows NT Workstation 10.0", "DeviceOSBuild": "10.0.26100",
                        "AADPrimaryUserID": rng.guid(), "Model": "Latitude 7440", "Manufacturer": "Dell Inc.",
                        "SerialNumber": format!("SIM{:07}", rng.below(10_000_000)), "DomainNames": "emea.contoso.com", "SKU": "Enterprise",
                    });
                    client.upload("devices", vec![device]).await?;
                    client.upload("defender", vec![serde_json::to_value(gen_health(&mut rng, &guid, false, t))?]).await?;
                } else if rng.chance(0.2) {
                    if let Some(device) = some_devices(&client, &mut rng, total, 50).await?.first() {
                        client.request("DELETE", &format!("/devices/{device}"), None).await?;
                        // Its detections went with it: nothing left to remediate there.
                        open.retain(|r| r["DeviceId"].as_str() != Some(device.as_str()));
                    }
                }
                let page: Page<DefenderCollection> = client.get(&format!("/collections?page_size=20&page={}", 1 + rng.below(2))).await?;
                if let Some(mut c) = page.items.into_iter().find(|c| c.count_targeted > 10) {
                    let moved = rng.below(5).min(c.count_non_compliant);
                    c.count_non_compliant -= moved;
                    c.count_compliant += moved;
                    client.upload("collections", vec![serde_json::to_value(&c)?]).await?;
                }
                Ok(())
            }
        } }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "simulator: a batch failed");
        }
    }
}
