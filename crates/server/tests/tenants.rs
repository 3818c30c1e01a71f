//! Tenant isolation: two tenants on one server (each at its host name, `--tenant HOST=TENANT_ID`),
//! over SQLite (a file per tenant) or PostgreSQL (a schema per tenant; `TENANTSCOPE_TEST_DATABASE`).
//! No route, no CSV export and no event stream of one tenant shows anything of the other's; a
//! token means nothing at another tenant's host; a tenant's store takes its own records only.

mod backend;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tenantscope_server::live::{self, Live};
use tenantscope_server::seed::{seed, DemoOptions};
use tenantscope_server::store::{self, tokens, Store};
use tower::ServiceExt;

const A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

struct Tenant {
    host: &'static str,
    id: &'static str,
    store: Arc<Store>,
    admin: String,
    viewer: String,
    kiosk: String,
    uploader: String,
}

struct Server {
    _dir: tempfile::TempDir,
    app: axum::Router,
    default: Arc<Store>,
    a: Tenant,
    b: Tenant,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let database = backend::database().map(|server| backend::fresh_database(&server));
    let options = |host: Option<&str>| tenantscope_server::web::WebOptions {
        require_sign_in: true,
        allow_hosts: host.into_iter().map(str::to_string).collect(),
        ..Default::default()
    };
    let default = Store::open_in(dir.path(), database.as_deref()).unwrap();
    seed(&default, &DemoOptions { devices: 40, seed: 1, anchor: 1_795_536_000, progress: false }).unwrap();
    let mut apps = Vec::new();
    let mut tenants = Vec::new();
    for (host, id, demo) in [("a.example", A, 2), ("b.example", B, 3)] {
        let store = Store::open_tenant(dir.path(), database.as_deref(), id).unwrap();
        seed(&store, &DemoOptions { devices: 60, seed: demo, anchor: 1_795_536_000, progress: false }).unwrap();
        // The demo's records as the tenant's site would send them: carrying the tenant's id.
        store
            .with(|c| {
                c.execute("UPDATE devices SET AADTenantID = ?1", [id])?;
                c.execute("UPDATE collections SET TenantId = ?1", [id])?;
                store::set_meta(c, "tenant_id", id)?;
                Ok(())
            })
            .unwrap();
        store.ensure_indexes().unwrap();
        let role = |r| store.with(|c| tokens::create(c, r, "t", now())).unwrap();
        let tenant = Tenant {
            host,
            id,
            admin: role(tokens::Role::Admin),
            viewer: role(tokens::Role::Viewer),
            kiosk: role(tokens::Role::Kiosk),
            uploader: role(tokens::Role::Uploader),
            store: Arc::clone(&store),
        };
        let hub = Live::new();
        if live::follow_database(Arc::clone(&store), Arc::clone(&hub)).is_some() {
            hub.changed(&store).await;
        }
        apps.push((host.to_string(), tenantscope_server::app_live(store, hub, None, &options(Some(host)))));
        tenants.push(tenant);
    }
    let default_app = tenantscope_server::app_live(Arc::clone(&default), Live::new(), None, &options(None));
    let app = tenantscope_server::app_tenants(default_app, apps);
    let b = tenants.pop().unwrap();
    let a = tenants.pop().unwrap();
    Server { _dir: dir, app, default, a, b }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

impl Server {
    async fn send(&self, method: &str, host: &str, uri: &str, token: &str, body: Vec<u8>) -> (StatusCode, String) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, format!("{host}:8080"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn get(&self, host: &str, uri: &str, token: &str) -> (StatusCode, String) {
        self.send("GET", host, uri, token, Vec::new()).await
    }
}

/// What only tenant `t` has: its tenant id, every device's Entra id and serial number, its marker.
fn own_marks(t: &Tenant) -> Vec<String> {
    let mut marks: Vec<String> = t
        .store
        .with(|c| {
            let mut stmt = c.prepare("SELECT AADDeviceID, SerialNumber FROM devices")?;
            let rows = stmt.query_map([], |r| Ok([r.get::<_, String>(0)?, r.get::<_, String>(1)?]))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect())
        })
        .unwrap();
    marks.push(t.id.to_string());
    marks.push(format!("ONLY-IN-{}", t.host));
    marks
}

/// A marker of tenant `t` in every kind of record its site uploads.
async fn mark(s: &Server, t: &Tenant) {
    let marker = format!("ONLY-IN-{}", t.host);
    let device = json!([{ "SMSID": "GUID:1", "AADTenantID": t.id, "AADDeviceID": format!("{}-marked", t.id), "Name": marker,
        "DeviceOS": "Microsoft Windows NT Workstation 10.0", "DeviceOSBuild": "10.0.26100", "AADPrimaryUserID": marker,
        "Model": marker, "Manufacturer": "Dell Inc.", "SerialNumber": marker, "DomainNames": "corp.contoso.com", "SKU": "Enterprise" }]);
    let collection = json!([{ "CollectionId": "MRK00001", "CollectionName": marker, "CollectionType": 2, "CountTargeted": 1,
        "CountCompliant": 1, "CountNonCompliant": 0, "CountFailed": 0, "CountActivated": 1, "CountEnforced": 1,
        "TenantId": t.id, "HierarchyId": "h" }]);
    let application = json!([{ "ProgramID": format!("{marker}-program"), "ProductName": marker, "Publisher": marker,
        "Version": "1.0", "ProductLanguage": 1033 }]);
    for (kind, body) in [("devices", device), ("collections", collection), ("applications", application)] {
        let (status, text) = s.send("POST", t.host, &format!("/api/v1/upload/{kind}"), &t.uploader, body.to_string().into_bytes()).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_export_or_event_stream_shows_another_tenants_rows() {
    let s = server().await;
    mark(&s, &s.a).await;
    mark(&s, &s.b).await;
    for (me, other) in [(&s.a, &s.b), (&s.b, &s.a)] {
        let foreign = own_marks(other);
        let mine = own_marks(me);
        let routes = backend::read_routes(&me.store);
        assert!(routes.len() >= 15, "{routes:?}");
        for route in &routes {
            for token in [&me.admin, &me.viewer] {
                let (status, body) = s.get(me.host, route, token).await;
                assert_eq!(status, StatusCode::OK, "{}: {route}: {body}", me.host);
                if let Some(leak) = foreign.iter().find(|m| body.contains(m.as_str())) {
                    panic!("{}: {route} shows {leak:?} of the other tenant", me.host);
                }
            }
            // The other tenant's tokens mean nothing here.
            for token in [&other.admin, &other.viewer, &other.kiosk] {
                assert_eq!(s.get(me.host, route, token).await.0, StatusCode::UNAUTHORIZED, "{}: {route}", me.host);
            }
        }
        // Lists open with the tenant's own rows, its marker among them.
        let (_, devices) = s.get(me.host, "/api/v1/devices?q=ONLY-IN-&page_size=100", &me.viewer).await;
        let devices: Value = serde_json::from_str(&devices).unwrap();
        assert_eq!(devices["total"], 1, "{devices}");
        assert!(mine.iter().any(|m| devices.to_string().contains(m.as_str())));
        // Every CSV export.
        for list in ["devices", "collections", "threats", "detections", "applications", "products"] {
            let (status, csv) = s.get(me.host, &format!("/api/v1/{list}?format=csv"), &me.viewer).await;
            assert_eq!(status, StatusCode::OK, "{list}: {csv}");
            assert!(csv.lines().count() > 1, "{list}: {csv}");
            if let Some(leak) = foreign.iter().find(|m| csv.contains(m.as_str())) {
                panic!("{}: the {list} export shows {leak:?} of the other tenant", me.host);
            }
        }
        // The default host (another store again) does not know the tenant's tokens either.
        assert_eq!(s.get("localhost", "/api/v1/summary", &me.viewer).await.0, StatusCode::UNAUTHORIZED);
    }
    // Each tenant's numbers are its own (60 demo devices and its marker each).
    for t in [&s.a, &s.b] {
        let (_, summary) = s.get(t.host, "/api/v1/summary", &t.viewer).await;
        let summary: Value = serde_json::from_str(&summary).unwrap();
        assert_eq!(summary["total_devices"], 61, "{summary}");
    }
    let default_devices = s.default.with(|c| store::device_count(c)).unwrap();
    assert_eq!(default_devices, 40, "nothing of the tenants reached the default store");
}

/// The change notices read from an event stream until `until` have come or a second passed.
async fn read(body: &mut Body, until: usize) -> String {
    backend::read_events(body, std::time::Duration::from_secs(1), |t| t.matches("event: change").count() >= until).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_event_stream_hears_its_own_changes_only() {
    let s = server().await;
    let open = |t: &Tenant| {
        let req = Request::get("/api/v1/events")
            .header(header::HOST, t.host)
            .header(header::AUTHORIZATION, format!("Bearer {}", t.viewer))
            .body(Body::empty())
            .unwrap();
        s.app.clone().oneshot(req)
    };
    let mut on_a = open(&s.a).await.unwrap().into_body();
    let mut on_b = open(&s.b).await.unwrap().into_body();
    mark(&s, &s.b).await;
    // B hears its three changes; A hears nothing (within a second).
    let heard_b = read(&mut on_b, 3).await;
    assert_eq!(heard_b.matches("event: change").count(), 3, "{heard_b}");
    let heard_a = read(&mut on_a, 1).await;
    assert!(!heard_a.contains("event: change"), "tenant A heard B's change: {heard_a}");
    assert!(!heard_a.contains(B) && !heard_a.contains("ONLY-IN-b.example"), "{heard_a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_store_takes_its_own_records_only() {
    let s = server().await;
    // A device of tenant B sent to tenant A: refused, naming the field; nothing written.
    let device = json!([{ "SMSID": "GUID:1", "AADTenantID": B, "AADDeviceID": "stray-1", "Name": "STRAY-1",
        "DeviceOS": "Microsoft Windows NT Workstation 10.0", "DeviceOSBuild": "10.0.26100", "AADPrimaryUserID": null,
        "Model": "Latitude 7440", "Manufacturer": "Dell Inc.", "SerialNumber": "S1", "DomainNames": "corp.contoso.com", "SKU": "Enterprise" }]);
    let (status, body) = s.send("POST", s.a.host, "/api/v1/upload/devices", &s.a.uploader, device.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("AADTenantID"), "{body}");
    let (status, body) = s.send("POST", s.b.host, "/api/v1/upload/devices", &s.a.uploader, device.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "A's uploader at B's host: {body}");
    assert_eq!(s.a.store.with(|c| Ok(c.query_row("SELECT COUNT(*) FROM devices WHERE AADDeviceID = 'stray-1'", [], |r| r.get::<_, i64>(0))?)).unwrap(), 0);
    // A collection of another tenant likewise.
    let collection = json!([{ "CollectionId": "STR00001", "CollectionName": "stray", "CollectionType": 2, "CountTargeted": 0,
        "CountCompliant": 0, "CountNonCompliant": 0, "CountFailed": 0, "CountActivated": 0, "CountEnforced": 0,
        "TenantId": B, "HierarchyId": "h" }]);
    let (status, body) = s.send("POST", s.a.host, "/api/v1/upload/collections", &s.a.uploader, collection.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("TenantId"), "{body}");
    // Its own tenant's device (any case of the id) is taken.
    let own = device.to_string().replace(B, &A.to_ascii_uppercase()).replace("stray-1", "own-1");
    assert_eq!(s.send("POST", s.a.host, "/api/v1/upload/devices", &s.a.uploader, own.into_bytes()).await.0, StatusCode::OK);
}
