//! The real router over a real SQLite file in a temporary directory, seeded with a small demo tenant.

mod backend;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use tenantscope_model::api::*;
use tenantscope_model::*;
use tenantscope_server::seed::{seed, DemoOptions};
use tenantscope_server::store::Store;
use tower::ServiceExt;

const DEVICES_N: u64 = 3_000;
const ANCHOR: i64 = 1_795_536_000; // 2026-11-24T...Z, fixed so the tenant is the same every run

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = backend::store(dir.path());
        seed(&store, &DemoOptions { devices: DEVICES_N, seed: 42, anchor: ANCHOR, progress: false }).unwrap();
        Fixture { _dir: dir, store }
    })
}

async fn get(uri: &str) -> (StatusCode, String, Vec<u8>) {
    let app = tenantscope_server::app(fixture().store.clone(), None);
    let res = app.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let ctype = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, ctype, body)
}

async fn json(uri: &str) -> Value {
    let (status, ctype, body) = get(uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {}", String::from_utf8_lossy(&body));
    assert!(ctype.starts_with("application/json"), "{uri}: {ctype}");
    serde_json::from_slice(&body).unwrap()
}

/// The answer read by serde and by the console's reader (`json::FromJson`): both must agree, so every
/// typed read in these tests also proves the console reads the real answer.
async fn typed<T: serde::de::DeserializeOwned + tenantscope_model::json::FromJson + PartialEq + std::fmt::Debug>(uri: &str) -> T {
    let value = json(uri).await;
    let console = T::from_json(&value).unwrap_or_else(|e| panic!("{uri}: the console cannot read the answer: {e}"));
    let serde: T = serde_json::from_value(value).unwrap();
    assert_eq!(console, serde, "{uri}");
    serde
}

async fn bad_request(uri: &str, param: &str) {
    let (status, _, body) = get(uri).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
    let err: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(err.error, "bad_request");
    assert!(err.detail.contains(&format!("`{param}`")), "{uri}: {}", err.detail);
}

/// Counts straight from the tables, with the verdict recomputed by the model's rule from the raw
/// health records and active threats (not read from the stored DefenderHealth column).
fn independent_counts() -> HashMap<&'static str, u64> {
    fixture()
        .store
        .with(|conn| {
            let mut health: HashMap<String, (bool, bool, bool, bool)> = HashMap::new();
            let mut records: HashMap<String, DefenderHealth> = HashMap::new();
            let mut stmt = conn.prepare(
                "SELECT DeviceId, ProductStatus, ComputerState, DefenderEnabled, RtpEnabled, QuickScanOverdue, FullScanOverdue, \
                 SignatureOutOfDate, RebootRequired, FullScanRequired, TamperProtectionEnabled, MdeOnboardingState FROM defender_health",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                let h = DefenderHealth {
                    device_id: id.clone(),
                    product_status: ProductStatus(r.get::<_, i64>(1)? as u64),
                    computer_state: ComputerState(r.get::<_, i64>(2)? as u64),
                    defender_enabled: r.get(3)?,
                    rtp_enabled: r.get(4)?,
                    nis_enabled: true,
                    quick_scan_overdue: r.get(5)?,
                    full_scan_overdue: r.get(6)?,
                    signature_out_of_date: r.get(7)?,
                    reboot_required: r.get(8)?,
                    full_scan_required: r.get(9)?,
                    tamper_protection_enabled: r.get(10)?,
                    is_mde_sense_running: true,
                    is_virtual_machine: false,
                    mde_onboarding_state: MdeOnboardingState::from_code(r.get(11)?),
                    engine_version: String::new(),
                    signature_version: String::new(),
                    defender_version: String::new(),
                    quick_scan_time: None,
                    full_scan_time: None,
                    quick_scan_sig_version: None,
                    full_scan_sig_version: None,
                    last_update_time: None,
                };
                health.insert(id.clone(), (h.signature_out_of_date, h.quick_scan_overdue || h.full_scan_overdue, h.reboot_required, true));
                records.insert(id, h);
            }
            let ids: Vec<String> =
                conn.prepare("SELECT AADDeviceID FROM devices")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            let mut out: HashMap<&'static str, u64> = HashMap::new();
            out.insert("total_devices", ids.len() as u64);
            for id in &ids {
                if let Some((sig, scans, reboot, _)) = health.get(id) {
                    *out.entry("signatures_out_of_date").or_default() += *sig as u64;
                    *out.entry("scans_overdue").or_default() += *scans as u64;
                    *out.entry("reboot_required").or_default() += *reboot as u64;
                }
            }
            let mut stmt = conn.prepare("SELECT DeviceId, CurrentStatus, Severity, ThreatName FROM threats")?;
            let mut rows = stmt.query([])?;
            let mut devices_with = std::collections::HashSet::new();
            let mut active: HashMap<String, Vec<(String, Severity)>> = HashMap::new();
            while let Some(r) = rows.next()? {
                let state = ThreatState::from_code(r.get(1)?);
                if state.is_active() {
                    devices_with.insert(r.get::<_, String>(0)?);
                    active.entry(r.get(0)?).or_default().push((r.get(3)?, Severity::from_code(r.get(2)?)));
                    *out.entry("active_threats").or_default() += 1;
                    let sev = Severity::from_code(r.get(2)?);
                    *out.entry(match sev {
                        Severity::Severe => "sev_5",
                        Severity::High => "sev_4",
                        Severity::Moderate => "sev_2",
                        Severity::Low => "sev_1",
                        _ => "sev_other",
                    })
                    .or_default() += 1;
                }
            }
            out.insert("devices_with_active_threats", devices_with.len() as u64);
            for id in &ids {
                let threats: Vec<ActiveThreat<'_>> =
                    active.get(id).map(|t| t.iter().map(|(name, severity)| ActiveThreat { name, severity: *severity }).collect()).unwrap_or_default();
                let v = HealthVerdict::of(records.get(id), &threats);
                *out.entry(v.key()).or_default() += 1;
            }
            Ok(out)
        })
        .unwrap()
}

