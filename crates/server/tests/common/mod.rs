//! What the tests of the feeding commands share: a real server on a loopback port over a fresh
//! store, with an uploader and a viewer token.
#![allow(dead_code)]

#[path = "../backend/mod.rs"]
pub mod backend;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tenantscope_server::client::{self, Server};
use tenantscope_server::live::Live;
use tenantscope_server::store::{tokens, Store};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name)
}

pub struct Running {
    pub _dir: tempfile::TempDir,
    pub store: Arc<Store>,
    pub base: String,
    pub server: Server,
    pub viewer: String,
    pub uploader: String,
}

pub async fn running() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let store = backend::store(dir.path());
    let (uploader, viewer) = store
        .with(|c| Ok((tokens::create(c, tokens::Role::Uploader, "u", 0)?, tokens::create(c, tokens::Role::Viewer, "v", 0)?)))
        .unwrap();
    let app = tenantscope_server::app_live(Arc::clone(&store), Live::new(), None, &Default::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let server = Server::new(&base, uploader.clone()).unwrap();
    Running { _dir: dir, store, base, server, viewer, uploader }
}

impl Running {
    pub async fn import(&self, name: &str) -> Result<Value, String> {
        self.import_for(name, None).await
    }

    pub async fn import_for(&self, name: &str, tenant: Option<&str>) -> Result<Value, String> {
        let (file, body) = client::import_body(&fixture(name)).map_err(|e| e.to_string())?;
        let mut lines = Vec::new();
        let report = self.server.import(&file, body, tenant, |l| lines.push(l.clone())).await.map_err(|e| e.to_string())?;
        // The stream: checked, one progress line per batch, the report.
        assert!(lines[0].get("checked").is_some(), "{lines:?}");
        let progress = lines.iter().filter(|l| l.get("progress").is_some()).count();
        assert_eq!(progress, report["changes"].as_array().unwrap().len(), "{lines:?}");
        Ok(report)
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.store.with(|c| Ok(c.query_row(sql, [], |r| r.get(0))?)).unwrap()
    }

    /// With `TENANTSCOPE_KEEP_STORE=DIR/`, a copy of the store as `DIR/<name>/` (to serve and look at:
    /// `tenantscope-server --data-dir DIR/<name> --no-demo`).
    pub fn keep_store(&self, name: &str) {
        let Some(dir) = std::env::var_os("TENANTSCOPE_KEEP_STORE") else { return };
        let target = Path::new(&dir).join(name);
        std::fs::create_dir_all(&target).unwrap();
        let file = target.join(tenantscope_server::store::DB_FILE);
        let _ = std::fs::remove_file(&file);
        let path = file.display().to_string().replace('\'', "''");
        self.store.with(|c| Ok(c.execute_batch(&format!("VACUUM INTO '{path}'"))?)).unwrap();
    }

    pub fn change_id(&self) -> i64 {
        self.store.with(|c| tenantscope_server::store::write::last_change(c)).unwrap()
    }

    pub async fn get(&self, path: &str) -> Value {
        let answer = reqwest::get(format!("{}/api/v1{path}", self.base)).await.unwrap();
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap()
    }
}

