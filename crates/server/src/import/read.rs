//! Reading an import file into tables: the ZIP an Intune export job gives (CSV or JSON inside), the
//! CSV itself, the JSON form, or Microsoft Graph JSON pages. Everything is checked before anything is
//! written: a file that is not what it claims is refused whole, with a message naming where.

use super::columns::{norm, DEVICE_NAME, ENTRA_DEVICE_ID, INTUNE_DEVICE_ID};
use serde_json::Value;
use std::io::Read;

/// Longest line a CSV may have (a device row of an export is under 2 KB).
pub const MAX_LINE: usize = 1024 * 1024;
/// Most bytes a ZIP may unpack to, and most files in it.
pub const MAX_UNPACKED: u64 = 512 * 1024 * 1024;
/// Longest cell (a quoted cell may span lines).
pub const MAX_CELL: usize = 64 * 1024;
pub const MAX_ENTRIES: usize = 64;

/// What a table holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `DefenderAgents` / `UnhealthyDefenderAgents`, Graph `windowsProtectionState`.
    Agents,
    /// `Malware` / `ActiveMalware`, Graph `windowsDeviceMalwareState`.
    Malware,
    /// Graph `managedDevices`.
    ManagedDevices,
    /// Graph `configManagerCollection` with its policy summary.
    Collections,
}

impl Shape {
    pub fn label(self) -> &'static str {
        match self {
            Shape::Agents => "Defender agents",
            Shape::Malware => "Malware",
            Shape::ManagedDevices => "Graph managedDevices",
            Shape::Collections => "Graph configManagerCollections",
        }
    }
}

/// Rows of one kind, each a text per header ("" where the source has nothing).
#[derive(Clone, Debug)]
pub struct Table {
    pub shape: Shape,
    /// The file (and, in a ZIP, the entry) it came from.
    pub file: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Where each row is in its source: the CSV line, or the item's position (1-based).
    pub lines: Vec<usize>,
}

impl Table {
    fn new(shape: Shape, file: &str) -> Table {
        Table { shape, file: file.to_string(), headers: Vec::new(), rows: Vec::new(), lines: Vec::new() }
    }

    /// The position of the first header among `names` (case-insensitive).
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.headers.iter().position(|h| h.eq_ignore_ascii_case(n)))
    }

    fn column(&mut self, name: &str) -> usize {
        match self.headers.iter().position(|h| h == name) {
            Some(i) => i,
            None => {
                self.headers.push(name.to_string());
                for row in &mut self.rows {
                    row.push(String::new());
                }
                self.headers.len() - 1
            }
        }
    }

    /// Adds a row from (header, text) pairs, growing the headers as new ones appear.
    fn push_cells(&mut self, line: usize, cells: Vec<(String, String)>) {
        let mut row = vec![String::new(); self.headers.len()];
        for (h, text) in cells {
            let i = self.column(&h);
            if row.len() < self.headers.len() {
                row.resize(self.headers.len(), String::new());
            }
            row[i] = text;
        }
        self.rows.push(row);
        self.lines.push(line);
    }
}

/// Why a file is refused (nothing of it is written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse<T>(file: &str, message: impl std::fmt::Display) -> Result<T, Refusal> {
    Err(Refusal(format!("{file}: {message}")))
}

/// Reads one file (its name is only for messages and the report) into its tables.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Table>, Refusal> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return read_zip(file, bytes);
    }
    read_text(file, bytes)
}

