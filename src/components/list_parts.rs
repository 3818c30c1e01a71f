//! Pieces of the server-paged list page: the view state lives in the URL query string
//! (the same parameters as the API), a pager, sortable column headers and a debounced search box.

use crate::components::html::escape;
use crate::format::count;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use std::time::Duration;
use crate::api::ApiError;
use super::list_page::refocus_after;
use tenantscope_model::api::{decode_query, Facet, ListQuery, ListSpec, ParamError, SortOrder, DEFAULT_PAGE_SIZE};

/// Page sizes offered in the pager.
pub const PAGE_SIZES: [u32; 4] = [25, 50, 100, 200];

/// The router's navigate function, kept so that event handlers can call it.
type Navigate = Box<dyn Fn(&str, NavigateOptions)>;

/// The list state of the current URL, and a way to change it (which changes the URL).
#[derive(Clone, Copy)]
pub struct UrlState {
    pub spec: &'static ListSpec,
    pub query: Memo<Result<ListQuery, ParamError>>,
    /// What the URL asked for that this list cannot show, in words (left out of `query`).
    pub notes: Memo<Vec<String>>,
    path: StoredValue<String>,
    /// Filters the page sets itself (a collection's members, a threat's devices): sent to the API,
    /// never shown or cleared.
    fixed: StoredValue<Vec<(String, String)>>,
    navigate: StoredValue<Navigate, LocalStorage>,
}

impl UrlState {
    pub fn new(spec: &'static ListSpec, path: String, fixed: Vec<(String, String)>) -> Self {
        let search = use_location().search;
        // A URL's parameters that the list cannot take are left out (and said in `notes`), so a
        // stale or mistyped link still shows the nearest valid view.
        let query = Memo::new(move |_| Ok(ListQuery::parse_lenient(spec, &decode_query(&search.get())).0));
        let notes = Memo::new(move |_| ListQuery::parse_lenient(spec, &decode_query(&search.get())).1);
        let navigate = use_navigate();
        let navigate: Navigate = Box::new(move |href, opts| navigate(href, opts));
        UrlState {
            spec,
            query,
            notes,
            path: StoredValue::new(path),
            fixed: StoredValue::new(fixed),
            navigate: StoredValue::new_local(navigate),
        }
    }

    /// Whether the page sets this filter itself (then it is not offered as a choice).
    pub fn is_fixed(&self, field: &str) -> bool {
        self.fixed.with_value(|f| f.iter().any(|(k, _)| k == field))
    }

    /// The query sent to the API: the view plus the page's fixed filters.
    fn with_fixed(&self, mut q: ListQuery) -> ListQuery {
        self.fixed.with_value(|f| q.filters.extend(f.iter().cloned()));
        q
    }

    /// The current state, or the default one if the URL's is invalid.
    pub fn current(&self) -> ListQuery {
        self.query.get_untracked().unwrap_or_else(|_| ListQuery::new(self.spec))
    }

    pub fn href(&self, query: &ListQuery) -> String {
        let qs = query.to_query_string(self.spec);
        let path = self.path.get_value();
        if qs.is_empty() {
            path
        } else {
            format!("{path}?{qs}")
        }
    }

    /// Moves to a new state: a new history entry, or replacing the current one (while typing).
    pub fn go(&self, query: ListQuery, replace: bool) {
        let href = self.href(&query);
        self.navigate.with_value(|n| n(&href, NavigateOptions { replace, scroll: false, ..Default::default() }));
    }

    /// Changes the state with `f` and goes back to page 1 (filters, search, sort, page size).
    pub fn update(&self, f: impl FnOnce(&mut ListQuery)) {
        let mut q = self.current();
        f(&mut q);
        q.page = 1;
        self.go(q, false);
    }

    /// The API query string of the current view (tracked). A URL the API would reject is reported
    /// like the API's own 400, naming the parameter.
    pub fn api_query(&self) -> Result<String, ApiError> {
        self.query.get().map(|q| self.with_fixed(q).to_query_string(self.spec)).map_err(|e| ApiError::Status {
            status: 400,
            error: "bad_request".into(),
            detail: e.to_string(),
        })
    }

