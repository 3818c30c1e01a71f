use super::{list, ApiContext};
use crate::error::Result;
use crate::store::COLLECTIONS_TABLE;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/collections", get(collections))
}

async fn collections(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    list(&ctx, &COLLECTIONS_TABLE, raw).await
}
