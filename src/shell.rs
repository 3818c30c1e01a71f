//! The console frame: left navigation, header with tenant and hierarchy, breadcrumb, content area.

use crate::contexts::page::{document_title, use_page};
use crate::contexts::settings::use_settings;
use crate::contexts::summary::{summary_error, summary_value};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// A section of the console: its path, name, the API route it reads, and the other paths it owns.
pub struct Section {
    pub path: &'static str,
    pub key: &'static str,
    pub title: &'static str,
    pub icon: &'static str,
    /// Other paths under this section (a collection belongs to Endpoint security).
    pub also: &'static [&'static str],
}

pub const SECTIONS: [Section; 7] = [
    Section { path: "/", key: "overview", title: "Overview", icon: "◉", also: &[] },
    Section { path: "/devices", key: "devices", title: "Devices", icon: "▣", also: &[] },
    Section { path: "/applications", key: "applications", title: "Applications", icon: "▤", also: &[] },
    Section { path: "/endpoint-security", key: "endpoint-security", title: "Endpoint security", icon: "◈", also: &["/collections"] },
    Section { path: "/threats", key: "threats", title: "Threats", icon: "⚠", also: &["/detections"] },
    Section { path: "/connector", key: "connector", title: "Connector", icon: "⇄", also: &[] },
    Section { path: "/data-privacy", key: "data-privacy", title: "Data & privacy", icon: "◧", also: &[] },
];

/// The list pages whose last view the breadcrumb returns to.
const LIST_PATHS: [&str; 5] = ["/devices", "/applications", "/endpoint-security", "/threats", "/detections"];

pub fn section(key: &str) -> &'static Section {
    SECTIONS.iter().find(|s| s.key == key).unwrap_or(&SECTIONS[0])
}

/// The section a path belongs to.
pub fn section_for_path(path: &str) -> Option<&'static Section> {
    SECTIONS.iter().find(|s| {
        if s.path == "/" {
            path == "/" || path.is_empty()
        } else {
            std::iter::once(s.path)
                .chain(s.also.iter().copied())
                .any(|p| path == p || path.starts_with(&format!("{p}/")))
        }
    })
}

