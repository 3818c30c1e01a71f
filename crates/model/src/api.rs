//! The `/api/v1` contract: response shapes, the list-query convention and which fields each list
//! route sorts, filters and searches on. The server validates with it; the console builds URLs with it.

use crate::agent::AgentState;
use crate::codes::{Category, Severity};
use crate::entities::{
    Application, ConnectorFacts, DefenderCollection, DefenderHealth, Device, Entity, FieldInfo, TelemetryEvent,
    ThreatDetection,
};
use crate::verdict::HealthVerdict;
use crate::json::{field, FromJson, JsonError};
use crate::wire;
use serde::{Deserialize, Serialize};

/// Largest `page_size` a list route accepts.
pub const MAX_PAGE_SIZE: u32 = 500;
/// `page_size` when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// One page of a list route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

impl<T: FromJson> FromJson for Page<T> {
    fn from_json(v: &crate::json::Value) -> Result<Self, JsonError> {
        Ok(Page { items: field(v, "items")?, total: field(v, "total")?, page: field(v, "page")?, page_size: field(v, "page_size")? })
    }
}

impl<T> Page<T> {
    /// Number of pages (at least 1, so that an empty list still has page 1).
    pub fn page_count(&self) -> u64 {
        page_count(self.total, self.page_size)
    }
}

pub fn page_count(total: u64, page_size: u32) -> u64 {
    total.div_ceil(page_size.max(1) as u64).max(1)
}

/// Deserialises a list row from its flat wire form: serde's `flatten` would buffer every field and
/// instantiate a second deserializer per row type (a large share of the console's wasm), so each
/// row reads a plain struct of all its fields and moves them into place.
macro_rules! flat_row {
    ($row:ident => $inner:ident: $ty:ident { $($f:ident: $fty:ty = $json:literal,)* } + { $($x:ident: $xty:ty = $xjson:literal,)* }) => {
        impl<'de> Deserialize<'de> for $row {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                struct Wire {
                    $(#[serde(rename = $json)] $f: $fty,)*
                    $(#[serde(rename = $xjson)] $x: $xty,)*
                }
                let w = Wire::deserialize(d)?;
                Ok($row { $inner: $ty { $($f: w.$f,)* }, $($x: w.$x,)* })
            }
        }

        impl FromJson for $row {
            fn from_json(v: &crate::json::Value) -> Result<Self, JsonError> {
                Ok($row { $inner: $ty::from_json(v)?, $($x: field(v, $xjson)?,)* })
            }
        }
    };
}

flat_row!(DeviceRow => device: Device {
    smsid: String = "SMSID",
    aad_tenant_id: String = "AADTenantID",
    aad_device_id: String = "AADDeviceID",
    name: String = "Name",
    device_os: String = "DeviceOS",
    device_os_build: String = "DeviceOSBuild",
    aad_primary_user_id: Option<String> = "AADPrimaryUserID",
    model: String = "Model",
    manufacturer: String = "Manufacturer",
    serial_number: String = "SerialNumber",
    domain_names: String = "DomainNames",
    sku: String = "SKU",
} + {
    defender_health: HealthVerdict = "DefenderHealth",
    agent_state: AgentState = "AgentState",
    active_threats: u32 = "ActiveThreats",
});

flat_row!(ApplicationRow => application: Application {
    product_name: String = "ProductName",
    publisher: String = "Publisher",
    version: String = "Version",
    product_language: u32 = "ProductLanguage",
    program_id: String = "ProgramID",
} + {
    device_count: u64 = "DeviceCount",
    product_device_count: u64 = "ProductDeviceCount",
});

flat_row!(DetectionRow => detection: ThreatDetection {
    threat_id: i64 = "ThreatID",
    threat_name: String = "ThreatName",
    category: Category = "Category",
    severity: Severity = "Severity",
    url: Option<String> = "URL",
    current_status: crate::codes::ThreatState = "CurrentStatus",
    current_status_id: crate::codes::DetectionStatus = "CurrentStatusID",
    execution_status: crate::codes::ExecutionStatus = "ExecutionStatus",
    last_threat_status_change_time: String = "LastThreatStatusChangeTime",
    initial_detection_time: String = "InitialDetectionTime",
    number_of_detections: u32 = "NumberOfDetections",
    device_id: String = "DeviceId",
} + {
    device_name: Option<String> = "DeviceName",
});

flat_row!(CollectionRow => collection: DefenderCollection {
    collection_id: String = "CollectionId",
    collection_name: String = "CollectionName",
    collection_type: crate::codes::CollectionType = "CollectionType",
    count_targeted: u64 = "CountTargeted",
    count_compliant: u64 = "CountCompliant",
    count_non_compliant: u64 = "CountNonCompliant",
    count_failed: u64 = "CountFailed",
    count_activated: u64 = "CountActivated",
    count_enforced: u64 = "CountEnforced",
    tenant_id: String = "TenantId",
    hierarchy_id: String = "HierarchyId",
} + {
    compliance_percent: Option<f64> = "CompliancePercent",
});

wire! {
    /// A product in the products list: its whole-product totals and every deployment type of it.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct ProductRow {
        pub product_name: String = "ProductName",
        /// The uploaded publisher (the first, if the product's deployment types differ).
        pub publisher: String = "Publisher",
        /// The publisher without its legal form, for filtering (`entities::publisher_group`).
        pub publisher_group: String = "PublisherGroup",
        pub versions: u64 = "Versions",
        pub languages: u64 = "Languages",
        pub deployment_types: u64 = "DeploymentTypes",
        /// Distinct devices in any collection a deployment type of the product is deployed to.
        pub product_device_count: u64 = "ProductDeviceCount",
        /// Every deployment type, by version (oldest first), language and ProgramID.
        pub types: Vec<DeploymentTypeRow> = "DeploymentTypeList",
    }
}

wire! {
    /// One deployment type of a product.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct DeploymentTypeRow {
        pub version: String = "Version",
        pub product_language: u32 = "ProductLanguage",
        pub program_id: String = "ProgramID",
        /// Devices in the collection it is deployed to.
        pub device_count: u64 = "DeviceCount",
        /// The collection it is deployed to (None: not deployed).
        pub collection_id: Option<String> = "CollectionId",
    }
}

