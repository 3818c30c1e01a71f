//! The in-memory index of the devices list. At a hierarchy's size (up to ~1,000,000 devices) SQLite
//! alone cannot count a non-selective filter, sort it and search substrings within the latency budget
//! on two cores, so the devices query runs here: dictionary-encoded filter columns, one precomputed
//! order per sortable field (read from the store's own indexes), and the lower-case search text for the
//! free-text search. It answers "which row ids, in which order, how many"; the rows themselves are
//! then read from SQLite by id. Built from the store after it is loaded; rebuilt after writes.

use super::Result;
use crate::store::db::Connection;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use crate::store::db::types::ValueRef;
use tenantscope_model::api::{FilterKind, FilterSpec, ListQuery, SortOrder, DEVICES};
use tenantscope_model::{AgentState, HealthVerdict};

#[derive(Clone)]
struct TextColumn {
    dict: Vec<String>,
    lookup: HashMap<String, u32>,
    codes: Vec<u32>,
    counts: Vec<u64>,
}

impl TextColumn {
    /// The code of `value` (added to the dictionary when new), counted once more.
    fn code(&mut self, value: &str) -> u32 {
        let code = match self.lookup.get(value) {
            Some(c) => *c,
            None => {
                let c = self.dict.len() as u32;
                self.lookup.insert(value.to_string(), c);
                self.dict.push(value.to_string());
                self.counts.push(0);
                c
            }
        };
        self.counts[code as usize] += 1;
        code
    }

    /// One more position, with `value`.
    fn push(&mut self, value: &str) {
        let code = self.code(value);
        self.codes.push(code);
    }
}

/// The filter value (wire form) of a SQL value read for `filter`: text as it is, codes as keys,
/// conditions as true/false; NULL as "" (which no filter value equals).
fn wire_value(filter: FilterSpec, v: ValueRef<'_>) -> Cow<'_, str> {
    let int = match v {
        ValueRef::Integer(i) => Some(i),
        _ => None,
    };
    match (filter.kind, int) {
        (FilterKind::Verdict, Some(i)) => Cow::Borrowed(HealthVerdict::from_code(i).map(|v| v.key()).unwrap_or_default()),
        (FilterKind::Agent, Some(i)) => Cow::Borrowed(AgentState::from_code(i).map(|v| v.key()).unwrap_or_default()),
        (FilterKind::Bool, Some(i)) => Cow::Borrowed(if i != 0 { "true" } else { "false" }),
        (_, Some(i)) => Cow::Owned(i.to_string()),
        _ => Cow::Borrowed(v.as_str().unwrap_or_default()),
    }
}

/// Devices per piece of the search text: a change copies only the pieces of the devices it
/// changed (about 1.5 MB each), never the whole text (about 100 MB at 1,000,000 devices).
/// (Small pieces in debug builds, so that the tests' tenants have several.)
const TEXT_PIECE: usize = if cfg!(debug_assertions) { 64 } else { 16_384 };

/// The search text of `TEXT_PIECE` consecutive positions: each device's lower-case searchable
/// fields (`\0`-separated), `\n`-terminated, and where each starts.
#[derive(Clone, Default)]
struct TextPiece {
    bytes: Vec<u8>,
    starts: Vec<u32>,
}

impl TextPiece {
    fn push(&mut self, text: &[u8]) {
        self.starts.push(self.bytes.len() as u32);
        self.bytes.extend_from_slice(text);
        self.bytes.push(b'\n');
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    /// The text of the `i`th device of the piece.
    fn get(&self, i: usize) -> &[u8] {
        let end = self.starts.get(i + 1).map(|e| *e as usize).unwrap_or(self.bytes.len()) - 1;
        &self.bytes[self.starts[i] as usize..end]
    }

    /// The devices of the piece whose text contains `finder`'s needle, as positions from `base`.
    fn find(&self, finder: &memchr::memmem::Finder<'_>, base: usize, bits: &mut Bits) {
        let (hay, starts) = (&self.bytes, &self.starts);
        let mut row = 0usize;
        let mut from = 0usize;
        while let Some(i) = finder.find(&hay[from..]) {
            let at = from + i;
            // Hits come in order, so the row cursor only moves forward.
            while row + 1 < starts.len() && starts[row + 1] as usize <= at {
                row += 1;
            }
            bits.set(base + row);
            // One hit per device is enough: continue at the next device.
            match starts.get(row + 1) {
                Some(next) => from = *next as usize,
                None => break,
            }
        }
    }
}

/// The rows each filter value (or set of values of one filter) selects, kept for the requests
/// that ask for it again while this index is current: a wall of consoles asks for the same lists.
/// A copy of an index starts with none (its rows may differ).
#[derive(Default)]
struct Selections(std::sync::Mutex<HashMap<String, Arc<Bits>>>);

/// Selections kept per index, at most.
const SELECTIONS_KEPT: usize = 64;

impl Clone for Selections {
    fn clone(&self) -> Self {
        Selections::default()
    }
}

impl Selections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Bits>>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The rows of `key`, computed by `compute` the first time.
    fn get(&self, key: String, compute: impl FnOnce() -> Bits) -> Arc<Bits> {
        if let Some(bits) = self.lock().get(&key) {
            return Arc::clone(bits);
        }
        let bits = Arc::new(compute());
        let mut kept = self.lock();
        if kept.len() < SELECTIONS_KEPT {
            kept.insert(key, Arc::clone(&bits));
        }
        bits
    }
}

/// A set of row positions.
#[derive(Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn empty(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn and(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }
    fn count(&self) -> u64 {
        self.0.iter().map(|w| w.count_ones() as u64).sum()
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
    fn and_not(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= !b;
        }
    }
    /// Room for `n` positions (new ones unset).
    fn grow(&mut self, n: usize) {
        self.0.resize(n.div_ceil(64), 0);
    }
    fn from_fn(n: usize, f: impl Fn(usize) -> bool) -> Self {
        let mut bits = Bits::empty(n);
        for (w, word) in bits.0.iter_mut().enumerate() {
            let base = w * 64;
            let mut acc = 0u64;
            for b in 0..64.min(n - base) {
                acc |= (f(base + b) as u64) << b;
            }
            *word = acc;
        }
        bits
    }
}

