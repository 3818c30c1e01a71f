//! The store: the embedded SQLite file in the data directory (WAL mode; the default) or a PostgreSQL
//! database shared by several servers (`--database postgres://…`), behind one connection type
//! (`db`); schema migrations for both, versioned together; and the queries behind each API route
//! (each named like its route).

pub mod db;
mod device_index;
mod list;
mod queries;
pub mod tokens;
pub mod write;

pub use device_index::{DeviceIndex, FacetValue};
pub use list::{build_list, resolve_ranges, ListSql};
pub use queries::*;

pub use db::{Dialect, Location};
use db::Connection;
use rusqlite::OpenFlags;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub const DB_FILE: &str = "tenantscope.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Db(#[from] db::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("store task failed: {0}")]
    Task(String),
    #[error("database schema version {0} is newer than this server understands ({1})")]
    TooNew(i64, i64),
    /// Every connection is in use and none came back in time.
    #[error("the store is busy")]
    Busy,
    /// The store cannot be opened as it is; the message says why and what to do, in one line.
    #[error("{0}")]
    Open(String),
}

/// Most SQLite connections open at once, and how long a request waits for one.
pub const MAX_CONNECTIONS: usize = 8;
pub const CHECKOUT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// Most CSV exports streaming at once (beyond: 503 with Retry-After).
pub const MAX_EXPORTS: usize = 4;