wire! {
    /// Error body of every failed API call.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct ErrorBody {
        pub error: String,
        pub detail: String,
    }
}

/// A device in lists: the device-sync fields plus what the console derives.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceRow {
    #[serde(flatten)]
    pub device: Device,
    /// The derived Defender health verdict.
    #[serde(rename = "DefenderHealth")]
    pub defender_health: HealthVerdict,
    /// The antivirus agent state (one per device).
    #[serde(rename = "AgentState")]
    pub agent_state: AgentState,
    /// Number of threats on the device that are still active.
    #[serde(rename = "ActiveThreats")]
    pub active_threats: u32,
}

/// An MSI deployment type in lists, with how many devices it reaches.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApplicationRow {
    #[serde(flatten)]
    pub application: Application,
    /// Devices in the collection this deployment type is deployed to.
    #[serde(rename = "DeviceCount")]
    pub device_count: u64,
    /// Distinct devices reached by any deployment type of the same product.
    #[serde(rename = "ProductDeviceCount")]
    pub product_device_count: u64,
}

wire! {
    /// `GET /api/v1/devices/{id}`: one device with everything known about it.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct DeviceDetail {
        pub device: DeviceRow,
        /// None: the device has not reported Defender health.
        pub health: Option<DefenderHealth>,
        /// Newest first.
        pub threats: Vec<ThreatDetection>,
        pub collections: Vec<CollectionRef>,
        pub applications: Vec<Application>,
    }
}

impl DeviceDetail {
    /// The threats still active on the device, as the verdict rule takes them.
    pub fn active_threats(&self) -> Vec<crate::verdict::ActiveThreat<'_>> {
        self.threats
            .iter()
            .filter(|t| t.current_status.is_active())
            .map(|t| crate::verdict::ActiveThreat { name: &t.threat_name, severity: t.severity })
            .collect()
    }
}

wire! {
    /// A collection a device belongs to.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct CollectionRef {
        pub collection_id: String = "CollectionId",
        pub collection_name: String = "CollectionName",
    }
}

wire! {
    /// `GET /api/v1/{list}/facets`: the values each filter of a list can take, with row counts.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Facets {
        pub fields: Vec<Facet>,
    }
}

wire! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Facet {
        /// The filter's parameter name, e.g. `DeviceOS`.
        pub field: String,
        pub values: Vec<FacetCount>,
    }
}

wire! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct FacetCount {
        pub value: String,
        /// A display name where the value is a code or id (collection name, verdict label).
        pub label: Option<String>,
        pub count: u64,
    }
}

wire! {
    /// Active threats of one severity.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct SeverityCount {
        pub severity: Severity,
        pub count: u64,
    }
}

wire! {
    /// The tenant and hierarchy the console is looking at.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct TenantInfo {
        pub tenant_id: String,
        pub tenant_name: String,
        pub hierarchy_id: String,
        pub site_code: String,
    }
}

wire! {
    /// The Overview's KPIs (`GET /api/v1/summary`).
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Summary {
        pub tenant: TenantInfo,
        pub total_devices: u64,
        pub healthy: u64,
        pub at_risk: u64,
        pub unhealthy: u64,
        pub not_reporting: u64,
        /// Active threats (detections still needing action), one entry per documented severity.
        pub active_threats_by_severity: Vec<SeverityCount>,
        pub active_threats: u64,
        pub devices_with_active_threats: u64,
        pub signatures_out_of_date: u64,
        /// Devices with a quick or a full scan overdue.
        pub scans_overdue: u64,
        pub reboot_required: u64,
        /// When the site last uploaded (RFC 3339 UTC).
        pub last_upload: Option<String>,
    }
}

impl Summary {
    /// Share of all devices whose verdict is healthy, in percent (0 when there are no devices).
    pub fn healthy_percent(&self) -> f64 {
        if self.total_devices == 0 {
            0.0
        } else {
            self.healthy as f64 * 100.0 / self.total_devices as f64
        }
    }

    pub fn count_of(&self, verdict: HealthVerdict) -> u64 {
        match verdict {
            HealthVerdict::Healthy => self.healthy,
            HealthVerdict::AtRisk => self.at_risk,
            HealthVerdict::Unhealthy => self.unhealthy,
            HealthVerdict::NotReporting => self.not_reporting,
        }
    }
}

wire! {
    /// A series of a timeline: the code it counts (severity, severity level) and its label.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct TimelineSeries {
        pub code: i64,
        pub label: String,
    }
}

wire! {
    /// Bucket of a timeline: items that started in [start, start + bucket), one count per series.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct TimelineBucket {
        pub start: String,
        pub counts: Vec<u64>,
    }
}

impl TimelineBucket {
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

wire! {
    /// `threats/timeline` and `connector/timeline`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Timeline {
        /// `day` or `hour`.
        pub bucket: String,
        pub from: String,
        pub to: String,
        pub series: Vec<TimelineSeries>,
        pub buckets: Vec<TimelineBucket>,
    }
}

/// The time ranges the console offers (`range=`), each with the bucket size that reads well.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeRange {
    Day,
    Week,
    Month,
    Quarter,
}

impl TimeRange {
    pub const ALL: [TimeRange; 4] = [TimeRange::Day, TimeRange::Week, TimeRange::Month, TimeRange::Quarter];

    pub fn key(self) -> &'static str {
        match self {
            TimeRange::Day => "24h",
            TimeRange::Week => "7d",
            TimeRange::Month => "30d",
            TimeRange::Quarter => "90d",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            TimeRange::Day => "24 hours",
            TimeRange::Week => "7 days",
            TimeRange::Month => "30 days",
            TimeRange::Quarter => "90 days",
        }
    }

    pub fn seconds(self) -> i64 {
        86_400
            * match self {
                TimeRange::Day => 1,
                TimeRange::Week => 7,
                TimeRange::Month => 30,
                TimeRange::Quarter => 90,
            }
    }

    /// The range's window ending with the bucket that holds `now`: (from, to).
    pub fn window(self, now: i64) -> (i64, i64) {
        let width = self.bucket_seconds();
        let to = (now + width - 1).div_euclid(width) * width;
        (to - self.seconds(), to)
    }

    /// Bucket width in seconds: hours up to a week, days beyond.
    pub fn bucket_seconds(self) -> i64 {
        match self {
            TimeRange::Day | TimeRange::Week => 3_600,
            TimeRange::Month | TimeRange::Quarter => 86_400,
        }
    }
}

