//! The commands that feed a running server (`import`, `pull-graph`, `pull-site`) reach it through
//! its API only — the upload and import routes, as a site would — so the open consoles follow live.

use serde_json::Value;
use std::path::{Path, PathBuf};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where an uploader token comes from: `--token-file`, else `--token` / `TENANTSCOPE_TOKEN`.
pub fn token(token: Option<String>, file: Option<&Path>) -> Result<String, BoxError> {
    if let Some(file) = file {
        return secret_file(file, "--token-file");
    }
    token.filter(|t| !t.trim().is_empty()).map(|t| t.trim().to_string()).ok_or_else(|| {
        "an uploader token is needed: --token-file FILE, or TENANTSCOPE_TOKEN in the environment \
         (create one with `tenantscope-server token create --role uploader`)"
            .into()
    })
}

/// A secret from a file (its first line, trimmed), never from the command line.
pub fn secret_file(path: &Path, flag: &str) -> Result<String, BoxError> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    let secret = text.lines().next().unwrap_or("").trim().to_string();
    if secret.is_empty() {
        return Err(format!("{flag} {}: the file is empty", path.display()).into());
    }
    Ok(secret)
}

/// A secret from its file flag, else from its environment variable; None when neither gives one.
pub fn secret(file: Option<&Path>, flag: &str, env: &str) -> Result<Option<String>, BoxError> {
    if let Some(file) = file {
        return secret_file(file, flag).map(Some);
    }
    Ok(std::env::var(env).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()))
}

/// A Tenantscope server's API.
#[derive(Clone)]
pub struct Server {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// An import the server refused, or could not finish.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl Server {
    pub fn new(url: &str, token: String) -> Result<Server, BoxError> {
        let base = url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!("--url {url:?}: give the server's address, e.g. http://127.0.0.1:8080").into());
        }
        let http = reqwest::Client::builder().user_agent(concat!("tenantscope/", env!("CARGO_PKG_VERSION"))).build()?;
        Ok(Server { base, token, http })
    }

    fn refused(status: reqwest::StatusCode, body: &[u8]) -> Refused {
        let detail = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
        Refused(format!("HTTP {}: {detail}", status.as_u16()))
    }

    /// Posts one batch to `/upload/{kind}`.
    pub async fn upload(&self, kind: &str, records: &[Value]) -> Result<(), BoxError> {
        if records.is_empty() {
            return Ok(());
        }
        let answer = self
            .http
            .post(format!("{}/api/v1/upload/{kind}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(records)?)
            .send()
            .await?;
        let status = answer.status();
        if !status.is_success() {
            let body = answer.bytes().await?;
            return Err(Box::new(Refused(format!("upload/{kind}: {}", Self::refused(status, &body)))));
        }
        Ok(())
    }

    /// Posts a file to `/import`; `each` sees every line the server streams back. The final report.
    /// `tenant` is used only when it is a GUID (a tenant's domain is not its id).
    pub async fn import(&self, name: &str, body: Vec<u8>, tenant: Option<&str>, mut each: impl FnMut(&Value)) -> Result<Value, BoxError> {
        let mut url = reqwest::Url::parse(&format!("{}/api/v1/import", self.base))?;
        url.query_pairs_mut().append_pair("file", name);
        if let Some(tenant) = tenant.filter(|t| is_guid(t)) {
            url.query_pairs_mut().append_pair("tenant", tenant);
        }
        // One import at a time on a server: while another runs, the server answers 503 (possibly
        // before it has read the file, cutting the connection): wait and send again, up to two
        // minutes. Any other 503 (the server busy, a time-out) is an answer.
        let mut tries = 0;
        let mut answer = loop {
            tries += 1;
            match self.http.post(url.clone()).bearer_auth(&self.token).body(body.clone()).send().await {
                Ok(a) if a.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE && tries < 60 => {
                    let text = a.text().await.unwrap_or_default();
                    if !text.contains("another import is running") {
                        return Err(Box::new(Refused(format!("HTTP 503: {text}"))));
                    }
                }
                Ok(a) => break a,
                Err(e) if (e.is_request() || e.is_body()) && !e.is_timeout() && tries < 60 => {
                    tracing::debug!("import: {e}; sending again");
                }
                Err(e) => return Err(Box::new(e)),
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        };
        let status = answer.status();
        if !status.is_success() {
            let body = answer.bytes().await?;
            return Err(Box::new(Self::refused(status, &body)));
        }
        let mut pending = Vec::new();
        while let Some(chunk) = answer.chunk().await? {
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let value: Value = serde_json::from_slice(&line)?;
                each(&value);
                if let Some(error) = value.get("error") {
                    let detail = error.get("detail").and_then(Value::as_str).unwrap_or("refused");
                    return Err(Box::new(Refused(detail.to_string())));
                }
                if let Some(report) = value.get("report") {
                    return Ok(report.clone());
                }
            }
        }
        Err("the server ended the import without a report (it may have stopped); import the file again".into())
    }
}

/// What `import` posts for a path: a file as it is, a folder as its Graph pages (`*.json`, by name).
pub fn import_body(path: &Path) -> Result<(String, Vec<u8>), BoxError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    if path.is_dir() {
        let mut pages: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("json")))
            .collect();
        pages.sort();
        if pages.is_empty() {
            return Err(format!("{}: no *.json Graph pages in the folder", path.display()).into());
        }
        let read: Vec<(String, Vec<u8>)> = pages
            .iter()
            .map(|p| Ok((p.display().to_string(), std::fs::read(p)?)))
            .collect::<Result<_, std::io::Error>>()?;
        let joined = crate::import::read::join_pages(&read).map_err(|r| r.0)?;
        return Ok((format!("{name}/ ({} pages)", pages.len()), joined));
    }
    Ok((name, std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?))
}

