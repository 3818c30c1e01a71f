//! The upload API: tokens, record-by-record checks, idempotent upserts, deletion, and the change
//! notices on `/api/v1/events`.

mod backend;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tenantscope_server::live::Live;
use tenantscope_server::seed::{seed, DemoOptions};
use tenantscope_server::store::{tokens, Store};
use tower::ServiceExt;

struct Tenant {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    live: Arc<Live>,
    uploader: String,
    viewer: String,
}

fn tenant() -> Tenant {
    let dir = tempfile::tempdir().unwrap();
    let store = backend::store(dir.path());
    seed(&store, &DemoOptions { devices: 200, seed: 4, anchor: 1_795_536_000, progress: false }).unwrap();
    let (uploader, viewer) = store
        .with(|c| Ok((tokens::create(c, tokens::Role::Uploader, "t", 0)?, tokens::create(c, tokens::Role::Viewer, "v", 0)?)))
        .unwrap();
    Tenant { _dir: dir, store, live: Live::new(), uploader, viewer }
}

impl Tenant {
    fn app(&self) -> axum::Router {
        tenantscope_server::app_live(Arc::clone(&self.store), Arc::clone(&self.live), None, &Default::default())
    }

    async fn send(&self, method: &str, uri: &str, token: Option<&str>, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri).header(header::CONTENT_TYPE, content_type);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let res = self.app().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn upload(&self, kind: &str, records: Value) -> (StatusCode, Value) {
        let uploader = self.uploader.clone();
        self.send("POST", &format!("/api/v1/upload/{kind}"), Some(&uploader), "application/json", records.to_string().into_bytes()).await
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.send("GET", uri, None, "application/json", Vec::new()).await
    }

    fn count(&self, sql: &str) -> i64 {
        self.store.with(|c| Ok(c.query_row(sql, [], |r| r.get(0))?)).unwrap()
    }
}

fn device(id: &str, name: &str) -> Value {
    json!({
        "SMSID": "GUID:1", "AADTenantID": "t", "AADDeviceID": id, "Name": name,
        "DeviceOS": "Microsoft Windows NT Workstation 10.0", "DeviceOSBuild": "10.0.26100", "AADPrimaryUserID": null,
        "Model": "Latitude 7440", "Manufacturer": "Dell Inc.", "SerialNumber": "S1", "DomainNames": "corp.contoso.com", "SKU": "Enterprise",
    })
}

fn health(id: &str, out_of_date: bool) -> Value {
    json!({
        "DeviceId": id, "ProductStatus": 524288, "ComputerState": 0, "DefenderEnabled": true, "RtpEnabled": true,
        "NisEnabled": true, "QuickScanOverdue": false, "FullScanOverdue": false, "SignatureOutOfDate": out_of_date,
        "RebootRequired": false, "FullScanRequired": false, "TamperProtectionEnabled": true, "IsMdeSenseRunning": true,
        "IsVirtualMachine": false, "MdeOnboardingState": 1, "EngineVersion": "1.1.24090.11", "SignatureVersion": "1.421.1.0",
        "DefenderVersion": "4.18.24090.11", "QuickScanTime": "2026-11-24T08:00:00Z", "FullScanTime": null,
        "QuickScanSigVersion": null, "FullScanSigVersion": null, "LastUpdateTime": "2026-11-24T08:00:00Z",
    })
}

fn threat(device: &str, threat_id: i64, status: i64, severity: i64) -> Value {
    json!({
        "ThreatID": threat_id, "ThreatName": "Trojan:Win32/Test", "Category": 8, "Severity": severity, "URL": null,
        "CurrentStatus": status, "CurrentStatusID": 1, "ExecutionStatus": 3, "LastThreatStatusChangeTime": "2026-11-24T08:00:00Z",
        "InitialDetectionTime": "2026-11-24T08:00:00Z", "NumberOfDetections": 1, "DeviceId": device,
    })
}