wire! {
    /// A threat in the per-threat list: its detections (the selected ones) summed up.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct ThreatRow {
        pub threat_id: i64 = "ThreatID",
        pub threat_name: String = "ThreatName",
        pub category: Category = "Category",
        pub severity: Severity = "Severity",
        /// Untrusted text; a link only when it is http(s).
        pub url: Option<String> = "URL",
        /// Distinct devices with a detection of this threat.
        pub devices_affected: u64 = "DevicesAffected",
        /// Devices where it is still active.
        pub devices_active: u64 = "DevicesActive",
        /// NumberOfDetections summed over the devices.
        pub number_of_detections: u64 = "NumberOfDetections",
        /// The first InitialDetectionTime.
        pub initial_detection_time: String = "InitialDetectionTime",
        /// The last LastThreatStatusChangeTime.
        pub last_threat_status_change_time: String = "LastThreatStatusChangeTime",
    }
}

/// A detection (one threat on one device) with the device's name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DetectionRow {
    #[serde(flatten)]
    pub detection: ThreatDetection,
    /// None when the device is not (or no longer) in the inventory.
    #[serde(rename = "DeviceName")]
    pub device_name: Option<String>,
}

/// A collection with its policy compliance share.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CollectionRow {
    #[serde(flatten)]
    pub collection: DefenderCollection,
    /// CountCompliant ÷ CountTargeted in percent; None when nothing is targeted.
    #[serde(rename = "CompliancePercent")]
    pub compliance_percent: Option<f64>,
}

impl CollectionRow {
    /// Targeted devices that have not reported compliant, non-compliant or failed yet.
    pub fn not_yet_reported(&self) -> u64 {
        let c = &self.collection;
        c.count_targeted.saturating_sub(c.count_compliant + c.count_non_compliant + c.count_failed)
    }
}

wire! {
    /// Devices in one antivirus agent state.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct StateCount {
        pub state: AgentState,
        pub count: u64,
    }
}

wire! {
    /// Devices on one version.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct VersionCount {
        pub version: String,
        pub count: u64,
    }
}

wire! {
    /// `GET /api/v1/antivirus`: devices by agent state (every state, in rule order) and the spread of
    /// engine, signature and platform versions (oldest first).
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Antivirus {
        pub total_devices: u64,
        pub states: Vec<StateCount>,
        pub engine_versions: Vec<VersionCount>,
        pub signature_versions: Vec<VersionCount>,
        pub platform_versions: Vec<VersionCount>,
    }
}

/// Compares dotted version strings by their numbers ("1.10.0" after "1.9.3"); text parts compare as text.
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let mut x = a.split('.');
    let mut y = b.split('.');
    loop {
        match (x.next(), y.next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(p), Some(q)) => {
                let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    _ => p.cmp(q),
                };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

wire! {
    /// `GET /api/v1/connector`: the service connection point's health.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Connector {
        pub facts: ConnectorFacts,
        /// Newest first.
        pub events: Vec<TelemetryEvent>,
        pub exceptions_last_24h: u64,
        pub errors_last_24h: u64,
    }
}

// ---------------------------------------------------------------------------------------------
// List queries

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }
}

/// How a filter's value is read and matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    /// Exact text match.
    Text,
    /// An integer code.
    Int,
    /// `true` or `false`; the filter's `sql` is a condition.
    Bool,
    /// A health verdict key (`healthy`, `at_risk`, ...), stored as its code.
    Verdict,
    /// An antivirus agent state key (`rtp_off`, ...), stored as its code.
    Agent,
    /// A CollectionId the device is a member of.
    Member,
    /// An RFC 3339 time: rows at or after it.
    From,
    /// An RFC 3339 time: rows before it.
    To,
    /// A `TimeRange` key (`7d`): rows in that range up to the tenant's last upload. The server turns
    /// it into a `From` bound (aligned to the range's buckets, as the timeline is).
    Range,
}

/// A filter of a list, declared once: its parameter name, how its values are read, and the SQL
/// expression (over the list's table) it compares. The server's SQL path, the devices index and
/// the facets are all derived from this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterSpec {
    pub name: &'static str,
    pub kind: FilterKind,
    /// SQL expression over the list's row (a column name unless stated); unused for `Member`.
    pub sql: &'static str,
}

const fn text(name: &'static str) -> FilterSpec {
    FilterSpec { name, kind: FilterKind::Text, sql: name }
}
const fn int(name: &'static str) -> FilterSpec {
    FilterSpec { name, kind: FilterKind::Int, sql: name }
}
const fn filter(name: &'static str, kind: FilterKind, sql: &'static str) -> FilterSpec {
    FilterSpec { name, kind, sql }
}

/// The threat states that still need action, as SQL: every state but the documented finished ones,
/// so an undocumented code counts as active as `ThreatState::is_active` says (tested).
pub const ACTIVE_THREAT_SQL: &str = "CurrentStatus NOT IN (5, 6, 7, 8, 9, 10)";

/// What one list route accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListSpec {
    /// Route name under `/api/v1`, also the page and store query name.
    pub name: &'static str,
    /// The entity whose fields (and the derived fields) name this list's columns.
    pub entity: Entity,
    pub sortable: &'static [&'static str],
    pub default_sort: (&'static str, SortOrder),
    pub filters: &'static [FilterSpec],
    /// Fields `q` searches in.
    pub searchable: &'static [&'static str],
    /// Filters offered as choices with counts (`/{list}/facets`), in display order; the others
    /// (ids, times) are set by links and shown as chips.
    pub facets: &'static [&'static str],
    /// Every column of the list's rows, in display and CSV order; `columns` picks from these.
    pub columns: &'static [&'static str],
}

impl ListSpec {
    pub fn filter(&self, name: &str) -> Option<FilterSpec> {
        self.filters.iter().copied().find(|f| f.name == name)
    }

    /// Metadata of a column or filter of this list (entity fields first, then derived ones;
    /// device lists also know the Defender health fields).
    pub fn field(&self, name: &str) -> Option<&'static FieldInfo> {
        self.entity.field(name).or_else(|| match self.entity {
            Entity::Device => Entity::DefenderHealth.field(name),
            _ => None,
        })
    }

    /// The label people read for a column or filter (empty if it has none; a test checks every
    /// name of every list has one).
    pub fn label(&self, name: &str) -> &'static str {
        self.field(name).map(|f| f.label).unwrap_or("")
    }
}

