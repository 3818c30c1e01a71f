use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tenantscope_server::store::tokens;
use tenantscope_server::{app_live, app_preparing, app_switching, prepare, seed::DemoOptions, web::WebOptions, Config, Startup};

/// Tenantscope: Configuration Manager tenant-attach console and API. Without a command it serves.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Args,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// API tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Posts realistic changes to a running server through its upload API (a site that never sleeps).
    Simulate {
        /// The server, e.g. http://127.0.0.1:8080
        #[arg(long)]
        url: String,
        /// An uploader token.
        #[arg(long)]
        token: String,
        /// Batches per second.
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        /// Seed of the simulated changes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Imports Intune report exports (DefenderAgents, UnhealthyDefenderAgents, Malware, ActiveMalware:
    /// the ZIP, its CSV or the JSON form) and Microsoft Graph pages (managedDevices with their
    /// protection state, configManagerCollections; a file, or a folder of pages) through a running
    /// server's API. Each file is checked whole first; a refused file writes nothing.
    Import {
        #[command(flatten)]
        target: Target,
        /// Tenant (AADTenantID) of the devices and collections the import creates (default: the
        /// store's).
        #[arg(long)]
        tenant: Option<String>,
        /// The files (or folders of Graph pages).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Pulls what Intune knows from Microsoft Graph with an Entra app (client credentials):
    /// managedDevices pages, then the DefenderAgents and Malware report exports, each imported
    /// through a running server. Once, or on a schedule.
    PullGraph {
        #[command(flatten)]
        target: Target,
        /// The Entra tenant (id or domain) the app signs in to.
        #[arg(long)]
        tenant: String,
        /// The app's client (application) id.
        #[arg(long)]
        client_id: String,
        /// A file holding the app's client secret (or TENANTSCOPE_GRAPH_CLIENT_SECRET in the
        /// environment); never on the command line.
        #[arg(long)]
        client_secret_file: Option<PathBuf>,
        /// Pull again after this long (15m, 1h, 1d); without it, pull once.
        #[arg(long)]
        every: Option<String>,
        /// Where an interrupted pull notes how far it got (it resumes from there); default
        /// ./pull-graph-<tenant>.state.json.
        #[arg(long)]
        state_file: Option<PathBuf>,
        /// Graph's address (a national cloud's, e.g. https://graph.microsoft.us).
        #[arg(long, default_value = "https://graph.microsoft.com")]
        graph_url: String,
        /// The sign-in address (a national cloud's, e.g. https://login.microsoftonline.us).
        #[arg(long, default_value = "https://login.microsoftonline.com")]
        login_url: String,
        /// First wait between polls of an export job, in milliseconds.
        #[arg(long, default_value_t = 2000, hide = true)]
        poll_ms: u64,
    },
    /// Reads a ConfigMgr site through its AdminService (devices, hardware, users, MSI deployment
    /// types, collections and their policy summaries, antimalware and ATP health, threats) and
    /// posts the upload batches a site would send. Once, or on a schedule.
    PullSite {
        #[command(flatten)]
        target: Target,
        /// The AdminService, e.g. https://cm01.corp.contoso.com/AdminService
        #[arg(long)]
        adminservice: String,
        /// A file holding an Entra ID access token for the AdminService (or
        /// TENANTSCOPE_ADMINSERVICE_TOKEN in the environment).
        #[arg(long)]
        bearer_token_file: Option<PathBuf>,
        /// Windows integrated authentication (NTLMv2) as this account, DOMAIN\user or
        /// user@domain; its password from --password-file or TENANTSCOPE_ADMINSERVICE_PASSWORD.
        #[arg(long)]
        windows_account: Option<String>,
        /// A file holding the Windows account's password.
        #[arg(long, requires = "windows_account")]
        password_file: Option<PathBuf>,
        /// PEM file of certificate authorities to trust besides the system's (the provider's
        /// certificate is often issued by the organisation's own CA).
        #[arg(long)]
        ca_bundle: Option<PathBuf>,
        /// Pull again after this long (15m, 1h, 1d); without it, pull once.
        #[arg(long)]
        every: Option<String>,
        /// First wait after a 5xx before the same page is asked again, in milliseconds.
        #[arg(long, default_value_t = 1000, hide = true)]
        retry_ms: u64,
    },
}

/// Where a feeding command posts, and with which uploader token.
#[derive(clap::Args, Debug)]
struct Target {
    /// The Tenantscope server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    url: String,
    /// An uploader (or admin) token. Better kept out of the shell history: --token-file, or the
    /// TENANTSCOPE_TOKEN environment variable.
    #[arg(long, env = "TENANTSCOPE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A file holding the token.
    #[arg(long)]
    token_file: Option<PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
enum TokenAction {
    /// Creates a token and prints it, alone, on standard output (once: the store keeps only its hash).
    Create {
        /// What the token may do: admin (everything), viewer (read everything), kiosk (read what the
        /// kiosk shows, always with aliases for identified values) or uploader (post batches, remove
        /// devices; cannot sign in).
        #[arg(long)]
        role: String,
        /// Directory of the SQLite store.
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
        /// The PostgreSQL database of the store, when it is kept there.
        #[arg(long, env = "TENANTSCOPE_DATABASE_URL", hide_env_values = true)]
        database: Option<String>,
        /// A tenant's store (`--tenant HOST=TENANT_ID` of the server): the token is that tenant's.
        #[arg(long)]
        tenant: Option<String>,
        /// A name to tell tokens apart.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Lists the tokens (id, role, label, created, revoked, sessions open), never the tokens themselves.
    List {
        /// Directory of the SQLite store.
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
        /// The PostgreSQL database of the store, when it is kept there.
        #[arg(long, env = "TENANTSCOPE_DATABASE_URL", hide_env_values = true)]
        database: Option<String>,
        /// A tenant's store (`--tenant HOST=TENANT_ID` of the server): the token is that tenant's.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revokes a token: it and every session signed in with it stop working (within 5 seconds on a
    /// running server).
    Revoke {
        /// The token's id (`token list`).
        id: i64,
        /// Directory of the SQLite store.
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
        /// The PostgreSQL database of the store, when it is kept there.
        #[arg(long, env = "TENANTSCOPE_DATABASE_URL", hide_env_values = true)]
        database: Option<String>,
        /// A tenant's store (`--tenant HOST=TENANT_ID` of the server): the token is that tenant's.
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(clap::Args, Debug)]
struct Args {
    /// Address to listen on. Loopback by default; set e.g. 0.0.0.0:8080 to expose it.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory of the SQLite store.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// A PostgreSQL database to keep the store in instead (postgres://user:password@host:port/db):
    /// several servers over one database serve the same data, each change announced to all.
    #[arg(long, env = "TENANTSCOPE_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
    /// Serve a tenant of its own at a host name (repeatable), e.g. contoso.example=GUID: its store
    /// (a SQLite file under --data-dir/tenants/GUID/, or a schema of the PostgreSQL database), tokens,
    /// sessions and event streams are its alone, and it takes records of tenant GUID only.
    #[arg(long = "tenant", value_name = "HOST=TENANT_ID", value_parser = tenant_arg)]
    tenants: Vec<(String, String)>,
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
    /// Keep the data moving: a site simulator posts changes through the upload API (batches per second).
    #[arg(long, num_args = 0..=1, default_missing_value = "1")]
    simulate: Option<f64>,
    /// Let anybody read without signing in on a non-loopback address too (otherwise such a server
    /// needs a token to sign in with and refuses to start without one).
    #[arg(long, conflicts_with = "require_sign_in")]
    allow_anonymous: bool,
    /// Reading takes a token or a session on a loopback address too (it is open there by default).
    #[arg(long)]
    require_sign_in: bool,
}

/// `HOST=TENANT_ID` of `--tenant`.
fn tenant_arg(value: &str) -> Result<(String, String), String> {
    let (host, tenant) = value.split_once('=').ok_or("give HOST=TENANT_ID, e.g. contoso.example=6f1b…")?;
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
        return Err(format!("{host:?} is not a host name"));
    }
    let tenant = tenant.trim().to_ascii_lowercase();
    if tenant.is_empty() || !tenant.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(format!("{tenant:?} is not a tenant id (its Entra tenant GUID)"));
    }
    Ok((host, tenant))
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
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Token { action }) => return token_command(action),
        Some(Command::Simulate { url, token, rate, seed }) => {
            return tenantscope_server::simulate::run(&url, &token, rate, seed).await.map_err(|e| e.to_string().into())
        }
        Some(Command::Import { target, tenant, files }) => return import_command(target, tenant, files).await,
        Some(Command::PullGraph { target, tenant, client_id, client_secret_file, every, state_file, graph_url, login_url, poll_ms }) => {
            use tenantscope_server::{client, graph};
            let secret = client::secret(client_secret_file.as_deref(), "--client-secret-file", "TENANTSCOPE_GRAPH_CLIENT_SECRET")
                .map_err(|e| e.to_string())?
                .ok_or("the app's client secret: --client-secret-file FILE or TENANTSCOPE_GRAPH_CLIENT_SECRET")?;
            let every = every.as_deref().map(graph::parse_every).transpose().map_err(|e| format!("--every {e}"))?;
            if !client::is_guid(&tenant) {
                eprintln!("pull-graph: --tenant {tenant} is a domain, not the tenant's id: devices the pull creates take the store's tenant id");
            }
            let token = client::token(target.token, target.token_file.as_deref()).map_err(|e| e.to_string())?;
            let server = client::Server::new(&target.url, token).map_err(|e| e.to_string())?;
            let state_file = state_file.unwrap_or_else(|| {
                let safe: String = tenant.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
                PathBuf::from(format!("pull-graph-{safe}.state.json"))
            });
            let opts = graph::GraphOptions {
                tenant,
                client_id,
                client_secret: secret,
                login_url,
                graph_url,
                state_file,
                poll: std::time::Duration::from_millis(poll_ms),
            };
            return pull_loop(every, || async {
                let p = graph::pull(&opts, &server).await?;
                Ok(format!("pull-graph: {} managedDevices pages, {} reports, {} records written, {} Graph requests", p.pages, p.reports, p.written, p.requests))
            })
            .await;
        }
        Some(Command::PullSite { target, adminservice, bearer_token_file, windows_account, password_file, ca_bundle, every, retry_ms }) => {
            use tenantscope_server::{client, graph, site};
            let bearer = client::secret(bearer_token_file.as_deref(), "--bearer-token-file", "TENANTSCOPE_ADMINSERVICE_TOKEN")
                .map_err(|e| e.to_string())?;
            let windows = match windows_account {
                None => None,
                Some(account) => {
                    let password = client::secret(password_file.as_deref(), "--password-file", "TENANTSCOPE_ADMINSERVICE_PASSWORD")
                        .map_err(|e| e.to_string())?
                        .ok_or("--windows-account needs its password: --password-file FILE or TENANTSCOPE_ADMINSERVICE_PASSWORD")?;
                    Some(tenantscope_server::ntlm::Account::parse(&account, password).map_err(|e| format!("--windows-account {e}"))?)
                }
            };
            // Windows authentication when asked for: a token in the environment is then not sent.
            let bearer = if windows.is_some() { None } else { bearer };
            if windows.is_none() && bearer.is_none() {
                return Err("the AdminService takes Windows authentication (--windows-account) or a bearer token (--bearer-token-file, TENANTSCOPE_ADMINSERVICE_TOKEN)".into());
            }
            let ca_bundle = ca_bundle.map(|f| std::fs::read(&f).map_err(|e| format!("--ca-bundle {}: {e}", f.display()))).transpose()?;
            let every = every.as_deref().map(graph::parse_every).transpose().map_err(|e| format!("--every {e}"))?;
            let token = client::token(target.token, target.token_file.as_deref()).map_err(|e| e.to_string())?;
            let server = client::Server::new(&target.url, token).map_err(|e| e.to_string())?;
            let opts = site::SiteOptions { adminservice, bearer, windows, ca_bundle, retry: std::time::Duration::from_millis(retry_ms) };
            return pull_loop(every, || async {
                let p = site::pull(&opts, &server).await?;
                let sent: Vec<String> = p.sent.iter().map(|(k, n)| format!("{n} {k}")).collect();
                let mut line = format!("pull-site: sent {} ({} AdminService requests", sent.join(", "), p.requests);
                if p.retries > 0 {
                    line.push_str(&format!(", {} pages asked again after a server error", p.retries));
                }
                line.push(')');
                if p.skipped_without_entra_id > 0 {
                    line.push_str(&format!("; {} devices without an Entra device id left out", p.skipped_without_entra_id));
                }
                if !p.missing.is_empty() {
                    line.push_str(&format!("; not on this site (older version): {}", p.missing.join(", ")));
                }
                Ok(line)
            })
            .await;
        }
        None => cli.serve,
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let config = Config {
        data_dir: args.data_dir.clone(),
        database: args.database.clone(),
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
    // Open (anybody reads) on loopback unless told otherwise; elsewhere only when told so.
    let open = tenantscope_server::api::session::reads_open(addr.ip(), args.allow_anonymous, args.require_sign_in);
    let no_sign_in = || {
        eprintln!(
            "tenantscope-server: {} and no token to sign in with exists: create one with `tenantscope-server token create --role admin --data-dir {}`, or pass --allow-anonymous to let anybody read",
            if addr.ip().is_loopback() { "--require-sign-in is set".to_string() } else { format!("{addr} is not a loopback address") },
            args.data_dir.display()
        );
        std::process::exit(2);
    };
    if !open && args.database.is_none() && !args.data_dir.join(tenantscope_server::store::DB_FILE).exists() {
        no_sign_in();
    }
    let web = WebOptions { frame_ancestors: args.frame_ancestors.clone(), allow_hosts: args.allow_hosts.clone(), require_sign_in: !open };
    // While preparing, a tenant's host is told how far it is too (not refused as unknown).
    let mut web_preparing = web.clone();
    web_preparing.allow_hosts.extend(args.tenants.iter().map(|(host, _)| host.clone()));
    let startup = Arc::new(Startup::default());
    let ready = Arc::new(OnceLock::new());
    let app = app_switching(app_preparing(Arc::clone(&startup), config.dist.as_deref(), &web_preparing), Arc::clone(&ready));
    println!("Tenantscope is running at http://{addr}/  (API: http://{addr}/api/v1/summary)");
    // On SIGTERM / Ctrl-C: no new connections, requests in flight get `SHUTDOWN_GRACE` to finish
    // (a long export is cut then).
    let stopping = Arc::new(tokio::sync::Notify::new());
    let signalled = Arc::clone(&stopping);
    let live = tenantscope_server::live::Live::new();
    let streams = Arc::clone(&live);
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal(terminate).await;
        // Open event streams end now; they would otherwise hold the shutdown up to its deadline.
        streams.shutdown();
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
                tracing::info!(store = %store.name(), elapsed_ms = started.elapsed().as_millis() as u64, "store ready");
                if !open && !store.with(|c| tokens::any_sign_in(c)).unwrap_or(false) {
                    no_sign_in();
                }
                // Over PostgreSQL: every change any server commits is followed here too, and this
                // server serves once its index has every change committed so far.
                if tenantscope_server::live::follow_database(Arc::clone(&store), Arc::clone(&live)).is_some() {
                    live.changed(&store).await;
                }
                let default_app = app_live(Arc::clone(&store), Arc::clone(&live), config.dist.as_deref(), &web);
                // Each tenant: its own store, index, summary and event hub, at its host name.
                let mut tenant_apps = Vec::new();
                for (host, tenant) in &args.tenants {
                    let opened = tokio::task::spawn_blocking({
                        let (config, tenant, startup) = (config.clone(), tenant.clone(), Arc::clone(&startup));
                        move || tenantscope_server::prepare_tenant(&config, &tenant, &startup)
                    })
                    .await;
                    let tenant_store = match opened {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => return format!("tenant {tenant}: {e}"),
                        Err(e) => return format!("tenant {tenant}: {e}"),
                    };
                    let tenant_live = tenantscope_server::live::Live::new();
                    if tenantscope_server::live::follow_database(Arc::clone(&tenant_store), Arc::clone(&tenant_live)).is_some() {
                        tenant_live.changed(&tenant_store).await;
                    }
                    let mut tenant_web = web.clone();
                    tenant_web.allow_hosts.push(host.clone());
                    // A tenant's rows are read with the tenant's token or session only, even on a
                    // loopback address (behind a proxy, loopback is everybody's way in).
                    tenant_web.require_sign_in = true;
                    tracing::info!(host = %host, tenant = %tenant, store = %tenant_store.name(), "tenant ready");
                    tenant_apps.push((host.clone(), app_live(tenant_store, tenant_live, config.dist.as_deref(), &tenant_web)));
                }
                let _ = ready.set(if tenant_apps.is_empty() { default_app } else { tenantscope_server::app_tenants(default_app, tenant_apps) });
                // The demo's own upload token, shown once (no token is accepted until one exists).
                if config.demo.is_some() {
                    match store.with(|c| Ok(if tokens::any(c)? { None } else { Some(tokens::create(c, tokens::Role::Uploader, "demo", now)?) })) {
                        Ok(Some(token)) => println!("Upload token of this demo (shown once): {token}"),
                        Ok(None) => {}
                        Err(e) => tracing::error!(error = %e, "cannot create the demo's upload token"),
                    }
                    // A kiosk link for the wall, in a link that signs the screen in once: a kiosk token
                    // made at each start. Earlier ones nobody signed in with are revoked; a wall signed
                    // in with one keeps its session through restarts.
                    let kiosk = store.with(|c| {
                        c.execute(
                            // Older than ten minutes: another server over the same database that
                            // started with this one keeps the link it printed.
                            "UPDATE tokens SET revoked = ?1 WHERE label = 'demo kiosk' AND revoked IS NULL AND created < ?3
                             AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.token = tokens.id AND s.expires > ?2)",
                            tenantscope_server::params![
                                tenantscope_model::time::format_rfc3339(now),
                                now,
                                tenantscope_model::time::format_rfc3339(now - 600)
                            ],
                        )?;
                        tokens::create(c, tokens::Role::Kiosk, "demo kiosk", now)
                    });
                    match kiosk {
                        Ok(token) => println!("Kiosk (privacy mode, rotating panels): http://{addr}/kiosk?token={token}&theme=dark"),
                        Err(e) => tracing::error!(error = %e, "cannot create the demo's kiosk token"),
                    }
                }
                if let Some(rate) = args.simulate {
                    // Through loopback (a server listening on every address answers there too).
                    let port = addr.port();
                    let url = if addr.ip().is_unspecified() { format!("http://127.0.0.1:{port}") } else { format!("http://{addr}") };
                    match store.with(|c| {
                        c.execute("DELETE FROM tokens WHERE label = 'simulator'", [])?;
                        // It reads what it changes (the summary, device ids) and uploads: admin.
                        tokens::create(c, tokens::Role::Admin, "simulator", now)
                    }) {
                        Ok(token) => {
                            tokio::spawn(async move {
                                if let Err(e) = tenantscope_server::simulate::run(&url, &token, rate, 1).await {
                                    tracing::error!(error = %e, "the site simulator stopped");
                                }
                            });
                        }
                        Err(e) => tracing::error!(error = %e, "cannot create the simulator's token"),
                    }
                }
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

/// `token create` prints the token alone on standard output (so that `TOKEN=$(tenantscope-server
/// token create ...)` works); `token list` a table; `token revoke` what it did.
fn token_command(action: TokenAction) -> Result<(), Box<dyn std::error::Error>> {
    let open = |data_dir: &std::path::Path, database: Option<String>, tenant: Option<String>| match match &tenant {
        Some(tenant) => tenantscope_server::store::Store::open_tenant(data_dir, database.as_deref(), tenant),
        None => tenantscope_server::store::Store::open_in(data_dir, database.as_deref()),
    } {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tenantscope-server: {e}");
            std::process::exit(1);
        }
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    match action {
        TokenAction::Create { role, data_dir, database, tenant, label } => {
            let Some(role) = tokens::Role::from_key(&role) else {
                let roles: Vec<&str> = tokens::Role::ALL.iter().map(|r| r.key()).collect();
                eprintln!("tenantscope-server: no role {role:?}; roles: {}", roles.join(", "));
                std::process::exit(2);
            };
            let token = open(&data_dir, database, tenant).with(|c| tokens::create(c, role, &label, now))?;
            println!("{token}");
        }
        TokenAction::List { data_dir, database, tenant } => {
            let list = open(&data_dir, database, tenant).with(|c| tokens::list(c, now))?;
            println!("{:>4}  {:<9} {:<20} {:<21} {:<21} {:>8}", "id", "role", "label", "created", "revoked", "sessions");
            for t in list {
                println!(
                    "{:>4}  {:<9} {:<20} {:<21} {:<21} {:>8}",
                    t.id,
                    t.role,
                    t.label,
                    t.created,
                    t.revoked.as_deref().unwrap_or("-"),
                    t.sessions
                );
            }
        }
        TokenAction::Revoke { id, data_dir, database, tenant } => {
            if open(&data_dir, database, tenant).with(|c| tokens::revoke(c, id, now))? {
                println!("token {id} revoked: it and its sessions stop working");
            } else {
                eprintln!("tenantscope-server: no token {id} that is not revoked already (see `token list`)");
                std::process::exit(2);
            }
        }
    }
    Ok(())
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

/// `import`: each file posted to the server's import route, with a progress bar and its report.
async fn import_command(target: Target, tenant: Option<String>, files: Vec<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    use tenantscope_server::client;
    let token = client::token(target.token, target.token_file.as_deref()).map_err(|e| e.to_string())?;
    let server = client::Server::new(&target.url, token).map_err(|e| e.to_string())?;
    let mut refused = 0;
    for path in &files {
        let (name, body) = match client::import_body(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{e}");
                refused += 1;
                continue;
            }
        };
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} records ({per_sec})")
                .expect("template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("{name}: checking"));
        let answer = server
            .import(&name, body, tenant.as_deref(), |line| {
                if let Some(total) = line.pointer("/checked/records").and_then(serde_json::Value::as_u64) {
                    bar.set_length(total);
                    bar.set_message(name.clone());
                }
                if let Some(done) = line.pointer("/progress/done").and_then(serde_json::Value::as_u64) {
                    bar.set_position(done);
                }
            })
            .await;
        bar.finish_and_clear();
        match answer {
            Ok(report) => print!("{}", client::describe(&report)),
            Err(e) => {
                eprintln!("{name}: refused: {e}");
                refused += 1;
            }
        }
    }
    if refused > 0 {
        return Err(format!("{refused} of {} files not imported", files.len()).into());
    }
    Ok(())
}

/// Runs a pull once (its error is the command's), or every `every` (an error is printed and the
/// next pull resumes where it stopped).
async fn pull_loop<F, Fut>(every: Option<std::time::Duration>, mut pull: F) -> Result<(), Box<dyn std::error::Error>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<String, tenantscope_server::client::BoxError>>,
{
    loop {
        let started = std::time::Instant::now();
        match (pull().await, every) {
            (Ok(summary), _) => println!("{summary}"),
            (Err(e), None) => return Err(e.to_string().into()),
            (Err(e), Some(_)) => eprintln!("pull failed (the next one resumes where it stopped): {e}"),
        }
        let Some(every) = every else { return Ok(()) };
        tokio::time::sleep(every.saturating_sub(started.elapsed())).await;
    }
}
