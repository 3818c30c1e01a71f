//! The typed API client: one place for the base URL, JSON decoding, the error type and aborting
//! requests (when the view that asked goes away, or when a newer request replaces a stale one).

use gloo_net::http::Request;
use leptos::prelude::*;
use tenantscope_model::api::ErrorBody;
use tenantscope_model::json::{self, FromJson};
use web_sys::{AbortController, AbortSignal};

/// All API routes live under this path on the console's own origin.
pub const BASE: &str = "/api/v1";

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The request did not reach the server or got no answer.
    #[error("Cannot reach the Tenantscope server ({0}).")]
    Network(String),
    /// The server answered with an error status.
    #[error("{detail} (HTTP {status})")]
    Status { status: u16, error: String, detail: String },
    /// The answer was not what this console expects.
    #[error("The server's answer could not be read ({0}).")]
    Decode(String),
}

impl ApiError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Status { status: 404, .. })
    }

    /// Whether asking again can help: the server was unreachable, busy or failed, not a request it
    /// refused (a 4xx is refused again) or an answer the console cannot read.
    pub fn retryable(&self) -> bool {
        match self {
            ApiError::Network(_) => true,
            ApiError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            ApiError::Decode(_) => false,
        }
    }
}

/// An API answer's JSON text, decoded where it is used. Every resource of the console holds this one
/// type, so the reactive machinery behind resources exists once in the bundle, not once per shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Body(std::sync::Arc<str>);

impl Body {
    pub fn decode<T: FromJson>(&self) -> Result<T, ApiError> {
        json::parse(&self.0).map_err(|e| ApiError::Decode(e.to_string()))
    }
}

/// A resource's state: None while the first answer is on its way.
pub type Resource = LocalResource<Result<Body, ApiError>>;

const PRIVACY_KEY: &str = "tenantscope.privacy";

thread_local! {
    /// Privacy mode: every request asks the server for aliases (`privacy=1`).
    static PRIVATE: std::cell::Cell<bool> = std::cell::Cell::new({
        let w = web_sys::window();
        let search = w.as_ref().and_then(|w| w.location().search().ok()).unwrap_or_default();
        // The kiosk asks for aliases unless its address says privacy=0 (which only a role that may
        // see names gets: a kiosk session is always private).
        let kiosk = w.as_ref().and_then(|w| w.location().pathname().ok()).as_deref() == Some("/kiosk") && !search.contains("privacy=0");
        search.contains("privacy=1") || kiosk || w.and_then(|w| w.local_storage().ok().flatten()).and_then(|s| s.get_item(PRIVACY_KEY).ok().flatten()).as_deref() == Some("1")
    });
}

/// Whether this console asks for aliases.
pub fn private() -> bool {
    PRIVATE.with(|p| p.get())
}

/// Turns privacy mode on or off for this browser, and loads the page again in it (every view, the
/// events stream and the document title then come in the new form).
pub fn set_private(on: bool) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = if on { s.set_item(PRIVACY_KEY, "1") } else { s.remove_item(PRIVACY_KEY) };
    }
    let _ = window().location().reload();
}

/// An API path (without `BASE`) as this console requests it: with `privacy=1` in privacy mode.
pub fn api_path(path: &str) -> String {
    if private() {
        format!("{BASE}{path}{}privacy=1", if path.contains('?') { '&' } else { '?' })
    } else {
        format!("{BASE}{path}")
    }
}

/// The sign-in page, saying why, and coming back here after.
fn to_sign_in(reason: &str) {
    let location = window().location();
    let here = format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default());
    let query = tenantscope_model::api::encode_pairs(&[("reason".into(), reason.into()), ("next".into(), here)]);
    let _ = location.set_href(&format!("/sign-in?{query}"));
}

