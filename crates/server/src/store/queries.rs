//! The store queries behind the API routes; each is named like its route.

use super::{build_list, get_meta, DeviceIndex, Result};
use crate::store::db::types::Value;
use crate::store::db::{params_from_iter, Connection, OptionalExtension, Row};
use tenantscope_model::api::*;
use tenantscope_model::*;

/// How one list route reads its table.
pub struct Table<T> {
    pub spec: ListSpec,
    pub from: &'static str,
    pub columns: &'static str,
    pub map: fn(&Row) -> crate::store::db::Result<T>,
    /// Rows without a value of the sort field come last in both directions (a collection that
    /// targets nothing has no compliance share: it is not the worst).
    pub nulls_last: bool,
}

impl<T> Table<T> {
    fn order_by(&self, query: &ListQuery, order_by: &str) -> String {
        if self.nulls_last {
            // `sort` passed validation: a column name of this table.
            order_by.replacen("ORDER BY ", &format!("ORDER BY {} IS NULL, ", query.sort), 1)
        } else {
            order_by.to_string()
        }
    }
}

const DEVICE_COLUMNS: &str = "SMSID, AADTenantID, AADDeviceID, Name, DeviceOS, DeviceOSBuild, AADPrimaryUserID, \
     Model, Manufacturer, SerialNumber, DomainNames, SKU, DefenderHealth, ActiveThreats, AgentState";
/// Position of the row id after DEVICE_COLUMNS.
const DEVICE_ID_AT: usize = 15;

fn device_row(r: &Row) -> crate::store::db::Result<DeviceRow> {
    Ok(DeviceRow {
        device: Device {
            smsid: r.get(0)?,
            aad_tenant_id: r.get(1)?,
            aad_device_id: r.get(2)?,
            name: r.get(3)?,
            device_os: r.get(4)?,
            device_os_build: r.get(5)?,
            aad_primary_user_id: r.get(6)?,
            model: r.get(7)?,
            manufacturer: r.get(8)?,
            serial_number: r.get(9)?,
            domain_names: r.get(10)?,
            sku: r.get(11)?,
        },
        defender_health: HealthVerdict::from_code(r.get(12)?).unwrap_or(HealthVerdict::NotReporting),
        active_threats: r.get(13)?,
        agent_state: AgentState::from_code(r.get(14)?).unwrap_or(AgentState::NotReporting),
    })
}

pub const DEVICES_TABLE: Table<DeviceRow> =
    Table { spec: DEVICES, from: "devices", columns: DEVICE_COLUMNS, map: device_row, nulls_last: false };

fn application(r: &Row) -> crate::store::db::Result<Application> {
    Ok(Application {
        product_name: r.get(0)?,
        publisher: r.get(1)?,
        version: r.get(2)?,
        product_language: r.get(3)?,
        program_id: r.get(4)?,
    })
}

fn application_row(r: &Row) -> crate::store::db::Result<ApplicationRow> {
    Ok(ApplicationRow {
        application: application(r)?,
        device_count: r.get::<_, i64>(5)? as u64,
        product_device_count: r.get::<_, i64>(6)? as u64,
    })
}

pub const APPLICATIONS_TABLE: Table<ApplicationRow> = Table {
    spec: APPLICATIONS,
    from: "application_rows",
    columns: "ProductName, Publisher, Version, ProductLanguage, ProgramID, DeviceCount, ProductDeviceCount",
    map: application_row,
    nulls_last: false,
};

fn product_row(r: &Row) -> crate::store::db::Result<ProductRow> {
    Ok(ProductRow {
        product_name: r.get(0)?,
        publisher: r.get(1)?,
        publisher_group: r.get(2)?,
        versions: r.get::<_, i64>(3)? as u64,
        languages: r.get::<_, i64>(4)? as u64,
        deployment_types: r.get::<_, i64>(5)? as u64,
        product_device_count: r.get::<_, i64>(6)? as u64,
        types: Vec::new(),
    })
}

pub const PRODUCTS_TABLE: Table<ProductRow> = Table {
    spec: PRODUCTS,
    from: "product_rows",
    columns: "ProductName, Publisher, PublisherGroup, Versions, Languages, DeploymentTypes, ProductDeviceCount",
    map: product_row,
    nulls_last: false,
};

/// Runs several reads as one snapshot (one read transaction), so that a count and its page, or the
/// summary's numbers, never mix two states of the store. Nested calls join the outer snapshot.
pub fn snapshot<R>(conn: &Connection, f: impl FnOnce() -> Result<R>) -> Result<R> {
    if !conn.is_autocommit() {
        return f();
    }
    conn.begin(crate::store::db::TransactionBehavior::Deferred)?;
    let out = f();
    // Read-only: ending it cannot lose anything.
    let _ = conn.end(out.is_ok());
    out
}

