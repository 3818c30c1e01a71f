//! Import of what an admin can export today (Intune report exports, Microsoft Graph pages) into the
//! store, through the upload contract and its one write path.
//!
//! Three steps: `read` a file into tables (the whole file is checked; a bad one is refused before
//! anything is written), `plan` them against the store (rows matched to devices on the Entra device
//! id, else the device name — never on Intune's own DeviceId; each row's columns merged over the
//! record the store has; every record checked by the model; records the store already has as they
//! are left out), then the API applies the plan's batches with `store::write::apply`, as an upload.

pub mod columns;
pub mod read;

use crate::store::{self, write::device_rowid, Result as StoreResult};
use columns::{Column, Conv, COLLECTION, DEVICE, DEVICE_NAME, ENTRA_DEVICE_ID, HEALTH, INTUNE_DEVICE_ID, NOT_STORED, THREAT};
use read::{Shape, Table};
use crate::store::db::Connection;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use tenantscope_model::upload::{Record, UploadKind};

pub use read::{read, Refusal};

/// Records per write (one transaction, one change announced).
pub const BATCH: usize = 10_000;

/// What an import did, or would do, per table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TableReport {
    pub file: String,
    pub kind: String,
    pub rows: usize,
    pub matched_by_entra_id: usize,
    pub matched_by_name: usize,
    pub created: usize,
    /// Records the store already had exactly so: not written again.
    pub unchanged: usize,
    /// Records written (new or changed).
    pub written: usize,
    /// A later row for the same record (the later one is taken).
    pub duplicates: usize,
    pub skipped: usize,
    pub skipped_why: Vec<Skip>,
    /// Text values the model has no code for: the rows are kept (as the documented "unknown").
    pub unknown_values: Vec<Unknown>,
    /// Fields the file does not carry: kept from the store, empty on new records.
    pub not_in_file: Vec<String>,
    /// Fields worked out from others (RebootRequired from DeviceState, …).
    pub derived: Vec<String>,
    /// Columns not used (identity columns such as UPN are not stored).
    pub ignored_columns: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Skip {
    pub reason: String,
    pub rows: usize,
    /// The first few rows' lines (or item numbers) in the file.
    pub lines: Vec<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Unknown {
    pub column: String,
    pub value: String,
    pub rows: usize,
    pub kept_as: String,
}

/// A record to write, with the stored record the plan merged it over and what the file said: the
/// write merges again when the store changed since (`rebase`).
#[derive(Clone, Debug)]
pub struct Planned {
    pub record: Record,
    base: Option<Record>,
    /// The file's fields (wire names are the model's static ones: no key is allocated).
    given: Vec<(&'static str, Value)>,
}

/// The records to write, in write order (devices before what hangs off them), and the report.
#[derive(Debug, Default)]
pub struct Plan {
    pub batches: Vec<(UploadKind, Vec<Planned>)>,
    pub tables: Vec<TableReport>,
}

impl Plan {
    pub fn records(&self) -> usize {
        self.batches.iter().map(|(_, b)| b.len()).sum()
    }
}

/// What the import may fill in that a file does not say.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Tenant (AADTenantID) of devices and collections it creates; else the store's.
    pub tenant: Option<String>,
}

#[derive(Default)]
struct Tally {
    report: TableReport,
    skips: BTreeMap<String, (usize, Vec<usize>)>,
    unknown: BTreeMap<(String, String), (usize, String)>,
}

impl Tally {
    fn skip(&mut self, line: usize, reason: impl Into<String>) {
        let entry = self.skips.entry(reason.into()).or_default();
        entry.0 += 1;
        if entry.1.len() < 10 {
            entry.1.push(line);
        }
        self.report.skipped += 1;
    }

    fn finish(mut self) -> TableReport {
        self.report.skipped_why = self.skips.into_iter().map(|(reason, (rows, lines))| Skip { reason, rows, lines }).collect();
        self.report.unknown_values =
            self.unknown.into_iter().map(|((column, value), (rows, kept_as))| Unknown { column, value, rows, kept_as }).collect();
        self.report
    }
}

/// A column of the alias table found in a table: where, and whether it is a `_loc` twin.
struct Found {
    column: Column,
    at: usize,
    header: String,
}

/// The alias table's columns this table has (a `_loc` twin only where its column is missing).
fn found(table: &Table, columns: &[Column]) -> Vec<Found> {
    let mut out = Vec::new();
    for column in columns {
        if let Some(at) = table.find(column.names) {
            out.push(Found { column: *column, at, header: table.headers[at].clone() });
            continue;
        }
        let twins: Vec<String> = column.names.iter().map(|n| format!("{n}_loc")).collect();
        let twins: Vec<&str> = twins.iter().map(String::as_str).collect();
        if let Some(at) = table.find(&twins) {
            out.push(Found { column: *column, at, header: table.headers[at].clone() });
        }
    }
    out
}

/// A refusal naming the file, line and column.
fn bad(table: &Table, row: usize, header: &str, message: String) -> Refusal {
    Refusal(format!("{}: line {}, column {header}: {message}", table.file, table.lines[row]))
}

/// One row's fields (wire name → value) from the columns found; None where a cell is empty.
fn fields(table: &Table, row: usize, cols: &[Found], tally: &mut Tally) -> Result<Map<String, Value>, Refusal> {
    let cells = &table.rows[row];
    let mut out = Map::new();
    let mut state_bits: Option<u64> = None;
    for f in cols {
        let text = cells.get(f.at).map(String::as_str).unwrap_or("").trim();
        if text.is_empty() || (f.column.field != "ComputerState" && out.contains_key(f.column.field)) {
            continue;
        }
        let value = match f.column.conv {
            Conv::Text => Value::String(text.to_string()),
            Conv::Bool => match columns::read_bool(text) {
                Some(b) => Value::Bool(b),
                None => return Err(bad(table, row, &f.header, format!("expected true or false, got {text:?}"))),
            },
            Conv::Int => match text.parse::<i64>() {
                Ok(n) if n >= 0 => json!(n),
                _ => return Err(bad(table, row, &f.header, format!("expected a whole number, got {text:?}"))),
            },
            Conv::Time => match columns::read_time(text) {
                Ok(Some(t)) => Value::String(t),
                Ok(None) => Value::Null,
                Err(()) => return Err(bad(table, row, &f.header, format!("expected a date and time, got {text:?}"))),
            },
            Conv::Code(codes) => match codes.read(text) {
                Some(code) => {
                    if !codes.known(code) {
                        let entry = tally.unknown.entry((f.header.clone(), text.to_string())).or_insert((0, String::new()));
                        entry.0 += 1;
                        entry.1 = format!("code {code} kept (shown as \"Unknown ({code})\")");
                    }
                    json!(code)
                }
                None => {
                    let kept = codes.unknown();
                    let entry = tally.unknown.entry((f.header.clone(), text.to_string())).or_insert((0, String::new()));
                    entry.0 += 1;
                    entry.1 = if kept < 0 { "worked out from the detection state".into() } else { format!("code {kept}") };
                    if kept < 0 {
                        continue;
                    }
                    json!(kept)
                }
            },
            Conv::Flags(set) => match set.read(text) {
                Ok(v) => json!(v),
                Err((v, names)) => {
                    for name in names {
                        let entry = tally.unknown.entry((f.header.clone(), name)).or_insert((0, String::new()));
                        entry.0 += 1;
                        entry.1 = "left out of the flags".into();
                    }
                    json!(v)
                }
            },
            Conv::StateBit(bit) => {
                match columns::read_bool(text) {
                    Some(true) => state_bits = Some(state_bits.unwrap_or(0) | bit),
                    Some(false) => state_bits = Some(state_bits.unwrap_or(0)),
                    None => return Err(bad(table, row, &f.header, format!("expected true or false, got {text:?}"))),
                }
                continue;
            }
        };
        out.insert(f.column.field.to_string(), value);
    }
    if let (Some(bits), false) = (state_bits, out.contains_key("ComputerState")) {
        out.insert("ComputerState".into(), json!(bits));
    }
    Ok(out)
}

/// Fields derived from others where the file does not carry them.
const HEALTH_DERIVED: &[(&str, &str, u64)] = &[
    ("RebootRequired", "ComputerState", 2),
    ("FullScanRequired", "ComputerState", 1),
    ("QuickScanOverdue", "ProductStatus", 128),
    ("FullScanOverdue", "ProductStatus", 256),
    ("SignatureOutOfDate", "ProductStatus", 32),
];

/// A record of `kind` with every field at its empty value (what a new record starts from).
fn empty_record(kind: UploadKind) -> Map<String, Value> {
    let sample: Value = match kind {
        UploadKind::Devices => json!({"AADPrimaryUserID": null}),
        UploadKind::Defender => {
            json!({"QuickScanTime": null, "FullScanTime": null, "QuickScanSigVersion": null, "FullScanSigVersion": null, "LastUpdateTime": null})
        }
        UploadKind::Threats => json!({"URL": null, "NumberOfDetections": 1}),
        _ => json!({}),
    };
    let mut out = Map::new();
    for f in kind.entity().fields() {
        let empty = match sample.get(f.name) {
            Some(v) => v.clone(),
            None => match (kind, f.name) {
                (UploadKind::Defender, name) if HEALTH.iter().any(|c| c.field == name && c.conv == Conv::Bool) => Value::Bool(false),
                (UploadKind::Defender, "ProductStatus" | "ComputerState" | "MdeOnboardingState") => json!(0),
                (UploadKind::Threats, "ThreatID" | "Category" | "Severity" | "CurrentStatus" | "CurrentStatusID" | "ExecutionStatus") => json!(0),
                (UploadKind::Collections, name) if name.starts_with("Count") => json!(0),
                (UploadKind::Collections, "CollectionType") => json!(2),
                _ => Value::String(String::new()),
            },
        };
        out.insert(f.name.to_string(), empty);
    }
    out
}

fn to_map<T: Serialize>(record: &T) -> Map<String, Value> {
    match serde_json::to_value(record) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Where a row's device is.
enum Found2 {
    Entra(String),
    Name(String),
    Skip(String),
}

struct Planner<'a> {
    conn: &'a Connection,
    opts: &'a Options,
    /// Devices this plan creates: Entra id → name.
    created: HashMap<String, String>,
    /// Name → Entra id(s) looked up (or created).
    names: HashMap<String, Vec<String>>,
    known: HashMap<String, Option<String>>,
    /// Where a table's identity columns are (Entra id, name, Intune id), by table.
    identity: HashMap<usize, (Option<usize>, Option<usize>, Option<usize>)>,
    site: Option<Option<(String, String)>>,
    devices: BTreeMap<String, Planned>,
    health: BTreeMap<String, Planned>,
    threats: BTreeMap<(String, i64), Planned>,
    collections: BTreeMap<String, Planned>,
}

impl<'a> Planner<'a> {
    /// The Entra device id as the store (or this import) has it: GUIDs compare without case, so
    /// `3F0C…` in a file finds `3f0c…` in the store.
    fn stored_id(&mut self, aad: &str) -> StoreResult<Option<String>> {
        if self.created.contains_key(aad) {
            return Ok(Some(aad.to_string()));
        }
        if let Some(k) = self.known.get(aad) {
            return Ok(k.clone());
        }
        let mut found = None;
        for candidate in [aad.to_string(), aad.to_lowercase(), aad.to_uppercase()] {
            if self.created.contains_key(&candidate) || device_rowid(self.conn, &candidate)?.is_some() {
                found = Some(candidate);
                break;
            }
        }
        self.known.insert(aad.to_string(), found.clone());
        Ok(found)
    }

    fn named(&mut self, name: &str) -> StoreResult<Vec<String>> {
        if let Some(ids) = self.names.get(name) {
            return Ok(ids.clone());
        }
        let mut ids = store::import_devices_named(self.conn, name, 3)?;
        if ids.is_empty() && name != name.to_uppercase() {
            ids = store::import_devices_named(self.conn, &name.to_uppercase(), 3)?;
        }
        self.names.insert(name.to_string(), ids.clone());
        Ok(ids)
    }

    /// The device a row is about: its Entra device id if the store (or this import) has it, else
    /// its name if exactly one device has that name.
    fn device_of(&mut self, table: &Table, row: usize) -> StoreResult<Found2> {
        let columns = *self.identity.entry(table as *const Table as usize).or_insert_with(|| {
            (table.find(ENTRA_DEVICE_ID), table.find(DEVICE_NAME), table.find(INTUNE_DEVICE_ID))
        });
        let cell = |at: Option<usize>| at.map(|i| table.rows[row][i].trim()).filter(|s| !s.is_empty() && !is_nil(s)).map(str::to_string);
        let aad = cell(columns.0);
        if let Some(aad) = &aad {
            if let Some(stored) = self.stored_id(aad)? {
                return Ok(Found2::Entra(stored));
            }
            // A row with an Entra id the store does not have is another device, even if a device
            // of the same name exists (a re-imaged host, a reused name).
            return Ok(Found2::Skip("no device with this Entra device id in the store".into()));
        }
        match cell(columns.1) {
            Some(name) => {
                let ids = self.named(&name)?;
                Ok(match ids.len() {
                    1 => Found2::Name(ids[0].clone()),
                    0 => Found2::Skip(
                        "no device with this name in the store (an export cannot create devices: let the site upload them, or import managedDevices)"
                            .into(),
                    ),
                    _ => Found2::Skip("several devices have this name and the row has no Entra device id".into()),
                })
            }
            None if cell(columns.2).is_some() => Ok(Found2::Skip(
                "only Intune's DeviceId: not matched (it is neither the ConfigMgr SMSID nor the Entra device id)".into(),
            )),
            None => Ok(Found2::Skip("no device name or Entra device id".into())),
        }
    }

    fn site(&mut self) -> StoreResult<(String, String)> {
        if self.site.is_none() {
            self.site = Some(store::import_site(self.conn)?);
        }
        let (smsid, tenant) = self.site.clone().flatten().unwrap_or_default();
        Ok((smsid, self.opts.tenant.clone().unwrap_or(tenant)))
    }
}

/// An all-zero or empty GUID Graph writes for "none".
fn is_nil(s: &str) -> bool {
    s.chars().all(|c| c == '0' || c == '-')
}

/// Checks a merged record with the model (as an upload would) and keeps it unless the store has it so.
fn checked(kind: UploadKind, table: &Table, row: usize, merged: Map<String, Value>) -> Result<Record, Refusal> {
    kind.check(row, &Value::Object(merged)).map_err(|e| {
        Refusal(format!(
            "{}: line {}: {}{}",
            table.file,
            table.lines[row],
            e.field.map(|f| format!("{f}: ")).unwrap_or_default(),
            e.message
        ))
    })
}

/// Plans the import of `tables` against the store: Ok(plan), or a refusal (nothing to write).
pub fn plan(conn: &Connection, tables: &[Table], opts: &Options) -> StoreResult<Result<Plan, Refusal>> {
    let mut p = Planner {
        conn,
        opts,
        created: HashMap::new(),
        names: HashMap::new(),
        known: HashMap::new(),
        identity: HashMap::new(),
        site: None,
        devices: BTreeMap::new(),
        health: BTreeMap::new(),
        threats: BTreeMap::new(),
        collections: BTreeMap::new(),
    };
    // Devices first: the health and detections of a device this import creates match it.
    let mut order: Vec<&Table> = tables.iter().collect();
    order.sort_by_key(|t| match t.shape {
        Shape::ManagedDevices => 0,
        Shape::Collections => 1,
        Shape::Agents => 2,
        Shape::Malware => 3,
    });
    let mut reports = Vec::new();
    for table in order {
        let report = match table.shape {
            Shape::ManagedDevices => plan_devices(&mut p, table)?,
            Shape::Agents => plan_health(&mut p, table)?,
            Shape::Malware => plan_threats(&mut p, table)?,
            Shape::Collections => plan_collections(&mut p, table)?,
        };
        match report {
            Ok(r) => reports.push(r),
            Err(refusal) => return Ok(Err(refusal)),
        }
    }
    let mut batches = Vec::new();
    for (kind, records) in [
        (UploadKind::Devices, p.devices.into_values().collect::<Vec<_>>()),
        (UploadKind::Collections, p.collections.into_values().collect()),
        (UploadKind::Defender, p.health.into_values().collect()),
        (UploadKind::Threats, p.threats.into_values().collect()),
    ] {
        for chunk in records.chunks(BATCH) {
            batches.push((kind, chunk.to_vec()));
        }
    }
    Ok(Ok(Plan { batches, tables: reports }))
}

fn start(table: &Table, columns: &[&[Column]]) -> (Tally, Vec<Found>) {
    let mut tally = Tally::default();
    tally.report.file = table.file.clone();
    tally.report.kind = table.shape.label().to_string();
    tally.report.rows = table.rows.len();
    let mut all = Vec::new();
    for set in columns {
        all.extend(found(table, set));
    }
    let mut used: Vec<&str> = all.iter().map(|f| f.header.as_str()).collect();
    used.extend(ENTRA_DEVICE_ID.iter().chain(DEVICE_NAME).chain(columns::GRAPH_READ));
    for h in &table.headers {
        let twin_of_used = h.strip_suffix("_loc").is_some_and(|base| all.iter().any(|f| f.column.names.iter().any(|n| n.eq_ignore_ascii_case(base))));
        if !used.iter().any(|u| u.eq_ignore_ascii_case(h)) && !twin_of_used {
            let why = if NOT_STORED.iter().any(|n| n.eq_ignore_ascii_case(h)) {
                " (not stored)"
            } else if INTUNE_DEVICE_ID.iter().any(|n| n.eq_ignore_ascii_case(h)) {
                " (Intune's id: not used to match)"
            } else {
                ""
            };
            tally.report.ignored_columns.push(format!("{h}{why}"));
        }
    }
    (tally, all)
}

fn not_in_file(tally: &mut Tally, kind: UploadKind, cols: &[Found], skip: &[&str]) {
    for f in kind.entity().fields() {
        if !cols.iter().any(|c| c.column.field == f.name) && !skip.contains(&f.name) {
            tally.report.not_in_file.push(f.name.to_string());
        }
    }
}

/// The device of an export row, counted as matched (by Entra id or name), or skipped with why.
fn matched(p: &mut Planner, table: &Table, row: usize, tally: &mut Tally) -> StoreResult<Option<String>> {
    Ok(match p.device_of(table, row)? {
        Found2::Entra(id) => {
            tally.report.matched_by_entra_id += 1;
            Some(id)
        }
        Found2::Name(id) => {
            tally.report.matched_by_name += 1;
            Some(id)
        }
        Found2::Skip(why) => {
            tally.skip(table.lines[row], why);
            None
        }
    })
}

fn plan_health(p: &mut Planner, table: &Table) -> StoreResult<Result<TableReport, Refusal>> {
    let (mut tally, cols) = start(table, &[HEALTH]);
    for (field, from, _) in HEALTH_DERIVED {
        if !cols.iter().any(|c| c.column.field == *field) && cols.iter().any(|c| c.column.field == *from) {
            tally.report.derived.push(format!("{field} (from {from})"));
        }
    }
    let derived: Vec<&str> = HEALTH_DERIVED.iter().filter(|(f, from, _)| {
        !cols.iter().any(|c| c.column.field == *f) && cols.iter().any(|c| c.column.field == *from)
    }).map(|(f, _, _)| *f).collect();
    let mut skip_fields = vec!["DeviceId"];
    skip_fields.extend(derived.iter());
    not_in_file(&mut tally, UploadKind::Defender, &cols, &skip_fields);
    for row in 0..table.rows.len() {
        let mut given = match fields(table, row, &cols, &mut tally) {
            Ok(f) => f,
            Err(r) => return Ok(Err(r)),
        };
        let Some(aad) = matched(p, table, row, &mut tally)? else { continue };
        for (field, from, bit) in HEALTH_DERIVED {
            if derived.contains(field) {
                if let Some(v) = given.get(*from).and_then(Value::as_u64) {
                    given.insert(field.to_string(), Value::Bool(v & bit != 0));
                }
            }
        }
        let existing = if p.created.contains_key(&aad) { None } else { store::health_of(p.conn, &aad)? };
        let mut merged = existing.as_ref().map(to_map).unwrap_or_else(|| empty_record(UploadKind::Defender));
        given.insert("DeviceId".into(), Value::String(aad.clone()));
        let given = {
            let compact = compact(UploadKind::Defender, &given);
            merged.extend(given);
            compact
        };
        let record = match checked(UploadKind::Defender, table, row, merged) {
            Ok(r) => r,
            Err(r) => return Ok(Err(r)),
        };
        keep(&mut p.health, aad, Planned { record, base: existing.map(Record::Health), given }, &mut tally);
    }
    Ok(Ok(tally.finish()))
}

fn plan_threats(p: &mut Planner, table: &Table) -> StoreResult<Result<TableReport, Refusal>> {
    let (mut tally, cols) = start(table, &[THREAT]);
    let has = |f: &str| cols.iter().any(|c| c.column.field == f);
    if !has("CurrentStatus") && has("CurrentStatusID") {
        tally.report.derived.push("CurrentStatus (from the detection state)".into());
    }
    not_in_file(&mut tally, UploadKind::Threats, &cols, &["DeviceId", "CurrentStatus"]);
    for row in 0..table.rows.len() {
        let mut given = match fields(table, row, &cols, &mut tally) {
            Ok(f) => f,
            Err(r) => return Ok(Err(r)),
        };
        let Some(threat_id) = given.get("ThreatID").and_then(Value::as_i64) else {
            tally.skip(table.lines[row], "no MalwareId");
            continue;
        };
        let Some(aad) = matched(p, table, row, &mut tally)? else { continue };
        if !given.contains_key("CurrentStatus") {
            if let Some(state) = given.get("CurrentStatusID").and_then(Value::as_i64) {
                given.insert("CurrentStatus".into(), json!(columns::threat_state_of(state)));
            }
        }
        let existing = if p.created.contains_key(&aad) { None } else { store::import_threat(p.conn, &aad, threat_id)? };
        let mut merged = existing.as_ref().map(to_map).unwrap_or_else(|| empty_record(UploadKind::Threats));
        // A detection's two times: each stands in for the other when the file has one only.
        for (a, b) in [("InitialDetectionTime", "LastThreatStatusChangeTime"), ("LastThreatStatusChangeTime", "InitialDetectionTime")] {
            let missing = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).is_none_or(str::is_empty);
            if missing(&given, a) && missing(&merged, a) && !missing(&given, b) {
                let other = given[b].clone();
                given.insert(a.to_string(), other);
            }
        }
        given.insert("DeviceId".into(), Value::String(aad.clone()));
        let given = {
            let compact = compact(UploadKind::Threats, &given);
            merged.extend(given);
            compact
        };
        if merged.get("InitialDetectionTime").and_then(Value::as_str).is_none_or(str::is_empty) {
            tally.skip(table.lines[row], "no detection time (InitialDetectionDateTime or LastStateChangeDateTime)");
            continue;
        }
        let record = match checked(UploadKind::Threats, table, row, merged) {
            Ok(r) => r,
            Err(r) => return Ok(Err(r)),
        };
        let key = (aad, threat_id);
        keep(&mut p.threats, key, Planned { record, base: existing.map(Record::Threat), given }, &mut tally);
    }
    Ok(Ok(tally.finish()))
}