struct Pool {
    idle: Vec<Connection>,
    open: usize,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Schema migrations, applied in order; the index of each is its version - 1.
const MIGRATIONS: &[&str] = &[
    // 1: the tenant-attach tables.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

    CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        SMSID TEXT NOT NULL,
        AADTenantID TEXT NOT NULL,
        AADDeviceID TEXT NOT NULL,         -- unique: devices_aad_device_id (built after bulk loads)
        Name TEXT NOT NULL,
        DeviceOS TEXT NOT NULL,
        DeviceOSBuild TEXT NOT NULL,
        AADPrimaryUserID TEXT,
        Model TEXT NOT NULL,
        Manufacturer TEXT NOT NULL,
        SerialNumber TEXT NOT NULL,
        DomainNames TEXT NOT NULL,
        SKU TEXT NOT NULL,
        DefenderHealth INTEGER NOT NULL,   -- HealthVerdict::code(), derived by the model's rule on write
        ActiveThreats INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE defender_health (
        id INTEGER PRIMARY KEY,            -- = devices.id of the device
        DeviceId TEXT NOT NULL,            -- unique: health_device
        ProductStatus INTEGER NOT NULL,
        ComputerState INTEGER NOT NULL,
        DefenderEnabled INTEGER NOT NULL,
        RtpEnabled INTEGER NOT NULL,
        NisEnabled INTEGER NOT NULL,
        QuickScanOverdue INTEGER NOT NULL,
        FullScanOverdue INTEGER NOT NULL,
        SignatureOutOfDate INTEGER NOT NULL,
        RebootRequired INTEGER NOT NULL,
        FullScanRequired INTEGER NOT NULL,
        TamperProtectionEnabled INTEGER NOT NULL,
        IsMdeSenseRunning INTEGER NOT NULL,
        IsVirtualMachine INTEGER NOT NULL,
        MdeOnboardingState INTEGER NOT NULL,
        EngineVersion TEXT NOT NULL,
        SignatureVersion TEXT NOT NULL,
        DefenderVersion TEXT NOT NULL,
        QuickScanTime TEXT,
        FullScanTime TEXT,
        QuickScanSigVersion TEXT,
        FullScanSigVersion TEXT,
        LastUpdateTime TEXT
    );

    CREATE TABLE threats (
        id INTEGER PRIMARY KEY,
        ThreatID INTEGER NOT NULL,
        ThreatName TEXT NOT NULL,
        Category INTEGER NOT NULL,
        Severity INTEGER NOT NULL,
        URL TEXT,
        CurrentStatus INTEGER NOT NULL,
        CurrentStatusID INTEGER NOT NULL,
        ExecutionStatus INTEGER NOT NULL,
        LastThreatStatusChangeTime TEXT NOT NULL,
        InitialDetectionTime TEXT NOT NULL,
        NumberOfDetections INTEGER NOT NULL,
        DeviceId TEXT NOT NULL,
        UNIQUE (DeviceId, ThreatID)
    );

    CREATE TABLE collections (
        id INTEGER PRIMARY KEY,
        CollectionId TEXT NOT NULL UNIQUE,
        CollectionName TEXT NOT NULL,
        CollectionType INTEGER NOT NULL,
        CountTargeted INTEGER NOT NULL,
        CountCompliant INTEGER NOT NULL,
        CountNonCompliant INTEGER NOT NULL,
        CountFailed INTEGER NOT NULL,
        CountActivated INTEGER NOT NULL,
        CountEnforced INTEGER NOT NULL,
        TenantId TEXT NOT NULL,
        HierarchyId TEXT NOT NULL
    );

    CREATE TABLE collection_members (
        collection INTEGER NOT NULL,
        device INTEGER NOT NULL,
        PRIMARY KEY (collection, device)
    ) WITHOUT ROWID;

    CREATE TABLE applications (
        id INTEGER PRIMARY KEY,
        ProgramID TEXT NOT NULL UNIQUE,
        ProductName TEXT NOT NULL,
        Publisher TEXT NOT NULL,
        Version TEXT NOT NULL,
        ProductLanguage INTEGER NOT NULL,
        TargetCollection INTEGER,         -- collections.id the deployment type is deployed to
        ProductDeviceCount INTEGER NOT NULL DEFAULT 0  -- distinct devices reached by the product (derived)
    );

    CREATE VIEW application_rows AS
        SELECT a.id, a.ProductName, a.Publisher, a.Version, a.ProductLanguage, a.ProgramID,
               COALESCE(c.CountTargeted, 0) AS DeviceCount, a.ProductDeviceCount
        FROM applications a LEFT JOIN collections c ON c.id = a.TargetCollection;

    CREATE TABLE telemetry (
        id INTEGER PRIMARY KEY,
        Time TEXT NOT NULL,
        Kind TEXT NOT NULL,
        Name TEXT NOT NULL,
        SeverityLevel INTEGER NOT NULL,
        Message TEXT NOT NULL
    );
    "#,
    // 2: the antivirus agent state of a device (derived on write by the model's rule, like the
    // verdict; existing rows are filled in by `fill_agent_states`), and the list views.
    r#"
    ALTER TABLE devices ADD COLUMN AgentState INTEGER NOT NULL DEFAULT 0;

    CREATE VIEW collection_rows AS
        SELECT id, CollectionId, CollectionName, CollectionType, CountTargeted, CountCompliant, CountNonCompliant,
               CountFailed, CountActivated, CountEnforced, TenantId, HierarchyId,
               CASE WHEN CountTargeted > 0 THEN CountCompliant * 100.0 / CountTargeted END AS CompliancePercent
        FROM collections;

    CREATE VIEW detection_rows AS
        SELECT t.id, t.ThreatID, t.ThreatName, t.Category, t.Severity, t.URL, t.CurrentStatus, t.CurrentStatusID,
               t.ExecutionStatus, t.LastThreatStatusChangeTime, t.InitialDetectionTime, t.NumberOfDetections,
               t.DeviceId, d.Name AS DeviceName
        FROM threats t LEFT JOIN devices d ON d.AADDeviceID = t.DeviceId;
    "#,
    // 3: the verdict takes a device's active threats into account (`refresh_verdicts` recomputes the
    // devices that have any).
    "SELECT 1;",
    // 4: products: deployment types grouped by ProductName, with the publisher's vendor group
    // (derived on write by the model's `publisher_group`; existing rows filled by `fill_publisher_groups`).
    r#"
    ALTER TABLE applications ADD COLUMN PublisherGroup TEXT NOT NULL DEFAULT '';

    CREATE VIEW product_rows AS
        SELECT MIN(id) AS id, ProductName, MIN(Publisher) AS Publisher, MIN(PublisherGroup) AS PublisherGroup,
               COUNT(DISTINCT Version) AS Versions, COUNT(DISTINCT ProductLanguage) AS Languages,
               COUNT(*) AS DeploymentTypes, MAX(ProductDeviceCount) AS ProductDeviceCount,
               group_concat(ProgramID, ' ') AS ProgramIDs
        FROM applications GROUP BY ProductName;
    "#,
    // 5: uploads. API tokens (hashes only); devices are upserted by AADDeviceID, so its unique
    // index exists from now on (it was built after bulk loads before).
    r#"
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        label TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS devices_aad_device_id ON devices (AADDeviceID);
    "#,
    // 6: the devices list filters, sorts and counts its fields with few values (OS, build, model,
    // manufacturer, domain, SKU, verdict, antivirus state, active threats, the health conditions)
    // in memory (the devices index), the summary included; their store indexes only cost writes.
    r#"
    DROP INDEX IF EXISTS devices_os;
    DROP INDEX IF EXISTS devices_build;
    DROP INDEX IF EXISTS devices_model;
    DROP INDEX IF EXISTS devices_manufacturer;
    DROP INDEX IF EXISTS devices_domain;
    DROP INDEX IF EXISTS devices_sku;
    DROP INDEX IF EXISTS devices_health;
    DROP INDEX IF EXISTS devices_active;
    DROP INDEX IF EXISTS devices_agent;
    DROP INDEX IF EXISTS health_sig;
    DROP INDEX IF EXISTS health_scans;
    DROP INDEX IF EXISTS health_reboot;
    "#,
    // 7: access. A revoked token is kept (marked) so that its sessions are told why they ended;
    // a session is the hash of the cookie's secret, the token it was signed in with and when it
    // ends unless used (Unix seconds).
    r#"
    ALTER TABLE tokens ADD COLUMN revoked TEXT;
    CREATE TABLE sessions (
        hash TEXT PRIMARY KEY,
        token INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
        created TEXT NOT NULL,
        expires INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 8: the change log. Every committed write leaves its change here (what it wrote, which devices),
    // so that every server over the store follows every change, whichever server wrote it, and one
    // that was away catches up by change id. The last `write::CHANGES_KEPT` are kept.
    r#"
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY,            -- the change id (meta change_id after the write)
        kind TEXT NOT NULL,                -- the upload kind, or "delete"
        records INTEGER NOT NULL,
        devices INTEGER NOT NULL,          -- whether the devices list may differ
        updated TEXT,                      -- device row ids written, space-separated; NULL: unknown
        moved TEXT NOT NULL,               -- those whose place in the store's orders may differ
        at INTEGER NOT NULL                -- when it committed (Unix seconds)
    );
    "#,
];

/// The same schema for PostgreSQL, version for version: the first migration makes what SQLite's
/// first seven did (PostgreSQL stores began at version 7), later ones change both alike. Texts
/// compare byte by byte (`COLLATE "C"`, SQLite's BINARY), so orders and pages are the same over
/// both stores; the health conditions are 0/1 integers, as in SQLite.
const PG_MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE devices (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        SMSID TEXT COLLATE "C" NOT NULL,
        AADTenantID TEXT COLLATE "C" NOT NULL,
        AADDeviceID TEXT COLLATE "C" NOT NULL,
        Name TEXT COLLATE "C" NOT NULL,
        DeviceOS TEXT COLLATE "C" NOT NULL,
        DeviceOSBuild TEXT COLLATE "C" NOT NULL,
        AADPrimaryUserID TEXT COLLATE "C",
        Model TEXT COLLATE "C" NOT NULL,
        Manufacturer TEXT COLLATE "C" NOT NULL,
        SerialNumber TEXT COLLATE "C" NOT NULL,
        DomainNames TEXT COLLATE "C" NOT NULL,
        SKU TEXT COLLATE "C" NOT NULL,
        DefenderHealth BIGINT NOT NULL,
        ActiveThreats BIGINT NOT NULL DEFAULT 0,
        AgentState BIGINT NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX devices_aad_device_id ON devices (AADDeviceID);

    CREATE TABLE defender_health (
        id BIGINT PRIMARY KEY,
        DeviceId TEXT COLLATE "C" NOT NULL,
        ProductStatus BIGINT NOT NULL,
        ComputerState BIGINT NOT NULL,
        DefenderEnabled BIGINT NOT NULL,
        RtpEnabled BIGINT NOT NULL,
        NisEnabled BIGINT NOT NULL,
        QuickScanOverdue BIGINT NOT NULL,
        FullScanOverdue BIGINT NOT NULL,
        SignatureOutOfDate BIGINT NOT NULL,
        RebootRequired BIGINT NOT NULL,
        FullScanRequired BIGINT NOT NULL,
        TamperProtectionEnabled BIGINT NOT NULL,
        IsMdeSenseRunning BIGINT NOT NULL,
        IsVirtualMachine BIGINT NOT NULL,
        MdeOnboardingState BIGINT NOT NULL,
        EngineVersion TEXT COLLATE "C" NOT NULL,
        SignatureVersion TEXT COLLATE "C" NOT NULL,
        DefenderVersion TEXT COLLATE "C" NOT NULL,
        QuickScanTime TEXT COLLATE "C",
        FullScanTime TEXT COLLATE "C",
        QuickScanSigVersion TEXT COLLATE "C",
        FullScanSigVersion TEXT COLLATE "C",
        LastUpdateTime TEXT COLLATE "C"
    );

    CREATE TABLE threats (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        ThreatID BIGINT NOT NULL,
        ThreatName TEXT COLLATE "C" NOT NULL,
        Category BIGINT NOT NULL,
        Severity BIGINT NOT NULL,
        URL TEXT COLLATE "C",
        CurrentStatus BIGINT NOT NULL,
        CurrentStatusID BIGINT NOT NULL,
        ExecutionStatus BIGINT NOT NULL,
        LastThreatStatusChangeTime TEXT COLLATE "C" NOT NULL,
        InitialDetectionTime TEXT COLLATE "C" NOT NULL,
        NumberOfDetections BIGINT NOT NULL,
        DeviceId TEXT COLLATE "C" NOT NULL,
        UNIQUE (DeviceId, ThreatID)
    );

    CREATE TABLE collections (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        CollectionId TEXT COLLATE "C" NOT NULL UNIQUE,
        CollectionName TEXT COLLATE "C" NOT NULL,
        CollectionType BIGINT NOT NULL,
        CountTargeted BIGINT NOT NULL,
        CountCompliant BIGINT NOT NULL,
        CountNonCompliant BIGINT NOT NULL,
        CountFailed BIGINT NOT NULL,
        CountActivated BIGINT NOT NULL,
        CountEnforced BIGINT NOT NULL,
        TenantId TEXT COLLATE "C" NOT NULL,
        HierarchyId TEXT COLLATE "C" NOT NULL
    );

    CREATE TABLE collection_members (
        collection BIGINT NOT NULL,
        device BIGINT NOT NULL,
        PRIMARY KEY (collection, device)
    );

    CREATE TABLE applications (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        ProgramID TEXT COLLATE "C" NOT NULL UNIQUE,
        ProductName TEXT COLLATE "C" NOT NULL,
        Publisher TEXT COLLATE "C" NOT NULL,
        Version TEXT COLLATE "C" NOT NULL,
        ProductLanguage BIGINT NOT NULL,
        TargetCollection BIGINT,
        ProductDeviceCount BIGINT NOT NULL DEFAULT 0,
        PublisherGroup TEXT COLLATE "C" NOT NULL DEFAULT ''
    );

    CREATE VIEW application_rows AS
        SELECT a.id, a.ProductName, a.Publisher, a.Version, a.ProductLanguage, a.ProgramID,
               COALESCE(c.CountTargeted, 0) AS DeviceCount, a.ProductDeviceCount
        FROM applications a LEFT JOIN collections c ON c.id = a.TargetCollection;

    CREATE TABLE telemetry (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        Time TEXT COLLATE "C" NOT NULL,
        Kind TEXT COLLATE "C" NOT NULL,
        Name TEXT COLLATE "C" NOT NULL,
        SeverityLevel BIGINT NOT NULL,
        Message TEXT COLLATE "C" NOT NULL
    );

    CREATE VIEW collection_rows AS
        SELECT id, CollectionId, CollectionName, CollectionType, CountTargeted, CountCompliant, CountNonCompliant,
               CountFailed, CountActivated, CountEnforced, TenantId, HierarchyId,
               CASE WHEN CountTargeted > 0 THEN CountCompliant * 100.0 / CountTargeted END AS CompliancePercent
        FROM collections;

    CREATE VIEW detection_rows AS
        SELECT t.id, t.ThreatID, t.ThreatName, t.Category, t.Severity, t.URL, t.CurrentStatus, t.CurrentStatusID,
               t.ExecutionStatus, t.LastThreatStatusChangeTime, t.InitialDetectionTime, t.NumberOfDetections,
               t.DeviceId, d.Name AS DeviceName
        FROM threats t LEFT JOIN devices d ON d.AADDeviceID = t.DeviceId;

    CREATE VIEW product_rows AS
        SELECT MIN(id) AS id, ProductName, MIN(Publisher) AS Publisher, MIN(PublisherGroup) AS PublisherGroup,
               COUNT(DISTINCT Version) AS Versions, COUNT(DISTINCT ProductLanguage) AS Languages,
               COUNT(*) AS DeploymentTypes, MAX(ProductDeviceCount) AS ProductDeviceCount,
               string_agg(ProgramID, ' ') AS ProgramIDs
        FROM applications GROUP BY ProductName;

    CREATE TABLE tokens (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        hash TEXT COLLATE "C" NOT NULL UNIQUE,
        role TEXT COLLATE "C" NOT NULL,
        label TEXT COLLATE "C" NOT NULL,
        created TEXT COLLATE "C" NOT NULL,
        revoked TEXT COLLATE "C"
    );
    CREATE TABLE sessions (
        hash TEXT COLLATE "C" PRIMARY KEY,
        token BIGINT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
        created TEXT COLLATE "C" NOT NULL,
        expires BIGINT NOT NULL
    );
    "#,
    "SELECT 1",
    "SELECT 1",
    "SELECT 1",
    "SELECT 1",
    "SELECT 1",
    "SELECT 1",
    r#"
    CREATE TABLE changes (
        id BIGINT PRIMARY KEY,
        kind TEXT COLLATE "C" NOT NULL,
        records BIGINT NOT NULL,
        devices BIGINT NOT NULL,
        updated TEXT COLLATE "C",
        moved TEXT COLLATE "C" NOT NULL,
        at BIGINT NOT NULL
    );
    "#,
];

/// Indexes for the API's queries. Created after a bulk load (building them once is much faster than
/// maintaining them row by row), and idempotently at every open.
pub const INDEXES: &str = r#"
    CREATE UNIQUE INDEX IF NOT EXISTS devices_aad_device_id ON devices (AADDeviceID);
    CREATE UNIQUE INDEX IF NOT EXISTS health_device ON defender_health (DeviceId);
    CREATE INDEX IF NOT EXISTS devices_name ON devices (Name, id);
    CREATE INDEX IF NOT EXISTS devices_serial ON devices (SerialNumber, id);
    CREATE INDEX IF NOT EXISTS devices_user ON devices (AADPrimaryUserID, id);
    CREATE INDEX IF NOT EXISTS devices_smsid ON devices (SMSID, id);
    CREATE INDEX IF NOT EXISTS devices_tenant ON devices (AADTenantID, id);
    CREATE INDEX IF NOT EXISTS threats_device ON threats (DeviceId);
    CREATE INDEX IF NOT EXISTS threats_initial ON threats (InitialDetectionTime, Severity);
    CREATE INDEX IF NOT EXISTS threats_status ON threats (CurrentStatus, Severity);
    CREATE INDEX IF NOT EXISTS threats_name ON threats (ThreatName);
    CREATE INDEX IF NOT EXISTS threats_threat ON threats (ThreatID, InitialDetectionTime);
    CREATE INDEX IF NOT EXISTS threats_numbers ON threats (ThreatID, Severity, Category, CurrentStatus, NumberOfDetections,
        InitialDetectionTime, LastThreatStatusChangeTime);
    CREATE INDEX IF NOT EXISTS members_device ON collection_members (device, collection);
    CREATE INDEX IF NOT EXISTS applications_name ON applications (ProductName, Version);
    CREATE INDEX IF NOT EXISTS applications_publisher ON applications (Publisher);
    CREATE INDEX IF NOT EXISTS telemetry_time ON telemetry (Time);
"#;

pub fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// The migrations of a dialect (the same versions in both).
fn migrations(dialect: Dialect) -> &'static [&'static str] {
    match dialect {
        Dialect::Sqlite => MIGRATIONS,
        Dialect::Postgres => PG_MIGRATIONS,
    }
}