/// A page of products, each with all its deployment types (version order, then language, ProgramID).
pub fn products(conn: &Connection, query: &ListQuery) -> Result<Page<ProductRow>> {
    snapshot(conn, || {
        let mut page = list_page(conn, &PRODUCTS_TABLE, query)?;
        let mut stmt = conn.prepare_cached(
            "SELECT a.Version, a.ProductLanguage, a.ProgramID, COALESCE(c.CountTargeted, 0), c.CollectionId \
             FROM applications a LEFT JOIN collections c ON c.id = a.TargetCollection WHERE a.ProductName = ?1",
        )?;
        for product in &mut page.items {
            let mut types: Vec<DeploymentTypeRow> = stmt
                .query_map([&product.product_name], |r| {
                    Ok(DeploymentTypeRow {
                        version: r.get(0)?,
                        product_language: r.get(1)?,
                        program_id: r.get(2)?,
                        device_count: r.get::<_, i64>(3)? as u64,
                        collection_id: r.get(4)?,
                    })
                })?
                .collect::<crate::store::db::Result<_>>()?;
            types.sort_by(|a, b| {
                version_cmp(&a.version, &b.version)
                    .then(a.product_language.cmp(&b.product_language))
                    .then_with(|| a.program_id.cmp(&b.program_id))
            });
            product.types = types;
        }
        Ok(page)
    })
}

/// Filter choices of the products list: how many products each vendor and publisher has.
pub fn products_facets(conn: &Connection, query: &ListQuery) -> Result<Facets> {
    table_facets(conn, "product_rows", "COUNT(*)", &PRODUCTS, query)
}

/// A label for a coded filter value (language, severity, category, status names).
fn code_label(field: &str, value: &str) -> Option<String> {
    let code: i64 = value.parse().ok()?;
    Some(match field {
        "ProductLanguage" => language_name(code as u32).map(|n| format!("{n} · {code}"))?,
        "Severity" => Severity::from_code(code).label().into_owned(),
        "Category" => Category::from_code(code).label().into_owned(),
        "CurrentStatus" => ThreatState::from_code(code).label().into_owned(),
        "CurrentStatusID" => DetectionStatus::from_code(code).label().into_owned(),
        "ExecutionStatus" => ExecutionStatus::from_code(code).label().into_owned(),
        "CollectionType" => CollectionType::from_code(code).label().into_owned(),
        _ => return None,
    })
}

/// Filter choices of a list from its table: each value of `fields` with the number of `count` it
/// holds (rows, or distinct threats) among the rows the query's other filters and search select
/// (a facet never narrows itself), most first.
pub fn table_facets(conn: &Connection, table: &str, count: &str, spec: &ListSpec, query: &ListQuery) -> Result<Facets> {
    let mut out = Vec::new();
    for field in spec.facets {
        let mut others = query.clone();
        others.filters.retain(|(f, _)| f != field);
        let sql = build_list(spec, &others);
        // Table, count expression and fields are the caller's constants, never request input;
        // values are bound parameters.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {field}, {count} FROM {table} {} GROUP BY {field} ORDER BY 2 DESC, {field}",
            sql.where_clause
        ))?;
        let values = stmt
            .query_map(params_from_iter(sql.params.iter()), |r| {
                let value = match r.get_ref(0)? {
                    crate::store::db::types::ValueRef::Integer(i) => i.to_string(),
                    v => v.as_str().unwrap_or_default().to_string(),
                };
                Ok(FacetCount { label: code_label(field, &value), value, count: r.get::<_, i64>(1)? as u64 })
            })?
            .collect::<crate::store::db::Result<Vec<_>>>()?;
        out.push(Facet { field: field.to_string(), values });
    }
    Ok(Facets { fields: out })
}

/// Values with row counts of every applications filter.
pub fn applications_facets(conn: &Connection, query: &ListQuery) -> Result<Facets> {
    table_facets(conn, "application_rows", "COUNT(*)", &APPLICATIONS, query)
}

/// Filter choices of the per-threat list: how many threats have a detection with each value.
pub fn threats_facets(conn: &Connection, query: &ListQuery) -> Result<Facets> {
    table_facets(conn, "threats", "COUNT(DISTINCT ThreatID)", &THREATS, query)
}

/// Filter choices of the detections list.
pub fn detections_facets(conn: &Connection, query: &ListQuery) -> Result<Facets> {
    // The search also looks at device names, which only the joined view has.
    let table = if query.q.is_some() { "detection_rows" } else { "threats" };
    table_facets(conn, table, "COUNT(*)", &DETECTIONS, query)
}

/// Filter choices of the collections list.
pub fn collections_facets(conn: &Connection, query: &ListQuery) -> Result<Facets> {
    table_facets(conn, "collection_rows", "COUNT(*)", &COLLECTIONS, query)
}

fn collection(r: &Row) -> crate::store::db::Result<DefenderCollection> {
    Ok(DefenderCollection {
        collection_id: r.get(0)?,
        collection_name: r.get(1)?,
        collection_type: CollectionType::from_code(r.get(2)?),
        count_targeted: r.get::<_, i64>(3)? as u64,
        count_compliant: r.get::<_, i64>(4)? as u64,
        count_non_compliant: r.get::<_, i64>(5)? as u64,
        count_failed: r.get::<_, i64>(6)? as u64,
        count_activated: r.get::<_, i64>(7)? as u64,
        count_enforced: r.get::<_, i64>(8)? as u64,
        tenant_id: r.get(9)?,
        hierarchy_id: r.get(10)?,
    })
}