#[tokio::test]
async fn summary_matches_independent_counts() {
    let s: Summary = typed("/api/v1/summary").await;
    let c = independent_counts();
    let n = |k: &str| c.get(k).copied().unwrap_or(0);
    assert_eq!(s.total_devices, DEVICES_N);
    assert_eq!(s.total_devices, n("total_devices"));
    assert_eq!(s.healthy, n("healthy"));
    assert_eq!(s.at_risk, n("at_risk"));
    assert_eq!(s.unhealthy, n("unhealthy"));
    assert_eq!(s.not_reporting, n("not_reporting"));
    assert_eq!(s.signatures_out_of_date, n("signatures_out_of_date"));
    assert_eq!(s.scans_overdue, n("scans_overdue"));
    assert_eq!(s.reboot_required, n("reboot_required"));
    assert_eq!(s.active_threats, n("active_threats"));
    assert_eq!(s.devices_with_active_threats, n("devices_with_active_threats"));
    for sc in &s.active_threats_by_severity {
        let key = format!("sev_{}", sc.severity.code());
        let expected = if [1, 2, 4, 5].contains(&sc.severity.code()) { n(&key) } else { n("sev_other") };
        assert_eq!(sc.count, expected, "{:?}", sc.severity);
    }
    // A realistic demo: most devices healthy, some of every kind of trouble.
    assert!(s.healthy * 100 / s.total_devices >= 60, "{s:?}");
    assert!(s.at_risk > 0 && s.unhealthy > 0 && s.not_reporting > 0 && s.active_threats > 0);
    assert_eq!(s.tenant.tenant_name, "Contoso");
    assert!(s.last_upload.is_some());
}

#[tokio::test]
async fn verdict_filters_partition_the_devices() {
    let s: Summary = typed("/api/v1/summary").await;
    let mut sum = 0;
    for v in HealthVerdict::ALL {
        let page: Page<DeviceRow> = typed(&format!("/api/v1/devices?DefenderHealth={}&page_size=5", v.key())).await;
        assert_eq!(page.total, s.count_of(v), "{v:?}");
        assert!(page.items.iter().all(|d| d.defender_health == v));
        sum += page.total;
    }
    assert_eq!(sum, s.total_devices);
    let with: Page<DeviceRow> = typed("/api/v1/devices?HasActiveThreats=true&page_size=500").await;
    assert_eq!(with.total, s.devices_with_active_threats);
    assert!(with.items.iter().all(|d| d.active_threats > 0));
}

#[tokio::test]
async fn device_pages_are_sorted_and_disjoint() {
    let p1: Page<DeviceRow> = typed("/api/v1/devices?page_size=100&sort=SerialNumber").await;
    let p2: Page<DeviceRow> = typed("/api/v1/devices?page_size=100&sort=SerialNumber&page=2").await;
    assert_eq!(p1.total, DEVICES_N);
    assert_eq!((p1.items.len(), p2.items.len()), (100, 100));
    let serials: Vec<_> = p1.items.iter().chain(&p2.items).map(|d| d.device.serial_number.clone()).collect();
    let mut sorted = serials.clone();
    sorted.sort();
    assert_eq!(serials, sorted);
    let desc: Page<DeviceRow> = typed("/api/v1/devices?page_size=3&sort=Name&order=desc").await;
    assert!(desc.items[0].device.name >= desc.items[1].device.name);
    let last_page = DEVICES_N.div_ceil(500) as u32;
    let last: Page<DeviceRow> = typed(&format!("/api/v1/devices?page_size=500&page={last_page}")).await;
    assert_eq!(last.items.len() as u64, DEVICES_N - (last_page as u64 - 1) * 500);
    let beyond: Page<DeviceRow> = typed("/api/v1/devices?page=999").await;
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, DEVICES_N);
}

