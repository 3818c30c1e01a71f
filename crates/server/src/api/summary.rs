use super::Routes;
use super::{only_params, query_pairs, ApiContext};
use crate::error::Result;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::Json;
use tenantscope_model::api::Summary;

pub fn router() -> Routes {
    Routes::new().route_from_memory("/summary", get(summary))
}

/// The summary, computed once per change of the store and served from memory.
async fn summary(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Summary>> {
    only_params(&query_pairs(&raw.0), &[])?;
    Ok(Json((*ctx.live.current_summary(&ctx.store).await?).clone()))
}
