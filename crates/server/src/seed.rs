//! The deterministic demo tenant: the same seed and anchor time give the same tenant, byte for byte.

use crate::store::{self, set_meta, write, Result, Store, StoreError};
use crate::store::db::{params, Connection};
use std::collections::HashMap;
use tenantscope_model::*;

/// SplitMix64: tiny, fast and stable across releases (the demo must not change when a crate does).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// Picks by weight from (item, weight) pairs.
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| *w as u64).sum();
        let mut x = self.below(total);
        for (item, w) in items {
            if x < *w as u64 {
                return item;
            }
            x -= *w as u64;
        }
        &items[items.len() - 1].0
    }
    pub fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
    fn alnum(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
        (0..n).map(|_| CHARS[self.below(CHARS.len() as u64) as usize] as char).collect()
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub devices: u64,
    pub seed: u64,
    /// The tenant's "now": the last upload time; everything else is relative to it (unix seconds).
    pub anchor: i64,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

const LOCATIONS: [(&str, &str, &str); 12] = [
    ("LON", "London", "emea.contoso.com"),
    ("FRA", "Frankfurt", "emea.contoso.com"),
    ("PAR", "Paris", "emea.contoso.com"),
    ("AMS", "Amsterdam", "emea.contoso.com"),
    ("NYC", "New York", "amer.contoso.com"),
    ("SEA", "Seattle", "amer.contoso.com"),
    ("CHI", "Chicago", "amer.contoso.com"),
    ("DAL", "Dallas", "amer.contoso.com"),
    ("TYO", "Tokyo", "apac.contoso.com"),
    ("SIN", "Singapore", "apac.contoso.com"),
    ("SYD", "Sydney", "apac.contoso.com"),
    ("SHA", "Shanghai", "apac.contoso.com"),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Laptop,
    Desktop,
    Virtual,
    Server,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Laptop => "LTP",
            Kind::Desktop => "WKS",
            Kind::Virtual => "VDI",
            Kind::Server => "SRV",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Kind::Laptop => "Laptops",
            Kind::Desktop => "Desktops",
            Kind::Virtual => "Virtual desktops",
            Kind::Server => "Servers",
        }
    }
}

const KINDS: [(Kind, u32); 4] = [(Kind::Laptop, 52), (Kind::Desktop, 30), (Kind::Virtual, 10), (Kind::Server, 8)];

// (model, manufacturer, serial style)
const LAPTOPS: [((&str, &str, u8), u32); 7] = [
    (("Latitude 7440", "Dell Inc.", 0), 20),
    (("Latitude 5440", "Dell Inc.", 0), 14),
    (("HP EliteBook 840 G9", "HP", 1), 18),
    (("HP EliteBook 840 G10", "HP", 1), 12),
    (("ThinkPad T14 Gen 4", "LENOVO", 2), 16),
    (("ThinkPad X1 Carbon Gen 11", "LENOVO", 2), 8),
    (("Surface Laptop 5", "Microsoft Corporation", 3), 6),
];
const DESKTOPS: [((&str, &str, u8), u32); 4] = [
    (("OptiPlex 7010", "Dell Inc.", 0), 40),
    (("HP EliteDesk 800 G6 Desktop Mini PC", "HP", 1), 30),
    (("ThinkCentre M70q Gen 3", "LENOVO", 2), 20),
    (("Precision 3660 Tower", "Dell Inc.", 0), 10),
];
const VIRTUALS: [((&str, &str, u8), u32); 2] =
    [(("Virtual Machine", "Microsoft Corporation", 4), 70), (("VMware Virtual Platform", "VMware, Inc.", 5), 30)];
const SERVERS: [((&str, &str, u8), u32); 4] = [
    (("Virtual Machine", "Microsoft Corporation", 4), 45),
    (("VMware Virtual Platform", "VMware, Inc.", 5), 25),
    (("PowerEdge R750", "Dell Inc.", 0), 18),
    (("ProLiant DL380 Gen10", "HPE", 1), 12),
];

const WORKSTATION_OS: &str = "Microsoft Windows NT Workstation 10.0";
const WORKSTATION_BUILDS: [(&str, u32); 4] = [("10.0.19045", 28), ("10.0.22631", 44), ("10.0.26100", 26), ("10.0.22621", 2)];
const SERVER_BUILDS: [((&str, &str), u32); 4] = [
    (("Microsoft Windows NT Server 10.0", "10.0.17763"), 34),
    (("Microsoft Windows NT Server 10.0", "10.0.20348"), 44),
    (("Microsoft Windows NT Server 10.0", "10.0.26100"), 12),
    (("Microsoft Windows NT Server 6.3", "6.3.9600"), 10),
];

struct GenDevice {
    kind: Kind,
    location: usize,
    build: &'static str,
    model: &'static str,
    manufacturer: &'static str,
    verdict: HealthVerdict,
    has_user: bool,
    department: usize,
    ring: usize,
    guid: String,
}

const DEPARTMENTS: [&str; 16] = [
    "Finance", "Human Resources", "Engineering", "Sales", "Marketing", "Legal", "Operations", "Support",
    "Research", "Procurement", "Facilities", "IT", "Security", "Executive", "Logistics", "Manufacturing",
];

