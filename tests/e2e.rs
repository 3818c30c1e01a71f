//! End to end: the real server on an ephemeral loopback port, seeded with a small demo tenant and
//! serving the built console (`dist/`, the release bundle), driven in headless Chromium through
//! chromedriver. Needs `trunk build --release` and chromedriver, so it is `#[ignore]`d in a plain
//! `cargo test`; `scripts/test.sh` builds the bundle and runs it with `--ignored`.
#![cfg(not(target_arch = "wasm32"))]

use fantoccini::{Client, ClientBuilder, Locator};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tenantscope::format::{count, percent};
use tenantscope_model::api::Summary;
use tenantscope_server::seed::{seed, DemoOptions};
use tenantscope_server::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Server {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

async fn start_server(devices: u64) -> Server {
    let dist = std::env::var_os("TENANTSCOPE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist"));
    assert!(
        dist.join("index.html").is_file(),
        "no built console at {}: run `trunk build --release` (scripts/test.sh does)",
        dist.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    seed(&store, &DemoOptions { devices, seed: 7, anchor: now / 60 * 60, progress: false }).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = tenantscope_server::app(store, Some(&dist));
    tokio::spawn(async move { axum_serve(listener, app).await });
    Server { addr, _dir: dir }
}

async fn axum_serve(listener: tokio::net::TcpListener, app: axum::Router) {
    axum::serve(listener, app).await.unwrap();
}

/// A plain HTTP/1.0 GET, so the test reads the API exactly as served.
async fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).await.unwrap();
    let mut buf = String::new();
    stream.read_to_string(&mut buf).await.unwrap();
    let (head, body) = buf.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    child: tokio::process::Child,
    url: String,
}

async fn start_driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = tokio::process::Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver must be installed (scripts/tools.sh installs it)");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { child, url: format!("http://127.0.0.1:{port}") }
}

async fn browser(driver: &Driver) -> Client {
    let profile = tempfile::tempdir().unwrap().keep();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1440,900",
                     format!("--user-data-dir={}", profile.display())]
        }),
    );
    ClientBuilder::rustls().expect("tls").capabilities(caps).connect(&driver.url).await.expect("webdriver session")
}

/// Runs `body` with a browser session that is closed whatever happens.
async fn with_browser<F, Fut>(body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = Result<(), BoxError>>,
{
    let mut driver = start_driver().await;
    let client = browser(&driver).await;
    let result = body(client.clone()).await;
    let _ = client.close().await;
    let _ = driver.child.kill().await;
    if let Err(e) = result {
        panic!("{e}");
    }
}

async fn kpi(client: &Client, name: &str) -> Result<String, BoxError> {
    let el = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!("[data-kpi='{name}']")))
        .await?;
    Ok(el.text().await?)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn overview_shows_the_api_summary() {
    let server = start_server(2_000).await;
    let summary: Summary = serde_json::from_str(&http_get(server.addr, "/api/v1/summary").await).unwrap();
    let base = format!("http://{}", server.addr);
    with_browser(|c| async move {
        c.goto(&format!("{base}/")).await?;
        assert_eq!(kpi(&c, "total_devices").await?, count(summary.total_devices));
        assert_eq!(kpi(&c, "healthy_percent").await?, percent(summary.healthy_percent()));
        assert_eq!(kpi(&c, "at_risk").await?, count(summary.at_risk));
        assert_eq!(kpi(&c, "unhealthy").await?, count(summary.unhealthy));
        assert_eq!(kpi(&c, "not_reporting").await?, count(summary.not_reporting));
        assert_eq!(kpi(&c, "active_threats").await?, count(summary.active_threats));
        assert_eq!(kpi(&c, "devices_with_active_threats").await?, count(summary.devices_with_active_threats));
        assert_eq!(kpi(&c, "signatures_out_of_date").await?, count(summary.signatures_out_of_date));
        assert_eq!(kpi(&c, "scans_overdue").await?, count(summary.scans_overdue));
        assert_eq!(kpi(&c, "reboot_required").await?, count(summary.reboot_required));
        for sc in &summary.active_threats_by_severity {
            if sc.severity.code() == 0 && sc.count == 0 {
                continue;
            }
            let key = format!("active_threats_{}", sc.severity.label().to_lowercase().replace(' ', "_"));
            assert_eq!(kpi(&c, &key).await?, count(sc.count), "{key}");
        }
        let tenant = c.find(Locator::Css("[data-testid=tenant]")).await?.text().await?;
        assert!(tenant.contains(&summary.tenant.tenant_name) && tenant.contains(&summary.tenant.hierarchy_id), "{tenant}");
        let as_of = c.find(Locator::Css("[data-testid=as-of]")).await?.text().await?;
        assert!(as_of.starts_with("Data as of "), "{as_of}");

        // Client-side routes: a section that is not built says so; an unknown path is a proper not-found page.
        c.goto(&format!("{base}/connector")).await?;
        c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("[data-testid=coming]")).await?;
        c.goto(&format!("{base}/no/such/page")).await?;
        let h1 = c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("h1")).await?.text().await?;
        assert_eq!(h1, "Page not found");
        Ok(())
    })
    .await;
}
