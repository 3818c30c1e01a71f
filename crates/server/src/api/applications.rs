use super::Routes;
use super::{list, query_pairs, ApiContext};
use crate::error::Result;
use crate::store::{self, APPLICATIONS_TABLE};
use axum::Json;
use tenantscope_model::api::{Facets, ListQuery, APPLICATIONS};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;

pub fn router() -> Routes {
    Routes::new().route("/applications", get(applications)).route("/applications/facets", get(applications_facets))
}

/// The filter choices under the view: takes the list's filters and search; each facet counts
/// what the other filters select.
async fn applications_facets(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Facets>> {
    let query = ListQuery::parse(&APPLICATIONS, &query_pairs(&raw.0))?;
    Ok(Json(ctx.store.run(move |conn| store::applications_facets(conn, &query)).await?))
}

async fn applications(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    list(&ctx, &APPLICATIONS_TABLE, raw, |_| ()).await
}
