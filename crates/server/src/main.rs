use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tenantscope_server::{app_preparing, app_switching, app_with, prepare, seed::DemoOptions, web::WebOptions, Config, Startup};

/// Tenantscope: Configuration Manager tenant-attach console and API.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on. Loopback by default; set e.g. 0.0.0.0:8080 to expose it.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory of the SQLite store.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// Directory of the built console (trunk's dist/); the API alone if it does not exist.
    #[arg(long, default_value = "./dist")]
    dist: PathBuf,
    /// Devices in the demo tenant generated when the store is empty.
    #[arg(long, default_value_t = 25_000)]
    demo_devices: u64,
    /// Seed of the demo tenant.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Do not generate a demo tenant into an empty store.
    #[arg(long)]
    no_demo: bool,
    /// Who may show the console in a frame (CSP frame-ancestors), e.g. "https://wall.example.com".
    #[arg(long, default_value = "'none'")]
    frame_ancestors: String,
    /// A host name the server answers besides localhost/127.0.0.1/[::1] (repeatable); requests for
    /// any other Host are refused, so a DNS-rebinding page cannot read the API.
    #[arg(long = "allow-host")]
    allow_hosts: Vec<String>,
}

/// How long requests in flight may run after a shutdown signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let args = Args::parse();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let config = Config {
        data_dir: args.data_dir.clone(),
        dist: args.dist.is_dir().then(|| args.dist.clone()),
        demo: (!args.no_demo).then_some(DemoOptions {
            devices: args.demo_devices,
            seed: args.seed,
            anchor: now / 60 * 60,
            progress: true,
        }),
    };
    // The port first: one already in use is reported at once, not after minutes of seeding.
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tenantscope-server: cannot listen on {}: {e}", args.listen);
            std::process::exit(2);
        }
    };
    let addr = listener.local_addr()?;
    // Listen for SIGTERM before saying we run: a signal right after that line must stop us cleanly.
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(not(unix))]
    let terminate = ();
    if let Some(dist) = config.dist.clone() {
        // Brotli and gzip copies of the console's assets, once, beside serving (until they are
        // written, assets are compressed per request).
        tokio::task::spawn_blocking(move || tenantscope_server::web::precompress(&dist));
    } else {
        tracing::warn!(dist = %args.dist.display(), "console not built; serving the API only");
    }
    // Serve at once: while the store is prepared the console loads and the API answers 503 with
    // how far preparing is; then the real application takes over.
    let web = WebOptions { frame_ancestors: args.frame_ancestors.clone(), allow_hosts: args.allow_hosts.clone() };
    let startup = Arc::new(Startup::default());
    let ready = Arc::new(OnceLock::new());
    let app = app_switching(app_preparing(Arc::clone(&startup), config.dist.as_deref(), &web), Arc::clone(&ready));
    println!("Tenantscope is running at http://{addr}/  (API: http://{addr}/api/v1/summary)");
    // On SIGTERM / Ctrl-C: no new connections, requests in flight get `SHUTDOWN_GRACE` to finish
    // (a long export is cut then).
    let stopping = Arc::new(tokio::sync::Notify::new());
    let signalled = Arc::clone(&stopping);
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal(terminate).await;
        signalled.notify_one();
    });
    let grace = async {
        stopping.notified().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    let started = std::time::Instant::now();
    let preparing = tokio::task::spawn_blocking({
        let (config, startup) = (config.clone(), Arc::clone(&startup));
        move || prepare(&config, &startup)
    });
    let prepared = async {
        match preparing.await {
            Ok(Ok(store)) => {
                tracing::info!(store = %store.path().display(), elapsed_ms = started.elapsed().as_millis() as u64, "store ready");
                let _ = ready.set(app_with(store, config.dist.as_deref(), &web));
                std::future::pending::<String>().await
            }
            Ok(Err(e)) => e.to_string(),
            Err(e) => format!("preparing the store failed: {e}"),
        }
    };
    tokio::select! {
        result = serve => result?,
        _ = grace => tracing::warn!(grace_s = SHUTDOWN_GRACE.as_secs(), "requests still running at the deadline; stopping anyway"),
        problem = prepared => {
            // One line an operator can act on (the log has the rest).
            eprintln!("tenantscope-server: {problem}");
            std::process::exit(1);
        }
    }
    tracing::info!("stopped");
    // Not waiting for a store still being prepared: its transaction is rolled back by SQLite.
    std::process::exit(0);
}

/// Ctrl-C (SIGINT) or SIGTERM: stop taking connections and let the requests in flight finish.
#[cfg(unix)]
async fn shutdown_signal(mut terminate: tokio::signal::unix::Signal) {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down");
}

#[cfg(not(unix))]
async fn shutdown_signal(_: ()) {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}
