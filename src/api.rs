//! The typed API client: one place for the base URL, JSON decoding, the error type and aborting
//! a request when the view that asked for it goes away.

use gloo_net::http::Request;
use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;
use tenantscope_model::api::{ErrorBody, Summary};

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

/// GET `BASE + path` and decode JSON. The request is aborted if the calling view is cleaned up first.
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let controller = SendWrapper::new(web_sys::AbortController::new().ok());
    let signal = controller.as_ref().map(|c| c.signal());
    leptos::prelude::on_cleanup(move || {
        if let Some(c) = controller.as_ref() {
            c.abort();
        }
    });
    let response = Request::get(&format!("{BASE}{path}"))
        .abort_signal(signal.as_ref())
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

pub async fn summary() -> Result<Summary, ApiError> {
    get_json("/summary").await
}
