//! Tenantscope server: the `/api/v1` API over an embedded SQLite store, and the built console.

pub mod api;
pub mod csv;
pub mod error;
pub mod seed;
pub mod store;
pub mod web;

use axum::http::{header, HeaderValue};
use axum::Router;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::Store;
use tower_http::set_header::SetResponseHeaderLayer;

/// Largest request body the API takes, longest it takes to start answering, most requests at once.
pub const API_BODY_LIMIT: usize = 64 * 1024;
pub const API_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
pub const API_CONCURRENCY: usize = 64;

/// The whole application: `/api/v1` plus, when `dist` is given, the console with client-route fallback.
pub fn app(store: Arc<Store>, dist: Option<&Path>) -> Router {
    app_with(store, dist, &web::WebOptions::default())
}

/// The application with explicit web options (framing, extra host names).
pub fn app_with(store: Arc<Store>, dist: Option<&Path>, options: &web::WebOptions) -> Router {
    let api = api::router(api::ApiContext { store })
        // API answers are never cached (CSV exports set the same).
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        // No request body beyond this (the upload API will set its own, larger, limit).
        .layer(tower_http::limit::RequestBodyLimitLayer::new(API_BODY_LIMIT))
        // Every answer starts within this time (a streamed CSV's body is bounded by the export's own deadline).
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, API_TIMEOUT))
        // At most this many API requests at once over all routes (one shared limit); more wait their turn.
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(API_CONCURRENCY));
    let mut app = Router::new()
        .nest("/api/v1", api)
        .route("/api", axum::routing::any(|| async { error::Error::NotFound("the API lives under /api/v1".into()) }))
        .route("/api/", axum::routing::any(|| async { error::Error::NotFound("the API lives under /api/v1".into()) }))
        .route("/api/{*rest}", axum::routing::any(|| async { error::Error::NotFound("the API lives under /api/v1".into()) }));
    if let Some(dist) = dist {
        web::precompress(dist);
        let dist = dist.to_path_buf();
        let frame_ancestors: Arc<str> = options.frame_ancestors.as_str().into();
        app = app.fallback(move |req: axum::extract::Request| web::serve_console(dist.clone(), Arc::clone(&frame_ancestors), req));
    }
    // Everything but the page itself (which sets its own, with its scripts' hashes): no inline script.
    let csp = HeaderValue::from_str(&web::content_security_policy("", &options.frame_ancestors))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let allowed = Arc::new(options.allow_hosts.clone());
    app.layer(tower_http::compression::CompressionLayer::new())
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, csp))
        .layer(axum::middleware::from_fn(move |req, next| web::check_host(Arc::clone(&allowed), req, next)))
}

/// Server settings (the binary's flags).
#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub dist: Option<PathBuf>,
    pub demo: Option<seed::DemoOptions>,
}

/// Opens the store, seeds the demo tenant if it is empty, makes sure indexes exist.
pub fn prepare(config: &Config) -> store::Result<Arc<Store>> {
    let store = Store::open(&config.data_dir)?;
    if let Some(demo) = &config.demo {
        if seed::seed_if_empty(&store, demo)? {
            tracing::info!(devices = demo.devices, seed = demo.seed, "seeded demo tenant");
        }
    }
    store.ensure_indexes()?;
    // Build the devices index now, so that the first visitor does not wait for it.
    store.device_index()?;
    Ok(store)
}