/// Every part is shared (`Arc`): an index updated for a few changed devices (`updated`) copies only
/// the parts that change, and requests still holding the previous index keep theirs.
#[derive(Clone)]
pub struct DeviceIndex {
    /// Position → devices.id, ascending.
    rowids: Arc<Vec<i64>>,
    /// Filter name → its dictionary-encoded values (every devices filter but collection membership).
    columns: HashMap<&'static str, Arc<TextColumn>>,
    /// CollectionId → positions of its members (ascending).
    members: Arc<HashMap<String, Vec<u32>>>,
    /// Sortable field → positions in ascending (field, id) order.
    orders: HashMap<&'static str, Arc<Vec<u32>>>,
    /// The search text of every device, in position order, in pieces of `TEXT_PIECE` devices.
    text: Vec<Arc<TextPiece>>,
    /// Position → the device's ActiveThreats (its order is kept in memory on updates).
    active: Arc<Vec<u32>>,
    /// The store's change counter this index includes every change up to.
    change: i64,
    selections: Selections,
    /// Positions of devices removed since the index was built (left in place, skipped by every
    /// answer; a rebuild drops them), and how many.
    gone: Option<Arc<Bits>>,
    removed: usize,
}

/// Ranks of a dictionary column's codes, by the order its field sorts in: text by bytes, verdicts
/// and antivirus states by their stored codes (as SQL orders the integer columns).
fn ranks(field: &str, col: &TextColumn) -> Vec<u32> {
    let key = |code: usize| -> (i64, &[u8]) {
        let v = col.dict[code].as_str();
        match field {
            "DefenderHealth" => (HealthVerdict::from_key(v).map(|x| x.code()).unwrap_or(i64::MAX), b""),
            "AgentState" => (AgentState::from_key(v).map(|x| x.code()).unwrap_or(i64::MAX), b""),
            _ => (0, v.as_bytes()),
        }
    };
    let mut ranked: Vec<u32> = (0..col.dict.len() as u32).collect();
    ranked.sort_by(|a, b| key(*a as usize).cmp(&key(*b as usize)));
    let mut rank = vec![0u32; col.dict.len()];
    for (r, code) in ranked.iter().enumerate() {
        rank[*code as usize] = r as u32;
    }
    rank
}

/// Positions 0..n ordered by a rank below `ranks` (ties in position order), in one counting pass.
fn counting_order(n: usize, ranks: usize, rank: impl Fn(usize) -> u32) -> Vec<u32> {
    let mut next = vec![0usize; ranks + 1];
    for p in 0..n {
        next[rank(p) as usize + 1] += 1;
    }
    for r in 1..next.len() {
        next[r] += next[r - 1];
    }
    let mut order = vec![0u32; n];
    for p in 0..n {
        let r = rank(p) as usize;
        order[next[r]] = p as u32;
        next[r] += 1;
    }
    order
}

