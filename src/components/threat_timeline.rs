//! Detections over time, stacked by severity, for a range chosen in the URL (`range=24h|7d|30d|90d`);
//! a bucket opens the detections of its time window. Used by Threats, Detections and a threat's page.

use super::chart::ChartView;
use super::status::loaded;
use crate::api;
use crate::charts::{self, Series, Size, TimeBucket};
use crate::format::{count, datetime, severity_tone};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use std::sync::Arc;
use tenantscope_model::api::{decode_query, encode_pairs, FilterKind, TimeRange, Timeline, DETECTIONS};
use tenantscope_model::{time, Severity};

/// The range in the URL, or the default.
pub fn url_range(search: &str, default: TimeRange) -> TimeRange {
    decode_query(search).into_iter().rev().find(|(k, _)| k == "range").and_then(|(_, v)| TimeRange::from_key(&v)).unwrap_or(default)
}

/// The detection filters in a URL query, the time window aside (the timeline has its own).
pub fn url_filters(search: &str) -> Vec<(String, String)> {
    decode_query(search)
        .into_iter()
        .filter(|(k, _)| {
            DETECTIONS.filter(k).is_some_and(|f| !matches!(f.kind, FilterKind::From | FilterKind::To | FilterKind::Range))
        })
        .collect()
}

/// Axis label of a bucket: "11-24" for days, "14:00" for hours (UTC).
pub fn bucket_label(start: &str, hourly: bool) -> String {
    let s = time::parse_rfc3339(start).map(time::format_rfc3339).unwrap_or_default();
    if s.len() < 16 {
        return start.to_string();
    }
    if hourly {
        if &s[11..13] == "00" {
            format!("{} 00:00", &s[5..10])
        } else {
            s[11..16].to_string()
        }
    } else {
        s[5..10].to_string()
    }
}

/// Draws a timeline whose series are codes (severities, severity levels): the highest code at the
/// bottom of the stack and first in the legend, each coloured by `tone`.
pub fn draw_coded(
    t: &Timeline,
    tone: fn(i64) -> charts::Tone,
    title: &str,
    y_label: &str,
    size: Size,
    palette: &charts::Palette,
) -> charts::Chart {
    let hourly = t.bucket == "hour";
    let mut order: Vec<usize> = (0..t.series.len()).collect();
    crate::format::sort_desc_by(&mut order, |i| t.series[*i].code);
    let series: Vec<Series> =
        order.iter().map(|i| Series { label: t.series[*i].label.clone(), tone: tone(t.series[*i].code) }).collect();
    let buckets: Vec<TimeBucket> = t
        .buckets
        .iter()
        .map(|b| TimeBucket {
            key: b.start.clone(),
            label: bucket_label(&b.start, hourly),
            values: order.iter().map(|i| b.counts.get(*i).copied().unwrap_or(0)).collect(),
        })
        .collect();
    charts::timeline(title, &series, &buckets, y_label, size, palette)
}

/// Draws the detections timeline, stacked by severity.
pub fn draw(t: &Timeline, width: u32, height: u32, palette: &charts::Palette) -> charts::Chart {
    draw_coded(
        t,
        |code| severity_tone(Severity::from_code(code)),
        "Detections over time by severity",
        "detections",
        Size { width, height },
        palette,
    )
}

/// The URL with `range` set (and paging reset).
fn with_range(pathname: &str, search: &str, range: TimeRange) -> String {
    let mut pairs: Vec<(String, String)> =
        decode_query(search).into_iter().filter(|(k, _)| k != "range" && k != "page" && k != "from" && k != "to").collect();
    pairs.push(("range".into(), range.key().into()));
    format!("{pathname}?{}", encode_pairs(&pairs))
}

#[component]
pub fn ThreatTimeline(
    /// Only this threat's detections.
    #[prop(optional)]
    threat: Option<i64>,
    #[prop(default = TimeRange::Month)]
    default: TimeRange,
) -> impl IntoView {
    let location = use_location();
    let search = location.search;
    let pathname = location.pathname;
    let range = Memo::new(move |_| url_range(&search.get(), default));
    // The list's own filters (its time window aside) select what the timeline counts, so that a bar
    // opens exactly its number of detections.
    let filters = Memo::new(move |_| {
        let mut f = url_filters(&search.get());
        if let Some(t) = threat {
            f.retain(|(k, _)| k != "ThreatID");
            f.push(("ThreatID".into(), t.to_string()));
        }
        f
    });
    let timeline = api::resource(move || {
        let mut pairs = filters.get();
        pairs.insert(0, ("range".into(), range.get().key().into()));
        Ok(format!("/threats/timeline?{}", encode_pairs(&pairs)))
    });
    let navigate = use_navigate();
    let buttons = TimeRange::ALL
        .iter()
        .map(|r| {
            let r = *r;
            let navigate = navigate.clone();
            view! {
                <button class="seg-button" aria-pressed=move || (range.get() == r).to_string() data-range=r.key()
                    on:click=move |_| navigate(&with_range(&pathname.get_untracked(), &search.get_untracked(), r), Default::default())>
                    {r.label()}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="panel">
            <div class="panel-head">
                <h2>"Detections over time"</h2>
                <div class="segmented" role="group" aria-label="Time range">{buttons}</div>
            </div>
            {loaded(timeline, "the timeline", move |t: Timeline| {
                        {
                            let total: u64 = t.buckets.iter().map(|b| b.total()).sum();
                            let t = Arc::new(t);
                            let for_draw = Arc::clone(&t);
                            let r = range.get_untracked();
                            let note = format!(
                                "{} detections in the last {} up to the last upload, by first detection time ({} buckets; the last one ends {}). Select a bar for its detections.",
                                count(total), r.label(), if t.bucket == "hour" { "hourly" } else { "daily" }, datetime(&t.to)
                            );
                            view! {
                                <p class="muted small">{note}</p>
                                <ChartView
                                    title="Detections over time by severity".to_string()
                                    testid="threat-timeline"
                                    draw=Arc::new(move |w, p| draw(&for_draw, w, 240, p))
                                    link=Arc::new(move |region| {
                                        let start = time::parse_rfc3339(&region.key)?;
                                        let width = if t.bucket == "hour" { 3_600 } else { 86_400 };
                                        let end = time::format_rfc3339(start + width);
                                        let total: u64 = region.values.iter().map(|(_, v)| v).sum();
                                        if total == 0 {
                                            return None;
                                        }
                                        let mut pairs = filters.get_untracked();
                                        pairs.push(("from".into(), region.key.clone()));
                                        pairs.push(("to".into(), end));
                                        Some(format!("/detections?{}", encode_pairs(&pairs)))
                                    })
                                />
                            }
                        }
                    })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_labels() {
        assert_eq!(bucket_label("2026-11-24T14:00:00Z", true), "14:00");
        assert_eq!(bucket_label("2026-11-24T00:00:00Z", true), "11-24 00:00");
        assert_eq!(bucket_label("2026-11-24T00:00:00Z", false), "11-24");
    }

    #[test]
    fn range_in_the_url() {
        assert_eq!(url_range("?q=x&range=7d", TimeRange::Month), TimeRange::Week);
        assert_eq!(url_range("?range=1y", TimeRange::Month), TimeRange::Month);
        assert_eq!(with_range("/threats", "?page=3&q=x&range=7d", TimeRange::Day), "/threats?q=x&range=24h");
        let f = url_filters("?q=x&Severity=5&from=2026-11-20T00:00:00Z&range=7d&page=2&ThreatID=7");
        assert_eq!(f, vec![("Severity".to_string(), "5".to_string()), ("ThreatID".into(), "7".into())]);
    }
}
