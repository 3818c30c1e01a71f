//! `pull-graph` against recorded Graph responses replayed by a local server: the token endpoint,
//! `managedDevices` paging with a 429, an access token that expires early, export jobs created →
//! in progress → completed with a ZIP, and a pull that fails half-way and resumes without taking
//! anything twice. The data lands in a real Tenantscope server's store.

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::{fixture, running};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tenantscope_server::graph::{self, GraphOptions};

const TENANT: &str = "7c3f0a52-1b2d-4e8f-9a61-0d5e2b7c4f10";
const CLIENT: &str = "0e9b5a2f-5a1c-4d7e-9f3b-2c8d1e6a7b40";
const SECRET: &str = "not-a-real-secret~value";

fn recorded(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph").join(name)).unwrap()
}

#[derive(Default)]
struct Replay {
    base: String,
    /// Every request: "METHOD path?query".
    log: Vec<String>,
    tokens: u32,
    /// Graph requests answered with the current token (the first token "expires" after 2).
    used: u32,
    throttled_once: bool,
    /// The Malware export job's creation fails this many times.
    malware_failures: u32,
    polls: std::collections::HashMap<String, u32>,
    /// The first DefenderAgents export job fails in Intune.
    fail_first_job: bool,
    downloads_with_token: u32,
}

type Shared = Arc<Mutex<Replay>>;

/// A recorded `managedDevices` page as Graph answers the pull's `$select` (no protection state:
/// health and detections come from the report exports).
fn page(name: &str, base: &str) -> String {
    let text = std::fs::read_to_string(fixture(name)).unwrap().replace("https://graph.microsoft.com", base);
    let mut page: Value = serde_json::from_str(&text).unwrap();
    for item in page["value"].as_array_mut().unwrap() {
        item.as_object_mut().unwrap().retain(|k, _| graph::DEVICE_SELECT.split(',').any(|s| s == k));
    }
    page.to_string()
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "application/json")], body).into_response()
}