#[tokio::test]
async fn search_and_detail() {
    let first: Page<DeviceRow> = typed("/api/v1/devices?page_size=1").await;
    let d = &first.items[0].device;
    let found: Page<DeviceRow> = typed(&format!("/api/v1/devices?q={}", encode_component(&d.serial_number))).await;
    assert!(found.items.iter().any(|r| r.device.aad_device_id == d.aad_device_id));
    let detail: DeviceDetail = typed(&format!("/api/v1/devices/{}", d.aad_device_id)).await;
    assert_eq!(&detail.device.device, d);
    assert_eq!(detail.device.defender_health, HealthVerdict::of(detail.health.as_ref(), &detail.active_threats()));
    assert!(detail.collections.iter().any(|c| c.collection_id == "SMS00001"));
    // A device is a member of device collections only (never "All Users").
    for c in &detail.collections {
        let row: CollectionRow = typed(&format!("/api/v1/collections/{}", c.collection_id)).await;
        assert_ne!(row.collection.collection_type, CollectionType::User, "{}", c.collection_name);
    }
    let users: CollectionRow = typed("/api/v1/collections/SMS00002").await;
    assert_eq!((users.collection.collection_type, users.collection.count_targeted), (CollectionType::User, 0));
    let (status, _, body) = get("/api/v1/devices/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(serde_json::from_slice::<ErrorBody>(&body).unwrap().error, "not_found");
}

#[tokio::test]
async fn every_list_route_answers_a_page() {
    for spec in LISTS {
        let v = json(&format!("/api/v1/{}?page_size=2", spec.name)).await;
        assert_eq!(v["page"], 1);
        assert_eq!(v["page_size"], 2);
        assert!(v["total"].as_u64().unwrap() > 0, "{}", spec.name);
        assert_eq!(v["items"].as_array().unwrap().len(), 2, "{}", spec.name);
        for sort in spec.sortable {
            for order in ["asc", "desc"] {
                json(&format!("/api/v1/{}?sort={sort}&order={order}&page_size=1", spec.name)).await;
            }
        }
    }
    let apps: Page<Application> = typed("/api/v1/applications?page_size=500").await;
    assert!(apps.total >= 100, "a few hundred deployment types: {}", apps.total);
    let colls: Page<CollectionRow> = typed("/api/v1/collections?page_size=500").await;
    assert!((100..=250).contains(&colls.total), "{}", colls.total);
    let colls = Page { items: colls.items.into_iter().map(|c| c.collection).collect::<Vec<_>>(), total: colls.total, page: 1, page_size: 500 };
    for c in &colls.items {
        assert!(c.count_compliant + c.count_non_compliant + c.count_failed <= c.count_targeted, "{c:?}");
        assert!(c.count_enforced <= c.count_activated && c.count_activated <= c.count_targeted, "{c:?}");
    }
    // A collection's CountTargeted is the number of devices the membership filter lists.
    for c in colls.items.iter().take(12) {
        let members: Page<DeviceRow> = typed(&format!("/api/v1/devices?CollectionId={}&page_size=1", c.collection_id)).await;
        assert_eq!(members.total, c.count_targeted, "{}", c.collection_id);
        let healthy: Page<DeviceRow> =
            typed(&format!("/api/v1/devices?CollectionId={}&DefenderHealth=healthy&page_size=1", c.collection_id)).await;
        assert_eq!(healthy.total, c.count_compliant, "{}", c.collection_id);
    }
    let severe: Page<DetectionRow> = typed("/api/v1/detections?Severity=5&Active=true&page_size=500").await;
    assert!(severe.items.iter().all(|t| t.detection.severity == Severity::Severe && t.detection.current_status.is_active()));
    assert!(severe.items.iter().all(|t| t.device_name.is_some()));
}

/// The devices list comes from the in-memory index; the same query run as plain SQL is the oracle.
fn sql_devices(pairs: &[(&str, &str)]) -> Page<DeviceRow> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let q = ListQuery::parse(&DEVICES, &pairs).unwrap();
    fixture().store.with(|c| tenantscope_server::store::list_page(c, &tenantscope_server::store::DEVICES_TABLE, &q)).unwrap()
}

async fn api_devices(pairs: &[(&str, &str)]) -> Page<DeviceRow> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    typed(&format!("/api/v1/devices?{}", encode_pairs(&pairs))).await
}

#[tokio::test]
async fn every_sort_and_filter_matches_sql() {
    for sort in DEVICES.sortable {
        for order in ["asc", "desc"] {
            for page in ["1", "7"] {
                let q = [("sort", *sort), ("order", order), ("page", page), ("page_size", "100")];
                assert_eq!(api_devices(&q).await, sql_devices(&q), "sort {sort} {order} page {page}");
            }
        }
    }
    let facets: Facets = typed("/api/v1/devices/facets").await;
    assert_eq!(facets.fields.len(), DEVICES.filters.len());
    for facet in &facets.fields {
        assert!(!facet.values.is_empty(), "{}", facet.field);
        for value in facet.values.iter().take(4) {
            let q = [(facet.field.as_str(), value.value.as_str()), ("sort", "Model"), ("order", "desc"), ("page_size", "50")];
            let api = api_devices(&q).await;
            assert_eq!(api, sql_devices(&q), "{}={}", facet.field, value.value);
            assert_eq!(api.total, value.count, "facet count of {}={}", facet.field, value.value);
        }
    }
    // Filters combined, repeated values, search, paging edges.
    let combos: Vec<Vec<(&str, &str)>> = vec![
        vec![("DefenderHealth", "at_risk"), ("DefenderHealth", "unhealthy"), ("SKU", "Enterprise")],
        vec![("HasActiveThreats", "false"), ("CollectionId", "SMS00002"), ("sort", "SerialNumber")],
        vec![("q", "lon-000")],
        vec![("q", "LTP"), ("DeviceOSBuild", "10.0.22631"), ("sort", "AADDeviceID"), ("order", "desc"), ("page", "2")],
        vec![("q", "ThinkPad"), ("page_size", "500")],
        vec![("q", "no-such-device")],
        vec![("Model", "No such model")],
        vec![("CollectionId", "XYZ99999")],
    ];
    for q in combos {
        assert_eq!(api_devices(&q).await, sql_devices(&q), "{q:?}");
    }
    let total = DEVICES_N.to_string();
    let last = api_devices(&[("page_size", "7"), ("page", &(DEVICES_N.div_ceil(7)).to_string())]).await;
    assert_eq!(last.items.len() as u64, DEVICES_N - (DEVICES_N.div_ceil(7) - 1) * 7);
    assert_eq!(last.total.to_string(), total);
}

#[tokio::test]
async fn applications_counts_and_facets() {
    let all: Page<ApplicationRow> = typed("/api/v1/applications?page_size=500&sort=ProductName").await;
    assert_eq!(all.total as usize, all.items.len());
    let mut by_product: HashMap<String, Vec<&ApplicationRow>> = HashMap::new();
    for a in &all.items {
        by_product.entry(a.application.product_name.clone()).or_default().push(a);
    }
    for (product, rows) in &by_product {
        let reach = rows[0].product_device_count;
        assert!(rows.iter().all(|r| r.product_device_count == reach), "{product}");
        assert!(reach >= rows.iter().map(|r| r.device_count).max().unwrap(), "{product}");
        assert!(reach <= DEVICES_N, "{product}");
    }
    let facets: Facets = typed("/api/v1/applications/facets").await;
    for facet in &facets.fields {
        for v in facet.values.iter().take(3) {
            let page: Page<ApplicationRow> =
                typed(&format!("/api/v1/applications?{}={}&page_size=1", facet.field, encode_component(&v.value))).await;
            assert_eq!(page.total, v.count, "{}={}", facet.field, v.value);
        }
    }
    let english = facets.fields.iter().find(|f| f.field == "ProductLanguage").unwrap();
    assert!(english.values.iter().any(|v| v.label.as_deref() == Some("English (United States) · 1033")));
}

