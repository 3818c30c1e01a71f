//! The `/api/v1` contract: response shapes, the list-query convention and which fields each list
//! route sorts, filters and searches on. The server validates with it; the console builds URLs with it.

use crate::codes::Severity;
use crate::entities::{Application, ConnectorFacts, DefenderHealth, Device, TelemetryEvent, ThreatDetection};
use crate::verdict::HealthVerdict;
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

impl<T> Page<T> {
    /// Number of pages (at least 1, so that an empty list still has page 1).
    pub fn page_count(&self) -> u64 {
        page_count(self.total, self.page_size)
    }
}

pub fn page_count(total: u64, page_size: u32) -> u64 {
    total.div_ceil(page_size.max(1) as u64).max(1)
}

/// Error body of every failed API call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub detail: String,
}

/// A device in lists: the device-sync fields plus what the console derives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceRow {
    #[serde(flatten)]
    pub device: Device,
    /// The derived Defender health verdict.
    #[serde(rename = "DefenderHealth")]
    pub defender_health: HealthVerdict,
    /// Number of threats on the device that are still active.
    #[serde(rename = "ActiveThreats")]
    pub active_threats: u32,
}

/// An MSI deployment type in lists, with how many devices it reaches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// A collection a device belongs to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CollectionRef {
    #[serde(rename = "CollectionId")]
    pub collection_id: String,
    #[serde(rename = "CollectionName")]
    pub collection_name: String,
}

/// `GET /api/v1/{list}/facets`: the values each filter of a list can take, with row counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Facets {
    pub fields: Vec<Facet>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Facet {
    /// The filter's parameter name, e.g. `DeviceOS`.
    pub field: String,
    pub values: Vec<FacetCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    /// A display name where the value is a code or id (collection name, verdict label).
    pub label: Option<String>,
    pub count: u64,
}

/// Active threats of one severity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeverityCount {
    pub severity: Severity,
    pub count: u64,
}

/// The tenant and hierarchy the console is looking at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TenantInfo {
    pub tenant_id: String,
    pub tenant_name: String,
    pub hierarchy_id: String,
    pub site_code: String,
}

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

/// Bucket of `threats/timeline`: detections that started in [start, start + bucket) by severity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineBucket {
    pub start: String,
    pub counts: Vec<SeverityCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// `day` or `hour`.
    pub bucket: String,
    pub from: String,
    pub to: String,
    pub buckets: Vec<TimelineBucket>,
}

/// `GET /api/v1/connector`: the service connection point's health.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    pub facts: ConnectorFacts,
    /// Newest first.
    pub events: Vec<TelemetryEvent>,
    pub exceptions_last_24h: u64,
    pub errors_last_24h: u64,
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

/// How a filter's value is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    /// Exact text match.
    Text,
    /// An integer code.
    Int,
    /// `true` or `false`.
    Bool,
    /// A health verdict key (`healthy`, `at_risk`, ...).
    Verdict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterSpec {
    pub name: &'static str,
    pub kind: FilterKind,
}

const fn text(name: &'static str) -> FilterSpec {
    FilterSpec { name, kind: FilterKind::Text }
}
const fn int(name: &'static str) -> FilterSpec {
    FilterSpec { name, kind: FilterKind::Int }
}
const fn boolean(name: &'static str) -> FilterSpec {
    FilterSpec { name, kind: FilterKind::Bool }
}

/// What one list route accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListSpec {
    /// Route name under `/api/v1`, also the page and store query name.
    pub name: &'static str,
    pub sortable: &'static [&'static str],
    pub default_sort: (&'static str, SortOrder),
    pub filters: &'static [FilterSpec],
    /// Fields `q` searches in.
    pub searchable: &'static [&'static str],
    /// Every column of the list's rows, in display and CSV order; `columns` picks from these.
    pub columns: &'static [&'static str],
}

impl ListSpec {
    pub fn filter(&self, name: &str) -> Option<FilterSpec> {
        self.filters.iter().copied().find(|f| f.name == name)
    }
}

pub const DEVICES: ListSpec = ListSpec {
    name: "devices",
    sortable: &[
        "Name", "DeviceOS", "DeviceOSBuild", "Model", "Manufacturer", "SerialNumber", "DomainNames", "SKU",
        "AADDeviceID", "AADPrimaryUserID", "SMSID", "AADTenantID", "DefenderHealth", "ActiveThreats",
    ],
    default_sort: ("Name", SortOrder::Asc),
    filters: &[
        text("DeviceOS"),
        text("DeviceOSBuild"),
        text("Manufacturer"),
        text("Model"),
        text("SKU"),
        text("DomainNames"),
        FilterSpec { name: "DefenderHealth", kind: FilterKind::Verdict },
        boolean("HasActiveThreats"),
        text("CollectionId"),
    ],
    searchable: &["Name", "SerialNumber", "AADDeviceID", "Model"],
    columns: &[
        "Name", "DefenderHealth", "ActiveThreats", "DeviceOS", "DeviceOSBuild", "Model", "Manufacturer", "SerialNumber",
        "DomainNames", "SKU", "AADDeviceID", "AADPrimaryUserID", "SMSID", "AADTenantID",
    ],
};

