//! Tenantscope server: the `/api/v1` API over an embedded SQLite store, and the built console.

pub mod api;
pub mod csv;
pub mod error;
pub mod seed;
pub mod store;

use axum::http::{header, HeaderValue};
use axum::Router;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::Store;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The whole application: `/api/v1` plus, when `dist` is given, the console with client-route fallback.
pub fn app(store: Arc<Store>, dist: Option<&Path>) -> Router {
    let api = api::router(api::ApiContext { store });
    let mut app = Router::new().nest("/api/v1", api).route(
        "/api",
        axum::routing::any(|| async { error::Error::NotFound("the API lives under /api/v1".into()) }),
    );
    if let Some(dist) = dist {
        let index = dist.join("index.html");
        app = app.fallback_service(ServeDir::new(dist).fallback(ServeFile::new(index)));
    }
    app.layer(tower_http::compression::CompressionLayer::new())
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
            ),
        ))
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