fn collection_row(r: &Row) -> crate::store::db::Result<CollectionRow> {
    Ok(CollectionRow { collection: collection(r)?, compliance_percent: r.get(11)? })
}

const COLLECTION_COLUMNS: &str = "CollectionId, CollectionName, CollectionType, CountTargeted, CountCompliant, \
     CountNonCompliant, CountFailed, CountActivated, CountEnforced, TenantId, HierarchyId, CompliancePercent";

pub const COLLECTIONS_TABLE: Table<CollectionRow> =
    Table { spec: COLLECTIONS, from: "collection_rows", columns: COLLECTION_COLUMNS, map: collection_row, nulls_last: true };

/// One collection by its CollectionId.
pub fn collection_by_id(conn: &Connection, id: &str) -> Result<Option<CollectionRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLLECTION_COLUMNS} FROM collection_rows WHERE CollectionId = ?1"))?
        .query_row([id], collection_row)
        .optional()?)
}

const THREAT_COLUMNS: &str = "ThreatID, ThreatName, Category, Severity, URL, CurrentStatus, CurrentStatusID, \
     ExecutionStatus, LastThreatStatusChangeTime, InitialDetectionTime, NumberOfDetections, DeviceId";

fn threat(r: &Row) -> crate::store::db::Result<ThreatDetection> {
    Ok(ThreatDetection {
        threat_id: r.get(0)?,
        threat_name: r.get(1)?,
        category: Category::from_code(r.get(2)?),
        severity: Severity::from_code(r.get(3)?),
        url: r.get(4)?,
        current_status: ThreatState::from_code(r.get(5)?),
        current_status_id: DetectionStatus::from_code(r.get(6)?),
        execution_status: ExecutionStatus::from_code(r.get(7)?),
        last_threat_status_change_time: r.get(8)?,
        initial_detection_time: r.get(9)?,
        number_of_detections: r.get(10)?,
        device_id: r.get(11)?,
    })
}

fn detection_row(r: &Row) -> crate::store::db::Result<DetectionRow> {
    Ok(DetectionRow { detection: threat(r)?, device_name: r.get(12)? })
}

pub const DETECTIONS_TABLE: Table<DetectionRow> = Table {
    spec: DETECTIONS,
    from: "detection_rows",
    columns: "ThreatID, ThreatName, Category, Severity, URL, CurrentStatus, CurrentStatusID, ExecutionStatus, \
              LastThreatStatusChangeTime, InitialDetectionTime, NumberOfDetections, DeviceId, DeviceName",
    map: detection_row,
    nulls_last: false,
};

