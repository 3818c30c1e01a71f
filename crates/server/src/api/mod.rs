//! `/api/v1`: one module per resource, each with its own `router()`, sharing one `ApiContext`.

mod antivirus;
mod applications;
mod collections;
mod connector;
mod detections;
mod devices;
mod events;
pub mod import;
mod products;
pub mod upload;
pub mod openapi;
pub mod session;
mod summary;
pub mod threats;

use crate::error::{Error, Result};
use crate::store::{list_each, list_page, Store, Table};
use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use std::sync::Arc;
use tenantscope_model::api::ListQuery;

#[derive(Clone)]
pub struct ApiContext {
    pub store: Arc<Store>,
    pub live: Arc<crate::live::Live>,
    pub access: Arc<session::Access>,
    pub privacy: Arc<crate::privacy::Privacy>,
    /// One import at a time (a file is held in memory while it is read and planned).
    pub importing: Arc<tokio::sync::Semaphore>,
}

/// Every resource's routes, in one list: the router is built from it and the OpenAPI test compares
/// the document with it.
pub fn routes() -> Routes {
    summary::router()
        .merge(devices::router())
        .merge(applications::router())
        .merge(products::router())
        .merge(collections::router())
        .merge(threats::router())
        .merge(detections::router())
        .merge(antivirus::router())
        .merge(connector::router())
        .merge(upload::router())
        .merge(import::router())
        .merge(events::router())
        .merge(session::router())
        .merge(openapi::router())
}

pub fn router(ctx: ApiContext) -> Router {
    let routes = routes();
    let routed = routes
        .router
        // At most this many requests that need the store at once, over all its routes (one shared
        // limit); more wait their turn. Answers from memory (the summary) do not wait behind them.
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(crate::API_CONCURRENCY))
        .merge(routes.unlimited)
        // Unknown API paths and methods get the API's JSON error shape, never the console's page.
        .fallback(|| async { Error::NotFound("no such API route".into()) })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed("this route does not take this method".into()) })
        .with_state(ctx.clone());
    // Who the request is and whether it may, before anything else, routing included (a privacy-mode
    // request's aliased address is turned back before it is routed; a refused upload's body is never
    // read).
    Router::new().fallback_service(routed).layer(axum::middleware::from_fn_with_state(ctx, session::guard))
}

/// A resource's routes: the axum router and the paths it was given (`/devices/{id}`, as OpenAPI
/// writes them).
pub struct Routes {
    router: Router<ApiContext>,
    /// Routes answered from memory: outside the store's concurrency limit.
    unlimited: Router<ApiContext>,
    paths: Vec<&'static str>,
}

impl Routes {
    pub fn new() -> Self {
        Routes { router: Router::new(), unlimited: Router::new(), paths: Vec::new() }
    }

    /// A route whose requests have no body beyond `API_BODY_LIMIT` (413 otherwise).
    pub fn route(self, path: &'static str, method: axum::routing::MethodRouter<ApiContext>) -> Self {
        self.route_with_body(path, method.layer(tower_http::limit::RequestBodyLimitLayer::new(crate::API_BODY_LIMIT)))
    }

    /// A route that reads (and bounds) its request body itself.
    pub fn route_with_body(mut self, path: &'static str, method: axum::routing::MethodRouter<ApiContext>) -> Self {
        self.router = self.router.route(path, method);
        self.paths.push(path);
        self
    }

    /// A route answered from memory (no store, no blocking thread): not held back by the limit on
    /// requests that need the store.
    pub fn route_from_memory(mut self, path: &'static str, method: axum::routing::MethodRouter<ApiContext>) -> Self {
        self.unlimited =
            self.unlimited.route(path, method.layer(tower_http::limit::RequestBodyLimitLayer::new(crate::API_BODY_LIMIT)));
        self.paths.push(path);
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.unlimited = self.unlimited.merge(other.unlimited);
        self.paths.extend(other.paths);
        self
    }

    /// The paths routed, in the order given.
    pub fn paths(&self) -> &[&'static str] {
        &self.paths
    }
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

/// Decoded `key=value` pairs of a query string.
pub fn query_pairs(raw: &Option<String>) -> Vec<(String, String)> {
    raw.as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// Rejects parameters a non-list route does not know.
pub fn only_params(pairs: &[(String, String)], known: &[&str]) -> Result<()> {
    match pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        Some((k, _)) if known.is_empty() => Err(Error::param(k, "this route takes no query parameters")),
        Some((k, _)) => Err(Error::param(k, format!("unknown parameter; accepted: {}", known.join(", ")))),
        None => Ok(()),
    }
}

/// A list route: validates the query, then answers one page as JSON or the whole selection as CSV.
pub async fn list<T: Serialize + Send + 'static>(
    ctx: &ApiContext,
    table: &'static Table<T>,
    raw: RawQuery,
    adjust: impl FnOnce(&mut ListQuery),
) -> Result<Response> {
    let mut query = ListQuery::parse(&table.spec, &query_pairs(&raw.0))?;
    adjust(&mut query);
    if query.csv {
        let columns = crate::csv::columns(&table.spec, &query);
        return Ok(crate::csv::stream(&ctx.store, table.spec.name, columns, move |store, sink| {
            store.with(|conn| list_each(conn, table, &query, sink))
        }));
    }
    let page = ctx.store.run(move |conn| list_page(conn, table, &query)).await?;
    Ok(Json(page).into_response())
}

/// Longest text id in a path (`/devices/{id}`, `/collections/{id}`), in characters.
pub const MAX_ID_LEN: usize = 64;

/// A path id (`/devices/{id}` and the like): a malformed one (bad percent-encoding, not UTF-8) is
/// the API's JSON 400 naming `id`, not axum's plain-text rejection.
pub struct Id(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Id {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(Id(id)),
            Err(e) => Err(Error::param("id", format!("not a valid path segment ({})", e.body_text()))),
        }
    }
}
