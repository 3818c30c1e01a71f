//! Access: who a request is (a bearer token, a session cookie, or nobody) and what it may do, checked
//! once for every API route; `/session` signs in and out; a console link carrying `token=` signs in
//! and drops the token from the address.
//!
//! Rules: reading takes a role that reads (admin, viewer; kiosk only on the routes its panels use);
//! uploading and removing take admin or uploader. An open server (loopback, or `--allow-anonymous`)
//! lets anybody read as a viewer; uploads always take a token.

use super::{query_pairs, ApiContext, Routes};
use crate::error::{Error, Result};
use crate::store::tokens::{self, Check, Role};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tenantscope_model::access::{Session, SignIn};

/// The session cookie's name.
pub const COOKIE: &str = "tenantscope_session";

/// How long a looked-up token or session is trusted before the store is asked again: a revoked
/// token stops working within this time, on every route.
const TRUST_FOR: Duration = Duration::from_secs(5);

pub fn router() -> Routes {
    Routes::new().route("/session", get(session).post(sign_in).delete(sign_out))
}

/// Whether anybody may read without signing in: on a loopback address unless `require_sign_in`,
/// elsewhere only with `allow_anonymous`.
pub fn reads_open(listen: std::net::IpAddr, allow_anonymous: bool, require_sign_in: bool) -> bool {
    allow_anonymous || (listen.is_loopback() && !require_sign_in)
}

/// The server's access settings and the lookups it trusts for a moment.
pub struct Access {
    /// Anybody may read without signing in.
    pub open: bool,
    checked: Mutex<HashMap<String, (Check, Instant)>>,
}

impl Access {
    pub fn new(open: bool) -> Self {
        Access { open, checked: Mutex::new(HashMap::new()) }
    }

    fn remembered(&self, key: &str) -> Option<Check> {
        let checked = self.checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        checked.get(key).filter(|(_, at)| at.elapsed() < TRUST_FOR).map(|(c, _)| *c)
    }

    fn remember(&self, key: String, check: Check) {
        let mut checked = self.checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if checked.len() > 10_000 {
            checked.retain(|_, (_, at)| at.elapsed() < TRUST_FOR);
        }
        checked.insert(key, (check, Instant::now()));
    }