fn count(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// A report as people read it. Text from the file (headers, values) reaches a terminal: control
/// characters (escape sequences) are left out.
pub fn describe(report: &Value) -> String {
    describe_raw(report).chars().filter(|c| !c.is_control() || *c == '\n').collect()
}

fn describe_raw(report: &Value) -> String {
    let mut out = String::new();
    for t in report.get("tables").and_then(Value::as_array).into_iter().flatten() {
        let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("");
        out.push_str(&format!("{} — {}: {} rows\n", s("file"), s("kind"), count(t, "rows")));
        out.push_str(&format!(
            "  matched {} by Entra device id, {} by name; created {}; written {}, unchanged {}",
            count(t, "matched_by_entra_id"),
            count(t, "matched_by_name"),
            count(t, "created"),
            count(t, "written"),
            count(t, "unchanged")
        ));
        if count(t, "duplicates") > 0 {
            out.push_str(&format!("; {} duplicate rows (the later taken)", count(t, "duplicates")));
        }
        out.push_str(&format!("; skipped {}\n", count(t, "skipped")));
        for skip in t.get("skipped_why").and_then(Value::as_array).into_iter().flatten() {
            let lines: Vec<String> = skip.get("lines").and_then(Value::as_array).into_iter().flatten().map(|l| l.to_string()).collect();
            out.push_str(&format!(
                "    skipped {}: {} (lines {}{})\n",
                count(skip, "rows"),
                skip.get("reason").and_then(Value::as_str).unwrap_or(""),
                lines.join(", "),
                if count(skip, "rows") as usize > lines.len() { ", …" } else { "" }
            ));
        }
        for u in t.get("unknown_values").and_then(Value::as_array).into_iter().flatten() {
            out.push_str(&format!(
                "    unknown value {:?} in {} ({} rows): kept, {}\n",
                u.get("value").and_then(Value::as_str).unwrap_or(""),
                u.get("column").and_then(Value::as_str).unwrap_or(""),
                count(u, "rows"),
                u.get("kept_as").and_then(Value::as_str).unwrap_or("")
            ));
        }
        for (key, label) in [("derived", "derived"), ("not_in_file", "not in the file (kept from the store)"), ("ignored_columns", "columns not used")] {
            let items: Vec<&str> = t.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
            if !items.is_empty() {
                out.push_str(&format!("    {label}: {}\n", items.join(", ")));
            }
        }
    }
    out.push_str(&format!("{} records written in {} ms\n", count(report, "written"), count(report, "milliseconds")));
    out
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex).
pub fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `next` (a server's `@odata.nextLink`) points at the same scheme, host and port as `base`:
/// a token is only ever sent where it was meant to go.
pub fn same_origin(base: &str, next: &str) -> bool {
    match (reqwest::Url::parse(base), reqwest::Url::parse(next)) {
        (Ok(a), Ok(b)) => a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default(),
        _ => false,
    }
}
