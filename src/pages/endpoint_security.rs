//! Endpoint security: Defender policy compliance per collection (chart, worst first, and the list)
//! and the antivirus agent status across the tenant (devices by state, version spread). Every part
//! of a chart opens the list it counts.

use crate::api;
use crate::charts::{self, BarRow, Series, Size, Slice, Tone};
use crate::components::chart::ChartView;
use crate::components::html::escape;
use crate::components::list_page::{column, link, text, ListConfig, ListPage};
use crate::components::status::{ErrorMessage, Loading};
use crate::format::{agent_tone, count, share};
use crate::routes;
use leptos::prelude::*;
use std::sync::Arc;
use tenantscope_model::api::{Antivirus, CollectionRow, Page, VersionCount, COLLECTIONS, MAX_PAGE_SIZE};
use tenantscope_model::AgentState;

/// Rows the compliance chart shows before "Show all".
pub const TOP: u32 = 15;

/// The four parts of a collection's targeted devices, in stack order.
pub fn compliance_series() -> Vec<Series> {
    vec![
        Series { label: "Compliant".into(), tone: Tone::Good },
        Series { label: "Non-compliant".into(), tone: Tone::Warn },
        Series { label: "Failed".into(), tone: Tone::Bad },
        Series { label: "Not yet reported".into(), tone: Tone::Idle },
    ]
}

pub fn compliance_row(c: &CollectionRow) -> BarRow {
    let k = &c.collection;
    BarRow {
        key: k.collection_id.clone(),
        label: k.collection_name.clone(),
        values: vec![k.count_compliant, k.count_non_compliant, k.count_failed, c.not_yet_reported()],
    }
}

/// Height of a bar chart with `rows` rows (legend and margins included).
pub fn bars_height(rows: usize) -> u32 {
    60 + 26 * rows.max(1) as u32
}

#[component]
pub fn ComplianceChart() -> impl IntoView {
    let show_all = RwSignal::new(false);
    let data = api::resource(move || {
        let size = if show_all.get() { MAX_PAGE_SIZE } else { TOP };
        Ok(format!("/collections?sort=CompliancePercent&order=asc&page_size={size}"))
    });
    view! {
        <div class="panel">
            <div class="panel-head">
                <h2>"Defender policy compliance by collection, worst first"</h2>
                <button class="button ghost small" data-testid="show-all-collections" on:click=move |_| show_all.update(|a| *a = !*a)>
                    {move || if show_all.get() { format!("Show the worst {TOP}") } else { "Show all".to_string() }}
                </button>
            </div>
            {move || match data.get().map(|r| r.and_then(|b| b.decode::<Page<CollectionRow>>())) {
                    None => view! { <Loading what="compliance" /> }.into_any(),
                        Some(Ok(page)) => {
                            let (rows, total) = (page.items, page.total);
                            let shown = rows.len();
                            let bars: Arc<Vec<BarRow>> = Arc::new(rows.iter().map(compliance_row).collect());
                            let height = bars_height(shown);
                            view! {
                                <p class="muted small">{format!(
                                    "Share of each collection's targeted devices by policy state, as the site uploaded it; {} of {} collections. The number at the end of a bar is the devices targeted.",
                                    count(shown as u64), count(total)
                                )}</p>
                                <ChartView
                                    title="Defender policy compliance by collection".to_string()
                                    testid="compliance-chart"
                                    min_height=height
                                    draw=Arc::new(move |w, p| charts::stacked_bars("Defender policy compliance by collection", &compliance_series(), &bars, true, Size { width: w, height }, p))
                                    link=Arc::new(|r| Some(routes::collection(r.key.split('|').next().unwrap_or_default())))
                                />
                            }.into_any()
                        }
                        Some(Err(e)) => view! { <ErrorMessage title="Could not load compliance" retryable=e.retryable() message=e.to_string() retry=move || data.refetch() /> }.into_any(),
                }}
        </div>
    }
}

/// Versions a spread shows before "Show all" (the newest ones).
pub const NEWEST: usize = 8;

/// A version spread: one bar per version, oldest first, each opening the devices on it.
#[component]
fn VersionChart(title: &'static str, field: &'static str, versions: Vec<VersionCount>) -> impl IntoView {
    let n = versions.len();
    let show_all = RwSignal::new(false);
    let all: Arc<Vec<BarRow>> = Arc::new(
        versions.iter().map(|v| BarRow { key: v.version.clone(), label: v.version.clone(), values: vec![v.count] }).collect(),
    );
    let chart = move || {
        let rows: Arc<Vec<BarRow>> =
            if show_all.get() || n <= NEWEST { Arc::clone(&all) } else { Arc::new(all[n - NEWEST..].to_vec()) };
        let height = bars_height(rows.len());
        view! {
            <ChartView
                title=format!("Devices by {} version", title.to_ascii_lowercase())
                testid=field
                min_height=height
                draw=Arc::new(move |w, p| charts::stacked_bars(title, &[Series { label: "Devices".into(), tone: Tone::Accent }], &rows, false, Size { width: w, height }, p))
                link=Arc::new(move |r| Some(routes::devices(&[(field, r.key.split('|').next().unwrap_or_default())])))
            />
        }
    };
    view! {
        <div class="version-chart">
            <div class="panel-head">
                <h3>{title} <span class="muted small">{format!(" · {} version{}", n, if n == 1 { "" } else { "s" })}</span></h3>
                {(n > NEWEST).then(|| view! {
                    <button class="button ghost small" on:click=move |_| show_all.update(|a| *a = !*a)>
                        {move || if show_all.get() { format!("Show the newest {NEWEST}") } else { format!("Show all {n}") }}
                    </button>
                })}
            </div>
            {chart}
        </div>
    }
}

