//! Number and time formatting for people. Pure functions, unit-tested natively.

use crate::charts::Tone;
use tenantscope_model::time;

/// 1234567 → "1,234,567" (the charts' own formatting, so numbers read the same everywhere).
pub fn count(n: u64) -> String {
    crate::charts::thousands(n)
}

/// 67.3519 → "67.4%"; values that round to 100 but are not 100 stay below it ("99.9%").
pub fn percent(p: f64) -> String {
    if !p.is_finite() {
        return "–".into();
    }
    let mut tenths = (p * 10.0).round() / 10.0;
    if tenths >= 100.0 && p < 100.0 {
        tenths = 99.9;
    }
    if tenths <= 0.0 && p > 0.0 {
        tenths = 0.1;
    }
    // Integer tenths: no float formatting code in the bundle for it.
    let t = (tenths * 10.0).round() as i64;
    format!("{}.{}%", t / 10, t % 10)
}

thread_local! {
    /// Show times in the viewer's local time zone instead of UTC (the header's setting).
    static LOCAL_TIME: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sets how `datetime` shows times (the setting lives in `contexts::settings`).
pub fn set_local_time(local: bool) {
    LOCAL_TIME.with(|l| l.set(local));
}

pub fn local_time() -> bool {
    LOCAL_TIME.with(|l| l.get())
}

/// "2026-11-24T16:03:00Z" → "2026-11-24 16:03 UTC", or in local time when that is the setting
/// ("2026-11-24 17:03 UTC+1"); text that is not a time is shown as it is.
pub fn datetime(rfc3339: &str) -> String {
    let offset = if local_time() { time::parse_rfc3339(rfc3339).map(local_offset_minutes) } else { None };
    datetime_at(rfc3339, offset.unwrap_or(0))
}

/// The viewer's UTC offset at that moment, in minutes east of UTC (0 outside a browser).
fn local_offset_minutes(secs: i64) -> i32 {
    #[cfg(target_arch = "wasm32")]
    {
        -(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0)).get_timezone_offset() as i32)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = secs;
        0
    }
}

/// A time shifted by `offset` minutes east of UTC and labelled with it ("UTC", "UTC+1", "UTC-5:30").
pub fn datetime_at(rfc3339: &str, offset: i32) -> String {
    match time::parse_rfc3339(rfc3339) {
        Some(secs) => {
            let s = time::format_rfc3339(secs + offset as i64 * 60);
            let zone = match (offset / 60, (offset % 60).abs()) {
                (0, 0) => "UTC".to_string(),
                (h, 0) => format!("UTC{}{}", if offset < 0 { "-" } else { "+" }, h.abs()),
                (h, m) => format!("UTC{}{}:{m:02}", if offset < 0 { "-" } else { "+" }, h.abs()),
            };
            format!("{} {} {zone}", &s[..10], &s[11..16])
        }
        None => rfc3339.to_string(),
    }
}

/// "5 minutes ago" for an RFC 3339 time seen at `now_ms` (JavaScript milliseconds).
pub fn ago(rfc3339: &str, now_ms: f64) -> Option<String> {
    time::parse_rfc3339(rfc3339).map(|t| time::relative(t, (now_ms / 1000.0) as i64))
}

/// The URL if it is a plain http(s) link (data is untrusted: no `javascript:`, no odd characters).
pub fn http_url(url: &str) -> Option<String> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let ok_scheme = lower.starts_with("https://") || lower.starts_with("http://");
    let clean = !url.chars().any(|c| c.is_control() || c.is_whitespace() || c == '"' || c == '<' || c == '>');
    (ok_scheme && clean && url.len() > 8).then(|| url.to_string())
}

/// "English (United States)", "Neutral", or "LCID 9999" (the LCID itself is a detail: `language_code`).
pub fn language(lcid: u32) -> String {
    match tenantscope_model::language_name(lcid) {
        Some(name) => name.to_string(),
        None => format!("LCID {lcid}"),
    }
}

/// Colour of a health verdict (its CSS class is `tone.css_name()`).
pub fn verdict_tone(v: tenantscope_model::HealthVerdict) -> Tone {
    use tenantscope_model::HealthVerdict::*;
    match v {
        Healthy => Tone::Good,
        AtRisk => Tone::Warn,
        Unhealthy => Tone::Bad,
        NotReporting => Tone::Idle,
    }
}

