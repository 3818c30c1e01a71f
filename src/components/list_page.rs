//! The list page every list is a configuration of: columns (wire name, renderer; the label comes
//! from the model's field metadata), filters with choices from the data, search, server paging and
//! sort, the view in the URL, a column picker, CSV export of exactly the view, "Clear all", loading
//! and error states. The typed part (fetching `Page<T>`, rendering a cell of a `T`) is kept thin; the
//! table itself is not generic.

use super::list_parts::{FacetSelect, Pager, SearchBox, SortHeader, UrlState};
use super::status::{ErrorMessage, Loading};
use crate::api::{self, ApiError, Body, Busy, Resource};
use crate::charts::Tone;
use super::html::{cell_html, fields_html, rows_html};
use crate::format::datetime;
use leptos::prelude::*;
use std::sync::Arc;
use tenantscope_model::api::{Facet, Facets, FilterKind, ListQuery, ListSpec, Page, TimeRange};

/// What a cell shows. A few kinds rendered by one function (`render`), so that a column is a plain
/// function from a row to data, not a view of its own; data is always rendered as text.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    /// A link inside the console (the router handles it).
    Link(String, String),
    /// A coloured chip with its text and a tooltip (empty: none).
    Chip(Tone, String, String),
    /// A number that is a problem when the flag is set.
    Alert(String, bool),
    /// "More information" as a link when the URL is http(s); anything else as inert text.
    External(Option<String>),
    /// Several chips (decoded flags).
    Chips(Vec<(Tone, String, String)>),
    /// An identifier in monospace with a copy button ("—" when empty).
    Copy(String),
    /// A time, absolute and relative, highlighted as overdue when the flag is set ("Never" when None).
    Time(Option<String>, bool),
    /// A summary that unfolds into titled groups of lines (a product's deployment types).
    Fold(String, Vec<(String, Vec<String>)>),
}

pub fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

pub fn link(href: String, label: impl Into<String>) -> Cell {
    Cell::Link(href, label.into())
}

pub fn chip(tone: Tone, label: impl Into<String>) -> Cell {
    Cell::Chip(tone, label.into(), String::new())
}

/// One cell on its own (a verdict chip in a heading, a link in a page).
pub fn render(cell: Cell) -> AnyView {
    let mut out = String::new();
    cell_html(&cell, js_sys::Date::now(), &mut out);
    view! { <span class="cell" inner_html=out></span> }.into_any()
}

/// A definition list of labelled values (detail pages).
pub fn fields(testid: &'static str, rows: Vec<(&'static str, Cell)>) -> impl IntoView {
    view! { <dl class="fields" data-testid=testid inner_html=fields_html(&rows, js_sys::Date::now())></dl> }
}

/// One column: the list field it shows, a CSS class for its cells, and what a row shows in it.
pub struct Column<T> {
    pub field: &'static str,
    pub class: &'static str,
    pub cell: fn(&T) -> Cell,
}

pub const fn column<T>(field: &'static str, class: &'static str, cell: fn(&T) -> Cell) -> Column<T> {
    Column { field, class, cell }
}

pub struct ListConfig<T> {
    pub spec: &'static ListSpec,
    /// The page's path (the URL state lives in its query string).
    pub path: String,
    pub columns: Vec<Column<T>>,
    /// Columns shown until the user picks others (all when empty).
    pub default_columns: &'static [&'static str],
    /// localStorage key of the column choice; None: no column picker.
    pub picker_key: Option<&'static str>,
    /// Fetch `/{spec.name}/facets` for the filters.
    pub facets: bool,
    pub fixed: Vec<(String, String)>,
    pub search: &'static str,
    /// What to say when nothing matches ("No devices match this view.").
    pub empty: &'static str,
}

impl<T> ListConfig<T> {
    pub fn new(spec: &'static ListSpec, path: impl Into<String>, columns: Vec<Column<T>>) -> Self {
        ListConfig {
            spec,
            path: path.into(),
            columns,
            default_columns: &[],
            picker_key: None,
            facets: true,
            fixed: Vec::new(),
            search: "Search",
            empty: "Nothing matches this view.",
        }
    }
}

type CellFn = Arc<dyn Fn(usize, usize) -> Cell + Send + Sync>;
/// The cell functions of a list's columns, in column order.
type Cells<T> = Arc<Vec<fn(&T) -> Cell>>;

/// One page of rows with the types erased: cell (row, column index) renders on demand.
#[derive(Clone)]
pub struct Rows {
    pub len: usize,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
    cell: CellFn,
}