async fn replay(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut r = shared.lock().unwrap();
    let path = uri.path().to_string();
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    r.log.push(format!("{method} {path}{query}"));
    if path == format!("/{TENANT}/oauth2/v2.0/token") {
        let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("");
        if get("grant_type") != "client_credentials" || get("client_id") != CLIENT || get("client_secret") != SECRET {
            return json(StatusCode::UNAUTHORIZED, recorded("token-refused.json").replace("{client}", get("client_id")));
        }
        assert_eq!(get("scope"), format!("{}/.default", r.base));
        r.tokens += 1;
        r.used = 0;
        return json(StatusCode::OK, recorded("token.json").replace("{token}", &format!("token-{}", r.tokens)));
    }
    if let Some(report) = path.strip_prefix("/reports-export/").and_then(|p| p.strip_suffix(".zip")) {
        // A pre-signed blob address: it must not be sent the Graph token.
        if headers.contains_key("authorization") {
            r.downloads_with_token += 1;
        }
        let zip = std::fs::read(fixture(&format!("{report}.zip"))).unwrap();
        return (StatusCode::OK, [("content-type", "application/octet-stream")], zip).into_response();
    }
    // Graph: the current token, which expires early once.
    let expected = format!("Bearer token-{}", r.tokens);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return json(StatusCode::UNAUTHORIZED, recorded("expired-token.json"));
    }
    r.used += 1;
    if r.tokens == 1 && r.used > 2 {
        return json(StatusCode::UNAUTHORIZED, recorded("expired-token.json"));
    }
    if path == "/beta/deviceManagement/managedDevices" {
        let q = uri.query().unwrap_or("");
        if q.contains("skiptoken=page2") {
            if !r.throttled_once {
                r.throttled_once = true;
                return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1"), ("content-type", "application/json")], recorded("throttled.json"))
                    .into_response();
            }
            return json(StatusCode::OK, page("graph-managedDevices/page-2.json", &r.base));
        }
        assert!(q.contains("%24select=") || q.contains("$select="), "{q}");
        return json(StatusCode::OK, page("graph-managedDevices/page-1.json", &r.base));
    }
    if path == "/beta/deviceManagement/reports/exportJobs" && method == Method::POST {
        let request: Value = serde_json::from_slice(&body).unwrap();
        let report = request["reportName"].as_str().unwrap().to_string();
        let select = request["select"].as_array().unwrap();
        assert!(select.iter().any(|c| c == "DeviceName") && !select.iter().any(|c| c == "UPN"), "{request}");
        if report == "Malware" && r.malware_failures > 0 {
            r.malware_failures -= 1;
            return json(StatusCode::INTERNAL_SERVER_ERROR, recorded("server-error.json"));
        }
        let created = recorded("exportJob-created.json")
            .replace("{report}", &report)
            .replace("{job}", &format!("{}", r.log.len()))
            .replace("{select}", &Value::Array(select.clone()).to_string());
        return json(StatusCode::CREATED, created);
    }
    if let Some(id) = path.strip_prefix("/beta/deviceManagement/reports/exportJobs('").and_then(|p| p.strip_suffix("')")) {
        let report = id.split('_').next().unwrap().to_string();
        let fail = report == "DefenderAgents" && r.fail_first_job;
        let polls = r.polls.entry(id.to_string()).or_default();
        *polls += 1;
        let name = if *polls < 2 { "exportJob-inProgress.json" } else { "exportJob-completed.json" };
        if fail && *polls >= 2 {
            r.fail_first_job = false;
            let base = r.base.clone();
            let failed = recorded("exportJob-inProgress.json").replace("inProgress", "failed");
            return json(StatusCode::OK, failed.replace("{id}", id).replace("{report}", &report).replace("{base}", &base));
        }
        let base = r.base.clone();
        return json(StatusCode::OK, recorded(name).replace("{id}", id).replace("{report}", &report).replace("{base}", &base));
    }
    json(StatusCode::NOT_FOUND, r#"{"error":{"code":"ResourceNotFound","message":"not recorded"}}"#.into())
}

async fn graph_replay(malware_failures: u32) -> Shared {
    let shared: Shared = Arc::new(Mutex::new(Replay { malware_failures, ..Default::default() }));
    let app = axum::Router::new().fallback(replay).with_state(Arc::clone(&shared));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    shared.lock().unwrap().base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    shared
}

fn options(shared: &Shared, state_file: &Path, secret: &str) -> GraphOptions {
    let base = shared.lock().unwrap().base.clone();
    GraphOptions {
        tenant: TENANT.into(),
        client_id: CLIENT.into(),
        client_secret: secret.into(),
        login_url: base.clone(),
        graph_url: base,
        state_file: state_file.to_path_buf(),
        poll: Duration::from_millis(50),
    }
}

