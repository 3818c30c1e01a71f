//! A collection (`/collections/{CollectionId}`): its policy counts as the site uploaded them, as a
//! chart, and its member devices with their Defender health (filterable by verdict).

use super::devices::devices_list;
use super::endpoint_security::{compliance_row, compliance_series};
use crate::api::{self, ApiError};
use crate::charts::{self, Size};
use crate::components::chart::ChartView;
use crate::components::kpi::kpi_html;
use crate::components::list_page::ListPage;
use crate::components::status::{ErrorMessage, Loading};
use crate::format::{count, share};
use crate::routes;
use leptos::prelude::*;
use std::sync::Arc;
use tenantscope_model::api::{encode_component, CollectionRow};
use tenantscope_model::HealthVerdict;

#[component]
pub fn Collection(id: String) -> impl IntoView {
    let id = StoredValue::new(id);
    let id = move || id.get_value();
    let data = api::resource(move || Ok(format!("/collections/{}", encode_component(&id()))));
    view! {
        <section class="page">
            {move || match data.get().map(|r| r.and_then(|b| b.decode::<CollectionRow>())) {
                    None => view! { <Loading what="the collection" /> }.into_any(),
                        Some(Ok(c)) => {
                        crate::contexts::page::use_page().set_object(c.collection.collection_name.clone());
                        view! { <CollectionView row=c /> }.into_any()
                    }
                        Some(Err(e)) if e.is_not_found() => view! {
                            <h1>"Collection not found"</h1>
                            <div class="panel" data-testid="not-found">
                                <p>"No collection has the ID " <code>{id()}</code> "."</p>
                                <p><a href="/endpoint-security">"Back to Endpoint security"</a></p>
                            </div>
                        }.into_any(),
                        Some(Err(e)) => error(e, move || data.refetch()).into_any(),
                }}
        </section>
    }
}

fn error(e: ApiError, retry: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    view! { <h1>"Collection"</h1> <ErrorMessage title="Could not load this collection" retryable=e.retryable() message=e.to_string() retry=retry /> }
}

#[component]
fn CollectionView(row: CollectionRow) -> impl IntoView {
    let c = row.collection.clone();
    let id = c.collection_id.clone();
    let members = |verdict: HealthVerdict| routes::collection_filtered(&id, &[("DefenderHealth", verdict.key())]);
    let bars = Arc::new(vec![compliance_row(&row)]);
    let not_yet = row.not_yet_reported();
    let path = routes::collection(&id);
    let fixed = vec![("CollectionId".to_string(), id.clone())];
    let mut tiles = String::new();
    kpi_html(&mut tiles, "count_targeted", "Targeted", &count(c.count_targeted), "Devices the policy targets", None, Some(&path), "");
    for (kpi, label, n, tone) in [
        ("count_compliant", "Compliant", c.count_compliant, charts::Tone::Good),
        ("count_non_compliant", "Non-compliant", c.count_non_compliant, charts::Tone::Warn),
        ("count_failed", "Failed", c.count_failed, charts::Tone::Bad),
        ("not_yet_reported", "Not yet reported", not_yet, charts::Tone::Idle),
    ] {
        kpi_html(&mut tiles, kpi, label, &count(n), "", Some(tone), None, "");
    }
    let activity = format!("Activated {} · enforced {}", count(c.count_activated), count(c.count_enforced));
    kpi_html(&mut tiles, "compliance", "Compliance", &share(row.compliance_percent), &activity, None, None, "");
    view! {
        <div class="page-head detail-head">
            <h1 data-testid="collection-name">{c.collection_name.clone()}</h1>
            <span class="mono muted">{id.clone()}</span>
            <span class="badge tone-idle">{c.collection_type.label().into_owned()} " collection"</span>
        </div>
        <div class="kpi-grid" inner_html=tiles></div>
        <div class="panel">
            <h2>"Policy state of the targeted devices"</h2>
            <p class="muted small">"As uploaded by the site (policy compliance); the members below show each device's own Defender health."</p>
            <ChartView
                title="Policy state of the targeted devices".to_string()
                testid="collection-chart"
                min_height=90
                draw=Arc::new(move |w, p| charts::stacked_bars("Policy state", &compliance_series(), &bars, true, Size { width: w, height: 90 }, p))
                link=Arc::new(|_| None)
            />
        </div>
        <div class="panel">
            <div class="panel-head">
                <h2>"Members"</h2>
                <span class="muted small">
                    "Defender health: "
                    {HealthVerdict::ALL.iter().map(|v| view! { <a href=members(*v)>{v.label()}</a> " " }).collect_view()}
                </span>
            </div>
            <ListPage config=devices_list(path, fixed) />
        </div>
    }
}
