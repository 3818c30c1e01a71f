//! A threat (`/threats/{ThreatID}`): every field decoded, its own timeline, and the devices it was
//! detected on with their per-device status and times.

use super::threats::{detection_list, info_link};
use crate::api::{self, ApiError};
use crate::charts::Tone;
use crate::components::chips::severity_chip;
use crate::components::kpi::Kpi;
use crate::components::list_page::ListPage;
use crate::components::status::{ErrorMessage, Loading};
use crate::components::threat_timeline::ThreatTimeline;
use crate::format::{ago, count, datetime};
use crate::routes;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use tenantscope_model::api::{ThreatRow, TimeRange};

#[component]
pub fn Threat() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = LocalResource::new(move || {
        let id = id();
        async move {
            match id.parse::<i64>() {
                Ok(n) => api::get_json::<ThreatRow>(&format!("/threats/{n}")).await,
                Err(_) => Err(ApiError::Status { status: 404, error: "not_found".into(), detail: "not a ThreatID".into() }),
            }
        }
    });
    view! {
        <section class="page">
            {move || match data.get() {
                    None => view! { <Loading what="the threat" /> }.into_any(),
                        Some(Ok(t)) => view! { <ThreatView threat=t /> }.into_any(),
                        Some(Err(e)) if e.is_not_found() => view! {
                            <h1>"Threat not found"</h1>
                            <div class="panel" data-testid="not-found">
                                <p>"No device has a detection of threat " <code>{id()}</code> "."</p>
                                <p><A href="/threats">"Back to Threats"</A></p>
                            </div>
                        }.into_any(),
                        Some(Err(e)) => view! {
                            <h1>"Threat"</h1>
                            <ErrorMessage title="Could not load this threat" message=e.to_string() retry=move || data.refetch() />
                        }.into_any(),
                }}
        </section>
    }
}

#[component]
fn ThreatView(threat: ThreatRow) -> impl IntoView {
    let t = threat;
    let now = js_sys::Date::now();
    let id = t.threat_id.to_string();
    let path = routes::threat(t.threat_id);
    let active_tone = if t.devices_active > 0 { Tone::Bad } else { Tone::Good };
    let when = |at: &str| format!("{} ({})", datetime(at), ago(at, now).unwrap_or_default());
    view! {
        <div class="page-head detail-head">
            <h1 data-testid="threat-name">{t.threat_name.clone()}</h1>
            {severity_chip(t.severity)}
        </div>
        <div class="kpi-grid">
            <Kpi kpi="devices_affected" label="Devices affected" value=count(t.devices_affected) href=path.clone() />
            <Kpi kpi="devices_active" label="Still active" value=count(t.devices_active) tone=active_tone
                href=format!("{path}?Active=true") />
            <Kpi kpi="detections" label="Detections" value=count(t.number_of_detections) note="NumberOfDetections summed over the devices" />
        </div>
        <div class="panel">
            <h2>"Threat"</h2>
            <dl class="fields" data-testid="threat-fields">
                <dt>"Name"</dt><dd data-field="ThreatName">{t.threat_name.clone()}</dd>
                <dt>"Threat ID"</dt><dd class="mono" data-field="ThreatID">{id.clone()}</dd>
                <dt>"Category"</dt><dd>{t.category.label().into_owned()} <span class="muted">{format!(" · code {}", t.category.code())}</span></dd>
                <dt>"Severity"</dt><dd>{t.severity.label().into_owned()} <span class="muted">{format!(" · code {}", t.severity.code())}</span></dd>
                <dt>"More information"</dt><dd data-field="URL">{info_link(&t.url)}</dd>
                <dt>"First detected"</dt><dd>{when(&t.initial_detection_time)}</dd>
                <dt>"Last status change"</dt><dd>{when(&t.last_threat_status_change_time)}</dd>
            </dl>
        </div>
        <ThreatTimeline threat=t.threat_id default=TimeRange::Quarter />
        <div class="panel">
            <h2>"Devices"</h2>
            <p class="muted small">"Each device with this threat: its status, execution state and times."</p>
            <ListPage config=detection_list(path, vec![("ThreatID".into(), id)]) />
        </div>
    }
}