    fn forget(&self, key: &str) {
        self.checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

/// Who a request is, for the handlers (`Extension<Principal>`).
#[derive(Clone, Debug)]
pub struct Principal {
    pub role: Role,
    /// Nobody signed in (an open server's visitor).
    pub anonymous: bool,
    /// Identified values are answered as aliases: the role says so, or the request (`privacy=1`).
    pub privacy: bool,
    /// The session cookie's secret and its end, when it came with one.
    session: Option<(String, i64)>,
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?.trim();
    (!token.is_empty()).then(|| token.to_string())
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` value for a session (`None`: one that clears it). Secure when the request came
/// over TLS to a proxy in front (`X-Forwarded-Proto: https`); this server itself speaks plain HTTP.
fn set_cookie(headers: &HeaderMap, session: Option<(&str, i64)>) -> HeaderValue {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let (value, max_age) = match session {
        Some((secret, expires)) => (secret, (expires - now()).max(0)),
        None => ("", 0),
    };
    let cookie = format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("tenantscope_session=; Path=/; Max-Age=0"))
}

/// A bearer token or a session secret, looked up (or remembered from a moment ago).
async fn lookup(ctx: &ApiContext, secret: String, is_session: bool) -> Result<Check> {
    let key = format!("{}{secret}", if is_session { "s:" } else { "t:" });
    if let Some(check) = ctx.access.remembered(&key) {
        return Ok(check);
    }
    let now = now();
    let check = ctx
        .store
        .run(move |conn| if is_session { tokens::session(conn, &secret, now) } else { tokens::check(conn, &secret) })
        .await?;
    ctx.access.remember(key, check);
    Ok(check)
}

fn refused(check: Check, is_session: bool) -> Error {
    Error::Unauthorized(
        match (check, is_session) {
            (Check::Expired, _) => "your session has expired: sign in again",
            (Check::Revoked, true) => "the token this session was signed in with has been revoked: sign in with another",
            (Check::Revoked, false) => "this token has been revoked",
            (_, true) => "this session has ended: sign in again",
            (_, false) => "this token is not known to the server",
        }
        .into(),
    )
}

/// Routes the kiosk's panels use; a kiosk session gets 403 anywhere else.
const KIOSK_PATHS: [&str; 7] =
    ["/summary", "/events", "/collections", "/threats", "/threats/timeline", "/antivirus", "/session"];

/// Routes anybody may call: signing in and out, and the API's description.
const PUBLIC_PATHS: [&str; 2] = ["/session", "/openapi.json"];

/// The guard in front of every API route: who the request is, whether it may, and `privacy`
/// taken off the query (handlers see `Principal::privacy` instead).
pub async fn guard(State(ctx): State<ApiContext>, mut req: Request, next: Next) -> Response {
    match admit(&ctx, &mut req).await {
        Ok(principal) if principal.privacy => match unalias(&ctx, &mut req).await {
            Ok(()) => {
                let head = req.method() == Method::HEAD;
                let res = crate::privacy::PRIVATE.scope(Some(std::sync::Arc::clone(&ctx.privacy)), admitted(&ctx, principal, req, next)).await;
                if head {
                    // No body to alias; its length would say how long the real one is.
                    let (mut parts, body) = res.into_parts();
                    parts.headers.remove(header::CONTENT_LENGTH);
                    return Response::from_parts(parts, body);
                }
                alias_answer(&ctx, res).await
            }
            Err(e) => e.into_response(),
        },
        Ok(principal) => admitted(&ctx, principal, req, next).await,
        Err((e, clear)) => {
            let mut res = e.into_response();
            if clear {
                // A cookie that no longer works is taken away, so the next request starts afresh.
                res.headers_mut().append(header::SET_COOKIE, set_cookie(req.headers(), None));
            }
            res
        }
    }
}

/// A JSON answer in privacy form: every masked value replaced by its alias. (CSV exports and event
/// streams alias as they write, through `privacy::PRIVATE`.)
async fn alias_answer(ctx: &ApiContext, res: Response) -> Response {
    let json = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/json"));
    if !json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Error::Unavailable("the answer could not be read; try again".into()).into_response();
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Error::Unavailable("the answer could not be put in privacy form; try again".into()).into_response();
    };
    match ctx.privacy.rewrite(&ctx.store, value).await {
        Ok(value) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(value.to_string()))
        }
        // Never the answer as it was: an error instead.
        Err(e) => Error::Store(e).into_response(),
    }
}

/// Aliases in a privacy-mode request, turned back into what they stand for: a device's address
/// (`/devices/device-0042`), filters on masked fields, and the search of lists that search masked
/// fields. A filter or search that is not an alias there matches nothing (probing names by counts
/// is not possible).
async fn unalias(ctx: &ApiContext, req: &mut Request) -> Result<()> {
    use tenantscope_model::privacy::{masked_field, AliasKind};
    let path = req.uri().path().to_string();
    let pairs = query_pairs(&req.uri().query().map(str::to_string));
    let list = tenantscope_model::api::LISTS
        .iter()
        .find(|s| path.strip_prefix('/').is_some_and(|p| p == s.name || p.strip_suffix("/facets") == Some(s.name)));
    let searches_masked = list.is_some_and(|s| s.searchable.iter().any(|f| masked_field(f, |_| true).is_some()));
    let device = path.strip_prefix("/devices/").filter(|id| *id != "facets" && AliasKind::parse(id).is_some()).map(str::to_string);
    let needs = device.is_some()
        || pairs.iter().any(|(k, _)| masked_field(k, |_| true).is_some() || (k == "q" && searches_masked));
    if !needs {
        return Ok(());
    }
    let privacy = std::sync::Arc::clone(&ctx.privacy);
    let detections = list.is_some_and(|s| s.name == "detections");
    let (path, pairs) = ctx
        .store
        .run(move |conn| {
            let mut aliaser = privacy.aliaser(Some(conn));
            // The device an alias of one of its values stands for: its Entra id.
            let mut device_of = |alias: &str| -> crate::store::Result<Option<String>> {
                Ok(match aliaser.real(alias)? {
                    Some((AliasKind::EntraDevice, aad)) => Some(aad),
                    Some((kind, _)) if kind.per_device() => {
                        let n = AliasKind::parse(alias).map(|(_, n)| n).unwrap_or(0);
                        conn.query_row("SELECT AADDeviceID FROM devices WHERE id = ?1", [n], |r| r.get(0)).ok()
                    }
                    _ => None,
                })
            };
            // Matches nothing: no device has it.
            // A value no row has that every store takes as text (U+FFFF is a noncharacter).
            const NOTHING: &str = "\u{FFFF}";
            let path = match device {
                Some(alias) => Some(format!("/devices/{}", tenantscope_model::api::encode_component(&device_of(&alias)?.unwrap_or_else(|| NOTHING.into())))),
                None => None,
            };
            let mut out = Vec::new();
            for (k, v) in pairs {
                if k == "q" && searches_masked {
                    match device_of(&v)? {
                        // Detections search names, not ids: the device's own filter.
                        Some(aad) if detections => out.push(("DeviceId".to_string(), aad)),
                        Some(aad) => out.push((k, aad)),
                        None => out.push((k, NOTHING.into())),
                    }
                } else if let Some(kind) = masked_field(&k, |_| true) {
                    let real = match privacy.aliaser(Some(conn)).real(&v)? {
                        Some((k2, value)) if k2 == kind => Some(value),
                        Some((k2, _)) if kind == AliasKind::EntraDevice && k2.per_device() => device_of(&v)?,
                        _ => None,
                    };
                    out.push((k, real.unwrap_or_else(|| NOTHING.into())));
                } else {
                    out.push((k, v));
                }
            }
            Ok((path, out))
        })
        .await?;
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    // The address as it came (already encoded), unless a device's alias was replaced.
    let path = path.unwrap_or_else(|| req.uri().path().to_string());
    let uri = if query.is_empty() { path } else { format!("{path}?{query}") };
    *req.uri_mut() = uri.parse().map_err(|_| Error::param("id", "not a valid address"))?;
    Ok(())
}

/// An admitted request: run, and its session renewed when used past half its time.
async fn admitted(ctx: &ApiContext, principal: Principal, mut req: Request, next: Next) -> Response {
    let renew = principal.session.clone().filter(|(_, expires)| *expires - now() < principal.role.session_seconds() / 2);
    // The request's headers are kept only when the answer will carry a renewed cookie.
    let headers = renew.as_ref().map(|_| req.headers().clone());
    let role = principal.role;
    req.extensions_mut().insert(principal);
    let mut res = next.run(req).await;
    // A session used past half its time is renewed: a kiosk that runs never has to sign in again.
    if let (Some((secret, _)), Some(headers)) = (renew, headers) {
        let expires = now() + role.session_seconds();
        let key = format!("s:{secret}");
        let renewed = secret.clone();
        if ctx.store.run(move |conn| tokens::renew(conn, &renewed, expires)).await.is_ok() {
            ctx.access.forget(&key);
            res.headers_mut().append(header::SET_COOKIE, set_cookie(&headers, Some((&secret, expires))));
        }
    }
    res
}

async fn admit(ctx: &ApiContext, req: &mut Request) -> std::result::Result<Principal, (Error, bool)> {
    let path = req.uri().path().to_string();
    let reading = matches!(*req.method(), Method::GET | Method::HEAD);
    let public = PUBLIC_PATHS.contains(&path.as_str());
    // `privacy` is the guard's: taken off the query, checked here.
    let pairs = match req.uri().query() {
        Some(q) if q.contains("privacy") => query_pairs(&Some(q.to_string())),
        _ => Vec::new(),
    };
    let asked = match pairs.iter().find(|(k, _)| k == "privacy").map(|(_, v)| v.as_str()) {
        None | Some("0") => false,
        Some("1") => true,
        Some(_) => return Err((Error::param("privacy", "must be 1 (aliases for identified values) or 0"), false)),
    };
    if pairs.iter().any(|(k, _)| k == "privacy") {
        let rest: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "privacy").collect();
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish();
        let uri = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
        if let Ok(uri) = uri.parse() {
            *req.uri_mut() = uri;
        }
    }
    let (check, is_session, secret) = if let Some(token) = bearer(req.headers()) {
        (lookup(ctx, token.clone(), false).await.map_err(|e| (e, false))?, false, token)
    } else if let Some(secret) = cookie(req.headers()) {
        (lookup(ctx, secret.clone(), true).await.map_err(|e| (e, false))?, true, secret)
    } else if ctx.access.open || public || !reading {
        return allowed(Principal { role: Role::Viewer, anonymous: true, privacy: asked, session: None }, &path, reading, public, ctx.access.open)
            .map_err(|e| (e, false));
    } else {
        return Err((Error::Unauthorized("sign in: this server answers only with a token or a session".into()), false));
    };
    match check {
        Check::Valid { role, expires } => {
            let session = if is_session { expires.map(|e| (secret, e)) } else { None };
            let principal = Principal { role, anonymous: false, privacy: asked || role.always_private(), session };
            allowed(principal, &path, reading, public, ctx.access.open).map_err(|e| (e, false))
        }
        // Signing in or out with a dead cookie is fine: the cookie is replaced or cleared.
        _ if public && is_session && !reading => {
            Ok(Principal { role: Role::Viewer, anonymous: true, privacy: asked, session: None })
        }
        other => Err((refused(other, is_session), is_session)),
    }
}

/// Reads are decided here; a write (any other method) is decided by its handler (`Principal::may_write`),
/// so a method a route does not take stays a 405 for anybody.
fn allowed(principal: Principal, path: &str, reading: bool, public: bool, open: bool) -> Result<Principal> {
    if public || !reading {
        return Ok(principal);
    }
    let role = principal.role;
    if principal.anonymous && !open {
        return Err(Error::Unauthorized("sign in: this server answers only with a token or a session".into()));
    }
    if role.reads() && (role != Role::Kiosk || KIOSK_PATHS.contains(&path)) {
        Ok(principal)
    } else {
        Err(Error::Forbidden(format!("{} has the {} role; this route needs admin or viewer", principal.what(), role.key())))
    }
}

impl Principal {
    fn what(&self) -> &'static str {
        if self.session.is_some() {
            "this session"
        } else {
            "this token"
        }
    }

    /// Uploading and removing: a token or session with the admin or uploader role.
    pub fn may_write(&self) -> Result<()> {
        if self.anonymous {
            return Err(Error::Unauthorized(
                "send a token as `Authorization: Bearer <token>` (create one with `tenantscope-server token create --role uploader`)".into(),
            ));
        }
        if self.role.writes() {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("{} has the {} role; this route needs admin or uploader", self.what(), self.role.key())))
        }
    }
}

fn session_of(principal: &Principal, open: bool) -> Session {
    Session {
        role: principal.role.key().into(),
        signed_in: !principal.anonymous,
        open,
        always_private: principal.role.always_private(),
        expires: principal.session.as_ref().map(|(_, e)| tenantscope_model::time::format_rfc3339(*e)),
    }
}

/// Who the console talks as. 401 when the server is closed and nobody is signed in.
async fn session(State(ctx): State<ApiContext>, axum::Extension(principal): axum::Extension<Principal>) -> Result<Json<Session>> {
    if principal.anonymous && !ctx.access.open {
        return Err(Error::Unauthorized("sign in: this server answers only with a token or a session".into()));
    }
    Ok(Json(session_of(&principal, ctx.access.open)))
}

/// Signs in with a token (JSON `{"token": "…"}`): a session cookie (HttpOnly, SameSite=Strict).
async fn sign_in(State(ctx): State<ApiContext>, headers: HeaderMap, body: axum::body::Bytes) -> Result<Response> {
    let refuse = |detail: String| Error::Unprocessable(serde_json::json!({ "detail": detail, "field": "token" }));
    // Only this console's own requests (a page elsewhere cannot post JSON here without CORS, nor
    // sign a browser in with a form).
    let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/json"));
    if !json {
        return Err(refuse("send the token as JSON (Content-Type: application/json)".into()));
    }
    if !same_origin(&headers) {
        return Err(Error::Forbidden("sign in from this console's own page".into()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| refuse("send JSON: {\"token\": \"ts_…\"}".into()))?;
    let SignIn { token } = <SignIn as tenantscope_model::json::FromJson>::from_json(&value).map_err(|e| refuse(e.to_string()))?;
    if token.is_empty() {
        return Err(refuse("token: must not be empty".into()));
    }
    let (secret, role, expires) = start_session(&ctx, token).await?;
    let principal = Principal { role, anonymous: false, privacy: role.always_private(), session: Some((secret.clone(), expires)) };
    let mut res = Json(session_of(&principal, ctx.access.open)).into_response();
    res.headers_mut().append(header::SET_COOKIE, set_cookie(&headers, Some((&secret, expires))));
    Ok(res)
}

async fn start_session(ctx: &ApiContext, token: String) -> Result<(String, Role, i64)> {
    let now = now();
    match ctx.store.run(move |conn| tokens::sign_in(conn, &token, now)).await? {
        Ok(session) => Ok(session),
        Err(Check::Valid { role, .. }) => Err(Error::Forbidden(format!("a token with the {} role cannot sign in to the console", role.key()))),
        Err(other) => Err(refused(other, false)),
    }
}

/// Ends the session of the request's cookie, if it has one (and forgets its remembered look-up).
async fn end_session(ctx: &ApiContext, headers: &HeaderMap) -> crate::store::Result<()> {
    if let Some(secret) = cookie(headers) {
        let key = format!("s:{secret}");
        ctx.store.run(move |conn| tokens::sign_out(conn, &secret)).await?;
        ctx.access.forget(&key);
    }
    Ok(())
}

/// Signs out: the session ends and its cookie is cleared.
async fn sign_out(State(ctx): State<ApiContext>, headers: HeaderMap) -> Result<Response> {
    end_session(&ctx, &headers).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().append(header::SET_COOKIE, set_cookie(&headers, None));
    Ok(res)
}

/// A console address carrying `token=` (a kiosk link): signs in, then sends the browser to the same
/// address without the token, so it lives on the cookie and never stays in the address bar or the
/// history. A token that does not sign in leads to the sign-in page with the reason.
pub async fn sign_in_link(ctx: ApiContext, req: Request, next: Next) -> Response {
    let pairs = query_pairs(&req.uri().query().map(str::to_string));
    let wanted = req.method() == Method::GET && !req.uri().path().starts_with("/api/");
    let Some(token) = pairs.iter().find(|(k, _)| k == "token").map(|(_, v)| v.clone()).filter(|_| wanted) else {
        return next.run(req).await;
    };
    let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "token").collect();
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish();
    let path = req.uri().path().to_string();
    let here = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
    match start_session(&ctx, token).await {
        Ok((secret, _, expires)) => {
            let mut res = see_other(&local_next(Some(&here)));
            res.headers_mut().append(header::SET_COOKIE, set_cookie(req.headers(), Some((&secret, expires))));
            res
        }
        Err(e) => {
            let reason = match &e {
                Error::Unauthorized(m) | Error::Forbidden(m) => m.clone(),
                _ => "the server could not sign in with this link; try again".into(),
            };
            let back = form_urlencoded::Serializer::new(String::new()).append_pair("reason", &reason).append_pair("next", &here).finish();
            (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/sign-in?{back}"))]).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_on_loopback_unless_told_otherwise_closed_elsewhere_unless_told_so() {
        let (lo, lo6, any, lan) = (
            "127.0.0.1".parse().unwrap(),
            "::1".parse().unwrap(),
            "0.0.0.0".parse().unwrap(),
            "192.0.2.10".parse().unwrap(),
        );
        assert!(reads_open(lo, false, false) && reads_open(lo6, false, false));
        assert!(!reads_open(lo, false, true));
        assert!(!reads_open(any, false, false) && !reads_open(lan, false, false));
        assert!(reads_open(any, true, false) && reads_open(lan, true, false));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_behind_tls() {
        let mut headers = HeaderMap::new();
        let c = set_cookie(&headers, Some(("tss_x", now() + 100)));
        let c = c.to_str().unwrap();
        assert!(c.starts_with("tenantscope_session=tss_x; Path=/; HttpOnly; SameSite=Strict; Max-Age="), "{c}");
        assert!(!c.contains("Secure"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(set_cookie(&headers, Some(("tss_x", now() + 100))).to_str().unwrap().ends_with("; Secure"));
        assert!(set_cookie(&headers, None).to_str().unwrap().contains("Max-Age=0"));
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; tenantscope_session=tss_y; b=2"));
        assert_eq!(cookie(&headers).as_deref(), Some("tss_y"));
    }
}

/// Where to go after signing in: a path of this console only (never another site).
fn local_next(next: Option<&str>) -> String {
    match next {
        // A path of this console: no scheme or host in any spelling a browser would read as one
        // (`//`, `/\`, control characters or spaces, which browsers drop from addresses).
        Some(n) if n.starts_with('/')
            && !n.starts_with("//")
            && !n.bytes().any(|b| b <= b' ' || b == b'\\' || b == 0x7f)
            && !n.starts_with("/api/")
            && !n.starts_with("/sign-") => n.to_string(),
        _ => "/".to_string(),
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The console's stylesheet (trunk names it by its hash), for the pages the server writes itself.
pub(crate) fn stylesheet(dist: Option<&std::path::Path>) -> Option<String> {
    let entries = std::fs::read_dir(dist?).ok()?;
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.starts_with("main-") && n.ends_with(".css"))
        .map(|n| format!("/{n}"))
}

/// `GET /sign-in`: the sign-in page, written by the server (it works before the console's code
/// loads, and with it off): a token field, the reason the browser was sent here, and where it goes
/// next.
/// On an open server (anybody may read) it also offers to go on without signing in.
pub async fn sign_in_page(dist: Option<std::path::PathBuf>, open: bool, raw: axum::extract::RawQuery) -> Response {
    let pairs = query_pairs(&raw.0);
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let next = local_next(get("next"));
    let without = if open {
        format!("<p><a href=\"{}\" data-testid=\"sign-in-skip\">Continue without signing in</a></p>", escape_html(&next))
    } else {
        String::new()
    };
    let reason = get("reason").map(|r| format!("<p class=\"notice\" role=\"alert\" data-testid=\"sign-in-reason\">{}</p>", escape_html(r))).unwrap_or_default();
    let css = stylesheet(dist.as_deref()).map(|href| format!("<link rel=\"stylesheet\" href=\"{}\">", escape_html(&href))).unwrap_or_default();
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign in · Tenantscope</title>{css}<link rel=\"icon\" href=\"/public/favicon.svg\"></head>\
         <body class=\"sign-in-page\"><main class=\"sign-in\" id=\"main\"><h1><img src=\"/public/favicon.svg\" alt=\"\" width=\"28\" height=\"28\"> Tenantscope</h1>\
         {reason}<form method=\"post\" action=\"/sign-in\"><input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label for=\"token\">Access token</label><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" spellcheck=\"false\" required autofocus data-testid=\"sign-in-token\">\
         <button type=\"submit\" data-testid=\"sign-in-submit\">Sign in</button></form>\
         <p class=\"muted\">An administrator creates tokens with <code>tenantscope-server token create --role viewer</code> (or admin, kiosk). \
         The token is sent once; the browser keeps a session cookie, not the token.</p>{without}</main></body></html>",
        next = escape_html(&next)
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html).into_response()
}

/// A form posted from another site is refused (a page elsewhere cannot sign a browser in or out).
/// Browsers say where a request comes from in `Sec-Fetch-Site`; older ones in `Origin` (which the
/// console's no-referrer policy turns into `null` for its own forms).
fn same_origin(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    match get("origin") {
        // No Origin: not a browser's cross-site post (tools such as curl). `null` without
        // Sec-Fetch-Site cannot be told from a sandboxed page elsewhere.
        None => true,
        Some("null") => false,
        Some(origin) => origin.split_once("://").is_some_and(|(_, rest)| Some(rest) == get("host")),
    }
}

fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location.to_string())]).into_response()
}

