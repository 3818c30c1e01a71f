//! The server binary as an operator runs it: a port in use is reported at once, and SIGTERM stops it
//! cleanly.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tenantscope-server"))
}

#[test]
fn a_port_in_use_is_reported_before_any_seeding() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = server()
        .args(["--listen", &addr.to_string(), "--dist", "none", "--demo-devices", "200000"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(5), "reported at once: {:?}", started.elapsed());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    // Nothing was seeded.
    assert!(std::fs::read_dir(dir.path()).map(|mut d| d.next().is_none()).unwrap_or(true));
}

#[test]
fn sigterm_stops_it_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = server()
        .args(["--listen", "127.0.0.1:0", "--dist", "none", "--demo-devices", "100"])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Its log goes to the same output: read until it says it is running.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("Tenantscope is running at http://127.0.0.1:") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the server ended before it ran");
    }
    // Keep draining its output so that it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the server on `data_dir` expecting it to stop at start-up; returns its standard error.
fn refused_start(data_dir: &std::path::Path) -> String {
    let mut child = server()
        .args(["--listen", "127.0.0.1:0", "--dist", "none", "--demo-devices", "50"])
        .arg("--data-dir")
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // One that starts anyway is stopped and fails the test, not left running.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("it started on {} instead of refusing", data_dir.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "it must not start on {}", data_dir.display());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let err = err.trim().to_string();
    assert_eq!(err.lines().count(), 1, "one line an operator can act on: {err}");
    assert!(err.starts_with("tenantscope-server: "), "{err}");
    err
}

#[test]
fn a_store_it_cannot_use_stops_it_with_one_line() {
    // A data directory that cannot be created (its parent is a file).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let err = refused_start(&dir.path().join("file/data"));
    assert!(err.contains("cannot create the data directory"), "{err}");

    // A file that is not a database.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tenantscope.sqlite"), "this is not SQLite ".repeat(400)).unwrap();
    let err = refused_start(dir.path());
    assert!(err.contains("is not a Tenantscope database or is damaged"), "{err}");

    // A schema written by a newer server.
    let dir = tempfile::tempdir().unwrap();
    drop(tenantscope_server::store::Store::open(dir.path()).unwrap());
    let conn = rusqlite_open(dir.path());
    conn.execute("INSERT INTO schema_version (version) VALUES (99)", []).unwrap();
    drop(conn);
    let err = refused_start(dir.path());
    assert!(err.contains("schema version 99, newer than this server understands"), "{err}");

    // A database whose pages were damaged on disk.
    let dir = tempfile::tempdir().unwrap();
    let store = tenantscope_server::store::Store::open(dir.path()).unwrap();
    tenantscope_server::seed::seed(
        &store,
        &tenantscope_server::seed::DemoOptions { devices: 2_000, seed: 3, anchor: 1_795_536_000, progress: false },
    )
    .unwrap();
    store.with(|c| Ok(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?)).unwrap();
    drop(store);
    let path = dir.path().join("tenantscope.sqlite");
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() > 40 * page);
    for b in &mut bytes[20 * page..30 * page] {
        *b = 0x5a;
    }
    std::fs::write(&path, bytes).unwrap();
    let err = refused_start(dir.path());
    assert!(err.contains("damaged"), "{err}");
}

fn rusqlite_open(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("tenantscope.sqlite")).unwrap()
}

#[test]
fn the_readme_flags_are_the_binary_flags() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let out = server().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    // The commands' flags too (`token create`, `simulate`).
    let mut all_help = help.clone();
    for command in [&["token", "create", "--help"][..], &["simulate", "--help"][..]] {
        let out = server().args(command).output().unwrap();
        assert!(out.status.success(), "{command:?}");
        all_help.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    // Every `--flag` the README shows for the server is one the binary takes.
    let section = readme.split("Server flags:").nth(1).expect("the README lists the server flags").split("\n\n").next().unwrap();
    let flags: Vec<&str> = section
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .collect();
    assert!(flags.len() >= 8, "{flags:?}");
    for flag in flags {
        assert!(all_help.contains(flag), "README names {flag}, which `tenantscope-server --help` does not know:\n{all_help}");
    }
    // And every flag the binary takes is in the README.
    for flag in help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).filter(|w| w.starts_with("--") && w.len() > 2) {
        if flag != "--help" && flag != "--version" {
            assert!(section.contains(flag), "{flag} is not described in the README's server flags");
        }
    }
    // "Bring your own data": every flag shown is one of the feeding commands' (or the server's).
    for command in ["import", "pull-graph", "pull-site"] {
        let out = server().args([command, "--help"]).output().unwrap();
        assert!(out.status.success(), "{command}");
        all_help.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    let own = readme.split("## Bring your own data").nth(1).expect("the README has Bring your own data").split("\n## ").next().unwrap();
    let flags: Vec<&str> =
        own.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).filter(|w| w.starts_with("--") && w.len() > 2).collect();
    assert!(flags.len() >= 12, "{flags:?}");
    for flag in flags {
        assert!(all_help.contains(flag), "README's Bring your own data names {flag}, which no command takes");
    }
}