const HEALTH_ENGINE: &str = "(SELECT h.EngineVersion FROM defender_health h WHERE h.id = devices.id)";
const HEALTH_SIGNATURE: &str = "(SELECT h.SignatureVersion FROM defender_health h WHERE h.id = devices.id)";
const HEALTH_PLATFORM: &str = "(SELECT h.DefenderVersion FROM defender_health h WHERE h.id = devices.id)";

pub const DEVICES: ListSpec = ListSpec {
    name: "devices",
    entity: Entity::Device,
    sortable: &[
        "Name", "DeviceOS", "DeviceOSBuild", "Model", "Manufacturer", "SerialNumber", "DomainNames", "SKU",
        "AADDeviceID", "AADPrimaryUserID", "SMSID", "AADTenantID", "DefenderHealth", "AgentState", "ActiveThreats",
    ],
    default_sort: ("Name", SortOrder::Asc),
    filters: &[
        text("DeviceOS"),
        text("DeviceOSBuild"),
        text("Manufacturer"),
        text("Model"),
        text("SKU"),
        text("DomainNames"),
        filter("DefenderHealth", FilterKind::Verdict, "DefenderHealth"),
        filter("AgentState", FilterKind::Agent, "AgentState"),
        filter("HasActiveThreats", FilterKind::Bool, "ActiveThreats > 0"),
        filter("CollectionId", FilterKind::Member, ""),
        filter("EngineVersion", FilterKind::Text, HEALTH_ENGINE),
        filter("SignatureVersion", FilterKind::Text, HEALTH_SIGNATURE),
        filter("DefenderVersion", FilterKind::Text, HEALTH_PLATFORM),
        // The Overview's "Needs attention" numbers, each a list of its own.
        filter("SignatureOutOfDate", FilterKind::Bool, "(SELECT h.SignatureOutOfDate FROM defender_health h WHERE h.id = devices.id) = 1"),
        filter("ScanOverdue", FilterKind::Bool, "(SELECT h.QuickScanOverdue + h.FullScanOverdue FROM defender_health h WHERE h.id = devices.id) > 0"),
        filter("RebootRequired", FilterKind::Bool, "(SELECT h.RebootRequired FROM defender_health h WHERE h.id = devices.id) = 1"),
    ],
    searchable: &["Name", "SerialNumber", "AADDeviceID", "Model"],
    facets: &[
        "DeviceOS", "DeviceOSBuild", "Manufacturer", "Model", "SKU", "DomainNames", "DefenderHealth", "AgentState",
        "HasActiveThreats", "CollectionId", "EngineVersion", "SignatureVersion", "DefenderVersion", "SignatureOutOfDate",
        "ScanOverdue", "RebootRequired",
    ],
    columns: &[
        "Name", "DefenderHealth", "AgentState", "ActiveThreats", "DeviceOS", "DeviceOSBuild", "Model", "Manufacturer",
        "SerialNumber", "DomainNames", "SKU", "AADDeviceID", "AADPrimaryUserID", "SMSID", "AADTenantID",
    ],
};

pub const APPLICATIONS: ListSpec = ListSpec {
    name: "applications",
    entity: Entity::Application,
    sortable: &["ProductName", "Publisher", "Version", "ProductLanguage", "ProgramID", "DeviceCount", "ProductDeviceCount"],
    default_sort: ("ProductName", SortOrder::Asc),
    filters: &[text("Publisher"), int("ProductLanguage"), text("ProductName")],
    searchable: &["ProductName", "Publisher", "ProgramID"],
    facets: &["Publisher", "ProductLanguage", "ProductName"],
    columns: &["ProductName", "Publisher", "Version", "ProductLanguage", "ProgramID", "DeviceCount", "ProductDeviceCount"],
};

/// Products (MSI deployment types grouped by ProductName): paged and sorted by product, each with
/// whole-product totals and its deployment types.
pub const PRODUCTS: ListSpec = ListSpec {
    name: "products",
    entity: Entity::Application,
    sortable: &["ProductName", "Publisher", "PublisherGroup", "Versions", "Languages", "DeploymentTypes", "ProductDeviceCount"],
    default_sort: ("ProductName", SortOrder::Asc),
    filters: &[text("PublisherGroup"), text("Publisher")],
    searchable: &["ProductName", "Publisher", "ProgramIDs"],
    facets: &["PublisherGroup", "Publisher"],
    columns: &["ProductName", "Publisher", "PublisherGroup", "Versions", "Languages", "DeploymentTypes", "ProductDeviceCount"],
};

pub const COLLECTIONS: ListSpec = ListSpec {
    name: "collections",
    entity: Entity::DefenderCollection,
    sortable: &[
        "CollectionId", "CollectionName", "CollectionType", "CountTargeted", "CountCompliant", "CountNonCompliant",
        "CountFailed", "CountActivated", "CountEnforced", "CompliancePercent",
    ],
    default_sort: ("CollectionId", SortOrder::Asc),
    filters: &[int("CollectionType")],
    searchable: &["CollectionId", "CollectionName"],
    facets: &["CollectionType"],
    columns: &[
        "CollectionName", "CollectionId", "CollectionType", "CountTargeted", "CountCompliant", "CountNonCompliant",
        "CountFailed", "CountActivated", "CountEnforced", "CompliancePercent", "TenantId", "HierarchyId",
    ],
};

/// Filters over detections, shared by the per-threat list (which groups the selected detections)
/// and the per-device detections list.
const DETECTION_FILTERS: &[FilterSpec] = &[
    int("Severity"),
    int("Category"),
    int("CurrentStatus"),
    int("CurrentStatusID"),
    int("ExecutionStatus"),
    int("ThreatID"),
    text("DeviceId"),
    filter("Active", FilterKind::Bool, ACTIVE_THREAT_SQL),
    filter("from", FilterKind::From, "InitialDetectionTime"),
    filter("to", FilterKind::To, "InitialDetectionTime"),
    filter("range", FilterKind::Range, "InitialDetectionTime"),
];

