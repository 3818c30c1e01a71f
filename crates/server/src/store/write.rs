//! The one write path into the store. Every row of an uploaded entity is written by the functions
//! here — by the upload API (`apply`, a checked batch in one transaction) and by the demo generator
//! (the same `upsert_*` functions inside its own transaction) — and derived data (verdicts,
//! active-threat counts, antivirus states, vendor groups) is kept by the same rules.

use super::{insert_health, refresh_verdicts, set_meta, Result, StoreError};
use crate::store::db::{params, Connection, OptionalExtension, Transaction};
use std::sync::{Mutex, PoisonError};
use tenantscope_model::upload::{Record, RecordError, UploadKind};
use tenantscope_model::*;

/// What a committed write changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The store's change counter after this write (monotonic, kept in `meta`).
    pub id: i64,
    /// The upload kind written ("devices", ...), or "delete".
    pub kind: &'static str,
    /// Records written or removed.
    pub records: usize,
    /// Whether the devices list (and so its index) may differ.
    pub devices: bool,
    /// The devices (row ids, ascending) written or removed, new ones included: the index follows
    /// them in memory. None: unknown (the index is rebuilt).
    pub updated: Option<Vec<i64>>,
    /// Those of `updated` already in the store before whose name, serial number or ids (the fields
    /// the store's indexes order) may have changed, and removed ones (their id may be given again).
    pub moved: Vec<i64>,
    /// When it committed (Unix seconds; the same on every server that follows it).
    pub at: i64,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The change log: every write leaves its change in the store's `changes` table in its own
/// transaction (so a change is there exactly when its write committed, whichever server wrote it),
/// and on PostgreSQL announces it to every server listening (`NOTIFY tenantscope_changes`, sent at
/// commit). The follow-up (`Store::catch_up`) reads the changes after the last it handed back.
#[derive(Default)]
pub struct ChangeLog {
    /// The last change handed to the follow-up (`take`); None until the store says where it is.
    followed: Mutex<Option<i64>>,
}

/// The meta key of a tenant's store: the one tenant (AADTenantID / TenantId) its records belong to.
pub const SCOPED_TENANT: &str = "scoped_tenant";

/// Changes kept in the table: a server that was away for more is brought up by a rebuild (its
/// clients are told to reload everything).
pub const CHANGES_KEPT: i64 = 10_000;

/// The channel changes are announced on (PostgreSQL).
pub const CHANNEL: &str = "tenantscope_changes";

fn ids_text(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(" ")
}

fn ids_of(text: &str) -> Vec<i64> {
    text.split_ascii_whitespace().filter_map(|id| id.parse().ok()).collect()
}

impl ChangeLog {
    fn followed(&self) -> std::sync::MutexGuard<'_, Option<i64>> {
        self.followed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the follow-up starts: changes after `last` are handed back (the store's last change
    /// when it was opened).
    pub fn start_at(&self, last: i64) {
        self.followed().get_or_insert(last);
    }

    /// Records `change` in the log, announces it, and commits `tx`, whose change it is.
    pub fn commit(&self, tx: Transaction<'_>, change: Change) -> Result<Change> {
        tx.execute(
            "INSERT INTO changes (id, kind, records, devices, updated, moved, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                change.id,
                change.kind,
                change.records as i64,
                change.devices,
                change.updated.as_deref().map(ids_text),
                ids_text(&change.moved),
                change.at
            ],
        )?;
        if change.id % 64 == 0 {
            tx.execute("DELETE FROM changes WHERE id <= ?1", [change.id - CHANGES_KEPT])?;
        }
        if tx.dialect() == super::Dialect::Postgres {
            // "schema:id": every store in the database (a tenant's is a schema) announces on one channel.
            tx.execute("SELECT pg_notify(?1, current_schema() || ':' || ?2)", params![CHANNEL, change.id.to_string()])?;
        }
        tx.commit()?;
        Ok(change)
    }