// (name, category, severity, weight)
pub(crate) const THREAT_CATALOG: [(&str, i64, i64, u32); 30] = [
    ("Virus:DOS/EICAR_Test_File", 42, 5, 40),
    ("Trojan:Win32/Wacatac.B!ml", 8, 5, 60),
    ("Trojan:Win32/Wacatac.H!ml", 8, 5, 35),
    ("Trojan:Script/Wacatac.B!ml", 8, 5, 20),
    ("PUA:Win32/Presenoker", 27, 1, 70),
    ("PUADlManager:Win32/OfferCore", 27, 1, 45),
    ("PUABundler:Win32/uTorrent", 21, 1, 30),
    ("PUA:Win32/CoinMiner", 27, 1, 15),
    ("SoftwareBundler:Win32/Prepscram", 21, 1, 12),
    ("BrowserModifier:Win32/Sasquor", 13, 2, 14),
    ("Adware:Win32/Hotbar", 1, 2, 8),
    ("HackTool:Win32/AutoKMS", 34, 4, 40),
    ("HackTool:Win32/Keygen", 34, 4, 30),
    ("HackTool:Win64/Mimikatz.D", 34, 4, 4),
    ("RemoteAccess:Win32/RemoteUtilities", 25, 2, 10),
    ("MonitoringTool:Win32/RealtimeSpy", 12, 2, 3),
    ("Trojan:Win32/Kepavll!rfn", 8, 5, 10),
    ("Trojan:Win32/Sabsik.FL.B!ml", 8, 5, 12),
    ("Trojan:Win32/Bearfoos.A!ml", 8, 5, 9),
    ("Trojan:HTML/Phish.AAG!MTB", 8, 5, 18),
    ("TrojanDownloader:O97M/Emotet.PE!MTB", 4, 5, 6),
    ("TrojanDropper:PowerShell/Ploty.A", 37, 5, 3),
    ("Exploit:O97M/CVE-2017-11882.A", 30, 5, 5),
    ("Backdoor:Win32/Bladabindi!ml", 6, 5, 4),
    ("Worm:Win32/Phorpiex.A", 5, 5, 3),
    ("PWS:Win32/Zbot", 3, 5, 2),
    ("Behavior:Win32/Hive.ZY", 46, 5, 1),
    ("Ransom:Win32/WannaCrypt", 50, 5, 1),
    ("Ransom:Win64/LockBit.PA!MTB", 50, 5, 1),
    ("Exploit:Win32/CVE-2021-40444.A", 30, 4, 2),
];

// (product, publisher, versions, languages)
const PRODUCTS: [(&str, &str, &[&str], &[u32]); 36] = [
    ("7-Zip 23.01 (x64 edition)", "Igor Pavlov", &["23.01.00.0"], &[1033]),
    ("Adobe Acrobat Reader DC MUI", "Adobe Systems Incorporated", &["23.006.20360", "24.002.20759", "24.003.20112"], &[1033, 1031, 1036, 1041]),
    ("Google Chrome", "Google LLC", &["119.0.6045.160", "120.0.6099.110", "131.0.6778.86"], &[1033]),
    ("Mozilla Firefox ESR (x64 en-US)", "Mozilla", &["115.5.0", "128.5.0"], &[1033]),
    ("Microsoft Edge WebView2 Runtime", "Microsoft Corporation", &["131.0.2903.70"], &[0]),
    ("Microsoft 365 Apps for enterprise", "Microsoft Corporation", &["16.0.17928.20156", "16.0.18129.20158"], &[1033, 1031, 1036, 1041, 2052]),
    ("Microsoft Teams Meeting Add-in for Microsoft Office", "Microsoft", &["1.24.14501"], &[1033]),
    ("Microsoft Visual C++ 2015-2022 Redistributable (x64)", "Microsoft Corporation", &["14.38.33135.0", "14.40.33816.0"], &[1033]),
    ("Microsoft .NET Runtime - 8.0.11 (x64)", "Microsoft Corporation", &["8.0.11.34221"], &[1033]),
    ("Microsoft SQL Server 2019 Native Client", "Microsoft Corporation", &["15.0.2000.5"], &[1033]),
    ("Microsoft ODBC Driver 18 for SQL Server", "Microsoft Corporation", &["18.3.2.1"], &[1033, 1041]),
    ("Microsoft Power BI Desktop (x64)", "Microsoft Corporation", &["2.137.952.0"], &[1033]),
    ("Microsoft Visual Studio Code", "Microsoft Corporation", &["1.95.3"], &[0]),
    ("Zoom Workplace (64-bit)", "Zoom Video Communications, Inc.", &["6.2.11.48069", "6.3.0.52884"], &[1033]),
    ("Cisco Secure Client - AnyConnect VPN", "Cisco Systems, Inc.", &["5.1.2.42"], &[1033]),
    ("GlobalProtect", "Palo Alto Networks", &["6.2.1", "6.2.4"], &[1033]),
    ("Notepad++ (64-bit x64)", "Notepad++ Team", &["8.6.9", "8.7.1"], &[0]),
    ("VLC media player", "VideoLAN", &["3.0.20", "3.0.21"], &[0]),
    ("Java 8 Update 421 (64-bit)", "Oracle Corporation", &["8.0.4210.9"], &[1033]),
    ("Eclipse Temurin JDK with Hotspot 17.0.13+11 (x64)", "Eclipse Adoptium", &["17.0.13.11"], &[1033]),
    ("Python 3.12.7 (64-bit)", "Python Software Foundation", &["3.12.7150.0"], &[1033]),
    ("Git", "The Git Development Community", &["2.47.0"], &[0]),
    ("PuTTY release 0.81 (64-bit)", "Simon Tatham", &["0.81.0.0"], &[1033]),
    ("WinSCP 6.3.5", "Martin Prikryl", &["6.3.5"], &[1033, 1031]),
    ("KeePass Password Safe 2.57", "Dominik Reichl", &["2.57.0"], &[0]),
    ("Citrix Workspace 2409", "Citrix Systems, Inc.", &["24.9.0.133"], &[1033, 1031, 1036]),
    ("VMware Tools", "VMware, Inc.", &["12.4.5.23787635"], &[1033]),
    ("Dell Command | Update for Windows Universal", "Dell Inc.", &["5.4.0"], &[1033]),
    ("HP Support Assistant", "HP Inc.", &["9.38.25.0"], &[1033, 1031]),
    ("Lenovo Vantage Service", "Lenovo Group Ltd.", &["4.2.11.0"], &[1033]),
    ("SAP GUI for Windows 8.00", "SAP SE", &["8.00.10"], &[1033, 1031]),
    ("Tableau Desktop 2024.2", "Tableau Software", &["24.2.1212.0"], &[1033, 1036, 1041]),
    ("AutoCAD 2025 - English", "Autodesk", &["25.0.58.0"], &[1033]),
    ("Snagit 2024", "TechSmith Corporation", &["24.2.0.3478"], &[1033, 1031, 1036, 1041]),
    ("Wireshark 4.4.2 x64", "The Wireshark developer community", &["4.4.2"], &[0]),
    ("Microsoft Monitoring Agent", "Microsoft Corporation", &["10.20.18069.0"], &[1033]),
];

