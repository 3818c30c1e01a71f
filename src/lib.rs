//! Tenantscope console: a Leptos CSR app. `main.rs` only mounts `App`; everything lives here.

pub mod api;
pub mod charts;
pub mod components;
pub mod contexts;
pub mod format;
pub mod pages;
pub mod routes;
pub mod shell;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    contexts::theme::provide_theme();
    contexts::summary::provide_summary();
    view! {
        <Router>
            <shell::Shell>
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=pages::overview::Overview />
                    <Route path=path!("/devices") view=pages::devices::Devices />
                    <Route path=path!("/devices/:id") view=pages::device::Device />
                    <Route path=path!("/applications") view=pages::applications::Applications />
                    <Route path=path!("/endpoint-security") view=pages::endpoint_security::EndpointSecurity />
                    <Route path=path!("/collections/:id") view=pages::collection::Collection />
                    <Route path=path!("/threats") view=pages::threats::Threats />
                    <Route path=path!("/threats/:id") view=pages::threat::Threat />
                    <Route path=path!("/detections") view=pages::threats::Detections />
                    <Route path=path!("/connector") view=pages::connector::Connector />
                </Routes>
            </shell::Shell>
        </Router>
    }
}