/// A small pool of connections to the store: the SQLite file, or the PostgreSQL database.
pub struct Store {
    location: Location,
    /// Shown in logs and messages (the file, or the database without its password).
    name: String,
    /// The pool: idle connections and how many are open in all (at most `MAX_CONNECTIONS`).
    pool: Mutex<Pool>,
    freed: std::sync::Condvar,
    /// Streaming exports running now (each holds a connection and a blocking thread).
    exports: Arc<tokio::sync::Semaphore>,
    /// Requests working on the blocking pool now: as many as the machine has cores, so a crowd of
    /// list requests queues instead of crowding out the threads that answer from memory (the
    /// summary, event streams, static files).
    workers: tokio::sync::Semaphore,
    /// The devices list's in-memory index, built on first use (see `device_index`).
    devices: Mutex<Option<Arc<DeviceIndex>>>,
    /// Bumped by every invalidation: an index whose build spanned a write is used once, not kept.
    epoch: AtomicU64,
    /// Held by the one thread building the index; others wait for its result instead of building too.
    building: Mutex<()>,
    /// Where the follow-up of committed changes is (`catch_up`).
    changes: write::ChangeLog,
    /// The checkpoint thread (woken to end, and joined, when the store is dropped).
    checkpointer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Store {
    fn drop(&mut self) {
        // Woken, and waited for: when the store is gone, so is every connection to its file (a
        // copy or a check made right after sees the file as the last connection left it).
        if let Some(thread) = self.checkpointer.lock().unwrap_or_else(PoisonError::into_inner).take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// What `Store::catch_up` did.
#[derive(Debug)]
pub struct CaughtUp {
    /// The changes committed since the previous call, in order.
    pub changes: Vec<write::Change>,
    /// How the devices index followed them.
    pub index: IndexStep,
}

#[derive(Debug, PartialEq, Eq)]
pub enum IndexStep {
    /// No index yet (the first request builds it), or it already had them.
    Nothing,
    /// Updated in memory for the devices the changes wrote.
    InMemory,
    /// Rebuilt from the store.
    Rebuilt,
}

/// A lock that a panic elsewhere never makes unusable (the data it guards is replaced whole).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The settings of every pooled connection (a bulk load that changes some puts these back). Commits
/// do not checkpoint the write-ahead log themselves
/// (`wal_autocheckpoint = 0`): a thread of the store does, beside the writers (`checkpoints`), so an
/// upload never waits for pages to be copied back into the database file.
pub const CONNECTION_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
     PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384; PRAGMA mmap_size = 4294967296;
     PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;";

/// How often the checkpoint thread copies committed pages back into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// The store's checkpoint thread: every `CHECKPOINT_EVERY`, a passive checkpoint on a connection of
/// its own (it never blocks readers or the writer, and leaves what they still use for the next
/// round). Ends once the store is dropped.
fn checkpoints(store: std::sync::Weak<Store>, path: PathBuf) {
    let mut conn: Option<Connection> = None;
    loop {
        std::thread::park_timeout(CHECKPOINT_EVERY);
        if store.strong_count() == 0 {
            return;
        }
        if conn.is_none() {
            conn = Connection::open_sqlite(&path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .and_then(|c| configure(&c).map(|_| c))
                .map_err(|e| tracing::warn!(error = %e, "checkpoint connection"))
                .ok();
        }
        if let Some(c) = &conn {
            if let Err(e) = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "checkpoint");
                conn = None;
            }
        }
    }
}

fn configure(conn: &Connection) -> db::Result<()> {
    if let Some(sqlite) = conn.sqlite() {
        sqlite.busy_timeout(std::time::Duration::from_secs(10))?;
        sqlite.execute_batch(CONNECTION_PRAGMAS)?;
    }
    Ok(())
}

/// A pooled connection to the store at `location`.
fn open_connection(location: &Location) -> db::Result<Connection> {
    let conn = match location {
        Location::Sqlite(path) => Connection::open_sqlite(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?,
        location => Connection::open(location)?,
    };
    configure(&conn)?;
    Ok(conn)
}

/// A connection string without its password, for logs and messages.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // key=value form: the password's value left out.
        return url
            .split_whitespace()
            .map(|kv| if kv.to_ascii_lowercase().starts_with("password=") { "password=…" } else { kv })
            .collect::<Vec<_>>()
            .join(" ");
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => format!("{scheme}://{}:…@{host}", user.split(':').next().unwrap_or("")),
        _ => url.to_string(),
    }
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, checks the file and brings its schema up
    /// to date. What stops it (a directory it cannot write, a file that is not a sound database, a
    /// schema from a newer server) is an `Open` error whose message is one line saying what to do.
    pub fn open(data_dir: &Path) -> Result<Arc<Store>> {
        Self::open_in(data_dir, None)
    }

    /// Opens the store: the PostgreSQL database at `database` (a `postgres://` connection string)
    /// when given, else the SQLite file in `data_dir`.
    pub fn open_in(data_dir: &Path, database: Option<&str>) -> Result<Arc<Store>> {
        match database {
            Some(url) => Self::open_postgres(url),
            None => Self::open_sqlite(data_dir),
        }
    }

    /// The store of one tenant (`--tenant HOST=TENANT_ID`): a SQLite file of its own under
    /// `data_dir/tenants/TENANT_ID/`, or a schema of its own (`tenant_…`) in the PostgreSQL database.
    /// Its rows, tokens, sessions, change log and event streams are the tenant's alone, and its
    /// write path takes records of that tenant only (`write::SCOPED_TENANT`).
    pub fn open_tenant(data_dir: &Path, database: Option<&str>, tenant: &str) -> Result<Arc<Store>> {
        let tenant = tenant.trim().to_ascii_lowercase();
        if tenant.is_empty() || tenant.len() > 64 || !tenant.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(StoreError::Open(format!("tenant {tenant:?}: give the tenant's id (its Entra tenant GUID)")));
        }
        let store = match database {
            None => Self::open_sqlite(&data_dir.join("tenants").join(&tenant))?,
            Some(url) => {
                let schema = format!("tenant_{}", tenant.replace('-', "_"));
                let admin = Connection::open(&Location::Postgres(url.to_string()))
                    .map_err(|e| StoreError::Open(format!("cannot connect to the database {} ({e})", redacted(url))))?;
                // Under a lock: servers starting together would race for the name.
                admin.execute_batch(&format!(
                    "BEGIN; SELECT pg_advisory_xact_lock({}, 0); CREATE SCHEMA IF NOT EXISTS {schema}; COMMIT",
                    db::PG_WRITE_LOCK
                ))?;
                let scoped = if url.contains("://") {
                    let glue = if url.contains('?') { '&' } else { '?' };
                    format!("{url}{glue}options=-c%20search_path%3D{schema}")
                } else {
                    format!("{url} options='-c search_path={schema}'")
                };
                let store = Self::open_postgres_named(&scoped, format!("{} (schema {schema})", redacted(url)))?;
                // The tenant's rows are the schema's: a connection that landed elsewhere (a pooler
                // that drops the search_path option) would read and write the default store's.
                let landed: String = store.with(|c| Ok(c.query_row("SELECT current_schema()", [], |r| r.get(0))?))?;
                if landed != schema {
                    return Err(StoreError::Open(format!(
                        "tenant {tenant}: the connection's schema is {landed:?}, not {schema:?} (does something between here and PostgreSQL drop the `options` connection parameter?)"
                    )));
                }
                store
            }
        };
        store.with(|c| {
            if get_meta(c, write::SCOPED_TENANT)?.is_none() {
                set_meta(c, write::SCOPED_TENANT, &tenant)?;
            }
            Ok(())
        })?;
        Ok(store)
    }

