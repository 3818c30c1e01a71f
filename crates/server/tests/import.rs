//! Import of Intune report exports and Graph pages through a real HTTP server (the `import`
//! command's client), into a fresh store: every fixture type, what the report says, what the store
//! and API then hold, idempotence, and files that are refused writing nothing.

mod common;

use common::running;
use serde_json::Value;
use tenantscope_server::client::Server;

fn table<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["tables"].as_array().unwrap().iter().find(|t| t["kind"] == kind).unwrap_or_else(|| panic!("{kind}: {report:#}"))
}

fn n(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key}: {v:#}"))
}

fn skipped_because(t: &Value, words: &str) -> u64 {
    t["skipped_why"].as_array().unwrap().iter().filter(|s| s["reason"].as_str().unwrap().contains(words)).map(|s| n(s, "rows")).sum()
}

const TENANT: &str = "7c3f0a52-1b2d-4e8f-9a61-0d5e2b7c4f10";

const ALL: [&str; 7] = [
    "graph-managedDevices",
    "graph-configManagerCollections.json",
    "DefenderAgents.zip",
    "DefenderAgents.csv",
    "UnhealthyDefenderAgents-older-columns.csv",
    "Malware.json",
    "ActiveMalware.csv",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_type_fills_a_fresh_store_and_a_second_import_changes_nothing() {
    let r = running().await;

    // Graph pages (a folder of two): devices created, their protection state and detections.
    let report = r.import_for(ALL[0], Some(TENANT)).await.unwrap();
    let devices = table(&report, "Graph managedDevices");
    assert_eq!((n(devices, "rows"), n(devices, "created"), n(devices, "skipped")), (22, 20, 2));
    assert_eq!(skipped_because(devices, "not a Windows device"), 1);
    assert_eq!(skipped_because(devices, "no Entra device id"), 1);
    assert!(devices["ignored_columns"].as_array().unwrap().iter().any(|c| c == "userPrincipalName (not stored)"));
    assert_eq!(n(table(&report, "Defender agents"), "matched_by_entra_id"), 20);
    assert_eq!(n(table(&report, "Malware"), "written"), 6);
    assert_eq!(r.count("SELECT COUNT(*) FROM devices"), 20);
    assert_eq!(r.count("SELECT COUNT(*) FROM devices WHERE DeviceOSBuild = '10.0.22631' AND DeviceOS = 'Microsoft Windows NT Workstation 10.0'"), 7);
    assert_eq!(r.count("SELECT COUNT(*) FROM defender_health WHERE SignatureOutOfDate = 1 AND ProductStatus = 32 + 128"), 4);
    // Graph writes "never" as 0001-01-01: no full scan time.
    assert_eq!(r.count("SELECT COUNT(*) FROM defender_health WHERE FullScanTime IS NULL"), 20);
    assert_eq!(r.count("SELECT COUNT(*) FROM threats WHERE ThreatName LIKE 'Ransom:%' AND Severity = 5 AND Category = 50 AND CurrentStatus = 1"), 2);

    // Collections with their policy summary.
    let report = r.import(ALL[1]).await.unwrap();
    assert_eq!(n(table(&report, "Graph configManagerCollections"), "created"), 3);
    assert_eq!(
        r.count("SELECT CountTargeted * 1000 + CountCompliant * 10 + CountFailed FROM collections WHERE CollectionId = 'CM100014'"),
        20_171
    );

    // The export job's ZIP (CSV inside, German `_loc` twins that must not be read), matched by name.
    let report = r.import(ALL[2]).await.unwrap();
    let agents = table(&report, "Defender agents");
    assert!(agents["file"].as_str().unwrap().starts_with("DefenderAgents.zip/DefenderAgents_"), "{agents}");
    assert_eq!((n(agents, "matched_by_name"), n(agents, "skipped")), (20, 2));
    assert_eq!(skipped_because(agents, "no device with this name"), 1);
    assert_eq!(skipped_because(agents, "only Intune's DeviceId"), 1);
    assert_eq!(agents["skipped_why"][0]["lines"], serde_json::json!([22]));
    assert!(agents["derived"].as_array().unwrap().iter().any(|d| d == "RebootRequired (from ComputerState)"));
    // WKS-LON-0003: DeviceState 2 (reboot pending), ProductStatus 524320, IsWDATPSenseRunning True.
    let detail = r.get("/devices/00000001-0003-4003-8001-000000000003").await;
    let h = &detail["health"];
    assert_eq!((h["ComputerState"].as_u64(), h["RebootRequired"].as_bool(), h["ProductStatus"].as_u64()), (Some(2), Some(true), Some(524_320)));
    assert_eq!((h["IsMdeSenseRunning"].as_bool(), h["MdeOnboardingState"].as_i64()), (Some(true), Some(1)));
    // Kept from the Graph import: the versions the export does not carry.
    assert_eq!(h["EngineVersion"], "1.1.24090.11");
    // WKS-LON-0004: sensor not running, not onboarded (0 / False columns).
    let h4 = &r.get("/devices/00000001-0004-4004-8001-000000000004").await["health"];
    assert_eq!((h4["IsMdeSenseRunning"].as_bool(), h4["MdeOnboardingState"].as_i64()), (Some(false), Some(0)));

    // The same export as a bare CSV: the same rows, nothing to write.
    let report = r.import(ALL[3]).await.unwrap();
    let agents = table(&report, "Defender agents");
    assert_eq!((n(agents, "written"), n(agents, "unchanged")), (0, 20));
    assert_eq!(report["changes"], serde_json::json!([]));

    // The older column set: pending-action columns make ComputerState; US dates.
    let report = r.import(ALL[4]).await.unwrap();
    let older = table(&report, "Defender agents");
    assert_eq!((n(older, "matched_by_name"), n(older, "skipped")), (2, 4));
    let h1 = &r.get("/devices/00000001-0001-4001-8001-000000000001").await["health"];
    assert_eq!((h1["ComputerState"].as_u64(), h1["EngineVersion"].as_str()), (Some(4), Some("1.1.23110.2")));
    assert_eq!(h1["QuickScanTime"], "2026-11-11T09:30:00Z");

    // Malware in the JSON form (Schema + Values).
    let report = r.import(ALL[5]).await.unwrap();
    let malware = table(&report, "Malware");
    assert_eq!((n(malware, "rows"), n(malware, "written")), (10, 10));
    assert_eq!(r.count("SELECT COUNT(*) FROM threats WHERE ThreatName = 'Trojan:Win32/Emotet.ARJ!MTB' AND CurrentStatusID = 1 AND CurrentStatus = 0"), 3);

    // ActiveMalware with English `_loc` twins and a state the model does not know: kept, reported.
    let report = r.import(ALL[6]).await.unwrap();
    let active = table(&report, "Malware");
    assert_eq!(n(active, "written"), 4);
    let unknown = &active["unknown_values"][0];
    assert_eq!((unknown["column"].as_str(), unknown["value"].as_str(), n(unknown, "rows")), (Some("State"), Some("Suspended"), 1));
    assert_eq!(r.count("SELECT COUNT(*) FROM threats"), 20);
    // A link that is not http(s) is stored as text (the console never makes it a link).
    assert_eq!(r.count("SELECT COUNT(*) FROM threats WHERE URL = 'javascript:alert(1)'"), 4);

    // What the console reads agrees with the store.
    let summary = r.get("/summary").await;
    assert_eq!(summary["total_devices"].as_u64(), Some(20), "{summary:#}");
    // The tenant and site the header shows, learned from the imported records.
    assert_eq!((summary["tenant"]["tenant_id"].as_str(), summary["tenant"]["site_code"].as_str()), (Some(TENANT), Some("CM1")));
    let page = r.get("/devices?q=WKS-LON-001").await;
    assert_eq!(page["total"].as_u64(), Some(10), "{page:#}");

    // Every file again, twice: the second import of a file writes nothing and announces nothing.
    for name in ALL {
        r.import(name).await.unwrap();
        let before = r.change_id();
        let again = r.import(name).await.unwrap();
        assert_eq!(again["written"].as_u64(), Some(0), "{name}: {again:#}");
        assert_eq!(r.change_id(), before, "{name}");
    }
    assert_eq!(r.count("SELECT COUNT(*) FROM devices"), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_are_not_what_they_claim_are_refused_and_write_nothing() {
    let r = running().await;
    r.import("graph-managedDevices").await.unwrap();
    let before = (r.change_id(), r.count("SELECT COUNT(*) FROM defender_health"), r.count("SELECT SUM(ProductStatus) FROM defender_health"));
    let refused = |name: &str, words: &[&str], e: Result<Value, String>| {
        let e = e.expect_err(name);
        for w in words {
            assert!(e.contains(w), "{name}: {e}");
        }
    };
    refused("formula", &["422", "line 2, column ProductStatus", "formula"], r.import("bad/formula.csv").await);
    refused("truncated", &["422", "not a complete ZIP"], r.import("bad/truncated.zip").await);
    refused("wrong", &["422", "not a Defender agents or malware export", "Hostname"], r.import("bad/wrong-columns.csv").await);
    refused("short", &["422", "line 3", "2 cells where the header has 4"], r.import("bad/short-row.csv").await);
    refused("intune", &["422", "no DeviceName or Entra device id", "Intune's id"], r.import("bad/only-intune-id.csv").await);
    refused("time", &["line 2, column InitialDetectionDateTime", "last Tuesday"], r.import("bad/not-a-time.csv").await);

    // A 100 MB line (here 2 MiB: the limit is 1 MiB) and a file that is no export at all.
    let mut long = b"DeviceName,ProductStatus\r\nWKS-LON-0001,".to_vec();
    long.extend(std::iter::repeat_n(b'5', 2 << 20));
    let e = r.server.import("long.csv", long, None, |_| {}).await.unwrap_err().to_string();
    assert!(e.contains("line 2 is 2097") && e.contains("at most 1024 KiB"), "{e}");
    let e = r.server.import("photo.png", b"\x89PNG\r\n\x1a\n\0\0\0".to_vec(), None, |_| {}).await.unwrap_err().to_string();
    assert!(e.contains("binary"), "{e}");
    let e = r.server.import("x.json", b"{\"value\": [1, 2]".to_vec(), None, |_| {}).await.unwrap_err().to_string();
    assert!(e.contains("not valid JSON"), "{e}");

    // A good file with one bad value further down is refused whole: the good rows are not written.
    let csv = "DeviceName,ProductStatus,RealTimeProtectionEnabled\r\nWKS-LON-0001,0,True\r\nWKS-LON-0002,0,maybe\r\n";
    let e = r.server.import("half.csv", csv.as_bytes().to_vec(), None, |_| {}).await.unwrap_err().to_string();
    assert!(e.contains("line 3, column RealTimeProtectionEnabled") && e.contains("maybe"), "{e}");

    let after = (r.change_id(), r.count("SELECT COUNT(*) FROM defender_health"), r.count("SELECT SUM(ProductStatus) FROM defender_health"));
    assert_eq!(after, before);

    // Only writers import.
    let viewer = Server::new(&r.base, r.viewer.clone()).unwrap();
    let e = viewer.import("a.csv", csv.as_bytes().to_vec(), None, |_| {}).await.unwrap_err().to_string();
    assert!(e.contains("403"), "{e}");
    let nobody = Server::new(&r.base, "not-a-token".into()).unwrap();
    let e = nobody.import("a.csv", csv.as_bytes().to_vec(), None, |_| {}).await.unwrap_err().to_string();
    assert!(e.contains("401"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matching_takes_the_entra_id_in_any_case_and_never_a_name_against_another_entra_id() {
    let r = running().await;
    r.import("graph-managedDevices").await.unwrap();
    let devices = r.count("SELECT COUNT(*) FROM devices");
    // Graph's all-zero id for a device matched by name: the device keeps its Entra id.
    let page = serde_json::json!({ "value": [{ "id": "x", "deviceName": "WKS-LON-0001", "operatingSystem": "Windows",
        "osVersion": "10.0.26100.1", "azureADDeviceId": "00000000-0000-0000-0000-000000000000", "model": "Surface Laptop 6",
        "manufacturer": "Microsoft Corporation", "serialNumber": "SN000001" }] });
    let report = r.server.import("zero.json", page.to_string().into_bytes(), None, |_| {}).await.unwrap();
    assert_eq!(report["tables"][0]["matched_by_name"].as_u64(), Some(1), "{report:#}");
    assert_eq!(r.count("SELECT COUNT(*) FROM devices"), devices);
    assert_eq!(r.count("SELECT COUNT(*) FROM devices WHERE AADDeviceID = '00000001-0001-4001-8001-000000000001' AND Model = 'Surface Laptop 6'"), 1);
    assert_eq!(r.count("SELECT COUNT(*) FROM devices WHERE AADDeviceID LIKE '00000000-%'"), 0);
    // An export row with the Entra id in upper case (`000A…` for the store's `000a…`) finds the device; one with an Entra id the
    // store does not have is not put on the device that happens to have its name.
    let csv = "AADDeviceID,DeviceName,ProductStatus,RealTimeProtectionEnabled\r\n\
               00000001-000a-400a-8001-00000000000a,WKS-LON-0010,524288,False\r\n\
               00000001-000b-400b-8001-00000000000b,WKS-LON-0011,524288,False\r\n\
               ffffffff-0000-4000-8000-000000000000,WKS-LON-0004,524288,False\r\n"
        .to_uppercase()
        .replace("AADDEVICEID,DEVICENAME,PRODUCTSTATUS,REALTIMEPROTECTIONENABLED", "AADDeviceID,DeviceName,ProductStatus,RealTimeProtectionEnabled");
    let report = r.server.import("case.csv", csv.into_bytes(), None, |_| {}).await.unwrap();
    let t = &report["tables"][0];
    assert_eq!((t["matched_by_entra_id"].as_u64(), t["skipped"].as_u64()), (Some(2), Some(1)), "{t:#}");
    assert!(t["skipped_why"][0]["reason"].as_str().unwrap().contains("no device with this Entra device id"), "{t:#}");
    assert_eq!(
        r.count("SELECT COUNT(*) FROM defender_health WHERE RtpEnabled = 0 AND DeviceId IN ('00000001-000a-400a-8001-00000000000a', '00000001-000b-400b-8001-00000000000b', '00000001-0004-4004-8001-000000000004')"),
        2
    );
    // A number the model has no code for is kept and reported.
    let csv = "DeviceName,MalwareId,MalwareName,Severity,InitialDetectionDateTime\r\nWKS-LON-0005,2147000001,X,9,2026-11-25T06:00:00Z\r\n";
    let report = r.server.import("codes.csv", csv.as_bytes().to_vec(), None, |_| {}).await.unwrap();
    let unknown = &report["tables"][0]["unknown_values"][0];
    assert_eq!((unknown["column"].as_str(), unknown["value"].as_str()), (Some("Severity"), Some("9")), "{report:#}");
    assert_eq!(r.count("SELECT COUNT(*) FROM threats WHERE ThreatID = 2147000001 AND Severity = 9"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_enrolled_device_and_a_reused_name_in_one_graph_page() {
    let r = running().await;
    r.import("graph-managedDevices").await.unwrap();
    let zero = "00000000-0000-0000-0000-000000000000";
    let device = |name: &str, aad: &str, model: &str| serde_json::json!({ "id": "i", "deviceName": name, "operatingSystem": "Windows",
        "osVersion": "10.0.26100.1", "azureADDeviceId": aad, "model": model, "manufacturer": "Dell Inc.", "serialNumber": "S" });
    // NEW-01 joined (a new id), then NEW-01 again without an Entra id: one device, the later row's
    // model. WKS-LON-0002 re-enrolled under a new id: a second device of that name, so the row with
    // the name only matches neither.
    let page = serde_json::json!({ "value": [
        device("NEW-01", "abcdef01-0000-4000-8000-000000000001", "OptiPlex 7010"),
        device("NEW-01", zero, "OptiPlex 7020"),
        device("WKS-LON-0002", "abcdef01-0000-4000-8000-000000000002", "Latitude 5550"),
        device("WKS-LON-0002", zero, "Latitude 9999"),
    ] });
    let report = r.server.import("reenrolled.json", page.to_string().into_bytes(), None, |_| {}).await.unwrap();
    let t = &report["tables"][0];
    assert_eq!((t["created"].as_u64(), t["matched_by_name"].as_u64(), t["skipped"].as_u64()), (Some(2), Some(1), Some(1)), "{t:#}");
    assert!(t["skipped_why"][0]["reason"].as_str().unwrap().contains("several devices have this name"), "{t:#}");
    assert_eq!(r.count("SELECT COUNT(*) FROM devices WHERE Name = 'NEW-01' AND Model = 'OptiPlex 7020'"), 1);
    assert_eq!(r.count("SELECT COUNT(*) FROM devices WHERE Name = 'WKS-LON-0002'"), 2);
    assert_eq!(r.count("SELECT COUNT(*) FROM devices WHERE Model = 'Latitude 9999'"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_came_after_the_plan_is_not_written_over() {
    use tenantscope_server::import::{self, read, Options};
    use tenantscope_server::store::write;
    let r = running().await;
    r.import("graph-managedDevices").await.unwrap();
    // An export says RTP is on for WKS-LON-0005 (the store has it off) and carries no engine version.
    let csv = "DeviceName,ProductStatus,RealTimeProtectionEnabled\r\nWKS-LON-0005,524288,True\r\n";
    let tables = read::read("late.csv", csv.as_bytes()).unwrap();
    let plan = r.store.with(|c| Ok(import::plan(c, &tables, &Options::default())?.unwrap())).unwrap();
    assert_eq!(plan.records(), 1);
    // Meanwhile the site uploads a new engine version for that device.
    let aad = "00000001-0005-4005-8001-000000000005";
    let mut health = serde_json::to_value(r.store.with(|c| tenantscope_server::store::health_of(c, aad)).unwrap().unwrap()).unwrap();
    health["EngineVersion"] = serde_json::json!("1.1.99999.1");
    r.server.upload("defender", &[health]).await.unwrap();
    // The plan's record, written as the import writes it: merged again over what is there now.
    let (kind, batch) = plan.batches[0].clone();
    let log = write::ChangeLog::default();
    let change = r
        .store
        .run(move |c| {
            Ok(write::apply_prepared(c, kind, 0, &log, |tx| {
                let mut records = Vec::new();
                for planned in &batch {
                    records.extend(import::rebase(tx, kind, planned)?);
                }
                Ok(records)
            }))
        })
        .await
        .unwrap()
        .unwrap();
    assert!(change.is_some());
    assert_eq!(r.count(&format!("SELECT COUNT(*) FROM defender_health WHERE DeviceId = '{aad}' AND EngineVersion = '1.1.99999.1' AND RtpEnabled = 1")), 1);
    // Planned again, nothing is left to write.
    let again = r.store.with(|c| Ok(import::plan(c, &tables, &Options::default())?.unwrap())).unwrap();
    assert_eq!(again.records(), 0);
}
