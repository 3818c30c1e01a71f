use super::Routes;
use super::{only_params, query_pairs, ApiContext};
use crate::error::Result;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub fn router() -> Routes {
    Routes::new().route_from_memory("/summary", get(summary))
}

/// The summary, computed and serialised once per change of the store and served from memory.
async fn summary(State(ctx): State<ApiContext>, raw: RawQuery) -> Result<Response> {
    only_params(&query_pairs(&raw.0), &[])?;
    let json = ctx.live.current_summary_json(&ctx.store).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}
