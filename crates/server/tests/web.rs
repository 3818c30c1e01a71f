//! The application with a console directory: what is served, with which status, type and headers.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::{Arc, OnceLock};
use tenantscope_server::seed::{seed, DemoOptions};
use tenantscope_server::store::Store;
use tower::ServiceExt;

const INDEX: &str = "<!doctype html><html><head><script>window.__errors=[];</script>\
<script type=\"module\">import init from '/app-0123456789abcdef.js';await init();</script></head><body></body></html>";

struct Fixture {
    _dir: tempfile::TempDir,
    dist: std::path::PathBuf,
    store: Arc<Store>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let dist = dir.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(dist.join("index.html"), INDEX).unwrap();
        std::fs::write(dist.join("app-0123456789abcdef.js"), "export default function init() {}\n".repeat(200)).unwrap();
        std::fs::write(dist.join("app-0123456789abcdef_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
        std::fs::write(dist.join("main-fedcba9876543210.css"), "body{margin:0}\n".repeat(200)).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "not to be served").unwrap();
        // What the binary does at start-up.
        tenantscope_server::web::precompress(&dist);
        let store = Store::open(&dir.path().join("data")).unwrap();
        seed(&store, &DemoOptions { devices: 20, seed: 1, anchor: 1_795_536_000, progress: false }).unwrap();
        Fixture { _dir: dir, dist, store }
    })
}

async fn get(uri: &str, headers: &[(&str, &str)]) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let f = fixture();
    let app = tenantscope_server::app(f.store.clone(), Some(&f.dist));
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = res.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
}

