//! API tokens: created by `tenantscope-server token create`, shown once, stored only as a SHA-256
//! hash. A request presents one as `Authorization: Bearer <token>`.

use super::Result;
use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Posts batches to `/api/v1/upload/...` and removes devices.
    Uploader,
    /// Reads only (uploads are refused with 403).
    Viewer,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Uploader, Role::Viewer];

    pub fn key(self) -> &'static str {
        match self {
            Role::Uploader => "uploader",
            Role::Viewer => "viewer",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a token with `role` and returns it (the only time it is seen; the store keeps its hash).
pub fn create(conn: &Connection, role: Role, label: &str, now: i64) -> Result<String> {
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).map_err(|e| super::StoreError::Task(format!("no randomness: {e}")))?;
    use base64::Engine;
    let token = format!("ts_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
    conn.execute(
        "INSERT INTO tokens (hash, role, label, created) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![hash(&token), role.key(), label, tenantscope_model::time::format_rfc3339(now)],
    )?;
    Ok(token)
}

/// The role of a token, if the store knows it.
pub fn role_of(conn: &Connection, token: &str) -> Result<Option<Role>> {
    let role: Option<String> = conn
        .prepare_cached("SELECT role FROM tokens WHERE hash = ?1")?
        .query_row([hash(token)], |r| r.get(0))
        .optional()?;
    Ok(role.as_deref().and_then(Role::from_key))
}

/// Whether any token exists (none: every authenticated route refuses).
pub fn any(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM tokens)", [], |r| r.get(0))?)
}