fn erase<T: Send + Sync + 'static>(page: Page<T>, cells: Cells<T>) -> Rows {
    let items = Arc::new(page.items);
    let len = items.len();
    let cell: CellFn = Arc::new(move |row, col| (cells[col])(&items[row]));
    Rows { len, total: page.total, page: page.page, page_size: page.page_size, cell }
}

/// Column metadata without the row type.
#[derive(Clone)]
struct ColumnMeta {
    field: &'static str,
    class: &'static str,
}

/// The list's URL as the browser shows it.
fn list_url() -> Option<String> {
    let location = web_sys::window()?.location();
    Some(format!("{}{}", location.pathname().ok()?, location.search().ok()?))
}

/// A link in the table is being followed: remember where the list was.
fn remember_opened(ev: web_sys::MouseEvent) {
    use wasm_bindgen::JsCast;
    let Some(link) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).and_then(|e| e.closest("a[href]").ok().flatten()) else {
        return;
    };
    let (Some(window), Some(list), Some(href)) = (web_sys::window(), list_url(), link.get_attribute("href")) else { return };
    let wrap = link.closest(".table-wrap").ok().flatten();
    crate::contexts::page::use_page().opening(crate::contexts::page::Opened {
        list,
        href,
        window_y: window.scroll_y().unwrap_or(0.0),
        table_y: wrap.as_ref().map(|w| w.scroll_top() as f64).unwrap_or(0.0),
        table_x: wrap.as_ref().map(|w| w.scroll_left() as f64).unwrap_or(0.0),
    });
}

/// Back on a list whose row was opened: the list scrolls to where it was and the row's link has
/// the focus again.
fn restore_opened() {
    use wasm_bindgen::JsCast;
    let Some(page) = use_context::<crate::contexts::page::PageContext>() else { return };
    let Some(url) = list_url() else { return };
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let selector = |href: &str| format!("a[href=\"{}\"]", href.replace('\\', "\\\\").replace('"', "\\\""));
    let found = page.take_opened(&url);
    let Some(opened) = found else { return };
    let Some(link) = doc.query_selector(&selector(&opened.href)).ok().flatten() else {
        // Not on screen yet (the rows are still loading): keep it for the next render.
        page.opening(opened);
        return;
    };
    if let Some(wrap) = link.closest(".table-wrap").ok().flatten() {
        wrap.set_scroll_top(opened.table_y as i32);
        wrap.set_scroll_left(opened.table_x as i32);
    }
    if let Some(window) = web_sys::window() {
        window.scroll_to_with_x_and_y(0.0, opened.window_y);
    }
    if let Ok(link) = link.dyn_into::<web_sys::HtmlElement>() {
        let options = web_sys::FocusOptions::new();
        options.set_prevent_scroll(true);
        let _ = link.focus_with_options(&options);
    }
}

/// The control to give the focus back to once the list has re-rendered (a CSS selector).
#[derive(Clone, Copy)]
pub struct Refocus(StoredValue<Option<String>>);

impl Refocus {
    fn new() -> Self {
        Refocus(StoredValue::new(None))
    }

    pub fn set(&self, selector: impl Into<String>) {
        self.0.set_value(Some(selector.into()));
    }

    /// Focuses the remembered control if the focus was lost (it is on the body); a control that is
    /// now disabled ("Next" on the last page) hands the focus to the nearest one that works.
    fn apply(&self) {
        let Some(selector) = self.0.get_value() else { return };
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        let lost = doc.active_element().map(|e| e.tag_name() == "BODY").unwrap_or(true);
        if !lost {
            return;
        }
        let usable = |s: &str| {
            doc.query_selector(s)
                .ok()
                .flatten()
                .filter(|e| !e.has_attribute("disabled"))
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
        };
        let target = usable(&selector).or_else(|| {
            usable(".pager button:not([disabled])").filter(|_| selector.contains("page"))
        });
        if let Some(el) = target {
            let _ = el.focus();
            self.0.set_value(None);
        }
    }
}

/// Remembers the control to refocus after the list re-renders (no-op outside a list).
pub fn refocus_after(selector: impl Into<String>) {
    if let Some(r) = use_context::<Refocus>() {
        r.set(selector);
    }
}

type Decoder = Arc<dyn Fn(&Body) -> Result<Rows, ApiError> + Send + Sync>;