/// DeviceOS the way a site reports it, from Graph's `operatingSystem` and `osVersion`.
fn device_os(os: &str, version: &str) -> String {
    let major_minor: Vec<&str> = version.split('.').take(2).collect();
    if os.eq_ignore_ascii_case("windows") && major_minor.len() == 2 {
        format!("Microsoft Windows NT Workstation {}", major_minor.join("."))
    } else {
        os.to_string()
    }
}

fn plan_devices(p: &mut Planner, table: &Table) -> StoreResult<Result<TableReport, Refusal>> {
    let (mut tally, cols) = start(table, &[DEVICE]);
    not_in_file(&mut tally, UploadKind::Devices, &cols, &["DeviceOS", "SMSID", "AADTenantID"]);
    let os_at = table.find(&["operatingSystem"]);
    for row in 0..table.rows.len() {
        let mut given = match fields(table, row, &cols, &mut tally) {
            Ok(f) => f,
            Err(r) => return Ok(Err(r)),
        };
        if let Some(Value::String(build)) = given.get("DeviceOSBuild") {
            let three: Vec<&str> = build.split('.').take(3).collect();
            let os = os_at.map(|i| table.rows[row][i].clone()).unwrap_or_default();
            let full = build.clone();
            given.insert("DeviceOSBuild".into(), Value::String(three.join(".")));
            given.insert("DeviceOS".into(), Value::String(device_os(&os, &full)));
        }
        if let Some(os) = os_at.map(|i| table.rows[row][i].trim()).filter(|os| !os.eq_ignore_ascii_case("windows")) {
            if !os.is_empty() {
                tally.skip(table.lines[row], format!("not a Windows device ({os})"));
                continue;
            }
        }
        // Graph writes an all-zero id for a device not joined to Entra: no id at all.
        if given.get("AADDeviceID").and_then(Value::as_str).is_some_and(is_nil) {
            given.remove("AADDeviceID");
        }
        let mut aad = given.get("AADDeviceID").and_then(Value::as_str).map(str::to_string);
        if let Some(id) = &aad {
            if let Some(stored) = p.stored_id(id)? {
                given.insert("AADDeviceID".into(), Value::String(stored.clone()));
                aad = Some(stored);
            }
        }
        let mut planned = None;
        let existing = match &aad {
            Some(aad) if !p.created.contains_key(aad) && p.stored_id(aad)?.is_some() => {
                tally.report.matched_by_entra_id += 1;
                store::import_device(p.conn, aad)?
            }
            _ => match p.device_of(table, row)? {
                Found2::Name(id) if aad.is_none() => {
                    tally.report.matched_by_name += 1;
                    given.insert("AADDeviceID".into(), Value::String(id.clone()));
                    // The device may be one this import creates (an earlier row of the file).
                    planned = p.devices.get(&id).map(|planned| record_map(&planned.record));
                    store::import_device(p.conn, &id)?
                }
                Found2::Entra(_) | Found2::Name(_) => None,
                Found2::Skip(why) if aad.is_none() => {
                    let why = if why.starts_with("several") {
                        why
                    } else {
                        "not in the store and no Entra device id (not enough identity to create a device)".into()
                    };
                    tally.skip(table.lines[row], why);
                    continue;
                }
                Found2::Skip(_) => None,
            },
        };
        let name_missing = given.get("Name").and_then(Value::as_str).is_none_or(str::is_empty);
        if existing.is_none() && planned.is_none() && name_missing {
            tally.skip(table.lines[row], "not in the store and no device name (not enough identity to create a device)");
            continue;
        }
        let mut merged = match (&existing, planned) {
            (Some(d), _) => {
                given.remove("DeviceOS");
                to_map(d)
            }
            (None, Some(m)) => m,
            (None, None) => {
                let (smsid, tenant) = p.site()?;
                let mut m = empty_record(UploadKind::Devices);
                m.insert("SMSID".into(), Value::String(smsid));
                m.insert("AADTenantID".into(), Value::String(tenant));
                m
            }
        };
        let given = {
            let compact = compact(UploadKind::Devices, &given);
            merged.extend(given);
            compact
        };
        let record = match checked(UploadKind::Devices, table, row, merged) {
            Ok(r) => r,
            Err(r) => return Ok(Err(r)),
        };
        let Record::Device(d) = &record else { unreachable!("a device record") };
        let aad = d.aad_device_id.clone();
        if existing.is_none() && !p.created.contains_key(&aad) {
            tally.report.created += 1;
            // Devices of this name: the store's and this one (a later row with the name only
            // then matches nothing when there are several).
            let mut same_name = p.named(&d.name)?;
            same_name.push(aad.clone());
            p.created.insert(aad.clone(), d.name.clone());
            p.names.insert(d.name.clone(), same_name);
        }
        keep(&mut p.devices, aad, Planned { record, base: existing.map(Record::Device), given }, &mut tally);
    }
    Ok(Ok(tally.finish()))
}

