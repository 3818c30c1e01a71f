//! Threats (`/threats`): detections over time, and one row per threat (the selected detections
//! grouped); Detections (`/detections`): the same timeline and one row per threat per device.

use crate::components::list_page::{chip, column, link, render, text, Cell, ListConfig, ListPage};
use crate::components::threat_timeline::ThreatTimeline;
use crate::format::{count, datetime, severity_tone, threat_state_tone};
use crate::routes;
use leptos::prelude::*;
use tenantscope_model::api::{decode_query, encode_pairs, DetectionRow, ThreatRow, TimeRange, DETECTIONS, THREATS};

/// "More information" as a link only when the URL is http(s); anything else is inert text.
pub fn info_link(url: &Option<String>) -> AnyView {
    render(Cell::External(url.clone()))
}

/// The detections a threat row counts: this threat, under the view's own detection filters (time
/// range, severity, status...), so the list's total equals the number in the row.
fn detections_of(threat_id: i64, active_only: bool) -> String {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let mut pairs: Vec<(String, String)> = decode_query(&search)
        .into_iter()
        .filter(|(k, _)| DETECTIONS.filter(k).is_some() && k != "ThreatID" && !(active_only && k == "Active"))
        .collect();
    pairs.push(("ThreatID".into(), threat_id.to_string()));
    if active_only {
        pairs.push(("Active".into(), "true".into()));
    }
    format!("/detections?{}", encode_pairs(&pairs))
}

fn tabs(current: &'static str) -> impl IntoView {
    let tab = move |href: &'static str, label: &'static str| {
        view! { <a href=href class=if href == current { "tab active" } else { "tab" } aria-current=(href == current).then_some("page")>{label}</a> }
    };
    view! { <nav class="tabs" aria-label="Threat views">{tab("/threats", "By threat")}{tab("/detections", "Detections")}</nav> }
}

pub fn threat_list(path: String, fixed: Vec<(String, String)>) -> ListConfig<ThreatRow> {
    let mut config = ListConfig::new(
        &THREATS,
        path,
        vec![
            column("ThreatName", "name", |r: &ThreatRow| link(routes::threat(r.threat_id), &r.threat_name)),
            column("Severity", "", |r: &ThreatRow| chip(severity_tone(r.severity), r.severity.label())),
            column("Category", "", |r: &ThreatRow| text(r.category.label())),
            column("DevicesAffected", "num", |r: &ThreatRow| {
                link(detections_of(r.threat_id, false), count(r.devices_affected))
            }),
            column("DevicesActive", "num", |r: &ThreatRow| {
                if r.devices_active > 0 {
                    link(detections_of(r.threat_id, true), count(r.devices_active))
                } else {
                    text("0")
                }
            }),
            column("NumberOfDetections", "num", |r: &ThreatRow| text(count(r.number_of_detections))),
            column("InitialDetectionTime", "", |r: &ThreatRow| text(datetime(&r.initial_detection_time))),
            column("LastThreatStatusChangeTime", "", |r: &ThreatRow| text(datetime(&r.last_threat_status_change_time))),
            column("ThreatID", "mono", |r: &ThreatRow| text(r.threat_id.to_string())),
            column("URL", "", |r: &ThreatRow| Cell::External(r.url.clone())),
        ],
    );
    config.default_columns = &[
        "ThreatName", "Severity", "Category", "DevicesAffected", "DevicesActive", "NumberOfDetections",
        "InitialDetectionTime", "LastThreatStatusChangeTime",
    ];
    config.picker_key = Some("tenantscope.threats.columns");
    config.fixed = fixed;
    config.search = "Search threat name";
    config.empty = "No threats match this view.";
    config
}

pub fn detection_list(path: String, fixed: Vec<(String, String)>) -> ListConfig<DetectionRow> {
    let mut config = ListConfig::new(
        &DETECTIONS,
        path,
        vec![
            column("ThreatName", "name", |r: &DetectionRow| {
                link(routes::threat(r.detection.threat_id), &r.detection.threat_name)
            }),
            column("DeviceName", "", |r: &DetectionRow| {
                let name = r.device_name.clone().unwrap_or_else(|| "Unknown device".into());
                link(routes::device(&r.detection.device_id), name)
            }),
            column("Severity", "", |r: &DetectionRow| chip(severity_tone(r.detection.severity), r.detection.severity.label())),
            column("Category", "", |r: &DetectionRow| text(r.detection.category.label())),
            column("CurrentStatus", "", |r: &DetectionRow| {
                chip(threat_state_tone(r.detection.current_status), r.detection.current_status.label())
            }),
            column("CurrentStatusID", "", |r: &DetectionRow| text(r.detection.current_status_id.label())),
            column("ExecutionStatus", "", |r: &DetectionRow| text(r.detection.execution_status.label())),
            column("InitialDetectionTime", "", |r: &DetectionRow| text(datetime(&r.detection.initial_detection_time))),
            column("LastThreatStatusChangeTime", "", |r: &DetectionRow| text(datetime(&r.detection.last_threat_status_change_time))),
            column("NumberOfDetections", "num", |r: &DetectionRow| text(count(r.detection.number_of_detections as u64))),
            column("ThreatID", "mono", |r: &DetectionRow| text(r.detection.threat_id.to_string())),
            column("DeviceId", "mono", |r: &DetectionRow| text(&r.detection.device_id)),
            column("URL", "", |r: &DetectionRow| Cell::External(r.detection.url.clone())),
        ],
    );
    config.default_columns = &[
        "ThreatName", "DeviceName", "Severity", "CurrentStatus", "ExecutionStatus", "InitialDetectionTime",
        "LastThreatStatusChangeTime", "NumberOfDetections",
    ];
    config.picker_key = Some("tenantscope.detections.columns");
    config.fixed = fixed;
    config.search = "Search threat or device name";
    config.empty = "No detections match this view.";
    config
}

#[component]
pub fn Threats() -> impl IntoView {
    view! {
        <section class="page">
            <div class="page-head"><h1>"Threats"</h1>{tabs("/threats")}</div>
            <ThreatTimeline default=TimeRange::Quarter />
            <div class="panel">
                <h2>"Threats"</h2>
                <p class="muted small">"One row per threat. Devices affected opens its detections; add a time range with the buttons above."</p>
                <ListPage config=threat_list("/threats".into(), Vec::new()) />
            </div>
        </section>
    }
}

#[component]
pub fn Detections() -> impl IntoView {
    view! {
        <section class="page">
            <div class="page-head"><h1>"Detections"</h1>{tabs("/detections")}</div>
            <ThreatTimeline default=TimeRange::Quarter />
            <div class="panel">
                <h2>"Detections"</h2>
                <p class="muted small">"One row per threat per device."</p>
                <ListPage config=detection_list("/detections".into(), Vec::new()) />
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_is_configured() {
        let t: Vec<&str> = threat_list(String::new(), Vec::new()).columns.iter().map(|c| c.field).collect();
        assert_eq!(t, THREATS.columns);
        let d: Vec<&str> = detection_list(String::new(), Vec::new()).columns.iter().map(|c| c.field).collect();
        assert_eq!(d, DETECTIONS.columns);
    }
}