/// Sortable fields ordered in memory by the ranks of their dictionary column's values (few distinct
/// values): text by bytes, verdicts and antivirus states by their codes.
fn ranked(field: &str) -> bool {
    dictionary_sorted(field) || matches!(field, "DefenderHealth" | "AgentState")
}

/// Positions ordered by active-threat count (ties by id), in one counting pass over the distinct counts.
fn active_order(active: &[u32]) -> Vec<u32> {
    let mut values: Vec<u32> = active.to_vec();
    values.sort_unstable();
    values.dedup();
    counting_order(active.len(), values.len(), |p| values.binary_search(&active[p]).unwrap_or(0) as u32)
}

/// Sortable fields whose order the store's indexes give (many distinct values): names, serial
/// numbers, ids.
fn store_sorted() -> impl Iterator<Item = &'static str> {
    DEVICES.sortable.iter().copied().filter(|f| !ranked(f) && *f != "ActiveThreats")
}

/// The device just before (`key`, `id`) in the store's (field, id) order (NULLs first), if any.
fn neighbour_before(conn: &Connection, field: &str, key: Option<&str>, id: i64) -> Result<Option<i64>> {
    use crate::store::db::OptionalExtension;
    // `field` is a sortable column of the spec, never a request's text.
    let null_before = |below: i64| -> Result<Option<i64>> {
        Ok(conn
            .prepare_cached(&format!("SELECT id FROM devices WHERE {field} IS NULL AND id < ?1 ORDER BY id DESC LIMIT 1"))?
            .query_row([below], |r| r.get(0))
            .optional()?)
    };
    match key {
        None => null_before(id),
        Some(key) => {
            // Two seeks in the (field, id) index: an equal value with a lower id, else the highest
            // lower value (one row-value range would walk every equal value above `id`).
            let equal = conn
                .prepare_cached(&format!("SELECT id FROM devices WHERE {field} = ?1 AND id < ?2 ORDER BY id DESC LIMIT 1"))?
                .query_row(crate::store::db::params![key, id], |r| r.get(0))
                .optional()?;
            let lower = || -> Result<Option<i64>> {
                Ok(conn
                    .prepare_cached(&format!("SELECT id FROM devices WHERE {field} < ?1 ORDER BY {field} DESC, id DESC LIMIT 1"))?
                    .query_row([key], |r| r.get(0))
                    .optional()?)
            };
            match equal {
                Some(found) => Ok(Some(found)),
                None => match lower()? {
                    Some(found) => Ok(Some(found)),
                    None => null_before(i64::MAX),
                },
            }
        }
    }
}

/// The health fields' filters are correlated subqueries in the spec (its SQL serves any query of
/// devices); the index reads them through one join instead of six look-ups of the same health row
/// per device: the expression on the joined row `h`, or the spec's expression as it is.
fn joined(expr: &'static str) -> &'static str {
    expr.strip_prefix("(SELECT ").and_then(|e| e.strip_suffix(" FROM defender_health h WHERE h.id = devices.id)")).unwrap_or(expr)
}

/// The devices table with each device's health row, for the expressions `joined` gives.
const DEVICES_WITH_HEALTH: &str = "devices LEFT JOIN defender_health h ON h.id = devices.id";

/// The lower-case search text of one device (its searchable fields, `\0`-separated).
fn search_text(row: &crate::store::db::Row<'_>, first: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (i, _) in DEVICES.searchable.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        let v = row.get_ref(first + i)?.as_str().unwrap_or_default();
        out.extend(v.bytes().map(|b| b.to_ascii_lowercase()));
    }
    Ok(out)
}

/// A facet: the values of a field with their device counts, most frequent first.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

/// The filters held as dictionary columns: all but membership.
fn column_filters() -> impl Iterator<Item = FilterSpec> {
    DEVICES.filters.iter().copied().filter(|f| f.kind != FilterKind::Member)
}

/// A sortable field whose order comes from its dictionary column (few distinct values).
fn dictionary_sorted(field: &str) -> bool {
    column_filters().any(|f| f.kind == FilterKind::Text && f.sql == field)
}

impl DeviceIndex {
    /// Builds the index from one read snapshot of the store (one read transaction on one
    /// connection), so that its columns, orders and memberships all describe the same data even
    /// while writes commit meanwhile.
    pub fn build(store: &super::Store) -> Result<DeviceIndex> {
        store.with(|conn| {
            let snapshot = conn.transaction()?;
            let change = super::write::last_change(&snapshot)?;
            let orders = Self::sql_orders(&snapshot)?;
            Ok(DeviceIndex { change, ..Self::build_with(&snapshot, orders)? })
        })
    }