#[tokio::test]
async fn csv_columns_and_formula_safety() {
    let (status, _, body) = get("/api/v1/devices?format=csv&columns=Name,DefenderHealth&sort=Name&DefenderHealth=unhealthy").await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(lines.next(), Some("Name,DefenderHealth"));
    assert!(lines.all(|l| l.ends_with(",unhealthy") && l.matches(',').count() == 1));
    bad_request("/api/v1/devices?format=csv&columns=Name,Secret", "columns").await;
    // As people read it: labels for the columns and the coded values.
    let (status, _, body) =
        get("/api/v1/detections?format=csv&labels=true&columns=ThreatName,Severity,CurrentStatus&Severity=5&page_size=500").await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(lines.next(), Some(format!("{},{},{}", DETECTIONS.label("ThreatName"), DETECTIONS.label("Severity"), DETECTIONS.label("CurrentStatus")).as_str()));
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|l| l.contains(",Severe,")), "{:?}", &rows[..3.min(rows.len())]);
    bad_request("/api/v1/devices?format=csv&labels=maybe", "labels").await;
}

#[tokio::test]
async fn device_facets_count_under_the_other_filters() {
    let collection = "SMS00001";
    let base = format!("DefenderHealth=at_risk&CollectionId={collection}&q=lon");
    let facets: Facets = typed(&format!("/api/v1/devices/facets?{base}")).await;
    let view: Page<DeviceRow> = typed(&format!("/api/v1/devices?{base}&page_size=1")).await;
    assert!(view.total > 0);
    // A facet the view does not filter on partitions the view: its counts sum to the view's total,
    // and each value's count is what the list says with that value added.
    let manufacturer = facets.fields.iter().find(|f| f.field == "Manufacturer").unwrap();
    assert_eq!(manufacturer.values.iter().map(|v| v.count).sum::<u64>(), view.total);
    for v in &manufacturer.values {
        let page: Page<DeviceRow> =
            typed(&format!("/api/v1/devices?{base}&Manufacturer={}&page_size=1", encode_component(&v.value))).await;
        assert_eq!(page.total, v.count, "{}", v.value);
    }
    // A facet the view filters on counts without its own filter (its other values stay choosable).
    let health = facets.fields.iter().find(|f| f.field == "DefenderHealth").unwrap();
    for v in &health.values {
        let page: Page<DeviceRow> =
            typed(&format!("/api/v1/devices?CollectionId={collection}&q=lon&DefenderHealth={}&page_size=1", v.value)).await;
        assert_eq!(page.total, v.count, "{}", v.value);
    }
    assert!(health.values.len() > 1);
    // Without filters, the whole tenant.
    let all: Facets = typed("/api/v1/devices/facets").await;
    let total: u64 = all.fields.iter().find(|f| f.field == "DefenderHealth").unwrap().values.iter().map(|v| v.count).sum();
    assert_eq!(total, DEVICES_N);
    bad_request("/api/v1/devices/facets?Bogus=1", "Bogus").await;
}

/// A detection read plainly: (ThreatID, name, severity, status, device, detections, first, last change).
type Detection = (i64, String, i64, i64, String, i64, String, String);

/// Every detection of the store.
fn all_detections() -> Vec<Detection> {
    fixture()
        .store
        .with(|c| {
            let v = c
                .prepare(
                    "SELECT ThreatID, ThreatName, Severity, CurrentStatus, DeviceId, NumberOfDetections, \
                     InitialDetectionTime, LastThreatStatusChangeTime FROM threats",
                )?
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(v)
        })
        .unwrap()
}