/// One row per threat: the selected detections grouped by ThreatID.
pub const THREATS: ListSpec = ListSpec {
    name: "threats",
    entity: Entity::ThreatDetection,
    sortable: &[
        "DevicesAffected", "DevicesActive", "NumberOfDetections", "ThreatName", "ThreatID", "Severity", "Category",
        "InitialDetectionTime", "LastThreatStatusChangeTime",
    ],
    default_sort: ("DevicesAffected", SortOrder::Desc),
    filters: DETECTION_FILTERS,
    searchable: &["ThreatName"],
    facets: &["Severity", "Category", "CurrentStatus"],
    columns: &[
        "ThreatName", "Severity", "Category", "DevicesAffected", "DevicesActive", "NumberOfDetections",
        "InitialDetectionTime", "LastThreatStatusChangeTime", "ThreatID", "URL",
    ],
};

/// One row per threat per device.
pub const DETECTIONS: ListSpec = ListSpec {
    name: "detections",
    entity: Entity::ThreatDetection,
    sortable: &[
        "InitialDetectionTime", "LastThreatStatusChangeTime", "ThreatName", "ThreatID", "Severity", "Category",
        "CurrentStatus", "ExecutionStatus", "NumberOfDetections", "DeviceName", "DeviceId",
    ],
    default_sort: ("InitialDetectionTime", SortOrder::Desc),
    filters: DETECTION_FILTERS,
    searchable: &["ThreatName", "DeviceName"],
    facets: &["Severity", "Category", "CurrentStatus", "ExecutionStatus"],
    columns: &[
        "ThreatName", "DeviceName", "Severity", "Category", "CurrentStatus", "CurrentStatusID", "ExecutionStatus",
        "InitialDetectionTime", "LastThreatStatusChangeTime", "NumberOfDetections", "ThreatID", "DeviceId", "URL",
    ],
};

pub const LISTS: [ListSpec; 6] = [DEVICES, APPLICATIONS, PRODUCTS, COLLECTIONS, THREATS, DETECTIONS];

/// A list query in the API's convention, validated against a `ListSpec`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    pub page: u32,
    pub page_size: u32,
    pub sort: String,
    pub order: SortOrder,
    pub q: Option<String>,
    /// (field, value) pairs; the same field more than once means any of the values.
    pub filters: Vec<(String, String)>,
    pub csv: bool,
    /// Columns of a CSV export, in order (empty: all of the spec's columns).
    pub columns: Vec<String>,
    /// A CSV export as people read it: column labels and value labels (`labels=true`) instead of
    /// wire names and codes.
    pub labels: bool,
}

/// A rejected query parameter: which one and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    pub param: String,
    pub message: String,
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "query parameter `{}`: {}", self.param, self.message)
    }
}

fn bad(param: &str, message: impl Into<String>) -> ParamError {
    ParamError { param: param.to_string(), message: message.into() }
}

/// Most values of one filter in one request (a value given twice counts twice; it is one condition).
pub const MAX_FILTER_VALUES: usize = 100;

/// The parameters of a list request besides its filters (page, page_size, sort, order, q, format,
/// columns, labels).
pub const LIST_PARAMS: usize = 8;

impl ListSpec {
    /// Most parameters one request of this list takes: each of its own once and each filter's
    /// values, as the API documents them. Beyond it, the request is refused before any work.
    pub fn max_params(&self) -> usize {
        LIST_PARAMS + self.filters.len() * MAX_FILTER_VALUES
    }
}

/// Longest text filter value accepted, in characters.
pub const MAX_TEXT_VALUE: usize = 256;

/// Longest free-text search accepted.
pub const MAX_Q_LEN: usize = 200;

impl ListQuery {
    /// The first page in the spec's default order.
    pub fn new(spec: &ListSpec) -> Self {
        ListQuery {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            sort: spec.default_sort.0.to_string(),
            order: spec.default_sort.1,
            q: None,
            filters: Vec::new(),
            csv: false,
            columns: Vec::new(),
            labels: false,
        }
    }

    /// Reads a view from a URL the way a console should: every parameter the API would refuse is
    /// left out, and each one left out is said in words with what is shown instead ("Sort by
    /// “Bogus” isn't available — showing Name").
    pub fn parse_lenient(spec: &ListSpec, pairs: &[(String, String)]) -> (Self, Vec<String>) {
        // Each parameter on its own first, so that a bad value of a repeated filter drops only
        // itself (`DefenderHealth=at_risk&DefenderHealth=sick` keeps at_risk).
        let mut kept: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        let mut notes = Vec::new();
        for pair in pairs {
            // The console's own settings in an address (a shared privacy-mode or kiosk link).
            if CONSOLE_PARAMS.contains(&pair.0.as_str()) {
                continue;
            }
            if ListQuery::parse(spec, std::slice::from_ref(pair)).is_ok() {
                kept.push(pair.clone());
            } else {
                notes.push(dropped_param_words(spec, &pair.0, &pair.1));
            }
        }
        loop {
            match ListQuery::parse(spec, &kept) {
                Ok(q) => return (q, notes),
                Err(e) => {
                    let value = kept.iter().find(|(k, _)| *k == e.param).map(|(_, v)| v.clone());
                    kept.retain(|(k, _)| *k != e.param);
                    let Some(value) = value else { return (ListQuery::new(spec), notes) };
                    notes.push(dropped_param_words(spec, &e.param, &value));
                }
            }
        }
    }