/// GET `BASE + path` (an `Err` path: a request that cannot succeed, answered as that error without a
/// request), abortable through `signal`. While the server is still preparing its data (503
/// `starting`), it says how far in the page's status line and asks again every 2 seconds, so every
/// view simply loads once the data is there.
pub async fn fetch(path: Result<String, ApiError>, signal: Option<AbortSignal>) -> Result<Body, ApiError> {
    let path = path?;
    loop {
        let response = Request::get(&api_path(&path))
            .abort_signal(signal.as_ref())
            .send()
            .await
            .map_err(|e| ApiError::Network(e.to_string()))?;
        if !response.ok() {
            let status = response.status();
            let body = response.text().await.ok().and_then(|t| json::parse::<ErrorBody>(&t).ok());
            let error = match body {
                Some(b) => ApiError::Status { status, error: b.error, detail: b.detail },
                None => ApiError::Status { status, error: "http".into(), detail: response.status_text() },
            };
            if let ApiError::Status { status: 503, error, detail } = &error {
                if error == "starting" {
                    preparing(Some(detail));
                    pause(2000).await;
                    continue;
                }
            }
            preparing(None);
            // Not signed in, or the session ended: the sign-in page says why.
            if let ApiError::Status { status: 401, detail, .. } = &error {
                to_sign_in(detail);
            }
            return Err(error);
        }
        preparing(None);
        let text = response.text().await.map_err(|e| ApiError::Decode(e.to_string()))?;
        return Ok(Body(text.into()));
    }
}

/// Shows (Some) or hides (None) the page's "Preparing data — 45 %" line (`#preparing` in the shell).
fn preparing(text: Option<&str>) {
    if let Some(line) = document().get_element_by_id("preparing") {
        line.set_text_content(text);
        let _ = if text.is_some() { line.remove_attribute("hidden") } else { line.set_attribute("hidden", "") };
    }
}

/// Resolves after `ms` milliseconds.
async fn pause(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// A resource reading `path()` (tracked: it refetches when the path changes); one request in flight,
/// a newer one aborts the stale one, and leaving the view aborts it.
pub fn resource(path: impl Fn() -> Result<String, ApiError> + 'static) -> Resource {
    erased_resource(Box::new(path), None)
}

/// A resource and whether a request for it is on its way (true while a newer answer is awaited,
/// even though the last answer is still shown).
pub fn tracked_resource(path: impl Fn() -> Result<String, ApiError> + 'static) -> (Resource, Busy) {
    let requests = RwSignal::new((0u32, 0u32));
    let resource = erased_resource(Box::new(path), Some(requests));
    (resource, Busy(requests))
}

/// Whether a tracked resource has a request on its way (read with `get`, tracked).
#[derive(Clone, Copy)]
pub struct Busy(RwSignal<(u32, u32)>);

impl Busy {
    pub fn get(&self) -> bool {
        self.0.with(|(started, done)| started != done)
    }
}

/// The one instantiation of the resource machinery (about 1 KB of wasm per instantiation): every call
/// site's path closure arrives boxed. `requests` counts (started, finished) requests.
fn erased_resource(path: Box<dyn Fn() -> Result<String, ApiError>>, requests: Option<RwSignal<(u32, u32)>>) -> Resource {
    let latest = Latest::new();
    LocalResource::new(move || {
        let path = path();
        // Fetched again when a change touches what the path reads.
        if let Ok(p) = &path {
            crate::contexts::live::track(p);
        }
        let signal = latest.next();
        async move {
            let n = requests.and_then(|r| r.try_update(|(started, _)| {
                *started += 1;
                *started
            }));
            let answer = fetch(path, signal).await;
            if let (Some(r), Some(n)) = (requests, n) {
                r.try_update(|(_, done)| *done = (*done).max(n));
            }
            answer
        }
    })
}

/// Keeps one request in flight: starting a new one aborts the previous (a stale view state).
#[derive(Clone, Copy)]
pub struct Latest(StoredValue<Option<AbortController>, LocalStorage>);

impl Latest {
    pub fn new() -> Self {
        let latest = Latest(StoredValue::new_local(None));
        on_cleanup(move || latest.abort());
        latest
    }

    /// Aborts the request in flight, if any, and returns the signal for the next one.
    pub fn next(&self) -> Option<AbortSignal> {
        self.abort();
        let controller = AbortController::new().ok();
        let signal = controller.as_ref().map(|c| c.signal());
        self.0.try_set_value(controller);
        signal
    }

    fn abort(&self) {
        if let Some(Some(c)) = self.0.try_get_value() {
            c.abort();
        }
    }
}

impl Default for Latest {
    fn default() -> Self {
        Self::new()
    }
}

/// An effect (re-runs when what it reads changes). Every effect of the console goes through this one
/// function, so the effect machinery is instantiated once in the bundle (~1 KB per instantiation).
pub fn effect(f: impl Fn() + 'static) {
    let f: Box<dyn Fn()> = Box::new(f);
    Effect::new(move |_| f());
}
