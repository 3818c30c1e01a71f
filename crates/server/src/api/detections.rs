//! `detections`: one row per threat per device.

use super::{list, ApiContext};
use crate::error::Result;
use crate::store::DETECTIONS_TABLE;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/detections", get(detections))
}

async fn detections(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    list(&ctx, &DETECTIONS_TABLE, raw).await
}