/// Starts the server on a free port with `args`; returns the child and its base URL once it answers.
fn start(dir: &std::path::Path, args: &[&str]) -> (std::process::Child, String, Vec<String>) {
    let mut child = server()
        .args(["--listen", "127.0.0.1:0", "--dist", "none"])
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut base = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.split("Tenantscope is running at ").nth(1) {
            base = rest.split('/').take(3).collect::<Vec<_>>().join("/");
        }
        lines.push(line.trim().to_string());
        if !base.is_empty() && (lines.iter().any(|l| l.contains("Upload token")) || !args.contains(&"--demo-devices")) {
            if matches!(http(&base, "GET", "/api/v1/summary", None, "").0, 200 | 401) {
                break;
            }
        }
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, base, lines)
}

/// A plain HTTP/1.1 request; (status, body).
fn http(base: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    for _ in 0..100 {
        let Ok(mut stream) = std::net::TcpStream::connect(host) else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        if status == 503 {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        return (status, answer.split("\r\n\r\n").nth(1).unwrap_or("").to_string());
    }
    (0, String::new())
}

#[test]
fn an_acknowledged_batch_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    // The token command prints the token alone, so that TOKEN=$(...) works.
    let out = server().args(["token", "create", "--role", "uploader", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap();
    assert!(token.starts_with("ts_") && token.trim_end().lines().count() == 1, "{token:?}");
    let token = token.trim().to_string();
    let (mut child, base, _) = start(dir.path(), &["--no-demo"]);
    let batch = r#"[{"SMSID":"GUID:1","AADTenantID":"t","AADDeviceID":"kill-9","Name":"SURVIVOR","DeviceOS":"Microsoft Windows NT Workstation 10.0","DeviceOSBuild":"10.0.26100","AADPrimaryUserID":null,"Model":"M","Manufacturer":"X","SerialNumber":"S","DomainNames":"d","SKU":"Enterprise"}]"#;
    let (status, body) = http(&base, "POST", "/api/v1/upload/devices", Some(&token), batch);
    assert_eq!(status, 200, "{body}");
    // Killed right after the answer: no shutdown, no checkpoint.
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut child, base, _) = start(dir.path(), &["--no-demo"]);
    let (status, body) = http(&base, "GET", "/api/v1/devices/kill-9", None, "");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("SURVIVOR"), "{body}");
}

#[test]
fn the_demo_prints_an_upload_token_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, lines) = start(dir.path(), &["--demo-devices", "50"]);
    let token = lines.iter().find_map(|l| l.split("(shown once): ").nth(1)).map(str::to_string);
    let answer = token.as_deref().map(|t| http(&base, "POST", "/api/v1/upload/telemetry", Some(t),
        r#"[{"Time":"2026-11-24T08:00:00Z","Kind":"TrackEvent","Name":"Test","SeverityLevel":1,"Message":"hello"}]"#));
    let _ = child.kill();
    let _ = child.wait();
    assert!(token.is_some(), "{lines:?}");
    assert_eq!(answer.unwrap().0, 200);
}

#[test]
fn the_simulator_keeps_the_demo_moving() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = start(dir.path(), &["--demo-devices", "200", "--simulate", "4"]);
    // The summary's last upload: the demo's time, then each simulated batch's.
    let last_upload = || -> String {
        let body = http(&base, "GET", "/api/v1/summary", None, "").1;
        body.split("\"last_upload\":").nth(1).unwrap_or("").chars().take(24).collect()
    };
    let first = last_upload();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = first.clone();
    while Instant::now() < deadline && last == first {
        std::thread::sleep(Duration::from_millis(300));
        last = last_upload();
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(!first.is_empty() && last != first, "no simulated change: last upload {first:?} -> {last:?}");
}

#[test]
fn a_tenant_is_served_at_its_host_with_its_own_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = "cccccccc-3333-4333-8333-cccccccccccc";
    let create = |extra: &[&str]| -> String {
        let out = server().args(["token", "create", "--role", "viewer", "--data-dir"]).arg(dir.path()).args(extra).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let tenant_viewer = create(&["--tenant", tenant]);
    let default_viewer = create(&[]);
    let (mut child, base, _) = start(dir.path(), &["--no-demo", "--tenant", &format!("contoso.localhost={tenant}")]);
    let at = |host: &str, token: Option<&str>| -> u16 {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        write!(stream, "GET /api/v1/summary HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    };
    let answers = [
        at("contoso.localhost", Some(&tenant_viewer)),
        at("contoso.localhost", None),
        at("contoso.localhost", Some(&default_viewer)),
        at("localhost", Some(&tenant_viewer)),
        at("localhost", None),
    ];
    let _ = child.kill();
    let _ = child.wait();
    // The tenant's token at its host; nobody (even on loopback) and the default store's token are
    // refused there; the tenant's token means nothing to the default store (open on loopback).
    assert_eq!(answers, [200, 401, 401, 401, 200]);
    assert!(dir.path().join("tenants").join(tenant).join(tenantscope_server::store::DB_FILE).exists());
}

#[test]
fn open_event_streams_do_not_hold_up_a_shutdown() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = start(dir.path(), &["--demo-devices", "50"]);
    let host = base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&host).unwrap();
    stream.write_all(format!("GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes()).unwrap();
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&head[..n]));
    let started = Instant::now();
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "an open events stream held the shutdown up");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The stream ended with the server.
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
}

