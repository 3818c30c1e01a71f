//! Several servers over one PostgreSQL database (`TENANTSCOPE_TEST_DATABASE`; `scripts/test.sh` runs
//! this with a throw-away cluster): real HTTP servers on loopback ports, each with its own store pool,
//! devices index, summary and event streams, following the changes the others commit.
//! Without a PostgreSQL server the tests say so and pass: there is nothing to replicate over SQLite.

mod backend;

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tenantscope_server::live::{self, Live};
use tenantscope_server::seed::{seed, DemoOptions};
use tenantscope_server::store::{tokens, Store};

struct Replica {
    base: String,
    store: Arc<Store>,
    stop: tokio::sync::oneshot::Sender<()>,
}

/// A server over the database at `url`: its own pool, index and event hub, following the others.
async fn replica(url: &str) -> Replica {
    let store = Store::open_postgres(url).unwrap();
    store.device_index().unwrap();
    let live = Live::new();
    live::follow_database(Arc::clone(&store), Arc::clone(&live)).expect("PostgreSQL is followed");
    live.changed(&store).await;
    let app = tenantscope_server::app_live(Arc::clone(&store), Arc::clone(&live), None, &Default::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
                live.shutdown();
            })
            .await
            .unwrap()
    });
    Replica { base, store, stop }
}

struct Cluster {
    a: Replica,
    b: Replica,
    uploader: String,
    http: reqwest::Client,
}

/// Two replicas over a fresh database holding a small demo tenant, or None without PostgreSQL.
async fn cluster() -> Option<Cluster> {
    let Some(server) = backend::database() else {
        eprintln!("no TENANTSCOPE_TEST_DATABASE: replicas need PostgreSQL (scripts/test.sh starts one)");
        return None;
    };
    let url = backend::fresh_database(&server);
    {
        let first = Store::open_postgres(&url).unwrap();
        seed(&first, &DemoOptions { devices: 150, seed: 9, anchor: 1_795_536_000, progress: false }).unwrap();
    }
    let a = replica(&url).await;
    let b = replica(&url).await;
    let uploader = a.store.with(|c| tokens::create(c, tokens::Role::Uploader, "u", 0)).unwrap();
    Some(Cluster { a, b, uploader, http: reqwest::Client::new() })
}

fn device(id: &str, name: &str) -> Value {
    json!({
        "SMSID": "GUID:1", "AADTenantID": "t", "AADDeviceID": id, "Name": name,
        "DeviceOS": "Microsoft Windows NT Workstation 10.0", "DeviceOSBuild": "10.0.26100", "AADPrimaryUserID": null,
        "Model": "Latitude 7440", "Manufacturer": "Dell Inc.", "SerialNumber": "S1", "DomainNames": "corp.contoso.com", "SKU": "Enterprise",
    })
}

impl Cluster {
    async fn upload(&self, to: &Replica, kind: &str, records: Value) -> reqwest::StatusCode {
        self.http
            .post(format!("{}/api/v1/upload/{kind}", to.base))
            .bearer_auth(&self.uploader)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&records).unwrap())
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn get(&self, at: &Replica, path: &str) -> Value {
        let body = self.http.get(format!("{}{path}", at.base)).send().await.unwrap().bytes().await.unwrap();
        serde_json::from_slice(&body).unwrap()
    }
}

/// An open event stream.
struct Events {
    response: reqwest::Response,
    text: String,
}

async fn events(at: &Replica, last_event_id: Option<i64>) -> Events {
    let mut request = reqwest::Client::new().get(format!("{}/api/v1/events", at.base));
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    Events { response, text: String::new() }
}

