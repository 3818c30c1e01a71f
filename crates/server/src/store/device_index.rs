//! The in-memory index of the devices list. At a hierarchy's size (up to ~1,000,000 devices) SQLite
//! alone cannot count a non-selective filter, sort it and search substrings within the latency budget
//! on two cores, so the devices query runs here: dictionary-encoded filter columns, one precomputed
//! order per sortable field (read from the store's own indexes), and one lower-case haystack for the
//! free-text search. It answers "which row ids, in which order, how many"; the rows themselves are
//! then read from SQLite by id. Built from the store after it is loaded; rebuilt after writes.

use super::Result;
use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::Arc;
use rusqlite::types::ValueRef;
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
    fn push(&mut self, v: &str) {
        let code = match self.lookup.get(v) {
            Some(c) => *c,
            None => {
                let c = self.dict.len() as u32;
                self.dict.push(v.to_string());
                self.lookup.insert(v.to_string(), c);
                self.counts.push(0);
                c
            }
        };
        self.codes.push(code);
        self.counts[code as usize] += 1;
    }
}

/// The filter value (wire form) of a SQL value read for `filter`: text as it is, codes as keys,
/// conditions as true/false; NULL as "" (which no filter value equals).
fn wire_value(filter: FilterSpec, v: ValueRef<'_>) -> String {
    let int = match v {
        ValueRef::Integer(i) => Some(i),
        _ => None,
    };
    match (filter.kind, int) {
        (FilterKind::Verdict, Some(i)) => HealthVerdict::from_code(i).map(|v| v.key().to_string()).unwrap_or_default(),
        (FilterKind::Agent, Some(i)) => AgentState::from_code(i).map(|v| v.key().to_string()).unwrap_or_default(),
        (FilterKind::Bool, Some(i)) => (if i != 0 { "true" } else { "false" }).to_string(),
        (_, Some(i)) => i.to_string(),
        _ => v.as_str().unwrap_or_default().to_string(),
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
    /// Lower-case searchable fields (`\0`-separated) of every device, `\n`-terminated, in position order.
    haystack: Arc<Vec<u8>>,
    starts: Arc<Vec<u32>>,
    /// Position → the device's ActiveThreats (its order is kept in memory on updates).
    active: Arc<Vec<u32>>,
    /// The store's change counter this index includes every change up to.
    change: i64,
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

/// Positions 0..n ordered by `key` (stable: ties stay in id order).
fn order_by(n: usize, key: impl Fn(usize) -> u32) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|p| key(*p as usize));
    order
}

