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

/// Devices in the end-to-end tenant: small by default; TENANTSCOPE_E2E_DEVICES=1000000 to measure at scale.
fn e2e_devices(default: u64) -> u64 {
    std::env::var("TENANTSCOPE_E2E_DEVICES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn start_server(devices: u64) -> Server {
    start_server_with(devices, |_| ()).await
}

/// A hostile threat as a site could upload it: markup in its name, a script URL.
const HOSTILE_NAME: &str = "<script>alert(1)</script>Trojan:Win32/\"Evil\" & Co";
const HOSTILE_URL: &str = "javascript:alert(1)";
const HOSTILE_ID: i64 = 2_147_999_999;

/// Adds the hostile threat, detected yesterday on the first 40 devices (so it leads the top threats).
fn add_hostile_threat(store: &Store) {
    store
        .with(|c| {
            let anchor: String = c.query_row("SELECT value FROM meta WHERE key = 'last_upload'", [], |r| r.get(0))?;
            let at = tenantscope_model::time::format_rfc3339(tenantscope_model::time::parse_rfc3339(&anchor).unwrap() - 86_400);
            c.execute(
                "INSERT INTO threats (ThreatID, ThreatName, Category, Severity, URL, CurrentStatus, CurrentStatusID, \
                 ExecutionStatus, LastThreatStatusChangeTime, InitialDetectionTime, NumberOfDetections, DeviceId) \
                 SELECT ?1, ?2, 8, 5, ?3, 0, 1, 3, ?4, ?4, 1, AADDeviceID FROM devices ORDER BY id LIMIT 40",
                tenantscope_server::store::db::params_from_iter([HOSTILE_ID.to_string().as_str(), HOSTILE_NAME, HOSTILE_URL, &at]),
            )?;
            Ok(())
        })
        .unwrap();
}

async fn start_server_with(devices: u64, prepare: impl FnOnce(&Store)) -> Server {
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
    prepare(&store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    store.device_index().unwrap();
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
    // Already installed by an earlier session in this process: fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let profile = tempfile::tempdir().unwrap().keep();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1440,900", "--js-flags=--expose-gc", "--enable-precise-memory-info",
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

/// Errors the page logged (index.html records console errors and uncaught exceptions).
async fn no_console_errors(c: &Client, page: &str) -> Result<(), BoxError> {
    let errors = c.execute("return window.__errors || ['no error recorder']", vec![]).await?;
    assert_eq!(errors, serde_json::json!([]), "console errors on {page}");
    Ok(())
}

/// The total of the list on screen ("1–50 of 1,234" → 1234).
async fn list_total(c: &Client) -> Result<u64, BoxError> {
    let text = c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("[data-testid=range]")).await?.text().await?;
    let total = text.rsplit("of ").next().unwrap_or_default().split_whitespace().next().unwrap_or_default().replace(',', "");
    Ok(total.parse().map_err(|_| format!("no total in {text:?}"))?)
}

/// Clicks the first part of a chart whose number is not zero (optionally one whose key is `key`);
/// returns the number it holds.
async fn click_chart_part(c: &Client, chart: &str, key: Option<&str>) -> Result<u64, BoxError> {
    let selector = format!("[data-testid={chart}] a.hit");
    c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(&selector)).await?;
    for el in c.find_all(Locator::Css(&selector)).await? {
        let total: u64 = el.attr("data-total").await?.unwrap_or_default().parse().unwrap_or(0);
        let k = el.attr("data-key").await?.unwrap_or_default();
        if total > 0 && key.is_none_or(|want| k == want) {
            el.click().await?;
            return Ok(total);
        }
    }
    Err(format!("no part with a number in {chart}").into())
}

async fn kpi(client: &Client, name: &str) -> Result<String, BoxError> {
    let css = format!("[data-kpi='{name}']");
    eventually(&format!("the {name} number"), || text_now(client, &css)).await
}

/// The text of the element `css` selects, read in one step in the page (a live update may replace the
/// element at any time, so a found element can be gone by the time its text is asked for); None while
/// there is none.
async fn text_now(client: &Client, css: &str) -> Result<Option<String>, BoxError> {
    let text = client
        .execute("const e = document.querySelector(arguments[0]); return e ? e.innerText : null", vec![serde_json::json!(css)])
        .await?;
    Ok(text.as_str().map(str::to_string))
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

        // Client-side routes: the connector page shows the service connection point; an unknown path is a proper not-found page.
        c.goto(&format!("{base}/connector")).await?;
        let facts = c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("[data-testid=connector-facts]")).await?.text().await?;
        assert!(facts.contains("5.00.9128.1000"), "{facts}");
        c.wait().for_element(Locator::Css("[data-testid=connector-timeline] svg")).await?;
        no_console_errors(&c, "connector").await?;
        c.goto(&format!("{base}/no/such/page")).await?;
        let h1 = c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("h1")).await?.text().await?;
        assert_eq!(h1, "Page not found");
        Ok(())
    })
    .await;
}

/// Polls `check` until it returns Some, for up to 20 s.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> Result<T, BoxError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, BoxError>>,
{
    for _ in 0..200 {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("timed out waiting for {what}").into())
}

/// Device names in the table, in order.
async fn table_names(c: &Client) -> Result<Vec<String>, BoxError> {
    let mut names = Vec::new();
    for el in c.find_all(Locator::Css("[data-testid=devices-table] tbody td.name a")).await? {
        names.push(el.text().await?);
    }
    Ok(names)
}

async fn api_names(addr: SocketAddr, query: &str) -> Vec<String> {
    let page: tenantscope_model::api::Page<tenantscope_model::api::DeviceRow> =
        serde_json::from_str(&http_get(addr, &format!("/api/v1/devices?{query}")).await).unwrap();
    page.items.into_iter().map(|d| d.device.name).collect()
}

/// The query string of the browser's URL.
async fn url_query(c: &Client) -> Result<String, BoxError> {
    Ok(c.current_url().await?.query().unwrap_or_default().to_string())
}

/// Waits until the table shows exactly the API's rows for the URL's query; returns them.
async fn table_matches_api(c: &Client, addr: SocketAddr) -> Result<Vec<String>, BoxError> {
    eventually("the table to show the API's rows", || async {
        let q = url_query(c).await?;
        let want = api_names(addr, &q).await;
        let got = table_names(c).await?;
        Ok((!want.is_empty() && got == want).then_some(got))
    })
    .await
}

