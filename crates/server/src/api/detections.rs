//! `detections`: one row per threat per device.

use super::{list, only_params, query_pairs, ApiContext};
use crate::error::Result;
use crate::store::{self, DETECTIONS_TABLE};
use axum::Json;
use tenantscope_model::api::{Facets, DETECTIONS};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/detections", get(detections)).route("/detections/facets", get(detections_facets))
}

async fn detections(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    let now = ctx.store.run(super::threats::tenant_now).await?;
    list(&ctx, &DETECTIONS_TABLE, raw, move |q| store::resolve_ranges(&DETECTIONS, q, now)).await
}

async fn detections_facets(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Facets>> {
    only_params(&query_pairs(&raw.0), &[])?;
    Ok(Json(ctx.store.run(|conn| store::detections_facets(conn)).await?))
}
