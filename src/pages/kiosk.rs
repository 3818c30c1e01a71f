//! The kiosk (`/kiosk`): security posture on a wall, full screen, no navigation and no controls.
//! Panels rotate (`panels=kpis,compliance,timeline,threats,agents`, `rotate=` seconds, `scale=`,
//! `theme=`); live changes show at once (the panels' data follows the events stream). When the data
//! is older than the uploads' interval (`stale=` minutes) or the server cannot be reached, a STALE
//! overlay says since when, and clears itself once data flows again; a server that comes back with
//! a new console build makes the kiosk load it.

use crate::contexts::live::use_live;
use crate::contexts::summary::{summary_error, summary_value, use_summary};
use crate::format::datetime;
use leptos::prelude::*;
use tenantscope_model::api::decode_query;

/// The panels, by key: key and title.
pub const PANELS: [(&str, &str); 5] = [
    ("kpis", "Security posture"),
    ("compliance", "Defender compliance per collection"),
    ("timeline", "Threat detections"),
    ("threats", "Top active threats"),
    ("agents", "Antivirus agent status"),
];

/// The kiosk's settings from its address.
#[derive(Clone, Debug, PartialEq)]
pub struct KioskOptions {
    pub panels: Vec<usize>,
    pub rotate_secs: u32,
    /// Zoom on top of fitting the screen, in percent.
    pub scale_percent: u32,
    pub stale_minutes: u32,
}

/// A decimal like "1.5" in hundredths (150), without the float parser (which would weigh on the
/// console's wasm).
fn hundredths(v: &str) -> Option<u32> {
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    let frac: String = frac.chars().chain("00".chars()).take(2).collect();
    Some(whole.parse::<u32>().ok()?.checked_mul(100)? + frac.parse::<u32>().ok()?)
}

impl KioskOptions {
    pub fn from_query(search: &str) -> Self {
        let pairs = decode_query(search.trim_start_matches('?'));
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let panels: Vec<usize> = get("panels")
            .map(|p| p.split(',').filter_map(|k| PANELS.iter().position(|(key, _)| *key == k.trim())).collect())
            .filter(|v: &Vec<usize>| !v.is_empty())
            .unwrap_or_else(|| (0..PANELS.len()).collect());
        KioskOptions {
            panels,
            rotate_secs: get("rotate").and_then(|v| v.parse().ok()).filter(|s| (5..=3600).contains(s)).unwrap_or(20),
            scale_percent: get("scale").and_then(hundredths).filter(|s| (50..=400).contains(s)).unwrap_or(100),
            stale_minutes: get("stale").and_then(|v| v.parse().ok()).filter(|m| (1..=1440).contains(m)).unwrap_or(30),
        }
    }
}

/// What the STALE overlay says, if anything: the server unreachable, or the last upload older than
/// `stale_minutes` (`now_ms`: JavaScript time).
pub fn stale_text(last_upload: Option<&str>, unreachable: bool, stale_minutes: u32, now_ms: f64) -> Option<String> {
    let at = last_upload.and_then(tenantscope_model::time::parse_rfc3339);
    let age_min = at.map(|t| ((now_ms / 1000.0) as i64 - t).max(0) / 60);
    let since = match (last_upload, age_min) {
        (Some(t), Some(m)) => format!("data from {} ({} min old)", datetime(t), m),
        _ => "no data yet".to_string(),
    };
    if unreachable {
        Some(format!("Server unreachable — {since}; retrying"))
    } else if age_min.is_some_and(|m| m >= stale_minutes as i64) {
        Some(format!("No upload for {} min — {since}", age_min.unwrap_or(0)))
    } else {
        None
    }
}