    /// Connects to the PostgreSQL database and brings its schema up to date (one server at a time:
    /// the migrations run under the store's write lock).
    pub fn open_postgres(url: &str) -> Result<Arc<Store>> {
        Self::open_postgres_named(url, redacted(url))
    }

    fn open_postgres_named(url: &str, name: String) -> Result<Arc<Store>> {
        let location = Location::Postgres(url.to_string());
        let mut conn = Connection::open(&location)
            .map_err(|e| StoreError::Open(format!("cannot connect to the database {name} ({e}); is PostgreSQL running there?")))?;
        migrate(&mut conn).map_err(|e| match e {
            StoreError::TooNew(found, known) => StoreError::Open(format!(
                "the database {name} has schema version {found}, newer than this server understands ({known}): run a newer Tenantscope"
            )),
            e => StoreError::Open(format!("cannot bring the database {name} up to date ({e})")),
        })?;
        Self::with_pool(location, name, conn)
    }

    fn with_pool(location: Location, name: String, conn: Connection) -> Result<Arc<Store>> {
        let changes = write::ChangeLog::default();
        changes.start_at(write::last_change(&conn)?);
        Ok(Arc::new(Store {
            location,
            name,
            pool: Mutex::new(Pool { idle: vec![conn], open: 1 }),
            freed: std::sync::Condvar::new(),
            exports: Arc::new(tokio::sync::Semaphore::new(MAX_EXPORTS)),
            workers: tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(4, |n| 2 * n.get()).max(4)),
            devices: Mutex::new(None),
            epoch: AtomicU64::new(0),
            building: Mutex::new(()),
            changes,
            checkpointer: Mutex::new(None),
        }))
    }

    fn open_sqlite(data_dir: &Path) -> Result<Arc<Store>> {
        let dir = data_dir.display();
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Open(format!("cannot create the data directory {dir}: {e}")))?;
        let path = data_dir.join(DB_FILE);
        let file = path.display();
        let damaged = |e: &db::Error| {
            matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt))
        };
        let mut conn = Connection::open(&Location::Sqlite(path.clone()))
            .and_then(|c| {
                // Fails at once on a file that is not SQLite at all.
                c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
                configure(&c)?;
                Ok(c)
            })
            .map_err(|e| {
                StoreError::Open(if damaged(&e) {
                    format!("{file} is not a Tenantscope database or is damaged ({e}); move it aside to start with an empty store")
                } else {
                    format!("cannot open {file} ({e}); is the data directory {dir} writable?")
                })
            })?;
        check(&conn).map_err(|problem| {
            StoreError::Open(format!("{file} is damaged ({problem}); restore it from a backup or move it aside to start afresh"))
        })?;
        migrate(&mut conn).map_err(|e| match e {
            StoreError::TooNew(found, known) => StoreError::Open(format!(
                "{file} has schema version {found}, newer than this server understands ({known}): run a newer Tenantscope"
            )),
            e => StoreError::Open(format!("cannot bring {file} up to date ({e}); is the data directory {dir} writable?")),
        })?;
        let store = Self::with_pool(Location::Sqlite(path.clone()), file.to_string(), conn)?;
        let weak = Arc::downgrade(&store);
        let thread = std::thread::Builder::new()
            .name("tenantscope-checkpoint".into())
            .spawn(move || checkpoints(weak, path))
            .map_err(|e| StoreError::Open(format!("cannot start the checkpoint thread ({e})")))?;
        *store.checkpointer.lock().unwrap_or_else(PoisonError::into_inner) = Some(thread);
        Ok(store)
    }

    /// Refreshes the query planner's statistics when the store has none (a bulk load that stopped
    /// before its ANALYZE, a store copied without them): sampled, so quick at any size. True when
    /// it had to.
    pub fn ensure_statistics(&self) -> Result<bool> {
        self.with(|conn| {
            if conn.dialect() == Dialect::Postgres {
                // PostgreSQL's autovacuum keeps them.
                return Ok(false);
            }
            let table: bool =
                conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1')", [], |r| r.get(0))?;
            let rows = table && conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_stat1)", [], |r| r.get::<_, bool>(0))?;
            if rows || device_count(conn)? == 0 {
                return Ok(false);
            }
            conn.execute_batch("PRAGMA analysis_limit = 2000; ANALYZE;")?;
            Ok(true)
        })
    }

    /// Creates any missing index (cheap when they exist) and refreshes the planner's statistics.
    pub fn ensure_indexes(&self) -> Result<()> {
        self.with(|conn| {
            match conn.dialect() {
                Dialect::Sqlite => {
                    conn.execute_batch(INDEXES)?;
                    conn.execute_batch("PRAGMA optimize;")?;
                }
                Dialect::Postgres => {
                    // Under the write lock: servers starting together would race for the same names.
                    let tx = conn.transaction_with_behavior(db::TransactionBehavior::Immediate)?;
                    tx.execute_batch(INDEXES)?;
                    tx.commit()?;
                    // This store's tables only (the search_path's schema), not every tenant's.
                    conn.execute_batch(
                        "ANALYZE devices, defender_health, threats, collections, collection_members, applications, telemetry",
                    )?;
                }
            }
            Ok(())
        })
    }

    /// The in-memory index of the devices list, built on first use and brought up to date after each
    /// write through the write path (`refresh_device_index`). The index is built
    /// outside the lock that guards it (requests never wait on that lock for a build), by one thread
    /// at a time, and a build that fails or panics leaves nothing behind: the next request builds
    /// again.
    pub fn device_index(&self) -> Result<Arc<DeviceIndex>> {
        self.device_index_by(DeviceIndex::build)
    }

    #[doc(hidden)]
    pub fn device_index_by(&self, build: impl FnOnce(&Store) -> Result<DeviceIndex>) -> Result<Arc<DeviceIndex>> {
        if let Some(index) = lock(&self.devices).as_ref() {
            return Ok(Arc::clone(index));
        }
        let _building = lock(&self.building);
        // Built meanwhile by the thread we waited for.
        if let Some(index) = lock(&self.devices).as_ref() {
            return Ok(Arc::clone(index));
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        self.build_and_keep(build, epoch)
    }

    /// Builds the index (a panic is an error) and keeps it unless the index was invalidated since
    /// `epoch` was read (then it answers its caller only). Called with `building` held.
    fn build_and_keep(&self, build: impl FnOnce(&Store) -> Result<DeviceIndex>, epoch: u64) -> Result<Arc<DeviceIndex>> {
        let started = std::time::Instant::now();
        let index = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(self)))
            .map_err(|_| StoreError::Task("building the devices index panicked".into()))??;
        let index = Arc::new(index);
        tracing::info!(devices = index.len(), elapsed_ms = started.elapsed().as_millis() as u64, "devices index built");
        let mut slot = lock(&self.devices);
        if self.epoch.load(Ordering::SeqCst) == epoch {
            *slot = Some(Arc::clone(&index));
        }
        Ok(index)
    }

    /// The log every write commits through (`write::apply`, `write::delete_device`).
    pub fn changes(&self) -> &write::ChangeLog {
        &self.changes
    }

    /// Follows every change committed since the last call: the devices index brought up to the
    /// store's last change — in memory for the devices the changes wrote (`DeviceIndex::updated`,
    /// all of them at once when several committed meanwhile), else rebuilt — and the changes handed
    /// back in order (for the change notices). Requests keep using the previous index until the
    /// new one is swapped in. An index whose rebuild fails is dropped (the next request builds it
    /// again); the changes are handed back all the same. Err only before any change was taken (no
    /// connection, no snapshot): the index and the log are left as they were, for another try.
    pub fn catch_up(&self) -> Result<CaughtUp> {
        let _building = lock(&self.building);
        let epoch = self.epoch.load(Ordering::SeqCst);
        let current = lock(&self.devices).clone();
        // Any failure of the in-memory update falls back to a rebuild.
        let followed = self.with(|conn| {
            let snapshot = conn.transaction()?;
            // The first read starts the snapshot; the log has every change up to its last.
            let last = write::last_change(&snapshot)?;
            let changes = self.changes.take(&snapshot, last)?;
            let Some(current) = current.filter(|index| index.change() < last) else {
                return Ok((changes, Some(None)));
            };
            let since: Vec<&write::Change> = changes.iter().filter(|c| c.id > current.change()).collect();
            // Every change since the index's is known (each says which devices it wrote or removed).
            let known = since.len() as i64 == last - current.change() && since.iter().all(|c| !c.devices || c.updated.is_some());
            if !known {
                return Ok((changes, None));
            }
            let mut ids: Vec<i64> = since.iter().filter(|c| c.devices).flat_map(|c| c.updated.iter().flatten().copied()).collect();
            let mut moved: Vec<i64> = since.iter().flat_map(|c| c.moved.iter().copied()).collect();
            ids.sort_unstable();
            ids.dedup();
            moved.sort_unstable();
            moved.dedup();
            let updated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| current.updated(&snapshot, &ids, &moved, last)));
            Ok((changes, updated.ok().and_then(|u| u.ok()).flatten().map(Some)))
        });
        let (changes, step) = match followed {
            Ok((changes, Some(None))) => (changes, IndexStep::Nothing),
            Ok((changes, Some(Some(index)))) => {
                let mut slot = lock(&self.devices);
                // The previous index is freed outside the lock.
                let _previous = if self.epoch.load(Ordering::SeqCst) == epoch { slot.replace(Arc::new(index)) } else { None };
                drop(slot);
                (changes, IndexStep::InMemory)
            }
            Ok((changes, None)) => (changes, IndexStep::Rebuilt),
            // Before any change was taken (no connection, no snapshot): the index is kept as it is
            // (it has every change up to its own), the changes stay in the log for the next try.
            Err(e) => return Err(e),
        };
        if step == IndexStep::Rebuilt {
            if let Err(e) = self.build_and_keep(DeviceIndex::build, epoch) {
                // Never a stale index kept for good: the next request builds it again.
                tracing::error!(error = %e, "devices index rebuild failed");
                drop(_building);
                self.invalidate_device_index();
                return Ok(CaughtUp { changes, index: IndexStep::Nothing });
            }
        }
        Ok(CaughtUp { changes, index: step })
    }

    pub fn invalidate_device_index(&self) {
        let mut slot = lock(&self.devices);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        *slot = None;
    }

    /// The SQLite file (None on PostgreSQL).
    pub fn path(&self) -> Option<&Path> {
        match &self.location {
            Location::Sqlite(path) => Some(path),
            Location::Postgres(_) => None,
        }
    }

    /// The store as logs and messages name it: the SQLite file, or the database without its password.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn dialect(&self) -> Dialect {
        match self.location {
            Location::Sqlite(_) => Dialect::Sqlite,
            Location::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A connection: an idle one, a new one while fewer than `MAX_CONNECTIONS` are open, else the
    /// next one given back, waiting at most `CHECKOUT_WAIT` (then `Busy`: the API answers 503).
    /// Each connection holds a large page cache and a memory map, so their number is what bounds
    /// the server's memory under load.
    fn checkout(&self) -> Result<Connection> {
        let deadline = std::time::Instant::now() + CHECKOUT_WAIT;
        let mut pool = lock(&self.pool);
        loop {
            if let Some(conn) = pool.idle.pop() {
                if conn.is_usable() {
                    return Ok(conn);
                }
                // Closed by the database (restarted, say): its place goes to a new one.
                pool.open -= 1;
                continue;
            }
            if pool.open < MAX_CONNECTIONS {
                pool.open += 1;
                drop(pool);
                let opened = open_connection(&self.location).map_err(StoreError::from);
                if opened.is_err() {
                    lock(&self.pool).open -= 1;
                    self.freed.notify_one();
                }
                return opened;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(StoreError::Busy);
            }
            pool = self.freed.wait_timeout(pool, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// A place for one more streaming export, if fewer than `MAX_EXPORTS` are running.
    pub fn export_permit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        Arc::clone(&self.exports).try_acquire_owned().ok()
    }

    /// Connections open now (idle or in use).
    pub fn open_connections(&self) -> usize {
        lock(&self.pool).open
    }

    fn checkin(&self, conn: Connection) {
        // Never handed out inside a transaction someone forgot (or a failed one).
        if !conn.is_autocommit() && conn.end(false).is_err() {
            lock(&self.pool).open -= 1;
            self.freed.notify_one();
            return;
        }
        lock(&self.pool).idle.push(conn);
        self.freed.notify_one();
    }

    /// Runs `f` with a pooled connection on the calling thread.
    pub fn with<R>(&self, f: impl FnOnce(&mut Connection) -> Result<R>) -> Result<R> {
        let mut conn = self.checkout()?;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut conn))) {
            Ok(out) => {
                self.checkin(conn);
                out
            }
            Err(panic) => {
                // The connection may be mid-transaction: closed, and its place in the pool freed.
                drop(conn);
                lock(&self.pool).open -= 1;
                self.freed.notify_one();
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Runs `f` with the devices index and a pooled connection on tokio's blocking pool. The index
    /// comes first, so a request waiting for it to be built holds no connection (the build needs one).
    pub async fn run_indexed<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Connection, &DeviceIndex) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let _working = self.workers.acquire().await.map_err(|e| StoreError::Task(e.to_string()))?;
        let store = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let index = store.device_index()?;
            store.with(|conn| f(conn, &index))
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` with a pooled connection on tokio's blocking pool.
    pub async fn run<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let _working = self.workers.acquire().await.map_err(|e| StoreError::Task(e.to_string()))?;
        let store = Arc::clone(self);
        tokio::task::spawn_blocking(move || store.with(f))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// A structural check of the whole file (`PRAGMA quick_check`: every page and record readable, no
/// index pointing nowhere). Err: the first problem it reports.
fn check(conn: &Connection) -> std::result::Result<(), String> {
    if conn.dialect() == Dialect::Postgres {
        return Ok(());
    }
    let first: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    if first == "ok" {
        Ok(())
    } else {
        // One line: SQLite's report spans several.
        Err(first.replace("*** in database main ***", "").split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let dialect = conn.dialect();
    if dialect == Dialect::Postgres {
        // Servers starting together: one migrates, the others wait for it, then find nothing to do.
        let tx = conn.transaction_with_behavior(db::TransactionBehavior::Immediate)?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
        tx.commit()?;
    } else {
        conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    }
    let current: i64 =
        conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| r.get(0))?;
    if current > schema_version() {
        return Err(StoreError::TooNew(current, schema_version()));
    }
    for (i, sql) in migrations(dialect).iter().enumerate().skip(current as usize) {
        let tx = conn.transaction_with_behavior(db::TransactionBehavior::Immediate)?;
        // Applied meanwhile by another server (PostgreSQL).
        let done: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| r.get(0))?;
        if done > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        if i == 1 {
            fill_agent_states(&tx)?;
        }
        if i == 3 {
            fill_publisher_groups(&tx)?;
        }
        if i == 2 {
            let ids: Vec<i64> =
                tx.prepare("SELECT id FROM devices WHERE ActiveThreats > 0")?.query_map([], |r| r.get(0))?.collect::<db::Result<_>>()?;
            refresh_verdicts(&tx, &ids)?;
        }
        tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [i as i64 + 1])?;
        tx.commit()?;
    }
    Ok(())
}

/// Recomputes the stored verdict (DefenderHealth) and active-threat count of these devices (row ids)
/// from their health record and the threats still active on them, by the model's one rule. Every
/// write that changes a device's health or threats calls it for the devices it touched.
/// The threats still active on a device: (ThreatName, Severity) of each.
pub fn active_threats_of(conn: &Connection, aad_device_id: &str) -> Result<Vec<(String, i64)>> {
    let mut threats = conn.prepare_cached(&format!(
        "SELECT ThreatName, Severity FROM threats WHERE DeviceId = ?1 AND {}",
        tenantscope_model::api::ACTIVE_THREAT_SQL
    ))?;
    let active = threats.query_map([aad_device_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<db::Result<_>>()?;
    Ok(active)
}

pub fn refresh_verdicts(conn: &Connection, ids: &[i64]) -> Result<()> {
    let mut device = conn.prepare_cached("SELECT AADDeviceID FROM devices WHERE id = ?1")?;
    let mut update = conn.prepare_cached("UPDATE devices SET DefenderHealth = ?1, ActiveThreats = ?2 WHERE id = ?3")?;
    for &id in ids {
        let aad: String = device.query_row([id], |r| r.get(0))?;
        let health = queries::health_of(conn, &aad)?;
        let active = active_threats_of(conn, &aad)?;
        let active_threats: Vec<tenantscope_model::ActiveThreat<'_>> = active
            .iter()
            .map(|(name, severity)| tenantscope_model::ActiveThreat { name, severity: tenantscope_model::Severity::from_code(*severity) })
            .collect();
        let verdict = tenantscope_model::HealthVerdict::of(health.as_ref(), &active_threats);
        update.execute(db::params![verdict.code(), active.len() as i64, id])?;
    }
    Ok(())
}

/// Derives the vendor group of every application's publisher (stores made before it existed).
fn fill_publisher_groups(conn: &Connection) -> Result<()> {
    let rows: Vec<(i64, String)> =
        conn.prepare("SELECT id, Publisher FROM applications")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<db::Result<_>>()?;
    let mut update = conn.prepare("UPDATE applications SET PublisherGroup = ?1 WHERE id = ?2")?;
    for (id, publisher) in rows {
        update.execute(db::params![tenantscope_model::publisher_group(&publisher), id])?;
    }
    Ok(())
}

/// Derives the agent state of every device that has a health record (stores made before it existed).
fn fill_agent_states(conn: &Connection) -> Result<()> {
    let ids: Vec<(i64, String)> = conn
        .prepare("SELECT id, DeviceId FROM defender_health")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<db::Result<_>>()?;
    let mut update = conn.prepare("UPDATE devices SET AgentState = ?1 WHERE id = ?2")?;
    for (id, device) in ids {
        let health = queries::health_of(conn, &device)?;
        update.execute([tenantscope_model::AgentState::of(health.as_ref()).code(), id])?;
    }
    Ok(())
}

pub fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    use db::OptionalExtension;
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

/// Number of devices in the store (0: empty, the demo tenant may be seeded).
pub fn device_count(conn: &Connection) -> Result<u64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM devices", [], |r| r.get::<_, i64>(0))? as u64)
}