    /// The facets route of this list with the view's filters and search (tracked): each facet
    /// counts under the other filters.
    pub fn facets_path(&self) -> String {
        let Ok(view) = self.query.get() else { return format!("/{}/facets", self.spec.name) };
        let mut q = ListQuery::new(self.spec);
        q.filters = view.filters;
        q.q = view.q;
        let qs = self.with_fixed(q).to_query_string(self.spec);
        if qs.is_empty() {
            format!("/{}/facets", self.spec.name)
        } else {
            format!("/{}/facets?{qs}", self.spec.name)
        }
    }

    /// The CSV export of this view: all pages, same filters, search and order, these columns.
    pub fn export_href(&self, columns: Vec<String>) -> String {
        self.query.track();
        let mut q = self.current();
        q.page = 1;
        q.page_size = DEFAULT_PAGE_SIZE;
        q.csv = true;
        q.labels = true;
        q.columns = columns;
        let q = self.with_fixed(q);
        crate::api::api_path(&format!("/{}?{}", self.spec.name, q.to_query_string(self.spec)))
    }

    /// The export's file name: the list, the view's filter values and search, today's date
    /// ("devices-at-risk-2026-11-26.csv").
    pub fn export_name(&self) -> String {
        self.query.track();
        let q = self.current();
        let today = tenantscope_model::time::format_rfc3339((js_sys::Date::now() / 1000.0) as i64);
        export_file_name(self.spec.name, &q.filters, q.q.as_deref(), &today[..10])
    }

    /// The values a filter currently has.
    pub fn filter_values(&self, field: &str) -> Vec<String> {
        self.query
            .get()
            .map(|q| q.filters.iter().filter(|(f, _)| f == field).map(|(_, v)| v.clone()).collect())
            .unwrap_or_default()
    }

    /// Sets one filter to a single value, or clears it (None).
    pub fn set_filter(&self, field: &str, value: Option<String>) {
        self.update(|q| {
            q.filters.retain(|(f, _)| f != field);
            if let Some(v) = value {
                q.filters.push((field.to_string(), v));
            }
        });
    }
}

/// "1–50 of 1,000,000" with first/previous/next/last and a page size choice.
#[component]
pub fn Pager(state: UrlState, total: u64, page: u32, page_size: u32) -> impl IntoView {
    let pages = tenantscope_model::api::page_count(total, page_size);
    let first_row = if total == 0 { 0 } else { (page as u64 - 1) * page_size as u64 + 1 };
    let last_row = (page as u64 * page_size as u64).min(total);
    // Steps count from the page in the URL, not the page on screen: two quick "Next" clicks go two
    // pages on even while the first page is still loading.
    let go = move |target: fn(u64, u64) -> u64, control: &'static str| {
        let mut q = state.current();
        q.page = target(q.page as u64, pages).clamp(1, pages) as u32;
        refocus_after(control);
        state.go(q, false);
    };
    let at_start = page <= 1;
    let at_end = page as u64 >= pages;
    view! {
        <div class="pager" role="navigation" aria-label="Pages">
            <span class="pager-range" data-testid="range">
                {if first_row > last_row {
                    format!("Page {page} is past the end · {} total", count(total))
                } else {
                    format!("{}–{} of {}", count(first_row), count(last_row), count(total))
                }}
            </span>
            {(first_row > last_row && total > 0).then(|| view! {
                <button class="button" data-testid="last-page" on:click=move |_| go(|_, last| last, "[aria-label='Last page']")>
                    {format!("Go to the last page ({})", count(pages))}
                </button>
            })}
            <label class="pager-size">
                "Rows per page "
                <select on:change=move |ev| {
                    let size = event_target_value(&ev).parse().unwrap_or(50);
                    state.update(|q| q.page_size = size);
                }>
                    {PAGE_SIZES.iter().map(|s| view! {
                        <option value=s.to_string() selected=*s == page_size>{s.to_string()}</option>
                    }).collect_view()}
                </select>
            </label>
            <button class="button ghost" disabled=at_start on:click=move |_| go(|_, _| 1, "[aria-label='First page']") aria-label="First page">"«"</button>
            <button class="button ghost" disabled=at_start on:click=move |_| go(|p, _| p.saturating_sub(1), "[aria-label='Previous page']") aria-label="Previous page">"‹ Prev"</button>
            <span class="pager-page">{format!("Page {} of {}", count(page as u64), count(pages))}</span>
            <button class="button ghost" disabled=at_end on:click=move |_| go(|p, _| p + 1, "[aria-label='Next page']") aria-label="Next page">"Next ›"</button>
            <button class="button ghost" disabled=at_end on:click=move |_| go(|_, last| last, "[aria-label='Last page']") aria-label="Last page">"»"</button>
        </div>
    }
}