    /// Sortable fields whose order is read from the store's indexes (ids in ascending order).
    fn sql_orders(conn: &Connection) -> Result<Vec<(&'static str, Vec<i64>)>> {
        let mut out = Vec::new();
        for field in store_sorted() {
            // `field` is a column name of the devices table (a sortable field of the spec).
            let mut stmt = conn.prepare(&format!("SELECT id FROM devices ORDER BY {field} NULLS FIRST, id"))?;
            let ids = stmt.query_map([], |r| r.get::<_, i64>(0))?.collect::<crate::store::db::Result<Vec<_>>>()?;
            out.push((field, ids));
        }
        Ok(out)
    }

    fn build_with(conn: &Connection, sql_orders: Vec<(&'static str, Vec<i64>)>) -> Result<DeviceIndex> {
        let filters: Vec<FilterSpec> = column_filters().collect();
        let mut rowids = Vec::new();
        let mut columns: Vec<TextColumn> = filters
            .iter()
            .map(|_| TextColumn { dict: Vec::new(), lookup: HashMap::new(), codes: Vec::new(), counts: Vec::new() })
            .collect();
        let mut text: Vec<TextPiece> = Vec::new();
        let mut active = Vec::new();
        {
            // Expressions come from the spec (column names or fixed subqueries), never from a request.
            let exprs: Vec<&str> = filters.iter().map(|f| joined(f.sql)).chain(DEVICES.searchable.iter().copied()).collect();
            let mut stmt =
                conn.prepare(&format!("SELECT devices.id, {}, ActiveThreats FROM {DEVICES_WITH_HEALTH} ORDER BY devices.id", exprs.join(", ")))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                rowids.push(r.get::<_, i64>(0)?);
                for (i, (col, filter)) in columns.iter_mut().zip(&filters).enumerate() {
                    col.push(&wire_value(*filter, r.get_ref(1 + i)?));
                }
                if text.last().is_none_or(|piece| piece.len() == TEXT_PIECE) {
                    text.push(TextPiece::default());
                }
                text.last_mut().expect("a piece").push(&search_text(&r, filters.len() + 1)?);
                active.push(r.get::<_, i64>(exprs.len() + 1)? as u32);
            }
        }
        let n = rowids.len();
        let position = |id: i64| rowids.binary_search(&id).ok().map(|p| p as u32);

        // Memberships by collection row id (integers only: 9 million rows at a million devices).
        let names: HashMap<i64, String> = conn
            .prepare("SELECT id, CollectionId FROM collections")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<crate::store::db::Result<_>>()?;
        let mut by_rowid: HashMap<i64, Vec<u32>> = names.keys().map(|k| (*k, Vec::new())).collect();
        {
            let mut stmt = conn.prepare("SELECT collection, device FROM collection_members")?;
            let mut rows = stmt.query([])?;
            let mut current: Option<(i64, Vec<u32>)> = None;
            while let Some(r) = rows.next()? {
                let (collection, device): (i64, i64) = (r.get(0)?, r.get(1)?);
                if current.as_ref().map(|(c, _)| *c) != Some(collection) {
                    if let Some((c, list)) = current.take() {
                        by_rowid.entry(c).or_default().extend(list);
                    }
                    current = Some((collection, Vec::new()));
                }
                if let (Some((_, list)), Some(p)) = (current.as_mut(), position(device)) {
                    list.push(p);
                }
            }
            if let Some((c, list)) = current {
                by_rowid.entry(c).or_default().extend(list);
            }
        }
        let mut members: HashMap<String, Vec<u32>> = HashMap::new();
        for (rowid, mut list) in by_rowid {
            if let Some(name) = names.get(&rowid) {
                list.sort_unstable();
                members.insert(name.clone(), list);
            }
        }

        let columns: HashMap<&'static str, Arc<TextColumn>> = filters.iter().map(|f| f.name).zip(columns.into_iter().map(Arc::new)).collect();
        let mut orders: HashMap<&'static str, Arc<Vec<u32>>> = HashMap::new();
        for field in DEVICES.sortable {
            let order: Vec<u32> = if let Some(col) = columns.get(field).filter(|_| ranked(field)) {
                // Dictionary column: rank the (few) distinct values, then order positions by (rank, id).
                let rank = ranks(field, col);
                counting_order(n, rank.len(), |p| rank[col.codes[p] as usize])
            } else if *field == "ActiveThreats" {
                active_order(&active)
            } else {
                // The store's index already has the order.
                let ids = sql_orders.iter().find(|(f, _)| f == field).map(|(_, ids)| ids.as_slice()).unwrap_or_default();
                ids.iter().filter_map(|id| position(*id)).collect()
            };
            orders.insert(field, Arc::new(order));
        }
        Ok(DeviceIndex {
            rowids: Arc::new(rowids),
            columns,
            members: Arc::new(members),
            orders,
            text: text.into_iter().map(Arc::new).collect(),
            active: Arc::new(active),
            change: 0,
            selections: Selections::default(),
            gone: None,
            removed: 0,
        })
    }