/// The selected detections grouped by threat (one pass over a covering index; a tenant has at most
/// a few thousand distinct threats), in the query's order with ThreatID as tie-breaker.
/// (DeviceId, ThreatID) is unique, so a threat's detections count its devices.
fn threats_all(conn: &Connection, query: &ListQuery) -> Result<Vec<ThreatRow>> {
    let sql = build_list(&THREATS, query);
    // Numbers first, over a narrow covering index; then each threat's name and URL by one lookup.
    let select = format!(
        "SELECT ThreatID, '', MAX(Category), MAX(Severity), NULL, COUNT(*), \
         SUM(CASE WHEN {ACTIVE_THREAT_SQL} THEN 1 ELSE 0 END), SUM(NumberOfDetections), \
         MIN(InitialDetectionTime), MAX(LastThreatStatusChangeTime) \
         FROM threats {w} GROUP BY ThreatID",
        w = sql.where_clause,
    );
    let mut rows = conn
        .prepare_cached(&select)?
        .query_map(params_from_iter(sql.params.iter()), threat_row)?
        .collect::<crate::store::db::Result<Vec<_>>>()?;
    let mut names = conn.prepare_cached("SELECT ThreatName, URL FROM threats WHERE ThreatID = ?1 LIMIT 1")?;
    for row in &mut rows {
        (row.threat_name, row.url) = names.query_row([row.threat_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    }
    let by = |a: &ThreatRow, b: &ThreatRow| -> std::cmp::Ordering {
        match query.sort.as_str() {
            "DevicesAffected" => a.devices_affected.cmp(&b.devices_affected),
            "DevicesActive" => a.devices_active.cmp(&b.devices_active),
            "NumberOfDetections" => a.number_of_detections.cmp(&b.number_of_detections),
            "ThreatName" => a.threat_name.cmp(&b.threat_name),
            "Severity" => a.severity.code().cmp(&b.severity.code()),
            "Category" => a.category.code().cmp(&b.category.code()),
            "InitialDetectionTime" => a.initial_detection_time.cmp(&b.initial_detection_time),
            "LastThreatStatusChangeTime" => a.last_threat_status_change_time.cmp(&b.last_threat_status_change_time),
            _ => std::cmp::Ordering::Equal,
        }
        .then(a.threat_id.cmp(&b.threat_id))
    };
    match query.order {
        SortOrder::Asc => rows.sort_by(by),
        SortOrder::Desc => rows.sort_by(|a, b| by(b, a)),
    }
    Ok(rows)
}

fn threat_row(r: &Row) -> crate::store::db::Result<ThreatRow> {
    Ok(ThreatRow {
        threat_id: r.get(0)?,
        threat_name: r.get(1)?,
        category: Category::from_code(r.get(2)?),
        severity: Severity::from_code(r.get(3)?),
        url: r.get(4)?,
        devices_affected: r.get::<_, i64>(5)? as u64,
        devices_active: r.get::<_, i64>(6)? as u64,
        number_of_detections: r.get::<_, i64>(7)? as u64,
        initial_detection_time: r.get(8)?,
        last_threat_status_change_time: r.get(9)?,
    })
}

/// One page of threats (the selected detections grouped by ThreatID).
pub fn threats(conn: &Connection, query: &ListQuery) -> Result<Page<ThreatRow>> {
    let all = threats_all(conn, query)?;
    let total = all.len() as u64;
    let offset = (query.page as usize - 1) * query.page_size as usize;
    let items = all.into_iter().skip(offset).take(query.page_size as usize).collect();
    Ok(Page { items, total, page: query.page, page_size: query.page_size })
}

/// Every threat of the selection in order (for exports), until `each` returns false.
pub fn threats_each(conn: &Connection, query: &ListQuery, mut each: impl FnMut(ThreatRow) -> bool) -> Result<()> {
    for row in threats_all(conn, query)? {
        if !each(row) {
            break;
        }
    }
    Ok(())
}

/// One threat over all its detections; None if no device has it.
pub fn threat_by_id(conn: &Connection, id: i64) -> Result<Option<ThreatRow>> {
    let mut query = ListQuery::new(&THREATS);
    query.filters.push(("ThreatID".into(), id.to_string()));
    Ok(threats(conn, &query)?.items.into_iter().next())
}

/// One page of a list route, with the total count of the whole selection.
pub fn list_page<T>(conn: &Connection, table: &Table<T>, query: &ListQuery) -> Result<Page<T>> {
    snapshot(conn, || {
        let sql = build_list(&table.spec, query);
        let total: i64 = conn
            .prepare_cached(&format!("SELECT COUNT(*) FROM {} {}", table.from, sql.where_clause))?
            .query_row(params_from_iter(sql.params.iter()), |r| r.get(0))?;
        let mut items = Vec::with_capacity(sql.limit as usize);
        // Page through the ordered ids first (index-only), then fetch only this page's rows.
        let select = format!(
            "SELECT {cols} FROM {from} WHERE id IN (SELECT id FROM {from} {w} {o} LIMIT {l} OFFSET {off}) {o}",
            cols = table.columns,
            from = table.from,
            w = sql.where_clause,
            o = table.order_by(query, &sql.order_by),
            l = sql.limit,
            off = sql.offset,
        );
        let mut stmt = conn.prepare_cached(&select)?;
        let mut rows = stmt.query(params_from_iter(sql.params.iter()))?;
        while let Some(row) = rows.next()? {
            items.push((table.map)(&row)?);
        }
        Ok(Page { items, total: total as u64, page: query.page, page_size: query.page_size })
    })
}

/// Every row of the selection in order (no paging), handed to `each` until it returns false.
pub fn list_each<T>(
    conn: &Connection,
    table: &Table<T>,
    query: &ListQuery,
    mut each: impl FnMut(T) -> bool,
) -> Result<()> {
    let sql = build_list(&table.spec, query);
    let select = format!("SELECT {} FROM {} {} {}", table.columns, table.from, sql.where_clause, table.order_by(query, &sql.order_by));
    let mut stmt = conn.prepare(&select)?;
    let mut rows = stmt.query(params_from_iter(sql.params.iter()))?;
    while let Some(row) = rows.next()? {
        if !each((table.map)(&row)?) {
            break;
        }
    }
    Ok(())
}

/// A page of devices: the in-memory index selects and orders, SQLite supplies the rows.
pub fn devices(conn: &Connection, index: &DeviceIndex, query: &ListQuery) -> Result<Page<DeviceRow>> {
    let (total, ids) = index.page(query);
    Ok(Page { items: devices_by_id(conn, &ids)?, total, page: query.page, page_size: query.page_size })
}

/// The devices with these row ids, in the same order.
pub fn devices_by_id(conn: &Connection, ids: &[i64]) -> Result<Vec<DeviceRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {DEVICE_COLUMNS}, id FROM devices WHERE id IN ({})", vec!["?"; ids.len()].join(", "));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut by_id: std::collections::HashMap<i64, DeviceRow> = stmt
        .query_map(params_from_iter(ids.iter()), |r| Ok((r.get::<_, i64>(DEVICE_ID_AT)?, device_row(r)?)))?
        .collect::<crate::store::db::Result<_>>()?;
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Values with device counts of every devices filter, from the index (labels for codes and ids).
pub fn devices_facets(conn: &Connection, index: &DeviceIndex, query: &ListQuery) -> Result<Facets> {
    let mut names: Option<std::collections::HashMap<String, String>> = None;
    let mut fields = Vec::new();
    for f in DEVICES.facets.iter().filter_map(|name| DEVICES.filter(name)) {
        let mut values: Vec<FacetCount> = index
            .facet_in(f.name, query)
            .into_iter()
            .filter(|v| !v.value.is_empty())
            .map(|v| FacetCount { value: v.value, label: None, count: v.count })
            .collect();
        match f.kind {
            FilterKind::Member => {
                let names = match &mut names {
                    Some(n) => n,
                    None => names.insert(
                        conn.prepare_cached("SELECT CollectionId, CollectionName FROM collections")?
                            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                            .collect::<crate::store::db::Result<_>>()?,
                    ),
                };
                for v in &mut values {
                    v.label = names.get(&v.value).map(|name| format!("{name} ({})", v.value));
                }
                values.sort_by(|a, b| a.label.cmp(&b.label));
            }
            FilterKind::Verdict => {
                for v in &mut values {
                    v.label = HealthVerdict::from_key(&v.value).map(|h| h.label().to_string());
                }
            }
            FilterKind::Agent => {
                for v in &mut values {
                    v.label = AgentState::from_key(&v.value).map(|s| s.label().to_string());
                }
                values.sort_by_key(|v| AgentState::from_key(&v.value).map(AgentState::code));
            }
            _ if f.name.ends_with("Version") => values.sort_by(|a, b| version_cmp(&a.value, &b.value)),
            _ => {}
        }
        fields.push(Facet { field: f.name.to_string(), values });
    }
    Ok(Facets { fields })
}

/// Devices by antivirus agent state and the spread of Defender versions (oldest first), from the index.
pub fn antivirus(index: &DeviceIndex) -> Antivirus {
    let counts = index.facet("AgentState");
    let states = AgentState::ALL
        .iter()
        .map(|s| StateCount {
            state: *s,
            count: counts.iter().find(|v| v.value == s.key()).map_or(0, |v| v.count),
        })
        .collect();
    let versions = |field: &str| -> Vec<VersionCount> {
        let mut out: Vec<VersionCount> = index
            .facet(field)
            .into_iter()
            .filter(|v| !v.value.is_empty())
            .map(|v| VersionCount { version: v.value, count: v.count })
            .collect();
        out.sort_by(|a, b| version_cmp(&a.version, &b.version));
        out
    };
    Antivirus {
        total_devices: index.len() as u64,
        states,
        engine_versions: versions("EngineVersion"),
        signature_versions: versions("SignatureVersion"),
        platform_versions: versions("DefenderVersion"),
    }
}

pub fn tenant(conn: &Connection) -> Result<TenantInfo> {
    let get = |k: &str| -> Result<String> { Ok(get_meta(conn, k)?.unwrap_or_default()) };
    Ok(TenantInfo {
        tenant_id: get("tenant_id")?,
        tenant_name: get("tenant_name")?,
        hierarchy_id: get("hierarchy_id")?,
        site_code: get("site_code")?,
    })
}

/// The Overview's KPIs.
pub fn summary(conn: &Connection, index: &DeviceIndex) -> Result<Summary> {
    // The device numbers are the devices index's counts, the same the devices list filters by, so
    // each number equals the total of the list it opens.
    let count = |filter: &str, value: &str| index.count(filter, value);
    let mut by_severity: Vec<SeverityCount> = Severity::ALL.iter().map(|s| SeverityCount { severity: *s, count: 0 }).collect();
    snapshot(conn, || {
        let mut stmt = conn.prepare_cached(&format!("SELECT Severity, COUNT(*) FROM threats WHERE {ACTIVE_THREAT_SQL} GROUP BY Severity"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let severity = Severity::from_code(row.get(0)?);
            let count = row.get::<_, i64>(1)? as u64;
            match by_severity.iter_mut().find(|c| c.severity == severity) {
                Some(entry) => entry.count += count,
                None => by_severity.push(SeverityCount { severity, count }),
            }
        }
        Ok(Summary {
            tenant: tenant(conn)?,
            total_devices: index.len() as u64,
            healthy: count("DefenderHealth", HealthVerdict::Healthy.key()),
            at_risk: count("DefenderHealth", HealthVerdict::AtRisk.key()),
            unhealthy: count("DefenderHealth", HealthVerdict::Unhealthy.key()),
            not_reporting: count("DefenderHealth", HealthVerdict::NotReporting.key()),
            active_threats: by_severity.iter().map(|c| c.count).sum(),
            active_threats_by_severity: by_severity,
            devices_with_active_threats: count("HasActiveThreats", "true"),
            signatures_out_of_date: count("SignatureOutOfDate", "true"),
            scans_overdue: count("ScanOverdue", "true"),
            reboot_required: count("RebootRequired", "true"),
            last_upload: get_meta(conn, "last_upload")?,
        })
    })
}

const HEALTH_COLUMNS: &str = "DeviceId, ProductStatus, ComputerState, DefenderEnabled, RtpEnabled, NisEnabled, \
     QuickScanOverdue, FullScanOverdue, SignatureOutOfDate, RebootRequired, FullScanRequired, \
     TamperProtectionEnabled, IsMdeSenseRunning, IsVirtualMachine, MdeOnboardingState, EngineVersion, \
     SignatureVersion, DefenderVersion, QuickScanTime, FullScanTime, QuickScanSigVersion, FullScanSigVersion, \
     LastUpdateTime";

fn health(r: &Row) -> crate::store::db::Result<DefenderHealth> {
    Ok(DefenderHealth {
        device_id: r.get(0)?,
        product_status: ProductStatus(r.get::<_, i64>(1)? as u64),
        computer_state: ComputerState(r.get::<_, i64>(2)? as u64),
        defender_enabled: r.get(3)?,
        rtp_enabled: r.get(4)?,
        nis_enabled: r.get(5)?,
        quick_scan_overdue: r.get(6)?,
        full_scan_overdue: r.get(7)?,
        signature_out_of_date: r.get(8)?,
        reboot_required: r.get(9)?,
        full_scan_required: r.get(10)?,
        tamper_protection_enabled: r.get(11)?,
        is_mde_sense_running: r.get(12)?,
        is_virtual_machine: r.get(13)?,
        mde_onboarding_state: MdeOnboardingState::from_code(r.get(14)?),
        engine_version: r.get(15)?,
        signature_version: r.get(16)?,
        defender_version: r.get(17)?,
        quick_scan_time: r.get(18)?,
        full_scan_time: r.get(19)?,
        quick_scan_sig_version: r.get(20)?,
        full_scan_sig_version: r.get(21)?,
        last_update_time: r.get(22)?,
    })
}

/// The health record of a device by its AADDeviceID.
pub fn health_of(conn: &Connection, device_id: &str) -> Result<Option<DefenderHealth>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {HEALTH_COLUMNS} FROM defender_health WHERE DeviceId = ?1"))?
        .query_row([device_id], health)
        .optional()?)
}

/// Writes the health record of the device with row id `device`; the caller keeps the device's
/// DefenderHealth verdict in step.
pub fn insert_health(conn: &Connection, device: i64, h: &DefenderHealth) -> Result<()> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        let update: Vec<String> = HEALTH_COLUMNS.split(',').map(str::trim).map(|c| format!("{c} = excluded.{c}")).collect();
        format!(
            "INSERT INTO defender_health (id, {HEALTH_COLUMNS}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
            vec!["?"; 24].join(", "),
            update.join(", ")
        )
    });
    conn.prepare_cached(sql)?
    .execute(params_from_iter(std::iter::once(Value::Integer(device)).chain(health_values(h))))?;
    Ok(())
}

