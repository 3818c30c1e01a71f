//! `detections`: one row per threat per device.

use super::Routes;
use super::{list, query_pairs, ApiContext};
use crate::error::Result;
use crate::store::{self, DETECTIONS_TABLE};
use axum::Json;
use tenantscope_model::api::{Facets, ListQuery, DETECTIONS};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;

pub fn router() -> Routes {
    Routes::new().route("/detections", get(detections)).route("/detections/facets", get(detections_facets))
}

async fn detections(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    let now = ctx.store.run(super::threats::tenant_now).await?;
    list(&ctx, &DETECTIONS_TABLE, raw, move |q| store::resolve_ranges(&DETECTIONS, q, now)).await
}

/// The filter choices under the view: takes the list's filters and search; each facet counts
/// what the other filters select.
async fn detections_facets(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Facets>> {
    let mut query = ListQuery::parse(&DETECTIONS, &query_pairs(&raw.0))?;
    let now = ctx.store.run(super::threats::tenant_now).await?;
    store::resolve_ranges(&DETECTIONS, &mut query, now);
    Ok(Json(ctx.store.run(move |conn| store::detections_facets(conn, &query)).await?))
}