fn count(log: &[String], starts: &str) -> usize {
    log.iter().filter(|l| l.starts_with(starts)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_fills_the_store_refreshes_its_token_waits_when_throttled_and_resumes_after_a_failure() {
    let ts = running().await;
    let shared = graph_replay(1).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("pull.json");
    let opts = options(&shared, &state, SECRET);

    // First pull: both pages (a 429 on the second), DefenderAgents imported, then the Malware job
    // cannot be created (a 500): the pull fails and notes how far it got.
    let started = std::time::Instant::now();
    let e = graph::pull(&opts, &ts.server).await.unwrap_err().to_string();
    assert!(e.contains("HTTP 500") && e.contains("An internal server error occurred"), "{e}");
    // The 429 said `Retry-After: 1`: the pull waited that long before asking again.
    // (Not the 5 s the client waits when no Retry-After is given.)
    assert!(started.elapsed() >= Duration::from_secs(1) && started.elapsed() < Duration::from_millis(4500), "{:?}", started.elapsed());
    assert!(state.exists());
    {
        let r = shared.lock().unwrap();
        assert!(r.throttled_once);
        // The first token "expired" after two requests: a second one was fetched, and used.
        assert_eq!(r.tokens, 2, "{:#?}", r.log);
        assert_eq!(count(&r.log, "POST /beta/deviceManagement/reports/exportJobs"), 2);
        assert_eq!(r.downloads_with_token, 0);
    }
    assert_eq!(ts.count("SELECT COUNT(*) FROM devices"), 20);
    assert_eq!(ts.count(&format!("SELECT COUNT(*) FROM devices WHERE AADTenantID = '{TENANT}'")), 20);
    assert_eq!(ts.count("SELECT COUNT(*) FROM defender_health WHERE ComputerState = 2 AND RebootRequired = 1"), 6);
    assert_eq!(ts.count("SELECT COUNT(*) FROM threats"), 0);
    let before = ts.change_id();

    // Second pull: resumes at the Malware report — no page and no DefenderAgents job again.
    let log_len = shared.lock().unwrap().log.len();
    let pulled = graph::pull(&opts, &ts.server).await.unwrap();
    assert_eq!((pulled.pages, pulled.reports), (0, 1));
    {
        let r = shared.lock().unwrap();
        let second = &r.log[log_len..];
        assert_eq!(count(second, "GET /beta/deviceManagement/managedDevices"), 0, "{second:#?}");
        assert_eq!(count(second, "POST /beta/deviceManagement/reports/exportJobs"), 1, "{second:#?}");
        assert_eq!(count(second, "GET /reports-export/Malware.zip"), 1);
        assert_eq!(count(second, "GET /reports-export/DefenderAgents.zip"), 0);
    }
    assert_eq!(ts.count("SELECT COUNT(*) FROM threats"), 10);
    assert!(ts.change_id() > before);
    assert!(!state.exists(), "a whole pull leaves no state behind");
    ts.keep_store("pull-graph");

    // A whole pull again: everything read again, nothing written (nothing changed in Intune).
    let before = ts.change_id();
    let pulled = graph::pull(&opts, &ts.server).await.unwrap();
    assert_eq!((pulled.pages, pulled.reports, pulled.written), (2, 2, 0));
    assert_eq!(ts.change_id(), before);
    assert_eq!(ts.count("SELECT COUNT(*) FROM devices"), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_app_sign_in_says_why_and_writes_nothing() {
    let ts = running().await;
    let shared = graph_replay(0).await;
    let dir = tempfile::tempdir().unwrap();
    let opts = options(&shared, &dir.path().join("pull.json"), "wrong");
    let e = graph::pull(&opts, &ts.server).await.unwrap_err().to_string();
    assert!(e.contains("AADSTS7000215") && e.contains(CLIENT), "{e}");
    assert_eq!(ts.count("SELECT COUNT(*) FROM devices"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_job_that_fails_in_intune_is_created_anew_by_the_next_pull() {
    let ts = running().await;
    let shared = graph_replay(0).await;
    shared.lock().unwrap().fail_first_job = true;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("pull.json");
    let opts = options(&shared, &state, SECRET);
    let e = graph::pull(&opts, &ts.server).await.unwrap_err().to_string();
    assert!(e.contains("failed in Intune"), "{e}");
    let noted = std::fs::read_to_string(&state).unwrap();
    assert!(!noted.contains("DefenderAgents_"), "the failed job is forgotten: {noted}");
    let pulled = graph::pull(&opts, &ts.server).await.unwrap();
    assert_eq!((pulled.pages, pulled.reports), (0, 2));
    let r = shared.lock().unwrap();
    assert_eq!(count(&r.log, "POST /beta/deviceManagement/reports/exportJobs"), 3, "{:#?}", r.log);
    drop(r);
    assert_eq!(ts.count("SELECT COUNT(*) FROM defender_health"), 20);
    assert_eq!(ts.count("SELECT COUNT(*) FROM threats"), 10);
}