#[component]
pub fn Kiosk() -> impl IntoView {
    let search = window().location().search().unwrap_or_default();
    let options = KioskOptions::from_query(&search);
    let count = options.panels.len();
    let rotate = options.rotate_secs;
    let step = RwSignal::new(0usize);
    let now = RwSignal::new(js_sys::Date::now());
    // One timer: the clock each second, the next panel every `rotate` seconds.
    let ticks = std::cell::Cell::new(0u32);
    if let Ok(timer) = set_interval_with_handle(
        move || {
            now.set(js_sys::Date::now());
            ticks.set(ticks.get() + 1);
            if ticks.get() % rotate == 0 && count > 1 {
                step.update(|s| *s = (*s + 1) % count);
            }
        },
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || timer.clear());
    }
    // Sized for the screen: a 1100 × 660 layout zoomed to fill it (type readable across a room on a
    // 1366 × 768 screen as on a 4K one), and `scale` on top.
    let zoom = {
        let w = window();
        let width = w.inner_width().ok().and_then(|v| v.as_f64()).unwrap_or(1366.0);
        let height = w.inner_height().ok().and_then(|v| v.as_f64()).unwrap_or(768.0);
        // In thousandths, written without float formatting (which would weigh on the wasm).
        let z = ((width / 1100.0).min(height / 660.0).max(0.5) * options.scale_percent as f64 * 10.0) as u32;
        format!("zoom:{}.{:03}", z / 1000, z % 1000)
    };
    let live = use_live();
    let summary = use_summary();
    // Back from unreachable: a new console build is loaded.
    let was_down = StoredValue::new(false);
    crate::api::effect(move || {
        let down = live.is_some_and(|l| l.status.get() == 2) || summary_error().is_some_and(|e| e.retryable());
        if down {
            was_down.set_value(true);
        } else if was_down.get_value() && summary.get().is_some() {
            was_down.set_value(false);
            leptos::task::spawn_local(reload_if_rebuilt());
        }
    });
    let stale_minutes = options.stale_minutes;
    let stale = move || {
        let unreachable = live.is_some_and(|l| l.status.get() == 2) || summary_error().is_some_and(|e| e.retryable());
        stale_text(summary_value().and_then(|s| s.last_upload).as_deref(), unreachable, stale_minutes, now.get())
    };
    let panels = StoredValue::new(options.panels.clone());
    let current = move || panels.with_value(|p| p[step.get() % count]);
    let dots = move || {
        let at = step.get() % count;
        (0..count).map(|i| if i == at { '●' } else { '○' }).collect::<String>()
    };
    // When the screen last got new data (this browser's clock).
    let updated_at = RwSignal::new(None::<f64>);
    crate::api::effect(move || {
        if let Some(Ok(_)) = summary.get() {
            updated_at.set(Some(js_sys::Date::now()));
        }
    });
    let updated = move || format!("Updated {}", updated_at.get().map(clock).unwrap_or_else(|| "—".into()));
    view! {
        <div class="kiosk" data-testid="kiosk" style=zoom>
            <header class="kiosk-bar">
                <span class="kiosk-tenant">{move || summary_value().map(|s| s.tenant.tenant_name).unwrap_or_default()}</span>
                <span class="kiosk-title" data-testid="kiosk-panel">{move || PANELS[current()].1}</span>
                <span class="kiosk-updated" data-testid="kiosk-updated">{updated}</span>
                <span class="kiosk-dots" aria-hidden="true">{dots}</span>
                // Restarted at each panel: the time to the next one.
                {move || { step.track(); view! { <i class="kiosk-next" style=format!("animation-duration:{rotate}s")></i> } }}
            </header>
            <div class="kiosk-panel">
                {move || match PANELS[current()].0 {
                    "kpis" => view! { <crate::pages::overview::Posture /> }.into_any(),
                    "compliance" => view! { <crate::pages::endpoint_security::ComplianceChart /> }.into_any(),
                    "timeline" => view! { <crate::components::threat_timeline::ThreatTimeline /> }.into_any(),
                    "threats" => view! { <crate::pages::overview::TopThreats /> }.into_any(),
                    _ => view! { <crate::pages::endpoint_security::AgentStatus /> }.into_any(),
                }}
            </div>
            {move || stale().map(|text| view! {
                <div class="kiosk-stale" role="alert" data-testid="stale"><strong>"STALE"</strong><span>{text}</span></div>
            })}
        </div>
    }
}

/// "14:03:22": this browser's local time of JavaScript time `ms`.
fn clock(ms: f64) -> String {
    let d = js_sys::Date::new(&ms.into());
    format!("{:02}:{:02}:{:02}", d.get_hours(), d.get_minutes(), d.get_seconds())
}

/// Loads the console again when the server serves another build than the one running (its loader
/// names another wasm file).
async fn reload_if_rebuilt() {
    let Ok(res) = gloo_net::http::Request::get("/kiosk").send().await else { return };
    let Ok(html) = res.text().await else { return };
    let running = document()
        .query_selector("link[rel=modulepreload]")
        .ok()
        .flatten()
        .and_then(|l| l.get_attribute("href"))
        .unwrap_or_default();
    if !running.is_empty() && !html.contains(running.as_str()) {
        let _ = window().location().reload();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_come_from_the_address() {
        let o = KioskOptions::from_query("?panels=threats,kpis,nope&rotate=45&scale=1.5&theme=dark&stale=20");
        assert_eq!(o, KioskOptions { panels: vec![3, 0], rotate_secs: 45, scale_percent: 150, stale_minutes: 20 });
        let d = KioskOptions::from_query("");
        assert_eq!(d, KioskOptions { panels: vec![0, 1, 2, 3, 4], rotate_secs: 20, scale_percent: 100, stale_minutes: 30 });
        assert_eq!((hundredths("2"), hundredths("0.75"), hundredths("1.5"), hundredths("x")), (Some(200), Some(75), Some(150), None));
        assert_eq!(KioskOptions::from_query("rotate=1&scale=99&panels=").rotate_secs, 20);
    }

    #[test]
    fn stale_when_unreachable_or_old() {
        let t = "2026-11-26T10:00:00Z";
        let at = tenantscope_model::time::parse_rfc3339(t).unwrap() as f64 * 1000.0;
        assert_eq!(stale_text(Some(t), false, 30, at + 10.0 * 60_000.0), None);
        let old = stale_text(Some(t), false, 30, at + 45.0 * 60_000.0).unwrap();
        assert!(old.starts_with("No upload for 45 min") && old.contains("45 min old"), "{old}");
        let down = stale_text(Some(t), true, 30, at + 60_000.0).unwrap();
        assert!(down.starts_with("Server unreachable") && down.contains("1 min old"), "{down}");
        assert_eq!(stale_text(None, true, 30, at).unwrap(), "Server unreachable — no data yet; retrying");
    }
}
