//! Privacy mode, enforced by the server: the kiosk role and `privacy=1` never receive a masked value
//! from the store (JSON, CSV, change notices); aliases are stable, and work as addresses, filters
//! and search.

mod backend;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use tenantscope_server::live::Live;
use tenantscope_server::seed::{seed, DemoOptions};
use tenantscope_server::store::{tokens, Store};
use tower::ServiceExt;

struct Server {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    live: Arc<Live>,
    kiosk: String,
    uploader: String,
}

fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = backend::store(dir.path());
    seed(&store, &DemoOptions { devices: 150, seed: 11, anchor: 1_795_536_000, progress: false }).unwrap();
    let (kiosk, uploader) = store
        .with(|c| Ok((tokens::create(c, tokens::Role::Kiosk, "wall", 0)?, tokens::create(c, tokens::Role::Uploader, "site", 0)?)))
        .unwrap();
    Server { _dir: dir, store, live: Live::new(), kiosk, uploader }
}

impl Server {
    fn app(&self) -> axum::Router {
        tenantscope_server::app_live(Arc::clone(&self.store), Arc::clone(&self.live), None, &Default::default())
    }

    async fn text(&self, uri: &str, token: Option<&str>) -> (StatusCode, String) {
        let mut req = Request::builder().uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let res = self.app().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).to_string())
    }

    async fn json(&self, uri: &str) -> Value {
        let (status, text) = self.text(uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    fn strings(&self, sql: &str) -> Vec<String> {
        self.store
            .with(|c| Ok(c.prepare(sql)?.query_map([], |r| r.get::<_, Option<String>>(0))?.collect::<Result<Vec<_>, _>>()?))
            .unwrap()
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Every masked value the store holds.
    fn identified(&self) -> Vec<String> {
        let mut values = Vec::new();
        for sql in [
            "SELECT Name FROM devices",
            "SELECT SerialNumber FROM devices",
            "SELECT AADDeviceID FROM devices",
            "SELECT AADPrimaryUserID FROM devices",
            "SELECT DISTINCT DomainNames FROM devices",
            "SELECT DISTINCT AADTenantID FROM devices",
            "SELECT DISTINCT DeviceId FROM threats",
            "SELECT DISTINCT TenantId FROM collections",
            "SELECT value FROM meta WHERE key = 'tenant_name'",
            "SELECT value FROM meta WHERE key = 'tenant_id'",
        ] {
            values.extend(self.strings(sql));
        }
        values.sort();
        values.dedup();
        assert!(values.len() > 500, "{}", values.len());
        values
    }

    /// Every GET route with ids (aliases when `alias`), as a list of URIs.
    async fn routes(&self, alias: bool) -> Vec<String> {
        let list = self.json(if alias { "/api/v1/devices?privacy=1" } else { "/api/v1/devices" }).await;
        let device = list["items"][0]["AADDeviceID"].as_str().unwrap().to_string();
        let collection = self.strings("SELECT CollectionId FROM collections LIMIT 1")[0].clone();
        let threat = self.strings("SELECT CAST(ThreatID AS TEXT) FROM threats LIMIT 1")[0].clone();
        let mut out = Vec::new();
        for p in tenantscope_server::api::routes().paths() {
            if p.starts_with("/upload") || *p == "/import" || *p == "/events" || *p == "/session" || *p == "/openapi.json" {
                continue;
            }
            let path = p.replace("{id}", if p.starts_with("/devices") { &device } else if p.starts_with("/collections") { &collection } else { &threat });
            out.push(format!("/api/v1{path}"));
        }
        out
    }
}

fn leaks<'a>(text: &str, identified: &'a [String]) -> Vec<&'a String> {
    identified.iter().filter(|v| text.contains(v.as_str())).collect()
}