/// A list's rows: the answer on screen, read by the list's decoder (tracked).
#[derive(Clone, Copy)]
struct Rowsource {
    fetched: Resource,
    decode: StoredValue<Decoder>,
}

impl Rowsource {
    fn get(&self) -> Option<Result<Rows, ApiError>> {
        let decode = self.decode.get_value();
        self.fetched.get().map(|r| r.and_then(|b| decode(&b)))
    }

    fn track(&self) {
        self.fetched.track();
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Saved column choice: known columns only, in the list's order; None if nothing valid is saved.
pub fn parse_columns(saved: &str, known: &[&str]) -> Option<Vec<String>> {
    let wanted: Vec<String> = tenantscope_model::json::parse(saved).ok()?;
    let cols: Vec<String> = known.iter().filter(|c| wanted.iter().any(|w| w == *c)).map(|c| c.to_string()).collect();
    (!cols.is_empty()).then_some(cols)
}

#[component]
pub fn ListPage<T>(config: ListConfig<T>) -> impl IntoView
where
    T: tenantscope_model::json::FromJson + Send + Sync + 'static,
{
    let ListConfig { spec, path, columns, default_columns, picker_key, facets, fixed, search, empty } = config;
    let state = UrlState::new(spec, path, fixed);
    let meta: Vec<ColumnMeta> = columns.iter().map(|c| ColumnMeta { field: c.field, class: c.class }).collect();
    let cells: Cells<T> = Arc::new(columns.iter().map(|c| c.cell).collect());
    let (fetched, busy) = api::tracked_resource(move || state.api_query().map(|q| format!("/{}?{q}", spec.name)));
    // The only typed step: a page of `T` read into type-erased rows; everything reactive below is
    // built once for all lists.
    let decode: Decoder = Arc::new(move |b: &Body| b.decode::<Page<T>>().map(|p| erase(p, Arc::clone(&cells))));
    let rows = Rowsource { fetched, decode: StoredValue::new(decode) };
    let facets = facets.then(|| api::resource(move || Ok(state.facets_path())));
    view! {
        <ListView state=state meta=meta default_columns=default_columns picker_key=picker_key
            facets=facets search=search empty=empty rows=rows fetched=fetched busy=busy />
    }
}

#[component]
fn ListView(
    state: UrlState,
    meta: Vec<ColumnMeta>,
    default_columns: &'static [&'static str],
    picker_key: Option<&'static str>,
    facets: Option<Resource>,
    search: &'static str,
    empty: &'static str,
    rows: Rowsource,
    fetched: Resource,
    busy: Busy,
) -> impl IntoView {
    let spec = state.spec;
    let all: Vec<&'static str> = meta.iter().map(|m| m.field).collect();
    let defaults: Vec<String> =
        if default_columns.is_empty() { all.iter().map(|c| c.to_string()).collect() } else { default_columns.iter().map(|c| c.to_string()).collect() };
    let known = all.clone();
    let columns = RwSignal::new(
        picker_key
            .and_then(|k| storage().and_then(|s| s.get_item(k).ok().flatten()))
            .and_then(|saved| parse_columns(&saved, &known))
            .unwrap_or_else(|| defaults.clone()),
    );
    if let Some(key) = picker_key {
        let defaults = defaults.clone();
        crate::api::effect(move || {
            let cols = columns.get();
            if let Some(s) = storage() {
                if cols == defaults {
                    let _ = s.remove_item(key);
                } else {
                    // Column names are the model's field names (letters only): a JSON array by hand
                    // keeps serde_json's writer out of the wasm.
                    let list: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
                    let _ = s.set_item(key, &format!("[{}]", list.join(",")));
                }
            }
        });
    }
    // The filters offered as pickers (the list's declared facets); any other filter in the view is
    // shown as a removable chip.
    let offered: &'static [&'static str] = if facets.is_some() { spec.facets } else { &[] };
    // Sorting, paging or clearing re-renders the table and pager: the control used keeps the focus
    // (found again by its selector once the new rows are on screen).
    let refocus = Refocus::new();
    crate::api::effect(move || {
        rows.track();
        if let Some(f) = facets {
            f.track();
        }
        refocus.apply();
        restore_opened();
    });
    provide_context(refocus);
    // The filter picker that is open (kept open while the filter bar is drawn anew).
    let open_facet = RwSignal::new(None::<&'static str>);
    // Narrow windows fold the filters behind a button.
    let filters_open = RwSignal::new(false);
    let meta = Arc::new(meta);
    let export_href = move || state.export_href(columns.get());
    // While the server cannot be reached, an export cannot work: the link is disabled.
    let reachable = move || !matches!(fetched.get(), Some(Err(ApiError::Network(_))));
    let active = move || state.query.get().map(|q| !q.filters.is_empty() || q.q.is_some()).unwrap_or(false);
    let reset_href = state.href(&ListQuery::new(spec));
    let table_meta = Arc::clone(&meta);
    view! {
        <div class="list" data-list=spec.name>
            <div class="toolbar">
                <div class="toolbar-row">
                    <SearchBox state=state placeholder=search />
                    <div class="list-actions">
                        <button class="button ghost filters-toggle" aria-controls=format!("{}-filters", spec.name)
                            aria-expanded=move || filters_open.get().to_string() on:click=move |_| filters_open.update(|o| *o = !*o)>
                            {move || {
                                let n = state.query.get().map(|q| q.filters.len()).unwrap_or(0);
                                if n == 0 { "Filters".to_string() } else { format!("Filters ({n})") }
                            }}
                        </button>
                        {picker_key.map(|_| view! { <ColumnPicker all=all.clone() columns=columns defaults=defaults.clone() spec=spec /> })}
                        <a class="button ghost" href=move || reachable().then(export_href) class:inactive=move || !reachable()
                            aria-disabled=move || (!reachable()).to_string() download=move || state.export_name() data-testid="export">"Export CSV"</a>
                    </div>
                </div>
                <div class="filters" id=format!("{}-filters", spec.name) class:open=move || filters_open.get()>
                    {move || match facets.map(|f| f.get().map(|r| r.and_then(|b| b.decode::<Facets>()))) {
                        None => ().into_any(),
                        // While the choices load, the pickers are already in place (no jump of the table).
                        Some(None) => offered
                            .iter()
                            .filter(|field| !state.is_fixed(field))
                            .map(|field| view! { <FacetSelect state=state facet=Facet { field: field.to_string(), values: Vec::new() } open=open_facet /> })
                            .collect_view()
                            .into_any(),
                        Some(Some(Ok(f))) => f
                            .fields
                            .into_iter()
                            .filter(|facet| !state.is_fixed(&facet.field))
                            .map(|facet| view! { <FacetSelect state=state facet=facet open=open_facet /> })
                            .collect_view()
                            .into_any(),
                        Some(Some(Err(e))) => view! { <span class="muted">{format!("Filters unavailable: {e}")}</span> }.into_any(),
                    }}
                    {move || other_filters(state, offered)}
                    <button class="button ghost" data-testid="clear-all" class:inactive=move || !active()
                        aria-disabled=move || (!active()).to_string()
                        on:click=move |_| if active() {
                            refocus.set("[data-testid=clear-all]");
                            state.update(|q: &mut ListQuery| { q.filters.clear(); q.q = None; })
                        }>
                        "Clear all"
                    </button>
                </div>
            </div>
            {move || {
                let notes = state.notes.get();
                (!notes.is_empty()).then(|| {
                    let clean = state.href(&state.current());
                    view! {
                        <div class="notice" role="status" data-testid="url-notes">
                            <ul>{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                            <a href=clean>"Use this view's link"</a>
                        </div>
                    }
                })
            }}
            <div class="busy-line" class:on=move || busy.get() aria-hidden="true"></div>
            {move || match rows.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Ok(rows)) => {
                    let (total, page, size) = (rows.total, rows.page, rows.page_size);
                    view! {
                        <Table rows=rows meta=Arc::clone(&table_meta) columns=columns state=state empty=empty busy=busy />
                        <Pager state=state total=total page=page page_size=size />
                    }.into_any()
                }
                Some(Err(e)) => {
                    let reset = reset_href.clone();
                    view! {
                        <ErrorMessage title="Could not load this list" retryable=e.retryable() message=e.to_string() retry=move || fetched.refetch() />
                        <p><a href=reset>"Reset the view"</a></p>
                    }.into_any()
                }
            }}
        </div>
    }
}