pub fn state_slices(av: &Antivirus) -> Vec<Slice> {
    av.states
        .iter()
        .map(|s| Slice { key: s.state.key().into(), label: s.state.label().into(), value: s.count, tone: agent_tone(s.state) })
        .collect()
}

#[component]
pub fn AgentStatus() -> impl IntoView {
    let data = api::resource(|| Ok("/antivirus".into()));
    view! {
        {move || match data.get().map(|r| r.and_then(|b| b.decode::<Antivirus>())) {
                None => view! { <div class="panel"><Loading what="antivirus status" /></div> }.into_any(),
                    Some(Ok(av)) => {
                        let slices = Arc::new(state_slices(&av));
                        let state_links: String = av
                            .states
                            .iter()
                            .map(|s| {
                                format!(
                                    "<li><a href=\"{}\" data-state=\"{}\">{} <strong>{}</strong></a></li>",
                                    escape(&routes::devices(&[("AgentState", s.state.key())])),
                                    s.state.key(),
                                    escape(s.state.label()),
                                    count(s.count)
                                )
                            })
                            .collect();
                        view! {
                            <div class="panel">
                                <h2>"Antivirus agent status"</h2>
                                <p class="muted small">{AgentState::RULE} " Select a state for its devices."</p>
                                <ChartView
                                    title="Devices by antivirus state".to_string()
                                    testid="agent-status"
                                    min_height=280
                                    draw=Arc::new(move |w, p| charts::donut("Devices by antivirus state", "devices", &slices, Size { width: w.min(760), height: 280 }, p))
                                    link=Arc::new(|r| Some(routes::devices(&[("AgentState", r.key.as_str())])))
                                />
                                <ul class="state-links" inner_html=state_links></ul>
                            </div>
                            <div class="panel">
                                <h2>"Defender versions, oldest first"</h2>
                                <p class="muted small">"Devices on each engine, platform and signature version. Select a version for its devices."</p>
                                <div class="versions">
                                    <VersionChart title="Engine" field="EngineVersion" versions=av.engine_versions />
                                    <VersionChart title="Platform" field="DefenderVersion" versions=av.platform_versions />
                                    <VersionChart title="Signatures" field="SignatureVersion" versions=av.signature_versions />
                                </div>
                            </div>
                        }.into_any()
                    }
                    Some(Err(e)) => view! { <ErrorMessage title="Could not load antivirus status" retryable=e.retryable() message=e.to_string() retry=move || data.refetch() /> }.into_any(),
            }}
    }
}

/// Every collections column.
pub fn collection_list() -> ListConfig<CollectionRow> {
    let mut config = ListConfig::new(
        &COLLECTIONS,
        "/endpoint-security",
        vec![
            column("CollectionName", "name", |r: &CollectionRow| {
                link(routes::collection(&r.collection.collection_id), &r.collection.collection_name)
            }),
            column("CollectionId", "mono", |r: &CollectionRow| text(&r.collection.collection_id)),
            column("CollectionType", "", |r: &CollectionRow| text(r.collection.collection_type.label())),
            column("CountTargeted", "num", |r: &CollectionRow| text(count(r.collection.count_targeted))),
            column("CountCompliant", "num", |r: &CollectionRow| text(count(r.collection.count_compliant))),
            column("CountNonCompliant", "num", |r: &CollectionRow| text(count(r.collection.count_non_compliant))),
            column("CountFailed", "num", |r: &CollectionRow| text(count(r.collection.count_failed))),
            column("CountActivated", "num", |r: &CollectionRow| text(count(r.collection.count_activated))),
            column("CountEnforced", "num", |r: &CollectionRow| text(count(r.collection.count_enforced))),
            column("CompliancePercent", "num", |r: &CollectionRow| text(share(r.compliance_percent))),
            column("TenantId", "mono", |r: &CollectionRow| text(&r.collection.tenant_id)),
            column("HierarchyId", "mono", |r: &CollectionRow| text(&r.collection.hierarchy_id)),
        ],
    );
    config.default_columns = &[
        "CollectionName", "CollectionId", "CollectionType", "CountTargeted", "CountCompliant", "CountNonCompliant",
        "CountFailed", "CompliancePercent",
    ];
    config.picker_key = Some("tenantscope.collections.columns");
    config.search = "Search collection name or ID";
    config.empty = "No collections match this view.";
    config
}

#[component]
pub fn EndpointSecurity() -> impl IntoView {
    view! {
        <section class="page">
            <div class="page-head"><h1>"Endpoint security"</h1></div>
            <div class="two-col">
                <AgentStatus />
            </div>
            <ComplianceChart />
            <div class="panel">
                <h2>"Collections targeted by Endpoint protection policy"</h2>
                <ListPage config=collection_list() />
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_collection_column_is_configured() {
        let cols: Vec<&str> = collection_list().columns.iter().map(|c| c.field).collect();
        assert_eq!(cols, COLLECTIONS.columns);
    }
}