#[tokio::test]
async fn only_an_uploader_token_may_upload() {
    let t = tenant();
    let body = json!([device("d-1", "NEW-1")]).to_string().into_bytes();
    let uri = "/api/v1/upload/devices";
    let (status, err) = t.send("POST", uri, None, "application/json", body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"], "unauthorized");
    assert_eq!(t.send("POST", uri, Some("ts_not-a-token"), "application/json", body.clone()).await.0, StatusCode::UNAUTHORIZED);
    let viewer = t.viewer.clone();
    let (status, err) = t.send("POST", uri, Some(&viewer), "application/json", body.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(t.count("SELECT COUNT(*) FROM devices WHERE AADDeviceID = 'd-1'"), 0);
    let uploader = t.uploader.clone();
    assert_eq!(t.send("POST", uri, Some(&uploader), "application/json", body).await.0, StatusCode::OK);
    assert_eq!(t.count("SELECT COUNT(*) FROM devices WHERE AADDeviceID = 'd-1'"), 1);
}

#[tokio::test]
async fn a_bad_record_refuses_the_whole_batch_naming_it() {
    let t = tenant();
    let before = t.count("SELECT COUNT(*) FROM devices");
    let mut missing = device("d-2", "X");
    missing.as_object_mut().unwrap().remove("Name");
    let mut wrong_type = device("d-3", "X");
    wrong_type["SKU"] = json!(5);
    let mut unknown = device("d-4", "X");
    unknown["Colour"] = json!("red");
    let long = device("d-5", &"N".repeat(300));
    let mut bad_time = threat("x", 1, 0, 5);
    bad_time["InitialDetectionTime"] = json!("yesterday");
    for (kind, batch, index, field) in [
        ("devices", json!([device("ok-1", "A"), missing]), 1, "Name"),
        ("devices", json!([wrong_type]), 0, "SKU"),
        ("devices", json!([device("ok-2", "A"), device("ok-3", "B"), unknown]), 2, "Colour"),
        ("devices", json!([long]), 0, "Name"),
        ("devices", json!([device("dup", "A"), device("dup", "B")]), 1, "AADDeviceID"),
        ("threats", json!([bad_time]), 0, "InitialDetectionTime"),
        ("devices", json!([device("ok-4", "A"), 17]), 1, ""),
    ] {
        let (status, err) = t.upload(kind, batch).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["record"], index, "{err}");
        if !field.is_empty() {
            assert_eq!(err["field"], field, "{err}");
        }
        assert!(err["detail"].as_str().unwrap().contains(&format!("record {index}")), "{err}");
    }
    // Nothing of any of them was written.
    assert_eq!(t.count("SELECT COUNT(*) FROM devices"), before);
    // A record about a device the store does not have refuses the batch inside the transaction:
    // the good records before it are not written either.
    let known: String = t.store.with(|c| Ok(c.query_row("SELECT AADDeviceID FROM devices LIMIT 1", [], |r| r.get(0))?)).unwrap();
    let (status, err) = t.upload("threats", json!([threat(&known, 99, 0, 5), threat("no-such-device", 99, 0, 5)])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!((err["record"].clone(), err["field"].clone()), (json!(1), json!("DeviceId")));
    assert_eq!(t.count("SELECT COUNT(*) FROM threats WHERE ThreatID = 99"), 0);
    // Not a JSON array; an undocumented code is kept (the model keeps unknown codes).
    assert_eq!(t.upload("devices", json!({ "a": 1 })).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(t.upload("threats", json!([threat(&known, 98, 0, 3)])).await.0, StatusCode::OK);
    assert_eq!(t.count("SELECT Severity FROM threats WHERE ThreatID = 98"), 3);
    assert_eq!(t.upload("nothing", json!([])).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_batch_over_the_limit_is_413_with_the_limit() {
    let t = tenant();
    let big = vec![b' '; tenantscope_server::api::upload::UPLOAD_BODY_LIMIT + 1];
    let uploader = t.uploader.clone();
    let (status, err) = t.send("POST", "/api/v1/upload/devices", Some(&uploader), "application/json", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(err["detail"].as_str().unwrap().contains(&tenantscope_server::api::upload::UPLOAD_BODY_LIMIT.to_string()), "{err}");
}

#[tokio::test]
async fn uploads_are_upserts_and_derived_data_follows() {
    let t = tenant();
    let batch = json!([device("new-1", "NEW-1"), device("new-2", "NEW-2")]);
    assert_eq!(t.upload("devices", batch.clone()).await.0, StatusCode::OK);
    let devices = t.count("SELECT COUNT(*) FROM devices");
    // The same batch again changes nothing.
    assert_eq!(t.upload("devices", batch).await.0, StatusCode::OK);
    assert_eq!(t.count("SELECT COUNT(*) FROM devices"), devices);
    // NDJSON, and the verdict follows health and threats by the model's rule.
    let ndjson = format!("{}\n{}\n", health("new-1", false), health("new-2", true));
    let uploader = t.uploader.clone();
    let (status, _) = t.send("POST", "/api/v1/upload/defender", Some(&uploader), "application/x-ndjson", ndjson.into_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    let verdict = |id: &str| t.count(&format!("SELECT DefenderHealth FROM devices WHERE AADDeviceID = '{id}'"));
    assert_eq!(verdict("new-1"), tenantscope_model::HealthVerdict::Healthy.code());
    assert_eq!(verdict("new-2"), tenantscope_model::HealthVerdict::AtRisk.code());
    assert_eq!(t.upload("threats", json!([threat("new-1", 7, 0, 5)])).await.0, StatusCode::OK);
    assert_ne!(verdict("new-1"), tenantscope_model::HealthVerdict::Healthy.code(), "an active severe threat");
    assert_eq!(t.count("SELECT ActiveThreats FROM devices WHERE AADDeviceID = 'new-1'"), 1);
    // Times are stored in one form (UTC), whatever offset the site wrote them with.
    let mut late = threat("new-2", 8, 7, 1);
    late["InitialDetectionTime"] = json!("2026-11-24T10:00:00.250+02:00");
    assert_eq!(t.upload("threats", json!([late])).await.0, StatusCode::OK);
    let stored: String = t.store.with(|c| Ok(c.query_row("SELECT InitialDetectionTime FROM threats WHERE ThreatID = 8", [], |r| r.get(0))?)).unwrap();
    assert_eq!(stored, "2026-11-24T08:00:00Z");
    // Remediated: healthy again.
    assert_eq!(t.upload("threats", json!([threat("new-1", 7, 7, 5)])).await.0, StatusCode::OK);
    assert_eq!(verdict("new-1"), tenantscope_model::HealthVerdict::Healthy.code());
    // The API sees it: the devices list (its index is rebuilt after the change) and the detail.
    let mut listed = Value::Null;
    for _ in 0..50 {
        listed = t.get("/api/v1/devices?q=NEW-1").await.1;
        if listed["total"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(t.get("/api/v1/devices/new-1").await.1["threats"][0]["CurrentStatus"], 7);
}

#[tokio::test]
async fn a_device_that_leaves_goes_with_everything_hanging_off_it() {
    let t = tenant();
    let (id, rowid): (String, i64) = t
        .store
        .with(|c| Ok(c.query_row("SELECT d.AADDeviceID, d.id FROM devices d JOIN collection_members m ON m.device = d.id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))?))
        .unwrap();
    assert_eq!(t.upload("threats", json!([threat(&id, 5, 0, 4)])).await.0, StatusCode::OK);
    let uploader = t.uploader.clone();
    let viewer = t.viewer.clone();
    assert_eq!(t.send("DELETE", &format!("/api/v1/devices/{id}"), Some(&viewer), "", Vec::new()).await.0, StatusCode::FORBIDDEN);
    let (status, answer) = t.send("DELETE", &format!("/api/v1/devices/{id}"), Some(&uploader), "", Vec::new()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for sql in [
        format!("SELECT COUNT(*) FROM devices WHERE AADDeviceID = '{id}'"),
        format!("SELECT COUNT(*) FROM defender_health WHERE DeviceId = '{id}'"),
        format!("SELECT COUNT(*) FROM threats WHERE DeviceId = '{id}'"),
        format!("SELECT COUNT(*) FROM collection_members WHERE device = {rowid}"),
    ] {
        assert_eq!(t.count(&sql), 0, "{sql}");
    }
    assert_eq!(t.get(&format!("/api/v1/devices/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(t.send("DELETE", &format!("/api/v1/devices/{id}"), Some(&uploader), "", Vec::new()).await.0, StatusCode::NOT_FOUND);
}

/// Reads the events stream until `until` holds for the text read so far (or 5 s pass).
async fn read_events(body: &mut Body, until: impl Fn(&str) -> bool) -> String {
    backend::read_events(body, std::time::Duration::from_secs(5), until).await
}

#[tokio::test]
async fn events_announce_committed_batches_only_and_replay_what_was_missed() {
    let t = tenant();
    let res = t.app().oneshot(Request::get("/api/v1/events").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/event-stream"));
    let mut body = res.into_body();
    // A refused batch says nothing; a committed one is announced with the new summary.
    assert_eq!(t.upload("devices", json!([17])).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(t.upload("devices", json!([device("ev-1", "EV-1")])).await.0, StatusCode::OK);
    let text = read_events(&mut body, |s| s.contains("\n\n")).await;
    assert!(text.starts_with("event: change\n"), "{text:?}");
    let data: Value = serde_json::from_str(text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap()).unwrap();
    assert_eq!(data["entity"], "devices");
    assert_eq!(data["records"], 1);
    assert_eq!(data["summary"]["total_devices"], 201);
    let first: i64 = text.lines().find_map(|l| l.strip_prefix("id: ")).unwrap().parse().unwrap();
    // Two more changes while a client is away; it comes back with Last-Event-ID and gets both.
    assert_eq!(t.upload("devices", json!([device("ev-2", "EV-2")])).await.0, StatusCode::OK);
    assert_eq!(t.upload("devices", json!([device("ev-3", "EV-3")])).await.0, StatusCode::OK);
    read_events(&mut body, |s| s.matches("event: change").count() >= 2).await;
    let res = t
        .app()
        .oneshot(Request::get("/api/v1/events").header("last-event-id", first.to_string()).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text = read_events(&mut res.into_body(), |s| s.matches("event: change").count() >= 2).await;
    let ids: Vec<i64> = text.lines().filter_map(|l| l.strip_prefix("id: ")).map(|v| v.parse().unwrap()).collect();
    assert_eq!(ids, vec![first + 1, first + 2], "{text}");
    // Too far behind (a change id older than any kept notice): reload everything.
    let res = t.app().oneshot(Request::get("/api/v1/events").header("last-event-id", "-5").body(Body::empty()).unwrap()).await.unwrap();
    let text = read_events(&mut res.into_body(), |s| s.contains("\n\n")).await;
    assert!(text.starts_with("event: reset"), "{text:?}");
}

/// Every row of the devices list for `pairs`, in order, as the index answers it.
fn listed(index: &tenantscope_server::store::DeviceIndex, pairs: &[(&str, &str)]) -> Vec<i64> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let query = tenantscope_model::api::ListQuery::parse(&tenantscope_model::api::DEVICES, &pairs).unwrap();
    let mut out = Vec::new();
    index.each_batch(&query, 1000, |ids| {
        out.extend_from_slice(ids);
        true
    });
    out
}

#[test]
fn the_devices_index_updated_in_memory_equals_a_rebuild() {
    use tenantscope_model::upload::UploadKind;
    use tenantscope_server::store::{write, DeviceIndex, IndexStep};
    let t = tenant();
    let store = &t.store;
    let rows: Vec<(String, String)> = store
        .with(|c| Ok(c.prepare("SELECT AADDeviceID, Name FROM devices ORDER BY id")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?))
        .unwrap();
    store.device_index().unwrap();
    let write = |kind: UploadKind, batch: Value| {
        let records = kind.check_batch(batch.as_array().unwrap()).unwrap();
        store.with(|c| Ok(write::apply(c, kind, &records, 1_795_536_000, store.changes()).unwrap())).unwrap()
    };
    let apply = |kind: UploadKind, batch: Value| {
        write(kind, batch);
        store.catch_up().unwrap().index
    };
    // Health changes (verdicts, versions, scans) and new threats on some devices: in memory.
    let changed_health: Vec<Value> = rows.iter().step_by(7).enumerate().map(|(i, (id, _))| {
        let mut h = health(id, i % 3 == 0);
        h["EngineVersion"] = json!(format!("1.1.99999.{}", i % 4));
        h["RebootRequired"] = json!(i % 5 == 0);
        if i % 11 == 0 {
            h["RtpEnabled"] = json!(false);
        }
        h
    }).collect();
    assert_eq!(apply(UploadKind::Defender, Value::Array(changed_health)), IndexStep::InMemory, "health changes are applied in memory");
    let threats: Vec<Value> = rows.iter().step_by(13).map(|(id, _)| threat(id, 4242, 0, 5)).collect();
    assert_eq!(apply(UploadKind::Threats, Value::Array(threats)), IndexStep::InMemory);
    let stored = |id: &str| -> (String, String, Option<String>, String) {
        store
            .with(|c| Ok(c.query_row("SELECT SMSID, AADTenantID, AADPrimaryUserID, SerialNumber FROM devices WHERE AADDeviceID = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?))
            .unwrap()
    };
    // Devices re-sent with another model and OS build (same names): in memory too.
    let devices: Vec<Value> = rows.iter().step_by(17).map(|(id, name)| {
        let mut d = device(id, name);
        let (sms, tenant, user, serial) = stored(id);
        d["SMSID"] = json!(sms);
        d["AADTenantID"] = json!(tenant);
        d["AADPrimaryUserID"] = json!(user);
        d["SerialNumber"] = json!(serial);
        d["Model"] = json!("Brand-new Model 1");
        d["DeviceOSBuild"] = json!("10.0.99999");
        d
    }).collect();
    assert_eq!(apply(UploadKind::Devices, Value::Array(devices)), IndexStep::InMemory, "same names: in memory");
    // Renamed devices, another serial number and primary user (they move in the orders the store's
    // indexes give), and devices joining (appended, placed among the others; one without a user):
    // in memory as well, several batches followed at once.
    let renamed: Vec<Value> = rows.iter().skip(3).step_by(19).enumerate().map(|(i, (id, _))| {
        let mut d = device(id, &format!("{}-RENAMED-{i}", ["AAA", "MMM", "ZZZ"][i % 3]));
        let (sms, tenant, user, serial) = stored(id);
        d["SMSID"] = json!(sms);
        d["AADTenantID"] = json!(tenant);
        d["AADPrimaryUserID"] = json!(if i % 2 == 0 { user } else { Some(format!("{i:08}-user")) });
        d["SerialNumber"] = json!(if i % 3 == 0 { format!("SN{i:04}") } else { serial });
        d
    }).collect();
    write(UploadKind::Devices, Value::Array(renamed));
    let mut joining: Vec<Value> = (0..25).map(|i| device(&format!("join-{i:02}"), &format!("{}-JOIN-{i:02}", ["AAA", "MMM", "ZZZ", ""][i % 4]))).collect();
    for (i, d) in joining.iter_mut().enumerate().filter(|(i, _)| i % 3 == 1) {
        d["AADPrimaryUserID"] = json!(format!("{:08}-user", i * 7));
    }
    write(UploadKind::Devices, Value::Array(joining));
    let joined_health: Vec<Value> = (0..25).step_by(2).map(|i| health(&format!("join-{i:02}"), i % 4 == 0)).collect();
    write(UploadKind::Defender, Value::Array(joined_health));
    let caught_up = store.catch_up().unwrap();
    assert_eq!(caught_up.index, IndexStep::InMemory, "renames and new devices: in memory");
    assert_eq!(caught_up.changes.len(), 3, "three batches followed in one step");
    // Devices that leave (one that just joined, with health and threats, one of the first), and the
    // last one to join leaves and another joins after it (the store gives its id again).
    let leave = |id: &str| store.with(|c| write::delete_device(c, id, store.changes())).unwrap().unwrap();
    leave("join-04");
    leave(&rows[13].0);
    leave("join-24");
    write(UploadKind::Devices, json!([device("join-99", "MMM-JOIN-99")]));
    write(UploadKind::Defender, json!([health("join-99", true)]));
    let caught_up = store.catch_up().unwrap();
    assert_eq!(caught_up.index, IndexStep::InMemory, "removed devices, and one whose id is given again: in memory");
    // The same across two follow-ups: the last device leaves, then one joins with its id.
    leave("join-99");
    assert_eq!(store.catch_up().unwrap().index, IndexStep::InMemory);
    write(UploadKind::Devices, json!([device("join-98", "BBB-JOIN-98")]));
    assert_eq!(store.catch_up().unwrap().index, IndexStep::InMemory);
    assert_eq!(caught_up.changes.len(), 5, "five changes followed in one step");
    assert!(caught_up.changes.windows(2).all(|w| w[0].id + 1 == w[1].id), "in change order");

    let updated = store.device_index().unwrap();
    assert_eq!(updated.change(), store.with(|c| write::last_change(c)).unwrap());
    let rebuilt = DeviceIndex::build(store).unwrap();
    assert_eq!(updated.len(), rebuilt.len());
    assert_eq!(updated.len(), rows.len() + 25 - 3 + 1);
    let mut queries: Vec<Vec<(&str, &str)>> =
        vec![vec![], vec![("q", "brand-new")], vec![("q", "10.0.99999")], vec![("q", "renamed")], vec![("q", "join-")], vec![("q", "s1")]];
    for field in tenantscope_model::api::DEVICES.sortable {
        queries.push(vec![("sort", field), ("order", "asc")]);
        queries.push(vec![("sort", field), ("order", "desc")]);
        queries.push(vec![("sort", field), ("q", "join")]);
    }
    for filter in [("DefenderHealth", "unhealthy"), ("DefenderHealth", "at_risk"), ("DefenderHealth", "not_reporting"), ("HasActiveThreats", "true"),
        ("EngineVersion", "1.1.99999.2"), ("Model", "Brand-new Model 1"), ("DeviceOSBuild", "10.0.99999"), ("RebootRequired", "true"),
        ("SignatureOutOfDate", "true"), ("AgentState", "rtp_off"), ("DefenderHealth", "healthy")] {
        queries.push(vec![filter]);
    }
    for q in &queries {
        assert_eq!(listed(&updated, q), listed(&rebuilt, q), "{q:?}");
    }
    // The filter choices with their counts agree too, and so does the summary.
    let facets = |index: &DeviceIndex| {
        let query = tenantscope_model::api::ListQuery::parse(&tenantscope_model::api::DEVICES, &[]).unwrap();
        store.with(|c| tenantscope_server::store::devices_facets(c, index, &query)).unwrap()
    };
    let (mut a, mut b) = (facets(&updated), facets(&rebuilt));
    for f in a.fields.iter_mut().chain(b.fields.iter_mut()) {
        f.values.sort_by(|x, y| x.value.cmp(&y.value));
    }
    assert_eq!(serde_json::to_value(&a).unwrap(), serde_json::to_value(&b).unwrap());
    let summary = |index: &DeviceIndex| serde_json::to_value(store.with(|c| tenantscope_server::store::summary(c, index)).unwrap()).unwrap();
    assert_eq!(summary(&updated), summary(&rebuilt));
}

#[test]
fn follow_ups_take_every_change_in_order() {
    use tenantscope_model::upload::UploadKind;
    use tenantscope_server::store::{write, IndexStep};
    let t = tenant();
    let store = &t.store;
    let apply = |kind: UploadKind, batch: Value| {
        let records = kind.check_batch(batch.as_array().unwrap()).unwrap();
        store.with(|c| Ok(write::apply(c, kind, &records, 1_795_536_000, store.changes()).unwrap())).unwrap()
    };
    // Before the index exists the changes are handed back all the same.
    let first = apply(UploadKind::Devices, json!([device("join-1", "JOIN-1")]));
    let caught_up = store.catch_up().unwrap();
    assert_eq!((caught_up.index, caught_up.changes.len()), (IndexStep::Nothing, 1));
    assert!(store.catch_up().unwrap().changes.is_empty(), "each change is handed back once");
    store.device_index().unwrap();
    // Two devices join and a collection changes: one follow-up takes the three, in order.
    let second = apply(UploadKind::Devices, json!([device("join-2", "JOIN-2")]));
    let collection = json!([{ "CollectionId": "ABC00999", "CollectionName": "Followed", "CollectionType": 2, "CountTargeted": 0,
        "CountCompliant": 0, "CountNonCompliant": 0, "CountFailed": 0, "CountActivated": 0, "CountEnforced": 0,
        "TenantId": "t", "HierarchyId": "h" }]);
    apply(UploadKind::Collections, collection);
    let third = apply(UploadKind::Devices, json!([device("join-3", "JOIN-3")]));
    let caught_up = store.catch_up().unwrap();
    assert_eq!(caught_up.index, IndexStep::InMemory);
    let ids: Vec<i64> = caught_up.changes.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![second.id, second.id + 1, third.id]);
    assert!(first.id < second.id);
    let index = store.device_index().unwrap();
    assert_eq!(index.change(), third.id);
    assert_eq!(listed(&index, &[("q", "join-")]).len(), 3);
    // A device that leaves: in memory too.
    let leaves = store.with(|c| write::delete_device(c, "join-1", store.changes())).unwrap().unwrap();
    let caught_up = store.catch_up().unwrap();
    assert_eq!(caught_up.index, IndexStep::InMemory);
    assert_eq!(caught_up.changes.iter().map(|c| c.id).collect::<Vec<_>>(), vec![leaves.id]);
    assert_eq!(listed(&store.device_index().unwrap(), &[("q", "join-")]).len(), 2);
    // Then in memory again; a change id the log never had (a write outside the write path): rebuilt.
    apply(UploadKind::Defender, json!([health("join-2", false)]));
    assert_eq!(store.catch_up().unwrap().index, IndexStep::InMemory);
    let index = store.device_index().unwrap();
    store.with(|c| Ok(c.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'change_id'", [])?)).unwrap();
    assert_eq!(store.catch_up().unwrap().index, IndexStep::Rebuilt);
    assert!(store.device_index().unwrap().change() > index.change());
}
