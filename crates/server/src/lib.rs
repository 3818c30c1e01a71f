//! Tenantscope server: the `/api/v1` API over an embedded SQLite store, and the built console.

pub mod api;
pub mod client;
pub mod csv;
pub mod error;
pub mod graph;
pub mod import;
pub mod live;
pub mod ntlm;
pub mod privacy;
pub mod seed;
pub mod simulate;
pub mod site;
pub mod store;
pub mod web;

use axum::http::{header, HeaderValue};
use axum::Router;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::Store;
use tower_http::set_header::SetResponseHeaderLayer;

/// Largest request body the API takes (uploads: `api::upload::UPLOAD_BODY_LIMIT`), longest it
/// takes to start answering, most requests at once.
pub const API_BODY_LIMIT: usize = 64 * 1024;
pub const API_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
pub const API_CONCURRENCY: usize = 64;

/// The whole application: `/api/v1` plus, when `dist` is given, the console with client-route fallback.
/// (`web::precompress` writes the compressed assets it serves; the binary runs it at start-up.)
pub fn app(store: Arc<Store>, dist: Option<&Path>) -> Router {
    app_with(store, dist, &web::WebOptions::default())
}

/// The application with explicit web options (framing, extra host names).
pub fn app_with(store: Arc<Store>, dist: Option<&Path>, options: &web::WebOptions) -> Router {
    app_live(store, live::Live::new(), dist, options)
}

/// The application with the live hub it publishes changes through (the simulator and tests share it).
pub fn app_live(store: Arc<Store>, live: Arc<live::Live>, dist: Option<&Path>, options: &web::WebOptions) -> Router {
    let privacy = Arc::new(privacy::Privacy::for_store(&store));
    let ctx = api::ApiContext { store, live, access: Arc::new(api::session::Access::new(!options.require_sign_in)), privacy, importing: Arc::new(tokio::sync::Semaphore::new(1)) };
    // The pages the server writes itself: signing in and out.
    let (c1, c2, pages_dist, open) = (ctx.clone(), ctx.clone(), dist.map(Path::to_path_buf), !options.require_sign_in);
    let import_dist = pages_dist.clone();
    let pages = Router::new().route(
        "/sign-in",
        axum::routing::get(move |raw| api::session::sign_in_page(pages_dist.clone(), open, raw))
            .post(move |headers, body| api::session::sign_in_form(c1.clone(), headers, body)),
    )
    .route("/sign-out", axum::routing::post(move |headers| api::session::sign_out_form(c2.clone(), headers)))
    .route("/import", axum::routing::get(move || api::import::import_page(import_dist.clone())))
    .layer(tower_http::limit::RequestBodyLimitLayer::new(API_BODY_LIMIT));
    shell(api::router(ctx.clone()), Some((pages, ctx)), dist, options)
}

/// The application while the store is being prepared: the console is served, and every API route
/// answers 503 with `Retry-After` and how far preparing is ("Preparing data — 45 %"), which the
/// console shows instead of a dead page.
pub fn app_preparing(startup: Arc<Startup>, dist: Option<&Path>, options: &web::WebOptions) -> Router {
    let answer = move || {
        let startup = Arc::clone(&startup);
        async move { startup.answer() }
    };
    let api = Router::new().route("/", axum::routing::any(answer.clone())).route("/{*rest}", axum::routing::any(answer));
    shell(api, None, dist, options)
}

/// Several tenants on one server: each tenant's own application (its store, tokens, sessions and
/// event streams) answers the requests for its host name (`--tenant HOST=TENANT_ID`); every other
/// host gets `default`. A token or session of one tenant means nothing at another's host.
pub fn app_tenants(default: Router, tenants: Vec<(String, Router)>) -> Router {
    use tower::ServiceExt;
    let tenants: Arc<Vec<(String, Router)>> = Arc::new(tenants.into_iter().map(|(host, app)| (host.to_ascii_lowercase(), app)).collect());
    Router::new().fallback_service(tower::service_fn(move |req: axum::extract::Request| {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| web::host_name(h).to_ascii_lowercase())
            .unwrap_or_default();
        let app = tenants.iter().find(|(name, _)| *name == host).map_or_else(|| default.clone(), |(_, app)| app.clone());
        app.oneshot(req)
    }))
}

/// One service for the server's whole life: `preparing` until `ready` is set, then `ready`.
pub fn app_switching(preparing: Router, ready: Arc<std::sync::OnceLock<Router>>) -> Router {
    use tower::ServiceExt;
    Router::new().fallback_service(tower::service_fn(move |req: axum::extract::Request| {
        let app = ready.get().cloned().unwrap_or_else(|| preparing.clone());
        app.oneshot(req)
    }))
}