/// A health record's values in `HEALTH_COLUMNS` order, as stored.
fn health_values(h: &DefenderHealth) -> [Value; 23] {
    let text = |v: &Option<String>| v.clone().map(Value::Text).unwrap_or(Value::Null);
    let flag = |b: bool| Value::Integer(b as i64);
    [
        Value::Text(h.device_id.clone()),
        Value::Integer(h.product_status.0 as i64),
        Value::Integer(h.computer_state.0 as i64),
        flag(h.defender_enabled),
        flag(h.rtp_enabled),
        flag(h.nis_enabled),
        flag(h.quick_scan_overdue),
        flag(h.full_scan_overdue),
        flag(h.signature_out_of_date),
        flag(h.reboot_required),
        flag(h.full_scan_required),
        flag(h.tamper_protection_enabled),
        flag(h.is_mde_sense_running),
        flag(h.is_virtual_machine),
        Value::Integer(h.mde_onboarding_state.code()),
        Value::Text(h.engine_version.clone()),
        Value::Text(h.signature_version.clone()),
        Value::Text(h.defender_version.clone()),
        text(&h.quick_scan_time),
        text(&h.full_scan_time),
        text(&h.quick_scan_sig_version),
        text(&h.full_scan_sig_version),
        text(&h.last_update_time),
    ]
}

