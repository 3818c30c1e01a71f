use super::Routes;
use super::{only_params, query_pairs, ApiContext};
use crate::error::Result;
use crate::store;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::Json;
use tenantscope_model::api::Summary;

pub fn router() -> Routes {
    Routes::new().route("/summary", get(summary))
}

async fn summary(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Summary>> {
    only_params(&query_pairs(&raw.0), &[])?;
    Ok(Json(ctx.store.run(|conn| store::summary(conn)).await?))
}