fn serial(rng: &mut Rng, style: u8) -> String {
    match style {
        0 => rng.alnum(7),
        1 => format!("5CG{}", rng.alnum(7)),
        2 => format!("PF{}", rng.alnum(6)),
        3 => format!("0{:011}", rng.below(100_000_000_000)),
        4 => format!("{:04}-{:04}-{:04}-{:04}-{:04}-{:04}-{:02}", rng.below(10_000), rng.below(10_000), rng.below(10_000), rng.below(10_000), rng.below(10_000), rng.below(10_000), rng.below(100)),
        _ => format!("VMware-56 4d {:02x} {:02x} {:02x} {:02x} {:02x} {:02x}-{:02x} {:02x}", rng.below(256), rng.below(256), rng.below(256), rng.below(256), rng.below(256), rng.below(256), rng.below(256), rng.below(256)),
    }
}

/// Defender health for one device with realistic proportions, consistent flags and times.
/// The signature version a device has after updating at `at`: a release every 6 hours, a new build
/// every 30 days (so devices that updated in the same window share a version, as they do in reality).
fn signature_release(at: i64) -> String {
    let release = at.div_euclid(6 * 3_600);
    format!("1.{}.{}.0", 300 + release.div_euclid(120).rem_euclid(200), release.rem_euclid(120) * 3 + 1)
}

pub(crate) fn gen_health(rng: &mut Rng, device_id: &str, is_vm: bool, anchor: i64) -> DefenderHealth {
    let hours = |rng: &mut Rng, lo: i64, hi: i64| anchor - (lo + rng.below((hi - lo) as u64) as i64) * 3600;
    let defender_enabled = !rng.chance(0.004);
    let rtp_enabled = defender_enabled && !rng.chance(0.012);
    let signature_out_of_date = rng.chance(0.04);
    let quick_scan_overdue = rng.chance(0.03);
    let full_scan_overdue = rng.chance(0.035);
    let reboot_required = rng.chance(0.02);
    let full_scan_required = rng.chance(0.01);
    let tamper = !rng.chance(0.015);
    let onboarded = !rng.chance(0.03);
    let service_down = rng.chance(0.003);
    let mut product = 0u64;
    if service_down {
        product |= 1;
    }
    if signature_out_of_date {
        product |= 32 | 64;
    }
    if quick_scan_overdue {
        product |= 128;
    }
    if full_scan_overdue {
        product |= 256;
    }
    if reboot_required {
        product |= 8;
    }
    if full_scan_required {
        product |= 4;
    }
    if rng.chance(0.01) {
        product |= 512; // a scan is running right now
    }
    let platform_old = rng.chance(0.02);
    if platform_old {
        product |= 1_048_576;
    }
    if product & !512 == 0 {
        product |= flags::PRODUCT_STATUS_HEALTHY;
    }
    let mut computer = 0u64;
    if reboot_required {
        computer |= 2;
    }
    if full_scan_required {
        computer |= 1;
    }
    // Draws kept so the rest of the demo tenant stays as it was (versions now follow the update times).
    let _ = if signature_out_of_date { rng.below(30) } else { rng.below(3) };
    let last_update = if signature_out_of_date { hours(rng, 8 * 24, 40 * 24) } else { hours(rng, 1, 30) };
    let quick = if quick_scan_overdue { hours(rng, 8 * 24, 30 * 24) } else { hours(rng, 1, 7 * 24) };
    let full = if full_scan_overdue { hours(rng, 31 * 24, 120 * 24) } else { hours(rng, 24, 30 * 24) };
    let platform = if platform_old { "4.18.23110.3" } else { *rng.pick(&["4.18.24090.11", "4.18.24090.11", "4.18.24080.9"]) };
    DefenderHealth {
        device_id: device_id.to_string(),
        product_status: ProductStatus(product),
        computer_state: ComputerState(computer),
        defender_enabled,
        rtp_enabled,
        nis_enabled: defender_enabled && !rng.chance(0.08),
        quick_scan_overdue,
        full_scan_overdue,
        signature_out_of_date,
        reboot_required,
        full_scan_required,
        tamper_protection_enabled: tamper,
        is_mde_sense_running: onboarded && !service_down,
        is_virtual_machine: is_vm,
        mde_onboarding_state: if onboarded { MdeOnboardingState::Onboarded } else { MdeOnboardingState::NotOnboarded },
        engine_version: if platform_old { "1.1.23110.2".into() } else { "1.1.24090.11".into() },
        // Each `rng.below(400)` here is a draw kept so the rest of the demo tenant stays as it was.
        signature_version: {
            rng.below(400);
            signature_release(last_update)
        },
        defender_version: platform.into(),
        quick_scan_time: Some(time::format_rfc3339(quick)),
        full_scan_time: (!rng.chance(0.02)).then(|| time::format_rfc3339(full)),
        // The versions the scans ran with: those current at the scan (each before the last update).
        quick_scan_sig_version: {
            rng.below(400);
            Some(signature_release(quick.min(last_update)))
        },
        full_scan_sig_version: {
            rng.below(400);
            Some(signature_release(full.min(last_update)))
        },
        last_update_time: Some(time::format_rfc3339(last_update)),
    }
}

struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(show: bool, len: u64, msg: &'static str) -> Self {
        Progress(show.then(|| {
            let bar = indicatif::ProgressBar::new(len);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
                    .expect("template")
                    .progress_chars("=> "),
            );
            bar.set_message(msg);
            bar
        }))
    }
    fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }
    fn done(self) {
        if let Some(b) = self.0 {
            b.finish();
        }
    }
}

/// The meta key written in the demo tenant's own transaction: present only when it was generated whole.
pub const DEMO_COMPLETE: &str = "demo_complete";

/// Fills an empty store with the demo tenant, in one transaction.
pub fn seed(store: &Store, opts: &DemoOptions) -> Result<()> {
    seed_reporting(store, opts, &|_| ())
}

/// `seed`, telling `report` how far it is (0.0 to 1.0) as it goes.
pub fn seed_reporting(store: &Store, opts: &DemoOptions, report: &dyn Fn(f64)) -> Result<()> {
    seed_locked(store, opts, report, false).map(|_| ())
}

/// `seed_reporting` under the store's write lock; with `unless_filled`, nothing when the store has
/// devices by then (another server over the same database seeded it first). Whether it seeded.
fn seed_locked(store: &Store, opts: &DemoOptions, report: &dyn Fn(f64), unless_filled: bool) -> Result<bool> {
    let seeded = store.with(|conn| {
        // Bulk-load settings for this connection only, put back whatever happens: the connection
        // returns to the pool and serves requests afterwards.
        conn.execute_sqlite("PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576;")?;
        let loaded = (|| -> Result<bool> {
            let tx = conn.transaction_with_behavior(crate::store::db::TransactionBehavior::Immediate)?;
            if unless_filled && store::device_count(&tx)? > 0 {
                return Ok(false);
            }
            generate(&tx, opts, report)?;
            set_meta(&tx, DEMO_COMPLETE, &time::format_rfc3339(opts.anchor))?;
            tx.commit()?;
            Ok(true)
        })();
        let restored = conn.execute_sqlite(store::CONNECTION_PRAGMAS);
        let seeded = loaded?;
        restored?;
        Ok(seeded)
    })?;
    if !seeded {
        return Ok(false);
    }
    let started = std::time::Instant::now();
    let bar = Progress::new(opts.progress, 1, "indexes");
    store.ensure_indexes()?;
    // Sampled statistics for the query planner (a full ANALYZE of a million rows takes long).
    store.with(|conn| Ok(conn.execute_sqlite("PRAGMA analysis_limit = 2000; ANALYZE;")?))?;
    bar.inc(1);
    bar.done();
    report(1.0);
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "demo: indexes and statistics");
    Ok(true)
}

