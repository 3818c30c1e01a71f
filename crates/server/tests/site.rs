//! `pull-site` against recorded AdminService answers replayed by a local server: `$select` and
//! `$filter` asked, paging with `@odata.nextLink`, a 5xx in the middle (the same page asked again,
//! nothing taken twice), a refused token (401: nothing sent), and a class an older site does not
//! have. The records land in a real Tenantscope server through its upload API.

mod common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::running;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tenantscope_server::site::{self, SiteOptions};

const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.recorded.signature";

fn recorded(name: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/adminservice").join(name);
    std::fs::read_to_string(path).ok()
}

#[derive(Default)]
struct Replay {
    base: String,
    log: Vec<String>,
    /// Page 2 of SMS_R_System fails this many times first.
    failures: u32,
    /// Windows authentication (NTLM) instead of a bearer token: the challenge sent on each
    /// connection, and the requests answered as the account.
    ntlm: bool,
    /// The next page of SMS_R_System points at another host.
    foreign_next: bool,
    challenges: std::collections::HashMap<std::net::SocketAddr, [u8; 8]>,
    /// Connections signed in (HTTP.sys keeps the authentication for the connection).
    signed_in: std::collections::HashSet<std::net::SocketAddr>,
    /// Requests answered as the account, and handshakes that proved the password.
    as_account: u32,
    handshakes: u32,
}

const ACCOUNT: (&str, &str, &str) = ("CORP", "svc-tenantscope", "correct horse battery staple");

/// The NTLM exchange as the SMS Provider's web service does it (per connection).
fn windows_auth(r: &mut Replay, peer: std::net::SocketAddr, headers: &HeaderMap) -> Result<(), Response> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let ask = |challenge: Option<String>| {
        let mut res = (StatusCode::UNAUTHORIZED, recorded("error-401.json").unwrap()).into_response();
        let value = challenge.map(|c| format!("NTLM {c}")).unwrap_or_else(|| "NTLM".into());
        res.headers_mut().append("www-authenticate", "Negotiate".parse().unwrap());
        res.headers_mut().append("www-authenticate", value.parse().unwrap());
        res
    };
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("NTLM "));
    if token.is_none() && r.signed_in.contains(&peer) {
        r.as_account += 1;
        return Ok(());
    }
    let Some(token) = token else {
        return Err(ask(None));
    };
    let msg = b64.decode(token).map_err(|_| ask(None))?;
    if msg.get(8..12) == Some(&1u32.to_le_bytes()[..]) {
        let challenge: [u8; 8] = [7, 1, 2, 9, 3, 4, 5, (r.challenges.len() % 250) as u8];
        r.challenges.insert(peer, challenge);
        let mut m = b"NTLMSSP\0".to_vec();
        m.extend_from_slice(&2u32.to_le_bytes());
        m.extend_from_slice(&[0, 0, 0, 0, 48, 0, 0, 0]);
        m.extend_from_slice(&0x2088_8205u32.to_le_bytes());
        m.extend_from_slice(&challenge);
        m.extend_from_slice(&[0u8; 8]);
        m.extend_from_slice(&[4, 0, 4, 0, 48, 0, 0, 0]);
        m.extend_from_slice(&[0, 0, 0, 0]);
        return Err(ask(Some(b64.encode(m))));
    }
    // The answer must come on the connection the challenge went out on.
    let Some(challenge) = r.challenges.remove(&peer) else { return Err(ask(None)) };
    match tenantscope_server::ntlm::verify(&msg, challenge, ACCOUNT.0, ACCOUNT.1, ACCOUNT.2) {
        Some(_) => {
            r.as_account += 1;
            r.handshakes += 1;
            r.signed_in.insert(peer);
            Ok(())
        }
        None => Err(ask(None)),
    }
}

type Shared = Arc<Mutex<Replay>>;