fn back_to_sign_in(reason: &str, next: &str) -> Response {
    let q = form_urlencoded::Serializer::new(String::new()).append_pair("reason", reason).append_pair("next", next).finish();
    see_other(&format!("/sign-in?{q}"))
}

/// `POST /sign-in` (the page's form): a session cookie and on to `next`, or back with the reason.
pub async fn sign_in_form(ctx: ApiContext, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let next = local_next(get("next"));
    if !same_origin(&headers) {
        return back_to_sign_in("sign in from this console's own page", &next);
    }
    let token = get("token").unwrap_or("").trim().to_string();
    if token.is_empty() {
        return back_to_sign_in("enter a token", &next);
    }
    match start_session(&ctx, token).await {
        Ok((secret, _, expires)) => {
            let mut res = see_other(&next);
            res.headers_mut().append(header::SET_COOKIE, set_cookie(&headers, Some((&secret, expires))));
            res
        }
        Err(Error::Unauthorized(m) | Error::Forbidden(m)) => back_to_sign_in(&m, &next),
        Err(_) => back_to_sign_in("the server could not sign in; try again", &next),
    }
}

/// `POST /sign-out` (the header's button): the session ends, the cookie is cleared, and the sign-in
/// page says so.
pub async fn sign_out_form(ctx: ApiContext, headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return see_other("/");
    }
    let _ = end_session(&ctx, &headers).await;
    let mut res = back_to_sign_in("signed out", "/");
    res.headers_mut().append(header::SET_COOKIE, set_cookie(&headers, None));
    res
}
