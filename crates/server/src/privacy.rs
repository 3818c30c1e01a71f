//! Privacy mode, enforced by the server: for the kiosk role and any request with `privacy=1`, every
//! masked value (the model's `privacy::MASKED`) in an answer (JSON, CSV, change notices) is replaced
//! by its alias, and aliases in the request (a device's address, filters, search) are turned back
//! into the values they stand for. A value is numbered by its device's id in the store, or for a
//! user, domain or tenant by the first device that has it, so an alias is the same in every view.

use crate::store::{Result, Store};
use crate::store::db::{Connection, OptionalExtension};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use tenantscope_model::privacy::{masked_field, AliasKind, MASKED};

/// How long a domain's or tenant's number is used before it is looked up again.
const REMEMBER: std::time::Duration = std::time::Duration::from_secs(60);

tokio::task_local! {
    /// Set while a privacy-mode request runs: answers written as they stream (CSV, change notices)
    /// take it from here.
    pub static PRIVATE: Option<std::sync::Arc<Privacy>>;
}

/// The privacy of the request being answered, if it is in privacy mode.
pub fn current() -> Option<std::sync::Arc<Privacy>> {
    PRIVATE.try_with(Clone::clone).ok().flatten()
}

/// What every request shares: the numbers of the few values looked up by a scan (domains, tenants),
/// and the key of the aliases of values no device has.
pub struct Privacy {
    /// Looked up when, so that a number is asked again after `REMEMBER` (its first device may
    /// have been removed meanwhile).
    firsts: Mutex<HashMap<(AliasKind, String), (Option<i64>, std::time::Instant)>>,
    key: [u8; 32],
}

impl Default for Privacy {
    fn default() -> Self {
        let mut key = [0u8; 32];
        let _ = getrandom::getrandom(&mut key);
        Privacy { firsts: Mutex::new(HashMap::new()), key }
    }
}

impl Privacy {
    /// With the store's own key (kept in its `meta`, made by the first server that needed it): the
    /// alias of a value no device has is the same on every server over the store and after a restart.
    pub fn for_store(store: &crate::store::Store) -> Privacy {
        let mut privacy = Privacy::default();
        let fresh: String = privacy.key.iter().map(|b| format!("{b:02x}")).collect();
        let kept = store.with(|c| {
            c.execute("INSERT INTO meta (key, value) VALUES ('privacy_key', ?1) ON CONFLICT (key) DO NOTHING", [&fresh])?;
            Ok(crate::store::get_meta(c, "privacy_key")?)
        });
        match kept {
            Ok(Some(hex)) if hex.len() == 64 => {
                for (i, byte) in privacy.key.iter_mut().enumerate() {
                    *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
                }
            }
            // A key of this process's own still hides the values; it just differs between servers.
            other => tracing::warn!(answer = ?other.map(|k| k.map(|k| k.len())), "cannot keep the privacy key in the store"),
        }
        privacy
    }

    /// An aliaser for one answer, on a connection (`None`: only what is remembered, for answers
    /// made where the store cannot be asked, e.g. each change notice of an event stream).
    pub fn aliaser<'a>(&'a self, conn: Option<&'a Connection>) -> Aliaser<'a> {
        Aliaser { conn, shared: self, devices: HashMap::new(), users: HashMap::new() }
    }

    /// The aliases of `value`, rewritten on the blocking pool.
    pub async fn rewrite(self: &std::sync::Arc<Self>, store: &std::sync::Arc<Store>, mut value: Value) -> Result<Value> {
        let privacy = std::sync::Arc::clone(self);
        store
            .run(move |conn| {
                privacy.aliaser(Some(conn)).json(&mut value)?;
                Ok(value)
            })
            .await
    }
}

pub struct Aliaser<'a> {
    conn: Option<&'a Connection>,
    shared: &'a Privacy,
    devices: HashMap<String, Option<i64>>,
    users: HashMap<String, Option<i64>>,
}