fn generate(conn: &Connection, opts: &DemoOptions, report: &dyn Fn(f64)) -> Result<()> {
    let started = std::time::Instant::now();
    // Row ids are positions + 1 (memberships and verdicts rely on it). SQLite gives an empty table's
    // first row id 1; PostgreSQL's id counters never go back (a seed that was stopped, rows that were
    // deleted), so those of the tables the demo fills are set back to 1 — only where a table is empty.
    if conn.dialect() == crate::store::Dialect::Postgres {
        for table in ["devices", "threats", "collections", "applications", "telemetry"] {
            conn.execute_batch(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, false) WHERE NOT EXISTS (SELECT 1 FROM {table})"
            ))?;
        }
    }
    let mut rng = Rng::new(opts.seed);
    let anchor = opts.anchor;
    let tenant_id = rng.guid();
    let hierarchy_id = rng.guid().to_uppercase();
    let site = "ABC";
    set_meta(conn, "tenant_id", &tenant_id)?;
    set_meta(conn, "tenant_name", "Contoso")?;
    set_meta(conn, "hierarchy_id", &hierarchy_id)?;
    set_meta(conn, "site_code", site)?;
    set_meta(conn, "seed", &opts.seed.to_string())?;
    let last_upload = anchor - 4 * 60;
    set_meta(conn, "last_upload", &time::format_rfc3339(last_upload))?;

    // Devices and their health.
    let bar = Progress::new(opts.progress, opts.devices, "devices");
    let mut counters: HashMap<(usize, &'static str), u64> = HashMap::new();
    let mut devices: Vec<GenDevice> = Vec::with_capacity(opts.devices as usize);
    {
        let mut set_verdict = conn.prepare("UPDATE devices SET DefenderHealth = ?1 WHERE id = ?2")?;
        for i in 0..opts.devices {
            let kind = *rng.weighted(&KINDS);
            let location = rng.below(LOCATIONS.len() as u64) as usize;
            let (loc, _, domain) = LOCATIONS[location];
            let (model, manufacturer, style) = *match kind {
                Kind::Laptop => rng.weighted(&LAPTOPS),
                Kind::Desktop => rng.weighted(&DESKTOPS),
                Kind::Virtual => rng.weighted(&VIRTUALS),
                Kind::Server => rng.weighted(&SERVERS),
            };
            let (os, build) = if kind == Kind::Server {
                *rng.weighted(&SERVER_BUILDS)
            } else {
                (WORKSTATION_OS, *rng.weighted(&WORKSTATION_BUILDS))
            };
            let n = counters.entry((location, kind.prefix())).or_insert(0);
            *n += 1;
            let name = format!("{}-{loc}-{:05}", kind.prefix(), *n);
            let sku = match kind {
                Kind::Server => *rng.weighted(&[("ServerDatacenter", 60), ("ServerStandard", 40)]),
                _ => *rng.weighted(&[("Enterprise", 82), ("Professional", 15), ("Education", 3)]),
            };
            let domain = if kind == Kind::Server { "corp.contoso.com" } else { domain };
            let guid = rng.guid();
            let has_user = kind != Kind::Server;
            let user = has_user.then(|| rng.guid());
            let serial = serial(&mut rng, style);
            let smsid = format!("GUID:{}", rng.guid().to_uppercase());
            let is_vm = style >= 4;
            let health = (!rng.chance(0.035)).then(|| gen_health(&mut rng, &guid, is_vm, anchor));
            // The store's one write path, as an upload would write it; the verdict by the model's rule
            // (no threats yet: `gen_threats` refreshes the devices it gives active ones).
            let device = Device {
                smsid,
                aad_tenant_id: tenant_id.clone(),
                aad_device_id: guid.clone(),
                name,
                device_os: os.into(),
                device_os_build: build.into(),
                aad_primary_user_id: user,
                model: model.into(),
                manufacturer: manufacturer.into(),
                serial_number: serial,
                domain_names: domain.into(),
                sku: sku.into(),
            };
            let id = write::upsert_device(conn, &device)?;
            if id != i as i64 + 1 {
                return Err(StoreError::Task(format!("the demo's device {} got row id {id}: is the store empty?", i + 1)));
            }
            if let Some(h) = &health {
                write::upsert_health(conn, id, h)?;
            }
            let verdict = HealthVerdict::of(health.as_ref(), &[]);
            set_verdict.execute(params![verdict.code(), id])?;
            devices.push(GenDevice {
                kind,
                location,
                build,
                model,
                manufacturer,
                verdict,
                has_user,
                department: rng.below(DEPARTMENTS.len() as u64 * 3) as usize,
                ring: rng.below(100) as usize,
                guid,
            });
            if i % 4096 == 4095 {
                bar.inc(4096);
                // Devices are most of the work; indexes and statistics follow.
                report(0.7 * i as f64 / opts.devices as f64);
            }
        }
        bar.inc(opts.devices % 4096);
    }
    bar.done();

    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "demo: devices and health");
    // Threats before collections: an active threat changes a device's verdict, and the collections'
    // compliance counts follow their members' verdicts.
    gen_threats(conn, &mut rng, &mut devices, anchor)?;
    let collection_ids = gen_collections(conn, &devices, &tenant_id, &hierarchy_id, site, opts.progress)?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "demo: threats, collections");
    report(0.8);
    gen_applications(conn, &mut rng, &collection_ids)?;
    gen_connector(conn, &mut rng, &tenant_id, &hierarchy_id, last_upload)?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "demo: applications, connector");
    Ok(())
}

type Rule<'a> = Box<dyn Fn(&GenDevice) -> bool + 'a>;

/// A generated collection's row id and its members as a bitset of device positions.
struct Members {
    rowid: i64,
    bits: Vec<u64>,
    /// A device collection (applications are deployed to these).
    devices: bool,
}