#[tokio::test]
async fn timeline_buckets_equal_an_independent_count_at_every_range() {
    let detections = all_detections();
    for range in TimeRange::ALL {
        let t: Timeline = typed(&format!("/api/v1/threats/timeline?range={}", range.key())).await;
        assert_eq!(t.buckets.len() as i64, range.seconds() / range.bucket_seconds(), "{}", range.key());
        assert_eq!(t.series.len(), Severity::ALL.len());
        let width = range.bucket_seconds();
        assert_eq!(t.bucket, if width == 3_600 { "hour" } else { "day" });
        // The window ends with the bucket holding the last upload.
        let to = time::parse_rfc3339(&t.to).unwrap();
        assert!(to > ANCHOR - 4 * 60 && to - width <= ANCHOR - 4 * 60, "{}", t.to);
        for b in &t.buckets {
            let start = time::parse_rfc3339(&b.start).unwrap();
            for (i, series) in t.series.iter().enumerate() {
                let expected = detections
                    .iter()
                    .filter(|d| d.2 == series.code)
                    .filter(|d| (start..start + width).contains(&time::parse_rfc3339(&d.6).unwrap()))
                    .count() as u64;
                assert_eq!(b.counts[i], expected, "{} {} {}", range.key(), b.start, series.label);
            }
            // The bucket opens the detections list of exactly its window.
            if b.total() > 0 && start % (7 * 3_600) == 0 {
                let end = time::format_rfc3339(start + width);
                let list: Page<DetectionRow> = typed(&format!("/api/v1/detections?from={}&to={}&page_size=1", b.start, end)).await;
                assert_eq!(list.total, b.total(), "{}", b.start);
            }
        }
    }
    let week: Timeline = typed("/api/v1/threats/timeline?range=7d").await;
    assert!(week.buckets.iter().map(TimelineBucket::total).sum::<u64>() > 0);
    let hourly: Timeline = typed("/api/v1/threats/timeline?bucket=hour&from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z").await;
    assert_eq!(hourly.buckets.len(), 24);
    assert_eq!(hourly.buckets[0].start, "2026-11-20T00:00:00Z");
    // One threat's own timeline counts only its detections.
    let id = detections[0].0;
    let own: Timeline = typed(&format!("/api/v1/threats/timeline?range=90d&ThreatID={id}")).await;
    let from = time::parse_rfc3339(&own.from).unwrap();
    let expected = detections.iter().filter(|d| d.0 == id && time::parse_rfc3339(&d.6).unwrap() >= from).count() as u64;
    assert_eq!(own.buckets.iter().map(TimelineBucket::total).sum::<u64>(), expected);
    // The list's filters select what the timeline counts, bucket by bucket.
    let filtered: Timeline = typed("/api/v1/threats/timeline?range=30d&Severity=5&Active=false").await;
    let mut checked = 0;
    for b in filtered.buckets.iter().filter(|b| b.total() > 0).take(6) {
        let end = time::format_rfc3339(time::parse_rfc3339(&b.start).unwrap() + 86_400);
        let list: Page<DetectionRow> =
            typed(&format!("/api/v1/detections?Severity=5&Active=false&from={}&to={end}&page_size=1", b.start)).await;
        assert_eq!(list.total, b.total(), "{}", b.start);
        checked += 1;
    }
    assert!(checked > 0);
    bad_request("/api/v1/threats/timeline?range=7d&Severity=high", "Severity").await;
    bad_request("/api/v1/threats/timeline?range=7d&q=x", "q").await;
    bad_request("/api/v1/threats/timeline?range=1y", "range").await;
    bad_request("/api/v1/detections?range=1y", "range").await;
    // A range on the lists selects what the timeline of that range counts.
    for range in TimeRange::ALL {
        let t: Timeline = typed(&format!("/api/v1/threats/timeline?range={}", range.key())).await;
        let list: Page<DetectionRow> = typed(&format!("/api/v1/detections?range={}&page_size=1", range.key())).await;
        assert_eq!(list.total, t.buckets.iter().map(TimelineBucket::total).sum::<u64>(), "{}", range.key());
    }
    // `from` overrides the range's start (the range still sets hours); a window of more than
    // MAX_BUCKETS buckets keeps its last ones; one that ends before it starts is empty.
    let week = |t: &Timeline| (time::parse_rfc3339(&t.from).unwrap(), time::parse_rfc3339(&t.to).unwrap());
    let base: Timeline = typed("/api/v1/threats/timeline?range=7d").await;
    let moved: Timeline = typed("/api/v1/threats/timeline?range=7d&from=2026-11-20T00:00:00Z").await;
    assert_eq!(moved.bucket, "hour");
    assert_eq!(week(&moved), (time::parse_rfc3339("2026-11-20T00:00:00Z").unwrap(), week(&base).1));
    let long: Timeline = typed("/api/v1/threats/timeline?bucket=hour&from=0001-01-01T00:00:00Z&to=2026-11-01T00:00:00Z").await;
    assert_eq!(long.buckets.len() as i64, tenantscope_server::api::threats::MAX_BUCKETS);
    assert_eq!(long.from, "2026-08-09T16:00:00Z");
    let empty: Timeline = typed("/api/v1/threats/timeline?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z").await;
    assert!(empty.buckets.is_empty(), "{:?}", empty.buckets);
    let c: Timeline = typed("/api/v1/connector/timeline?range=7d").await;
    assert_eq!(c.series.len(), TelemetrySeverity::ALL.len());
    let from = time::parse_rfc3339(&c.from).unwrap();
    let events = fixture()
        .store
        .with(|conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM telemetry WHERE Time >= ?1 AND Kind IN ('TrackEvent', 'TrackException')",
                [time::format_rfc3339(from)],
                |r| r.get::<_, i64>(0),
            )? as u64)
        })
        .unwrap();
    assert_eq!(c.buckets.iter().map(TimelineBucket::total).sum::<u64>(), events, "status events and exceptions");
    assert!(events > 0);
}

#[tokio::test]
async fn threats_group_detections_like_an_independent_computation() {
    let detections = all_detections();
    let from = time::format_rfc3339(ANCHOR - 7 * 86_400);
    // Top threats: most devices affected in the last 7 days.
    let top: Page<ThreatRow> =
        typed(&format!("/api/v1/threats?from={from}&sort=DevicesAffected&order=desc&page_size=5")).await;
    let mut expected: HashMap<i64, (u64, u64, u64, String, String)> = HashMap::new();
    for d in detections.iter().filter(|d| d.6 >= from) {
        let e = expected.entry(d.0).or_insert((0, 0, 0, d.6.clone(), d.7.clone()));
        e.0 += 1;
        e.1 += ThreatState::from_code(d.3).is_active() as u64;
        e.2 += d.5 as u64;
        e.3 = e.3.clone().min(d.6.clone());
        e.4 = e.4.clone().max(d.7.clone());
    }
    assert_eq!(top.total, expected.len() as u64);
    assert!(!top.items.is_empty());
    let mut best: Vec<(u64, i64)> = expected.iter().map(|(id, e)| (e.0, *id)).collect();
    best.sort_by(|a, b| b.cmp(a));
    for (row, (devices, id)) in top.items.iter().zip(&best) {
        assert_eq!((row.devices_affected, row.threat_id), (*devices, *id));
        let e = &expected[id];
        assert_eq!((row.devices_active, row.number_of_detections), (e.1, e.2), "{}", row.threat_name);
        assert_eq!((&row.initial_detection_time, &row.last_threat_status_change_time), (&e.3, &e.4));
        // The per-device detections of a threat add up to its row.
        let list: Page<DetectionRow> =
            typed(&format!("/api/v1/detections?ThreatID={}&from={from}&page_size=1", row.threat_id)).await;
        assert_eq!(list.total, row.devices_affected);
    }
    // All time, and the detail route.
    let all: Page<ThreatRow> = typed("/api/v1/threats?page_size=500").await;
    let distinct: std::collections::HashSet<i64> = detections.iter().map(|d| d.0).collect();
    assert_eq!(all.total, distinct.len() as u64);
    let one: ThreatRow = typed(&format!("/api/v1/threats/{}", all.items[0].threat_id)).await;
    assert_eq!(one, all.items[0]);
    let (status, _, _) = get("/api/v1/threats/123").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    bad_request("/api/v1/threats/abc", "ThreatID").await;
    for (list, facets) in [("threats", typed::<Facets>("/api/v1/threats/facets").await), ("detections", typed::<Facets>("/api/v1/detections/facets").await)] {
        for facet in &facets.fields {
            assert!(facet.values.iter().all(|v| v.label.is_some()), "{list} {}", facet.field);
            for v in facet.values.iter().take(3) {
                let page: Value = json(&format!("/api/v1/{list}?{}={}&page_size=1", facet.field, v.value)).await;
                assert_eq!(page["total"].as_u64(), Some(v.count), "{list} {}={}", facet.field, v.value);
            }
        }
    }
    let active: Page<ThreatRow> = typed("/api/v1/threats?Active=true&page_size=500").await;
    assert!(active.items.iter().all(|t| t.devices_active == t.devices_affected && t.devices_active > 0));
    let (status, ctype, body) = get("/api/v1/threats?format=csv&columns=ThreatName,DevicesAffected").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/csv"));
    assert_eq!(String::from_utf8(body).unwrap().split("\r\n").filter(|l| !l.is_empty()).count() as u64, all.total + 1);
}