impl Aliaser<'_> {
    /// The store's number of the device with this Entra id.
    fn device_number(&mut self, aad: &str) -> Result<Option<i64>> {
        if let Some(n) = self.devices.get(aad) {
            return Ok(*n);
        }
        let Some(conn) = self.conn else { return Ok(None) };
        let n = conn
            .prepare_cached("SELECT id FROM devices WHERE AADDeviceID = ?1")?
            .query_row([aad], |r| r.get(0))
            .optional()?;
        self.devices.insert(aad.to_string(), n);
        Ok(n)
    }

    /// The number of the first device with `value` in the kind's field. Users are many (looked up
    /// through their index, remembered for this answer); domains and tenants are few (remembered
    /// for the server's life).
    fn first_number(&mut self, kind: AliasKind, value: &str) -> Result<Option<i64>> {
        let shared = kind != AliasKind::User;
        let key = (kind, value.to_string());
        let remembered = if shared {
            let firsts = self.shared.firsts.lock().unwrap_or_else(PoisonError::into_inner);
            // Without a connection (a change notice), what is remembered is used however old.
            firsts.get(&key).filter(|(_, at)| self.conn.is_none() || at.elapsed() < REMEMBER).map(|(n, _)| *n)
        } else {
            self.users.get(value).copied()
        };
        if let Some(n) = remembered {
            return Ok(n);
        }
        let Some(conn) = self.conn else { return Ok(None) };
        let sql = format!("SELECT MIN(id) FROM devices WHERE {} = ?1", kind.device_field());
        let n: Option<i64> = conn.prepare_cached(&sql)?.query_row([value], |r| r.get(0))?;
        if shared {
            self.shared.firsts.lock().unwrap_or_else(PoisonError::into_inner).insert(key, (n, std::time::Instant::now()));
        } else {
            self.users.insert(value.to_string(), n);
        }
        Ok(n)
    }

    /// The alias of `value` of this kind; `device` is the number of the device the value belongs to,
    /// when the answer says.
    pub fn alias(&mut self, kind: AliasKind, value: &str, device: Option<i64>) -> Result<String> {
        let n = match kind {
            AliasKind::EntraDevice => self.device_number(value)?,
            k if k.per_device() => device,
            k => self.first_number(k, value)?,
        };
        Ok(match n {
            Some(n) => kind.alias(n),
            None => self.unnumbered(kind, value),
        })
    }

    /// A value no device has (a collection's tenant, a removed device's detection): an alias from
    /// a keyed hash, the same for the server's life, that says nothing about the value.
    fn unnumbered(&self, kind: AliasKind, value: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.shared.key);
        h.update(value.as_bytes());
        let d = h.finalize();
        let alias = kind.alias(0);
        format!("{}#{:02x}{:02x}{:02x}", alias.trim_end_matches('0'), d[0], d[1], d[2])
    }

    /// Every masked value in `v`, replaced by its alias (objects, arrays, facet lists).
    pub fn json(&mut self, v: &mut Value) -> Result<()> {
        match v {
            Value::Array(items) => {
                for item in items {
                    self.json(item)?;
                }
            }
            Value::Object(map) => {
                // A facet: `{"field": "DomainNames", "values": [{"value": ..., "count": ...}]}`.
                let facet = map.get("field").and_then(Value::as_str).and_then(|f| masked_field(f, |_| false));
                if let (Some(kind), Some(Value::Array(values))) = (facet, map.get_mut("values")) {
                    for entry in values {
                        if let Some(Value::String(s)) = entry.get_mut("value") {
                            *s = self.alias(kind, s, None)?;
                        }
                    }
                    return Ok(());
                }
                // The device this object is about, by its Entra id.
                let own = ["AADDeviceID", "DeviceId"].iter().find_map(|k| map.get(*k).and_then(Value::as_str)).map(str::to_string);
                let device = match own {
                    Some(aad) => self.device_number(&aad)?,
                    None => None,
                };
                let keys: Vec<(String, AliasKind)> =
                    map.keys().filter_map(|k| masked_field(k, |b| map.contains_key(b)).map(|kind| (k.clone(), kind))).collect();
                // Values numbered by another key of the object (a tenant's name by its id), read first.
                let by: Vec<Option<String>> = keys
                    .iter()
                    .map(|(k, _)| {
                        MASKED
                            .iter()
                            .find(|m| m.field == k && m.beside.is_some_and(|b| map.contains_key(b)))
                            .and_then(|m| map.get(m.beside?)?.as_str().map(str::to_string))
                    })
                    .collect();
                for ((key, kind), by) in keys.into_iter().zip(by) {
                    if let Some(Value::String(s)) = map.get_mut(&key) {
                        let value = by.unwrap_or_else(|| s.clone());
                        *s = self.alias(kind, &value, device)?;
                    }
                }
                for (key, value) in map.iter_mut() {
                    if value.is_object() || value.is_array() {
                        if key == "values" && facet.is_some() {
                            continue;
                        }
                        self.json(value)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The value an alias stands for, if it is one that a device has.
    pub fn real(&mut self, alias: &str) -> Result<Option<(AliasKind, String)>> {
        let Some((kind, n)) = AliasKind::parse(alias) else { return Ok(None) };
        let Some(conn) = self.conn else { return Ok(None) };
        let sql = format!("SELECT {} FROM devices WHERE id = ?1", kind.device_field());
        let value: Option<Option<String>> = conn.prepare_cached(&sql)?.query_row([n], |r| r.get(0)).optional()?;
        let Some(Some(value)) = value else { return Ok(None) };
        // A user's, domain's or tenant's alias is its first device's number, no other.
        if !kind.per_device() && self.first_number(kind, &value)? != Some(n) {
            return Ok(None);
        }
        Ok(Some((kind, value)))
    }
}
