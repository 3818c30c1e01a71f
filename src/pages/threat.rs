//! A threat (`/threats/{ThreatID}`): every field decoded, its own timeline, and the devices it was
//! detected on with their per-device status and times.

use super::threats::detection_list;
use crate::api::{self, ApiError};
use crate::charts::Tone;
use crate::components::list_page::{chip, fields, render, text, Cell};
use crate::components::kpi::kpi_html;
use crate::components::list_page::ListPage;
use crate::components::status::{ErrorMessage, Loading};
use crate::components::threat_timeline::ThreatTimeline;
use crate::format::{count, severity_tone};
use crate::routes;
use leptos::prelude::*;
use tenantscope_model::api::{ThreatRow, TimeRange};

#[component]
pub fn Threat(id: String) -> impl IntoView {
    let id = StoredValue::new(id);
    let id = move || id.get_value();
    let data = api::resource(move || match id().parse::<i64>() {
        Ok(n) => Ok(format!("/threats/{n}")),
        Err(_) => Err(ApiError::Status { status: 404, error: "not_found".into(), detail: "not a ThreatID".into() }),
    });
    view! {
        <section class="page">
            {move || match data.get().map(|r| r.and_then(|b| b.decode::<ThreatRow>())) {
                    None => view! { <Loading what="the threat" /> }.into_any(),
                        Some(Ok(t)) => {
                        crate::contexts::page::use_page().set_object(t.threat_name.clone());
                        view! { <ThreatView threat=t /> }.into_any()
                    }
                        Some(Err(e)) if e.is_not_found() => view! {
                            <h1>"Threat not found"</h1>
                            <div class="panel" data-testid="not-found">
                                <p>"No device has a detection of threat " <code>{id()}</code> "."</p>
                                <p><a href="/threats">"Back to Threats"</a></p>
                            </div>
                        }.into_any(),
                        Some(Err(e)) => view! {
                            <h1>"Threat"</h1>
                            <ErrorMessage title="Could not load this threat" retryable=e.retryable() message=e.to_string() retry=move || data.refetch() />
                        }.into_any(),
                }}
        </section>
    }
}

#[component]
fn ThreatView(threat: ThreatRow) -> impl IntoView {
    let t = threat;
    let id = t.threat_id.to_string();
    let path = routes::threat(t.threat_id);
    let active_tone = if t.devices_active > 0 { Tone::Bad } else { Tone::Good };
    let mut tiles = String::new();
    kpi_html(&mut tiles, "devices_affected", "Devices affected", &count(t.devices_affected), "", None, Some(&path), "");
    kpi_html(&mut tiles, "devices_active", "Still active", &count(t.devices_active), "", Some(active_tone), Some(&format!("{path}?Active=true")), "");
    kpi_html(&mut tiles, "detections", "Detections", &count(t.number_of_detections), "NumberOfDetections summed over the devices", None, None, "");
    view! {
        <div class="page-head detail-head">
            <h1 data-testid="threat-name">{t.threat_name.clone()}</h1>
            {render(chip(severity_tone(t.severity), t.severity.label()))}
        </div>
        <div class="kpi-grid" inner_html=tiles></div>
        <div class="panel">
            <h2>"Threat"</h2>
            {fields("threat-fields", vec![
                ("Name", text(&t.threat_name)),
                ("Threat ID", Cell::Copy(id.clone())),
                ("Category", text(format!("{} · code {}", t.category.label(), t.category.code()))),
                ("Severity", chip(severity_tone(t.severity), format!("{} · code {}", t.severity.label(), t.severity.code()))),
                ("URL", Cell::External(t.url.clone())),
                ("First detected", Cell::Time(Some(t.initial_detection_time.clone()), false)),
                ("Last status change", Cell::Time(Some(t.last_threat_status_change_time.clone()), false)),
            ])}
        </div>
        <ThreatTimeline threat=t.threat_id default=TimeRange::Quarter />
        <div class="panel">
            <h2>"Devices"</h2>
            <p class="muted small">"Each device with this threat: its status, execution state and times."</p>
            <ListPage config=detection_list(path, vec![("ThreatID".into(), id)]) />
        </div>
    }
}