async fn adminservice(
    State(shared): State<Shared>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut r = shared.lock().unwrap();
    let query = uri.query().unwrap_or("").to_string();
    r.log.push(format!("{}?{query}", uri.path()));
    let json = |status: StatusCode, body: String| (status, [("content-type", "application/json; odata.metadata=minimal")], body).into_response();
    if r.ntlm {
        if let Err(asked) = windows_auth(&mut r, peer, &headers) {
            return asked;
        }
    } else if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
        return json(StatusCode::UNAUTHORIZED, recorded("error-401.json").unwrap());
    }
    let Some(class) = uri.path().strip_prefix("/AdminService/wmi/") else {
        return json(StatusCode::NOT_FOUND, recorded("error-404.json").unwrap());
    };
    let spec = site::CLASSES.iter().find(|c| c.name == class);
    if let Some(spec) = spec {
        // What the pull asks is what the class table says.
        let asked: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let select = asked.iter().find(|(k, _)| k == "$select").map(|(_, v)| v.as_str());
        if !query.contains("skiptoken") {
            assert_eq!(select, Some(spec.select), "{class}");
            assert_eq!(asked.iter().find(|(k, _)| k == "$filter").map(|(_, v)| v.as_str()), spec.filter, "{class}");
        }
    }
    let name = if query.contains("skiptoken") {
        if r.failures > 0 {
            r.failures -= 1;
            return json(StatusCode::INTERNAL_SERVER_ERROR, recorded("error-500.json").unwrap());
        }
        format!("{class}.page-2.json")
    } else {
        format!("{class}.json")
    };
    let base = if r.foreign_next { "http://adminservice.evil.example".to_string() } else { r.base.clone() };
    match recorded(&name) {
        Some(body) => json(StatusCode::OK, body.replace("{base}", &format!("{base}/AdminService"))),
        None => json(StatusCode::NOT_FOUND, recorded("error-404.json").unwrap()),
    }
}

async fn replay(failures: u32) -> (Shared, String) {
    replay_with(failures, false).await
}

async fn replay_with(failures: u32, ntlm: bool) -> (Shared, String) {
    let shared: Shared = Arc::new(Mutex::new(Replay { failures, ntlm, ..Default::default() }));
    let app = axum::Router::new().fallback(adminservice).with_state(Arc::clone(&shared));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    shared.lock().unwrap().base = base.clone();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
    });
    (shared, format!("{base}/AdminService"))
}

