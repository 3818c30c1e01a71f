//! Connector (`/connector`): the service connection point as it reports itself, how fresh its last
//! upload is, and its status events and exceptions over time by severity.

use crate::api;
use crate::charts::{self, Size, Tone};
use crate::components::chart::ChartView;
use crate::components::html::{escape, fields_html, panel_html};
use crate::components::list_page::{text, Cell};
use crate::components::status::{ErrorMessage, Loading};
use crate::components::threat_timeline::draw_coded;
use crate::format::{ago, count, datetime, telemetry_tone};
use leptos::prelude::*;
use std::sync::Arc;
use tenantscope_model::api::{Connector as ConnectorData, Timeline};
use tenantscope_model::{time, TelemetryEvent, TelemetrySeverity};

/// Minutes after which an upload counts as late (the site uploads every 15 minutes).
pub const LATE_MINUTES: i64 = 30;

/// How fresh the last upload is: (tone, words).
pub fn freshness(last: Option<&str>, now_secs: i64) -> (Tone, String) {
    match last.and_then(time::parse_rfc3339) {
        None => (Tone::Bad, "No upload received yet".into()),
        Some(t) => {
            let minutes = (now_secs - t) / 60;
            if minutes <= LATE_MINUTES {
                (Tone::Good, format!("On time: uploads every 15 minutes, last {}", time::relative(t, now_secs)))
            } else {
                (Tone::Bad, format!("Late: no upload for {}", time::relative(t, now_secs).trim_end_matches(" ago")))
            }
        }
    }
}

pub fn draw_timeline(t: &Timeline, width: u32, palette: &charts::Palette) -> charts::Chart {
    draw_coded(
        t,
        |code| telemetry_tone(TelemetrySeverity::from_code(code)),
        "Telemetry by severity",
        "items",
        Size { width, height: 220 },
        palette,
    )
}

/// One telemetry item as HTML: exceptions and errors unfold into their message.
fn event_html(event: &TelemetryEvent, out: &mut String) {
    let tone = telemetry_tone(event.severity_level);
    let exception = event.kind == "TrackException" || event.severity_level.code() >= 3;
    let head = format!(
        "<span class=\"badge {}\">{}</span> <span class=\"mono small\">{}</span> <strong>{}</strong> <span class=\"muted small\">{}</span>",
        tone.css_name(),
        escape(&event.severity_level.label()),
        escape(&datetime(&event.time)),
        escape(&event.name),
        escape(&event.kind)
    );
    if exception {
        out.push_str(&format!(
            "<li class=\"event exception\"><details><summary>{head}</summary><pre class=\"message\">{}</pre></details></li>",
            escape(&event.message)
        ));
    } else {
        out.push_str(&format!("<li class=\"event\">{head} <span class=\"muted\">{}</span></li>", escape(&event.message)));
    }
}

#[component]
pub fn Connector() -> impl IntoView {
    let data = api::resource(|| Ok("/connector?events=200".into()));
    let timeline = api::resource(|| Ok("/connector/timeline?range=7d".into()));
    view! {
        <section class="page">
            <div class="page-head"><h1>"Connector"</h1></div>
            {move || match data.get().map(|r| r.and_then(|b| b.decode::<ConnectorData>())) {
                    None => view! { <Loading what="the service connection point" /> }.into_any(),
                        Some(Ok(c)) => view! { <div class="html-block" inner_html=facts_html(&c, (js_sys::Date::now() / 1000.0) as i64)></div> }.into_any(),
                        Some(Err(e)) => view! { <ErrorMessage title="Could not load the connector" retryable=e.retryable() message=e.to_string() retry=move || data.refetch() /> }.into_any(),
                }}
            <div class="panel">
                <h2>"Status events and exceptions, last 7 days"</h2>
                {move || match timeline.get().map(|r| r.and_then(|b| b.decode::<Timeline>())) {
                        None => view! { <Loading what="the timeline" /> }.into_any(),
                            Some(Ok(t)) => {
                                let t = Arc::new(t);
                                view! {
                                    <ChartView title="Service connection point telemetry by severity".to_string() testid="connector-timeline"
                                        draw=Arc::new(move |w, p| draw_timeline(&t, w, p)) link=Arc::new(|_| None) />
                                }.into_any()
                            }
                            Some(Err(e)) => view! { <p class="error-text" role="alert">{format!("The timeline could not be loaded: {e}")}</p> }.into_any(),
                    }}
            </div>
            {move || data.get().and_then(|r| r.ok()).and_then(|b| b.decode::<ConnectorData>().ok()).map(|c| view! { <div class="html-block" inner_html=events_html(&c.events)></div> })}
        </section>
    }
}

/// The connector's freshness, facts and last-24-hours numbers, as HTML (static once drawn).
fn facts_html(data: &ConnectorData, now: i64) -> String {
    let f = &data.facts;
    let (tone, words) = freshness(f.last_upload_time.as_deref(), now);
    let last = f.last_upload_time.clone().unwrap_or_default();
    let when = if last.is_empty() {
        String::new()
    } else {
        format!(
            "<span class=\"muted\"> · {} ({})</span>",
            escape(&datetime(&last)),
            escape(&ago(&last, now as f64 * 1000.0).unwrap_or_default())
        )
    };
    let facts = vec![
        ("OS version", text(f.os_version.clone())),
        ("Site version", Cell::Copy(f.site_version.clone())),
        ("Hierarchy ID", Cell::Copy(f.site_support_id.clone())),
        ("Language", text(f.language.clone())),
        ("Tenant ID", Cell::Copy(f.azure_tenant_id.clone())),
        ("Client (app) ID", Cell::Copy(f.aad_client_id.clone())),
    ];
    format!(
        "<div class=\"panel freshness {}\" data-testid=\"freshness\"><strong>{}</strong>{when}</div>\
         <div class=\"two-col\">{}{}</div>",
        tone.css_name(),
        escape(&words),
        panel_html("", "", "Service connection point", &format!("<dl class=\"fields\" data-testid=\"connector-facts\">{}</dl>", fields_html(&facts, now as f64 * 1000.0))),
        panel_html(
            "",
            "",
            "Last 24 hours",
            &format!(
                "<dl class=\"fields\"><dt>Exceptions</dt><dd data-kpi=\"exceptions_last_24h\">{}</dd>\
                 <dt>Errors and critical events</dt><dd data-kpi=\"errors_last_24h\">{}</dd></dl>",
                count(data.exceptions_last_24h),
                count(data.errors_last_24h)
            )
        )
    )
}

/// The newest telemetry items, as HTML.
fn events_html(events: &[TelemetryEvent]) -> String {
    let exceptions = events.iter().filter(|e| e.kind == "TrackException").count();
    let mut list = String::from("<ul class=\"events\" data-testid=\"events\">");
    for e in events {
        event_html(e, &mut list);
    }
    list.push_str("</ul>");
    panel_html("", "", &format!("Newest telemetry ({} items, {} exceptions)", events.len(), exceptions), &list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_in_words() {
        let now = time::parse_rfc3339("2026-11-24T16:00:00Z").unwrap();
        assert_eq!(freshness(Some("2026-11-24T15:50:00Z"), now).0, Tone::Good);
        let (tone, words) = freshness(Some("2026-11-24T14:00:00Z"), now);
        assert_eq!(tone, Tone::Bad);
        assert!(words.starts_with("Late"), "{words}");
        assert_eq!(freshness(None, now).0, Tone::Bad);
    }
}
