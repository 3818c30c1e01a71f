//! `import`: an admin's Intune report export (ZIP, CSV or JSON) or Microsoft Graph page(s), posted
//! as the body (`?file=` names it for messages). The file is read and checked whole first (422 with
//! the file, line and column of the first problem; nothing written), matched against the store,
//! then applied in batches through the upload write path — the open consoles follow each batch.
//! The answer is NDJSON: `{"checked":…}` once planned, `{"progress":{"done","total"}}` per batch,
//! then `{"report":…}` — or `{"error":…}` if the plan is refused or a batch cannot be written.

use super::{ApiContext, Routes};
use crate::error::{Error, Result};
use crate::import::{self, Options};
use crate::store::write;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{json, Value};
use std::sync::Arc;

/// Largest file an import takes, in bytes.
pub const IMPORT_BODY_LIMIT: usize = 256 * 1024 * 1024;


pub fn router() -> Routes {
    Routes::new().route_with_body("/import", post(import))
}

fn line(value: Value) -> bytes::Bytes {
    let mut text = value.to_string();
    text.push('\n');
    bytes::Bytes::from(text)
}

async fn import(
    State(ctx): State<ApiContext>,
    axum::Extension(principal): axum::Extension<super::session::Principal>,
    RawQuery(query): RawQuery,
    body: Body,
) -> Result<Response> {
    principal.may_write()?;
    let permit = Arc::clone(&ctx.importing)
        .try_acquire_owned()
        .map_err(|_| Error::Unavailable("another import is running; try again when it has finished".into()))?;
    let mut file = "upload".to_string();
    let mut opts = Options::default();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "file" if !value.trim().is_empty() => file = value.chars().take(200).collect(),
            "tenant" if !value.trim().is_empty() => {
                if !crate::client::is_guid(value.trim()) {
                    return Err(Error::param("tenant", "an Entra tenant id (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47)"));
                }
                opts.tenant = Some(value.trim().to_lowercase());
            }
            "file" | "tenant" => {}
            other => {
                return Err(Error::param(other, "unknown parameter; import takes file and tenant"));
            }
        }
    }
    let body = axum::body::to_bytes(body, IMPORT_BODY_LIMIT)
        .await
        .map_err(|_| Error::TooLarge(format!("an import file is at most {} MiB", IMPORT_BODY_LIMIT >> 20)))?;
    let name = file.clone();
    let reading = std::time::Instant::now();
    let tables = tokio::task::spawn_blocking(move || import::read(&name, &body))
        .await
        .map_err(|e| Error::Store(crate::store::StoreError::Task(e.to_string())))?
        .map_err(|refusal| Error::Unprocessable(json!({ "detail": refusal.0, "file": file })))?;

    let (sender, receiver) = tokio::sync::mpsc::channel::<bytes::Bytes>(64);
    let (live, store) = (ctx.live.clone(), ctx.store.clone());
    // Planned and written in a task of its own: a client that hangs up does not stop it half-way.
    tokio::spawn(async move {
        let _permit = permit;
        let send = |v: Value| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(line(v)).await;
            }
        };
        let started = std::time::Instant::now();
        let read_ms = reading.elapsed().as_millis();
        let planned = store.run(move |conn| import::plan(conn, &tables, &opts)).await;
        tracing::info!("import {file}: read in {read_ms} ms, planned in {} ms", started.elapsed().as_millis());
        let plan = match planned {
            Ok(Ok(plan)) => plan,
            Ok(Err(refusal)) => return send(json!({ "error": { "status": 422, "detail": refusal.0 } })).await,
            Err(e) => {
                tracing::error!("import: planning failed: {e}");
                return send(json!({ "error": { "status": 500, "detail": "the store could not be read; nothing was written" } })).await;
            }
        };
        let total = plan.records();
        send(json!({ "checked": { "records": total, "tables": plan.tables } })).await;
        let (mut done, mut written_records) = (0, 0);
        let mut changes = Vec::new();
        for (kind, batch) in plan.batches {
            let count = batch.len();
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
            let writer = Arc::clone(&store);
            // Each record merged again, inside the write's transaction, over what the store has
            // then if it changed since the plan read it (a site upload meanwhile is kept).
            let written = store
                .run(move |conn| {
                    Ok(write::apply_prepared(conn, kind, now, writer.changes(), |tx| {
                        let mut records = Vec::with_capacity(batch.len());
                        for planned in &batch {
                            records.extend(import::rebase(tx, kind, planned)?);
                        }
                        Ok(records)
                    }))
                })
                .await;
            match written {
                Ok(Ok(Some(change))) => {
                    written_records += change.records;
                    changes.push(change.id);
                    let (live, store) = (live.clone(), store.clone());
                    tokio::spawn(async move { live.changed(&store).await });
                }
                Ok(Ok(None)) => {}
                Ok(Err(write::WriteError::Record(e))) => {
                    let detail = format!("{} record {}: {e}; {done} of {total} records were written before it", kind.key(), e.index);
                    return send(json!({ "error": { "status": 422, "detail": detail, "done": done } })).await;
                }
                Ok(Err(write::WriteError::Store(e))) | Err(e) => {
                    tracing::error!("import: a batch failed: {e}");
                    let detail = format!("the store refused a batch; {done} of {total} records were written (import the file again to finish)");
                    return send(json!({ "error": { "status": 503, "detail": detail, "done": done } })).await;
                }
            }
            done += count;
            send(json!({ "progress": { "done": done, "total": total, "kind": kind.key() } })).await;
        }
        let ms = started.elapsed().as_millis() as u64;
        send(json!({ "report": { "records": total, "written": written_records, "changes": changes, "milliseconds": ms, "tables": plan.tables } })).await;
    });
    // Fused: a layer may poll the body once more after its end.
    let stream = futures_util::StreamExt::fuse(futures_util::stream::unfold(receiver, |mut r| async move {
        r.recv().await.map(|b| (Ok::<_, std::convert::Infallible>(b), r))
    }));
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-ndjson"), (header::CACHE_CONTROL, "no-store")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// `GET /import` (outside the API): the console's import page, written by the server with a small
/// script of its own (`public/import.js`), so the console's wasm carries none of it. Files dropped
/// or chosen there are posted to `/api/v1/import` with the browser's session (an admin's), one at a
/// time, with a progress bar per file and its report.
/// The page's own layout (on top of the console's stylesheet, so its bytes stay out of the bundle).
const IMPORT_CSS: &str = ".sign-in.import{width:min(860px,94vw)}\
    .drop{display:block;border:2px dashed var(--muted);border-radius:var(--radius);padding:var(--space-5);text-align:center;cursor:pointer}\
    .drop.over{border-color:var(--accent);background:var(--row-hover)}.drop input{display:block;margin:var(--space-2) auto 0}\
    .import-results{list-style:none;padding:0;display:grid;gap:var(--space-3)}.import-file h2{font-size:16px;margin:0 0 var(--space-2)}\
    .import-file progress{width:100%}.import-table h3{font-size:14px;margin:var(--space-3) 0 var(--space-1)}\
    .import-facts{display:grid;grid-template-columns:repeat(6,auto);gap:2px var(--space-3);margin:0}\
    .import-facts dt{color:var(--muted);font-size:12px;grid-row:1}.import-facts dd{margin:0;font-variant-numeric:tabular-nums;grid-row:2}\
    .import-table ul{margin:var(--space-2) 0 0;padding-left:var(--space-4);font-size:13px}.error{color:var(--bad)}";