    /// Reads decoded query pairs; any parameter the route does not know is an error naming it.
    pub fn parse(spec: &ListSpec, pairs: &[(String, String)]) -> Result<Self, ParamError> {
        if let Some((key, _)) = pairs.get(spec.max_params()) {
            return Err(bad(key, format!("a request takes at most {} parameters", spec.max_params())));
        }
        // Many values of one filter would only multiply the server's work.
        for f in spec.filters {
            if pairs.iter().filter(|(k, _)| k == f.name).count() > MAX_FILTER_VALUES {
                return Err(bad(f.name, format!("at most {MAX_FILTER_VALUES} values")));
            }
        }
        let mut query = ListQuery::new(spec);
        let mut order = None;
        for (key, value) in pairs {
            match key.as_str() {
                "page" => {
                    query.page = value
                        .parse::<u32>()
                        .ok()
                        .filter(|p| *p >= 1)
                        .ok_or_else(|| bad("page", format!("must be a whole number from 1, got \"{value}\"")))?
                }
                "page_size" => {
                    query.page_size = value
                        .parse::<u32>()
                        .ok()
                        .filter(|s| (1..=MAX_PAGE_SIZE).contains(s))
                        .ok_or_else(|| {
                            bad("page_size", format!("must be a whole number from 1 to {MAX_PAGE_SIZE}, got \"{value}\""))
                        })?
                }
                "sort" => {
                    if !spec.sortable.contains(&value.as_str()) {
                        return Err(bad(
                            "sort",
                            format!("cannot sort {} by \"{value}\"; sortable: {}", spec.name, spec.sortable.join(", ")),
                        ));
                    }
                    query.sort = value.clone();
                }
                "order" => {
                    order = Some(match value.as_str() {
                        "asc" => SortOrder::Asc,
                        "desc" => SortOrder::Desc,
                        _ => return Err(bad("order", format!("must be asc or desc, got \"{value}\""))),
                    })
                }
                "q" => {
                    let trimmed = value.trim();
                    if trimmed.chars().count() > MAX_Q_LEN {
                        return Err(bad("q", format!("at most {MAX_Q_LEN} characters")));
                    }
                    query.q = (!trimmed.is_empty()).then(|| trimmed.to_string());
                }
                "columns" => {
                    let mut columns = Vec::new();
                    for c in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                        if !spec.columns.contains(&c) {
                            return Err(bad(
                                "columns",
                                format!("{} has no column \"{c}\"; columns: {}", spec.name, spec.columns.join(", ")),
                            ));
                        }
                        if !columns.iter().any(|x: &String| x == c) {
                            columns.push(c.to_string());
                        }
                    }
                    if columns.is_empty() {
                        return Err(bad("columns", "name at least one column"));
                    }
                    query.columns = columns;
                }
                "labels" => match value.as_str() {
                    "true" => query.labels = true,
                    "false" => query.labels = false,
                    _ => return Err(bad("labels", format!("must be true or false, got \"{value}\""))),
                },
                "format" => match value.as_str() {
                    "json" => query.csv = false,
                    "csv" => query.csv = true,
                    _ => return Err(bad("format", format!("must be json or csv, got \"{value}\""))),
                },
                field => {
                    let Some(filter) = spec.filter(field) else {
                        let names: Vec<_> = spec.filters.iter().map(|f| f.name).collect();
                        return Err(bad(
                            field,
                            format!("unknown parameter for {}; filters: {}", spec.name, names.join(", ")),
                        ));
                    };
                    check_filter_value(filter, value)?;
                    // The same value twice is the same condition, kept once.
                    if !query.filters.iter().any(|(f, v)| f == field && v == value) {
                        query.filters.push((field.to_string(), value.clone()));
                    }
                }
            }
        }
        if let Some(order) = order {
            query.order = order;
        } else if query.sort != spec.default_sort.0 {
            query.order = SortOrder::Asc;
        }
        Ok(query)
    }

    /// The query as URL pairs, leaving out defaults, in a stable order.
    pub fn to_pairs(&self, spec: &ListSpec) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.page != 1 {
            out.push(("page".into(), self.page.to_string()));
        }
        if self.page_size != DEFAULT_PAGE_SIZE {
            out.push(("page_size".into(), self.page_size.to_string()));
        }
        if self.sort != spec.default_sort.0 || self.order != spec.default_sort.1 {
            out.push(("sort".into(), self.sort.clone()));
            out.push(("order".into(), self.order.as_str().into()));
        }
        if let Some(q) = &self.q {
            out.push(("q".into(), q.clone()));
        }
        out.extend(self.filters.iter().cloned());
        if !self.columns.is_empty() {
            out.push(("columns".into(), self.columns.join(",")));
        }
        if self.csv {
            out.push(("format".into(), "csv".into()));
        }
        if self.labels {
            out.push(("labels".into(), "true".into()));
        }
        out
    }

    /// `a=1&b=2`, percent-encoded (empty for the default query).
    pub fn to_query_string(&self, spec: &ListSpec) -> String {
        encode_pairs(&self.to_pairs(spec))
    }
}

fn check_filter_value(filter: FilterSpec, value: &str) -> Result<(), ParamError> {
    let ok = match filter.kind {
        FilterKind::Text | FilterKind::Member => !value.is_empty() && value.chars().count() <= MAX_TEXT_VALUE,
        FilterKind::Int => value.parse::<i64>().is_ok(),
        FilterKind::Bool => value == "true" || value == "false",
        FilterKind::Verdict => HealthVerdict::from_key(value).is_some(),
        FilterKind::Agent => AgentState::from_key(value).is_some(),
        FilterKind::From | FilterKind::To => crate::time::parse_rfc3339(value).is_some(),
        FilterKind::Range => TimeRange::from_key(value).is_some(),
    };
    if ok {
        return Ok(());
    }
    let expected = match filter.kind {
        FilterKind::Text | FilterKind::Member => format!("a non-empty value of at most {MAX_TEXT_VALUE} characters"),
        FilterKind::Int => "an integer code".to_string(),
        FilterKind::Bool => "true or false".to_string(),
        FilterKind::Verdict => {
            let keys: Vec<_> = HealthVerdict::ALL.iter().map(|v| v.key()).collect();
            format!("one of {}", keys.join(", "))
        }
        FilterKind::Agent => {
            let keys: Vec<_> = AgentState::ALL.iter().map(|v| v.key()).collect();
            format!("one of {}", keys.join(", "))
        }
        FilterKind::From | FilterKind::To => "an RFC 3339 time such as 2026-11-24T00:00:00Z".to_string(),
        FilterKind::Range => {
            let keys: Vec<_> = TimeRange::ALL.iter().map(|r| r.key()).collect();
            format!("one of {}", keys.join(", "))
        }
    };
    Err(bad(filter.name, format!("must be {expected}, got \"{value}\"")))
}