/// `/api/v1` (the given API router, with its limits) and the console around it, with the headers
/// every answer carries.
/// `pages`: the pages the server writes itself, and the context a console link carrying a token
/// (a kiosk's) signs in with.
fn shell(api: Router, pages: Option<(Router, api::ApiContext)>, dist: Option<&Path>, options: &web::WebOptions) -> Router {
    let api = api
        // API answers are never cached (CSV exports set the same).
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        // Every answer starts within this time (a streamed CSV's body is bounded by the export's own
        // deadline). The concurrency limit of requests that need the store is in `api::router`.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, API_TIMEOUT));
    let mut app = Router::new()
        .nest_service("/api/v1", api)
        .route("/api", axum::routing::any(|| async { error::Error::NotFound("the API lives under /api/v1".into()) }))
        .route("/api/", axum::routing::any(|| async { error::Error::NotFound("the API lives under /api/v1".into()) }))
        .route("/api/{*rest}", axum::routing::any(|| async { error::Error::NotFound("the API lives under /api/v1".into()) }));
    let link = pages.map(|(pages, ctx)| {
        app = std::mem::take(&mut app).merge(pages);
        ctx
    });
    if let Some(dist) = dist {
        let dist = dist.to_path_buf();
        let frame_ancestors: Arc<str> = options.frame_ancestors.as_str().into();
        app = app.fallback(move |req: axum::extract::Request| web::serve_console(dist.clone(), Arc::clone(&frame_ancestors), req));
    }
    // A console link carrying a token (a kiosk's) signs in and drops it from the address (inside
    // the host check and the headers every answer carries).
    if let Some(ctx) = link {
        app = app.layer(axum::middleware::from_fn(move |req, next| api::session::sign_in_link(ctx.clone(), req, next)));
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
    /// A PostgreSQL connection string: the shared store of several servers (else SQLite in `data_dir`).
    pub database: Option<String>,
    pub dist: Option<PathBuf>,
    pub demo: Option<seed::DemoOptions>,
}

/// How far start-up is: what it is doing and the percentage done, told by `prepare` and answered by
/// the API meanwhile.
#[derive(Debug, Default)]
pub struct Startup(std::sync::Mutex<(&'static str, u8)>);

impl Startup {
    pub fn set(&self, phase: &'static str, percent: u8) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = (phase, percent.min(99));
    }

    /// What it is doing and how many percent are done.
    pub fn get(&self) -> (&'static str, u8) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The API's answer meanwhile: 503 `starting`, asking to come back in 2 seconds.
    pub fn answer(&self) -> axum::response::Response {
        use axum::response::IntoResponse;
        let (phase, percent) = self.get();
        let body = tenantscope_model::api::ErrorBody {
            error: "starting".into(),
            detail: format!("Preparing data — {percent} % ({phase})"),
        };
        let mut res = (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        res
    }
}

/// Opens the store, seeds the demo tenant if it is empty, makes sure indexes and statistics exist,
/// and builds the devices index, telling `startup` how far it is.
pub fn prepare(config: &Config, startup: &Startup) -> store::Result<Arc<Store>> {
    startup.set("checking the store", 0);
    let store = Store::open_in(&config.data_dir, config.database.as_deref())?;
    if let Some(demo) = &config.demo {
        let report = |done: f64| startup.set("generating the demo tenant", 2 + (done * 78.0) as u8);
        if seed::seed_if_empty(&store, demo, &report)? {
            tracing::info!(devices = demo.devices, seed = demo.seed, "seeded demo tenant");
        }
    }
    startup.set("building indexes", 80);
    ready_to_serve(&store, startup)?;
    Ok(store)
}

/// The store of a tenant (`--tenant HOST=TENANT_ID`), prepared like the default one (no demo).
pub fn prepare_tenant(config: &Config, tenant: &str, startup: &Startup) -> store::Result<Arc<Store>> {
    let store = Store::open_tenant(&config.data_dir, config.database.as_deref(), tenant)?;
    ready_to_serve(&store, startup)?;
    Ok(store)
}

/// Indexes and statistics made sure of, and the devices index built now, so that the first visitor
/// does not wait for it.
fn ready_to_serve(store: &Store, startup: &Startup) -> store::Result<()> {
    store.ensure_indexes()?;
    if store.ensure_statistics()? {
        tracing::info!("query statistics were missing; refreshed");
    }
    startup.set("building the devices index", 90);
    store.device_index()?;
    Ok(())
}