    /// The changes committed after the last one handed back, up to `last` (the last change of the
    /// snapshot `conn` reads), in order; they are not handed back again. A change no longer in the
    /// table is missing from the list (the caller sees the gap).
    pub fn take(&self, conn: &Connection, last: i64) -> Result<Vec<Change>> {
        let mut followed = self.followed();
        let after = followed.unwrap_or(last);
        if after >= last {
            *followed = Some(after.max(last));
            return Ok(Vec::new());
        }
        let changes = conn
            .prepare_cached(
                "SELECT id, kind, records, devices, updated, moved, at FROM changes WHERE id > ?1 AND id <= ?2 ORDER BY id",
            )?
            .query_map([after, last], |r| {
                let kind: String = r.get(1)?;
                Ok(Change {
                    id: r.get(0)?,
                    kind: UploadKind::ALL.iter().map(|k| k.key()).find(|k| *k == kind).unwrap_or("delete"),
                    records: r.get::<_, i64>(2)? as usize,
                    devices: r.get(3)?,
                    updated: r.get::<_, Option<String>>(4)?.map(|t| ids_of(&t)),
                    moved: ids_of(&r.get::<_, String>(5)?),
                    at: r.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        *followed = Some(last);
        Ok(changes)
    }
}

/// Why a batch was not written: one of its records (422), or the store.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Record(RecordError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::store::db::Error> for WriteError {
    fn from(e: crate::store::db::Error) -> Self {
        WriteError::Store(e.into())
    }
}

/// The device row id of an AADDeviceID, if the device exists.
pub fn device_rowid(conn: &Connection, aad_device_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM devices WHERE AADDeviceID = ?1")?
        .query_row([aad_device_id], |r| r.get(0))
        .optional()?)
}

/// Inserts or updates a device by its AADDeviceID; returns its row id. A new device starts as not
/// reporting (no health yet); the caller refreshes derived columns of devices it touched.
pub fn upsert_device(conn: &Connection, d: &Device) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO devices (SMSID, AADTenantID, AADDeviceID, Name, DeviceOS, DeviceOSBuild, AADPrimaryUserID, Model, \
             Manufacturer, SerialNumber, DomainNames, SKU, DefenderHealth, AgentState, ActiveThreats) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 0) \
             ON CONFLICT (AADDeviceID) DO UPDATE SET SMSID = excluded.SMSID, AADTenantID = excluded.AADTenantID, \
             Name = excluded.Name, DeviceOS = excluded.DeviceOS, DeviceOSBuild = excluded.DeviceOSBuild, \
             AADPrimaryUserID = excluded.AADPrimaryUserID, Model = excluded.Model, Manufacturer = excluded.Manufacturer, \
             SerialNumber = excluded.SerialNumber, DomainNames = excluded.DomainNames, SKU = excluded.SKU \
             RETURNING id",
        )?
        .query_row(
            params![
                d.smsid,
                d.aad_tenant_id,
                d.aad_device_id,
                d.name,
                d.device_os,
                d.device_os_build,
                d.aad_primary_user_id,
                d.model,
                d.manufacturer,
                d.serial_number,
                d.domain_names,
                d.sku,
                HealthVerdict::NotReporting.code(),
                AgentState::of(None).code(),
            ],
            |r| r.get(0),
        )?)
}

/// Updates an existing device's changed columns only (each indexed column costs index writes):
/// Some((row id, whether a column the index orders by the store changed)), or None when the store
/// has no such device.
fn update_device(conn: &Connection, d: &Device) -> Result<Option<(i64, bool)>> {
    type Old = (i64, [String; 10], Option<String>);
    let old: Option<Old> = conn
        .prepare_cached(
            "SELECT id, SMSID, AADTenantID, Name, DeviceOS, DeviceOSBuild, Model, Manufacturer, SerialNumber, DomainNames, SKU, \
             AADPrimaryUserID FROM devices WHERE AADDeviceID = ?1",
        )?
        .query_row([&d.aad_device_id], |r| {
            Ok((r.get(0)?, std::array::from_fn(|i| r.get::<_, String>(i + 1).unwrap_or_default()), r.get(11)?))
        })
        .optional()?;
    let Some((id, old, old_user)) = old else { return Ok(None) };
    let new = [&d.smsid, &d.aad_tenant_id, &d.name, &d.device_os, &d.device_os_build, &d.model, &d.manufacturer, &d.serial_number, &d.domain_names, &d.sku];
    const COLUMNS: [&str; 10] =
        ["SMSID", "AADTenantID", "Name", "DeviceOS", "DeviceOSBuild", "Model", "Manufacturer", "SerialNumber", "DomainNames", "SKU"];
    let mut set = Vec::new();
    let mut values: Vec<crate::store::db::types::Value> = Vec::new();
    for i in 0..COLUMNS.len() {
        if old[i] != *new[i] {
            set.push(format!("{} = ?", COLUMNS[i]));
            values.push(new[i].clone().into());
        }
    }
    if old_user != d.aad_primary_user_id {
        set.push("AADPrimaryUserID = ?".into());
        values.push(d.aad_primary_user_id.clone().into());
    }
    let ordered_by_store = set.iter().any(|c| ["SMSID", "AADTenantID", "Name", "SerialNumber", "AADPrimaryUserID"].iter().any(|s| c.starts_with(s)));
    if !set.is_empty() {
        values.push(id.into());
        conn.prepare_cached(&format!("UPDATE devices SET {} WHERE id = ?", set.join(", ")))?.execute(crate::store::db::params_from_iter(values))?;
    }
    Ok(Some((id, ordered_by_store)))
}

