//! Typed links to the console's pages: one place builds every path and query string.

use tenantscope_model::api::{decode_query, encode_component, encode_pairs};

/// The console's pages, by path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageRoute {
    Overview,
    Devices,
    Device(String),
    Applications,
    EndpointSecurity,
    Collection(String),
    Threats,
    Threat(String),
    Detections,
    Connector,
    DataPrivacy,
    NotFound,
}

/// A percent-encoded path segment as text.
fn segment(s: &str) -> String {
    decode_query(&format!("v={}", s.replace('+', "%2B"))).pop().map(|(_, v)| v).unwrap_or_default()
}

impl PageRoute {
    pub fn of(path: &str) -> Self {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match parts.as_slice() {
            [] => PageRoute::Overview,
            ["devices"] => PageRoute::Devices,
            ["devices", id] => PageRoute::Device(segment(id)),
            ["applications"] => PageRoute::Applications,
            ["endpoint-security"] => PageRoute::EndpointSecurity,
            ["collections", id] => PageRoute::Collection(segment(id)),
            ["threats"] => PageRoute::Threats,
            ["threats", id] => PageRoute::Threat(segment(id)),
            ["detections"] => PageRoute::Detections,
            ["connector"] => PageRoute::Connector,
            ["data-privacy"] => PageRoute::DataPrivacy,
            _ => PageRoute::NotFound,
        }
    }
}

fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return path.to_string();
    }
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    format!("{path}?{}", encode_pairs(&pairs))
}

/// The devices list with these filters (`("DefenderHealth", "at_risk")`, ...).
pub fn devices(filters: &[(&str, &str)]) -> String {
    with_query("/devices", filters)
}

pub fn device(aad_device_id: &str) -> String {
    format!("/devices/{}", encode_component(aad_device_id))
}

pub fn collection(collection_id: &str) -> String {
    format!("/collections/{}", encode_component(collection_id))
}

pub fn collection_filtered(collection_id: &str, filters: &[(&str, &str)]) -> String {
    with_query(&collection(collection_id), filters)
}

pub fn threats(filters: &[(&str, &str)]) -> String {
    with_query("/threats", filters)
}

pub fn threat(threat_id: i64) -> String {
    format!("/threats/{threat_id}")
}

pub fn detections(filters: &[(&str, &str)]) -> String {
    with_query("/detections", filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_encoded() {
        assert_eq!(devices(&[]), "/devices");
        assert_eq!(devices(&[("DefenderHealth", "at_risk")]), "/devices?DefenderHealth=at_risk");
        assert_eq!(device("a b/c"), "/devices/a%20b%2Fc");
        assert_eq!(collection("ABC00014"), "/collections/ABC00014");
        assert_eq!(detections(&[("from", "2026-11-24T10:00:00Z")]), "/detections?from=2026-11-24T10%3A00%3A00Z");
        assert_eq!(threat(2147735505), "/threats/2147735505");
    }

    #[test]
    fn paths_name_their_page() {
        assert_eq!(PageRoute::of("/"), PageRoute::Overview);
        assert_eq!(PageRoute::of(""), PageRoute::Overview);
        assert_eq!(PageRoute::of("/devices/"), PageRoute::Devices);
        assert_eq!(PageRoute::of(&device("a b/c+d")), PageRoute::Device("a b/c+d".into()));
        assert_eq!(PageRoute::of(&collection("ABC00014")), PageRoute::Collection("ABC00014".into()));
        assert_eq!(PageRoute::of(&threat(7)), PageRoute::Threat("7".into()));
        assert_eq!(PageRoute::of("/detections"), PageRoute::Detections);
        assert_eq!(PageRoute::of("/devices/a/b"), PageRoute::NotFound);
        assert_eq!(PageRoute::of("/nope"), PageRoute::NotFound);
    }
}