fn gen_collections(
    conn: &Connection,
    devices: &[GenDevice],
    tenant_id: &str,
    hierarchy_id: &str,
    site: &str,
    progress: bool,
) -> Result<Vec<Members>> {
    let mut defs: Vec<(String, String, CollectionType, Rule)> = Vec::new();
    let mut next = 0x10u32;
    let mut site_id = || {
        next += 1;
        format!("{site}{next:05X}")
    };
    defs.push(("SMS00001".into(), "All Systems".into(), CollectionType::Device, Box::new(|_| true)));
    defs.push(("SMS00002".into(), "All Users".into(), CollectionType::User, Box::new(|d| d.has_user)));
    defs.push(("SMSDM003".into(), "All Desktop and Server Clients".into(), CollectionType::Device, Box::new(|_| true)));
    defs.push((site_id(), "All Windows workstations".into(), CollectionType::Device, Box::new(|d| d.kind != Kind::Server)));
    defs.push((site_id(), "All Windows servers".into(), CollectionType::Device, Box::new(|d| d.kind == Kind::Server)));
    defs.push((site_id(), "All Windows 10 workstations".into(), CollectionType::Device, Box::new(|d| d.build == "10.0.19045")));
    defs.push((
        site_id(),
        "All Windows 11 workstations".into(),
        CollectionType::Device,
        Box::new(|d| d.kind != Kind::Server && d.build != "10.0.19045"),
    ));
    defs.push((site_id(), "Windows Server 2012 R2 (extended security updates)".into(), CollectionType::Device, Box::new(|d| d.build == "6.3.9600")));
    defs.push((site_id(), "Windows Server 2019".into(), CollectionType::Device, Box::new(|d| d.build == "10.0.17763")));
    defs.push((site_id(), "Windows Server 2022".into(), CollectionType::Device, Box::new(|d| d.kind == Kind::Server && d.build == "10.0.20348")));
    defs.push((site_id(), "Windows Server 2025".into(), CollectionType::Device, Box::new(|d| d.kind == Kind::Server && d.build == "10.0.26100")));
    for (i, (code, city, _)) in LOCATIONS.iter().enumerate() {
        defs.push((site_id(), format!("All devices - {city} ({code})"), CollectionType::Device, Box::new(move |d| d.location == i)));
        for kind in [Kind::Laptop, Kind::Desktop, Kind::Virtual, Kind::Server] {
            defs.push((
                site_id(),
                format!("{} - {city}", kind.label()),
                CollectionType::Device,
                Box::new(move |d| d.location == i && d.kind == kind),
            ));
        }
    }
    for manufacturer in ["Dell Inc.", "HP", "LENOVO", "Microsoft Corporation", "VMware, Inc.", "HPE"] {
        defs.push((site_id(), format!("Manufacturer - {manufacturer}"), CollectionType::Device, Box::new(move |d| d.manufacturer == manufacturer)));
    }
    for (model, _) in LAPTOPS.iter().chain(DESKTOPS.iter()) {
        let model = model.0;
        defs.push((site_id(), format!("Model - {model}"), CollectionType::Device, Box::new(move |d| d.model == model)));
    }
    for (i, dept) in DEPARTMENTS.iter().enumerate() {
        defs.push((site_id(), format!("{dept} workstations"), CollectionType::Device, Box::new(move |d| d.kind != Kind::Server && d.department == i)));
        defs.push((site_id(), format!("{dept} users"), CollectionType::User, Box::new(move |d| d.has_user && d.department == i)));
    }
    for (i, dept) in DEPARTMENTS.iter().enumerate() {
        defs.push((
            site_id(),
            format!("Defender antivirus policy - {dept}"),
            CollectionType::Device,
            Box::new(move |d| d.department == i || (d.kind == Kind::Server && d.department % DEPARTMENTS.len() == i)),
        ));
    }
    for ring in 0..4usize {
        let (lo, hi) = [(0, 2), (2, 12), (12, 50), (50, 100)][ring];
        defs.push((
            site_id(),
            format!("Defender update ring {} ({})", ring + 1, ["pilot", "early", "broad", "late"][ring]),
            CollectionType::Device,
            Box::new(move |d| d.ring >= lo && d.ring < hi),
        ));
    }
    defs.push((site_id(), "Domain controllers".into(), CollectionType::Device, Box::new(|d| d.kind == Kind::Server && d.ring % 17 == 0)));
    defs.push((site_id(), "SQL servers".into(), CollectionType::Device, Box::new(|d| d.kind == Kind::Server && d.ring % 5 == 1)));
    defs.push((site_id(), "Web servers".into(), CollectionType::Device, Box::new(|d| d.kind == Kind::Server && d.ring % 5 == 2)));
    defs.push((site_id(), "Defender exclusions - build agents".into(), CollectionType::Device, Box::new(|d| d.kind == Kind::Virtual && d.ring % 7 == 0)));
    defs.push((site_id(), "Quarantine - unhealthy devices".into(), CollectionType::Device, Box::new(|d| d.verdict == HealthVerdict::Unhealthy)));
    defs.push((site_id(), "Empty staging collection".into(), CollectionType::Device, Box::new(|_| false)));
    defs.push((site_id(), "Kiosk devices".into(), CollectionType::Other, Box::new(|d| d.kind == Kind::Desktop && d.ring == 99)));

    let bar = Progress::new(progress, defs.len() as u64, "collections");
    let mut insert_member = conn.prepare("INSERT INTO collection_members (collection, device) VALUES (?1, ?2)")?;
    let mut ids = Vec::with_capacity(defs.len());
    let words = devices.len().div_ceil(64);
    for (n, (id, name, ctype, rule)) in defs.iter().enumerate() {
        let rowid = n as i64 + 1;
        let mut counts = [0u64; 4];
        let mut members = vec![0u64; words];
        // A user collection's members are users, not devices: no device is a member of one, and an
        // endpoint protection policy (which targets devices) counts nothing for it.
        let device_collection = *ctype != CollectionType::User;
        for (i, d) in devices.iter().enumerate() {
            if device_collection && rule(d) {
                insert_member.execute([rowid, i as i64 + 1])?;
                counts[d.verdict.code() as usize] += 1;
                members[i / 64] |= 1 << (i % 64);
            }
        }
        // Compliance counts follow the members' verdicts, so they match the device lists they open:
        // compliant = healthy, non-compliant = at risk, failed = unhealthy, not reporting = none of them.
        let targeted: u64 = counts.iter().sum();
        let reporting = targeted - counts[HealthVerdict::NotReporting.code() as usize];
        let enforced = reporting - counts[HealthVerdict::Unhealthy.code() as usize] / 2;
        let written = write::upsert_collection(
            conn,
            &DefenderCollection {
                collection_id: id.clone(),
                collection_name: name.clone(),
                collection_type: *ctype,
                count_targeted: targeted,
                count_compliant: counts[HealthVerdict::Healthy.code() as usize],
                count_non_compliant: counts[HealthVerdict::AtRisk.code() as usize],
                count_failed: counts[HealthVerdict::Unhealthy.code() as usize],
                count_activated: reporting,
                count_enforced: enforced,
                tenant_id: tenant_id.to_string(),
                hierarchy_id: hierarchy_id.to_string(),
            },
        )?;
        if written != rowid {
            return Err(StoreError::Task(format!("the demo's collection {rowid} got row id {written}: is the store empty?")));
        }
        ids.push(Members { rowid, bits: members, devices: device_collection });
        bar.inc(1);
    }
    bar.done();
    Ok(ids)
}