#[tokio::test]
async fn no_masked_value_reaches_privacy_mode_or_the_kiosk() {
    let s = server();
    let identified = s.identified();
    // The plain answers do carry them (the check can fail).
    let (_, plain) = s.text("/api/v1/devices?page_size=200", None).await;
    assert!(leaks(&plain, &identified).len() > 100);
    let routes = s.routes(true).await;
    assert!(routes.len() >= 15);
    for route in &routes {
        let sep = if route.contains('?') { '&' } else { '?' };
        let (status, text) = s.text(&format!("{route}{sep}privacy=1"), None).await;
        assert_eq!(status, StatusCode::OK, "{route}: {text}");
        assert_eq!(leaks(&text, &identified), Vec::<&String>::new(), "{route}");
        // Lists as CSV too (every row, not one page).
        let list = tenantscope_model::api::LISTS.iter().any(|l| route == &format!("/api/v1/{}", l.name));
        if list {
            let (status, csv) = s.text(&format!("{route}?privacy=1&format=csv"), None).await;
            assert_eq!(status, StatusCode::OK, "{route} csv");
            assert!(csv.lines().count() > 2, "{route}: {csv}");
            assert_eq!(leaks(&csv, &identified), Vec::<&String>::new(), "{route} csv");
        }
    }
    // The kiosk's routes, with its session's token: aliased whatever the request asks.
    for route in ["/api/v1/summary", "/api/v1/collections", "/api/v1/threats", "/api/v1/threats/timeline", "/api/v1/antivirus", "/api/v1/summary?privacy=0", "/api/v1/collections?format=csv"] {
        let (status, text) = s.text(route, Some(&s.kiosk)).await;
        assert_eq!(status, StatusCode::OK, "{route}: {text}");
        assert_eq!(leaks(&text, &identified), Vec::<&String>::new(), "kiosk {route}");
    }
    let (_, summary) = s.text("/api/v1/summary", Some(&s.kiosk)).await;
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["tenant"]["tenant_name"], summary["tenant"]["tenant_id"], "the tenant's name reads as its alias");
    assert!(summary["tenant"]["tenant_id"].as_str().unwrap().starts_with("Tenant "), "{summary}");
}