pub const APPLICATIONS: ListSpec = ListSpec {
    name: "applications",
    sortable: &["ProductName", "Publisher", "Version", "ProductLanguage", "ProgramID", "DeviceCount", "ProductDeviceCount"],
    default_sort: ("ProductName", SortOrder::Asc),
    filters: &[text("Publisher"), int("ProductLanguage"), text("ProductName")],
    searchable: &["ProductName", "Publisher", "ProgramID"],
    columns: &["ProductName", "Publisher", "Version", "ProductLanguage", "ProgramID", "DeviceCount", "ProductDeviceCount"],
};

pub const COLLECTIONS: ListSpec = ListSpec {
    name: "collections",
    sortable: &[
        "CollectionId", "CollectionName", "CollectionType", "CountTargeted", "CountCompliant", "CountNonCompliant",
        "CountFailed", "CountActivated", "CountEnforced",
    ],
    default_sort: ("CollectionId", SortOrder::Asc),
    filters: &[int("CollectionType")],
    searchable: &["CollectionId", "CollectionName"],
    columns: &[
        "CollectionId", "CollectionName", "CollectionType", "CountTargeted", "CountCompliant", "CountNonCompliant",
        "CountFailed", "CountActivated", "CountEnforced", "TenantId", "HierarchyId",
    ],
};

pub const THREATS: ListSpec = ListSpec {
    name: "threats",
    sortable: &[
        "InitialDetectionTime", "LastThreatStatusChangeTime", "ThreatName", "ThreatID", "Severity", "Category",
        "CurrentStatus", "ExecutionStatus", "NumberOfDetections", "DeviceId",
    ],
    default_sort: ("InitialDetectionTime", SortOrder::Desc),
    filters: &[
        int("Severity"),
        int("Category"),
        int("CurrentStatus"),
        int("CurrentStatusID"),
        int("ExecutionStatus"),
        int("ThreatID"),
        text("DeviceId"),
        boolean("Active"),
    ],
    searchable: &["ThreatName"],
    columns: &[
        "ThreatID", "ThreatName", "Category", "Severity", "URL", "CurrentStatus", "CurrentStatusID", "ExecutionStatus",
        "LastThreatStatusChangeTime", "InitialDetectionTime", "NumberOfDetections", "DeviceId",
    ],
};

pub const LISTS: [ListSpec; 4] = [DEVICES, APPLICATIONS, COLLECTIONS, THREATS];

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
        }
    }

    /// Reads decoded query pairs; any parameter the route does not know is an error naming it.
    pub fn parse(spec: &ListSpec, pairs: &[(String, String)]) -> Result<Self, ParamError> {
        let mut query = ListQuery::new(spec);
        let mut order = None;
        for (key, value) in pairs {
            match key.as_str() {
                "page" => {
                    query.page = value
                        .parse::<u32>()
                        .ok()
                        .filter(|p| *p >= 1)
                        .ok_or_else(|| bad("page", format!("must be a whole number from 1, got {value:?}")))?
                }
                "page_size" => {
                    query.page_size = value
                        .parse::<u32>()
                        .ok()
                        .filter(|s| (1..=MAX_PAGE_SIZE).contains(s))
                        .ok_or_else(|| {
                            bad("page_size", format!("must be a whole number from 1 to {MAX_PAGE_SIZE}, got {value:?}"))
                        })?
                }
                "sort" => {
                    if !spec.sortable.contains(&value.as_str()) {
                        return Err(bad(
                            "sort",
                            format!("cannot sort {} by {value:?}; sortable: {}", spec.name, spec.sortable.join(", ")),
                        ));
                    }
                    query.sort = value.clone();
                }
                "order" => {
                    order = Some(match value.as_str() {
                        "asc" => SortOrder::Asc,
                        "desc" => SortOrder::Desc,
                        _ => return Err(bad("order", format!("must be asc or desc, got {value:?}"))),
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
                                format!("{} has no column {c:?}; columns: {}", spec.name, spec.columns.join(", ")),
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
                "format" => match value.as_str() {
                    "json" => query.csv = false,
                    "csv" => query.csv = true,
                    _ => return Err(bad("format", format!("must be json or csv, got {value:?}"))),
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
                    query.filters.push((field.to_string(), value.clone()));
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
        out
    }

    /// `a=1&b=2`, percent-encoded (empty for the default query).
    pub fn to_query_string(&self, spec: &ListSpec) -> String {
        encode_pairs(&self.to_pairs(spec))
    }
}

fn check_filter_value(filter: FilterSpec, value: &str) -> Result<(), ParamError> {
    let ok = match filter.kind {
        FilterKind::Text => !value.is_empty() && value.len() <= 256,
        FilterKind::Int => value.parse::<i64>().is_ok(),
        FilterKind::Bool => value == "true" || value == "false",
        FilterKind::Verdict => HealthVerdict::from_key(value).is_some(),
    };
    if ok {
        return Ok(());
    }
    let expected = match filter.kind {
        FilterKind::Text => "a non-empty value of at most 256 bytes".to_string(),
        FilterKind::Int => "an integer code".to_string(),
        FilterKind::Bool => "true or false".to_string(),
        FilterKind::Verdict => {
            let keys: Vec<_> = HealthVerdict::ALL.iter().map(|v| v.key()).collect();
            format!("one of {}", keys.join(", "))
        }
    };
    Err(bad(filter.name, format!("must be {expected}, got {value:?}")))
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
    fn encoding() {
        assert_eq!(encode_component("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(page_count(0, 50), 1);
        assert_eq!(page_count(101, 50), 3);
    }
}