fn h<'a>(headers: &'a axum::http::HeaderMap, name: header::HeaderName) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn api_paths_never_answer_the_page() {
    for uri in ["/api", "/api/", "/api/v2/devices", "/api/v1x", "/api/v1/nope", "/api/v1/devices/a/b"] {
        let (status, headers, body) = get(uri, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(h(&headers, header::CONTENT_TYPE).starts_with("application/json"), "{uri}");
        assert!(!String::from_utf8_lossy(&body).contains("<html"), "{uri}");
    }
    let (status, headers, _) = get("/api/v1/summary", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h(&headers, header::CACHE_CONTROL), "no-store");
}

#[tokio::test]
async fn files_are_files_and_routes_are_the_page() {
    // A client route: the page, always revalidated.
    let (status, headers, body) = get("/devices/abc", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(String::from_utf8(body).unwrap(), INDEX);
    assert_eq!(h(&headers, header::CACHE_CONTROL), "no-cache");
    // A missing file is a 404, never the page.
    for uri in ["/app-0000000000000000.js", "/missing.wasm", "/devices/x.css"] {
        let (status, _, body) = get(uri, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(!String::from_utf8_lossy(&body).contains("<html"), "{uri}");
    }
    // Hashed assets: their types, cached for good.
    for (uri, ctype) in [
        ("/app-0123456789abcdef.js", "text/javascript"),
        ("/app-0123456789abcdef_bg.wasm", "application/wasm"),
        ("/main-fedcba9876543210.css", "text/css"),
    ] {
        let (status, headers, _) = get(uri, &[]).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(h(&headers, header::CONTENT_TYPE).starts_with(ctype), "{uri}: {:?}", headers.get(header::CONTENT_TYPE));
        assert_eq!(h(&headers, header::CACHE_CONTROL), "public, max-age=31536000, immutable", "{uri}");
    }
    // Served precompressed: brotli where the browser takes it, else gzip; the same bytes each time.
    let f = fixture();
    for (accept, encoding, suffix) in [("gzip, deflate, br", "br", "br"), ("gzip", "gzip", "gz")] {
        let (_, headers, body) = get("/app-0123456789abcdef.js", &[("accept-encoding", accept)]).await;
        assert_eq!(h(&headers, header::CONTENT_ENCODING), encoding);
        assert_eq!(body, std::fs::read(f.dist.join(format!("app-0123456789abcdef.js.{suffix}"))).unwrap(), "{accept}");
        assert!(body.len() < 500, "compressed: {} bytes", body.len());
    }
    assert!(f.dist.join("main-fedcba9876543210.css.br").is_file() && f.dist.join("index.html.gz").is_file());
    // Nothing outside the console directory.
    for uri in ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/static/%2e%2e%2f%2e%2e%2fsecret.txt"] {
        let (status, _, body) = get(uri, &[]).await;
        assert!(!String::from_utf8_lossy(&body).contains("not to be served"), "{uri}: {status}");
    }
}

#[tokio::test]
async fn headers_keep_the_console_safe() {
    let (_, headers, _) = get("/", &[]).await;
    let csp = h(&headers, header::CONTENT_SECURITY_POLICY);
    let script_src = csp.split(';').find(|d| d.trim_start().starts_with("script-src")).unwrap();
    assert!(!script_src.contains("unsafe-inline"), "{csp}");
    assert_eq!(script_src.matches("'sha256-").count(), 2, "both inline scripts of the page, by hash: {csp}");
    for d in ["base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'", "object-src 'none'"] {
        assert!(csp.contains(d), "{d} in {csp}");
    }
    assert_eq!(h(&headers, header::REFERRER_POLICY), "no-referrer");
    assert_eq!(h(&headers, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
}

#[tokio::test]
async fn only_known_host_names_are_answered() {
    for host in ["127.0.0.1:8080", "localhost:3000", "[::1]:8080", "LOCALHOST"] {
        let (status, _, _) = get("/api/v1/summary", &[("host", host)]).await;
        assert_eq!(status, StatusCode::OK, "{host}");
    }
    // A rebinding page's own name pointed at the loopback address.
    let (status, _, body) = get("/api/v1/summary", &[("host", "attacker.example:8080")]).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("--allow-host"));
    // Named explicitly, it is answered.
    let f = fixture();
    let options = tenantscope_server::web::WebOptions { frame_ancestors: "'self'".into(), allow_hosts: vec!["console.example".into()], ..Default::default() };
    let app = tenantscope_server::app_with(f.store.clone(), Some(&f.dist), &options);
    let res = app.oneshot(Request::get("/").header("host", "console.example").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(h(res.headers(), header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'self'"));
}

#[tokio::test]
async fn every_rejection_has_the_json_error_shape() {
    let f = fixture();
    for (method, uri, status) in [
        ("GET", "/api/v1/devices/%FF", StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/collections/%C3%28", StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/summary", StatusCode::METHOD_NOT_ALLOWED),
        ("DELETE", "/api/v1/devices", StatusCode::METHOD_NOT_ALLOWED),
        ("GET", "/api/v1/devices?page=x", StatusCode::BAD_REQUEST),
    ] {
        let app = tenantscope_server::app(f.store.clone(), Some(&f.dist));
        let res = app.oneshot(Request::builder().method(method).uri(uri).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), status, "{method} {uri}");
        assert!(h(res.headers(), header::CONTENT_TYPE).starts_with("application/json"), "{method} {uri}");
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let err: tenantscope_model::api::ErrorBody = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{method} {uri}: {e}"));
        assert!(!err.error.is_empty() && !err.detail.is_empty());
    }
}

#[test]
fn the_connection_pool_is_bounded_and_queues() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..24)
        .map(|_| {
            let (store, most) = (Arc::clone(&store), Arc::clone(&most));
            std::thread::spawn(move || {
                store
                    .with(|c| {
                        most.fetch_max(store.open_connections(), std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(40));
                        Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)
                    })
                    .unwrap()
            })
        })
        .collect();
    // Every request is answered (they wait their turn), and never more connections than the bound.
    assert!(threads.into_iter().all(|t| t.join().unwrap() == 1));
    let most = most.load(std::sync::atomic::Ordering::SeqCst);
    assert!(most <= tenantscope_server::store::MAX_CONNECTIONS && most > 1, "{most}");
    assert!(store.open_connections() <= tenantscope_server::store::MAX_CONNECTIONS);
}

#[tokio::test]
async fn request_bodies_are_bounded() {
    let f = fixture();
    let app = tenantscope_server::app(f.store.clone(), Some(&f.dist));
    let big = vec![b'x'; tenantscope_server::API_BODY_LIMIT + 1];
    let res = app
        .oneshot(Request::get("/api/v1/summary").header("content-length", big.len()).body(Body::from(big)).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_are_bounded_and_free_their_place_when_the_client_goes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    seed(&store, &DemoOptions { devices: 3_000, seed: 5, anchor: 1_795_536_000, progress: false }).unwrap();
    let export = || {
        let app = tenantscope_server::app(Arc::clone(&store), None);
        async move { app.oneshot(Request::get("/api/v1/devices?format=csv").body(Body::empty()).unwrap()).await.unwrap() }
    };
    // Clients that never read: each holds a place.
    let mut held = Vec::new();
    for _ in 0..tenantscope_server::store::MAX_EXPORTS {
        let res = export().await;
        assert_eq!(res.status(), StatusCode::OK);
        held.push(res);
    }
    let refused = export().await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h(refused.headers(), header::RETRY_AFTER), "5");
    // The other routes still answer.
    let app = tenantscope_server::app(Arc::clone(&store), None);
    let summary = app.oneshot(Request::get("/api/v1/summary").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(summary.status(), StatusCode::OK);
    // They hang up: their places come back.
    drop(held);
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let res = export().await;
        if res.status() == StatusCode::OK {
            let body = res.into_body().collect().await.unwrap().to_bytes();
            assert!(body.len() > 100_000, "a whole export: {} bytes", body.len());
            ok = true;
            break;
        }
    }
    assert!(ok, "an export place came back after the clients left");
}

#[tokio::test]
async fn a_redeployed_console_works_without_a_restart() {
    let f = fixture();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<script>one()</script>").unwrap();
    let app = tenantscope_server::app(f.store.clone(), Some(dist.path()));
    let csp = |res: &axum::response::Response| h(res.headers(), header::CONTENT_SECURITY_POLICY).to_string();
    let first = app.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    // A new build: another loader script.
    std::fs::write(dist.path().join("index.html"), "<script>two()</script>").unwrap();
    let second = app.oneshot(Request::get("/devices").body(Body::empty()).unwrap()).await.unwrap();
    assert_ne!(csp(&first), csp(&second), "the policy follows the page served");
    let body = second.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"<script>two()</script>");
}