fn gen_applications(conn: &Connection, rng: &mut Rng, collections: &[Members]) -> Result<()> {
    let scope = format!("ScopeId_{}", rng.guid().to_uppercase());
    let words = collections.first().map(|c| c.bits.len()).unwrap_or(0);
    let targets: Vec<&Members> = collections[3..].iter().filter(|c| c.devices).collect();
    for (product, publisher, versions, languages) in PRODUCTS.iter() {
        // Each deployment type is deployed to one of the site's device collections.
        let mut types = Vec::new();
        for version in versions.iter() {
            for lcid in languages.iter() {
                let target = *rng.pick(&targets);
                // x64 / x86 / per-channel deployment types of the same MSI.
                for _ in 0..2 + rng.below(3) {
                    types.push((format!("{scope}/DeploymentType_{}", rng.guid()), *version, *lcid, target));
                }
            }
        }
        // The product reaches the union of its deployment types' collections.
        let mut reach = vec![0u64; words];
        for (_, _, _, target) in &types {
            for (r, b) in reach.iter_mut().zip(&target.bits) {
                *r |= b;
            }
        }
        let reach: u64 = reach.iter().map(|w| w.count_ones() as u64).sum();
        for (program, version, lcid, target) in types {
            let application = Application {
                product_name: product.to_string(),
                publisher: publisher.to_string(),
                version: version.to_string(),
                product_language: lcid,
                program_id: program,
            };
            write::upsert_application(conn, &application, Some(target.rowid), reach)?;
        }
    }
    Ok(())
}

fn gen_threats(conn: &Connection, rng: &mut Rng, devices: &mut [GenDevice], anchor: i64) -> Result<()> {
    if devices.is_empty() {
        return Ok(());
    }
    let weights: Vec<(usize, u32)> = THREAT_CATALOG.iter().enumerate().map(|(i, t)| (i, t.3)).collect();
    let per_day = (devices.len() as f64 * 0.0006).max(2.0);
    let mut seen: HashMap<(usize, usize), usize> = HashMap::new();
    let mut rows: Vec<ThreatDetection> = Vec::new();
    // A few "frequent flyer" devices attract repeated detections.
    let hot: Vec<usize> = (0..(devices.len() / 500).max(1)).map(|_| rng.below(devices.len() as u64) as usize).collect();
    for day in 0..90i64 {
        let day_start = (anchor / 86_400 - day) * 86_400;
        let weekday = (day_start / 86_400 + 4) % 7; // 0 = Sunday
        let weekend = weekday == 0 || weekday == 6;
        let factor = if weekend { 0.35 } else { 1.0 } * (0.7 + 0.6 * rng.unit());
        let count = (per_day * factor).round() as u64 + rng.below(3);
        for _ in 0..count {
            let hour = if rng.chance(0.8) { 8 + rng.below(10) } else { rng.below(24) } as i64;
            let at = day_start + hour * 3600 + rng.below(3600) as i64;
            if at > anchor - 300 {
                continue;
            }
            let device = if rng.chance(0.15) { *rng.pick(&hot) } else { rng.below(devices.len() as u64) as usize };
            let t = *rng.weighted(&weights);
            if let Some(&existing) = seen.get(&(device, t)) {
                rows[existing].number_of_detections += 1;
                continue;
            }
            let (name, category, severity, _) = THREAT_CATALOG[t];
            let age_days = (anchor - at) / 86_400;
            // Recent detections are more often still being worked on.
            let p_active = if age_days < 3 { 0.35 } else if age_days < 14 { 0.12 } else { 0.03 };
            let state = if rng.chance(p_active) {
                *rng.weighted(&[(0i64, 50), (1, 15), (2, 12), (3, 10), (4, 13)])
            } else {
                *rng.weighted(&[(6i64, 50), (7, 25), (8, 15), (9, 4), (5, 3), (10, 3)])
            };
            let status_id = match state {
                0 | 3 | 4 => 1,
                1 => *rng.pick(&[102i64, 103, 104]),
                2 => 1,
                5 => 102,
                6 => 3,
                7 => 4,
                8 => 2,
                9 => 5,
                _ => 0,
            };
            let execution = match state {
                0 => *rng.pick(&[3i64, 4]),
                9 => 2,
                1 | 2 => 4,
                _ => 1,
            };
            let change = (at + rng.below(6 * 3600) as i64).min(anchor - 300);
            let threat_id = 2_147_700_000 + t as i64 * 7_919 + 113;
            seen.insert((device, t), rows.len());
            rows.push(ThreatDetection {
                threat_id,
                threat_name: name.to_string(),
                category: Category::from_code(category),
                severity: Severity::from_code(severity),
                url: Some(format!(
                    "https://go.microsoft.com/fwlink/?linkid=37020&name={}&threatid={threat_id}&enterprise=1",
                    tenantscope_model::api::encode_component(name)
                )),
                current_status: ThreatState::from_code(state),
                current_status_id: DetectionStatus::from_code(status_id),
                execution_status: ExecutionStatus::from_code(execution),
                last_threat_status_change_time: time::format_rfc3339(change),
                initial_detection_time: time::format_rfc3339(at),
                number_of_detections: 1,
                device_id: devices[device].guid.clone(),
            });
        }
    }
    let mut active: HashMap<usize, i64> = HashMap::new();
    for ((device, _), &i) in &seen {
        if rows[i].current_status.is_active() {
            *active.entry(*device).or_insert(0) += 1;
        }
    }
    for t in &rows {
        write::upsert_threat(conn, t)?;
    }
    // The devices with active threats get their count and verdict from the store's one rule.
    // (The look-up indexes it needs are built here, ahead of the others.)
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS threats_device ON threats (DeviceId);
         CREATE UNIQUE INDEX IF NOT EXISTS health_device ON defender_health (DeviceId);",
    )?;
    let ids: Vec<i64> = active.keys().map(|device| *device as i64 + 1).collect();
    crate::store::refresh_verdicts(conn, &ids)?;
    let mut verdict = conn.prepare("SELECT DefenderHealth FROM devices WHERE id = ?1")?;
    for id in ids {
        let code: i64 = verdict.query_row([id], |r| r.get(0))?;
        devices[id as usize - 1].verdict = HealthVerdict::from_code(code).unwrap_or(HealthVerdict::NotReporting);
    }
    Ok(())
}