/// Writes a device's health record on the upload path: its row updated in place (every column but
/// DeviceId, which is the device's own id and never changes, so the unique index on it is not
/// touched), or inserted when the device has none yet.
pub fn write_health(conn: &Connection, device: i64, h: &DefenderHealth) -> Result<()> {
    static UPDATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = UPDATE.get_or_init(|| {
        let columns: Vec<&str> = HEALTH_COLUMNS.split(',').map(str::trim).skip(1).collect();
        let set: Vec<String> = columns.iter().enumerate().map(|(i, c)| format!("{c} = ?{}", i + 1)).collect();
        format!("UPDATE defender_health SET {} WHERE id = ?{}", set.join(", "), columns.len() + 1)
    });
    let updated = conn
        .prepare_cached(sql)?
        .execute(params_from_iter(health_values(h).into_iter().skip(1).chain(std::iter::once(Value::Integer(device)))))?;
    if updated == 0 {
        insert_health(conn, device, h)?;
    }
    Ok(())
}

/// One device with its health, threats, collections and applications; None if the id is unknown.
pub fn device(conn: &Connection, id: &str) -> Result<Option<DeviceDetail>> {
    let row = conn
        .prepare_cached(&format!("SELECT {DEVICE_COLUMNS}, id FROM devices WHERE AADDeviceID = ?1"))?
        .query_row([id], |r| Ok((device_row(r)?, r.get::<_, i64>(DEVICE_ID_AT)?)))
        .optional()?;
    let Some((device, rowid)) = row else { return Ok(None) };
    let health = health_of(conn, id)?;
    let threats = conn
        .prepare_cached(&format!(
            "SELECT {THREAT_COLUMNS} FROM threats WHERE DeviceId = ?1 ORDER BY LastThreatStatusChangeTime DESC, id DESC"
        ))?
        .query_map([id], threat)?
        .collect::<crate::store::db::Result<Vec<_>>>()?;
    let collections = conn
        .prepare_cached(
            "SELECT c.CollectionId, c.CollectionName FROM collection_members m JOIN collections c ON c.id = m.collection \
             WHERE m.device = ?1 ORDER BY c.CollectionName",
        )?
        .query_map([rowid], |r| Ok(CollectionRef { collection_id: r.get(0)?, collection_name: r.get(1)? }))?
        .collect::<crate::store::db::Result<Vec<_>>>()?;
    let applications = conn
        .prepare_cached(
            "SELECT a.ProductName, a.Publisher, a.Version, a.ProductLanguage, a.ProgramID FROM applications a \
             JOIN collection_members m ON m.collection = a.TargetCollection AND m.device = ?1 \
             ORDER BY a.ProductName, a.Version",
        )?
        .query_map([rowid], application)?
        .collect::<crate::store::db::Result<Vec<_>>>()?;
    Ok(Some(DeviceDetail { device, health, threats, collections, applications }))
}