fn read_zip(file: &str, bytes: &[u8]) -> Result<Vec<Table>, Refusal> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .or_else(|e| refuse(file, format!("not a complete ZIP archive ({e}); download the export again")))?;
    if archive.len() > MAX_ENTRIES {
        return refuse(file, format!("{} files in the ZIP; an export has one", archive.len()));
    }
    let mut tables = Vec::new();
    let mut unpacked = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).or_else(|e| refuse(file, format!("entry {i} cannot be read ({e})")))?;
        if entry.is_dir() {
            continue;
        }
        let name = format!("{file}/{}", entry.name());
        let mut data = Vec::new();
        let budget = MAX_UNPACKED - unpacked;
        (&mut entry)
            .take(budget + 1)
            .read_to_end(&mut data)
            .or_else(|e| refuse(&name, format!("cannot be unpacked ({e}); the ZIP is damaged or truncated")))?;
        unpacked += data.len() as u64;
        if unpacked > MAX_UNPACKED {
            return refuse(file, format!("unpacks to more than {} MiB", MAX_UNPACKED >> 20));
        }
        if data.starts_with(b"PK\x03\x04") {
            return refuse(&name, "a ZIP inside the ZIP; unpack it first");
        }
        tables.extend(read_text(&name, &data)?);
    }
    if tables.is_empty() {
        return refuse(file, "the ZIP holds no CSV or JSON file");
    }
    Ok(tables)
}

fn read_text(file: &str, bytes: &[u8]) -> Result<Vec<Table>, Refusal> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return refuse(file, "UTF-16 text; save the export as UTF-8 (the admin center's download is UTF-8)");
    }
    if memchr::memchr(0, bytes).is_some() {
        return refuse(file, "not a CSV, JSON or ZIP file (it has binary content)");
    }
    let text = std::str::from_utf8(bytes).or_else(|e| refuse(file, format!("not UTF-8 text (byte {})", e.valid_up_to())))?;
    match text.trim_start().as_bytes().first() {
        None => refuse(file, "the file is empty"),
        Some(b'{') | Some(b'[') => read_json(file, text),
        Some(_) => read_csv(file, text).map(|t| vec![t]),
    }
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `@`, a tab or return first — after any
/// leading spaces — or `-` that is not a whole number). Exports never hold formulas; such a file is
/// refused rather than passed on.
pub fn is_formula(cell: &str) -> bool {
    let first = cell.trim_start_matches(' ');
    match first.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        Some('-') => first.len() > 1 && first.trim_end().parse::<f64>().is_err(),
        _ => false,
    }
}

fn read_csv(file: &str, text: &str) -> Result<Table, Refusal> {
    // Line lengths first: a 100 MB line is refused before the parser holds it.
    let mut line_no = 0;
    for line in text.split('\n') {
        line_no += 1;
        if line.len() > MAX_LINE {
            return refuse(file, format!("line {line_no} is {} bytes long (at most {} KiB): not an export", line.len(), MAX_LINE >> 10));
        }
    }
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .or_else(|e| refuse(file, format!("the header row cannot be read ({e})")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let shape = shape_of(file, &headers)?;
    let mut table = Table::new(shape, file);
    table.headers = headers;
    for record in reader.records() {
        let record = record.or_else(|e| {
            let at = e.position().map(|p| format!("line {}: ", p.line() + 1)).unwrap_or_default();
            let what = match e.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("{len} cells where the header has {expected_len} (a truncated or hand-edited file?)")
                }
                _ => e.to_string(),
            };
            refuse(file, format!("{at}{what}"))
        })?;
        // The csv reader counts the line a record starts on from 0 here (the header is line 1).
        let line = record.position().map(|p| p.line() as usize + 1).unwrap_or(0);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        for (i, cell) in record.iter().enumerate() {
            if cell.len() > MAX_CELL {
                return refuse(file, format!("line {line}, column {}: a cell of {} bytes (at most {} KiB): not an export", table.headers[i], cell.len(), MAX_CELL >> 10));
            }
            if is_formula(cell) {
                let shown: String = cell.chars().take(40).collect();
                return refuse(
                    file,
                    format!("line {line}, column {}: {shown:?} is a spreadsheet formula; an export has none, so the file is refused", table.headers[i]),
                );
            }
        }
        table.rows.push(record.iter().map(|c| c.trim().to_string()).collect());
        table.lines.push(line);
    }
    Ok(table)
}

