//! CSV export: RFC 4180 quoting, spreadsheet-formula neutralising, streamed from the store in chunks
//! so that a million rows never sit in memory.

use crate::store::Store;
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use std::sync::Arc;
use tenantscope_model::api::{ListQuery, ListSpec};

const CHUNK: usize = 64 * 1024;

/// One CSV field: formula-looking text gets a leading `'`; quoted when it holds `,` `"` CR or LF.
pub fn field(value: &str, out: &mut String) {
    let neutralise = matches!(value.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'));
    let needs_quotes = neutralise || value.contains([',', '"', '\n', '\r']);
    if !needs_quotes {
        out.push_str(value);
        return;
    }
    out.push('"');
    if neutralise {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

fn json_field(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => field(s, out),
        // Numbers and booleans are never formulas; write them as they are.
        serde_json::Value::Number(n) => out.push_str(&n.to_string()),
        serde_json::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        other => field(&other.to_string(), out),
    }
}

/// A CSV line of `columns` taken from the item's JSON form; with `labels`, coded values as their
/// labels (the model's `display_value`).
pub fn line<T: Serialize>(item: &T, columns: &[&str], labels: bool, out: &mut String) {
    line_of(serde_json::to_value(item).unwrap_or(serde_json::Value::Null), columns, labels, out)
}

fn line_of(json: serde_json::Value, columns: &[&str], labels: bool, out: &mut String) {
    for (i, col) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let value = json.get(*col).unwrap_or(&serde_json::Value::Null);
        match labels.then(|| tenantscope_model::api::display_value(col, value)).flatten() {
            Some(label) => field(&label, out),
            None => json_field(value, out),
        }
    }
    out.push_str("\r\n");
}

pub fn header(columns: &[&str]) -> String {
    let mut out = String::new();
    for (i, col) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(col, &mut out);
    }
    out.push_str("\r\n");
    out
}

/// Feeds rows to the sink until it returns false (the client went away).
pub type Sink<'a, T> = &'a mut dyn FnMut(T) -> bool;

/// Streams rows from `produce` as a CSV download named `name.csv` with the given columns. Runs on
/// the blocking pool; memory stays at one chunk whatever the number of rows.
pub fn stream<T, P>(store: &Arc<Store>, name: &'static str, columns: Columns, produce: P) -> Response
where
    T: Serialize,
    P: FnOnce(&Store, Sink<'_, T>) -> crate::store::Result<()> + Send + 'static,
{
    // A bounded number of exports at once: each holds a blocking thread and a connection.
    let Some(permit) = store.export_permit() else {
        return crate::error::Error::Unavailable("too many exports are running; try again in a few seconds".into()).into_response();
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let store = Arc::clone(store);
    // In privacy mode each row's masked values are aliased before it is written.
    let private = crate::privacy::current();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let started = std::time::Instant::now();
        // A chunk the client does not take within `CHUNK_DEADLINE`, or an export past
        // `EXPORT_DEADLINE`, ends the export: a client that never reads holds nothing for long.
        let send = |chunk: Result<Bytes, std::io::Error>| -> bool {
            matches!(runtime.block_on(tokio::time::timeout(CHUNK_DEADLINE, tx.send(chunk))), Ok(Ok(())))
        };
        let Columns { names, header: titles, labels } = columns;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
        let mut buf = header(&titles);
        let mut open = true;
        let export = |aliaser: Option<&mut crate::privacy::Aliaser>| {
            let mut aliaser = aliaser;
            let mut failed = None;
            let mut sink = |item: T| {
                let mut json = serde_json::to_value(&item).unwrap_or(serde_json::Value::Null);
                if let Some(a) = aliaser.as_deref_mut() {
                    // A row that cannot be aliased is never written as it is: the export stops.
                    if let Err(e) = a.json(&mut json) {
                        failed = Some(e);
                        return false;
                    }
                }
                line_of(json, &names, labels, &mut buf);
                if buf.len() >= CHUNK {
                    open = started.elapsed() < EXPORT_DEADLINE && send(Ok(Bytes::from(std::mem::take(&mut buf))));
                }
                open
            };
            let result = produce(&store, &mut sink);
            failed.map_or(result, Err)
        };
        let result = match &private {
            // The aliases' look-ups on a connection of their own, beside the export's.
            Some(p) => store.with(|conn| export(Some(&mut p.aliaser(Some(conn))))),
            None => export(None),
        };
        match result {
            Ok(()) if open => {
                send(Ok(Bytes::from(buf)));
            }
            Ok(()) => tracing::info!(export = name, elapsed_ms = started.elapsed().as_millis() as u64, "export ended early (client gone, slow or over time)"),
            Err(e) => {
                tracing::error!(error = %e, "csv export failed");
                send(Err(std::io::Error::other("export failed")));
            }
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// How long one chunk may wait for the client, and how long a whole export may run.
pub const CHUNK_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);
pub const EXPORT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(600);

/// The columns of a CSV export: their wire names, the header line, and whether values are labels.
pub struct Columns {
    pub names: Vec<String>,
    pub header: Vec<String>,
    pub labels: bool,
}

/// The columns a CSV export of `query` has: the ones it names, else all of the list's; headed by
/// wire names, or by their labels with `labels=true`.
pub fn columns(spec: &ListSpec, query: &ListQuery) -> Columns {
    let names: Vec<String> =
        if query.columns.is_empty() { spec.columns.iter().map(|c| c.to_string()).collect() } else { query.columns.clone() };
    let header = names
        .iter()
        .map(|c| match spec.label(c) {
            label if query.labels && !label.is_empty() => label.to_string(),
            _ => c.clone(),
        })
        .collect();
    Columns { names, header, labels: query.labels }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &str) -> String {
        let mut s = String::new();
        field(v, &mut s);
        s
    }

    #[test]
    fn quoting() {
        assert_eq!(f("plain"), "plain");
        assert_eq!(f("a,b"), "\"a,b\"");
        assert_eq!(f("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(f("two\nlines"), "\"two\nlines\"");
        assert_eq!(f(""), "");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(f("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(f("+1"), "\"'+1\"");
        assert_eq!(f("-2+3"), "\"'-2+3\"");
        assert_eq!(f("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(f("a=b"), "a=b");
    }

    #[test]
    fn lines_follow_columns() {
        let item = serde_json::json!({"Name": "WKS-1", "Count": 3, "On": true, "User": null});
        let mut out = String::new();
        line(&item, &["Name", "User", "Count", "On", "Missing"], false, &mut out);
        assert_eq!(out, "WKS-1,,3,true,\r\n");
        assert_eq!(header(&["A", "B"]), "A,B\r\n");
    }
}