/// Writes a device's health record and its antivirus state (the verdict follows in `refresh_verdicts`).
pub fn upsert_health(conn: &Connection, device: i64, h: &DefenderHealth) -> Result<()> {
    insert_health(conn, device, h)?;
    conn.prepare_cached("UPDATE devices SET AgentState = ?1 WHERE id = ?2")?
        .execute(params![AgentState::of(Some(h)).code(), device])?;
    Ok(())
}

/// Inserts or updates one detection by (DeviceId, ThreatID).
pub fn upsert_threat(conn: &Connection, t: &ThreatDetection) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO threats (ThreatID, ThreatName, Category, Severity, URL, CurrentStatus, CurrentStatusID, ExecutionStatus, \
         LastThreatStatusChangeTime, InitialDetectionTime, NumberOfDetections, DeviceId) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
         ON CONFLICT (DeviceId, ThreatID) DO UPDATE SET ThreatName = excluded.ThreatName, Category = excluded.Category, \
         Severity = excluded.Severity, URL = excluded.URL, CurrentStatus = excluded.CurrentStatus, \
         CurrentStatusID = excluded.CurrentStatusID, ExecutionStatus = excluded.ExecutionStatus, \
         LastThreatStatusChangeTime = excluded.LastThreatStatusChangeTime, \
         InitialDetectionTime = excluded.InitialDetectionTime, NumberOfDetections = excluded.NumberOfDetections",
    )?
    .execute(params![
        t.threat_id,
        t.threat_name,
        t.category.code(),
        t.severity.code(),
        t.url,
        t.current_status.code(),
        t.current_status_id.code(),
        t.execution_status.code(),
        t.last_threat_status_change_time,
        t.initial_detection_time,
        t.number_of_detections,
        t.device_id
    ])?;
    Ok(())
}

/// Inserts or updates a collection by CollectionId; returns its row id.
pub fn upsert_collection(conn: &Connection, c: &DefenderCollection) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO collections (CollectionId, CollectionName, CollectionType, CountTargeted, CountCompliant, \
             CountNonCompliant, CountFailed, CountActivated, CountEnforced, TenantId, HierarchyId) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             ON CONFLICT (CollectionId) DO UPDATE SET CollectionName = excluded.CollectionName, \
             CollectionType = excluded.CollectionType, CountTargeted = excluded.CountTargeted, \
             CountCompliant = excluded.CountCompliant, CountNonCompliant = excluded.CountNonCompliant, \
             CountFailed = excluded.CountFailed, CountActivated = excluded.CountActivated, \
             CountEnforced = excluded.CountEnforced, TenantId = excluded.TenantId, HierarchyId = excluded.HierarchyId \
             RETURNING id",
        )?
        .query_row(
            params![
                c.collection_id,
                c.collection_name,
                c.collection_type.code(),
                c.count_targeted as i64,
                c.count_compliant as i64,
                c.count_non_compliant as i64,
                c.count_failed as i64,
                c.count_activated as i64,
                c.count_enforced as i64,
                c.tenant_id,
                c.hierarchy_id
            ],
            |r| r.get(0),
        )?)
}

/// Inserts or updates a deployment type by ProgramID, with its vendor group. `target` is the
/// collection it is deployed to (row id), when known.
pub fn upsert_application(conn: &Connection, a: &Application, target: Option<i64>, reach: u64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO applications (ProgramID, ProductName, Publisher, Version, ProductLanguage, TargetCollection, \
         ProductDeviceCount, PublisherGroup) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (ProgramID) DO UPDATE SET ProductName = excluded.ProductName, Publisher = excluded.Publisher, \
         Version = excluded.Version, ProductLanguage = excluded.ProductLanguage, PublisherGroup = excluded.PublisherGroup, \
         TargetCollection = COALESCE(excluded.TargetCollection, applications.TargetCollection), \
         ProductDeviceCount = CASE WHEN excluded.ProductDeviceCount > applications.ProductDeviceCount \
         THEN excluded.ProductDeviceCount ELSE applications.ProductDeviceCount END",
    )?
    .execute(params![
        a.program_id,
        a.product_name,
        a.publisher,
        a.version,
        a.product_language,
        target,
        reach as i64,
        publisher_group(&a.publisher)
    ])?;
    Ok(())
}