/// The breadcrumb after the section: the object's id, or the name of a view the section also owns.
pub fn crumb_tail(section: &Section, path: &str) -> Option<String> {
    let prefix = std::iter::once(section.path)
        .chain(section.also.iter().copied())
        .find(|p| path == *p || path.starts_with(&format!("{p}/")))?;
    let rest = path[prefix.len()..].trim_matches('/');
    if !rest.is_empty() {
        Some(rest.to_string())
    } else if prefix != section.path {
        let name = prefix.trim_start_matches('/');
        let mut chars = name.chars();
        chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
    } else {
        None
    }
}

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let location = use_location();
    let pathname = location.pathname;
    let search = location.search;
    let page = use_page();
    let settings = use_settings();
    // The last view of each list, for the breadcrumb's way back.
    crate::api::effect(move || {
        let path = pathname.get();
        if LIST_PATHS.contains(&path.as_str()) {
            let query = search.get();
            page.remember_list(&path, if query.is_empty() { path.clone() } else { format!("{path}?{query}") });
        }
    });
    // The document title names the page and, on a detail page, its object.
    crate::api::effect(move || {
        let path = pathname.get();
        let name = match section_for_path(&path) {
            Some(s) => crumb_tail(s, &path).filter(|_| s.also.iter().any(|a| path == *a)).unwrap_or_else(|| s.title.to_string()),
            None => "Not found".to_string(),
        };
        let object = page.object.get();
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&document_title(object.as_deref(), &name));
        }
    });
    let tenant = move || summary_value().map(|s| s.tenant);
    let theme = crate::contexts::theme::use_theme();
    // Who the console talks as (signed in: the role and a way out; a kiosk is always private).
    let session = crate::api::resource(|| Ok("/session".to_string()));
    let session_value = move || session.get().and_then(|r| r.ok()).and_then(|b| b.decode::<tenantscope_model::access::Session>().ok());
    let who = move || session_value().filter(|s| s.signed_in).map(|s| (s.role, s.signed_in));
    let always_private = move || session_value().is_some_and(|s| s.always_private);
    let crumbs = move || {
        let path = pathname.get();
        let mut out = vec![("Tenantscope".to_string(), Some("/".to_string()))];
        match section_for_path(&path) {
            Some(s) if s.path != "/" => {
                out.push((s.title.to_string(), Some(page.list_href(s.path))));
                if let Some(tail) = crumb_tail(s, &path) {
                    // A detail page's crumb is its object's name once known.
                    let detail = !s.also.iter().any(|a| path == *a);
                    out.push((page.object.get().filter(|_| detail).unwrap_or(tail), None));
                }
            }
            Some(s) => out.push((s.title.to_string(), None)),
            None => out.push(("Not found".to_string(), None)),
        }
        let last = out.len() - 1;
        out.into_iter()
            .enumerate()
            .map(|(i, (label, href))| match href {
                Some(href) if i != last => view! { <li><a href=href>{label}</a></li> }.into_any(),
                _ => view! { <li aria-current="page">{label}</li> }.into_any(),
            })
            .collect_view()
    };
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="app">
            <header class="topbar">
                <a href="/" class="brand">
                    <img src="/public/favicon.svg" alt="" width="24" height="24" />
                    <span>"Tenantscope"</span>
                </a>
                <div class="tenant" data-testid="tenant">
                    {move || match tenant() {
                        Some(t) => view! {
                            <span class="tenant-name" title="Tenant">{t.tenant_name}</span>
                            <span class="tenant-id" title="Entra tenant id">{t.tenant_id}</span>
                            <span class="sep">"·"</span>
                            <span class="hierarchy" title="Hierarchy (site support id)">
                                "Hierarchy " {t.hierarchy_id} " · site " {t.site_code}
                            </span>
                        }.into_any(),
                        None => match summary_error() {
                            Some(e) if e.retryable() => view! {
                                <span class="offline" role="status" title=e.to_string()>"Cannot reach the Tenantscope server — retrying"</span>
                            }.into_any(),
                            Some(e) => view! { <span class="offline" role="status">{e.to_string()}</span> }.into_any(),
                            None => view! { <span class="muted">"Loading tenant…"</span> }.into_any(),
                        },
                    }}
                </div>
                <span class="live" role="status" data-testid="live" inner_html=move || {
                    settings.local_time.track();
                    crate::contexts::live::status_html()
                }></span>
                <label class="time-setting" title="Colours: light, dark or high contrast">
                    <span>"Theme"</span>
                    <select data-testid="theme-setting" on:change=move |ev| theme.set(&event_target_value(&ev)) prop:value=move || theme.key.get()>
                        {crate::charts::Palette::THEMES.map(|(key, label)| view! { <option value=key>{label}</option> })}
                    </select>
                </label>
                <label class="time-setting" title="Aliases instead of device names, users, serial numbers, ids and domains (for demos and screens others see)">
                    <input type="checkbox" data-testid="privacy" prop:checked=move || always_private() || crate::api::private() prop:disabled=always_private
                        on:change=move |ev| crate::api::set_private(event_target_checked(&ev)) />
                    <span>"Privacy"</span>
                </label>
                {move || who().map(|(role, signed_in)| view! {
                    <span class="who" data-testid="who">{role}</span>
                    {signed_in.then(|| view! {
                        <form class="sign-out" method="post" action="/sign-out"><button type="submit" data-testid="sign-out">"Sign out"</button></form>
                    })}
                })}
                <label class="time-setting" title="Show times in UTC or in this browser's time zone">
                    <span>"Times"</span>
                    <select data-testid="time-setting" on:change=move |ev| settings.set_local_time(event_target_value(&ev) == "local")
                        prop:value=move || if settings.local_time.get() { "local" } else { "utc" }>
                        <option value="utc">"UTC"</option>
                        <option value="local">"Local time"</option>
                    </select>
                </label>
            </header>
            <nav class="sidenav" aria-label="Sections">
                <ul>
                    {SECTIONS.iter().map(|s| {
                        let path = s.path;
                        let current = move || section_for_path(&pathname.get()).map(|c| c.path) == Some(path);
                        view! {
                            <li>
                                <a href=path title=s.title class=move || if current() { "nav-link active" } else { "nav-link" } aria-current=move || current().then_some("page")>
                                    <span class="nav-icon" aria-hidden="true">{s.icon}</span>
                                    <span>{s.title}</span>
                                </a>
                            </li>
                        }
                    }).collect_view()}
                    // The import page is the server's own (it loads no wasm): a full page load.
                    <li><a href="/import" rel="external" class="nav-link" title="Import"><span class="nav-icon" aria-hidden="true">"⇪"</span><span>"Import"</span></a></li>
                </ul>
            </nav>
            <main id="main" class="content" tabindex="-1">
                <ol class="breadcrumb" aria-label="Breadcrumb">{crumbs}</ol>
                // Shown by the API client while the server prepares its data (api::fetch).
                <p id="preparing" class="notice" role="status" data-testid="preparing" hidden></p>
                {children()}
            </main>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_own_their_detail_paths() {
        assert_eq!(section_for_path("/collections/ABC00014").map(|s| s.key), Some("endpoint-security"));
        assert_eq!(section_for_path("/detections").map(|s| s.key), Some("threats"));
        assert!(section_for_path("/nope").is_none());
        let es = section("endpoint-security");
        assert_eq!(crumb_tail(es, "/collections/ABC00014").as_deref(), Some("ABC00014"));
        assert_eq!(crumb_tail(section("threats"), "/detections").as_deref(), Some("Detections"));
        assert_eq!(crumb_tail(section("threats"), "/threats"), None);
    }
}
