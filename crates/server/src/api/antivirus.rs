//! `antivirus`: devices by antivirus agent state and the spread of Defender versions.

use super::Routes;
use super::{only_params, query_pairs, ApiContext};
use crate::error::Result;
use crate::store;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::Json;
use tenantscope_model::api::Antivirus;

pub fn router() -> Routes {
    Routes::new().route("/antivirus", get(antivirus))
}

async fn antivirus(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Json<Antivirus>> {
    only_params(&query_pairs(&raw.0), &[])?;
    Ok(Json(ctx.store.run_indexed(|_, index| Ok(store::antivirus(index))).await?))
}
