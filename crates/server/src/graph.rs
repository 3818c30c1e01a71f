//! `pull-graph`: what an admin's Intune tenant already knows, pulled from Microsoft Graph with an
//! Entra app's client credentials and imported through a running server's import route.
//!
//! One pull: page through `managedDevices` (Windows; each page imported as it comes, so devices
//! exist before their health), then for `DefenderAgents` and `Malware` create a report export job
//! with an explicit `select`, poll it, download the ZIP and import it. `Retry-After` is honoured on
//! 429 and 503; the access token is fetched again before it expires or when Graph says it has.
//! Progress is kept in a state file: a pull that failed resumes where it stopped (the page it had
//! reached, the export job it had created) — and since an import of rows the store already has
//! writes nothing, a page or report taken twice changes nothing either.

use crate::client::{BoxError, Server};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What the pull selects of each report: the documented columns that fill the model (people's
/// names and e-mail addresses are not asked for).
pub const REPORTS: [(&str, &[&str]); 2] = [
    (
        "DefenderAgents",
        &[
            "DeviceId", "DeviceName", "DeviceState", "IsVirtualMachine", "LastReportedDateTime", "MalwareProtectionEnabled",
            "NetworkInspectionSystemEnabled", "ProductStatus", "RealTimeProtectionEnabled", "SignatureUpdateOverdue",
            "TamperProtectionEnabled", "IsWDATPSenseRunning", "WDATPOnboardingState", "_ManagedBy",
        ],
    ),
    (
        "Malware",
        &[
            "DeviceId", "DeviceName", "MalwareId", "MalwareName", "AdditionalInformationUrl", "Severity", "MalwareCategory",
            "ExecutionState", "State", "InitialDetectionDateTime", "LastStateChangeDateTime", "DetectionCount", "_ManagedBy",
        ],
    ),
];

/// The `managedDevices` properties asked for.
pub const DEVICE_SELECT: &str = "id,deviceName,azureADDeviceId,operatingSystem,osVersion,model,manufacturer,serialNumber,userId,skuFamily";

/// Where and as whom to pull.
#[derive(Clone, Debug)]
pub struct GraphOptions {
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    /// `https://login.microsoftonline.com` (or a national cloud's).
    pub login_url: String,
    /// `https://graph.microsoft.com` (or a national cloud's).
    pub graph_url: String,
    pub state_file: PathBuf,
    /// First wait between polls of an export job (doubling, at most 30 s).
    pub poll: Duration,
}

/// Where an interrupted pull stands.
#[derive(Clone, Debug, Default, PartialEq)]
struct State {
    /// The next `managedDevices` page to take (None: start from the first; "done": all taken).
    next_page: Option<String>,
    /// Export jobs created and not yet imported: report → job id.
    jobs: Vec<(String, String)>,
    /// Reports imported in this pull.
    done: Vec<String>,
}

impl State {
    fn load(path: &std::path::Path) -> State {
        let Ok(text) = std::fs::read_to_string(path) else { return State::default() };
        let Ok(v) = serde_json::from_str::<Value>(&text) else { return State::default() };
        State {
            next_page: v["next_page"].as_str().map(str::to_string),
            jobs: v["jobs"]
                .as_object()
                .map(|o| o.iter().filter_map(|(k, v)| v.as_str().map(|id| (k.clone(), id.to_string()))).collect())
                .unwrap_or_default(),
            done: v["done"].as_array().map(|a| a.iter().filter_map(|d| d.as_str().map(str::to_string)).collect()).unwrap_or_default(),
        }
    }

    fn save(&self, path: &std::path::Path) -> Result<(), BoxError> {
        let jobs: serde_json::Map<String, Value> = self.jobs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let text = json!({ "next_page": self.next_page, "jobs": jobs, "done": self.done }).to_string();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

/// A Graph client with its token.
pub struct Graph {
    http: reqwest::Client,
    opts: GraphOptions,
    token: Option<(String, Instant)>,
    /// Requests made, for the summary line.
    pub requests: u64,
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Duration {
    let secs = headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(5);
    Duration::from_secs(secs.min(300))
}

impl Graph {
    pub fn new(opts: GraphOptions) -> Result<Graph, BoxError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("tenantscope/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(300))
            .build()?;
        Ok(Graph { http, opts, token: None, requests: 0 })
    }

    /// A token for Graph (client credentials), fetched again a minute before it expires.
    async fn token(&mut self) -> Result<String, BoxError> {
        if let Some((token, until)) = &self.token {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let url = format!("{}/{}/oauth2/v2.0/token", self.opts.login_url.trim_end_matches('/'), self.opts.tenant);
        let scope = format!("{}/.default", self.opts.graph_url.trim_end_matches('/'));
        let form = [
            ("client_id", self.opts.client_id.as_str()),
            ("client_secret", self.opts.client_secret.as_str()),
            ("scope", scope.as_str()),
            ("grant_type", "client_credentials"),
        ];
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        self.requests += 1;
        let answer = self.http.post(&url).header("content-type", "application/x-www-form-urlencoded").body(body).send().await?;
        let status = answer.status();
        let v: Value = serde_json::from_slice(&answer.bytes().await?).unwrap_or(Value::Null);
        if !status.is_success() {
            let why = v["error_description"].as_str().or(v["error"].as_str()).unwrap_or("no reason given");
            return Err(format!("the sign-in of the app {} to tenant {} was refused (HTTP {}): {why}", self.opts.client_id, self.opts.tenant, status.as_u16()).into());
        }
        let token = v["access_token"].as_str().ok_or("the token endpoint answered without an access_token")?.to_string();
        let lifetime = v["expires_in"].as_u64().unwrap_or(3600);
        self.token = Some((token.clone(), Instant::now() + Duration::from_secs(lifetime.saturating_sub(60))));
        Ok(token)
    }

    /// A Graph request (GET, or POST with a JSON body): 429/503 wait as told, a 401 fetches a new
    /// token once. Ok(JSON answer) for 2xx, else an error with Graph's message.
    async fn call(&mut self, method: reqwest::Method, url: &str, body: Option<&Value>) -> Result<Value, BoxError> {
        let mut renewed = false;
        for _ in 0..12 {
            let token = self.token().await?;
            let mut req = self.http.request(method.clone(), url).bearer_auth(&token);
            if let Some(body) = body {
                req = req.header("content-type", "application/json").body(body.to_string());
            }
            self.requests += 1;
            let answer = req.send().await?;
            let status = answer.status();
            if status.as_u16() == 429 || status.as_u16() == 503 {
                let wait = retry_after(answer.headers());
                tracing::info!("graph: {} on {url}; waiting {} s as told", status.as_u16(), wait.as_secs());
                tokio::time::sleep(wait).await;
                continue;
            }
            if status.as_u16() == 401 && !renewed {
                // Expired or revoked before its time: one new token, then the request again.
                self.token = None;
                renewed = true;
                continue;
            }
            let bytes = answer.bytes().await?;
            if !status.is_success() {
                let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let why = v["error"]["message"].as_str().unwrap_or("no message");
                return Err(format!("Graph {method} {url}: HTTP {}: {why}", status.as_u16()).into());
            }
            if bytes.is_empty() {
                return Ok(Value::Null);
            }
            return Ok(serde_json::from_slice(&bytes)?);
        }
        Err(format!("Graph {method} {url}: still throttled after 12 tries").into())
    }

    fn beta(&self, path: &str) -> String {
        format!("{}/beta/{path}", self.opts.graph_url.trim_end_matches('/'))
    }

    /// Creates an export job for a report, or returns the one a failed pull had created.
    async fn export_job(&mut self, state: &mut State, report: &str, select: &[&str]) -> Result<String, BoxError> {
        if let Some((_, id)) = state.jobs.iter().find(|(r, _)| r == report) {
            return Ok(id.clone());
        }
        let body = json!({ "reportName": report, "format": "csv", "localizationType": "LocalizedValuesAsAdditionalColumn", "select": select });
        let job = self.call(reqwest::Method::POST, &self.beta("deviceManagement/reports/exportJobs"), Some(&body)).await?;
        let id = job["id"].as_str().ok_or("the export job was created without an id")?.to_string();
        state.jobs.push((report.to_string(), id.clone()));
        state.save(&self.opts.state_file)?;
        Ok(id)
    }

    /// Polls an export job until it is completed; its download address.
    async fn completed(&mut self, id: &str) -> Result<String, BoxError> {
        let url = self.beta(&format!("deviceManagement/reports/exportJobs('{id}')"));
        let mut wait = self.opts.poll;
        let started = Instant::now();
        loop {
            let job = self.call(reqwest::Method::GET, &url, None).await?;
            match job["status"].as_str().unwrap_or("") {
                "completed" => return Ok(job["url"].as_str().ok_or("a completed export job without a url")?.to_string()),
                "failed" => return Err(format!("the export job {id} failed in Intune").into()),
                _ if started.elapsed() > Duration::from_secs(3600) => return Err(format!("the export job {id} did not finish in an hour").into()),
                _ => {}
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(30));
        }
    }

    /// The job's ZIP (a pre-signed address: no token is sent with it).
    async fn download(&mut self, url: &str) -> Result<Vec<u8>, BoxError> {
        for _ in 0..6 {
            self.requests += 1;
            let answer = self.http.get(url).send().await?;
            let status = answer.status();
            if status.as_u16() == 429 || status.as_u16() == 503 {
                tokio::time::sleep(retry_after(answer.headers())).await;
                continue;
            }
            if !status.is_success() {
                return Err(format!("downloading the export: HTTP {}", status.as_u16()).into());
            }
            return Ok(answer.bytes().await?.to_vec());
        }
        Err("downloading the export: still throttled after 6 tries".into())
    }
}

/// What one pull did.
#[derive(Debug, Default)]
pub struct Pulled {
    pub pages: usize,
    pub reports: usize,
    pub written: u64,
    pub requests: u64,
}

fn written(report: &Value) -> u64 {
    report["written"].as_u64().unwrap_or(0)
}

/// One pull, resuming an interrupted one from its state file.
pub async fn pull(opts: &GraphOptions, server: &Server) -> Result<Pulled, BoxError> {
    let mut graph = Graph::new(opts.clone())?;
    let mut state = State::load(&opts.state_file);
    let mut pulled = Pulled::default();
    let first = format!(
        "{}?$filter={}&$select={DEVICE_SELECT}&$top=1000",
        graph.beta("deviceManagement/managedDevices"),
        form_urlencoded::byte_serialize(b"operatingSystem eq 'Windows'").collect::<String>()
    );
    let mut resumed = state.next_page.as_deref().is_some_and(|p| p != "done");
    let mut next = match state.next_page.as_deref() {
        Some("done") => None,
        Some(resume) => Some(resume.to_string()),
        None => Some(first),
    };
    while let Some(url) = next {
        if !crate::client::same_origin(&opts.graph_url, &url) {
            state.next_page = None;
            state.save(&opts.state_file)?;
            return Err(format!("Graph's next page is on another host ({url}); the token is not sent there").into());
        }
        let page = match graph.call(reqwest::Method::GET, &url, None).await {
            Ok(page) => page,
            Err(e) if resumed => {
                // The page noted by a failed pull may have expired: the next pull starts over
                // (rows already imported are not written again).
                state.next_page = None;
                state.save(&opts.state_file)?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        resumed = false;
        let items = page["value"].as_array().ok_or("a managedDevices page without `value`")?;
        pulled.pages += 1;
        if !items.is_empty() {
            let body = serde_json::to_vec(&json!({ "value": items }))?;
            let report = server.import(&format!("managedDevices page {}", pulled.pages), body, Some(&opts.tenant), |_| {}).await?;
            pulled.written += written(&report);
        }
        next = page["@odata.nextLink"].as_str().map(str::to_string);
        state.next_page = Some(next.clone().unwrap_or_else(|| "done".into()));
        state.save(&opts.state_file)?;
    }
    for (report, select) in REPORTS {
        if state.done.iter().any(|d| d == report) {
            continue;
        }
        let id = graph.export_job(&mut state, report, select).await?;
        let zip = match graph.completed(&id).await {
            Ok(url) => graph.download(&url).await,
            Err(e) => Err(e),
        };
        let zip = match zip {
            Ok(zip) => zip,
            Err(e) => {
                // A job that failed, expired or cannot be downloaded is not asked again: the next
                // pull creates a new one.
                state.jobs.retain(|(r, _)| r != report);
                state.save(&opts.state_file)?;
                return Err(e);
            }
        };
        let answer = server.import(&format!("{report}.zip"), zip, Some(&opts.tenant), |_| {}).await?;
        pulled.written += written(&answer);
        pulled.reports += 1;
        state.jobs.retain(|(r, _)| r != report);
        state.done.push(report.to_string());
        state.save(&opts.state_file)?;
    }
    // A whole pull: the next one starts over.
    let _ = std::fs::remove_file(&opts.state_file);
    pulled.requests = graph.requests;
    Ok(pulled)
}

/// `15m`, `1h`, `30s`, `1d`, `90` (seconds).
pub fn parse_every(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = number.parse().map_err(|_| format!("{text:?}: a duration such as 15m, 1h or 1d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{text:?}: a duration such as 15m, 1h or 1d")),
    };
    if secs == 0 {
        return Err(format!("{text:?}: must be more than nothing"));
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_every("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_every("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_every("90"), Ok(Duration::from_secs(90)));
        assert!(parse_every("0m").is_err());
        assert!(parse_every("soon").is_err());
        assert!(parse_every("1w").is_err());
    }

    #[test]
    fn state_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let state = State {
            next_page: Some("https://graph/next".into()),
            jobs: vec![("Malware".into(), "Malware_1".into())],
            done: vec!["DefenderAgents".into()],
        };
        state.save(&path).unwrap();
        assert_eq!(State::load(&path), state);
        assert_eq!(State::load(&dir.path().join("none.json")), State::default());
    }
}