/// Bucket width of a threat timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Hour,
}

impl Bucket {
    pub fn seconds(self) -> i64 {
        match self {
            Bucket::Day => 86_400,
            Bucket::Hour => 3_600,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Hour => "hour",
        }
    }
}

/// What a timeline counts: rows of `table` by their `time` column, split by the integer `key` column.
pub struct TimelineSource {
    pub table: &'static str,
    pub time: &'static str,
    pub key: &'static str,
    /// The series in stack order: (code, label).
    pub series: Vec<(i64, String)>,
    /// Extra condition (SQL with `?` placeholders) and its values, e.g. the detections list's filters.
    pub filter: Option<(String, Vec<crate::store::db::types::Value>)>,
    /// The series an undocumented code is counted in (so every row is counted somewhere).
    pub fallback: Option<usize>,
}

impl TimelineSource {
    /// Detections by severity, selected by the detections list's filters (its time window aside:
    /// the timeline has its own), so a bucket counts what the list shows for its window.
    pub fn threats(filters: Option<&ListQuery>) -> Self {
        let filter = filters.map(|q| build_list(&DETECTIONS, q)).filter(|sql| !sql.where_clause.is_empty()).map(|sql| {
            (sql.where_clause.trim_start_matches("WHERE ").to_string(), sql.params)
        });
        TimelineSource {
            table: "threats",
            time: "InitialDetectionTime",
            key: "Severity",
            series: Severity::ALL.iter().map(|s| (s.code(), s.label().into_owned())).collect(),
            filter,
            fallback: Severity::ALL.iter().position(|s| *s == Severity::Unknown0),
        }
    }

    /// The service connection point's status events and exceptions by severity level (requests and
    /// traces are left out).
    pub fn connector() -> Self {
        TimelineSource {
            table: "telemetry",
            time: "Time",
            key: "SeverityLevel",
            series: TelemetrySeverity::ALL.iter().map(|s| (s.code(), s.label().into_owned())).collect(),
            filter: Some((
                "Kind IN (?, ?)".into(),
                vec![
                    crate::store::db::types::Value::Text("TrackEvent".into()),
                    crate::store::db::types::Value::Text("TrackException".into()),
                ],
            )),
            // Above Critical is at least critical.
            fallback: Some(TelemetrySeverity::ALL.len() - 1),
        }
    }
}

