//! Live changes: one `EventSource` on `/api/v1/events` for the whole app. Each change notice bumps
//! the counter of what changed; every API resource reads the counters its path depends on
//! (`track`), so the open page refetches exactly the data a change touches, keeping what it shows
//! until the new answer is there. The header shows "Live" with the time of the last change, or
//! "Reconnecting…".

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{EventSource, MessageEvent};

/// Seconds after the page loads that the stream opens.
pub const OPEN_AFTER_SECS: u64 = 10;

/// What a change can touch: devices and their health, threats, collections, applications, the
/// connector's telemetry.
const GROUPS: usize = 5;

#[derive(Clone, Copy)]
pub struct Live {
    versions: [RwSignal<u32>; GROUPS],
    /// 0 connecting, 1 live, 2 reconnecting.
    pub status: RwSignal<u32>,
    /// When the last change was committed (RFC 3339), once one arrived.
    pub last: RwSignal<Option<String>>,
}

thread_local! {
    /// The app's one stream state (set by `provide_live`).
    static LIVE: std::cell::Cell<Option<Live>> = const { std::cell::Cell::new(None) };
    /// The stream open now.
    static SOURCE: std::cell::RefCell<Option<EventSource>> = const { std::cell::RefCell::new(None) };
}

/// The app's live state, once `provide_live` ran.
pub fn use_live() -> Option<Live> {
    LIVE.with(|l| l.get())
}

/// The group a notice's `entity` touches.
pub fn group_of(entity: &str) -> usize {
    match entity {
        "threats" => 1,
        "collections" => 2,
        "applications" => 3,
        "telemetry" => 4,
        _ => 0, // devices, defender, delete
    }
}

/// The groups an API path reads from (a bit per group).
pub fn groups_of(path: &str) -> u8 {
    let starts = |p: &str| path.starts_with(p);
    if starts("/connector") {
        1 << 4
    } else if starts("/products") || starts("/applications") {
        1 << 3
    } else if starts("/collections") {
        1 << 2 | 1
    } else {
        // Summary, devices, antivirus, threats and detections: devices and threats.
        0b11
    }
}

/// Subscribes the running reactive closure to the changes `path` depends on.
pub fn track(path: &str) {
    if let Some(live) = use_live() {
        let mask = groups_of(path);
        for (i, v) in live.versions.iter().enumerate() {
            if mask & (1 << i) != 0 {
                v.track();
            }
        }
    }
}

fn bump(live: Live, mask: u8) {
    for (i, v) in live.versions.iter().enumerate() {
        if mask & (1 << i) != 0 {
            v.update(|n| *n += 1);
        }
    }
}

/// Opens the stream and keeps it open: the browser reconnects by itself (sending Last-Event-ID, so
/// the server replays what was missed); when it gives up (the server answered an error, e.g. while
/// it restarts), a new stream is opened after a growing pause and everything is refetched.
pub fn provide_live() {
    let live = Live { versions: std::array::from_fn(|_| RwSignal::new(0)), status: RwSignal::new(0), last: RwSignal::new(None) };
    LIVE.with(|l| l.set(Some(live)));
    // Opened a moment after the page (which loads its data meanwhile, and refetches once the stream
    // is open): a headless browser rendering a screenshot within a budget of virtual time waits for
    // open requests, and the stream never ends.
    set_timeout(move || connect(live, 1), std::time::Duration::from_secs(OPEN_AFTER_SECS));
    // Leaving the page closes the stream at once (kept open, the page's stream would hold one of the
    // browser's few connections to the server while the page sits in the back-forward cache); a
    // page brought back from that cache opens a new one and refetches.
    let mut hidden = false;
    let on_page = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        if e.type_() == "pagehide" {
            if let Some(source) = SOURCE.with(|s| s.borrow_mut().take()) {
                source.close();
            }
            hidden = true;
        } else if std::mem::take(&mut hidden) {
            connect(live, 1);
        }
    });
    for event in ["pagehide", "pageshow"] {
        let _ = window().add_event_listener_with_callback(event, on_page.as_ref().unchecked_ref());
    }
    on_page.forget();
}

fn connect(live: Live, attempt: u32) {
    let Ok(source) = EventSource::new(&crate::api::api_path("/events")) else { return };
    let state = source.clone();
    // One handler for the stream's four events.
    let on = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| match e.type_().as_str() {
        "change" => {
            let data = e.unchecked_ref::<MessageEvent>().data().as_string().unwrap_or_default();
            if let Ok(v) = tenantscope_model::json::parse_value(&data) {
                live.last.set(v.get("at").and_then(|x| x.as_str()).map(str::to_string));
                bump(live, 1 << group_of(v.get("entity").and_then(|x| x.as_str()).unwrap_or("")));
            }
        }
        "reset" => bump(live, 0xff),
        "open" => {
            // What changed while there was no stream is not all replayed (before the first one, after
            // one was replaced): refetch what is shown.
            bump(live, 0xff);
            live.status.set(1);
        }
        _ => {
            live.status.set(2);
            if state.ready_state() == EventSource::CLOSED {
                let pause = 1000u64 << attempt.min(5);
                set_timeout(move || connect(live, attempt + 1), std::time::Duration::from_millis(pause));
            }
        }
    });
    for event in ["change", "reset", "open", "error"] {
        let _ = source.add_event_listener_with_callback(event, on.as_ref().unchecked_ref());
    }
    // One stream at a time: one it replaces is closed.
    if let Some(old) = SOURCE.with(|s| s.replace(Some(source))) {
        old.close();
    }
    // It lives as long as its stream (the app's lifetime, or until the stream is replaced).
    on.forget();
}

/// The header's live indicator as HTML: a dot and "Live · last change 2026-11-26 10:42 UTC",
/// "Reconnecting…" or "Connecting…" (tracked).
pub fn status_html() -> String {
    let Some(live) = use_live() else { return String::new() };
    let status = live.status.get();
    let text = match status {
        1 => match live.last.get() {
            Some(at) => format!("Live · last change {}", crate::format::datetime(&at)),
            None => "Live".into(),
        },
        2 => "Reconnecting…".into(),
        _ => "Connecting…".into(),
    };
    format!("<i class=\"dot s{status}\"></i>{}", crate::components::html::escape(&text))
}