/// A column header that sorts by its field; shows and announces the current order.
#[component]
pub fn SortHeader(state: UrlState, field: &'static str) -> impl IntoView {
    let label = state.spec.label(field);
    let order = move || {
        state.query.get().ok().and_then(|q| (q.sort == field).then_some(q.order))
    };
    let aria = move || match order() {
        Some(SortOrder::Asc) => "ascending",
        Some(SortOrder::Desc) => "descending",
        None => "none",
    };
    let arrow = move || match order() {
        Some(SortOrder::Asc) => "▲",
        Some(SortOrder::Desc) => "▼",
        None => "",
    };
    view! {
        <th aria-sort=aria scope="col">
            <button class="sort" data-sort=field on:click=move |_| {
                refocus_after(format!("[data-sort='{field}']"));
                state.update(|q| {
                    let next = if q.sort == field && q.order == SortOrder::Asc { SortOrder::Desc } else { SortOrder::Asc };
                    q.sort = field.to_string();
                    q.order = next;
                });
            }>
                {label} <span class="arrow" aria-hidden="true">{arrow}</span>
            </button>
        </th>
    }
}

/// A search box that updates the URL 300 ms after typing stops (replacing the history entry).
#[component]
pub fn SearchBox(state: UrlState, placeholder: &'static str) -> impl IntoView {
    let pending: StoredValue<Option<TimeoutHandle>, LocalStorage> = StoredValue::new_local(None);
    let value = move || state.query.get().ok().and_then(|q| q.q).unwrap_or_default();
    let apply = move |text: String| {
        let mut q = state.current();
        let text = text.trim().to_string();
        if q.q.as_deref().unwrap_or("") == text {
            return;
        }
        q.q = (!text.is_empty()).then_some(text);
        q.page = 1;
        state.go(q, true);
    };
    // "/" anywhere on the page (outside a form field) jumps to the search box.
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let listener = window_event_listener(leptos::ev::keydown, move |ev| {
        let typing = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .map(|el| matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"))
            .unwrap_or(false);
        if ev.key() == "/" && !typing {
            if let Some(input) = input_ref.get_untracked() {
                ev.prevent_default();
                let _ = input.focus();
            }
        }
    });
    on_cleanup(move || listener.remove());
    view! {
        <input
            node_ref=input_ref
            class="search"
            type="search"
            aria-label=placeholder
            aria-keyshortcuts="/"
            title="Press / to search"
            placeholder=placeholder
            prop:value=value
            maxlength="200"
            on:input=move |ev| {
                let text = event_target_value(&ev);
                if let Some(Some(h)) = pending.try_get_value() {
                    h.clear();
                }
                let handle = set_timeout_with_handle(move || apply(text), Duration::from_millis(300)).ok();
                pending.set_value(handle);
            }
            on:keydown=move |ev| {
                if ev.key() == "Enter" {
                    if let Some(Some(h)) = pending.try_get_value() {
                        h.clear();
                    }
                    apply(event_target_value(&ev));
                }
            }
        />
    }
}

/// Values above which a filter's picker offers a search box.
pub const SEARCHABLE_FACET: usize = 12;

/// A filter whose choices come from the data: every value with its count, several at once (any of
/// them), in a picker that searches long lists and shows the chosen names in full.
#[component]
pub fn FacetSelect(state: UrlState, facet: Facet, open: RwSignal<Option<&'static str>>) -> impl IntoView {
    let Some(field) = state.spec.filters.iter().find(|f| f.name == facet.field).map(|f| f.name) else {
        return ().into_any();
    };
    let label = state.spec.label(field);
    let chosen = move || state.filter_values(field);
    let mut values: Vec<(String, String, u64)> = facet
        .values
        .into_iter()
        .map(|v| {
            let text = match (v.label.as_deref(), v.value.as_str()) {
                (Some(l), _) => l.to_string(),
                (None, "true") => "Yes".to_string(),
                (None, "false") => "No".to_string(),
                (None, value) => value.to_string(),
            };
            (v.value, text, v.count)
        })
        .collect();
    // A value from a shared link that the data does not have (any more) is still shown as chosen.
    for c in chosen() {
        if !values.iter().any(|(v, _, _)| *v == c) {
            values.push((c.clone(), c, 0));
        }
    }
    let names: Vec<(String, String)> = values.iter().map(|(v, t, _)| (v.clone(), t.clone())).collect();
    let summary = move || {
        let chosen = chosen();
        if chosen.is_empty() {
            "All".to_string()
        } else {
            chosen.iter().map(|c| names.iter().find(|(v, _)| v == c).map(|(_, t)| t.as_str()).unwrap_or(c)).collect::<Vec<_>>().join(", ")
        }
    };
    let searchable = values.len() > SEARCHABLE_FACET;
    // The options as one HTML string (drawn anew with each facets answer), with one handler for
    // their changes and one for the search: far less wasm than a view per option.
    let now_chosen = chosen();
    let mut options = String::new();
    for (value, text, n) in values {
        options.push_str(&format!(
            "<label class=\"facet-option\" data-text=\"{}\"><input type=\"checkbox\" value=\"{}\"{}>{}</label>",
            escape(&text.to_ascii_lowercase()),
            escape(&value),
            if now_chosen.contains(&value) { " checked" } else { "" },
            escape(&format!("{text} · {}", count(n)))
        ));
    }
    let on_change = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        refocus_after(format!("[data-filter='{field}'] input[value='{}']", v.replace('\'', "")));
        state.update(|q| {
            if q.filters.iter().any(|(f, x)| f == field && *x == v) {
                q.filters.retain(|(f, x)| !(f == field && *x == v));
            } else {
                q.filters.push((field.to_string(), v));
            }
        });
    };
    let on_search = move |ev: leptos::ev::Event| {
        let q = event_target_value(&ev).to_ascii_lowercase();
        let Ok(found) = document().query_selector_all(&format!("[data-filter='{field}'] .facet-option")) else { return };
        for i in 0..found.length() {
            let Some(el) = found.item(i).and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok()) else { continue };
            let shown = el.get_attribute("data-text").is_some_and(|t| t.contains(&q));
            let _ = if shown { el.remove_attribute("style") } else { el.set_attribute("style", "display: none;") };
        }
    };
    view! {
        <details class="facet popover" class:set=move || !chosen().is_empty() data-filter=field
            // Stays open while its counts refresh: the filter bar is drawn anew with each answer, and
            // the picker that was open comes back open.
            prop:open=open.get_untracked() == Some(field)
            on:toggle=move |ev| {
                let now_open = ev.current_target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlDetailsElement>(t).ok()).map(|d| d.open());
                match now_open {
                    Some(true) => open.set(Some(field)),
                    Some(false) if open.get_untracked() == Some(field) => open.set(None),
                    _ => {}
                }
            }
            >
            <summary>
                <span class="facet-label">{label}</span>
                <span class="facet-value" title=summary.clone()>{summary.clone()}</span>
            </summary>
            <div class="facet-menu" role="group" aria-label=label>
                {searchable.then(|| view! {
                    <input type="text" class="facet-search" placeholder=format!("Find {}", label.to_ascii_lowercase()) aria-label=format!("Find {}", label.to_ascii_lowercase())
                        on:input=on_search />
                })}
                <div class="facet-options" inner_html=options on:change=on_change></div>
                <button class="button ghost small" on:click=move |_| {
                    refocus_after(format!("[data-filter='{field}'] summary"));
                    state.set_filter(field, None);
                }>"Any " {label.to_ascii_lowercase()}</button>
            </div>
        </details>
    }
    .into_any()
}

/// "devices-at-risk-2026-11-26.csv": the list, its filter values and search as words, the date.
pub fn export_file_name(list: &str, filters: &[(String, String)], search: Option<&str>, date: &str) -> String {
    let mut parts = vec![list.to_string()];
    for v in filters.iter().map(|(_, v)| v.as_str()).chain(search) {
        let slug: String = v
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        if !slug.is_empty() {
            parts.push(slug.chars().take(40).collect());
        }
    }
    parts.push(date.to_string());
    format!("{}.csv", parts.join("-"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn export_names_say_the_view() {
        let f = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(super::export_file_name("devices", &[f("DefenderHealth", "at_risk")], None, "2026-11-26"), "devices-at-risk-2026-11-26.csv");
        assert_eq!(super::export_file_name("devices", &[], Some("LON <x>"), "2026-11-26"), "devices-lon-x-2026-11-26.csv");
        assert_eq!(super::export_file_name("threats", &[], None, "2026-11-26"), "threats-2026-11-26.csv");
    }
}