fn plan_collections(p: &mut Planner, table: &Table) -> StoreResult<Result<TableReport, Refusal>> {
    let (mut tally, cols) = start(table, &[COLLECTION]);
    not_in_file(&mut tally, UploadKind::Collections, &cols, &["TenantId"]);
    for row in 0..table.rows.len() {
        let given = match fields(table, row, &cols, &mut tally) {
            Ok(f) => f,
            Err(r) => return Ok(Err(r)),
        };
        let Some(id) = given.get("CollectionId").and_then(Value::as_str).map(str::to_string) else {
            tally.skip(table.lines[row], "no collectionIdentifier");
            continue;
        };
        let existing = store::import_collection(p.conn, &id)?;
        if existing.is_none() && !p.collections.contains_key(&id) {
            tally.report.created += 1;
        }
        let mut merged = match &existing {
            Some(c) => to_map(c),
            None => {
                let (_, tenant) = p.site()?;
                let mut m = empty_record(UploadKind::Collections);
                m.insert("TenantId".into(), Value::String(tenant));
                m
            }
        };
        let given = {
            let compact = compact(UploadKind::Collections, &given);
            merged.extend(given);
            compact
        };
        let record = match checked(UploadKind::Collections, table, row, merged) {
            Ok(r) => r,
            Err(r) => return Ok(Err(r)),
        };
        keep(&mut p.collections, id, Planned { record, base: existing.map(Record::Collection), given }, &mut tally);
    }
    Ok(Ok(tally.finish()))
}