/// The lower-case search text of one device (its searchable fields, `\0`-separated).
fn search_text(row: &rusqlite::Row<'_>, first: usize) -> Result<Vec<u8>> {
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
        for field in DEVICES.sortable.iter().filter(|f| !dictionary_sorted(f)) {
            // `field` is a column name of the devices table (a sortable field of the spec).
            let mut stmt = conn.prepare(&format!("SELECT id FROM devices ORDER BY {field}, id"))?;
            let ids = stmt.query_map([], |r| r.get::<_, i64>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            out.push((*field, ids));
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
        let mut haystack = Vec::new();
        let mut starts = Vec::new();
        let mut active = Vec::new();
        {
            // Expressions come from the spec (column names or fixed subqueries), never from a request.
            let exprs: Vec<&str> = filters.iter().map(|f| f.sql).chain(DEVICES.searchable.iter().copied()).collect();
            let mut stmt = conn.prepare(&format!("SELECT id, {}, ActiveThreats FROM devices ORDER BY id", exprs.join(", ")))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                rowids.push(r.get::<_, i64>(0)?);
                for (i, (col, filter)) in columns.iter_mut().zip(&filters).enumerate() {
                    col.push(&wire_value(*filter, r.get_ref(1 + i)?));
                }
                starts.push(haystack.len() as u32);
                haystack.extend(search_text(r, filters.len() + 1)?);
                haystack.push(b'\n');
                active.push(r.get::<_, i64>(exprs.len() + 1)? as u32);
            }
        }
        let n = rowids.len();
        let position = |id: i64| rowids.binary_search(&id).ok().map(|p| p as u32);

        // Memberships by collection row id (integers only: 9 million rows at a million devices).
        let names: HashMap<i64, String> = conn
            .prepare("SELECT id, CollectionId FROM collections")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
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
            let order: Vec<u32> = if let Some(col) = columns.get(field).filter(|_| dictionary_sorted(field)) {
                // Dictionary column: rank the (few) distinct values, then order positions by (rank, id).
                let rank = ranks(field, col);
                order_by(n, |p| rank[col.codes[p] as usize])
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
            haystack: Arc::new(haystack),
            starts: Arc::new(starts),
            active: Arc::new(active),
            change: 0,
        })
    }

    /// The store's change counter this index includes every change up to.
    pub fn change(&self) -> i64 {
        self.change
    }

    /// This index with the devices of `ids` (row ids) read again from the store: their filter values,
    /// search text and active-threat counts, and the orders of the fields whose values changed. It
    /// copies only the parts that change (~tens of ms at 1,000,000 devices instead of a rebuild's
    /// seconds). None when a device is not in the index or no longer in the store, or when a field
    /// ordered by the store's own index may have changed (`orders_kept` false): rebuild then.
    pub fn updated(&self, conn: &Connection, ids: &[i64], change: i64) -> Result<Option<DeviceIndex>> {
        let filters: Vec<FilterSpec> = column_filters().collect();
        let exprs: Vec<&str> = filters.iter().map(|f| f.sql).chain(DEVICES.searchable.iter().copied()).collect();
        let mut next = self.clone();
        next.change = change;
        let mut positions = Vec::with_capacity(ids.len());
        let mut texts: HashMap<usize, Vec<u8>> = HashMap::new();
        let mut changed: Vec<&'static str> = Vec::new();
        let mut active_changed = false;
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            // Expressions come from the spec, never from a request.
            let sql = format!("SELECT id, {}, ActiveThreats FROM devices WHERE id IN ({marks})", exprs.join(", "));
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(chunk.iter()))?;
            let mut found = 0;
            while let Some(r) = rows.next()? {
                found += 1;
                let Ok(p) = self.rowids.binary_search(&r.get::<_, i64>(0)?) else { return Ok(None) };
                positions.push(p);
                for (i, filter) in filters.iter().enumerate() {
                    let value = wire_value(*filter, r.get_ref(1 + i)?);
                    let col = &self.columns[filter.name];
                    if col.dict[col.codes[p] as usize] != value {
                        let col = Arc::make_mut(next.columns.get_mut(filter.name).expect("column"));
                        let old = col.codes[p] as usize;
                        col.counts[old] -= 1;
                        let code = match col.lookup.get(&value) {
                            Some(c) => *c,
                            None => {
                                col.dict.push(value.clone());
                                col.lookup.insert(value, col.dict.len() as u32 - 1);
                                col.counts.push(0);
                                col.dict.len() as u32 - 1
                            }
                        };
                        col.codes[p] = code;
                        col.counts[code as usize] += 1;
                        if !changed.contains(&filter.name) {
                            changed.push(filter.name);
                        }
                    }
                }
                let text = search_text(r, filters.len() + 1)?;
                let end = self.starts.get(p + 1).map(|e| *e as usize - 1).unwrap_or(self.haystack.len() - 1);
                let before = &self.haystack[self.starts[p] as usize..end];
                if before != &text[..] {
                    // Only a dictionary-sorted field (Model) may differ: the others (Name, serial
                    // number, device id) are ordered by the store's indexes, which a rebuild reads.
                    let model = DEVICES.searchable.iter().position(|f| dictionary_sorted(f));
                    let differs = before.split(|b| *b == 0).zip(text.split(|b| *b == 0)).enumerate().any(|(i, (a, b))| a != b && Some(i) != model);
                    if differs {
                        return Ok(None);
                    }
                    texts.insert(p, text);
                }
                let threats = r.get::<_, i64>(exprs.len() + 1)? as u32;
                if self.active[p] != threats {
                    Arc::make_mut(&mut next.active)[p] = threats;
                    active_changed = true;
                }
            }
            if found != chunk.len() {
                return Ok(None); // removed meanwhile
            }
        }
        // Search text: copied once with the changed devices' text in place.
        if !texts.is_empty() {
            let mut haystack = Vec::with_capacity(self.haystack.len() + 64 * texts.len());
            let mut starts = Vec::with_capacity(self.starts.len());
            for p in 0..self.len() {
                starts.push(haystack.len() as u32);
                match texts.get(&p) {
                    Some(text) => haystack.extend_from_slice(text),
                    None => {
                        let end = self.starts.get(p + 1).map(|e| *e as usize - 1).unwrap_or(self.haystack.len() - 1);
                        haystack.extend_from_slice(&self.haystack[self.starts[p] as usize..end]);
                    }
                }
                haystack.push(b'\n');
            }
            next.haystack = Arc::new(haystack);
            next.starts = Arc::new(starts);
        }
        // Orders of the fields whose values changed, recomputed in memory.
        let n = self.len();
        for field in DEVICES.sortable {
            if changed.contains(field) {
                let col = &next.columns[field];
                let rank = ranks(field, col);
                next.orders.insert(field, Arc::new(order_by(n, |p| rank[col.codes[p] as usize])));
            } else if *field == "ActiveThreats" && active_changed {
                let active = &next.active;
                next.orders.insert(field, Arc::new(order_by(n, |p| active[p])));
            }
        }
        // A field sorted by the store's index (Name, serial, ids) that changed: not kept in memory.
        let sql_sorted_changed = DEVICES
            .sortable
            .iter()
            .any(|f| changed.contains(f) && !dictionary_sorted(f) && !matches!(*f, "DefenderHealth" | "AgentState"));
        Ok((!sql_sorted_changed).then_some(next))
    }

    pub fn len(&self) -> usize {
        self.rowids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rowids.is_empty()
    }

    /// The rows a query selects (None: all of them).
    fn select(&self, query: &ListQuery) -> Option<Bits> {
        let n = self.len();
        let mut result: Option<Bits> = None;
        let mut intersect = |bits: Bits| match &mut result {
            Some(r) => r.and(&bits),
            None => result = Some(bits),
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
                    intersect(Bits::from_fn(n, |p| wanted[col.codes[p] as usize]));
                }
            } else if DEVICES.filter(field).is_some_and(|f| f.kind == FilterKind::Member) {
                let mut bits = Bits::empty(n);
                for v in &values {
                    for p in self.members.get(*v).map(Vec::as_slice).unwrap_or_default() {
                        bits.set(*p as usize);
                    }
                }
                intersect(bits);
            }
        }
        if let Some(q) = &query.q {
            let needle: Vec<u8> =
                q.bytes().filter(|b| !b.is_ascii_control()).map(|b| b.to_ascii_lowercase()).collect();
            let mut bits = Bits::empty(n);
            if !needle.is_empty() {
                let finder = memchr::memmem::Finder::new(&needle);
                let (hay, starts) = (&self.haystack, &self.starts);
                let mut row = 0usize;
                let mut from = 0usize;
                while let Some(i) = finder.find(&hay[from..]) {
                    let at = from + i;
                    // Hits come in order, so the row cursor only moves forward.
                    while row + 1 < starts.len() && starts[row + 1] as usize <= at {
                        row += 1;
                    }
                    bits.set(row);
                    // One hit per device is enough: continue at the next device.
                    match starts.get(row + 1) {
                        Some(next) => from = *next as usize,
                        None => break,
                    }
                }
            }
            intersect(bits);
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