/// Percent-encodes a query component (everything but RFC 3986 unreserved characters).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes a query string (`?a=1&b=x%20y`, leading `?` optional; `+` is a space) into pairs.
/// Invalid percent escapes are kept as they are; invalid UTF-8 is replaced.
pub fn decode_query(query: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit() => {
                    match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_inverts_encoding() {
        let pairs = vec![("q".to_string(), "a b&c=d/é%".to_string()), ("DeviceOS".into(), "x+y".into())];
        assert_eq!(decode_query(&format!("?{}", encode_pairs(&pairs))), pairs);
        assert_eq!(decode_query("a=1+2&b&c=%zz&d=%4"), vec![
            ("a".to_string(), "1 2".to_string()),
            ("b".into(), "".into()),
            ("c".into(), "%zz".into()),
            ("d".into(), "%4".into()),
        ]);
        assert!(decode_query("").is_empty());
        assert_eq!(decode_query("x=%+1"), vec![("x".to_string(), "% 1".to_string())]);
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults() {
        let q = ListQuery::parse(&DEVICES, &[]).unwrap();
        assert_eq!(q, ListQuery::new(&DEVICES));
        assert_eq!((q.page, q.page_size, q.sort.as_str(), q.order), (1, 50, "Name", SortOrder::Asc));
        assert_eq!(q.to_query_string(&DEVICES), "");
        let t = ListQuery::parse(&THREATS, &[]).unwrap();
        assert_eq!(t.order, SortOrder::Desc);
    }

    #[test]
    fn full_query_round_trips() {
        let input = pairs(&[
            ("page", "3"),
            ("page_size", "100"),
            ("sort", "Model"),
            ("order", "desc"),
            ("q", " wks lon "),
            ("DeviceOS", "Microsoft Windows NT Workstation 10.0"),
            ("DefenderHealth", "at_risk"),
            ("DefenderHealth", "unhealthy"),
        ]);
        let q = ListQuery::parse(&DEVICES, &input).unwrap();
        assert_eq!(q.q.as_deref(), Some("wks lon"));
        assert_eq!(q.filters.len(), 3);
        let again = ListQuery::parse(&DEVICES, &q.to_pairs(&DEVICES)).unwrap();
        assert_eq!(again, q);
        assert_eq!(
            q.to_query_string(&DEVICES),
            "page=3&page_size=100&sort=Model&order=desc&q=wks%20lon&DeviceOS=Microsoft%20Windows%20NT%20Workstation%2010.0&DefenderHealth=at_risk&DefenderHealth=unhealthy"
        );
    }

    #[test]
    fn bad_parameters_name_the_parameter() {
        let cases = [
            ("page", "0"),
            ("page", "x"),
            ("page_size", "501"),
            ("page_size", "0"),
            ("sort", "Password"),
            ("order", "up"),
            ("format", "xml"),
            ("DefenderHealth", "sick"),
            ("HasActiveThreats", "yes"),
            ("Colour", "red"),
            ("columns", "Name,Password"),
            ("columns", ","),
        ];
        for (k, v) in cases {
            let err = ListQuery::parse(&DEVICES, &pairs(&[(k, v)])).unwrap_err();
            assert_eq!(err.param, k, "{k}={v}: {err}");
        }
        let err = ListQuery::parse(&THREATS, &pairs(&[("Severity", "high")])).unwrap_err();
        assert_eq!(err.param, "Severity");
        let long = "x".repeat(MAX_Q_LEN + 1);
        assert_eq!(ListQuery::parse(&DEVICES, &pairs(&[("q", &long)])).unwrap_err().param, "q");
    }

    #[test]
    fn sorting_by_another_field_defaults_to_ascending() {
        let q = ListQuery::parse(&THREATS, &pairs(&[("sort", "ThreatName")])).unwrap();
        assert_eq!(q.order, SortOrder::Asc);
    }

    #[test]
    fn every_spec_sorts_by_its_default_and_filters_are_unique() {
        for spec in LISTS {
            for f in spec.facets {
                assert!(spec.filter(f).is_some(), "{}: facet {f} is not a filter", spec.name);
            }
            assert!(spec.sortable.contains(&spec.default_sort.0), "{}", spec.name);
            let mut names: Vec<_> = spec.filters.iter().map(|f| f.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), spec.filters.len(), "{}", spec.name);
            for c in spec.sortable {
                assert!(spec.columns.contains(c), "{} sorts by {c} but has no such column", spec.name);
            }
            for reserved in ["page", "page_size", "sort", "order", "q", "format", "columns"] {
                assert!(spec.filter(reserved).is_none());
            }
        }
    }

    #[test]
    fn every_list_name_resolves_to_a_labelled_field() {
        for spec in LISTS {
            let names = spec
                .columns
                .iter()
                .chain(spec.sortable)
                .chain(spec.searchable)
                .copied()
                .chain(spec.filters.iter().map(|f| f.name));
            for name in names {
                let field = spec.field(name).unwrap_or_else(|| panic!("{}: {name} is no field", spec.name));
                assert!(!field.label.is_empty(), "{}: {name} has no label", spec.name);
            }
        }
        assert_eq!(DEVICES.label("DeviceOS"), "OS");
        assert_eq!(DEVICES.label("EngineVersion"), "Engine version");
        assert_eq!(COLLECTIONS.field("CompliancePercent").unwrap().unit, "%");
    }

    #[test]
    fn active_threat_sql_matches_the_codes() {
        let done: Vec<String> =
            crate::ThreatState::ALL.iter().filter(|s| !s.is_active()).map(|s| s.code().to_string()).collect();
        assert_eq!(ACTIVE_THREAT_SQL, format!("CurrentStatus NOT IN ({})", done.join(", ")));
        assert!(crate::ThreatState::from_code(77).is_active(), "an undocumented state needs a look");
    }

    #[test]
    fn new_filter_kinds_validate() {
        assert!(ListQuery::parse(&DEVICES, &pairs(&[("AgentState", "rtp_off")])).is_ok());
        assert_eq!(ListQuery::parse(&DEVICES, &pairs(&[("AgentState", "off")])).unwrap_err().param, "AgentState");
        assert!(ListQuery::parse(&THREATS, &pairs(&[("from", "2026-11-20T00:00:00Z")])).is_ok());
        assert_eq!(ListQuery::parse(&DETECTIONS, &pairs(&[("to", "yesterday")])).unwrap_err().param, "to");
    }

    #[test]
    fn versions_compare_by_number() {
        use std::cmp::Ordering::*;
        assert_eq!(version_cmp("1.1.24090.11", "1.1.9.0"), Greater);
        assert_eq!(version_cmp("1.421.123.0", "1.421.123.0"), Equal);
        assert_eq!(version_cmp("4.18", "4.18.1"), Less);
        let mut v = vec!["1.10.0", "1.9.3", "1.2"];
        v.sort_by(|a, b| version_cmp(a, b));
        assert_eq!(v, ["1.2", "1.9.3", "1.10.0"]);
    }

    #[test]
    fn flat_rows_read_what_flatten_writes() {
        let row = CollectionRow {
            collection: DefenderCollection {
                collection_id: "ABC00014".into(),
                collection_name: "All Windows servers".into(),
                collection_type: crate::codes::CollectionType::Device,
                count_targeted: 10,
                count_compliant: 7,
                count_non_compliant: 2,
                count_failed: 1,
                count_activated: 9,
                count_enforced: 8,
                tenant_id: "t".into(),
                hierarchy_id: "h".into(),
            },
            compliance_percent: Some(70.0),
        };
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(serde_json::from_str::<CollectionRow>(&json).unwrap(), row);
        let app = ApplicationRow {
            application: Application {
                product_name: "7-Zip".into(),
                publisher: "Igor Pavlov".into(),
                version: "23.01".into(),
                product_language: 1033,
                program_id: "p".into(),
            },
            device_count: 3,
            product_device_count: 4,
        };
        assert_eq!(serde_json::from_str::<ApplicationRow>(&serde_json::to_string(&app).unwrap()).unwrap(), app);
    }

    #[test]
    fn ranges_pick_their_buckets() {
        assert_eq!(TimeRange::from_key("7d"), Some(TimeRange::Week));
        assert_eq!(TimeRange::Week.bucket_seconds(), 3_600);
        assert_eq!(TimeRange::Quarter.seconds() / TimeRange::Quarter.bucket_seconds(), 90);
        assert_eq!(TimeRange::from_key("1y"), None);
    }

    #[test]
    fn encoding() {
        assert_eq!(encode_component("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(page_count(0, 50), 1);
        assert_eq!(page_count(101, 50), 3);
    }
}

/// A list field's value as people read it, where the wire carries a code or key: verdicts, agent
/// states, Defender codes, languages, yes/no. None: the value reads as it is.
pub fn display_value(field: &str, value: &crate::json::Value) -> Option<String> {
    use crate::codes::*;
    let code = value.as_i64();
    let label = match (field, value) {
        ("DefenderHealth", _) => HealthVerdict::from_key(value.as_str()?)?.label().to_string(),
        ("AgentState", _) => AgentState::from_key(value.as_str()?)?.label().to_string(),
        ("Severity", _) => Severity::from_code(code?).label().into_owned(),
        ("Category", _) => Category::from_code(code?).label().into_owned(),
        ("CurrentStatus", _) => ThreatState::from_code(code?).label().into_owned(),
        ("CurrentStatusID", _) => DetectionStatus::from_code(code?).label().into_owned(),
        ("ExecutionStatus", _) => ExecutionStatus::from_code(code?).label().into_owned(),
        ("CollectionType", _) => CollectionType::from_code(code?).label().into_owned(),
        ("ProductLanguage", _) => {
            let lcid = u32::try_from(value.as_u64()?).ok()?;
            crate::entities::language_name(lcid).map(str::to_string).unwrap_or_else(|| format!("LCID {lcid}"))
        }
        (_, crate::json::Value::Bool(b)) => (if *b { "Yes" } else { "No" }).to_string(),
        _ => return None,
    };
    Some(label)
}

/// Parameters of a console address that are the console's settings, not the list's: privacy mode
/// and the theme.
pub const CONSOLE_PARAMS: [&str; 2] = ["privacy", "theme"];

/// What leaving out parameter `param` (with `value`) means for the view, in words.
fn dropped_param_words(spec: &ListSpec, param: &str, value: &str) -> String {
    let shown: String = value.chars().take(40).collect();
    match param {
        "sort" => format!("Sort by “{shown}” isn't available — showing {}", spec.label(spec.default_sort.0)),
        "order" => format!(
            "Order “{shown}” isn't available — showing {}",
            if spec.default_sort.1 == SortOrder::Asc { "ascending" } else { "descending" }
        ),
        "page" => format!("Page “{shown}” doesn't exist — showing page 1"),
        "page_size" => format!("{shown} rows per page isn't available — showing {DEFAULT_PAGE_SIZE}"),
        "q" => format!("A search can be at most {MAX_Q_LEN} characters — showing the list without it"),
        "columns" | "format" | "labels" => format!("“{param}” applies to exports only — ignored here"),
        _ => match spec.filter(param) {
            Some(_) => format!("{} “{shown}” isn't a valid choice — showing all", spec.label(param)),
            None => format!("“{}” isn't a filter of this list — ignored", param.chars().take(40).collect::<String>()),
        },
    }
}

#[cfg(test)]
mod lenient_tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn bad_parameters_are_left_out_and_said_in_words() {
        let (q, notes) = ListQuery::parse_lenient(&DEVICES, &pairs(&[("sort", "Bogus"), ("DefenderHealth", "at_risk"), ("Nope", "1"), ("page", "0")]));
        assert_eq!(q.sort, "Name");
        assert_eq!(q.page, 1);
        assert_eq!(q.filters, pairs(&[("DefenderHealth", "at_risk")]));
        assert_eq!(notes.len(), 3);
        assert_eq!(notes[0], "Sort by “Bogus” isn't available — showing Name");
        assert!(notes.iter().any(|n| n == "“Nope” isn't a filter of this list — ignored"), "{notes:?}");
        assert!(notes.iter().any(|n| n == "Page “0” doesn't exist — showing page 1"), "{notes:?}");
        let (q, notes) = ListQuery::parse_lenient(&DEVICES, &pairs(&[("DefenderHealth", "at_risk"), ("DefenderHealth", "sick")]));
        assert_eq!(notes, ["Defender health “sick” isn't a valid choice — showing all"]);
        assert_eq!(q.filters, pairs(&[("DefenderHealth", "at_risk")]));
        let (q, notes) = ListQuery::parse_lenient(&DEVICES, &pairs(&[("page", "2")]));
        assert_eq!((q.page, notes.len()), (2, 0));
    }
}
