//! Overview: the tenant's security posture from `GET /api/v1/summary`, and the top threats.

use crate::api;
use crate::charts::{self, BarRow, Series, Size, Tone};
use crate::components::chart::ChartView;
use crate::components::html::escape;
use crate::components::kpi::kpi_html;
use crate::components::status::loaded;
use crate::contexts::summary::use_summary;
use crate::format::{ago, count, datetime, percent, severity_tone, verdict_tone};
use crate::routes;
use leptos::prelude::*;
use std::sync::Arc;
use tenantscope_model::api::{Page, Summary, ThreatRow};
use tenantscope_model::{HealthVerdict, Severity};

/// The query of the top threats: most devices affected in the last 7 days.
pub const TOP_THREATS: &[(&str, &str)] = &[("range", "7d"), ("sort", "DevicesAffected"), ("order", "desc")];

#[component]
pub fn Overview() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Overview"</h1>
            <Posture />
            <TopThreats />
        </section>
    }
}

/// The posture KPIs of the summary, once loaded (the Overview's and the kiosk's).
#[component]
pub fn Posture() -> impl IntoView {
    loaded(use_summary(), "the summary", |s| view! { <Kpis summary=s /> })
}

fn health_chart(s: &Summary) -> impl IntoView {
    let series: Vec<Series> =
        HealthVerdict::ALL.iter().map(|v| Series { label: v.label().into(), tone: verdict_tone(*v) }).collect();
    let rows = Arc::new(vec![BarRow {
        key: "devices".into(),
        label: "Devices".into(),
        values: HealthVerdict::ALL.iter().map(|v| s.count_of(*v)).collect(),
    }]);
    view! {
        <ChartView
            title="Devices by Defender health".to_string()
            testid="health-chart"
            min_height=90
            draw=Arc::new(move |w, p| charts::stacked_bars("Devices by Defender health", &series, &rows, true, Size { width: w, height: 90 }, p))
            link=Arc::new(|r| {
                let i: usize = r.key.split('|').nth(1)?.parse().ok()?;
                Some(routes::devices(&[("DefenderHealth", HealthVerdict::ALL.get(i)?.key())]))
            })
        />
    }
}

#[component]
fn Kpis(summary: Summary) -> impl IntoView {
    let s = summary;
    let total = s.total_devices;
    let share = |n: u64| if total == 0 { 0.0 } else { n as f64 * 100.0 / total as f64 };
    let now = js_sys::Date::now();
    let as_of = match &s.last_upload {
        Some(t) => format!("Data as of {}{}", datetime(t), ago(t, now).map(|a| format!(" ({a})")).unwrap_or_default()),
        None => "No upload received yet".to_string(),
    };
    // Static lists as HTML (every label is the console's own; numbers are formatted).
    let mut legend = String::new();
    for v in HealthVerdict::ALL {
        let n = s.count_of(v);
        legend.push_str(&format!(
            "<li title=\"{}\"><span class=\"dot {}\" aria-hidden=\"true\"></span><a href=\"{}\">{}</a> <strong>{}</strong> · {}</li>",
            escape(v.rule()),
            verdict_tone(v).css_name(),
            escape(&routes::devices(&[("DefenderHealth", v.key())])),
            v.label(),
            count(n),
            percent(share(n))
        ));
    }
    let mut severities: Vec<_> =
        s.active_threats_by_severity.iter().filter(|c| c.severity != Severity::Unknown0 || c.count > 0).cloned().collect();
    crate::format::sort_desc_by(&mut severities, |c| c.severity.code());
    let mut severity_rows = String::new();
    for c in severities {
        let label = c.severity.label();
        let key = format!("active_threats_{}", label.to_ascii_lowercase().replace(' ', "_"));
        let href = routes::detections(&[("Active", "true"), ("Severity", &c.severity.code().to_string())]);
        severity_rows.push_str(&format!(
            "<li class=\"sev {}\"><a href=\"{}\" class=\"sev-link\"><span class=\"sev-label\">{}</span><span class=\"sev-count\" data-kpi=\"{}\">{}</span></a></li>",
            severity_tone(c.severity).css_name(),
            escape(&href),
            escape(&label),
            escape(&key),
            count(c.count)
        ));
    }
    let mut tiles = String::new();
    kpi_html(&mut tiles, "total_devices", "Devices", &count(total), "Managed by the attached site", None, Some(&routes::devices(&[])), "");
    kpi_html(&mut tiles, "healthy_percent", "Defender healthy", &percent(s.healthy_percent()),
        &format!("{} of {} devices", count(s.healthy), count(total)), Some(Tone::Good), Some(&routes::devices(&[("DefenderHealth", "healthy")])), "");
    for (kpi, v, label, note) in [
        ("at_risk", HealthVerdict::AtRisk, "Devices at risk", "Protected, but needs attention"),
        ("unhealthy", HealthVerdict::Unhealthy, "Unhealthy", "Protection off or broken"),
        ("not_reporting", HealthVerdict::NotReporting, "Not reporting", "No Defender health uploaded"),
    ] {
        kpi_html(&mut tiles, kpi, label, &count(s.count_of(v)), note, Some(verdict_tone(v)), Some(&routes::devices(&[("DefenderHealth", v.key())])), v.rule());
    }
    let mut attention = String::new();
    for (kpi, label, n, note, filter) in [
        ("signatures_out_of_date", "Signatures out of date", s.signatures_out_of_date, "Older than 7 days", "SignatureOutOfDate"),
        ("scans_overdue", "Scans overdue", s.scans_overdue, "Quick or full scan", "ScanOverdue"),
        ("reboot_required", "Reboot required", s.reboot_required, "Pending restart", "RebootRequired"),
    ] {
        kpi_html(&mut attention, kpi, label, &count(n), note, Some(Tone::Warn), Some(&routes::devices(&[(filter, "true")])), "");
    }
    view! {
        <p class="as-of" data-testid="as-of">{as_of}</p>
        <div class="kpi-grid" inner_html=tiles></div>
        <div class="panel">
            <h2>"Defender health"</h2>
            {health_chart(&s)}
            <ul class="legend" inner_html=legend></ul>
        </div>
        <div class="two-col">
            <div class="panel">
                <h2>"Active threats"</h2>
                <div class="threat-total">
                    <a href=routes::detections(&[("Active", "true")]) class="big-link">
                        <span class="big" data-kpi="active_threats">{count(s.active_threats)}</span>
                    </a>
                    <span class="muted">
                        " on " <a href=routes::devices(&[("HasActiveThreats", "true")])>
                            <span data-kpi="devices_with_active_threats">{count(s.devices_with_active_threats)}</span> " devices"
                        </a>
                    </span>
                </div>
                <ul class="severity-list" inner_html=severity_rows></ul>
            </div>
            <div class="panel">
                <h2>"Needs attention"</h2>
                <div class="kpi-grid compact" inner_html=attention></div>
            </div>
        </div>
    }
}

