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
use leptos_router::components::Router;
use leptos_router::hooks::use_location;
use leptos_router::location::{BrowserUrl, LocationProvider};
use routes::PageRoute;

#[component]
pub fn App() -> impl IntoView {
    contexts::theme::provide_theme();
    contexts::settings::provide_settings();
    contexts::page::provide_page();
    contexts::live::provide_live();
    contexts::summary::provide_summary();
    #[cfg(target_arch = "wasm32")]
    components::html::install_document_handlers();
    view! {
        <Router>
            <Frame />
        </Router>
    }
}

/// The console's frame around the page, or the kiosk alone (full screen, no navigation).
#[component]
fn Frame() -> impl IntoView {
    if use_location().pathname.get_untracked() == "/kiosk" {
        view! { <pages::kiosk::Kiosk /> }.into_any()
    } else {
        view! { <shell::Shell><Pages /></shell::Shell> }.into_any()
    }
}

/// The page of the current path. The routes are one `match` (`routes::PageRoute`): the router only
/// provides the location and history, which keeps route matching out of the bundle.
#[component]
fn Pages() -> impl IntoView {
    let pathname = use_location().pathname;
    let route = Memo::new(move |_| PageRoute::of(&pathname.get()));
    // The router writes a new path into the address bar once the page for it is on screen (what its
    // route views would do): after each render of a route.
    let location = use_context::<BrowserUrl>();
    crate::api::effect(move || {
        pathname.track();
        route.track();
        if let Some(location) = &location {
            location.ready_to_complete();
        }
    });
    let page = contexts::page::use_page();
    let settings = contexts::settings::use_settings();
    move || {
        // A new page names its own object; a change of time setting re-renders the page in it.
        settings.local_time.track();
        page.object.set(None);
        page_view(route.get())
    }
}

fn page_view(route: PageRoute) -> AnyView {
    match route {
        PageRoute::Overview => view! { <pages::overview::Overview /> }.into_any(),
        PageRoute::Devices => view! { <pages::devices::Devices /> }.into_any(),
        PageRoute::Device(id) => view! { <pages::device::Device id=id /> }.into_any(),
        PageRoute::Applications => view! { <pages::applications::Applications /> }.into_any(),
        PageRoute::EndpointSecurity => view! { <pages::endpoint_security::EndpointSecurity /> }.into_any(),
        PageRoute::Collection(id) => view! { <pages::collection::Collection id=id /> }.into_any(),
        PageRoute::Threats => view! { <pages::threats::Threats /> }.into_any(),
        PageRoute::Threat(id) => view! { <pages::threat::Threat id=id /> }.into_any(),
        PageRoute::Detections => view! { <pages::threats::Detections /> }.into_any(),
        PageRoute::Connector => view! { <pages::connector::Connector /> }.into_any(),
        PageRoute::DataPrivacy => view! { <pages::data_privacy::DataPrivacy /> }.into_any(),
        PageRoute::NotFound => view! { <pages::not_found::NotFound /> }.into_any(),
    }
}