fn gen_connector(conn: &Connection, rng: &mut Rng, tenant_id: &str, hierarchy_id: &str, last_upload: i64) -> Result<()> {
    let facts = ConnectorFacts {
        os_version: "Microsoft Windows NT Server 10.0 (10.0.20348)".into(),
        site_version: "5.00.9128.1000".into(),
        site_support_id: hierarchy_id.to_string(),
        language: "en-US".into(),
        azure_tenant_id: tenant_id.to_string(),
        aad_client_id: rng.guid(),
        last_upload_time: Some(time::format_rfc3339(last_upload)),
    };
    set_meta(conn, "connector_facts", &serde_json::to_string(&facts).expect("facts serialize"))?;
    let insert = |time: &str, kind: &str, name: &str, level: i64, message: &str| {
        let event = TelemetryEvent {
            time: time.into(),
            kind: kind.into(),
            name: name.into(),
            severity_level: TelemetrySeverity::from_code(level),
            message: message.into(),
        };
        write::insert_telemetry(conn, &event)
    };
    // 7 days of uploads every 15 minutes, oldest first.
    let cycles = 7 * 24 * 4;
    for i in (0..cycles).rev() {
        let at = last_upload - i * 900;
        let ts = time::format_rfc3339(at);
        if rng.chance(0.012) {
            let (name, msg) = *rng.pick(&[
                ("DeviceSyncUploadFailed", "System.Net.WebException: The remote server returned an error: (503) Server Unavailable."),
                ("DeviceSyncUploadFailed", "System.Net.Http.HttpRequestException: A connection attempt failed because the connected party did not properly respond after a period of time."),
                ("TokenAcquisitionFailed", "AADSTS700027: Client assertion contains an invalid signature."),
            ]);
            insert(&ts, "TrackException", name, 3, msg)?;
            insert(&ts, "TrackTrace", "UploadRetryScheduled", 2, "Upload will be retried in 15 minutes.")?;
            continue;
        }
        let changes = 20 + rng.below(400);
        insert(&ts, "TrackRequest", "POST DeviceSync", 1, &format!("200 OK in {} ms", 180 + rng.below(900)))?;
        insert(&ts, "TrackEvent", "DeviceSyncUploadCompleted", 1, &format!("Uploaded {changes} device changes."))?;
        if i % 96 == 0 {
            insert(&ts, "TrackEvent", "DefenderReportUploadCompleted", 1, "Uploaded Defender health and threat reports.")?;
        }
        if rng.chance(0.02) {
            insert(&ts, "TrackTrace", "ThrottlingDetected", 2, "Service asked the connector to slow down (HTTP 429); batch size reduced.")?;
        }
    }
    Ok(())
}

/// Seeds the demo tenant if the store has no devices; returns whether it did.
pub fn seed_if_empty(store: &Store, opts: &DemoOptions, report: &dyn Fn(f64)) -> Result<bool> {
    if store.with(|c| store::device_count(c))? > 0 {
        return Ok(false);
    }
    seed_locked(store, opts, report, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_uniform_enough() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = Rng::new(1);
        let mut hist = [0u32; 10];
        for _ in 0..10_000 {
            hist[r.below(10) as usize] += 1;
        }
        assert!(hist.iter().all(|h| (800..1200).contains(h)), "{hist:?}");
        let g = r.guid();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
    }
}