/// Which export a header row is, from its columns.
fn shape_of(file: &str, headers: &[String]) -> Result<Shape, Refusal> {
    let has = |names: &[&str]| names.iter().any(|n| headers.iter().any(|h| norm(h) == norm(n)));
    let shape = if has(&["MalwareId", "MalwareName", "ThreatID"]) {
        Shape::Malware
    } else if has(&[
        "ProductStatus",
        "DeviceState",
        "MalwareProtectionEnabled",
        "RealTimeProtectionEnabled",
        "SignatureUpdateOverdue",
        "IsWDATPSenseRunning",
    ]) {
        Shape::Agents
    } else {
        let shown: Vec<&str> = headers.iter().take(8).map(String::as_str).collect();
        return refuse(
            file,
            format!(
                "not a Defender agents or malware export: its columns are {}{}; expected DefenderAgents / UnhealthyDefenderAgents \
                 (DeviceName, DeviceState, ProductStatus, MalwareProtectionEnabled, …) or Malware / ActiveMalware (DeviceName, \
                 MalwareId, MalwareName, Severity, …)",
                shown.join(", "),
                if headers.len() > 8 { ", …" } else { "" }
            ),
        );
    };
    if !has(DEVICE_NAME) && !has(ENTRA_DEVICE_ID) {
        let only_intune = if has(INTUNE_DEVICE_ID) { " (its DeviceId is Intune's id, which no ConfigMgr record carries)" } else { "" };
        return refuse(file, format!("no DeviceName or Entra device id column: its rows cannot be matched to devices{only_intune}"));
    }
    Ok(shape)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.trim().to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn cells(obj: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    obj.iter().filter_map(|(k, v)| scalar(v).map(|s| (k.clone(), s))).collect()
}

fn read_json(file: &str, text: &str) -> Result<Vec<Table>, Refusal> {
    let value: Value = serde_json::from_str(text).or_else(|e| refuse(file, format!("not valid JSON ({e}); a truncated download?")))?;
    let items: Vec<Value> = match value {
        Value::Array(items) => items,
        Value::Object(mut obj) => {
            if let (Some(Value::Array(schema)), Some(Value::Array(values))) = (obj.get("Schema"), obj.get("Values")) {
                return read_report_json(file, schema, values).map(|t| vec![t]);
            }
            match obj.remove("value") {
                Some(Value::Array(items)) => items,
                _ => return refuse(file, "JSON without a `value` array (a Graph page) or `Schema` + `Values` (a report export)"),
            }
        }
        _ => return refuse(file, "JSON that is neither an array nor an object"),
    };
    let mut objects = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Value::Object(o) => objects.push(o),
            _ => return refuse(file, format!("item {} is not an object", i + 1)),
        }
    }
    let Some(first) = objects.first() else { return Ok(Vec::new()) };
    let keys: Vec<String> = first.keys().cloned().collect();
    let has = |k: &str| keys.iter().any(|h| h.eq_ignore_ascii_case(k));
    if has("collectionIdentifier") {
        let mut table = Table::new(Shape::Collections, file);
        for (i, o) in objects.iter().enumerate() {
            let mut row = cells(o);
            if let Some(Value::Object(summary)) = o.get("policySummary") {
                row.extend(cells(summary));
            }
            table.push_cells(i + 1, row);
        }
        return Ok(vec![table]);
    }
    if has("deviceName") && (has("operatingSystem") || has("azureADDeviceId")) {
        return Ok(read_managed_devices(file, &objects));
    }
    // Flat rows: the JSON form of a report export, row objects keyed by column.
    let headers = keys;
    let shape = shape_of(file, &headers)?;
    let mut table = Table::new(shape, file);
    table.headers = headers;
    for (i, o) in objects.iter().enumerate() {
        table.push_cells(i + 1, cells(o));
    }
    Ok(vec![table])
}