/// Filters in the view that have no choice list (a time window, a threat, "still active"), as
/// removable chips: a filter from a chart or a link is always visible.
fn other_filters(state: UrlState, offered: &'static [&'static str]) -> impl IntoView {
    let spec = state.spec;
    let filters = state.query.get().map(|q| q.filters).unwrap_or_default();
    filters
        .into_iter()
        .filter(|(field, _)| !offered.contains(&field.as_str()))
        .map(|(field, value)| {
            let shown = match spec.filter(&field).map(|f| f.kind) {
                Some(FilterKind::From | FilterKind::To) => datetime(&value),
                Some(FilterKind::Range) => TimeRange::from_key(&value).map(|r| format!("last {}", r.label())).unwrap_or(value.clone()),
                Some(FilterKind::Bool) => (if value == "true" { "yes" } else { "no" }).to_string(),
                _ => value.clone(),
            };
            let text = format!("{}: {shown}", spec.label(&field));
            let (f, v) = (field.clone(), value.clone());
            view! {
                <button class="filter-chip" data-chip=field.clone() aria-label=format!("Remove filter {text}")
                    on:click=move |_| state.update(|q| q.filters.retain(|(k, x)| !(k == &f && x == &v)))>
                    {text.clone()} <span aria-hidden="true">" ×"</span>
                </button>
            }
        })
        .collect_view()
}