/// Adds a telemetry item unless the same one (time, kind, name, message) is there already.
pub fn insert_telemetry(conn: &Connection, e: &TelemetryEvent) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO telemetry (Time, Kind, Name, SeverityLevel, Message) SELECT ?1, ?2, ?3, ?4, ?5 \
         WHERE NOT EXISTS (SELECT 1 FROM telemetry WHERE Time = ?1 AND Kind = ?2 AND Name = ?3 AND Message = ?5)",
    )?
    .execute(params![e.time, e.kind, e.name, e.severity_level.code(), e.message])?;
    Ok(())
}

/// Counts one more change in `meta` (inside the caller's transaction) and returns its id.
pub fn next_change(conn: &Connection) -> Result<i64> {
    let id = super::get_meta(conn, "change_id")?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0) + 1;
    set_meta(conn, "change_id", &id.to_string())?;
    Ok(id)
}

/// The last change id (0: none since the store was made).
pub fn last_change(conn: &Connection) -> Result<i64> {
    Ok(super::get_meta(conn, "change_id")?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0))
}

/// Applies a checked batch in one transaction: upserts by natural key, derived data refreshed for
/// the devices it touched, the tenant's last upload set to `now`. A record that refers to a device
/// the store does not have refuses the whole batch; nothing of it is written.
pub fn apply(conn: &mut Connection, kind: UploadKind, records: &[Record], now: i64, log: &ChangeLog) -> Result<Change, WriteError> {
    let tx = conn.transaction_with_behavior(crate::store::db::TransactionBehavior::Immediate)?;
    apply_in(tx, kind, records, now, log)
}

/// `apply` of the records `prepare` makes inside the write's own transaction (no other write can
/// come between what it reads and what is written). None, with nothing written, when it makes none.
/// An import merges its columns over the records as they are at that moment.
pub fn apply_prepared(
    conn: &mut Connection,
    kind: UploadKind,
    now: i64,
    log: &ChangeLog,
    prepare: impl FnOnce(&Connection) -> Result<Vec<Record>, WriteError>,
) -> Result<Option<Change>, WriteError> {
    let tx = conn.transaction_with_behavior(crate::store::db::TransactionBehavior::Immediate)?;
    let records = prepare(&tx)?;
    if records.is_empty() {
        return Ok(None);
    }
    apply_in(tx, kind, &records, now, log).map(Some)
}

