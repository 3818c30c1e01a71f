//! `collections` (Defender policy compliance per collection) and `collections/{CollectionId}`.

use super::Routes;
use super::{list, only_params, query_pairs, ApiContext};
use crate::error::{Error, Result};
use crate::store::{self, COLLECTIONS_TABLE};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Json;
use tenantscope_model::api::{CollectionRow, Facets, ListQuery, COLLECTIONS};

pub fn router() -> Routes {
    Routes::new()
        .route("/collections", get(collections))
        .route("/collections/facets", get(collections_facets))
        .route("/collections/{id}", get(collection))
}

async fn collections(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    list(&ctx, &COLLECTIONS_TABLE, raw, |_| ()).await
}

async fn collection(State(ctx): State<ApiContext>, super::Id(id): super::Id, raw: RawQuery) -> Result<Json<CollectionRow>> {
    only_params(&query_pairs(&raw.0), &[])?;
    if id.is_empty() || id.chars().count() > super::MAX_ID_LEN {
        return Err(Error::param("id", "must be a CollectionId"));
    }
    let lookup = id.clone();
    match ctx.store.run(move |conn| store::collection_by_id(conn, &lookup)).await? {
        Some(c) => Ok(Json(c)),
        None => Err(Error::NotFound(format!("no collection {id:?}"))),
    }
}

/// The filter choices under the view: takes the list's filters and search; each facet counts
/// what the other filters select.
async fn collections_facets(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Facets>> {
    let query = ListQuery::parse(&COLLECTIONS, &query_pairs(&raw.0))?;
    Ok(Json(ctx.store.run(move |conn| store::collections_facets(conn, &query)).await?))
}
