//! Tenantscope console: a Leptos CSR app. `main.rs` only mounts `App`; everything lives here.

pub mod api;
pub mod charts;
pub mod format;
pub mod listview;
pub mod pages;
pub mod shell;
pub mod widgets;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use std::time::Duration;
use tenantscope_model::api::Summary;

/// How often the console refreshes what it shows (the site uploads every 15 minutes).
pub const REFRESH: Duration = Duration::from_secs(60);

/// The tenant's summary, shared by the header and the Overview so it is fetched once.
#[derive(Clone, Copy)]
pub struct SummaryResource(pub LocalResource<Result<Summary, api::ApiError>>);

#[component]
pub fn App() -> impl IntoView {
    // One request at a time: a refresh aborts a stale one; nothing accumulates over a day on a wall.
    let latest = api::Latest::new();
    let summary = LocalResource::new(move || {
        let signal = latest.next();
        async move { api::summary(signal).await }
    });
    provide_context(SummaryResource(summary));
    // Live: refresh in the background; Transition keeps the old numbers on screen meanwhile.
    if let Ok(handle) = set_interval_with_handle(move || summary.refetch(), REFRESH) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <Router>
            <shell::Shell>
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=pages::overview::Overview />
                    <Route path=path!("/devices") view=pages::devices::Devices />
                    <Route path=path!("/devices/:id") view=pages::device::Device />
                    <Route path=path!("/applications") view=pages::applications::Applications />
                    <Route path=path!("/endpoint-security") view=|| pages::coming::coming("endpoint-security") />
                    <Route path=path!("/threats") view=|| pages::coming::coming("threats") />
                    <Route path=path!("/connector") view=|| pages::coming::coming("connector") />
                </Routes>
            </shell::Shell>
        </Router>
    }
}