#[tokio::test]
async fn agent_states_partition_the_devices_and_open_their_lists() {
    let av: Antivirus = typed("/api/v1/antivirus").await;
    assert_eq!(av.total_devices, DEVICES_N);
    assert_eq!(av.states.iter().map(|s| s.state).collect::<Vec<_>>(), AgentState::ALL.to_vec());
    // Independent: the model's rule over every health record read from the store.
    let mut expected: HashMap<AgentState, u64> = HashMap::new();
    let reporting = fixture()
        .store
        .with(|c| {
            let ids: Vec<String> = c.prepare("SELECT DeviceId FROM defender_health")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            for id in &ids {
                let h = tenantscope_server::store::health_of(c, id)?;
                *expected.entry(AgentState::of(h.as_ref())).or_default() += 1;
            }
            Ok(ids.len() as u64)
        })
        .unwrap();
    *expected.entry(AgentState::NotReporting).or_default() += DEVICES_N - reporting;
    for s in &av.states {
        assert_eq!(s.count, expected.get(&s.state).copied().unwrap_or(0), "{:?}", s.state);
        let q = [("AgentState", s.state.key()), ("page_size", "20"), ("sort", "Name")];
        let api = api_devices(&q).await;
        assert_eq!(api.total, s.count, "{:?}", s.state);
        assert_eq!(api, sql_devices(&q), "{:?}", s.state);
        assert!(api.items.iter().all(|d| d.agent_state == s.state));
    }
    assert!(av.states.iter().filter(|s| s.count > 0).count() >= 6, "{:?}", av.states);
    // Version spreads: oldest first, every device with a record counted once, each opens its list.
    for versions in [&av.engine_versions, &av.signature_versions, &av.platform_versions] {
        assert_eq!(versions.iter().map(|v| v.count).sum::<u64>(), reporting);
        assert!(versions.windows(2).all(|w| version_cmp(&w[0].version, &w[1].version).is_lt()));
    }
    for (field, v) in [("EngineVersion", &av.engine_versions[0]), ("SignatureVersion", &av.signature_versions[0]), ("DefenderVersion", &av.platform_versions[0])] {
        let q = [(field, v.version.as_str()), ("page_size", "10")];
        let api = api_devices(&q).await;
        assert_eq!(api.total, v.count, "{field}");
        assert_eq!(api, sql_devices(&q), "{field}");
    }
}

#[tokio::test]
async fn collections_carry_their_compliance_share() {
    let worst: Page<CollectionRow> = typed("/api/v1/collections?sort=CompliancePercent&order=asc&page_size=500").await;
    for c in &worst.items {
        let k = &c.collection;
        let expected = (k.count_targeted > 0).then(|| k.count_compliant as f64 * 100.0 / k.count_targeted as f64);
        match (c.compliance_percent, expected) {
            (Some(got), Some(want)) => assert!((got - want).abs() < 1e-9, "{}: {got} vs {want}", k.collection_id),
            (got, want) => assert_eq!(got, want, "{}", k.collection_id),
        }
        assert_eq!(
            c.not_yet_reported() + k.count_compliant + k.count_non_compliant + k.count_failed,
            k.count_targeted
        );
    }
    let shares: Vec<f64> = worst.items.iter().filter_map(|c| c.compliance_percent).collect();
    assert!(shares.windows(2).all(|w| w[0] <= w[1]), "worst first");
    let without = worst.items.iter().position(|c| c.compliance_percent.is_none()).unwrap_or(worst.items.len());
    assert!(worst.items[without..].iter().all(|c| c.compliance_percent.is_none()), "nothing targeted: last");
    let first = &worst.items[0];
    let one: CollectionRow = typed(&format!("/api/v1/collections/{}", first.collection.collection_id)).await;
    assert_eq!(&one, first);
    let (status, _, _) = get("/api/v1/collections/XYZ99999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let devices: Page<CollectionRow> = typed("/api/v1/collections?CollectionType=2&q=All&page_size=500").await;
    assert!(devices.total > 0 && devices.items.iter().all(|c| c.collection.collection_type == CollectionType::Device));
}

#[tokio::test]
async fn connector_reports_telemetry() {
    let c: Connector = typed("/api/v1/connector?events=20").await;
    assert_eq!(c.events.len(), 20);
    assert_eq!(c.facts.site_version, "5.00.9128.1000");
    assert!(c.events.windows(2).all(|w| w[0].time >= w[1].time), "newest first");
    assert!(c.events.iter().all(|e| TELEMETRY_KINDS.contains(&e.kind.as_str())));
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    bad_request("/api/v1/devices?page=0", "page").await;
    bad_request("/api/v1/devices?page_size=501", "page_size").await;
    bad_request("/api/v1/devices?sort=Password", "sort").await;
    bad_request("/api/v1/devices?order=sideways", "order").await;
    bad_request("/api/v1/devices?DefenderHealth=sick", "DefenderHealth").await;
    bad_request("/api/v1/devices?Colour=red", "Colour").await;
    bad_request("/api/v1/devices?format=xml", "format").await;
    bad_request("/api/v1/threats?Severity=high", "Severity").await;
    bad_request("/api/v1/threats?Active=maybe", "Active").await;
    bad_request("/api/v1/applications?ProductLanguage=english", "ProductLanguage").await;
    bad_request("/api/v1/collections?CollectionType=device", "CollectionType").await;
    bad_request("/api/v1/summary?x=1", "x").await;
    bad_request("/api/v1/threats/timeline?bucket=week", "bucket").await;
    bad_request("/api/v1/threats/timeline?from=yesterday", "from").await;
    bad_request("/api/v1/connector?events=0", "events").await;
    let (status, _, body) = get("/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(serde_json::from_slice::<ErrorBody>(&body).unwrap().error, "not_found");
}

#[tokio::test]
async fn csv_is_the_same_selection_as_json() {
    let query = "DefenderHealth=unhealthy&sort=SerialNumber&order=desc";
    let page: Page<DeviceRow> = typed(&format!("/api/v1/devices?{query}&page_size=500")).await;
    let (status, ctype, body) = get(&format!("/api/v1/devices?{query}&format=csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/csv"));
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], DEVICES.columns.join(","));
    assert_eq!(lines.len() as u64 - 1, page.total);
    for (line, row) in lines[1..].iter().zip(&page.items) {
        assert!(line.contains(&row.device.serial_number), "{line}");
        assert!(line.contains(&row.device.aad_device_id));
    }
}

