use super::{list, ApiContext};
use crate::error::Result;
use crate::store::APPLICATIONS_TABLE;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/applications", get(applications))
}

async fn applications(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    list(&ctx, &APPLICATIONS_TABLE, raw).await
}