async fn render_ms(c: &Client) -> Result<String, BoxError> {
    let table = c.find(Locator::Css("[data-testid=devices-table]")).await?;
    Ok(table.attr("data-render-ms").await?.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn devices_view_lives_in_the_url() {
    let server = start_server(e2e_devices(3_000)).await;
    let addr = server.addr;
    let base = format!("http://{addr}");
    with_browser(|c| async move {
        c.goto(&format!("{base}/devices")).await?;
        let first = table_matches_api(&c, addr).await?;
        assert_eq!(first.len(), 50);
        println!("render after first load: {} ms", render_ms(&c).await?);

        // Filter, sort (twice: descending), next page.
        pick(&c, "DefenderHealth", "at_risk").await?;
        eventually("the filter in the URL", || async { Ok(url_query(&c).await?.contains("DefenderHealth=at_risk").then_some(())) }).await?;
        table_matches_api(&c, addr).await?;
        println!("render after filter: {} ms", render_ms(&c).await?);
        c.find(Locator::Css("button.sort[data-sort=Model]")).await?.click().await?;
        eventually("sort=Model", || async { Ok(url_query(&c).await?.contains("sort=Model&order=asc").then_some(())) }).await?;
        table_matches_api(&c, addr).await?;
        c.find(Locator::Css("button.sort[data-sort=Model]")).await?.click().await?;
        eventually("order=desc", || async { Ok(url_query(&c).await?.contains("order=desc").then_some(())) }).await?;
        table_matches_api(&c, addr).await?;
        println!("render after sort: {} ms", render_ms(&c).await?);
        c.find(Locator::Css("button[aria-label='Next page']")).await?.click().await?;
        eventually("page=2", || async { Ok(url_query(&c).await?.contains("page=2").then_some(())) }).await?;
        let page2 = table_matches_api(&c, addr).await?;
        println!("render after page change: {} ms", render_ms(&c).await?);
        let q = url_query(&c).await?;
        assert_eq!(q, "page=2&sort=Model&order=desc&DefenderHealth=at_risk");

        // Reload: the same rows.
        c.refresh().await?;
        assert_eq!(table_matches_api(&c, addr).await?, page2);
        assert_eq!(url_query(&c).await?, q);

        // Back: page 1 of the same view.
        c.back().await?;
        eventually("back to page 1", || async { Ok((!url_query(&c).await?.contains("page=2")).then_some(())) }).await?;
        let page1 = table_matches_api(&c, addr).await?;
        assert_ne!(page1, page2);

        // Search narrows the list (debounced) and keeps the other state.
        let wanted = page1[0].clone();
        c.find(Locator::Css("input.search")).await?.send_keys(&wanted).await?;
        let found = eventually("the search in the URL", || async {
            let q = url_query(&c).await?;
            Ok(q.contains("q=").then_some(q))
        })
        .await?;
        assert!(found.contains("DefenderHealth=at_risk"), "{found}");
        let rows = table_matches_api(&c, addr).await?;
        assert!(rows.contains(&wanted), "{rows:?}");

        // A view the API would reject shows the nearest valid one and says what was left out.
        c.goto(&format!("{base}/devices?sort=Password&DefenderHealth=at_risk&page=0")).await?;
        let notes = c.wait().for_element(Locator::Css("[data-testid=url-notes]")).await?.text().await?;
        assert!(notes.contains("Sort by “Password” isn't available — showing Name"), "{notes}");
        assert!(notes.contains("Page “0” doesn't exist — showing page 1"), "{notes}");
        let want = api_names(addr, "DefenderHealth=at_risk").await;
        eventually("the nearest valid view", || async { Ok((table_names(&c).await? == want).then_some(())) }).await?;
        assert!(c.find(Locator::Css("[data-testid=error]")).await.is_err(), "no error panel for a fixable URL");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn row_opens_device_detail() {
    let server = start_server(2_000).await;
    let addr = server.addr;
    let base = format!("http://{addr}");
    with_browser(|c| async move {
        c.goto(&format!("{base}/devices?HasActiveThreats=true")).await?;
        let names = table_matches_api(&c, addr).await?;
        let link = c.find(Locator::Css("[data-testid=devices-table] tbody td.name a")).await?;
        let href = link.attr("href").await?.unwrap_or_default();
        link.click().await?;
        let name = c.wait().for_element(Locator::Css("[data-testid=device-name]")).await?.text().await?;
        assert_eq!(name, names[0]);
        // The address bar follows (a shared or reloaded link opens the same device).
        eventually("the device path in the address bar", || async { Ok((c.current_url().await?.path() == href).then_some(())) }).await?;
        c.refresh().await?;
        let again = c.wait().for_element(Locator::Css("[data-testid=device-name]")).await?.text().await?;
        assert_eq!(again, name);
        let id = href.trim_start_matches("/devices/");
        let detail: tenantscope_model::api::DeviceDetail =
            serde_json::from_str(&http_get(addr, &format!("/api/v1/devices/{id}")).await).unwrap();
        let d = &detail.device.device;
        assert_eq!(name, d.name);
        for (field, value) in [("Serial number", &d.serial_number), ("Entra device ID", &d.aad_device_id), ("Model", &d.model)] {
            let text = c.find(Locator::Css(&format!("dd[data-field='{field}']"))).await?.text().await?;
            assert!(text.starts_with(value.as_str()), "{field}: {text} vs {value}");
        }
        let verdict = c.find(Locator::Css("[data-testid=verdict]")).await?.text().await?;
        assert_eq!(verdict, detail.device.defender_health.label());
        let threat_rows = c.find_all(Locator::Css("[data-testid=threats] tbody tr")).await?;
        assert_eq!(threat_rows.len(), detail.threats.len());
        assert!(!detail.threats.is_empty());
        let collections = c.find_all(Locator::Css("[data-testid=collections] li")).await?;
        assert_eq!(collections.len(), detail.collections.len());

        c.goto(&format!("{base}/devices/00000000-0000-0000-0000-000000000000")).await?;
        c.wait().for_element(Locator::Css("[data-testid=not-found]")).await?;
        Ok(())
    })
    .await;
}

/// Header texts of the devices table (labels without sort arrows).
async fn headers(c: &Client) -> Result<Vec<String>, BoxError> {
    let mut out = Vec::new();
    for el in c.find_all(Locator::Css("[data-testid=devices-table] thead button.sort")).await? {
        out.push(el.attr("data-sort").await?.unwrap_or_default());
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn column_picker_persists_and_csv_matches_the_table() {
    let server = start_server(2_000).await;
    let addr = server.addr;
    let base = format!("http://{addr}");
    with_browser(|c| async move {
        c.goto(&format!("{base}/devices?sort=SerialNumber&order=desc&SKU=Enterprise")).await?;
        table_matches_api(&c, addr).await?;
        let before = headers(&c).await?;
        assert!(before.contains(&"DeviceOSBuild".to_string()) && !before.contains(&"SKU".to_string()));
        c.find(Locator::Css("[data-testid=column-picker] summary")).await?.click().await?;
        c.find(Locator::Css("input[data-column=SKU]")).await?.click().await?;
        c.find(Locator::Css("input[data-column=DeviceOSBuild]")).await?.click().await?;
        let after = eventually("the columns to change", || async {
            let h = headers(&c).await?;
            Ok((h.contains(&"SKU".to_string()) && !h.contains(&"DeviceOSBuild".to_string())).then_some(h))
        })
        .await?;
        c.refresh().await?;
        let names = table_matches_api(&c, addr).await?;
        assert_eq!(headers(&c).await?, after, "the column choice survives a reload");

        // The export is exactly this view: same filter and order, the visible columns, all pages.
        let href = c.find(Locator::Css("[data-testid=export]")).await?.attr("href").await?.unwrap_or_default();
        let csv = http_get(addr, &href).await;
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        // Headed by the labels the table shows, with the labels of coded values.
        let labels: Vec<&str> = after.iter().map(|c| tenantscope_model::api::DEVICES.label(c)).collect();
        assert_eq!(lines[0], labels.join(","));
        let health_at = after.iter().position(|c| c == "DefenderHealth").expect("health column");
        assert!(lines[1..].iter().all(|l| ["Healthy", "At risk", "Unhealthy", "Not reporting"].contains(&l.split(',').nth(health_at).unwrap())));
        // Named after the view and the day.
        let download = c.find(Locator::Css("[data-testid=export]")).await?.attr("download").await?.unwrap_or_default();
        let today = &tenantscope_model::time::format_rfc3339(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64)[..10];
        assert_eq!(download, format!("devices-enterprise-{today}.csv"));
        let csv_names: Vec<&str> = lines[1..].iter().map(|l| l.split(',').next().unwrap()).collect();
        assert_eq!(&csv_names[..names.len()], names.iter().map(String::as_str).collect::<Vec<_>>().as_slice());
        let total: tenantscope_model::api::Page<tenantscope_model::api::DeviceRow> =
            serde_json::from_str(&http_get(addr, "/api/v1/devices?SKU=Enterprise&page_size=1").await).unwrap();
        assert_eq!(csv_names.len() as u64, total.total, "every page is exported");

        c.find(Locator::Css("[data-testid=column-picker] summary")).await?.click().await?;
        c.find(Locator::Css("[data-testid=reset-columns]")).await?.click().await?;
        eventually("the default columns", || async { Ok((headers(&c).await? == before).then_some(())) }).await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn applications_grouped_and_filtered() {
    let server = start_server(2_000).await;
    let addr = server.addr;
    let base = format!("http://{addr}");
    with_browser(|c| async move {
        c.goto(&format!("{base}/applications")).await?;
        c.wait().for_element(Locator::Css("[data-testid=products-table] details.fold")).await?;
        // Vendors group publishers that differ only by legal form.
        pick(&c, "PublisherGroup", "Microsoft").await?;
        eventually("the vendor in the URL", || async { Ok(url_query(&c).await?.contains("PublisherGroup=Microsoft").then_some(())) }).await?;
        let page: tenantscope_model::api::Page<tenantscope_model::api::ProductRow> =
            serde_json::from_str(&http_get(addr, "/api/v1/products?PublisherGroup=Microsoft").await)?;
        let rows = eventually("one row per product", || async {
            let rows = c.find_all(Locator::Css("[data-testid=products-table] tbody tr")).await?;
            Ok((rows.len() == page.items.len()).then_some(rows))
        })
        .await?;
        let mut publishers = std::collections::BTreeSet::new();
        for (row, api) in rows.iter().zip(&page.items) {
            let text = row.text().await?;
            assert!(text.contains(&api.product_name) && text.contains(&format!("{} deployment type", api.deployment_types)), "{text}");
            publishers.insert(api.publisher.clone());
        }
        assert!(publishers.contains("Microsoft") && publishers.contains("Microsoft Corporation"), "{publishers:?}");
        // A product unfolds into its deployment types by version and language, with their ProgramIDs.
        let fold = c.find(Locator::Css("[data-testid=products-table] details.fold")).await?;
        fold.find(Locator::Css("summary")).await?.click().await?;
        let unfolded = fold.text().await?;
        assert!(unfolded.contains(&page.items[0].types[0].program_id), "{unfolded}");
        assert!(unfolded.contains("English (United States)") || unfolded.contains("Neutral"), "languages are named: {unfolded}");
        // The number of devices reached opens exactly those devices.
        let reach = page.items[0].product_device_count;
        c.find(Locator::Css("[data-testid=products-table] tbody tr td.num a")).await?.click().await?;
        eventually("the devices list", || async { Ok(c.current_url().await?.path().eq("/devices").then_some(())) }).await?;
        assert_eq!(list_total(&c).await?, reach);
        c.back().await?;

        // "/" jumps to the search box.
        c.find(Locator::Css("h1")).await?.click().await?;
        c.find(Locator::Css("body")).await?.send_keys("/").await?;
        let focused = c.execute("return document.activeElement.classList.contains('search')", vec![]).await?;
        assert_eq!(focused, serde_json::json!(true));
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn posture_drilldowns_equal_the_numbers_drawn() {
    let server = start_server(3_000).await;
    let base = format!("http://{}", server.addr);
    with_browser(|c| async move {
        // A donut slice: the devices in one antivirus state.
        c.goto(&format!("{base}/endpoint-security")).await?;
        let drawn = click_chart_part(&c, "agent-status", Some("signatures_out_of_date")).await?;
        eventually("the devices list of the slice", || async {
            Ok(url_query(&c).await?.contains("AgentState=signatures_out_of_date").then_some(()))
        })
        .await?;
        assert_eq!(list_total(&c).await?, drawn, "donut slice");
        no_console_errors(&c, "endpoint security").await?;

        // A bar: a collection's targeted devices are its members.
        c.goto(&format!("{base}/endpoint-security")).await?;
        let drawn = click_chart_part(&c, "compliance-chart", None).await?;
        c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("[data-testid=collection-name]")).await?;
        assert_eq!(list_total(&c).await?, drawn, "collection bar");
        no_console_errors(&c, "collection").await?;

        // A timeline bucket: the detections of its time window.
        c.goto(&format!("{base}/threats?range=7d")).await?;
        let drawn = click_chart_part(&c, "threat-timeline", None).await?;
        eventually("the detections of the bucket", || async {
            Ok((c.current_url().await?.path() == "/detections" && url_query(&c).await?.contains("from=")).then_some(()))
        })
        .await?;
        assert_eq!(list_total(&c).await?, drawn, "timeline bucket");
        no_console_errors(&c, "threats").await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn hostile_threat_text_stays_inert() {
    let server = start_server_with(2_000, add_hostile_threat).await;
    let base = format!("http://{}", server.addr);
    with_browser(|c| async move {
        let scripts = "return document.querySelectorAll('#main script, #main svg script').length";
        // The list: the name is text, the URL is not a link.
        c.goto(&format!("{base}/threats?q=Evil")).await?;
        let cell = c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("[data-testid=threats-table] td.name a")).await?;
        assert_eq!(cell.text().await?, HOSTILE_NAME);
        assert_eq!(c.execute(scripts, vec![]).await?, serde_json::json!(0));
        // Its URL column (picked in the column picker) is inert text, not a link.
        c.find(Locator::Css("[data-testid=column-picker] summary")).await?.click().await?;
        c.find(Locator::Css("input[data-column=URL]")).await?.click().await?;
        let url_cell = c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("[data-testid=threats-table] tbody tr td .inert"))
            .await?;
        assert_eq!(url_cell.text().await?, HOSTILE_URL);
        let links = c.execute("return [...document.querySelectorAll('[data-testid=threats-table] a')].map(a => a.getAttribute('href')).filter(h => !h.startsWith('/'))", vec![]).await?;
        assert_eq!(links, serde_json::json!([]), "no link leaves the console from this row");
        c.find(Locator::Css("[data-testid=column-picker] summary")).await?.click().await?;

        // The detail: every field, the URL as inert text (the rows were drawn anew with the column).
        c.find(Locator::Css("[data-testid=threats-table] td.name a")).await?.click().await?;
        let name = c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("[data-testid=threat-name]")).await?;
        assert_eq!(name.text().await?, HOSTILE_NAME);
        let url = c.find(Locator::Css("dd[data-field=URL]")).await?;
        assert_eq!(url.text().await?, HOSTILE_URL);
        assert!(url.find_all(Locator::Css("a")).await?.is_empty(), "a javascript: URL is never a link");
        assert_eq!(c.execute(scripts, vec![]).await?, serde_json::json!(0));
        no_console_errors(&c, "threat detail").await?;

        // The chart on the Overview: escaped in the SVG, plain text in the tooltip.
        c.goto(&format!("{base}/")).await?;
        let part = c
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(&format!("[data-testid=top-threats] a.hit[data-key^='{HOSTILE_ID}|']")))
            .await?;
        let svg = c.execute("return document.querySelector('[data-testid=top-threats] .chart-svg').innerHTML", vec![]).await?;
        let svg = svg.as_str().unwrap_or_default().to_string();
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script"), "the label is escaped in the SVG");
        c.execute(
            "const r = arguments[0].getBoundingClientRect();
             arguments[0].dispatchEvent(new MouseEvent('mousemove', { clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true }));",
            vec![serde_json::to_value(&part)?],
        )
        .await?;
        let tip = c.wait().at_most(Duration::from_secs(5)).for_element(Locator::Css("[data-testid=chart-tooltip]")).await?.text().await?;
        assert!(tip.starts_with(HOSTILE_NAME), "{tip}");
        assert_eq!(c.execute(scripts, vec![]).await?, serde_json::json!(0));
        no_console_errors(&c, "overview").await?;
        Ok(())
    })
    .await;
}

/// A JavaScript expression's value as text.
async fn js(c: &Client, expr: &str) -> Result<String, BoxError> {
    let v = c.execute(&format!("return String({expr});"), vec![]).await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn lists_keep_the_user_oriented() {
    let server = start_server(2_000).await;
    let addr = server.addr;
    let base = format!("http://{addr}");
    with_browser(|c| async move {
        c.goto(&format!("{base}/devices")).await?;
        table_matches_api(&c, addr).await?;
        // The filter bar has its place before its choices arrive: the table does not move.
        let top = || async { js(&c, "Math.round(document.querySelector('.table-wrap').getBoundingClientRect().top)").await };
        let before = top().await?;
        c.wait().for_element(Locator::Css("[data-filter=Manufacturer] .facet-option")).await?;
        assert_eq!(top().await?, before, "the table stays where it was when the filters arrived");
        // Two quick "Next" clicks land on page 3, and the table says it is busy meanwhile.
        c.execute(
            "window.__busy = false; new MutationObserver(() => { if (document.querySelector('.table-wrap[aria-busy=true]')) window.__busy = true; })
               .observe(document.body, { subtree: true, attributes: true, childList: true });
             const next = document.querySelector('[aria-label=\"Next page\"]'); next.click(); next.click();",
            vec![],
        )
        .await?;
        eventually("page 3", || async { Ok(url_query(&c).await?.contains("page=3").then_some(())) }).await?;
        eventually("the range of page 3", || async {
            let Ok(el) = c.find(Locator::Css("[data-testid=range]")).await else { return Ok(None) };
            Ok(el.text().await?.starts_with("101–150").then_some(()))
        })
        .await?;
        assert_eq!(js(&c, "window.__busy").await?, "true", "aria-busy while loading");
        // Sorting by keyboard keeps the focus on the header used.
        let sort = c.find(Locator::Css("button[data-sort=Model]")).await?;
        c.execute("document.querySelector('button[data-sort=Model]').focus()", vec![]).await?;
        sort.send_keys("\u{E007}").await?;
        eventually("sorted by Model", || async { Ok(url_query(&c).await?.contains("sort=Model").then_some(())) }).await?;
        eventually("the focus back on the Model header", || async {
            Ok((js(&c, "document.activeElement.getAttribute('data-sort')").await? == "Model").then_some(()))
        })
        .await?;
        // "Clear all" by keyboard keeps the focus on it.
        c.goto(&format!("{base}/devices?SKU=Enterprise")).await?;
        table_matches_api(&c, addr).await?;
        c.execute("document.querySelector('[data-testid=clear-all]').focus()", vec![]).await?;
        c.find(Locator::Css("[data-testid=clear-all]")).await?.send_keys("\u{E007}").await?;
        eventually("the filters cleared", || async { Ok((!url_query(&c).await?.contains("SKU")).then_some(())) }).await?;
        table_matches_api(&c, addr).await?;
        assert_eq!(js(&c, "document.activeElement.getAttribute('data-testid')").await?, "clear-all");
        // The column picker closes on Escape and gives the focus back to its button.
        c.find(Locator::Css("[data-testid=column-picker] summary")).await?.click().await?;
        c.find(Locator::Css("input[data-column=SKU]")).await?.send_keys("\u{E00C}").await?;
        assert_eq!(js(&c, "document.querySelector('[data-testid=column-picker]').open").await?, "false");
        assert_eq!(js(&c, "document.activeElement.tagName").await?, "SUMMARY");
        // ... and on a click outside it.
        c.find(Locator::Css("[data-testid=column-picker] summary")).await?.click().await?;
        c.find(Locator::Css("h1")).await?.click().await?;
        assert_eq!(js(&c, "document.querySelector('[data-testid=column-picker]').open").await?, "false");
        // The filter choices count under the other filters.
        c.goto(&format!("{base}/devices?DefenderHealth=at_risk")).await?;
        let total = list_total(&c).await?;
        let sum = eventually("manufacturer counts under the filter", || async {
            let texts = c
                .execute("return [...document.querySelectorAll('[data-filter=Manufacturer] .facet-option')].map(o => o.textContent)", vec![])
                .await?;
            let sum: u64 = texts
                .as_array()
                .map(|a| a.iter().filter_map(|t| t.as_str()?.rsplit(" · ").next()?.replace(',', "").parse::<u64>().ok()).sum())
                .unwrap_or(0);
            Ok((sum == total).then_some(sum))
        })
        .await?;
        assert_eq!(sum, total);
        // Several values of one filter: any of them.
        pick(&c, "DefenderHealth", "unhealthy").await?;
        eventually("both verdicts in the URL", || async {
            let q = url_query(&c).await?;
            Ok((q.contains("DefenderHealth=at_risk") && q.contains("DefenderHealth=unhealthy")).then_some(()))
        })
        .await?;
        let either: tenantscope_model::api::Page<tenantscope_model::api::DeviceRow> =
            serde_json::from_str(&http_get(addr, "/api/v1/devices?DefenderHealth=at_risk&DefenderHealth=unhealthy&page_size=1").await)?;
        eventually("the total of both", || async { Ok((list_total(&c).await? == either.total).then_some(())) }).await?;
        assert!(c.find(Locator::Css("[data-filter=DefenderHealth] .facet-value")).await?.text().await?.contains("At risk, Unhealthy"));
        // The picker stayed open through the refresh of its counts.
        assert_eq!(js(&c, "document.querySelector('[data-filter=DefenderHealth]').open").await?, "true");
        // Long lists are searchable, and the chosen name shows in full.
        c.find(Locator::Css("[data-filter=CollectionId] summary")).await?.click().await?;
        eventually("the collection search", || async {
            let f = c.find(Locator::Css("[data-filter=CollectionId] .facet-search")).await?;
            Ok(f.send_keys("quarantine").await.ok())
        })
        .await?;
        let visible = js(&c, "[...document.querySelectorAll('[data-filter=CollectionId] .facet-option')].filter(o => o.style.display !== 'none').length").await?;
        assert_eq!(visible, "1", "one collection matches");
        c.execute("[...document.querySelectorAll('[data-filter=CollectionId] .facet-option')].find(o => o.style.display !== 'none').querySelector('input').click()", vec![]).await?;
        eventually("the chosen collection's full name", || async {
            let shown = c.find(Locator::Css("[data-filter=CollectionId] .facet-value")).await?.attr("title").await?.unwrap_or_default();
            Ok(shown.starts_with("Quarantine - unhealthy devices (").then_some(()))
        })
        .await?;
        assert_eq!(c.title().await?, "Devices · Tenantscope");
        no_console_errors(&c, "devices").await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn device_with_an_active_threat_explains_its_verdict() {
    let server = start_server(2_000).await;
    let addr = server.addr;
    let base = format!("http://{addr}");
    with_browser(|c| async move {
        let page: tenantscope_model::api::Page<tenantscope_model::api::DeviceRow> =
            serde_json::from_str(&http_get(addr, "/api/v1/devices?HasActiveThreats=true&page_size=50").await)?;
        let row = page.items.first().ok_or("a device with an active threat")?;
        assert!(row.active_threats > 0);
        assert_ne!(row.defender_health, tenantscope_model::HealthVerdict::Healthy);
        c.goto(&format!("{base}/devices?HasActiveThreats=true")).await?;
        table_matches_api(&c, addr).await?;
        // Opened from the list (inside the console, so the list's view is remembered).
        c.find(Locator::Css(&format!("[data-testid=devices-table] a[href='/devices/{}']", row.device.aad_device_id))).await?.click().await?;
        let findings = eventually("the findings", || async {
            let Ok(el) = c.find(Locator::Css("[data-testid=findings]")).await else { return Ok(None) };
            let t = el.text().await?;
            Ok(t.contains("Active threat:").then_some(t))
        })
        .await?;
        assert!(findings.contains(row.defender_health.label()), "{findings}");
        assert_eq!(c.title().await?, format!("{} · Devices · Tenantscope", row.device.name));
        let crumb = c.find(Locator::Css(".breadcrumb li:last-child")).await?.text().await?;
        assert_eq!(crumb, row.device.name);
        // The breadcrumb's Devices goes back to the list as it was.
        let back = c.find(Locator::Css(".breadcrumb a[href^='/devices']")).await?.attr("href").await?.unwrap_or_default();
        assert_eq!(back, "/devices?HasActiveThreats=true");
        // Flags are decoded: no raw "value N" chip.
        let health = c.find(Locator::Css("[data-testid=health]")).await?.text().await?;
        assert!(!health.contains("value "), "{health}");
        no_console_errors(&c, "device").await?;
        Ok(())
    })
    .await;
}

/// axe-core (installed by scripts/tools.sh; its path in TENANTSCOPE_AXE).
fn axe_source() -> String {
    let path = std::env::var("TENANTSCOPE_AXE").unwrap_or_else(|_| {
        format!("{}/.cache/tenantscope-tools/npm/node_modules/axe-core/axe.min.js", std::env::var("HOME").unwrap_or_default())
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("axe-core not found at {path} ({e}): run scripts/tools.sh"))
}

/// Serious and critical WCAG 2.1 A/AA violations of the page on screen, as "rule: targets" lines.
async fn accessibility_violations(c: &Client, axe: &str) -> Result<Vec<String>, BoxError> {
    c.execute(axe, vec![]).await?;
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {
                 runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
                 rules: { 'label-content-name-mismatch': { enabled: true } },
               })
               .then(r => done(r.passes.length === 0 ? ['axe checked nothing'] : r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await?;
    Ok(found.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn every_page_passes_the_accessibility_check() {
    let server = start_server(1_000).await;
    let addr = server.addr;
    let base = format!("http://{addr}");
    let axe = axe_source();
    with_browser(|c| async move {
        let device: tenantscope_model::api::Page<tenantscope_model::api::DeviceRow> =
            serde_json::from_str(&http_get(addr, "/api/v1/devices?HasActiveThreats=true&page_size=1").await)?;
        let threat: tenantscope_model::api::Page<tenantscope_model::api::ThreatRow> =
            serde_json::from_str(&http_get(addr, "/api/v1/threats?page_size=1").await)?;
        let routes = [
            "/".to_string(),
            "/devices".to_string(),
            format!("/devices/{}", device.items[0].device.aad_device_id),
            "/applications".to_string(),
            "/endpoint-security".to_string(),
            "/collections/SMS00001".to_string(),
            "/threats".to_string(),
            format!("/threats/{}", threat.items[0].threat_id),
            "/detections".to_string(),
            "/connector".to_string(),
            "/data-privacy".to_string(),
            "/no-such-page".to_string(),
        ];
        let mut report = Vec::new();
        for route in &routes {
            c.goto(&format!("{base}{route}")).await?;
            eventually(&format!("{route} to load"), || async {
                let loading = c.execute("return document.querySelectorAll('.loading').length", vec![]).await?;
                let main = c.find(Locator::Css("main h1")).await.is_ok();
                Ok((loading == serde_json::json!(0) && main).then_some(()))
            })
            .await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            for v in accessibility_violations(&c, &axe).await? {
                report.push(format!("{route}: {v}"));
            }
        }
        assert!(report.is_empty(), "accessibility violations:\n{}", report.join("\n"));
        Ok(())
    })
    .await;
}

/// How far the page body is wider than the window (0: no sideways scroll of the page).
async fn body_overflow(c: &Client) -> Result<i64, BoxError> {
    let v = c.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![]).await?;
    Ok(v.as_i64().unwrap_or(-1))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn layouts_fit_laptop_and_narrow_windows_and_back_returns_to_the_row() {
    let server = start_server(2_000).await;
    let addr = server.addr;
    let base = format!("http://{addr}");
    with_browser(|c| async move {
        let device: tenantscope_model::api::Page<tenantscope_model::api::DeviceRow> =
            serde_json::from_str(&http_get(addr, "/api/v1/devices?HasActiveThreats=true&page_size=1").await)?;
        let pages = ["/".to_string(), "/devices".to_string(), format!("/devices/{}", device.items[0].device.aad_device_id), "/applications".to_string()];
        for (w, h) in [(1366u32, 768u32), (800, 900)] {
            c.set_window_size(w, h).await?;
            for p in &pages {
                c.goto(&format!("{base}{p}")).await?;
                c.wait().for_element(Locator::Css("main h1")).await?;
                eventually(&format!("{p} loaded"), || async {
                    let n = c.execute("return document.querySelectorAll('.loading').length", vec![]).await?;
                    Ok((n == serde_json::json!(0)).then_some(()))
                })
                .await?;
                assert_eq!(body_overflow(&c).await?, 0, "{p} at {w}px scrolls sideways");
            }
        }
        // At 800 px the filters fold behind a button.
        c.goto(&format!("{base}/devices?DefenderHealth=at_risk")).await?;
        let toggle = c.wait().for_element(Locator::Css(".filters-toggle")).await?;
        assert_eq!(toggle.text().await?, "Filters (1)");
        assert!(!c.find(Locator::Css(".filters")).await?.is_displayed().await?);
        toggle.click().await?;
        assert!(c.find(Locator::Css(".filters")).await?.is_displayed().await?);

        // Back from a device: the list is where it was and its row has the focus.
        c.set_window_size(1366, 768).await?;
        c.goto(&format!("{base}/devices?page_size=100")).await?;
        table_matches_api(&c, addr).await?;
        c.execute("const w = document.querySelector('.table-wrap'); w.scrollTop = 1500; window.scrollTo(0, 200);", vec![]).await?;
        let link = c.find(Locator::Css("[data-testid=devices-table] tbody tr:nth-child(40) td.name a")).await?;
        let href = link.attr("href").await?.unwrap_or_default();
        c.execute("document.querySelector('[data-testid=devices-table] tbody tr:nth-child(40) td.name a').click()", vec![]).await?;
        c.wait().for_element(Locator::Css("[data-testid=device-name]")).await?;
        c.back().await?;
        eventually("the opened row focused again", || async {
            Ok((js(&c, "document.activeElement.getAttribute('href')").await? == href).then_some(()))
        })
        .await?;
        let top: i64 = js(&c, "document.querySelector('.table-wrap').scrollTop").await?.parse()?;
        assert!((top - 1500).abs() <= 2, "the table is scrolled back: {top}");
        no_console_errors(&c, "layouts").await?;
        Ok(())
    })
    .await;
}

/// Opens a filter's picker and toggles one of its values.
async fn pick(c: &Client, field: &str, value: &str) -> Result<(), BoxError> {
    let option = format!("[data-filter={field}] input[value='{value}']");
    c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(&option)).await?;
    let open = js(c, &format!("document.querySelector('[data-filter={field}]').open")).await? == "true";
    if !open {
        c.find(Locator::Css(&format!("[data-filter={field}] summary"))).await?.click().await?;
    }
    c.find(Locator::Css(&option)).await?.click().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn overview_numbers_open_lists_of_their_size() {
    let server = start_server(2_000).await;
    let base = format!("http://{}", server.addr);
    with_browser(|c| async move {
        for key in ["signatures_out_of_date", "scans_overdue", "reboot_required", "at_risk", "unhealthy", "devices_with_active_threats", "active_threats"] {
            c.goto(&format!("{base}/")).await?;
            let number: u64 = kpi(&c, key).await?.replace(',', "").parse()?;
            c.execute(&format!("document.querySelector('[data-kpi={key}]').closest('a').click()"), vec![]).await?;
            eventually(&format!("{key} opens its list"), || async { Ok((c.current_url().await?.path() != "/").then_some(())) }).await?;
            assert_eq!(list_total(&c).await?, number, "{key}");
        }
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn while_the_server_prepares_its_data_the_console_says_how_far() {
    use std::sync::{Arc, OnceLock};
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist");
    let startup = Arc::new(tenantscope_server::Startup::default());
    startup.set("generating the demo tenant", 45);
    let ready = Arc::new(OnceLock::new());
    let preparing = tenantscope_server::app_preparing(Arc::clone(&startup), Some(&dist), &Default::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum_serve(listener, tenantscope_server::app_switching(preparing, Arc::clone(&ready))));
    let dir = tempfile::tempdir().unwrap();
    with_browser(|c| async move {
        c.goto(&format!("{base}/")).await?;
        let line = c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("[data-testid=preparing]:not([hidden])")).await?;
        assert_eq!(line.text().await?, "Preparing data — 45 % (generating the demo tenant)");
        startup.set("building the devices index", 90);
        eventually("the progress to move", || async {
            Ok((line.text().await? == "Preparing data — 90 % (building the devices index)").then_some(()))
        })
        .await?;
        // Ready: the same page loads its data by itself and the line goes.
        let store = Store::open(dir.path()).unwrap();
        seed(&store, &DemoOptions { devices: 300, seed: 7, anchor: 1_795_536_000, progress: false }).unwrap();
        ready.set(tenantscope_server::app(store, Some(&dist))).ok().unwrap();
        assert_eq!(kpi(&c, "total_devices").await?, count(300));
        assert!(c.find(Locator::Css("[data-testid=preparing][hidden]")).await.is_ok());
        no_console_errors(&c, "overview after preparing").await?;
        Ok(())
    })
    .await;
}

/// POSTs a JSON body with a bearer token; the status code.
async fn http_post(addr: SocketAddr, path: &str, token: &str, body: &str) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn device_json(id: &str, name: &str) -> String {
    format!(
        r#"[{{"SMSID":"GUID:1","AADTenantID":"t","AADDeviceID":"{id}","Name":"{name}","DeviceOS":"Microsoft Windows NT Workstation 10.0","DeviceOSBuild":"10.0.26100","AADPrimaryUserID":null,"Model":"Latitude 7440","Manufacturer":"Dell Inc.","SerialNumber":"LIVE1","DomainNames":"corp.contoso.com","SKU":"Enterprise"}}]"#
    )
}

/// Serves `store` with its own live hub on `listener` until `stop` fires (then open event streams
/// end and connections close, as when the real server shuts down).
/// The built console and the API on a loopback port where reading takes a session (as behind
/// `--require-sign-in`); its base URL.
async fn serve_closed(store: &std::sync::Arc<Store>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist");
    let options = tenantscope_server::web::WebOptions { require_sign_in: true, ..Default::default() };
    let app = tenantscope_server::app_live(std::sync::Arc::clone(store), tenantscope_server::live::Live::new(), Some(&dist), &options);
    tokio::spawn(async move { axum_serve(listener, app).await });
    format!("http://{addr}")
}

fn serve_live(store: std::sync::Arc<Store>, listener: tokio::net::TcpListener, stop: tokio::sync::oneshot::Receiver<()>) -> tokio::task::JoinHandle<()> {
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist");
    let live = tenantscope_server::live::Live::new();
    let app = tenantscope_server::app_live(store, std::sync::Arc::clone(&live), Some(&dist), &Default::default());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.await;
                live.shutdown();
            })
            .await;
    })
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn uploads_show_up_on_open_pages_and_the_header_follows_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let devices = e2e_devices(2_000);
    seed(&store, &DemoOptions { devices, seed: 7, anchor: now / 60 * 60, progress: false }).unwrap();
    store.device_index().unwrap();
    let token = store
        .with(|c| tenantscope_server::store::tokens::create(c, tenantscope_server::store::tokens::Role::Uploader, "e2e", now))
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let server = serve_live(std::sync::Arc::clone(&store), listener, stopped);
    let base = format!("http://{addr}");
    let existing: String = store.with(|c| Ok(c.query_row("SELECT DeviceId FROM defender_health LIMIT 1", [], |r| r.get(0))?)).unwrap();
    with_browser(|c| async move {
        let live_text = |c: Client| async move { Ok::<_, BoxError>(text_now(&c, "[data-testid=live]").await?.unwrap_or_default()) };
        // An open Devices page searching for a device that does not exist yet.
        c.goto(&format!("{base}/devices?q=LIVE-E2E")).await?;
        assert_eq!(list_total(&c).await.unwrap_or(0), 0);
        eventually("the header to say live", || async { Ok(live_text(c.clone()).await?.starts_with("Live").then_some(())) }).await?;
        let sent = std::time::Instant::now();
        assert_eq!(http_post(addr, "/api/v1/upload/devices", &token, &device_json("live-e2e-1", "LIVE-E2E-1")).await, 200);
        eventually("the uploaded device on the open Devices page", || async { Ok((list_total(&c).await? == 1).then_some(())) }).await?;
        println!("upload accepted -> visible on an open Devices page ({devices} devices): {} ms", sent.elapsed().as_millis());
        assert!(live_text(c.clone()).await?.starts_with("Live · last change"), "the time of the last change");

        // The Overview counts it without a reload.
        c.goto(&format!("{base}/")).await?;
        let before: u64 = kpi(&c, "total_devices").await?.replace(',', "").parse()?;
        eventually("the header to say live", || async { Ok(live_text(c.clone()).await?.starts_with("Live").then_some(())) }).await?;
        let sent = std::time::Instant::now();
        assert_eq!(http_post(addr, "/api/v1/upload/devices", &token, &device_json("live-e2e-2", "LIVE-E2E-2")).await, 200);
        eventually("the Overview's device count to move", || async {
            Ok((kpi(&c, "total_devices").await?.replace(',', "").parse::<u64>()? == before + 1).then_some(()))
        })
        .await?;
        println!("upload accepted -> visible on an open Overview: {} ms", sent.elapsed().as_millis());

        // An open device page shows its new health.
        c.goto(&format!("{base}/devices/{existing}")).await?;
        c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("[data-testid=health]")).await?;
        let health = format!(
            r#"[{{"DeviceId":"{existing}","ProductStatus":524288,"ComputerState":0,"DefenderEnabled":true,"RtpEnabled":true,"NisEnabled":true,"QuickScanOverdue":false,"FullScanOverdue":false,"SignatureOutOfDate":false,"RebootRequired":false,"FullScanRequired":false,"TamperProtectionEnabled":true,"IsMdeSenseRunning":true,"IsVirtualMachine":false,"MdeOnboardingState":1,"EngineVersion":"1.1.24090.11","SignatureVersion":"1.421.777.0","DefenderVersion":"4.18.24090.11","QuickScanTime":null,"FullScanTime":null,"QuickScanSigVersion":null,"FullScanSigVersion":null,"LastUpdateTime":null}}]"#
        );
        assert_eq!(http_post(addr, "/api/v1/upload/defender", &token, &health).await, 200);
        eventually("the device page to show the uploaded signature version", || async {
            let Ok(el) = c.find(Locator::Css("[data-testid=health]")).await else { return Ok(None) };
            Ok(el.text().await?.contains("1.421.777.0").then_some(()))
        })
        .await?;

        // The server goes away: the header says so; it comes back: live again, and what changed
        // meanwhile is shown.
        let _ = stop.send(());
        let _ = server.await;
        eventually("the header to say reconnecting", || async { Ok((live_text(c.clone()).await? == "Reconnecting…").then_some(())) }).await?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let _server = serve_live(std::sync::Arc::clone(&store), listener, stopped);
        eventually("the header to say live again", || async { Ok(live_text(c.clone()).await?.starts_with("Live").then_some(())) }).await?;
        no_console_errors(&c, "live updates").await?;
        Ok(())
    })
    .await;
}

/// Every masked value the store holds (names, serials, Entra ids, users, domains, the tenant).
fn identified_values(store: &Store) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for sql in [
        "SELECT Name FROM devices",
        "SELECT SerialNumber FROM devices",
        "SELECT AADDeviceID FROM devices",
        "SELECT AADPrimaryUserID FROM devices WHERE AADPrimaryUserID IS NOT NULL",
        "SELECT DISTINCT DomainNames FROM devices",
        "SELECT DISTINCT AADTenantID FROM devices",
        "SELECT value FROM meta WHERE key IN ('tenant_name', 'tenant_id')",
    ] {
        let found: Vec<String> =
            store.with(|c| Ok(c.prepare(sql)?.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?)).unwrap();
        values.extend(found.into_iter().filter(|v| !v.is_empty()));
    }
    values
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn sign_in_privacy_mode_and_themes_in_the_browser() {
    use tenantscope_server::store::tokens::{self, Role};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    seed(&store, &DemoOptions { devices: 300, seed: 7, anchor: now / 60 * 60, progress: false }).unwrap();
    let viewer = store.with(|c| tokens::create(c, Role::Viewer, "e2e", now)).unwrap();
    let identified = identified_values(&store);
    assert!(identified.len() > 900);
    let base = serve_closed(&store).await;
    with_browser(|c| async move {
        // Not signed in: the console sends the browser to the sign-in page, which says why.
        c.goto(&format!("{base}/devices")).await?;
        let reason = eventually("the sign-in page", || async {
            Ok(text_now(&c, "[data-testid=sign-in-reason]").await?)
        })
        .await?;
        assert!(reason.contains("sign in"), "{reason}");
        c.find(Locator::Css("[data-testid=sign-in-token]")).await?.send_keys("ts_wrong").await?;
        c.find(Locator::Css("[data-testid=sign-in-submit]")).await?.click().await?;
        let reason = eventually("the refusal", || async {
            Ok(text_now(&c, "[data-testid=sign-in-reason]").await?.filter(|r| r.contains("not known")))
        })
        .await?;
        assert!(reason.contains("not known"));
        c.find(Locator::Css("[data-testid=sign-in-token]")).await?.send_keys(&viewer).await?;
        c.find(Locator::Css("[data-testid=sign-in-submit]")).await?.click().await?;
        // Signed in: back on the page asked for, with the role and a way out in the header.
        let total = eventually("the devices list", || async { Ok(list_total(&c).await.ok().filter(|t| *t > 0)) }).await?;
        assert_eq!(total, 300);
        assert_eq!(js(&c, "location.pathname").await?, "/devices");
        assert!(eventually("the role", || async { text_now(&c, "[data-testid=who]").await }).await?.eq_ignore_ascii_case("viewer"));
        assert!(js(&c, "document.cookie").await?.is_empty(), "the session cookie is HttpOnly");
        // Privacy mode: no masked value of the store anywhere in the DOM or the title, on any page
        // (without it the list shows them: the check can fail).
        let dom = js(&c, "document.documentElement.outerHTML").await?;
        assert!(identified.iter().filter(|v| dom.contains(v.as_str())).count() > 20);
        c.find(Locator::Css("[data-testid=privacy]")).await?.click().await?;
        eventually("aliases in the list", || async {
            Ok(table_names(&c).await.ok().filter(|n| !n.is_empty() && n.iter().all(|n| n.starts_with("Device "))))
        })
        .await?;
        let device = js(&c, "document.querySelector('table.grid tbody a').getAttribute('href')").await?;
        assert!(device.starts_with("/devices/device-"), "{device}");
        let collection: String = store.with(|c| Ok(c.query_row("SELECT CollectionId FROM collections LIMIT 1", [], |r| r.get(0))?)).unwrap();
        let threat: i64 = store.with(|c| Ok(c.query_row("SELECT ThreatID FROM threats LIMIT 1", [], |r| r.get(0))?)).unwrap();
        for page in ["/".to_string(), "/devices".into(), device.clone(), "/applications".into(), "/endpoint-security".into(),
                     format!("/collections/{collection}"), "/threats".into(), format!("/threats/{threat}"), "/detections".into(), "/connector".into()] {
            c.goto(&format!("{base}{page}")).await?;
            // Loaded: the page's heading and no loading indicator left.
            eventually(&format!("{page} loaded"), || async {
                let done = js(&c, "!!document.querySelector('main h1') && !document.querySelector('.loading') && !!document.querySelector('[data-testid=tenant] .tenant-name')").await?;
                Ok((done == "true").then_some(()))
            })
            .await?;
            let dom = js(&c, "document.title + '\\n' + document.documentElement.outerHTML").await?;
            let leaked: Vec<&String> = identified.iter().filter(|v| dom.contains(v.as_str())).collect();
            assert!(leaked.is_empty(), "{page} shows {leaked:?}");
            no_console_errors(&c, &page).await?;
        }
        assert!(js(&c, "document.querySelector('[data-testid=tenant]').textContent").await?.contains("Tenant 0"));
        // Themes: the switch repaints the page and the charts in the chosen palette.
        c.goto(&format!("{base}/")).await?;
        eventually("a chart", || async { Ok((js(&c, "!!document.querySelector('svg rect')").await? == "true").then_some(())) }).await?;
        let fills = "Array.from(document.querySelectorAll('svg [fill]')).map(e => e.getAttribute('fill').toLowerCase()).join(' ')";
        assert!(js(&c, fills).await?.contains("#107c41"), "light charts");
        c.find(Locator::Css("[data-testid=theme-setting]")).await?.select_by_value("dark").await?;
        eventually("dark charts", || async { Ok(js(&c, fills).await?.contains("#3fb950").then_some(())) }).await?;
        assert_eq!(js(&c, "document.documentElement.dataset.theme").await?, "dark");
        assert_eq!(js(&c, "getComputedStyle(document.body).getPropertyValue('--tone-surface').trim()").await?, "#161b22");
        assert_eq!(js(&c, "localStorage.getItem('tenantscope.theme')").await?, "dark");
        // The address wins over the saved choice (a kiosk's theme=).
        c.goto(&format!("{base}/?theme=contrast")).await?;
        eventually("high contrast", || async { Ok((js(&c, "document.documentElement.dataset.theme").await? == "contrast").then_some(())) }).await?;
        // Sign out: the sign-in page says so, and the console asks to sign in again.
        c.find(Locator::Css("[data-testid=sign-out]")).await?.click().await?;
        let reason = eventually("signed out", || async { text_now(&c, "[data-testid=sign-in-reason]").await }).await?;
        assert_eq!(reason, "signed out");
        c.goto(&format!("{base}/devices")).await?;
        eventually("sent to sign in", || async { Ok(text_now(&c, "[data-testid=sign-in-reason]").await?.filter(|r| r.contains("sign in"))) }).await?;
        Ok(())
    })
    .await;
}

/// The kiosk's memory after `minutes` of rotating (TENANTSCOPE_KIOSK_MINUTES, default 2; the note's
/// figure is from a 30-minute run): JS heap and DOM nodes at the start and the end.
fn kiosk_minutes() -> u64 {
    std::env::var("TENANTSCOPE_KIOSK_MINUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(2)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn the_kiosk_rotates_fits_every_screen_goes_stale_and_heals_itself() {
    use tenantscope_server::store::tokens::{self, Role};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    // The last upload 5 minutes ago: fresh for the default 30 minutes, stale for `stale=1`.
    seed(&store, &DemoOptions { devices: 400, seed: 7, anchor: (now - 300) / 60 * 60, progress: false }).unwrap();
    let kiosk = store.with(|c| tokens::create(c, Role::Kiosk, "wall", now)).unwrap();
    let identified = identified_values(&store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let server = serve_live(std::sync::Arc::clone(&store), listener, stopped);
    let base = format!("http://{addr}");
    with_browser(|c| async move {
        let title = |c: Client| async move { text_now(&c, "[data-testid=kiosk-panel]").await };
        // Every panel fits 1366×768, 1920×1080 and 3840×2160 without scrolling.
        c.goto(&format!("{base}/kiosk?token={kiosk}&panels=kpis")).await?;
        assert_eq!(js(&c, "location.search").await?, "?panels=kpis", "the token leaves the address");
        for (w, h) in [(1366u32, 768u32), (1920, 1080), (3840, 2160)] {
            c.set_window_size(w, h).await?;
            for panel in ["kpis", "compliance", "timeline", "threats", "agents"] {
                c.goto(&format!("{base}/kiosk?panels={panel}&theme=dark")).await?;
                eventually(&format!("{panel} drawn at {w}x{h}"), || async {
                    let done = js(&c, "!!document.querySelector('.kiosk-panel .panel, .kiosk-panel .kpi-grid') && !document.querySelector('.kiosk .loading')").await?;
                    Ok((done == "true").then_some(()))
                })
                .await?;
                let fits = js(&c, "(() => { const p = document.querySelector('.kiosk-panel'); const d = document.documentElement; \
                    const ok = p.scrollHeight <= p.clientHeight + 1 && d.scrollHeight <= innerHeight + 1 && d.scrollWidth <= innerWidth + 1; \
                    return ok ? 'true' : [p.scrollHeight, p.clientHeight, d.scrollHeight, d.scrollWidth, innerWidth, innerHeight].join(' '); })()").await?;
                assert_eq!(fits, "true", "{panel} does not fit {w}x{h} (panel scroll/client height, page height/width, window)");
                let dom = js(&c, "document.title + document.documentElement.outerHTML").await?;
                let leaked: Vec<&String> = identified.iter().filter(|v| dom.contains(v.as_str())).collect();
                assert!(leaked.is_empty(), "the kiosk shows {leaked:?}");
            }
        }
        c.set_window_size(1920, 1080).await?;
        // Rotation, the time of the data, and no control to click.
        c.goto(&format!("{base}/kiosk?panels=kpis,threats&rotate=5")).await?;
        assert_eq!(eventually("the first panel", || async { title(c.clone()).await }).await?, "Security posture");
        eventually("the next panel", || async { Ok(title(c.clone()).await?.filter(|t| t == "Top active threats")) }).await?;
        let updated = eventually("updated", || async { Ok(text_now(&c, "[data-testid=kiosk-updated]").await?.filter(|t| t.len() == "Updated 00:00:00".len())) }).await?;
        assert!(updated.starts_with("Updated "), "{updated}");
        assert_eq!(js(&c, "Array.from(document.querySelectorAll('.kiosk button, .kiosk input, .kiosk select, nav')).filter(e => e.offsetParent).length").await?, "0");
        assert_eq!(js(&c, "document.querySelector('[data-testid=stale]') === null").await?, "true");
        // Data older than `stale` minutes: STALE, with how old.
        c.goto(&format!("{base}/kiosk?panels=kpis&stale=1")).await?;
        let stale = eventually("stale data", || async { text_now(&c, "[data-testid=stale]").await }).await?;
        assert!(stale.contains("No upload for") && stale.contains("min old"), "{stale}");
        // The server goes away: STALE; it comes back: the overlay clears by itself, no reload.
        c.goto(&format!("{base}/kiosk?panels=kpis,threats&rotate=5")).await?;
        eventually("the stream", || async { Ok((js(&c, "!!document.querySelector('.kiosk-tenant') && document.querySelector('.kiosk-tenant').textContent.startsWith('Tenant ')").await? == "true").then_some(())) }).await?;
        tokio::time::sleep(Duration::from_secs(11)).await; // the events stream opens 10 s after the page
        js(&c, "window.__marker = 42").await?;
        let _ = stop.send(());
        let _ = server.await;
        let down = eventually("STALE while the server is down", || async { text_now(&c, "[data-testid=stale]").await }).await?;
        assert!(down.contains("Server unreachable"), "{down}");
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let _server = serve_live(std::sync::Arc::clone(&store), listener, stopped);
        for _ in 0..60 {
            if js(&c, "document.querySelector('[data-testid=stale]') === null").await? == "true" {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        assert_eq!(js(&c, "document.querySelector('[data-testid=stale]') === null").await?, "true", "STALE cleared by itself");
        assert_eq!(js(&c, "window.__marker").await?, "42", "without a reload");
        // Memory while it rotates: JS heap and DOM nodes at the start and the end.
        let probe = "(() => { if (window.gc) gc(); return (performance.memory ? performance.memory.usedJSHeapSize : 0) + ' ' + document.getElementsByTagName('*').length; })()";
        let start = js(&c, probe).await?;
        let minutes = kiosk_minutes();
        tokio::time::sleep(Duration::from_secs(minutes * 60)).await;
        let end = js(&c, probe).await?;
        let parse = |s: &str| -> (f64, f64) {
            let mut it = s.split_whitespace().map(|x| x.parse::<f64>().unwrap_or(0.0));
            (it.next().unwrap_or(0.0), it.next().unwrap_or(0.0))
        };
        let ((h0, n0), (h1, n1)) = (parse(&start), parse(&end));
        println!("kiosk memory over {minutes} min: JS heap {:.1} -> {:.1} MB, DOM nodes {n0} -> {n1}", h0 / 1e6, h1 / 1e6);
        assert!(h0 > 0.0 && n0 > 50.0, "no memory reading: {start}");
        assert!(h1 <= h0 * 1.10, "JS heap grew: {start} -> {end}");
        assert!(n1 <= n0 * 1.10 + 20.0, "DOM grew: {start} -> {end}");
        no_console_errors(&c, "kiosk").await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built console and chromedriver; run by scripts/test.sh"]
async fn an_admin_imports_exports_on_the_import_page_and_the_console_shows_them() {
    use tenantscope_server::store::tokens::{self, Role};
    // A fresh store (no demo tenant): everything the console shows comes from the files.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let admin = store.with(|c| tokens::create(c, Role::Admin, "e2e", now)).unwrap();
    let base = serve_closed(&store).await;
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/server/tests/fixtures/import");
    with_browser(|c| async move {
        c.goto(&format!("{base}/sign-in?next=%2Fimport")).await?;
        c.find(Locator::Css("[data-testid=sign-in-token]")).await?.send_keys(&admin).await?;
        c.find(Locator::Css("[data-testid=sign-in-submit]")).await?.click().await?;
        eventually("the import page", || async { Ok(text_now(&c, "[data-testid=import-drop]").await?) }).await?;
        // Two Graph pages, then the agents export (ZIP), then a file that is not an export.
        let files = [
            fixtures.join("graph-managedDevices/page-1.json"),
            fixtures.join("graph-managedDevices/page-2.json"),
            fixtures.join("DefenderAgents.zip"),
            fixtures.join("bad/formula.csv"),
        ];
        let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        c.find(Locator::Css("#import-tenant")).await?.send_keys("7c3f0a52-1b2d-4e8f-9a61-0d5e2b7c4f10").await?;
        c.find(Locator::Css("[data-testid=import-files]")).await?.send_keys(&paths.join("\n")).await?;
        let outcomes = eventually("four imports", || async {
            let v = js(&c, "JSON.stringify([...document.querySelectorAll('[data-testid=import-file]')].map(e => e.dataset.outcome || ''))").await?;
            Ok((v.matches("done").count() + v.matches("refused").count() == 4).then_some(v))
        })
        .await?;
        assert_eq!(outcomes, r#"["done","done","done","refused"]"#);
        let text = js(&c, "document.querySelector('[data-testid=import-results]').innerText").await?;
        assert!(text.contains("Graph managedDevices: 12 rows") && text.contains("Created"), "{text}");
        assert!(text.contains("no device with this name in the store"), "{text}");
        assert!(text.contains("line 2, column ProductStatus") && text.contains("formula"), "{text}");
        if let Some(dir) = std::env::var_os("TENANTSCOPE_SCREENSHOTS") {
            std::fs::write(PathBuf::from(dir).join("import.png"), c.screenshot().await?)?;
        }
        // The console shows what was imported, live and after a reload.
        c.goto(&format!("{base}/devices")).await?;
        let total = eventually("the devices list", || async { Ok(list_total(&c).await.ok().filter(|t| *t > 0)) }).await?;
        assert_eq!(total, 20);
        no_console_errors(&c, "/devices").await?;
        // The tenant typed on the import page is the devices' and the header's.
        let tenants: String = store
            .with(|c| Ok(c.query_row("SELECT group_concat(DISTINCT AADTenantID) FROM devices", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(tenants, "7c3f0a52-1b2d-4e8f-9a61-0d5e2b7c4f10");
        // And the import page itself is in the console's navigation.
        assert_eq!(js(&c, "document.querySelector('a.nav-link[href=\"/import\"]').getAttribute('rel')").await?, "external");
        Ok(())
    })
    .await;
}
