//! The tenant's summary, shared by the header, the Overview and pages that need the tenant's "now".

use crate::api;
use leptos::prelude::*;
use std::time::Duration;
use tenantscope_model::api::Summary;

/// How often the console refreshes what it shows (the site uploads every 15 minutes).
pub const REFRESH: Duration = Duration::from_secs(60);

#[derive(Clone, Copy)]
pub struct SummaryResource(pub LocalResource<Result<Summary, api::ApiError>>);

/// Fetches the summary now and every `REFRESH`; one request at a time (a refresh aborts a stale one).
pub fn provide_summary() {
    let latest = api::Latest::new();
    let summary = LocalResource::new(move || {
        let signal = latest.next();
        async move { api::summary(signal).await }
    });
    provide_context(SummaryResource(summary));
    if let Ok(handle) = set_interval_with_handle(move || summary.refetch(), REFRESH) {
        on_cleanup(move || handle.clear());
    }
}

pub fn use_summary() -> LocalResource<Result<Summary, api::ApiError>> {
    expect_context::<SummaryResource>().0
}
