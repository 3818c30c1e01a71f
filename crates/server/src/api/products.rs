//! `products`: MSI deployment types grouped by product, paged and sorted by product.

use super::Routes;
use super::{list, query_pairs, ApiContext};
use crate::error::Result;
use crate::store::{self, PRODUCTS_TABLE};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use tenantscope_model::api::{Facets, ListQuery, PRODUCTS};

pub fn router() -> Routes {
    Routes::new().route("/products", get(products)).route("/products/facets", get(products_facets))
}

/// A page of products with their deployment types (JSON), or the products' totals (CSV).
async fn products(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    let query = ListQuery::parse(&PRODUCTS, &query_pairs(&raw.0))?;
    if query.csv {
        return list(&ctx, &PRODUCTS_TABLE, raw, |_| ()).await;
    }
    let page = ctx.store.run(move |conn| store::products(conn, &query)).await?;
    Ok(Json(page).into_response())
}

/// The filter choices under the view: takes the list's filters and search; each facet counts
/// what the other filters select.
async fn products_facets(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Facets>> {
    let query = ListQuery::parse(&PRODUCTS, &query_pairs(&raw.0))?;
    Ok(Json(ctx.store.run(move |conn| store::products_facets(conn, &query)).await?))
}