#[test]
fn a_closed_server_needs_a_token_to_start_and_a_revoked_one_stops_working() {
    let dir = tempfile::tempdir().unwrap();
    let closed = || {
        server()
            .args(["--listen", "127.0.0.1:0", "--dist", "none", "--no-demo", "--require-sign-in"])
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap()
    };
    // No token to sign in with: refused at once, in one line.
    let out = closed();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no token to sign in with exists") && err.contains("token create --role admin"), "{err}");
    // An uploader's token is not one to sign in with.
    let token = |args: &[&str]| {
        let out = server().args(args).arg("--data-dir").arg(dir.path()).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    token(&["token", "create", "--role", "uploader"]);
    assert!(!closed().status.success(), "an uploader token does not open a closed server");
    let viewer = token(&["token", "create", "--role", "viewer", "--label", "wall"]);
    assert!(viewer.starts_with("ts_") && !viewer.contains(char::is_whitespace), "the token alone: {viewer:?}");
    let (mut child, base, _) = start(dir.path(), &["--no-demo", "--require-sign-in"]);
    let before = (http(&base, "GET", "/api/v1/summary", None, ""), http(&base, "GET", "/api/v1/summary", Some(&viewer), ""));
    let list = token(&["token", "list"]);
    let revoked = token(&["token", "revoke", "2"]);
    // The running server notices within its trust time (5 s).
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut after = http(&base, "GET", "/api/v1/summary", Some(&viewer), "");
    while after.0 == 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        after = http(&base, "GET", "/api/v1/summary", Some(&viewer), "");
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(before.0 .0, 401, "{:?}", before.0);
    assert_eq!(before.1 .0, 200, "{:?}", before.1);
    assert!(list.contains("viewer") && list.contains("wall") && !list.contains(&viewer), "{list}");
    assert!(revoked.contains("token 2 revoked"), "{revoked}");
    assert_eq!(after.0, 401, "{:?}", after);
    assert!(after.1.contains("revoked"), "{}", after.1);
}

#[test]
fn the_import_command_imports_reports_and_refuses_with_a_failing_exit() {
    let dir = tempfile::tempdir().unwrap();
    let out = server().args(["token", "create", "--role", "uploader", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    let token_file = dir.path().join("uploader.token");
    std::fs::write(&token_file, out.stdout).unwrap();
    let (mut child, base, _) = start(dir.path(), &["--no-demo"]);
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import");
    let import = |files: &[&str]| {
        let mut cmd = server();
        cmd.args(["import", "--url", &base, "--token-file"]).arg(&token_file).env_remove("TENANTSCOPE_TOKEN");
        for f in files {
            cmd.arg(fixtures.join(f));
        }
        cmd.output().unwrap()
    };
    let out = import(&["graph-managedDevices", "DefenderAgents.zip"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("graph-managedDevices/ (2 pages) — Graph managedDevices: 22 rows"), "{stdout}");
    assert!(stdout.contains("created 20"), "{stdout}");
    assert!(stdout.contains("matched 0 by Entra device id, 20 by name"), "{stdout}");
    // One good file and one refused: the good one is imported, the command fails and says why.
    let out = import(&["Malware.json", "bad/formula.csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("formula.csv: refused") && stderr.contains("1 of 2 files not imported"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("10 records written"));
    // Without a token it says where one comes from.
    let out = server().args(["import", "--url", &base]).arg(fixtures.join("Malware.json")).env_remove("TENANTSCOPE_TOKEN").output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("token create --role uploader"));
    child.kill().unwrap();
    child.wait().unwrap();
}
