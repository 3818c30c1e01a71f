//! The tenant's summary, shared by the header, the Overview and pages that need the tenant's "now".

use crate::api::{self, Resource};
use leptos::prelude::*;
use std::time::Duration;
use tenantscope_model::api::Summary;

#[derive(Clone, Copy)]
pub struct SummaryResource(pub Resource);

/// Fetches the summary now and again whenever a change touches it (`contexts::live`); one request
/// at a time (a refresh aborts a stale one).
pub fn provide_summary() {
    let summary = api::resource(|| Ok("/summary".into()));
    provide_context(SummaryResource(summary));
    // An unreachable or failing server is asked again soon, not at the next minute.
    crate::api::effect(move || {
        if let Some(Err(e)) = summary.get() {
            if e.retryable() {
                set_timeout(move || summary.refetch(), RETRY);
            }
        }
    });
}

/// How soon a failed summary is asked for again.
pub const RETRY: Duration = Duration::from_secs(10);

/// Why the summary is not there (None while it loads or once it is).
pub fn summary_error() -> Option<crate::api::ApiError> {
    use_summary().get().and_then(|r| r.err())
}

pub fn use_summary() -> Resource {
    expect_context::<SummaryResource>().0
}

/// The summary, once loaded (tracked).
pub fn summary_value() -> Option<Summary> {
    use_summary().get().and_then(|r| r.ok()).and_then(|b| b.decode().ok())
}
