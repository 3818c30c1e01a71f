//! `threats` (one row per threat), `threats/{ThreatID}`, `threats/timeline`.

use super::Routes;
use super::{only_params, query_pairs, ApiContext};
use crate::error::{Error, Result};
use crate::store::{self, Bucket, TimelineSource};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use crate::store::db::Connection;
use tenantscope_model::api::{Facets, FilterKind, ListQuery, ThreatRow, TimeRange, Timeline, DETECTIONS, THREATS};
use tenantscope_model::time;

pub fn router() -> Routes {
    Routes::new()
        .route("/threats", get(threats))
        .route("/threats/timeline", get(threats_timeline))
        .route("/threats/facets", get(threats_facets))
        .route("/threats/{id}", get(threat))
}

async fn threats(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    let mut query = ListQuery::parse(&THREATS, &query_pairs(&raw.0))?;
    let now = ctx.store.run(tenant_now).await?;
    store::resolve_ranges(&THREATS, &mut query, now);
    if query.csv {
        let columns = crate::csv::columns(&THREATS, &query);
        return Ok(crate::csv::stream(&ctx.store, THREATS.name, columns, move |store, sink| {
            store.with(|conn| store::threats_each(conn, &query, sink))
        }));
    }
    let page = ctx.store.run(move |conn| store::threats(conn, &query)).await?;
    Ok(Json(page).into_response())
}

/// The filter choices under the view: takes the list's filters and search; each facet counts
/// what the other filters select.
async fn threats_facets(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Facets>> {
    let mut query = ListQuery::parse(&THREATS, &query_pairs(&raw.0))?;
    let now = ctx.store.run(super::threats::tenant_now).await?;
    store::resolve_ranges(&THREATS, &mut query, now);
    Ok(Json(ctx.store.run(move |conn| store::threats_facets(conn, &query)).await?))
}

async fn threat(State(ctx): State<ApiContext>, super::Id(id): super::Id, raw: RawQuery) -> Result<Json<ThreatRow>> {
    only_params(&query_pairs(&raw.0), &[])?;
    let threat_id: i64 = id.parse().map_err(|_| Error::param("ThreatID", format!("must be an integer, got {id:?}")))?;
    match ctx.store.run(move |conn| store::threat_by_id(conn, threat_id)).await? {
        Some(t) => Ok(Json(t)),
        None => Err(Error::NotFound(format!("no detection of threat {threat_id}"))),
    }
}

/// The tenant's "now": its last upload (so that a demo tenant looks the same whenever it is viewed).
pub fn tenant_now(conn: &mut Connection) -> store::Result<i64> {
    Ok(store::get_meta(conn, "last_upload")?.as_deref().and_then(time::parse_rfc3339).unwrap_or(0) + 1)
}

/// Most buckets a timeline answers: an earlier `from` is moved up to this many buckets before `to`.
pub const MAX_BUCKETS: i64 = 2_000;

/// Validated timeline window. `range` (24h|7d|30d|90d) sets the bucket and a window ending with the
/// bucket holding `now`; `bucket` (day|hour), `from` and `to` (RFC 3339) set or override them
/// (defaults without `range`: days over 90 days, or hours over 48 hours, up to `now`). A window that
/// ends before it starts is empty; one of more than `MAX_BUCKETS` buckets keeps its last ones (the
/// answer's `from` says where it starts). `extra` names the route's other parameters.
pub fn timeline_params(pairs: &[(String, String)], now: i64, extra: &[&str]) -> Result<(i64, i64, Bucket)> {
    let mut known = vec!["range", "bucket", "from", "to"];
    known.extend_from_slice(extra);
    only_params(pairs, &known)?;
    let get = |k: &str| pairs.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let range = get("range")
        .map(|r| {
            TimeRange::from_key(r).ok_or_else(|| {
                let keys: Vec<_> = TimeRange::ALL.iter().map(|r| r.key()).collect();
                Error::param("range", format!("must be one of {}, got {r:?}", keys.join(", ")))
            })
        })
        .transpose()?;
    let bucket = match get("bucket") {
        Some("day") => Bucket::Day,
        Some("hour") => Bucket::Hour,
        Some(other) => return Err(Error::param("bucket", format!("must be day or hour, got {other:?}"))),
        None if range.is_some_and(|r| r.bucket_seconds() == 3_600) => Bucket::Hour,
        None => Bucket::Day,
    };
    let parse = |k: &str| -> Result<Option<i64>> {
        get(k)
            .map(|v| time::parse_rfc3339(v).ok_or_else(|| Error::param(k, format!("must be an RFC 3339 time, got {v:?}"))))
            .transpose()
    };
    let (span, end) = match range {
        Some(r) => {
            let (from, to) = r.window(now);
            (to - from, to)
        }
        None if bucket == Bucket::Hour => (2 * 86_400, now),
        None => (90 * 86_400, now),
    };
    let to = parse("to")?.unwrap_or(end);
    let from = parse("from")?.unwrap_or(to - span).min(to).max(to - MAX_BUCKETS * bucket.seconds());
    Ok((from, to, bucket))
}

/// The detections filters a timeline takes (the list's, but its time window: the timeline has its own).
pub fn timeline_filters() -> Vec<&'static str> {
    DETECTIONS
        .filters
        .iter()
        .filter(|f| !matches!(f.kind, FilterKind::From | FilterKind::To | FilterKind::Range))
        .map(|f| f.name)
        .collect()
}

async fn threats_timeline(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Timeline>> {
    let pairs = query_pairs(&raw.0);
    let names = timeline_filters();
    let filter_pairs: Vec<(String, String)> = pairs.iter().filter(|(k, _)| names.contains(&k.as_str())).cloned().collect();
    let filters = ListQuery::parse(&DETECTIONS, &filter_pairs)?;
    let timeline = ctx
        .store
        .run(move |conn| {
            let now = tenant_now(conn)?;
            Ok(timeline_params(&pairs, now, &names).map(|(from, to, bucket)| {
                store::timeline(conn, &TimelineSource::threats(Some(&filters)), from, to, bucket.seconds())
            }))
        })
        .await?;
    Ok(Json(timeline??))
}