    /// The store's change counter this index includes every change up to.
    pub fn change(&self) -> i64 {
        self.change
    }

    /// This index with the devices of `ids` (row ids, ascending) read again from `conn`, a read
    /// snapshot that has exactly the changes up to `change` on top of this index's: their filter
    /// values, search text and active-threat counts; devices the index does not have yet appended
    /// (new ids are above every id it has); devices no longer in the store left in place but marked
    /// removed (skipped by every answer, their counts taken back); and each order redone only where
    /// it may differ — a counting pass for the fields with few values, a merge for the fields the
    /// store orders (the new and `moved` devices placed by their neighbour in the store's index).
    /// Copies only the parts that change (tens of ms at 1,000,000 devices instead of a rebuild's
    /// seconds). None when an id is below the index's highest but not in it, or when over an eighth
    /// of the positions are removed devices: rebuild then (which compacts them).
    pub fn updated(&self, conn: &Connection, ids: &[i64], moved: &[i64], change: i64) -> Result<Option<DeviceIndex>> {
        let filters: Vec<FilterSpec> = column_filters().collect();
        let placed: Vec<&'static str> = store_sorted().collect();
        let exprs: Vec<&str> =
            filters.iter().map(|f| joined(f.sql)).chain(DEVICES.searchable.iter().copied()).chain(placed.iter().copied()).collect();
        let mut next = self.clone();
        next.change = change;
        let last = self.rowids.last().copied().unwrap_or(i64::MIN);
        // Existing devices read again: position → search text; new devices: (id, values, text, threats).
        let mut texts: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut added: Vec<(i64, Vec<String>, Vec<u8>, u32)> = Vec::new();
        // Every device to place again in the store's orders: (id, that field's values).
        let mut keys: Vec<(i64, Vec<Option<String>>)> = Vec::new();
        let mut changed: Vec<&'static str> = Vec::new();
        let mut active_changed = false;
        let columns: Vec<&TextColumn> = filters.iter().map(|f| &*self.columns[f.name]).collect();
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            // Expressions come from the spec, never from a request.
            let sql = format!("SELECT devices.id, {}, ActiveThreats FROM {DEVICES_WITH_HEALTH} WHERE devices.id IN ({marks})", exprs.join(", "));
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(crate::store::db::params_from_iter(chunk.iter()))?;
            let mut found: Vec<i64> = Vec::with_capacity(chunk.len());
            while let Some(r) = rows.next()? {
                let id = r.get::<_, i64>(0)?;
                found.push(id);
                let values: Vec<Cow<'_, str>> =
                    filters.iter().enumerate().map(|(i, f)| r.get_ref(1 + i).map(|v| wire_value(*f, v))).collect::<crate::store::db::Result<_>>()?;
                let text = search_text(&r, filters.len() + 1)?;
                let first_key = 1 + filters.len() + DEVICES.searchable.len();
                let key = || -> crate::store::db::Result<Vec<Option<String>>> {
                    (0..placed.len()).map(|i| Ok(r.get_ref(first_key + i)?.as_str_or_null()?.map(str::to_string))).collect()
                };
                let threats = r.get::<_, i64>(exprs.len() + 1)? as u32;
                let p = match self.rowids.binary_search(&id) {
                    Ok(p) => p,
                    Err(_) if id > last => {
                        keys.push((id, key()?));
                        added.push((id, values.into_iter().map(Cow::into_owned).collect(), text, threats));
                        continue;
                    }
                    Err(_) => return Ok(None),
                };
                let revived = self.gone.as_ref().is_some_and(|gone| gone.get(p));
                if revived {
                    // Removed, and its id given again to a new device (the store reuses the highest
                    // id): counted again, then updated like any other.
                    Arc::make_mut(next.gone.as_mut().expect("gone")).clear(p);
                    next.removed -= 1;
                    for filter in &filters {
                        let col = Arc::make_mut(next.columns.get_mut(filter.name).expect("column"));
                        let code = col.codes[p] as usize;
                        col.counts[code] += 1;
                    }
                }
                if revived || moved.binary_search(&id).is_ok() {
                    keys.push((id, key()?));
                }
                for ((filter, col), value) in filters.iter().zip(&columns).zip(values) {
                    if col.dict[col.codes[p] as usize] != value {
                        let col = Arc::make_mut(next.columns.get_mut(filter.name).expect("column"));
                        let old = col.codes[p] as usize;
                        col.counts[old] -= 1;
                        col.codes[p] = col.code(&value);
                        if !changed.contains(&filter.name) {
                            changed.push(filter.name);
                        }
                    }
                }
                if self.text(p) != &text[..] {
                    texts.push((p, text));
                }
                if self.active[p] != threats {
                    Arc::make_mut(&mut next.active)[p] = threats;
                    active_changed = true;
                }
            }
            // Devices no longer in the store: removed (their counts taken back, their position
            // skipped from now on).
            found.sort_unstable();
            for id in chunk.iter().filter(|id| found.binary_search(id).is_err()) {
                let Ok(p) = self.rowids.binary_search(id) else { continue }; // added and removed since
                if next.gone.as_ref().is_some_and(|gone| gone.get(p)) {
                    continue;
                }
                let n = self.positions();
                Arc::make_mut(next.gone.get_or_insert_with(|| Arc::new(Bits::empty(n)))).set(p);
                next.removed += 1;
                for filter in &filters {
                    let col = Arc::make_mut(next.columns.get_mut(filter.name).expect("column"));
                    let code = col.codes[p] as usize;
                    col.counts[code] -= 1;
                }
            }
        }
        // Many removed: a rebuild compacts.
        if next.removed > next.positions() / 8 {
            return Ok(None);
        }
        let appended = !added.is_empty();
        added.sort_by_key(|(id, ..)| *id);
        if appended {
            if let Some(gone) = next.gone.as_mut() {
                Arc::make_mut(gone).grow(self.positions() + added.len());
            }
            let rowids = Arc::make_mut(&mut next.rowids);
            let active = Arc::make_mut(&mut next.active);
            for (id, values, _, threats) in &mut added {
                rowids.push(*id);
                active.push(*threats);
                for (filter, value) in filters.iter().zip(values.drain(..)) {
                    Arc::make_mut(next.columns.get_mut(filter.name).expect("column")).push(&value);
                }
            }
        }
        // Search text: the pieces with a changed device copied with its text in place, the new
        // devices' text added to the last piece and new ones.
        texts.sort_by_key(|(p, _)| *p);
        for changed in texts.chunk_by(|(a, _), (b, _)| a / TEXT_PIECE == b / TEXT_PIECE) {
            let k = changed[0].0 / TEXT_PIECE;
            let (piece, mut changed) = (&self.text[k], changed.iter().peekable());
            let mut copy = TextPiece { bytes: Vec::with_capacity(piece.bytes.len() + 64), starts: Vec::with_capacity(piece.len()) };
            for j in 0..piece.len() {
                match changed.next_if(|(p, _)| p % TEXT_PIECE == j) {
                    Some((_, text)) => copy.push(text),
                    None => copy.push(piece.get(j)),
                }
            }
            next.text[k] = Arc::new(copy);
        }
        for (_, _, text, _) in &added {
            if next.text.last().is_none_or(|piece| piece.len() == TEXT_PIECE) {
                next.text.push(Arc::new(TextPiece::default()));
            }
            Arc::make_mut(next.text.last_mut().expect("a piece")).push(text);
        }
        let n = next.positions();
        // Orders of the fields with few values: a counting pass over the ranks (ties by id).
        for field in DEVICES.sortable {
            if let Some(col) = next.columns.get(field).filter(|_| ranked(field)) {
                if changed.contains(field) || appended {
                    let rank = ranks(field, col);
                    next.orders.insert(field, Arc::new(counting_order(n, rank.len(), |p| rank[col.codes[p] as usize])));
                }
            } else if *field == "ActiveThreats" && (active_changed || appended) {
                next.orders.insert(field, Arc::new(active_order(&next.active)));
            }
        }
        // Orders the store's indexes give (names, serial numbers, ids): the moved devices taken out,
        // then every new or moved device put back after its neighbour in the store's order.
        if !keys.is_empty() {
            let again: Vec<usize> = keys.iter().map(|(id, _)| next.rowids.binary_search(id).expect("in the index")).collect();
            let mut out_of_place = vec![false; n];
            for p in &again {
                out_of_place[*p] = true;
            }
            for (f, field) in placed.iter().enumerate() {
                let kept: Vec<u32> = self.orders[field].iter().copied().filter(|p| !out_of_place[*p as usize]).collect();
                // Position → its place in `kept`.
                let mut place_of = vec![u32::MAX; n];
                for (i, p) in kept.iter().enumerate() {
                    place_of[*p as usize] = i as u32;
                }
                let mut sorted: Vec<usize> = (0..keys.len()).collect();
                sorted.sort_by(|a, b| keys[*a].1[f].cmp(&keys[*b].1[f]).then(keys[*a].0.cmp(&keys[*b].0)));
                // (index in `kept` to insert before, position), in order.
                let mut inserts: Vec<(u32, u32)> = Vec::with_capacity(sorted.len());
                let mut before_of: HashMap<i64, u32> = HashMap::new();
                for k in sorted {
                    let (id, key) = (&keys[k].0, &keys[k].1[f]);
                    let before = match neighbour_before(conn, field, key.as_deref(), *id)? {
                        None => 0,
                        Some(prev) => match before_of.get(&prev) {
                            Some(b) => *b, // another device placed again: right after it
                            None => {
                                let Ok(pp) = next.rowids.binary_search(&prev) else { return Ok(None) };
                                match place_of[pp] {
                                    u32::MAX => return Ok(None),
                                    i => i + 1,
                                }
                            }
                        },
                    };
                    before_of.insert(*id, before);
                    inserts.push((before, again[k] as u32));
                }
                let mut order = Vec::with_capacity(n);
                let mut ins = inserts.iter().peekable();
                for (i, p) in kept.iter().enumerate() {
                    while let Some((_, q)) = ins.next_if(|(b, _)| *b as usize <= i) {
                        order.push(*q);
                    }
                    order.push(*p);
                }
                order.extend(ins.map(|(_, q)| *q));
                next.orders.insert(field, Arc::new(order));
            }
        }
        Ok(Some(next))
    }

    /// The search text of the device at position `p`.
    fn text(&self, p: usize) -> &[u8] {
        self.text[p / TEXT_PIECE].get(p % TEXT_PIECE)
    }

    /// Devices in the index.
    pub fn len(&self) -> usize {
        self.rowids.len() - self.removed
    }

    /// Positions (devices removed since the build included).
    fn positions(&self) -> usize {
        self.rowids.len()
    }

    /// How many devices a filter's value selects (0 for a value no device has).
    pub fn count(&self, filter: &str, value: &str) -> u64 {
        self.columns.get(filter).and_then(|col| col.lookup.get(value).map(|c| col.counts[*c as usize])).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows a query selects (None: all of them).
    fn select(&self, query: &ListQuery) -> Option<Bits> {
        let n = self.positions();
        let mut result: Option<Bits> = None;
        let mut intersect = |bits: &Bits| match &mut result {
            Some(r) => r.and(bits),
            None => result = Some(bits.clone()),
        };
        let mut fields: Vec<&str> = Vec::new();
        for (f, _) in &query.filters {
            if !fields.contains(&f.as_str()) {
                fields.push(f);
            }
        }
        for field in fields {
            let values: Vec<&str> = query.filters.iter().filter(|(f, _)| f == field).map(|(_, v)| v.as_str()).collect();
            if let Some(col) = self.columns.get(field) {
                let mut wanted = vec![false; col.dict.len()];
                for v in &values {
                    if let Some(c) = col.lookup.get(*v) {
                        wanted[*c as usize] = true;
                    }
                }
                // Every value wanted (e.g. true and false): no condition, as in SQL.
                if !wanted.iter().all(|w| *w) {
                    let mut values = values.clone();
                    values.sort_unstable();
                    let key = format!("{field}\0{}", values.join("\0"));
                    intersect(&self.selections.get(key, || Bits::from_fn(n, |p| wanted[col.codes[p] as usize])));
                }
            } else if DEVICES.filter(field).is_some_and(|f| f.kind == FilterKind::Member) {
                let mut bits = Bits::empty(n);
                for v in &values {
                    for p in self.members.get(*v).map(Vec::as_slice).unwrap_or_default() {
                        bits.set(*p as usize);
                    }
                }
                intersect(&bits);
            }
        }
        if let Some(q) = &query.q {
            let needle: Vec<u8> =
                q.bytes().filter(|b| !b.is_ascii_control()).map(|b| b.to_ascii_lowercase()).collect();
            let mut bits = Bits::empty(n);
            if !needle.is_empty() {
                let finder = memchr::memmem::Finder::new(&needle);
                for (k, piece) in self.text.iter().enumerate() {
                    piece.find(&finder, k * TEXT_PIECE, &mut bits);
                }
            }
            intersect(&bits);
        }
        // Removed devices are never selected.
        if let Some(gone) = &self.gone {
            let mut bits = result.unwrap_or_else(|| Bits::from_fn(n, |_| true));
            bits.and_not(gone);
            result = Some(bits);
        }
        result
    }

    /// Visits the selected row ids in the query's order, skipping `offset`, until `visit` says stop.
    fn walk(&self, query: &ListQuery, selected: Option<&Bits>, offset: u64, mut visit: impl FnMut(i64) -> bool) {
        let order = &self.orders[query.sort.as_str()];
        let iter: Box<dyn Iterator<Item = &u32>> = match query.order {
            SortOrder::Asc => Box::new(order.iter()),
            SortOrder::Desc => Box::new(order.iter().rev()),
        };
        match selected {
            // No filter: jump straight to the page.
            None => {
                for p in iter.skip(offset as usize) {
                    if !visit(self.rowids[*p as usize]) {
                        break;
                    }
                }
            }
            Some(bits) => {
                for p in iter.filter(|p| bits.get(**p as usize)).skip(offset as usize) {
                    if !visit(self.rowids[*p as usize]) {
                        break;
                    }
                }
            }
        }
    }

    /// Total selected, and the row ids of the requested page in order.
    pub fn page(&self, query: &ListQuery) -> (u64, Vec<i64>) {
        let selected = self.select(query);
        let total = selected.as_ref().map(Bits::count).unwrap_or(self.len() as u64);
        let offset = (query.page as u64 - 1) * query.page_size as u64;
        let mut ids = Vec::with_capacity(query.page_size as usize);
        if offset < total {
            self.walk(query, selected.as_ref(), offset, |id| {
                ids.push(id);
                ids.len() < query.page_size as usize
            });
        }
        (total, ids)
    }

    /// Every selected row id in order, in batches (for exports).
    pub fn each_batch(&self, query: &ListQuery, batch: usize, mut f: impl FnMut(&[i64]) -> bool) {
        let selected = self.select(query);
        let mut buf = Vec::with_capacity(batch);
        let mut open = true;
        self.walk(query, selected.as_ref(), 0, |id| {
            buf.push(id);
            if buf.len() == batch {
                open = f(&buf);
                buf.clear();
            }
            open
        });
        if open && !buf.is_empty() {
            f(&buf);
        }
    }

    /// Values of a filterable field with the number of devices each has among those the query's
    /// other filters and search select (a facet never narrows itself, so its other values stay
    /// choosable). Values no selected device has are left out, except those the query asks for.
    pub fn facet_in(&self, field: &str, query: &ListQuery) -> Vec<FacetValue> {
        let mut others = query.clone();
        others.filters.retain(|(f, _)| f != field);
        let selected = self.select(&others);
        let mut out: Vec<FacetValue> = if let Some(selected) = &selected {
            self.count_in(field, selected)
        } else {
            // Nothing else selects: the whole tenant's counts.
            self.facet(field)
        };
        out.retain(|v| v.count > 0 || query.filters.iter().any(|(f, x)| f == field && *x == v.value));
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        out
    }

    /// Each value's number of selected rows.
    fn count_in(&self, field: &str, selected: &Bits) -> Vec<FacetValue> {
        if let Some(col) = self.columns.get(field) {
            let mut counts = vec![0u64; col.dict.len()];
            for (w, word) in selected.0.iter().enumerate() {
                let mut bits = *word;
                while bits != 0 {
                    let p = w * 64 + bits.trailing_zeros() as usize;
                    counts[col.codes[p] as usize] += 1;
                    bits &= bits - 1;
                }
            }
            col.dict.iter().zip(counts).map(|(v, c)| FacetValue { value: v.clone(), count: c }).collect()
        } else if DEVICES.filter(field).is_some_and(|f| f.kind == FilterKind::Member) {
            self.members
                .iter()
                .map(|(k, v)| FacetValue { value: k.clone(), count: v.iter().filter(|p| selected.get(**p as usize)).count() as u64 })
                .collect()
        } else {
            Vec::new()
        }
    }

    /// Values of a filterable field with their device counts (most devices first).
    pub fn facet(&self, field: &str) -> Vec<FacetValue> {
        let mut out: Vec<FacetValue> = if let Some(col) = self.columns.get(field) {
            // Values no device has any more (after in-memory updates) are not choices.
            col.dict.iter().zip(&col.counts).filter(|(_, c)| **c > 0).map(|(v, c)| FacetValue { value: v.clone(), count: *c }).collect()
        } else if DEVICES.filter(field).is_some_and(|f| f.kind == FilterKind::Member) {
            self.members.iter().map(|(k, v)| FacetValue { value: k.clone(), count: v.len() as u64 }).collect()
        } else {
            Vec::new()
        };
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        out
    }
}