/// `{"Schema":[{"Column":"DeviceId","PropertyType":"String"},…],"Values":[[…],…]}`.
fn read_report_json(file: &str, schema: &[Value], values: &[Value]) -> Result<Table, Refusal> {
    let headers: Vec<String> = schema
        .iter()
        .map(|c| c.get("Column").and_then(Value::as_str).map(str::to_string))
        .collect::<Option<_>>()
        .map_or_else(|| refuse(file, "a `Schema` entry without a `Column` name"), Ok)?;
    let mut table = Table::new(shape_of(file, &headers)?, file);
    table.headers = headers;
    for (i, row) in values.iter().enumerate() {
        let Some(cells) = row.as_array() else { return refuse(file, format!("row {} of `Values` is not an array", i + 1)) };
        if cells.len() != table.headers.len() {
            return refuse(file, format!("row {} of `Values` has {} cells where `Schema` has {}", i + 1, cells.len(), table.headers.len()));
        }
        let texts: Vec<String> = cells.iter().map(|c| scalar(c).unwrap_or_default()).collect();
        table.rows.push(texts);
        table.lines.push(i + 1);
    }
    Ok(table)
}

/// A page of `managedDevices` (with `windowsProtectionState` and its `detectedMalwareState`
/// expanded, or `windowsDeviceMalwareState` beside it): three tables, the device's identity
/// repeated on its health and detections.
fn read_managed_devices(file: &str, objects: &[serde_json::Map<String, Value>]) -> Vec<Table> {
    let mut devices = Table::new(Shape::ManagedDevices, file);
    let mut health = Table::new(Shape::Agents, &format!("{file} (windowsProtectionState)"));
    let mut malware = Table::new(Shape::Malware, &format!("{file} (windowsDeviceMalwareState)"));
    for (i, o) in objects.iter().enumerate() {
        let line = i + 1;
        devices.push_cells(line, cells(o));
        let who: Vec<(String, String)> = ["azureADDeviceId", "deviceName"]
            .iter()
            .filter_map(|k| o.get(*k).and_then(scalar).map(|v| (k.to_string(), v)))
            .collect();
        let state = o.get("windowsProtectionState").and_then(Value::as_object);
        if let Some(state) = state {
            let mut row = who.clone();
            row.extend(cells(state).into_iter().filter(|(k, _)| k != "id"));
            health.push_cells(line, row);
        }
        let detections = state
            .and_then(|s| s.get("detectedMalwareState"))
            .or_else(|| o.get("windowsDeviceMalwareState"))
            .or_else(|| o.get("detectedMalwareState"))
            .and_then(Value::as_array);
        for d in detections.into_iter().flatten().filter_map(Value::as_object) {
            let mut row = who.clone();
            for (k, v) in cells(d) {
                row.push((if k == "id" { "MalwareId".to_string() } else { k }, v));
            }
            malware.push_cells(line, row);
        }
    }
    [devices, health, malware].into_iter().filter(|t| t.shape == Shape::ManagedDevices || !t.rows.is_empty()).collect()
}

/// A folder of Graph pages (or several page files) as one JSON document: every page's `value`, in
/// the order of the file names. Each must be a page (`value` array).
pub fn join_pages(pages: &[(String, Vec<u8>)]) -> Result<Vec<u8>, Refusal> {
    let mut all = Vec::new();
    for (name, bytes) in pages {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let page: Value = serde_json::from_slice(bytes).or_else(|e| refuse(name, format!("not valid JSON ({e})")))?;
        match page.get("value") {
            Some(Value::Array(items)) => all.extend(items.iter().cloned()),
            _ => return refuse(name, "not a Graph page (no `value` array)"),
        }
    }
    Ok(serde_json::to_vec(&serde_json::json!({ "value": all })).expect("JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_told_from_numbers() {
        for f in ["=1+1", "+SUM(A1)", "@cmd", "-cmd|' /C calc'!A0", "\tx", " =HYPERLINK(\"x\")", "-1+cmd|' /C calc'!A0", "-2-3"] {
            assert!(is_formula(f), "{f}");
        }
        for ok in ["-1", "-0.5", "", "-", " -3 ", "WKS-01", "1.1.24090.11", "Trojan:Win32/Wacatac.B!ml"] {
            assert!(!is_formula(ok), "{ok}");
        }
    }
}
