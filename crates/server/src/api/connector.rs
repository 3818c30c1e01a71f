use super::Routes;
use super::{only_params, query_pairs, ApiContext};
use crate::error::{Error, Result};
use crate::store;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::Json;
use tenantscope_model::api::{Connector, Timeline};

pub fn router() -> Routes {
    Routes::new().route("/connector", get(connector)).route("/connector/timeline", get(connector_timeline))
}

async fn connector(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Connector>> {
    let pairs = query_pairs(&raw.0);
    only_params(&pairs, &["events"])?;
    let mut events = 100usize;
    for (_, v) in pairs.iter().filter(|(k, _)| k == "events") {
        events = v
            .parse()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| Error::param("events", format!("must be a whole number from 1 to 500, got {v:?}")))?;
    }
    Ok(Json(ctx.store.run(move |conn| store::connector(conn, events)).await?))
}

/// Status events, exceptions, requests and traces over time by severity level.
async fn connector_timeline(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Timeline>> {
    let pairs = query_pairs(&raw.0);
    let timeline = ctx
        .store
        .run(move |conn| {
            let now = super::threats::tenant_now(conn)?;
            Ok(super::threats::timeline_params(&pairs, now, &[]).map(|(from, to, bucket)| {
                store::timeline(conn, &store::TimelineSource::connector(), from, to, bucket.seconds())
            }))
        })
        .await?;
    Ok(Json(timeline??))
}
