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
            Error::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (error, detail) = match &self {
            Error::BadParam(e) => ("bad_request", e.to_string()),
            Error::NotFound(what) => ("not_found", what.clone()),
            Error::Store(e) => {
                tracing::error!(error = %e, "store error");
                ("internal", "The server could not complete the request; it has been logged.".to_string())
            }
        };
        (self.status(), Json(ErrorBody { error: error.into(), detail })).into_response()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
