//! The one error type of the API, mapped to a status code and a JSON body. Internal errors are
//! logged with their cause and answered with a generic message: internals never leak.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tenantscope_model::api::{ErrorBody, ParamError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A query parameter or path segment is invalid; names it.
    #[error("{0}")]
    BadParam(ParamError),
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// No credentials, or credentials the server does not know (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Known credentials without the right (403).
    #[error("{0}")]
    Forbidden(String),
    /// A body over its limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// A body that was read but cannot be taken: `detail` and where (record, field) (422).
    #[error("{0}")]
    Unprocessable(serde_json::Value),
    /// The server is busy (too many exports, no connection free in time): try again later.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<ParamError> for Error {
    fn from(e: ParamError) -> Self {
        Error::BadParam(e)
    }
}

impl Error {
    pub fn param(param: &str, message: impl Into<String>) -> Self {
        Error::BadParam(ParamError { param: param.into(), message: message.into() })
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadParam(_) => StatusCode::BAD_REQUEST,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Store(crate::store::StoreError::Busy) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::Unprocessable(body) = &self {
            let mut body = body.clone();
            body["error"] = "unprocessable".into();
            return (self.status(), Json(body)).into_response();
        }
        let (error, detail) = match &self {
            Error::BadParam(e) => ("bad_request", e.to_string()),
            Error::NotFound(what) => ("not_found", what.clone()),
            Error::MethodNotAllowed(what) => ("method_not_allowed", what.clone()),
            Error::Unauthorized(what) => ("unauthorized", what.clone()),
            Error::Forbidden(what) => ("forbidden", what.clone()),
            Error::TooLarge(what) => ("too_large", what.clone()),
            Error::Unprocessable(_) => ("unprocessable", String::new()),
            Error::Unavailable(what) => ("unavailable", what.clone()),
            Error::Store(crate::store::StoreError::Busy) => ("unavailable", "The server is busy; try again in a few seconds.".to_string()),
            Error::Store(e) => {
                tracing::error!(error = %e, "store error");
                ("internal", "The server could not complete the request; it has been logged.".to_string())
            }
        };
        let mut res = (self.status(), Json(ErrorBody { error: error.into(), detail })).into_response();
        if res.status() == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        if res.status() == axum::http::StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
        }
        res
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
