//! `upload/{kind}`: a site posts a batch of records (a JSON array, or NDJSON with `Content-Type:
//! application/x-ndjson`), authenticated by an uploader token. The batch is checked record by record
//! (422 naming the record, the field and what is wrong; nothing written), then applied in one
//! transaction as upserts by natural key. `DELETE devices/{AADDeviceID}` removes a device that left
//! the site, with everything hanging off it.

use super::{ApiContext, Routes};
use crate::error::{Error, Result};
use crate::store::write;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;
use tenantscope_model::upload::UploadKind;

/// Largest batch body, in bytes (10,000 device records are about 4 MB).
pub const UPLOAD_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Most records in one batch.
pub const MAX_BATCH: usize = 50_000;

pub fn router() -> Routes {
    Routes::new()
        .route_with_body("/upload/{kind}", post(upload))
}

/// The batch's records: a JSON array, or one JSON object per line (NDJSON).
fn records(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Value>> {
    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-ndjson") || t.starts_with("application/ndjson"));
    let text = std::str::from_utf8(body).map_err(|_| Error::Unprocessable(json!({ "detail": "the body is not UTF-8" })))?;
    let records: Vec<Value> = if ndjson {
        let mut out = Vec::new();
        for (line_no, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            out.push(serde_json::from_str(line).map_err(|e| {
                Error::Unprocessable(json!({ "detail": format!("line {}: not JSON ({e})", line_no + 1), "record": out.len() }))
            })?);
        }
        out
    } else {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => items,
            Ok(_) => return Err(Error::Unprocessable(json!({ "detail": "the body must be a JSON array of records (or NDJSON with Content-Type: application/x-ndjson)" }))),
            Err(e) => return Err(Error::Unprocessable(json!({ "detail": format!("the body is not JSON ({e})") }))),
        }
    };
    if records.len() > MAX_BATCH {
        return Err(Error::TooLarge(format!("at most {MAX_BATCH} records in one batch; this one has {}", records.len())));
    }
    Ok(records)
}

async fn upload(
    State(ctx): State<ApiContext>,
    axum::Extension(principal): axum::Extension<super::session::Principal>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    principal.may_write()?;
    let kind = UploadKind::from_key(&kind).ok_or_else(|| {
        let kinds: Vec<&str> = UploadKind::ALL.iter().map(|k| k.key()).collect();
        Error::NotFound(format!("no upload of {kind:?}; kinds: {}", kinds.join(", ")))
    })?;
    let body = axum::body::to_bytes(body, UPLOAD_BODY_LIMIT)
        .await
        .map_err(|_| Error::TooLarge(format!("a batch is at most {UPLOAD_BODY_LIMIT} bytes; send it in smaller batches")))?;
    let values = records(&headers, &body)?;
    let checked = kind.check_batch(&values).map_err(|e| {
        Error::Unprocessable(json!({ "detail": e.to_string(), "record": e.index, "field": e.field, "message": e.message }))
    })?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let count = checked.len();
    // Written and followed up in a task of its own: a client that hangs up (or a time-out) after the
    // commit does not keep the index, the summary and the open consoles from following it.
    let (live, store) = (ctx.live.clone(), ctx.store.clone());
    let written = tokio::spawn(async move {
        let writer = Arc::clone(&store);
        let change = store.run(move |conn| Ok(write::apply(conn, kind, &checked, now, writer.changes()))).await?;
        if change.is_ok() {
            tokio::spawn(async move { live.changed(&store).await });
        }
        Ok::<_, crate::store::StoreError>(change)
    });
    let change = written
        .await
        .map_err(|e| Error::Store(crate::store::StoreError::Task(e.to_string())))??
        .map_err(|e| match e {
            write::WriteError::Record(e) => Error::Unprocessable(
                json!({ "detail": e.to_string(), "record": e.index, "field": e.field, "message": e.message }),
            ),
            write::WriteError::Store(e) => Error::Store(e),
        })?;
    Ok((StatusCode::OK, Json(json!({ "kind": kind.key(), "records": count, "change": change.id }))).into_response())
}

pub async fn remove_device(
    State(ctx): State<ApiContext>,
    axum::Extension(principal): axum::Extension<super::session::Principal>,
    super::Id(id): super::Id,
) -> Result<Response> {
    principal.may_write()?;
    let lookup = id.clone();
    let (live, store) = (ctx.live.clone(), ctx.store.clone());
    let deleted = tokio::spawn(async move {
        let writer = Arc::clone(&store);
        let change = store.run(move |conn| write::delete_device(conn, &lookup, writer.changes())).await?;
        if change.is_some() {
            tokio::spawn(async move { live.changed(&store).await });
        }
        Ok::<_, crate::store::StoreError>(change)
    });
    match deleted.await.map_err(|e| Error::Store(crate::store::StoreError::Task(e.to_string())))?? {
        None => Err(Error::NotFound(format!("no device with AADDeviceID {id:?}"))),
        Some(change) => Ok(Json(json!({ "deleted": id, "change": change.id })).into_response()),
    }
}