/// Colour of a threat severity (Defender's order: severe, high, moderate, low, unknown).
pub fn severity_tone(s: tenantscope_model::Severity) -> Tone {
    use tenantscope_model::Severity::*;
    match s {
        Severe => Tone::Severe,
        High => Tone::High,
        Moderate => Tone::Moderate,
        Low => Tone::Low,
        _ => Tone::Unknown,
    }
}

/// Colour of an antivirus agent state.
pub fn agent_tone(s: tenantscope_model::AgentState) -> Tone {
    use tenantscope_model::AgentState::*;
    match s {
        Healthy => Tone::Good,
        NotReporting => Tone::Idle,
        RtpOff => Tone::Severe,
        SignaturesOutOfDate => Tone::Bad,
        FullScanRequired => Tone::Moderate,
        RebootRequired => Tone::Warn,
        QuickScanOverdue => Tone::Low,
        FullScanOverdue => Tone::Accent,
        TamperProtectionOff => Tone::High,
        NotOnboarded => Tone::Muted,
    }
}

/// Colour of a service connection point telemetry severity level.
pub fn telemetry_tone(s: tenantscope_model::TelemetrySeverity) -> Tone {
    match s.code() {
        0 => Tone::Idle,
        1 => Tone::Info,
        2 => Tone::Warn,
        3 => Tone::High,
        _ => Tone::Severe,
    }
}

/// A threat state: still needing action is a problem, anything else is done.
pub fn threat_state_tone(s: tenantscope_model::ThreatState) -> Tone {
    if s.is_active() {
        Tone::Bad
    } else {
        Tone::Good
    }
}

/// "87.5 %" of a compliance share, "–" when nothing is targeted.
pub fn share(p: Option<f64>) -> String {
    p.map(percent).unwrap_or_else(|| "–".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_links() {
        assert!(http_url("https://go.microsoft.com/fwlink/?linkid=37020&name=x").is_some());
        assert!(http_url("HTTP://example.com/a").is_some());
        assert_eq!(http_url("javascript:alert(1)"), None);
        assert_eq!(http_url(" https://x.example"), None);
        assert_eq!(http_url("https://x.example/\"onmouseover=alert(1)"), None);
        assert_eq!(http_url("data:text/html,hi"), None);
        assert_eq!(http_url("https://"), None);
    }

    #[test]
    fn languages() {
        assert_eq!(language(1033), "English (United States)");
        assert_eq!(language(0), "Neutral");
        assert_eq!(language(9999), "LCID 9999");
    }

    #[test]
    fn counts() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(25_000), "25,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn percents() {
        assert_eq!(percent(67.3519), "67.4%");
        assert_eq!(percent(100.0), "100.0%");
        assert_eq!(percent(99.97), "99.9%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(0.01), "0.1%");
        assert_eq!(percent(f64::NAN), "–");
    }

    #[test]
    fn times() {
        assert_eq!(datetime("2026-11-24T16:03:00Z"), "2026-11-24 16:03 UTC");
        assert_eq!(datetime("<script>"), "<script>");
        assert_eq!(datetime_at("2026-11-24T16:03:00Z", 60), "2026-11-24 17:03 UTC+1");
        assert_eq!(datetime_at("2026-11-24T23:30:00Z", 330), "2026-11-25 05:00 UTC+5:30");
        assert_eq!(datetime_at("2026-11-24T16:03:00Z", -300), "2026-11-24 11:03 UTC-5");
        let now = time::parse_rfc3339("2026-11-24T16:08:00Z").unwrap() as f64 * 1000.0;
        assert_eq!(ago("2026-11-24T16:03:00Z", now).as_deref(), Some("5 minutes ago"));
        assert_eq!(ago("nope", now), None);
    }
}

/// Orders a short list by a key, largest first, keeping equal keys in their order. A plain insertion
/// sort: the lists are a handful of series or severities, and the standard sorts cost ~3 KB of wasm
/// per element type.
pub fn sort_desc_by<T>(items: &mut [T], key: impl Fn(&T) -> i64) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && key(&items[j - 1]) < key(&items[j]) {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod sort_tests {
    #[test]
    fn sorts_descending_and_stable() {
        let mut v = vec![(1, 'a'), (3, 'b'), (2, 'c'), (3, 'd'), (1, 'e')];
        super::sort_desc_by(&mut v, |x| x.0);
        assert_eq!(v, vec![(3, 'b'), (3, 'd'), (2, 'c'), (1, 'a'), (1, 'e')]);
    }
}