fn options(adminservice: &str, bearer: &str) -> SiteOptions {
    SiteOptions { adminservice: adminservice.into(), bearer: Some(bearer.into()), windows: None, ca_bundle: None, retry: Duration::from_millis(20) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_pull_fills_the_store_through_the_upload_api_and_survives_a_server_error() {
    let ts = running().await;
    let (shared, adminservice) = replay(1).await;
    let pulled = site::pull(&options(&adminservice, TOKEN), &ts.server).await.unwrap();
    assert_eq!(pulled.missing, vec!["SMS_G_System_AdvancedThreatProtectionHealthStatus".to_string()]);
    assert_eq!((pulled.retries, pulled.skipped_without_entra_id), (1, 1));
    {
        let r = shared.lock().unwrap();
        let first_page = r.log.iter().filter(|l| l.starts_with("/AdminService/wmi/SMS_R_System?") && !l.contains("skiptoken")).count();
        let second_page = r.log.iter().filter(|l| l.contains("skiptoken")).count();
        assert_eq!((first_page, second_page), (1, 2), "{:#?}", r.log);
    }
    assert_eq!(ts.count("SELECT COUNT(*) FROM devices"), 11);
    // Joined from the classes: domain, hardware, serial, SKU, primary user.
    assert_eq!(
        ts.count(
            "SELECT COUNT(*) FROM devices WHERE Name = 'WKS-BER-0001' AND DomainNames = 'corp.fabrikam.de' AND Model = 'HP EliteBook 840 G9' \
             AND SerialNumber = 'BER00001' AND SKU = 'Enterprise' AND AADPrimaryUserID = '00000005-0001-4001-8005-000000000001' \
             AND DeviceOSBuild = '10.0.22631' AND SMSID LIKE 'GUID:%'"
        ),
        1
    );
    assert_eq!(ts.count("SELECT COUNT(*) FROM devices WHERE DomainNames = 'CORP'"), 5);
    assert_eq!(ts.count("SELECT COUNT(*) FROM devices WHERE SKU = 'ServerDatacenter'"), 1);
    assert_eq!(ts.count("SELECT COUNT(*) FROM defender_health"), 11);
    assert_eq!(ts.count("SELECT COUNT(*) FROM defender_health WHERE SignatureOutOfDate = 1"), 2);
    assert_eq!(ts.count("SELECT COUNT(*) FROM defender_health WHERE RebootRequired = 1 AND ComputerState = 2"), 1);
    assert_eq!(ts.count("SELECT COUNT(*) FROM defender_health WHERE QuickScanTime = '2026-11-24T09:30:00Z' AND FullScanTime IS NULL"), 11);
    // The ATP class is missing on this site: not onboarded, sensor not running.
    assert_eq!(ts.count("SELECT COUNT(*) FROM defender_health WHERE MdeOnboardingState = 0 AND IsMdeSenseRunning = 0"), 11);
    // Two detections of one threat on one device: one record, counted twice, state of the latest.
    assert_eq!(
        ts.count(
            "SELECT COUNT(*) FROM threats WHERE ThreatID = 2147735505 AND NumberOfDetections = 2 AND CurrentStatus = 0 \
             AND InitialDetectionTime = '2026-11-23T10:00:00Z' AND LastThreatStatusChangeTime = '2026-11-25T08:00:00Z'"
        ),
        1
    );
    assert_eq!(ts.count("SELECT COUNT(*) FROM threats"), 2, "the detection on the device without an Entra id is left out");
    // Collections with a policy summary; applications from MSI deployment types.
    assert_eq!(ts.count("SELECT COUNT(*) FROM collections"), 2);
    assert_eq!(ts.count("SELECT CountTargeted * 100 + CountCompliant * 10 + CountFailed FROM collections WHERE CollectionId = 'BER00014'"), 1081);
    assert_eq!(ts.count("SELECT COUNT(*) FROM applications WHERE ProgramID = 'ScopeId_1/DeploymentType_d1/2' AND ProductName LIKE '7-Zip%'"), 1);
    let summary = ts.get("/summary").await;
    assert_eq!(summary["total_devices"].as_u64(), Some(11));
    assert_eq!(summary["tenant"]["site_code"].as_str(), Some("BER"));

    ts.keep_store("pull-site");
    // Again: the same records, nothing added twice.
    site::pull(&options(&adminservice, TOKEN), &ts.server).await.unwrap();
    assert_eq!(ts.count("SELECT COUNT(*) FROM devices") + ts.count("SELECT COUNT(*) FROM threats"), 13);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_or_a_failing_site_sends_nothing() {
    let ts = running().await;
    let (_, adminservice) = replay(0).await;
    let e = site::pull(&options(&adminservice, "expired"), &ts.server).await.unwrap_err().to_string();
    assert!(e.contains("HTTP 401") && e.contains("Authorization has been denied") && e.contains("nothing was sent"), "{e}");
    // A 5xx that does not go away.
    let (_, adminservice) = replay(10).await;
    let e = site::pull(&options(&adminservice, TOKEN), &ts.server).await.unwrap_err().to_string();
    assert!(e.contains("SMS_R_System") && e.contains("500"), "{e}");
    assert_eq!(ts.count("SELECT COUNT(*) FROM devices"), 0);
    // Not an AdminService at all.
    let e = site::pull(&options(&format!("{}/nowhere", ts.base), TOKEN), &ts.server).await.unwrap_err().to_string();
    assert!(e.contains("SMS_CombinedDeviceResources: the AdminService has no such class"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_integrated_authentication_signs_in_with_ntlm_and_a_wrong_password_sends_nothing() {
    use tenantscope_server::ntlm::Account;
    let ts = running().await;
    let (shared, adminservice) = replay_with(0, true).await;
    let windows = |password: &str| SiteOptions {
        adminservice: adminservice.clone(),
        bearer: None,
        windows: Some(Account::parse(&format!("{}\\{}", ACCOUNT.0, ACCOUNT.1), password.into()).unwrap()),
        ca_bundle: None,
        retry: Duration::from_millis(20),
    };
    let e = site::pull(&windows("wrong"), &ts.server).await.unwrap_err().to_string();
    assert!(e.contains("HTTP 401") && e.contains("nothing was sent"), "{e}");
    assert_eq!(ts.count("SELECT COUNT(*) FROM devices"), 0);
    assert_eq!(shared.lock().unwrap().as_account, 0);
    site::pull(&windows(ACCOUNT.2), &ts.server).await.unwrap();
    assert_eq!(ts.count("SELECT COUNT(*) FROM devices"), 11);
    // Every page read was answered as the account (16 classes, SMS_R_System in two pages, the
    // missing class refused with 404 after signing in), on one connection signed in once.
    let r = shared.lock().unwrap();
    assert_eq!((r.as_account, r.handshakes, r.signed_in.len()), (17, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_site_does_not_say_is_kept_and_a_next_page_elsewhere_is_not_followed() {
    let ts = running().await;
    // A health record from elsewhere (say a Graph pull): tamper protection on, onboarded to
    // Defender for Endpoint, the sensor running.
    let aad = "00000001-0001-4001-8001-000000000001";
    let device = serde_json::json!({ "SMSID": "GUID:X", "AADTenantID": "t", "AADDeviceID": aad, "Name": "WKS-BER-0001",
        "DeviceOS": "Microsoft Windows NT Workstation 10.0", "DeviceOSBuild": "10.0.22631", "AADPrimaryUserID": null,
        "Model": "M", "Manufacturer": "X", "SerialNumber": "S", "DomainNames": "d", "SKU": "Enterprise" });
    let health = serde_json::json!({ "DeviceId": aad, "ProductStatus": 524288, "ComputerState": 0, "DefenderEnabled": true,
        "RtpEnabled": true, "NisEnabled": true, "QuickScanOverdue": false, "FullScanOverdue": false, "SignatureOutOfDate": false,
        "RebootRequired": false, "FullScanRequired": false, "TamperProtectionEnabled": true, "IsMdeSenseRunning": true,
        "IsVirtualMachine": false, "MdeOnboardingState": 1, "EngineVersion": "1.1.1.1", "SignatureVersion": "1.1.1.1",
        "DefenderVersion": "4.18.1.1", "QuickScanTime": null, "FullScanTime": null, "QuickScanSigVersion": null,
        "FullScanSigVersion": null, "LastUpdateTime": null });
    ts.server.upload("devices", &[device]).await.unwrap();
    ts.server.upload("defender", &[health]).await.unwrap();
    let (_, adminservice) = replay(0).await;
    site::pull(&options(&adminservice, TOKEN), &ts.server).await.unwrap();
    // The site's values where it has them, the store's where it has none (this site has no ATP class).
    assert_eq!(
        ts.count(&format!(
            "SELECT COUNT(*) FROM defender_health WHERE DeviceId = '{aad}' AND EngineVersion = '1.1.24090.11' \
             AND TamperProtectionEnabled = 1 AND IsMdeSenseRunning = 1 AND MdeOnboardingState = 1"
        )),
        1
    );
    // A next page on another host: not followed, the token not sent there.
    let (shared, adminservice) = replay(0).await;
    shared.lock().unwrap().foreign_next = true;
    let e = site::pull(&options(&adminservice, TOKEN), &ts.server).await.unwrap_err().to_string();
    assert!(e.contains("another host") && e.contains("evil.example"), "{e}");
    assert!(shared.lock().unwrap().log.iter().all(|l| !l.contains("skiptoken")));
}
