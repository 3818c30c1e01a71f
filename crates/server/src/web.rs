//! Serving the built console safely: real 404s for missing files, `index.html` only for client
//! routes, cache headers that survive a redeploy, precompressed assets, a Content-Security-Policy
//! without inline script (the page's own inline scripts are allowed by hash), and a Host allow-list
//! so that a DNS-rebinding page cannot read a loopback API.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::path::Path;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// How the console may be embedded and which Host names the server answers.
#[derive(Clone, Debug)]
pub struct WebOptions {
    /// CSP `frame-ancestors` sources (`'none'`: never in a frame).
    pub frame_ancestors: String,
    /// Host names (without port) the server answers besides the loopback names.
    pub allow_hosts: Vec<String>,
    /// Reading takes a token or a session (false: anybody may read, as on loopback by default).
    pub require_sign_in: bool,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions { frame_ancestors: "'none'".into(), allow_hosts: Vec::new(), require_sign_in: false }
    }
}

/// Loopback names every server answers.
const LOOPBACK_HOSTS: [&str; 4] = ["localhost", "127.0.0.1", "[::1]", "::1"];

/// The host part of a Host header value ("127.0.0.1:8080" → "127.0.0.1", "[::1]:80" → "[::1]").
pub fn host_name(value: &str) -> &str {
    if let Some(end) = value.find(']') {
        return &value[..=end];
    }
    value.split(':').next().unwrap_or(value)
}

/// Refuses requests whose Host is not one this server is known by (421): a page on another
/// domain that re-points its name at 127.0.0.1 cannot read the API. No Host (HTTP/1.0) is allowed.
pub async fn check_host(allowed: std::sync::Arc<Vec<String>>, req: Request, next: Next) -> Response {
    if let Some(host) = req.headers().get(header::HOST) {
        let name = host.to_str().map(host_name).unwrap_or("").to_ascii_lowercase();
        if !LOOPBACK_HOSTS.contains(&name.as_str()) && !allowed.iter().any(|h| h.eq_ignore_ascii_case(&name)) {
            let body = serde_json::json!({ "error": "misdirected_request", "detail": format!("this server does not answer for host {name:?}; start it with --allow-host {name}") });
            return (StatusCode::MISDIRECTED_REQUEST, axum::Json(body)).into_response();
        }
    }
    next.run(req).await
}

/// The Content-Security-Policy for a console whose index.html has these inline scripts.
pub fn content_security_policy(index_html: &str, frame_ancestors: &str) -> String {
    let hashes: Vec<String> = inline_scripts(index_html)
        .iter()
        .map(|s| {
            use base64::Engine;
            format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes())))
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}",
        hashes.join(" ")
    )
}

/// The bodies of the inline `<script>` elements (those without `src`).
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let tag = &after[..open_end];
        let body_start = open_end + 1;
        let Some(close) = after[body_start..].find("</script>") else { break };
        if !tag.contains("src=") {
            out.push(&after[body_start..body_start + close]);
        }
        rest = &after[body_start + close..];
    }
    out
}

/// A trunk asset name carries a content hash ("tenantscope-4334247e15b0b393_bg.wasm"): it can be
/// cached for good.
fn is_hashed(file: &str) -> bool {
    file.split(['-', '_', '.']).any(|part| part.len() == 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Serves `dist`: files by path (404 when missing), `index.html` for client routes (paths whose last
/// segment has no extension).
pub async fn serve_console(dist: std::path::PathBuf, frame_ancestors: std::sync::Arc<str>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        let assets = ServeDir::new(&dist).precompressed_gzip().precompressed_br();
        let mut res = match assets.oneshot(req).await {
            Ok(res) => res.map(Body::new),
            Err(e) => match e {},
        };
        let cache = if res.status() != StatusCode::OK {
            "no-store"
        } else if is_hashed(last) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        res
    } else {
        // Read at each load, with the policy allowing exactly its inline scripts: a redeployed
        // console (new loader script, new asset names) works at the next load without a restart.
        let Ok(html) = tokio::fs::read_to_string(dist.join("index.html")).await else {
            return (StatusCode::NOT_FOUND, "the console is not built").into_response();
        };
        let csp = HeaderValue::from_str(&content_security_policy(&html, &frame_ancestors))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
                // Always revalidated: never a stale page pointing at assets that are gone.
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                (header::CONTENT_SECURITY_POLICY, csp),
            ],
            html,
        )
            .into_response()
    }
}

/// Writes `file.br` (brotli) and `file.gz` (gzip) next to each text asset of `dist` that lacks an
/// up-to-date one, so the server never compresses the console on the fly. Run once at start-up, in
/// the background: until a file is written, its asset is compressed per request instead. Best
/// effort: a read-only `dist` is always served that way.
pub fn precompress(dist: &Path) {
    let Ok(entries) = std::fs::read_dir(dist) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "wasm" | "js" | "css" | "html" | "svg") {
            continue;
        }
        for (suffix, encode) in [("br", brotli_bytes as fn(&[u8]) -> Option<Vec<u8>>), ("gz", gzip_bytes)] {
            let packed = path.with_extension(format!("{ext}.{suffix}"));
            let fresh =
                packed.metadata().and_then(|g| Ok(g.modified()? >= path.metadata()?.modified()?)).unwrap_or(false);
            if fresh {
                continue;
            }
            let Some(out) = std::fs::read(&path).ok().and_then(|bytes| encode(&bytes)) else { continue };
            // Written aside, then renamed: a reader never sees half a file.
            static WRITES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tmp = packed.with_extension(format!("{suffix}.{}-{n}.tmp", std::process::id()));
            if std::fs::write(&tmp, out).and_then(|_| std::fs::rename(&tmp, &packed)).is_err() {
                let _ = std::fs::remove_file(&tmp);
                tracing::warn!(dist = %dist.display(), "cannot write precompressed assets; compressing on the fly");
                return;
            }
        }
    }
}

fn gzip_bytes(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).ok()?;
    enc.finish().ok()
}

fn brotli_bytes(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_hashes() {
        assert_eq!(host_name("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_name("[::1]:80"), "[::1]");
        assert_eq!(host_name("console.example.com"), "console.example.com");
        assert!(is_hashed("tenantscope-4334247e15b0b393_bg.wasm"));
        assert!(is_hashed("main-77155d755418657a.css"));
        assert!(!is_hashed("favicon.svg"));
    }

    #[test]
    fn inline_scripts_are_allowed_by_hash_only() {
        let html = "<script>a()</script><script type=module>b()</script><script src=/x.js></script>";
        assert_eq!(inline_scripts(html), vec!["a()", "b()"]);
        let csp = content_security_policy(html, "'none'");
        assert!(!csp.contains("unsafe-inline'; img") || !csp.split("script-src").nth(1).unwrap().split(';').next().unwrap().contains("unsafe-inline"));
        assert_eq!(csp.matches("'sha256-").count(), 2);
        assert!(csp.contains("base-uri 'none'") && csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"));
    }
}
