use super::{list, only_params, query_pairs, ApiContext};
use crate::error::Result;
use crate::store::{self, APPLICATIONS_TABLE};
use axum::Json;
use tenantscope_model::api::Facets;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/applications", get(applications)).route("/applications/facets", get(applications_facets))
}

async fn applications_facets(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Facets>> {
    only_params(&query_pairs(&raw.0), &[])?;
    Ok(Json(ctx.store.run(|conn| store::applications_facets(conn)).await?))
}

async fn applications(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    list(&ctx, &APPLICATIONS_TABLE, raw, |_| ()).await
}