#[tokio::test]
async fn openapi_describes_exactly_the_routes() {
    let doc = json("/api/v1/openapi.json").await;
    assert_eq!(doc["openapi"], "3.0.3");
    let paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    // The router is built from `api::routes()`: the document lists exactly the paths it routes.
    let mut expected: Vec<String> = tenantscope_server::api::routes().paths().iter().map(|s| s.to_string()).collect();
    let mut got = paths.clone();
    expected.sort();
    expected.dedup();
    got.sort();
    assert_eq!(got, expected);
    // Every documented path answers (not 404) and every list route's filters are documented.
    expected.dedup();
    for path in &paths {
        // Every documented read answers (the events stream is read in tests/upload.rs).
        if doc["paths"][path]["get"].is_null() || path == "/events" {
            continue;
        }
        let uri = format!("/api/v1{}", path.replace("{id}", "unknown-id"));
        let (status, _, _) = get(&uri).await;
        assert!(status == StatusCode::OK || path.contains("{id}"), "{uri}: {status}");
    }
    for spec in LISTS {
        let params = doc["paths"][format!("/{}", spec.name)]["get"]["parameters"].as_array().unwrap();
        for f in spec.filters {
            assert!(params.iter().any(|p| p["name"] == f.name), "{} {}", spec.name, f.name);
        }
    }
}

#[tokio::test]
async fn demo_tenant_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let store = backend::store(dir.path());
    seed(&store, &DemoOptions { devices: DEVICES_N, seed: 42, anchor: ANCHOR, progress: false }).unwrap();
    let names = |s: &Store| {
        s.with(|c| {
            let v: Vec<String> = c
                .prepare("SELECT Name || SerialNumber || AADDeviceID || DefenderHealth FROM devices ORDER BY id LIMIT 50")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(v)
        })
        .unwrap()
    };
    assert_eq!(names(&store), names(&fixture().store));
}

#[tokio::test]
async fn overview_numbers_equal_the_lists_they_open() {
    let s: Summary = typed("/api/v1/summary").await;
    let devices = |pairs: String| async move { typed::<Page<DeviceRow>>(&format!("/api/v1/devices?{pairs}&page_size=1")).await.total };
    for (filter, n) in [
        ("SignatureOutOfDate", s.signatures_out_of_date),
        ("ScanOverdue", s.scans_overdue),
        ("RebootRequired", s.reboot_required),
        ("HasActiveThreats", s.devices_with_active_threats),
    ] {
        assert_eq!(devices(format!("{filter}=true")).await, n, "{filter}");
    }
    for v in HealthVerdict::ALL {
        assert_eq!(devices(format!("DefenderHealth={}", v.key())).await, s.count_of(v), "{v:?}");
    }
    let detections = |pairs: String| async move { typed::<Page<DetectionRow>>(&format!("/api/v1/detections?{pairs}&page_size=1")).await.total };
    assert_eq!(detections("Active=true".into()).await, s.active_threats);
    for c in &s.active_threats_by_severity {
        assert_eq!(detections(format!("Active=true&Severity={}", c.severity.code())).await, c.count, "{:?}", c.severity);
    }
}