fn apply_in(tx: Transaction<'_>, kind: UploadKind, records: &[Record], now: i64, log: &ChangeLog) -> Result<Change, WriteError> {
    let unknown_device = |index: usize, field: &str| {
        WriteError::Record(RecordError {
            index,
            field: Some(field.into()),
            message: "no device with this AADDeviceID; upload the device first".into(),
        })
    };
    // A tenant's store takes its tenant's records only: every row carries its tenant.
    if let Some(tenant) = super::get_meta(&tx, SCOPED_TENANT)? {
        for (index, record) in records.iter().enumerate() {
            let (field, value) = match record {
                Record::Device(d) => ("AADTenantID", d.aad_tenant_id.as_str()),
                Record::Collection(c) => ("TenantId", c.tenant_id.as_str()),
                _ => continue,
            };
            if !value.eq_ignore_ascii_case(&tenant) {
                return Err(WriteError::Record(RecordError {
                    index,
                    field: Some(field.into()),
                    message: format!("this server takes records of tenant {tenant} here, not {value:?}"),
                }));
            }
        }
    }
    // Devices whose verdict must be derived again (their threats changed), every device touched,
    // and those that move in the orders the store's indexes give.
    let mut touched = Vec::new();
    let mut rederive = Vec::new();
    let mut moved = Vec::new();
    for (index, record) in records.iter().enumerate() {
        match record {
            Record::Device(d) => match update_device(&tx, d)? {
                Some((id, ordered_by_store)) => {
                    if ordered_by_store {
                        moved.push(id);
                    }
                    touched.push(id);
                }
                None => touched.push(upsert_device(&tx, d)?),
            },
            Record::Health(h) => {
                type Derived = (i64, i64, i64, i64);
                let (id, verdict, agent, count): Derived = tx
                    .prepare_cached("SELECT id, DefenderHealth, AgentState, ActiveThreats FROM devices WHERE AADDeviceID = ?1")?
                    .query_row([&h.device_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .optional()?
                    .ok_or_else(|| unknown_device(index, "DeviceId"))?;
                super::write_health(&tx, id, h)?;
                // The verdict from the record in hand and the device's active threats (the model's
                // rule); the write path keeps ActiveThreats, so a device without any needs no look.
                let active = if count > 0 { super::active_threats_of(&tx, &h.device_id)? } else { Vec::new() };
                let threats: Vec<ActiveThreat<'_>> =
                    active.iter().map(|(name, severity)| ActiveThreat { name, severity: Severity::from_code(*severity) }).collect();
                let derived = (HealthVerdict::of(Some(h), &threats).code(), AgentState::of(Some(h)).code(), active.len() as i64);
                // Written only when they change (each is an indexed column).
                if derived != (verdict, agent, count) {
                    tx.prepare_cached("UPDATE devices SET DefenderHealth = ?1, AgentState = ?2, ActiveThreats = ?3 WHERE id = ?4")?
                        .execute(params![derived.0, derived.1, derived.2, id])?;
                }
                touched.push(id);
            }
            Record::Threat(t) => {
                let id = device_rowid(&tx, &t.device_id)?.ok_or_else(|| unknown_device(index, "DeviceId"))?;
                upsert_threat(&tx, t)?;
                touched.push(id);
                rederive.push(id);
            }
            Record::Collection(c) => {
                upsert_collection(&tx, c)?;
            }
            Record::Application(a) => upsert_application(&tx, a, None, 0)?,
            Record::Telemetry(e) => insert_telemetry(&tx, e)?,
        }
    }
    touched.sort_unstable();
    touched.dedup();
    rederive.sort_unstable();
    rederive.dedup();
    moved.sort_unstable();
    moved.dedup();
    refresh_verdicts(&tx, &rederive)?;
    set_meta(&tx, "last_upload", &time::format_rfc3339(now))?;
    learn_tenant(&tx, records)?;
    let id = next_change(&tx)?;
    let change = Change {
        id,
        kind: kind.key(),
        records: records.len(),
        devices: matches!(kind, UploadKind::Devices | UploadKind::Defender | UploadKind::Threats),
        updated: Some(touched),
        moved,
        at: unix_now(),
    };
    Ok(log.commit(tx, change)?)
}

/// The tenant, hierarchy and site a store shows in its header, from the first records that say
/// (a store filled by uploads or an import has no demo tenant to take them from); never changed
/// once known.
fn learn_tenant(conn: &Connection, records: &[Record]) -> Result<()> {
    let mut learned: Vec<(&str, &str)> = Vec::new();
    for record in records {
        match record {
            // A device's SMSID is the hierarchy's only on some sites (others send each device's
            // SMS GUID): the hierarchy comes from collections' HierarchyId.
            Record::Device(d) => learned.push(("tenant_id", d.aad_tenant_id.as_str())),
            Record::Collection(c) => {
                learned.extend([("tenant_id", c.tenant_id.as_str()), ("hierarchy_id", c.hierarchy_id.as_str())]);
                let site = c.collection_id.get(..3).unwrap_or("");
                if site.len() == 3 && site != "SMS" && site.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                    learned.push(("site_code", site));
                }
            }
            _ => return Ok(()),
        }
        if learned.len() > 64 {
            break;
        }
    }
    for key in ["tenant_id", "hierarchy_id", "site_code"] {
        let Some((_, value)) = learned.iter().find(|(k, v)| *k == key && !v.trim().is_empty()) else { continue };
        if super::get_meta(conn, key)?.is_none_or(|known| known.is_empty()) {
            set_meta(conn, key, value)?;
        }
    }
    Ok(())
}

/// Removes a device and everything hanging off it (health, detections, memberships). None when
/// there is no such device.
pub fn delete_device(conn: &mut Connection, aad_device_id: &str, log: &ChangeLog) -> Result<Option<Change>> {
    let tx = conn.transaction_with_behavior(crate::store::db::TransactionBehavior::Immediate)?;
    let Some(id) = device_rowid(&tx, aad_device_id)? else { return Ok(None) };
    tx.execute("DELETE FROM collection_members WHERE device = ?1", [id])?;
    tx.execute("DELETE FROM threats WHERE DeviceId = ?1", [aad_device_id])?;
    tx.execute("DELETE FROM defender_health WHERE id = ?1", [id])?;
    tx.execute("DELETE FROM devices WHERE id = ?1", [id])?;
    let next = next_change(&tx)?;
    // Moved as well: the store may give its id to the next new device (a different device then,
    // placed anew in every order).
    let change = Change { id: next, kind: "delete", records: 1, devices: true, updated: Some(vec![id]), moved: vec![id], at: unix_now() };
    Ok(Some(log.commit(tx, change)?))
}