#[tokio::test]
async fn change_notices_to_the_kiosk_are_aliased() {
    let s = server();
    let identified = s.identified();
    let aad = s.strings("SELECT AADDeviceID FROM devices LIMIT 1")[0].clone();
    let health = format!(
        r#"[{{"DeviceId":"{aad}","ProductStatus":524288,"ComputerState":0,"DefenderEnabled":true,"RtpEnabled":true,"NisEnabled":true,"QuickScanOverdue":false,"FullScanOverdue":false,"SignatureOutOfDate":false,"RebootRequired":true,"FullScanRequired":false,"TamperProtectionEnabled":true,"IsMdeSenseRunning":true,"IsVirtualMachine":false,"MdeOnboardingState":1,"EngineVersion":"1.1.24090.11","SignatureVersion":"1.421.123.0","DefenderVersion":"4.18.24090.11"}}]"#
    );
    let res = s
        .app()
        .oneshot(
            Request::post("/api/v1/upload/defender")
                .header(header::AUTHORIZATION, format!("Bearer {}", s.uploader))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(health))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The notice is sent once the change is followed; a reconnecting kiosk gets it replayed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let text = loop {
        let res = s
            .app()
            .oneshot(
                Request::get("/api/v1/events")
                    .header(header::AUTHORIZATION, format!("Bearer {}", s.kiosk))
                    .header("last-event-id", "0")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut body = res.into_body();
        let frame = tokio::time::timeout(std::time::Duration::from_secs(2), body.frame()).await;
        let text = match frame {
            Ok(Some(Ok(f))) => f.into_data().map(|d| String::from_utf8_lossy(&d).to_string()).unwrap_or_default(),
            _ => String::new(),
        };
        if text.contains("event: change") || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(text.contains("event: change"), "{text}");
    assert!(text.contains("Tenant 0"), "{text}");
    assert_eq!(leaks(&text, &identified), Vec::<&String>::new());
}

#[tokio::test]
async fn aliases_are_stable_and_work_as_addresses_filters_and_search() {
    let s = server();
    let first = s.json("/api/v1/devices?privacy=1&sort=Name").await;
    let again = s.json("/api/v1/devices?privacy=1&sort=Name").await;
    assert_eq!(first, again, "the same aliases in every request");
    let row = &first["items"][0];
    let (name, id) = (row["Name"].as_str().unwrap(), row["AADDeviceID"].as_str().unwrap());
    assert!(name.starts_with("Device ") && id.starts_with("device-"), "{row}");
    assert_eq!(name.trim_start_matches("Device "), id.trim_start_matches("device-"), "one number per device");
    assert!(row["SerialNumber"].as_str().unwrap().starts_with("Serial "));
    assert!(row["DomainNames"].as_str().unwrap().starts_with("Domain "));
    // The device's page at its alias, with the same aliases as the list.
    let detail = s.json(&format!("/api/v1/devices/{id}?privacy=1")).await;
    assert_eq!(detail["device"]["Name"], row["Name"], "{detail}");
    assert_eq!(detail["device"]["AADPrimaryUserID"], row["AADPrimaryUserID"]);
    // A user's alias is the same on every device of the user.
    let users: std::collections::HashMap<String, usize> =
        s.strings("SELECT AADPrimaryUserID FROM devices").into_iter().fold(Default::default(), |mut m, u| {
            *m.entry(u).or_default() += 1;
            m
        });
    let all = s.json("/api/v1/devices?privacy=1&page_size=200").await;
    let mut aliases: std::collections::HashMap<String, usize> = Default::default();
    for item in all["items"].as_array().unwrap() {
        if let Some(u) = item["AADPrimaryUserID"].as_str() {
            *aliases.entry(u.to_string()).or_default() += 1;
        }
    }
    let mut a: Vec<usize> = aliases.values().copied().collect();
    let mut b: Vec<usize> = users.values().copied().collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "users and their aliases group the devices alike");
    // Search: an alias finds its device; a real name finds nothing in privacy mode.
    let found = s.json(&format!("/api/v1/devices?privacy=1&q={}", name.replace(' ', "+"))).await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["items"][0]["Name"], row["Name"]);
    let real = s.strings("SELECT Name FROM devices LIMIT 1")[0].clone();
    assert_eq!(s.json(&format!("/api/v1/devices?q={real}")).await["total"], 1);
    assert_eq!(s.json(&format!("/api/v1/devices?privacy=1&q={real}")).await["total"], 0);
    // Lists answered by the store itself: a real name matches nothing in privacy mode, on every store.
    let detections = s.json(&format!("/api/v1/detections?privacy=1&q={real}")).await;
    assert_eq!(detections["total"], 0, "{detections}");
    // Filters: a facet's alias selects as many devices as the facet counts.
    let facets = s.json("/api/v1/devices/facets?privacy=1").await;
    let domains = facets["fields"].as_array().unwrap().iter().find(|f| f["field"] == "DomainNames").unwrap();
    let domain = &domains["values"][0];
    assert!(domain["value"].as_str().unwrap().starts_with("Domain "), "{domain}");
    let selected = s.json(&format!("/api/v1/devices?privacy=1&DomainNames={}", domain["value"].as_str().unwrap().replace(' ', "+"))).await;
    assert_eq!(selected["total"], domain["count"]);
    assert!(selected["items"].as_array().unwrap().iter().all(|d| d["DomainNames"] == domain["value"]));
    // A real domain in a privacy-mode filter selects nothing.
    let real_domain = s.strings("SELECT DomainNames FROM devices LIMIT 1")[0].clone();
    assert_eq!(s.json(&format!("/api/v1/devices?privacy=1&DomainNames={real_domain}")).await["total"], 0);
    // A device's detections by its alias.
    let with_threats = s.strings("SELECT DISTINCT CAST(d.id AS TEXT) FROM devices d JOIN threats t ON t.DeviceId = d.AADDeviceID LIMIT 1")[0].clone();
    let n: i64 = with_threats.parse().unwrap_or_else(|_| panic!("{with_threats}"));
    let alias = tenantscope_model::privacy::AliasKind::EntraDevice.alias(n);
    let detections = s.json(&format!("/api/v1/detections?privacy=1&DeviceId={alias}")).await;
    assert!(detections["total"].as_u64().unwrap() > 0, "{detections}");
    assert!(detections["items"].as_array().unwrap().iter().all(|d| d["DeviceId"] == alias.as_str()));
    let by_name = s.json(&format!("/api/v1/detections?privacy=1&q=Device+{n:04}")).await;
    assert_eq!(by_name["total"], detections["total"]);
}