#[tokio::test]
async fn products_page_by_product_with_whole_product_totals() {
    let all: Page<ApplicationRow> = typed("/api/v1/applications?page_size=500").await;
    let p1: Page<ProductRow> = typed("/api/v1/products?page_size=10").await;
    let p2: Page<ProductRow> = typed("/api/v1/products?page_size=10&page=2").await;
    let products: std::collections::BTreeSet<&str> = all.items.iter().map(|r| r.application.product_name.as_str()).collect();
    assert_eq!(p1.total as usize, products.len());
    assert!(p1.items.iter().all(|a| p2.items.iter().all(|b| a.product_name != b.product_name)), "pages are disjoint by product");
    for p in p1.items.iter().chain(&p2.items) {
        let rows: Vec<&ApplicationRow> = all.items.iter().filter(|r| r.application.product_name == p.product_name).collect();
        // Totals count the whole product, whatever the page.
        assert_eq!(p.deployment_types as usize, rows.len(), "{}", p.product_name);
        assert_eq!(p.types.len(), rows.len(), "{}", p.product_name);
        let versions: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.application.version.as_str()).collect();
        assert_eq!(p.versions as usize, versions.len());
        assert_eq!(p.product_device_count, rows[0].product_device_count);
        // The product reaches exactly the devices of its deployment types' collections.
        let mut pairs: Vec<String> = p.types.iter().filter_map(|t| t.collection_id.clone()).map(|c| format!("CollectionId={c}")).collect();
        pairs.dedup();
        let reached: Page<DeviceRow> = typed(&format!("/api/v1/devices?{}&page_size=1", pairs.join("&"))).await;
        assert_eq!(reached.total, p.product_device_count, "{}", p.product_name);
        assert!(p.types.windows(2).all(|w| version_cmp(&w[0].version, &w[1].version) != std::cmp::Ordering::Greater));
    }
    // Publishers that differ only by legal form filter together, and keep their uploaded name.
    let microsoft: Page<ProductRow> = typed("/api/v1/products?PublisherGroup=Microsoft&page_size=100").await;
    let publishers: std::collections::BTreeSet<&str> = microsoft.items.iter().map(|p| p.publisher.as_str()).collect();
    assert!(publishers.contains("Microsoft") && publishers.contains("Microsoft Corporation"), "{publishers:?}");
    let desc: Page<ProductRow> = typed("/api/v1/products?sort=DeploymentTypes&order=desc&page_size=5").await;
    assert!(desc.items.windows(2).all(|w| w[0].deployment_types >= w[1].deployment_types));
    let facets: Facets = typed("/api/v1/products/facets").await;
    assert!(facets.fields.iter().any(|f| f.field == "PublisherGroup" && f.values.iter().any(|v| v.value == "Microsoft")));
}

#[tokio::test]
async fn every_lists_facets_count_under_the_other_filters() {
    // (list, view, a facet the view does not filter on)
    let cases = [
        ("threats", "Active=true&range=90d", "Severity"),
        ("detections", "Active=true&q=win", "Category"),
        ("detections", "Severity=5", "CurrentStatus"),
        ("products", "PublisherGroup=Microsoft", "Publisher"),
        ("collections", "q=all", "CollectionType"),
        ("applications", "ProductLanguage=1033", "Publisher"),
    ];
    for (list, view, field) in cases {
        let facets: Facets = typed(&format!("/api/v1/{list}/facets?{view}")).await;
        let facet = facets.fields.iter().find(|f| f.field == field).unwrap_or_else(|| panic!("{list}: {field}"));
        assert!(!facet.values.is_empty(), "{list}?{view}: {field}");
        for v in &facet.values {
            let page = json(&format!("/api/v1/{list}?{view}&{field}={}&page_size=1", encode_component(&v.value))).await;
            assert_eq!(page["total"].as_u64(), Some(v.count), "{list}?{view}&{field}={}", v.value);
        }
    }
    bad_request("/api/v1/threats/facets?Bogus=1", "Bogus").await;
}

#[tokio::test]
async fn a_crafted_time_is_a_400_not_a_crash() {
    // "+é:00" as the offset: a multi-byte character where the parser used to slice.
    bad_request("/api/v1/threats/timeline?bucket=hour&from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00%2B%C3%A9:00", "to").await;
    bad_request("/api/v1/detections?from=2026-11-21T00:00:00%2B0%C3%A9:0", "from").await;
}

#[tokio::test]
async fn repeated_filter_values_are_bounded() {
    // The same value many times is one condition.
    let many = vec!["CollectionId=SMS00001"; MAX_FILTER_VALUES].join("&");
    let once: Page<DeviceRow> = typed("/api/v1/devices?CollectionId=SMS00001&page_size=1").await;
    let repeated: Page<DeviceRow> = typed(&format!("/api/v1/devices?{many}&page_size=1")).await;
    assert_eq!(repeated.total, once.total);
    // Too many different values of one filter, or too many parameters: 400 naming the parameter.
    let different: String = (0..101).map(|i| format!("CollectionId=X{i}")).collect::<Vec<_>>().join("&");
    bad_request(&format!("/api/v1/devices?{different}"), "CollectionId").await;
    let repeated = vec!["CollectionId=SMS00001"; MAX_FILTER_VALUES + 1].join("&");
    bad_request(&format!("/api/v1/devices?{repeated}"), "CollectionId").await;
    let flood: String =
        (0..DEVICES.max_params() + 1).map(|i| format!("Model=M{}", i % 50)).collect::<Vec<_>>().join("&");
    bad_request(&format!("/api/v1/devices?{flood}"), "Model").await;
}

#[tokio::test]
async fn csv_exports_neutralise_formulas_from_uploaded_text() {
    // Its own small store: the values are written straight into it, as a site could upload them.
    let dir = tempfile::tempdir().unwrap();
    let store = backend::store(dir.path());
    seed(&store, &DemoOptions { devices: 40, seed: 3, anchor: ANCHOR, progress: false }).unwrap();
    let evil = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"];
    store
        .with(|c| {
            for (i, v) in evil.iter().enumerate() {
                c.execute("UPDATE devices SET Model = ?1 WHERE id = ?2", tenantscope_server::params![v, i as i64 + 1])?;
            }
            Ok(())
        })
        .unwrap();
    let app = tenantscope_server::app(store, None);
    let res = app
        .oneshot(Request::get("/api/v1/devices?format=csv&columns=AADDeviceID,Model&page_size=500").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csv = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    for v in evil {
        let quoted = format!("\"'{}\"", v.replace('"', "\"\""));
        assert!(csv.contains(&quoted), "{v:?} is not neutralised in:\n{csv}");
    }
    for line in csv.split("\r\n").skip(1).filter(|l| !l.is_empty() && !l.starts_with(' ')) {
        let model = line.split_once(',').map(|(_, m)| m).unwrap_or_default();
        assert!(!matches!(model.chars().next(), Some('=' | '+' | '-' | '@')), "{line:?}");
    }
}
