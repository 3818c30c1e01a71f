//! Overview: the tenant's security posture from `GET /api/v1/summary`.

use crate::format::{ago, count, datetime, percent, severity_tone, verdict_tone};
use crate::widgets::{ErrorPanel, Loading};
use crate::SummaryResource;
use leptos::prelude::*;
use tenantscope_model::api::Summary;
use tenantscope_model::{HealthVerdict, Severity};

#[component]
pub fn Overview() -> impl IntoView {
    let summary = expect_context::<SummaryResource>().0;
    view! {
        <section class="page">
            <h1>"Overview"</h1>
            <Transition fallback=|| view! { <Loading /> }>
                <ErrorBoundary fallback=move |errors| view! {
                    <ErrorPanel errors=errors retry=move || summary.refetch() />
                }>
                    {move || Suspend::new(async move {
                        summary.await.map(|s| view! { <Kpis summary=s /> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// One key figure. `kpi` names it for tests and styling; `href` opens the list it counts.
#[component]
pub fn Kpi(
    kpi: &'static str,
    label: &'static str,
    value: String,
    #[prop(optional, into)] note: Option<String>,
    #[prop(optional)] tone: &'static str,
    #[prop(optional)] href: Option<String>,
    #[prop(optional)] title: &'static str,
) -> impl IntoView {
    let body = view! {
        <div class="kpi-label">{label}</div>
        <div class="kpi-value" data-kpi=kpi>{value}</div>
        {note.map(|n| view! { <div class="kpi-note">{n}</div> })}
    };
    let class = format!("kpi {tone}");
    match href {
        Some(href) => view! { <a class=class href=href title=title>{body}</a> }.into_any(),
        None => view! { <div class=class title=title>{body}</div> }.into_any(),
    }
}

#[component]
fn Kpis(summary: Summary) -> impl IntoView {
    let s = summary;
    let total = s.total_devices;
    let share = |n: u64| if total == 0 { 0.0 } else { n as f64 * 100.0 / total as f64 };
    let now = js_sys::Date::now();
    let as_of = match &s.last_upload {
        Some(t) => format!(
            "Data as of {}{}",
            datetime(t),
            ago(t, now).map(|a| format!(" ({a})")).unwrap_or_default()
        ),
        None => "No upload received yet".to_string(),
    };
    let bar = HealthVerdict::ALL
        .iter()
        .filter(|v| s.count_of(**v) > 0)
        .map(|v| {
            let n = s.count_of(*v);
            let style = format!("width: {:.3}%", share(n));
            let title = format!("{}: {} ({})", v.label(), count(n), percent(share(n)));
            view! { <span class=format!("seg {}", verdict_tone(*v)) style=style title=title></span> }
        })
        .collect_view();
    let legend = HealthVerdict::ALL
        .iter()
        .map(|v| {
            let n = s.count_of(*v);
            view! {
                <li title=v.rule()>
                    <span class=format!("dot {}", verdict_tone(*v)) aria-hidden="true"></span>
                    {v.label()} " " <strong>{count(n)}</strong> " · " {percent(share(n))}
                </li>
            }
        })
        .collect_view();
    let mut severities: Vec<_> = s
        .active_threats_by_severity
        .iter()
        .filter(|c| c.severity != Severity::Unknown0 || c.count > 0)
        .cloned()
        .collect();
    severities.sort_by_key(|c| std::cmp::Reverse(c.severity.code()));
    let severity_rows = severities
        .into_iter()
        .map(|c| {
            let key = format!("active_threats_{}", c.severity.label().to_lowercase().replace(' ', "_"));
            view! {
                <li class=format!("sev {}", severity_tone(c.severity))>
                    <span class="sev-label">{c.severity.label().to_string()}</span>
                    <span class="sev-count" data-kpi=key>{count(c.count)}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <p class="as-of" data-testid="as-of">{as_of}</p>
        <div class="kpi-grid">
            <Kpi kpi="total_devices" label="Devices" value=count(total) note="Managed by the attached site" href="/devices".to_string() />
            <Kpi kpi="healthy_percent" label="Defender healthy" value=percent(s.healthy_percent())
                note=format!("{} of {} devices", count(s.healthy), count(total)) tone="good"
                href="/devices?DefenderHealth=healthy".to_string() />
            <Kpi kpi="at_risk" label="Devices at risk" value=count(s.at_risk) note="Protected, but needs attention" tone="warn" title=HealthVerdict::AtRisk.rule()
                href="/devices?DefenderHealth=at_risk".to_string() />
            <Kpi kpi="unhealthy" label="Unhealthy" value=count(s.unhealthy) note="Protection off or broken" tone="bad" title=HealthVerdict::Unhealthy.rule()
                href="/devices?DefenderHealth=unhealthy".to_string() />
            <Kpi kpi="not_reporting" label="Not reporting" value=count(s.not_reporting) note="No Defender health uploaded" tone="idle" title=HealthVerdict::NotReporting.rule()
                href="/devices?DefenderHealth=not_reporting".to_string() />
        </div>
        <div class="panel">
            <h2>"Defender health"</h2>
            <div class="stacked-bar" role="img" aria-label="Devices by Defender health verdict">{bar}</div>
            <ul class="legend">{legend}</ul>
        </div>
        <div class="two-col">
            <div class="panel">
                <h2>"Active threats"</h2>
                <div class="threat-total">
                    <span class="big" data-kpi="active_threats">{count(s.active_threats)}</span>
                    <span class="muted">
                        " on " <span data-kpi="devices_with_active_threats">{count(s.devices_with_active_threats)}</span> " devices"
                    </span>
                </div>
                <ul class="severity-list">{severity_rows}</ul>
            </div>
            <div class="panel">
                <h2>"Needs attention"</h2>
                <div class="kpi-grid compact">
                    <Kpi kpi="signatures_out_of_date" label="Signatures out of date" value=count(s.signatures_out_of_date)
                        note="Older than 7 days" tone="warn" />
                    <Kpi kpi="scans_overdue" label="Scans overdue" value=count(s.scans_overdue) note="Quick or full scan" tone="warn" />
                    <Kpi kpi="reboot_required" label="Reboot required" value=count(s.reboot_required) tone="warn" />
                </div>
            </div>
        </div>
    }
}