/// Keeps a planned record for writing, unless the store already has it so (then it is unchanged);
/// a later row for the same record takes the earlier one's place.
fn keep<K: Ord>(planned: &mut BTreeMap<K, Planned>, key: K, record: Planned, tally: &mut Tally) {
    if let Some(earlier) = planned.get(&key) {
        tally.report.duplicates += 1;
        if earlier.record == record.record {
            return;
        }
    }
    if record.base.as_ref() == Some(&record.record) {
        planned.remove(&key);
        tally.report.unchanged += 1;
    } else {
        planned.insert(key, record);
        tally.report.written += 1;
    }
}

/// A record's fields by wire name.
fn record_map(record: &Record) -> Map<String, Value> {
    match record {
        Record::Device(d) => to_map(d),
        Record::Health(h) => to_map(h),
        Record::Threat(t) => to_map(t),
        Record::Collection(c) => to_map(c),
        Record::Application(a) => to_map(a),
        Record::Telemetry(e) => to_map(e),
    }
}

/// At write time, inside the write's transaction: the planned record if the store still has what
/// the plan merged it over; else the file's fields merged over what the store has now (a site
/// upload that came meanwhile is kept); None when that is what the store has.
pub fn rebase(conn: &Connection, kind: UploadKind, planned: &Planned) -> Result<Option<Record>, store::write::WriteError> {
    let current = match &planned.record {
        Record::Health(h) => store::health_of(conn, &h.device_id)?.map(Record::Health),
        Record::Threat(t) => store::import_threat(conn, &t.device_id, t.threat_id)?.map(Record::Threat),
        Record::Device(d) => store::import_device(conn, &d.aad_device_id)?.map(Record::Device),
        Record::Collection(c) => store::import_collection(conn, &c.collection_id)?.map(Record::Collection),
        other => return Ok(Some(other.clone())),
    };
    if current == planned.base {
        return Ok(Some(planned.record.clone()));
    }
    let current = current.as_ref().map(record_map);
    let mut merged = current.clone().unwrap_or_else(|| record_map(&planned.record));
    merged.extend(planned.given.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let record = kind.check(0, &Value::Object(merged)).map_err(store::write::WriteError::Record)?;
    Ok((Some(record_map(&record)) != current).then_some(record))
}

/// The file's fields with the model's static names.
fn compact(kind: UploadKind, given: &Map<String, Value>) -> Vec<(&'static str, Value)> {
    let fields = kind.entity().fields();
    given.iter().filter_map(|(k, v)| fields.iter().find(|f| f.name == k).map(|f| (f.name, v.clone()))).collect()
}
