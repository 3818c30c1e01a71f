//! API tokens and console sessions. A token is created by `tenantscope-server token create`, shown
//! once and stored only as a SHA-256 hash; a request presents it as `Authorization: Bearer <token>`.
//! Signing in with a token (`POST /api/v1/session`, or a kiosk link) gives a session: a secret in an
//! HttpOnly cookie, stored as its hash too, that ends when unused for its role's time, when it is
//! signed out, or when its token is revoked.

use super::Result;
use crate::store::db::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};
pub use tenantscope_model::access::Role;

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn random(prefix: &str) -> Result<String> {
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).map_err(|e| super::StoreError::Task(format!("no randomness: {e}")))?;
    use base64::Engine;
    Ok(format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)))
}

/// What a token or a session is worth now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Good: its role, and for a session when it ends unless used (Unix seconds).
    Valid { role: Role, expires: Option<i64> },
    /// Not a token or session the store knows (or signed out).
    Unknown,
    /// Its token was revoked.
    Revoked,
    /// A session left unused past its time.
    Expired,
}

/// Creates a token with `role` and returns it (the only time it is seen; the store keeps its hash).
pub fn create(conn: &Connection, role: Role, label: &str, now: i64) -> Result<String> {
    let token = random("ts_")?;
    conn.execute(
        "INSERT INTO tokens (hash, role, label, created) VALUES (?1, ?2, ?3, ?4)",
        crate::store::db::params![hash(&token), role.key(), label, tenantscope_model::time::format_rfc3339(now)],
    )?;
    Ok(token)
}

/// A token's id and role, if the store knows it (revoked ones too: `Check::Revoked`).
fn token(conn: &Connection, token: &str) -> Result<Option<(i64, Check)>> {
    let row: Option<(i64, String, Option<String>)> = conn
        .prepare_cached("SELECT id, role, revoked FROM tokens WHERE hash = ?1")?
        .query_row([hash(token)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(row.map(|(id, role, revoked)| {
        let check = match (revoked, Role::from_key(&role)) {
            (Some(_), _) => Check::Revoked,
            (None, Some(role)) => Check::Valid { role, expires: None },
            (None, None) => Check::Unknown,
        };
        (id, check)
    }))
}

/// What a bearer token is worth.
pub fn check(conn: &Connection, bearer: &str) -> Result<Check> {
    Ok(token(conn, bearer)?.map_or(Check::Unknown, |(_, c)| c))
}

/// Whether any token exists (the demo creates its upload token only into a store without one).
pub fn any(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM tokens)", [], |r| r.get(0))?)
}

/// Whether a token someone can sign in with (any role but uploader) exists and is not revoked.
pub fn any_sign_in(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM tokens WHERE revoked IS NULL AND role <> 'uploader')",
        [],
        |r| r.get(0),
    )?)
}

/// A token as `token list` shows it (never the token itself).
#[derive(Debug)]
pub struct TokenInfo {
    pub id: i64,
    pub role: String,
    pub label: String,
    pub created: String,
    pub revoked: Option<String>,
    /// Sessions signed in with it that have not ended.
    pub sessions: i64,
}

pub fn list(conn: &Connection, now: i64) -> Result<Vec<TokenInfo>> {
    let mut stmt = conn.prepare(
        "SELECT id, role, label, created, revoked,
                (SELECT COUNT(*) FROM sessions s WHERE s.token = t.id AND s.expires > ?1)
         FROM tokens t ORDER BY id",
    )?;
    let rows = stmt.query_map([now], |r| {
        Ok(TokenInfo { id: r.get(0)?, role: r.get(1)?, label: r.get(2)?, created: r.get(3)?, revoked: r.get(4)?, sessions: r.get(5)? })
    })?;
    Ok(rows.collect::<crate::store::db::Result<_>>()?)
}

/// Revokes the token with this id: it and every session signed in with it stop working. False when
/// there is no such token or it was revoked already.
pub fn revoke(conn: &Connection, id: i64, now: i64) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
        crate::store::db::params![id, tenantscope_model::time::format_rfc3339(now)],
    )? == 1)
}

/// Signs in with a token: a new session's secret, role and end. Anything but a valid token that may
/// sign in is the check that refused it (an uploader's token: `Valid` with its role).
pub fn sign_in(conn: &Connection, bearer: &str, now: i64) -> Result<std::result::Result<(String, Role, i64), Check>> {
    let Some((id, check)) = token(conn, bearer)? else {
        return Ok(Err(Check::Unknown));
    };
    let Check::Valid { role, .. } = check else {
        return Ok(Err(check));
    };
    if !role.reads() {
        return Ok(Err(check));
    }
    let secret = random("tss_")?;
    let expires = now + role.session_seconds();
    // Sessions ended a month ago are forgotten (until then they are told apart from unknown ones).
    conn.execute("DELETE FROM sessions WHERE expires < ?1", [now - 30 * 24 * 3600])?;
    conn.execute(
        "INSERT INTO sessions (hash, token, created, expires) VALUES (?1, ?2, ?3, ?4)",
        crate::store::db::params![hash(&secret), id, tenantscope_model::time::format_rfc3339(now), expires],
    )?;
    Ok(Ok((secret, role, expires)))
}

/// What a session cookie's secret is worth now.
pub fn session(conn: &Connection, secret: &str, now: i64) -> Result<Check> {
    let row: Option<(i64, String, Option<String>)> = conn
        .prepare_cached("SELECT s.expires, t.role, t.revoked FROM sessions s JOIN tokens t ON t.id = s.token WHERE s.hash = ?1")?
        .query_row([hash(secret)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(match row {
        None => Check::Unknown,
        Some((_, _, Some(_))) => Check::Revoked,
        Some((expires, _, None)) if expires <= now => Check::Expired,
        Some((expires, role, None)) => Role::from_key(&role).map_or(Check::Unknown, |role| Check::Valid { role, expires: Some(expires) }),
    })
}

/// Moves a session's end (a session used past half its time is renewed).
pub fn renew(conn: &Connection, secret: &str, expires: i64) -> Result<()> {
    conn.execute("UPDATE sessions SET expires = ?2 WHERE hash = ?1", crate::store::db::params![hash(secret), expires])?;
    Ok(())
}

/// Ends a session.
pub fn sign_out(conn: &Connection, secret: &str) -> Result<()> {
    conn.execute("DELETE FROM sessions WHERE hash = ?1", [hash(secret)])?;
    Ok(())
}
