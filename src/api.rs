//! The typed API client: one place for the base URL, JSON decoding, the error type and aborting
//! requests (when the view that asked goes away, or when a newer request replaces a stale one).

use gloo_net::http::Request;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;
use tenantscope_model::api::{ApplicationRow, DeviceDetail, DeviceRow, ErrorBody, Facets, Page, Summary};
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
}

/// GET `BASE + path` and decode JSON, abortable through `signal`.
pub async fn fetch_json<T: DeserializeOwned>(path: &str, signal: Option<&AbortSignal>) -> Result<T, ApiError> {
    let response = Request::get(&format!("{BASE}{path}"))
        .abort_signal(signal)
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if !response.ok() {
        let status = response.status();
        let body = response.json::<ErrorBody>().await.ok();
        return Err(match body {
            Some(b) => ApiError::Status { status, error: b.error, detail: b.detail },
            None => ApiError::Status { status, error: "http".into(), detail: response.status_text() },
        });
    }
    response.json::<T>().await.map_err(|e| ApiError::Decode(e.to_string()))
}

/// GET and decode JSON; aborted if the calling view is cleaned up first.
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let controller = SendWrapper::new(AbortController::new().ok());
    let signal = controller.as_ref().map(|c| c.signal());
    on_cleanup(move || {
        if let Some(c) = controller.as_ref() {
            c.abort();
        }
    });
    fetch_json(path, signal.as_ref()).await
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

pub async fn summary(signal: Option<AbortSignal>) -> Result<Summary, ApiError> {
    fetch_json("/summary", signal.as_ref()).await
}

pub async fn devices(query: &str, signal: Option<AbortSignal>) -> Result<Page<DeviceRow>, ApiError> {
    fetch_json(&format!("/devices?{query}"), signal.as_ref()).await
}

pub async fn devices_facets() -> Result<Facets, ApiError> {
    get_json("/devices/facets").await
}

pub async fn device(id: &str) -> Result<DeviceDetail, ApiError> {
    get_json(&format!("/devices/{}", tenantscope_model::api::encode_component(id))).await
}

pub async fn applications(query: &str, signal: Option<AbortSignal>) -> Result<Page<ApplicationRow>, ApiError> {
    fetch_json(&format!("/applications?{query}"), signal.as_ref()).await
}

pub async fn applications_facets() -> Result<Facets, ApiError> {
    get_json("/applications/facets").await
}