/// Bars of the top threats: devices where it is still active, and where it no longer is.
pub fn top_threat_rows(threats: &[ThreatRow]) -> Vec<BarRow> {
    threats
        .iter()
        .map(|t| BarRow {
            key: t.threat_id.to_string(),
            label: t.threat_name.clone(),
            values: vec![t.devices_active, t.devices_affected.saturating_sub(t.devices_active)],
        })
        .collect()
}

#[component]
pub fn TopThreats() -> impl IntoView {
    let data = api::resource(|| {
        let mut pairs: Vec<(&str, &str)> = TOP_THREATS.to_vec();
        pairs.push(("page_size", "5"));
        Ok(routes::threats(&pairs))
    });
    view! {
        <div class="panel">
            <div class="panel-head">
                <h2>"Top threats, last 7 days"</h2>
                <a href=routes::threats(TOP_THREATS)>"All threats of the last 7 days"</a>
            </div>
            {loaded(data, "top threats", |page: Page<ThreatRow>| {
                        if page.items.is_empty() {
                            return view! {
                                <p class="empty-note">"No threats detected in the last 7 days."</p>
                            }.into_any();
                        }
                        {
                            let rows = Arc::new(top_threat_rows(&page.items));
                            let height = 60 + 30 * rows.len() as u32;
                            let series = vec![
                                Series { label: "Still active".into(), tone: Tone::Bad },
                                Series { label: "No longer active".into(), tone: Tone::Idle },
                            ];
                            view! {
                                <p class="muted small">"Devices affected per threat in the last 7 days; select a bar for those detections."</p>
                                <ChartView
                                    title="Top threats by devices affected, last 7 days".to_string()
                                    testid="top-threats"
                                    min_height=height
                                    draw=Arc::new(move |w, p| charts::stacked_bars("Top threats", &series, &rows, false, Size { width: w, height }, p))
                                    link=Arc::new(|r| {
                                        // The detections counted: this threat's devices in the last 7 days.
                                        let id = r.key.split('|').next()?;
                                        Some(routes::detections(&[("ThreatID", id), ("range", "7d")]))
                                    })
                                />
                            }.into_any()
                        }
                    })}
        </div>
    }
}