pub async fn import_page(dist: Option<std::path::PathBuf>) -> Response {
    let css = super::session::stylesheet(dist.as_deref()).map(|href| format!("<link rel=\"stylesheet\" href=\"{href}\">")).unwrap_or_default();
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Import · Tenantscope</title>{css}<link rel=\"icon\" href=\"/public/favicon.svg\">\
         <script src=\"/public/import.js\" defer></script><style>{IMPORT_CSS}</style></head>\
         <body class=\"sign-in-page\"><main class=\"sign-in import\" id=\"main\">\
         <h1><img src=\"/public/favicon.svg\" alt=\"\" width=\"28\" height=\"28\"> Import</h1>\
         <p>Intune report exports — <b>DefenderAgents</b>, <b>UnhealthyDefenderAgents</b>, <b>Malware</b>, <b>ActiveMalware</b> \
         (the ZIP as downloaded, its CSV, or the JSON form) — and Microsoft Graph pages of <b>managedDevices</b> or \
         <b>configManagerCollections</b>. Rows are matched to devices on the Entra device ID, else the device name; \
         a file that is not what it claims is refused whole; importing a file again changes nothing.</p>\
         <form id=\"import-form\" data-testid=\"import-form\"><label class=\"drop\" for=\"import-files\" data-testid=\"import-drop\">\
         Drop files here, or choose them<input id=\"import-files\" name=\"files\" type=\"file\" multiple accept=\".zip,.csv,.json\" data-testid=\"import-files\"></label>\
         <label for=\"import-tenant\">Tenant ID of devices the import creates <span class=\"muted\">(optional; default: the store's)</span></label>\
         <input id=\"import-tenant\" name=\"tenant\" type=\"text\" spellcheck=\"false\" autocomplete=\"off\" \
         pattern=\"[0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}}\" placeholder=\"72f988bf-86f1-41af-91ab-2d7cd011db47\">\
         <button type=\"submit\" data-testid=\"import-submit\">Import</button></form>\
         <noscript><p class=\"notice\">This page needs JavaScript. Without it: <code>tenantscope-server import --url URL --token-file FILE export.zip</code></p></noscript>\
         <ol id=\"import-results\" class=\"import-results\" aria-live=\"polite\" data-testid=\"import-results\"></ol>\
         <p class=\"muted\">Importing takes an admin session (or, from a script, an uploader token with \
         <code>tenantscope-server import</code>). <a href=\"/\">Back to the console</a></p></main></body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html).into_response()
}