/// Rows whose time is in [from, to), counted per bucket (`width` seconds: an hour or a day) and
/// series, empty buckets included. Times are RFC 3339 UTC text, so a bucket is a text prefix.
pub fn timeline(conn: &Connection, source: &TimelineSource, from: i64, to: i64, width: i64) -> Result<Timeline> {
    let start = from.div_euclid(width) * width;
    let n = ((to - start) + width - 1).div_euclid(width).max(0) as usize;
    let mut buckets: Vec<TimelineBucket> = (0..n)
        .map(|i| TimelineBucket {
            start: time::format_rfc3339(start + i as i64 * width),
            counts: vec![0; source.series.len()],
        })
        .collect();
    // Walk the rows in time order (the time index is covering) and advance through the buckets by
    // comparing RFC 3339 text with each bucket's end: no per-row parsing, no grouping sort.
    // The filter's anonymous `?`s number on from ?3.
    let only = source.filter.as_ref().map(|(cond, _)| format!(" AND ({cond})")).unwrap_or_default();
    let sql = format!(
        "SELECT {t}, {k} FROM {table} WHERE {t} >= ?1 AND {t} < ?2{only} ORDER BY {t}",
        t = source.time,
        k = source.key,
        table = source.table,
    );
    let ends: Vec<String> = (1..=n).map(|i| time::format_rfc3339(start + i as i64 * width)).collect();
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut values =
        vec![crate::store::db::types::Value::Text(time::format_rfc3339(from)), crate::store::db::types::Value::Text(time::format_rfc3339(to))];
    if let Some((_, v)) = &source.filter {
        values.extend(v.iter().cloned());
    }
    let mut rows = stmt.query(params_from_iter(values.iter()))?;
    let mut at = 0usize;
    while let Some(row) = rows.next()? {
        let t = row.get_ref(0)?.as_str().unwrap_or_default();
        while at < ends.len() && t >= ends[at].as_str() {
            at += 1;
        }
        let code: i64 = row.get(1)?;
        let series = source.series.iter().position(|(c, _)| *c == code).or(source.fallback);
        let (Some(b), Some(series)) = (buckets.get_mut(at), series) else {
            continue;
        };
        b.counts[series] += 1;
    }
    Ok(Timeline {
        bucket: if width == 3_600 { "hour" } else { "day" }.into(),
        from: time::format_rfc3339(from),
        to: time::format_rfc3339(to),
        series: source.series.iter().map(|(code, label)| TimelineSeries { code: *code, label: label.clone() }).collect(),
        buckets,
    })
}

/// The service connection point's facts and its newest telemetry.
pub fn connector(conn: &Connection, events: usize) -> Result<Connector> {
    let facts: ConnectorFacts = match get_meta(conn, "connector_facts")? {
        Some(json) => serde_json::from_str(&json).map_err(|e| {
            crate::store::db::Error::Conversion(0, format!("connector facts: {e}"))
        })?,
        None => ConnectorFacts {
            os_version: String::new(),
            site_version: String::new(),
            site_support_id: String::new(),
            language: String::new(),
            azure_tenant_id: String::new(),
            aad_client_id: String::new(),
            last_upload_time: None,
        },
    };
    let list = conn
        .prepare_cached(
            "SELECT Time, Kind, Name, SeverityLevel, Message FROM telemetry ORDER BY Time DESC, id DESC LIMIT ?1",
        )?
        .query_map([events as i64], |r| {
            Ok(TelemetryEvent {
                time: r.get(0)?,
                kind: r.get(1)?,
                name: r.get(2)?,
                severity_level: TelemetrySeverity::from_code(r.get(3)?),
                message: r.get(4)?,
            })
        })?
        .collect::<crate::store::db::Result<Vec<_>>>()?;
    let since = facts
        .last_upload_time
        .as_deref()
        .and_then(time::parse_rfc3339)
        .map(|t| time::format_rfc3339(t - 86_400))
        .unwrap_or_default();
    let exceptions_last_24h: i64 = conn.query_row(
        "SELECT COUNT(*) FROM telemetry WHERE Time >= ?1 AND Kind = 'TrackException'",
        [&since],
        |r| r.get(0),
    )?;
    let errors_last_24h: i64 =
        conn.query_row("SELECT COUNT(*) FROM telemetry WHERE Time >= ?1 AND SeverityLevel >= 3", [&since], |r| {
            r.get(0)
        })?;
    Ok(Connector {
        facts,
        events: list,
        exceptions_last_24h: exceptions_last_24h as u64,
        errors_last_24h: errors_last_24h as u64,
    })
}

// ---- import: the records an import merges its columns into ----

/// The Entra device ids of the devices with this name (at most `limit`).
pub fn import_devices_named(conn: &Connection, name: &str, limit: usize) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached("SELECT AADDeviceID FROM devices WHERE Name = ?1 ORDER BY id LIMIT ?2")?
        .query_map(crate::store::db::params![name, limit as i64], |r| r.get(0))?
        .collect::<crate::store::db::Result<Vec<String>>>()?)
}

/// A device as it was uploaded, by Entra device id.
pub fn import_device(conn: &Connection, aad_device_id: &str) -> Result<Option<Device>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE AADDeviceID = ?1"))?
        .query_row([aad_device_id], |r| Ok(device_row(r)?.device))
        .optional()?)
}

/// One detection, by device and threat.
pub fn import_threat(conn: &Connection, aad_device_id: &str, threat_id: i64) -> Result<Option<ThreatDetection>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {THREAT_COLUMNS} FROM threats WHERE DeviceId = ?1 AND ThreatID = ?2"))?
        .query_row(crate::store::db::params![aad_device_id, threat_id], threat)
        .optional()?)
}

/// One collection as it was uploaded.
pub fn import_collection(conn: &Connection, collection_id: &str) -> Result<Option<DefenderCollection>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLLECTION_COLUMNS} FROM collection_rows WHERE CollectionId = ?1"))?
        .query_row([collection_id], collection)
        .optional()?)
}

/// The hierarchy (SMSID) and tenant of the store's first device: what a device an import creates
/// belongs to when the import does not say.
pub fn import_site(conn: &Connection) -> Result<Option<(String, String)>> {
    Ok(conn
        .query_row("SELECT SMSID, AADTenantID FROM devices ORDER BY id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}
