//! Access: every route with no session, with each role, with a revoked token and an expired session;
//! signing in and out; a kiosk link; an open server.

mod backend;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use tenantscope_server::live::Live;
use tenantscope_server::seed::{seed, DemoOptions};
use tenantscope_server::store::{tokens, Store};
use tower::ServiceExt;

struct Server {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    app: axum::Router,
}

fn server(require_sign_in: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = backend::store(dir.path());
    seed(&store, &DemoOptions { devices: 120, seed: 9, anchor: 1_795_536_000, progress: false }).unwrap();
    let options = tenantscope_server::web::WebOptions { require_sign_in, ..Default::default() };
    let app = tenantscope_server::app_live(Arc::clone(&store), Live::new(), None, &options);
    Server { _dir: dir, store, app }
}

enum Who<'a> {
    Nobody,
    Token(&'a str),
    Cookie(&'a str),
}

impl Server {
    fn token(&self, role: tokens::Role) -> String {
        self.store.with(|c| tokens::create(c, role, "test", now())).unwrap()
    }

    /// A fresh application on the same store (nothing remembered from earlier requests).
    fn restart(&mut self, require_sign_in: bool) {
        let options = tenantscope_server::web::WebOptions { require_sign_in, ..Default::default() };
        self.app = tenantscope_server::app_live(Arc::clone(&self.store), Live::new(), None, &options);
    }

    async fn send(&self, method: &str, uri: &str, who: &Who<'_>, body: &str, extra: &[(&str, &str)]) -> (StatusCode, HeaderMap, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        match who {
            Who::Nobody => {}
            Who::Token(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Who::Cookie(c) => req = req.header(header::COOKIE, format!("other=1; tenantscope_session={c}")),
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let res = self.app.clone().oneshot(req.body(Body::from(body.to_string())).unwrap()).await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn get(&self, uri: &str, who: &Who<'_>) -> (StatusCode, Value) {
        let (s, _, v) = self.send("GET", uri, who, "", &[]).await;
        (s, v)
    }

    /// Every GET route of the API, with real ids for the ones that take one (not /events: a stream).
    fn read_routes(&self) -> Vec<String> {
        backend::read_routes(&self.store)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn set_cookie(headers: &HeaderMap) -> String {
    headers.get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

fn session_secret(headers: &HeaderMap) -> String {
    let c = set_cookie(headers);
    c.strip_prefix("tenantscope_session=").unwrap().split(';').next().unwrap().to_string()
}

const KIOSK_ROUTES: [&str; 5] = ["/api/v1/summary", "/api/v1/collections", "/api/v1/threats", "/api/v1/threats/timeline", "/api/v1/antivirus"];

#[tokio::test]
async fn every_route_answers_each_role_as_the_roles_say() {
    let s = server(true);
    let routes = s.read_routes();
    assert!(routes.len() >= 15, "{routes:?}");
    let (admin, viewer, kiosk, uploader) = (
        s.token(tokens::Role::Admin),
        s.token(tokens::Role::Viewer),
        s.token(tokens::Role::Kiosk),
        s.token(tokens::Role::Uploader),
    );
    for route in &routes {
        let (status, body) = s.get(route, &Who::Nobody).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "nobody: {route}");
        assert!(body["detail"].as_str().unwrap().contains("sign in"), "{body}");
        assert_eq!(s.get(route, &Who::Token("ts_not-a-token")).await.0, StatusCode::UNAUTHORIZED, "{route}");
        assert_eq!(s.get(route, &Who::Token(&admin)).await.0, StatusCode::OK, "admin: {route}");
        assert_eq!(s.get(route, &Who::Token(&viewer)).await.0, StatusCode::OK, "viewer: {route}");
        let (status, body) = s.get(route, &Who::Token(&uploader)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "uploader: {route}");
        assert!(body["detail"].as_str().unwrap().contains("uploader role"), "{body}");
        let kiosk_route = KIOSK_ROUTES.contains(&route.split('?').next().unwrap());
        let expected = if kiosk_route { StatusCode::OK } else { StatusCode::FORBIDDEN };
        assert_eq!(s.get(route, &Who::Token(&kiosk)).await.0, expected, "kiosk: {route}");
    }
    // The API's description and the session route answer anybody.
    assert_eq!(s.get("/api/v1/openapi.json", &Who::Nobody).await.0, StatusCode::OK);
    assert_eq!(s.get("/api/v1/session", &Who::Nobody).await.0, StatusCode::UNAUTHORIZED);
    // Writes: admin and uploader; a viewer or kiosk is refused before the body is looked at.
    for (who, expected) in [
        (Who::Nobody, StatusCode::UNAUTHORIZED),
        (Who::Token(&viewer), StatusCode::FORBIDDEN),
        (Who::Token(&kiosk), StatusCode::FORBIDDEN),
        (Who::Token(&uploader), StatusCode::UNPROCESSABLE_ENTITY),
        (Who::Token(&admin), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, _, body) = s.send("POST", "/api/v1/upload/devices", &who, "not json", &[]).await;
        assert_eq!(status, expected, "{body}");
    }
    let (status, _, _) = s.send("DELETE", "/api/v1/devices/no-such-device", &Who::Token(&admin), "", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "admin may remove (none such here)");
    // A method a route does not take is 405 for anybody.
    assert_eq!(s.send("POST", "/api/v1/summary", &Who::Nobody, "", &[]).await.0, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_revoked_token_stops_working_and_says_so() {
    let mut s = server(true);
    let viewer = s.token(tokens::Role::Viewer);
    let (_, headers, _) = s.send("POST", "/api/v1/session", &Who::Nobody, &format!("{{\"token\":\"{viewer}\"}}"), &[]).await;
    let secret = session_secret(&headers);
    assert_eq!(s.get("/api/v1/devices", &Who::Token(&viewer)).await.0, StatusCode::OK);
    assert_eq!(s.get("/api/v1/devices", &Who::Cookie(&secret)).await.0, StatusCode::OK);
    let id: i64 = s.store.with(|c| Ok(tokens::list(c, now())?.last().unwrap().id)).unwrap();
    assert!(s.store.with(|c| tokens::revoke(c, id, now())).unwrap());
    assert!(!s.store.with(|c| tokens::revoke(c, id, now())).unwrap(), "revoked once");
    // A running server trusts a lookup for a few seconds; a fresh one asks the store.
    s.restart(true);
    let (status, body) = s.get("/api/v1/devices", &Who::Token(&viewer)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["detail"], "this token has been revoked");
    let (status, headers, body) = s.send("GET", "/api/v1/session", &Who::Cookie(&secret), "", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["detail"].as_str().unwrap().contains("has been revoked"), "{body}");
    assert!(set_cookie(&headers).contains("Max-Age=0"), "the dead cookie is cleared");
    let (status, _, body) = s.send("POST", "/api/v1/session", &Who::Nobody, &format!("{{\"token\":\"{viewer}\"}}"), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn signing_in_gives_a_strict_http_only_session_that_ends_on_sign_out_or_when_unused() {
    let s = server(true);
    let viewer = s.token(tokens::Role::Viewer);
    // Bad sign-ins.
    for (body, status, needle) in [
        ("{}".to_string(), StatusCode::UNPROCESSABLE_ENTITY, "token"),
        ("{\"token\":\"\"}".to_string(), StatusCode::UNPROCESSABLE_ENTITY, "token"),
        ("{\"token\":\"ts_nope\"}".to_string(), StatusCode::UNAUTHORIZED, "not known"),
        (format!("{{\"token\":\"{}\"}}", s.token(tokens::Role::Uploader)), StatusCode::FORBIDDEN, "cannot sign in"),
    ] {
        let (got, headers, json) = s.send("POST", "/api/v1/session", &Who::Nobody, &body, &[]).await;
        assert_eq!(got, status, "{body}: {json}");
        assert!(json.to_string().contains(needle), "{json}");
        assert!(set_cookie(&headers).is_empty());
    }
    let (status, headers, json) = s.send("POST", "/api/v1/session", &Who::Nobody, &format!("{{\"token\":\"{viewer}\"}}"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["role"], "viewer");
    assert_eq!(json["signed_in"], true);
    let cookie = set_cookie(&headers);
    assert!(cookie.contains("; HttpOnly; SameSite=Strict;") && !cookie.contains("Secure"), "{cookie}");
    let max_age: i64 = cookie.split("Max-Age=").nth(1).unwrap().parse().unwrap();
    assert!((12 * 3600 - 5..=12 * 3600).contains(&max_age), "{max_age}");
    let secret = session_secret(&headers);
    assert!(!secret.contains(&viewer), "the cookie is not the token");
    // Only as JSON, and not from another site's page.
    let (status, headers, _) = s.send("POST", "/api/v1/session", &Who::Nobody, &format!("{{\"token\":\"{viewer}\"}}"), &[("content-type", "text/plain")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(set_cookie(&headers).is_empty());
    let (status, headers, _) = s.send("POST", "/api/v1/session", &Who::Nobody, &format!("{{\"token\":\"{viewer}\"}}"), &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(set_cookie(&headers).is_empty());
    // Over TLS at a proxy: Secure.
    let (_, tls, _) = s.send("POST", "/api/v1/session", &Who::Nobody, &format!("{{\"token\":\"{viewer}\"}}"), &[("x-forwarded-proto", "https")]).await;
    assert!(set_cookie(&tls).ends_with("; Secure"));
    // The session reads, and says who it is.
    assert_eq!(s.get("/api/v1/devices", &Who::Cookie(&secret)).await.0, StatusCode::OK);
    let (status, me) = s.get("/api/v1/session", &Who::Cookie(&secret)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((me["role"].as_str(), me["open"].as_bool(), me["always_private"].as_bool()), (Some("viewer"), Some(false), Some(false)));
    // Used past half its time: renewed (a new cookie, a later end in the store).
    let secret2 = session_secret(&tls);
    s.store.with(|c| Ok(c.execute("UPDATE sessions SET expires = ?1", [now() + 3600])?)).unwrap();
    let (status, renewed, _) = s.send("GET", "/api/v1/summary", &Who::Cookie(&secret2), "", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(set_cookie(&renewed).contains(&secret2), "renewed: {:?}", set_cookie(&renewed));
    let max: i64 = s.store.with(|c| Ok(c.query_row("SELECT MAX(expires) FROM sessions", [], |r| r.get(0))?)).unwrap();
    assert!(max > now() + 11 * 3600);
    // Sign out: ended, the cookie cleared; the old cookie no longer reads.
    let (status, out, _) = s.send("DELETE", "/api/v1/session", &Who::Cookie(&secret), "", &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(set_cookie(&out).contains("Max-Age=0"));
    let (status, body) = s.get("/api/v1/devices", &Who::Cookie(&secret)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["detail"].as_str().unwrap().contains("ended"), "{body}");
    // Unused past its end: expired, and said so.
    s.store.with(|c| Ok(c.execute("UPDATE sessions SET expires = ?1", [now() - 1])?)).unwrap();
    let mut s = s;
    s.restart(true);
    let (status, headers, body) = s.send("GET", "/api/v1/devices", &Who::Cookie(&secret2), "", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["detail"], "your session has expired: sign in again");
    assert!(set_cookie(&headers).contains("Max-Age=0"));
}

#[tokio::test]
async fn a_kiosk_link_signs_in_and_drops_the_token_from_the_address() {
    let s = server(true);
    let kiosk = s.token(tokens::Role::Kiosk);
    let (status, headers, _) = s.send("GET", &format!("/kiosk?panels=kpis&token={kiosk}&theme=dark"), &Who::Nobody, "", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/kiosk?panels=kpis&theme=dark");
    let secret = session_secret(&headers);
    let (status, me) = s.get("/api/v1/session", &Who::Cookie(&secret)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((me["role"].as_str(), me["always_private"].as_bool()), (Some("kiosk"), Some(true)));
    let max_age: i64 = set_cookie(&headers).split("Max-Age=").nth(1).unwrap().split(';').next().unwrap().parse().unwrap();
    assert!(max_age > 29 * 24 * 3600, "a kiosk's session lasts days: {max_age}");
    // The kiosk's session reads its panels only.
    assert_eq!(s.get("/api/v1/summary", &Who::Cookie(&secret)).await.0, StatusCode::OK);
    assert_eq!(s.get("/api/v1/devices", &Who::Cookie(&secret)).await.0, StatusCode::FORBIDDEN);
    // A link never leads off this console, whatever its path.
    let uri = axum::http::Uri::builder().path_and_query(format!("//evil.example?token={kiosk}")).build().unwrap();
    let res = s.app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!((res.status(), res.headers()[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/"));
    // A link with a bad token leads to the sign-in page with the reason.
    let (status, headers, _) = s.send("GET", "/kiosk?token=ts_nope", &Who::Nobody, "", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with("/sign-in?reason=this+token+is+not+known") && location.ends_with("&next=%2Fkiosk"), "{location}");
    assert!(set_cookie(&headers).is_empty());
}

#[tokio::test]
async fn an_open_server_lets_anybody_read_but_not_write_and_checks_privacy() {
    let s = server(false);
    let (status, me) = s.get("/api/v1/session", &Who::Nobody).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((me["signed_in"].as_bool(), me["open"].as_bool(), me["role"].as_str()), (Some(false), Some(true), Some("viewer")));
    for route in s.read_routes() {
        assert_eq!(s.get(&route, &Who::Nobody).await.0, StatusCode::OK, "{route}");
    }
    let (status, _, body) = s.send("POST", "/api/v1/upload/devices", &Who::Nobody, "[]", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // A kiosk token still gets the kiosk's rights there.
    let kiosk = s.token(tokens::Role::Kiosk);
    assert_eq!(s.get("/api/v1/devices", &Who::Token(&kiosk)).await.0, StatusCode::FORBIDDEN);
    // `privacy` is the guard's parameter on every route; a bad value names it.
    assert_eq!(s.get("/api/v1/devices?privacy=1&page=2", &Who::Nobody).await.0, StatusCode::OK);
    let (status, body) = s.get("/api/v1/summary?privacy=yes", &Who::Nobody).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().contains("`privacy`"), "{body}");
}

#[tokio::test]
async fn the_sign_in_page_signs_in_and_out_without_the_console_code() {
    let s = server(true);
    let viewer = s.token(tokens::Role::Viewer);
    // The page: a token field, the reason, where it goes next (only ever this console).
    let res = s.app.clone().oneshot(Request::get("/sign-in?reason=%3Cb%3Eexpired&next=%2Fdevices%3Fq%3Dx").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(page.contains("type=\"password\"") && page.contains("&lt;b&gt;expired"), "{page}");
    assert!(page.contains("value=\"/devices?q=x\""), "{page}");
    assert!(!page.contains("Continue without signing in"), "a closed server offers no way round");
    let open = server(false);
    let res = open.app.clone().oneshot(Request::get("/sign-in?reason=expired&next=%2Fthreats").body(Body::empty()).unwrap()).await.unwrap();
    let page = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(page.contains("<a href=\"/threats\" data-testid=\"sign-in-skip\">Continue without signing in</a>"), "{page}");
    let form = |body: String, origin: &str| {
        let mut req = Request::post("/sign-in").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").header(header::HOST, "127.0.0.1:9");
        if !origin.is_empty() {
            req = req.header(header::ORIGIN, origin);
        }
        req.body(Body::from(body)).unwrap()
    };
    let location = |res: &axum::response::Response| res.headers()[header::LOCATION].to_str().unwrap().to_string();
    // A good token: the cookie, and on to the page asked for.
    let res = s.app.clone().oneshot(form(format!("token={viewer}&next=%2Fdevices"), "http://127.0.0.1:9")).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/devices");
    let secret = session_secret(res.headers());
    assert_eq!(s.get("/api/v1/devices", &Who::Cookie(&secret)).await.0, StatusCode::OK);
    // Elsewhere than this console is never where it goes next.
    for next in ["https%3A%2F%2Fevil.example", "%2F%2Fevil.example", "%2F%09%2Fevil.example", "%2F%5Cevil.example", "%2Fapi%2Fv1%2Fsummary"] {
        let res = s.app.clone().oneshot(form(format!("token={viewer}&next={next}"), "")).await.unwrap();
        assert_eq!(location(&res), "/", "{next}");
    }
    // A bad token, or a form from another site: back to the page with the reason, no cookie.
    let res = s.app.clone().oneshot(form("token=ts_nope&next=%2F".into(), "")).await.unwrap();
    assert!(location(&res).starts_with("/sign-in?reason=this+token+is+not+known"), "{}", location(&res));
    assert!(set_cookie(res.headers()).is_empty());
    let res = s.app.clone().oneshot(form(format!("token={viewer}"), "https://evil.example")).await.unwrap();
    assert!(location(&res).starts_with("/sign-in?reason=sign+in+from+this+console"), "{}", location(&res));
    assert!(set_cookie(res.headers()).is_empty());
    let mut cross = form(format!("token={viewer}"), "null");
    cross.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    let res = s.app.clone().oneshot(cross).await.unwrap();
    assert!(location(&res).starts_with("/sign-in?reason=sign+in+from+this+console"), "{}", location(&res));
    // The console's own form (no-referrer: Origin null, but the browser says same-origin).
    let mut own = form(format!("token={viewer}&next=%2Fthreats"), "null");
    own.headers_mut().insert("sec-fetch-site", "same-origin".parse().unwrap());
    assert_eq!(location(&s.app.clone().oneshot(own).await.unwrap()), "/threats");
    // Signing out: the session ends, the cookie goes, the page says so.
    let res = s
        .app
        .clone()
        .oneshot(Request::post("/sign-out").header(header::COOKIE, format!("tenantscope_session={secret}")).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(location(&res), "/sign-in?reason=signed+out&next=%2F");
    assert!(set_cookie(res.headers()).contains("Max-Age=0"));
    assert_eq!(s.get("/api/v1/devices", &Who::Cookie(&secret)).await.0, StatusCode::UNAUTHORIZED);
}