#[component]
fn Table(rows: Rows, meta: Arc<Vec<ColumnMeta>>, columns: RwSignal<Vec<String>>, state: UrlState, empty: &'static str, busy: Busy) -> impl IntoView {
    let spec = state.spec;
    let visible = move || -> Vec<(usize, ColumnMeta)> {
        let cols = columns.get();
        meta.iter().enumerate().filter(|(_, m)| cols.iter().any(|c| c == m.field)).map(|(i, m)| (i, m.clone())).collect()
    };
    let head = {
        let visible = visible.clone();
        move || {
            visible()
                .into_iter()
                .map(|(_, m)| {
                    if spec.sortable.contains(&m.field) {
                        view! { <SortHeader state=state field=m.field /> }.into_any()
                    } else {
                        view! { <th scope="col"><span class="th">{spec.label(m.field)}</span></th> }.into_any()
                    }
                })
                .collect_view()
        }
    };
    let is_empty = rows.len == 0;
    let body = move || {
        let vis = visible();
        let cell = Arc::clone(&rows.cell);
        rows_html((0..rows.len).map(|r| vis.iter().map(|(i, m)| (m.class, cell(r, *i))).collect()), js_sys::Date::now())
    };
    let reset = state.href(&ListQuery::new(spec));
    view! {
        <div class="table-wrap" class:busy=move || busy.get() aria-busy=move || busy.get().to_string() on:click=remember_opened>
            <table class="grid" data-testid=format!("{}-table", spec.name)>
                <thead><tr>{head}</tr></thead>
                <tbody inner_html=body></tbody>
            </table>
            {is_empty.then(|| view! {
                <div class="empty" data-testid="empty">
                    <p>{empty}</p>
                    <a href=reset>"Clear search and filters"</a>
                </div>
            })}
        </div>
    }
}

/// Show or hide columns; remembered in localStorage.
#[component]
fn ColumnPicker(all: Vec<&'static str>, columns: RwSignal<Vec<String>>, defaults: Vec<String>, spec: &'static ListSpec) -> impl IntoView {
    let first = all.first().copied().unwrap_or_default();
    let order = all.clone();
    view! {
        <details class="column-picker popover" data-testid="column-picker">
            <summary class="button ghost">"Columns"</summary>
            <div class="menu">
                {all.iter().map(|c| {
                    let c: &'static str = c;
                    let order = order.clone();
                    let checked = move || columns.get().iter().any(|x| x == c);
                    view! {
                        <label>
                            <input type="checkbox" data-column=c prop:checked=checked disabled=c == first
                                on:change=move |_| columns.update(|cols| {
                                    if cols.iter().any(|x| x == c) {
                                        cols.retain(|x| x != c);
                                    } else {
                                        cols.push(c.to_string());
                                        *cols = order.iter().filter(|k| cols.iter().any(|x| x == *k)).map(|k| k.to_string()).collect();
                                    }
                                }) />
                            {spec.label(c)}
                        </label>
                    }
                }).collect_view()}
                <button class="button ghost" data-testid="reset-columns" on:click=move |_| columns.set(defaults.clone())>"Reset"</button>
            </div>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_columns_are_validated() {
        let known = ["Name", "Model", "SKU"];
        assert_eq!(parse_columns(r#"["Model","Name","Bogus"]"#, &known), Some(vec!["Name".to_string(), "Model".to_string()]));
        assert_eq!(parse_columns(r#"["Bogus"]"#, &known), None);
        assert_eq!(parse_columns("not json", &known), None);
    }
}