impl Events {
    /// The change notices' ids read so far, once `n` have come (or 5 s passed).
    async fn changes(&mut self, n: usize) -> Vec<i64> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while self.text.matches("event: change").count() < n {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.text.push_str(&String::from_utf8_lossy(&chunk)),
                _ => break,
            }
        }
        self.text.lines().filter_map(|l| l.strip_prefix("id: ")).map(|v| v.parse().unwrap()).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_on_one_replica_reaches_the_other_ones_console_in_under_a_second() {
    let Some(c) = cluster().await else { return };
    let before = c.get(&c.b, "/api/v1/summary").await["total_devices"].as_i64().unwrap();
    let mut on_b = events(&c.b, None).await;
    let sent = Instant::now();
    assert_eq!(c.upload(&c.a, "devices", json!([device("rep-1", "REPLICATED-1")])).await, 200);
    let ids = on_b.changes(1).await;
    let took = sent.elapsed();
    assert_eq!(ids.len(), 1, "replica B announced the change made on A: {}", on_b.text);
    eprintln!("upload on A → notice on B: {} ms", took.as_millis());
    assert!(took < Duration::from_secs(1), "{took:?}");
    // B's own index and summary have it (served from B's memory).
    assert_eq!(c.get(&c.b, "/api/v1/summary").await["total_devices"].as_i64().unwrap(), before + 1);
    let page = c.get(&c.b, "/api/v1/devices?q=REPLICATED-1").await;
    assert_eq!(page["total"], 1, "{page}");
    // The notice carries B's summary after the change.
    let data: Value = serde_json::from_str(on_b.text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap()).unwrap();
    assert_eq!(data["summary"]["total_devices"].as_i64().unwrap(), before + 1);
    let _ = (c.a.stop.send(()), c.b.stop.send(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_event_id_works_across_replicas_and_change_ids_come_from_the_database() {
    let Some(c) = cluster().await else { return };
    let mut on_a = events(&c.a, None).await;
    assert_eq!(c.upload(&c.a, "devices", json!([device("lei-1", "LEI-1")])).await, 200);
    let first = on_a.changes(1).await[0];
    // Uploads arriving at either replica, at once: each is one change with its own id, in commit order.
    let mut sent = Vec::new();
    for i in 0..10 {
        let target = if i % 2 == 0 { &c.a } else { &c.b };
        sent.push(c.upload(target, "devices", json!([device(&format!("lei-{}", i + 2), &format!("LEI-{}", i + 2))])));
    }
    let statuses = futures_util::future::join_all(sent).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let seen_on_a = on_a.changes(11).await;
    assert_eq!(seen_on_a, (first..=first + 10).collect::<Vec<_>>(), "every change once, in order, on A");
    // A console that was on A reconnects to B with the last id it saw: B replays what it missed.
    let mut on_b = events(&c.b, Some(first + 4)).await;
    assert_eq!(on_b.changes(6).await, (first + 5..=first + 10).collect::<Vec<_>>(), "{}", on_b.text);
    // Both replicas agree on everything.
    for path in ["/api/v1/summary", "/api/v1/devices?q=LEI-&page_size=50", "/api/v1/antivirus"] {
        assert_eq!(c.get(&c.a, path).await, c.get(&c.b, path).await, "{path}");
    }
    assert_eq!(c.get(&c.b, "/api/v1/devices?q=LEI-").await["total"], 11);
    let _ = (c.a.stop.send(()), c.b.stop.send(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_lost_its_connection_catches_up_from_the_change_log() {
    let Some(c) = cluster().await else { return };
    let mut on_b = events(&c.b, None).await;
    // Every listening connection is cut (a database restart, a network blip) ...
    let cut: i64 = c
        .a
        .store
        .with(|conn| {
            Ok(conn.query_row(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND datname = current_database()",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(cut, 2, "each replica listens on a connection of its own");
    // ... and a change is committed meanwhile: B follows it all the same.
    assert_eq!(c.upload(&c.a, "devices", json!([device("cut-1", "CUT-1")])).await, 200);
    assert_eq!(on_b.changes(1).await.len(), 1, "{}", on_b.text);
    assert_eq!(c.get(&c.b, "/api/v1/devices?q=CUT-1").await["total"], 1);
    // A replica started later begins with everything committed so far.
    let url = match c.a.store.location() {
        tenantscope_server::store::Location::Postgres(url) => url.clone(),
        _ => unreachable!(),
    };
    let late = replica(&url).await;
    assert_eq!(c.get(&late, "/api/v1/summary").await, c.get(&c.b, "/api/v1/summary").await);
    let _ = (c.a.stop.send(()), c.b.stop.send(()), late.stop.send(()));
}

#[test]
fn a_database_with_a_newer_schema_is_refused_in_one_line() {
    let Some(server) = backend::database() else { return };
    let url = backend::fresh_database(&server);
    drop(Store::open_postgres(&url).unwrap());
    let newer = tenantscope_server::store::schema_version() + 1;
    Store::open_postgres(&url).unwrap().with(|c| Ok(c.execute("INSERT INTO schema_version (version) VALUES (?1)", [newer])?)).unwrap();
    let message = match Store::open_postgres(&url) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a newer schema was opened"),
    };
    assert!(message.contains(&format!("schema version {newer}, newer than this server understands")), "{message}");
    assert!(!message.contains('\n'), "{message}");
    // And a server that is not there: said so, in one line.
    let gone = Store::open_postgres("postgres://tenantscope@127.0.0.1:1/none").err().unwrap().to_string();
    assert!(gone.contains("cannot connect to the database") && gone.contains("refused"), "{gone}");
}
