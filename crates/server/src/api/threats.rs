use super::{list, only_params, query_pairs, ApiContext};
use crate::error::{Error, Result};
use crate::store::{self, Bucket, THREATS_TABLE};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use tenantscope_model::api::Timeline;
use tenantscope_model::time;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/threats", get(threats)).route("/threats/timeline", get(threats_timeline))
}

async fn threats(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    list(&ctx, &THREATS_TABLE, raw).await
}

/// Validated timeline window: `bucket` (day|hour), `from` and `to` (RFC 3339).
pub fn timeline_params(pairs: &[(String, String)], now: i64) -> Result<(i64, i64, Bucket)> {
    only_params(pairs, &["bucket", "from", "to"])?;
    let get = |k: &str| pairs.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let bucket = match get("bucket").unwrap_or("day") {
        "day" => Bucket::Day,
        "hour" => Bucket::Hour,
        other => return Err(Error::param("bucket", format!("must be day or hour, got {other:?}"))),
    };
    let parse = |k: &str| -> Result<Option<i64>> {
        get(k)
            .map(|v| time::parse_rfc3339(v).ok_or_else(|| Error::param(k, format!("must be an RFC 3339 time, got {v:?}"))))
            .transpose()
    };
    let to = parse("to")?.unwrap_or(now);
    let default_span = match bucket {
        Bucket::Day => 90 * 86_400,
        Bucket::Hour => 2 * 86_400,
    };
    let from = parse("from")?.unwrap_or(to - default_span);
    if from >= to {
        return Err(Error::param("from", "must be before `to`"));
    }
    let max_buckets = 2_000;
    if (to - from) / bucket.seconds() > max_buckets {
        return Err(Error::param("from", format!("window too long: at most {max_buckets} {}s", bucket.name())));
    }
    Ok((from, to, bucket))
}

async fn threats_timeline(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Timeline>> {
    let pairs = query_pairs(&raw.0);
    let timeline = ctx
        .store
        .run(move |conn| {
            // The window ends at the tenant's last upload, so a demo tenant looks the same whenever it is viewed.
            let now = store::get_meta(conn, "last_upload")?
                .as_deref()
                .and_then(time::parse_rfc3339)
                .unwrap_or(0);
            Ok(timeline_params(&pairs, now + 1).map(|(from, to, bucket)| store::threats_timeline(conn, from, to, bucket)))
        })
        .await?;
    Ok(Json(timeline??))
}
