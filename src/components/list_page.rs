//! The list page every list is a configuration of: columns (wire name, renderer; the label comes
//! from the model's field metadata), filters with choices from the data, search, server paging and
//! sort, the view in the URL, a column picker, CSV export of exactly the view, "Clear all", loading
//! and error states. The typed part (fetching `Page<T>`, rendering a cell of a `T`) is kept thin; the
//! table itself is not generic.

use super::list_parts::{FacetSelect, Pager, SearchBox, SortHeader, UrlState};
use super::status::{ErrorMessage, Loading};
use crate::api::{self, ApiError, Latest};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use tenantscope_model::api::{Facets, ListQuery, ListSpec, Page};

/// One column: the list field it shows, a CSS class for its cells, and how a row renders in it.
pub struct Column<T> {
    pub field: &'static str,
    pub class: &'static str,
    pub cell: fn(&T) -> AnyView,
}

pub const fn column<T>(field: &'static str, class: &'static str, cell: fn(&T) -> AnyView) -> Column<T> {
    Column { field, class, cell }
}

/// A text cell (rendered as text: data is untrusted).
pub fn text(s: impl Into<String>) -> AnyView {
    let s: String = s.into();
    view! { <span>{s}</span> }.into_any()
}

/// A link cell (the router handles the click; the text is rendered as text).
pub fn link(href: String, label: impl Into<String>) -> AnyView {
    let label: String = label.into();
    view! { <a href=href>{label}</a> }.into_any()
}

/// Rows grouped under a header (consecutive rows with the same key).
pub struct Group<T> {
    pub key: fn(&T) -> String,
    pub header: fn(&[T]) -> AnyView,
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
    pub group: Option<Group<T>>,
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
            group: None,
        }
    }
}

type Cell = Arc<dyn Fn(usize, usize) -> AnyView + Send + Sync>;

/// One page of rows with the types erased: cell (row, column index) renders on demand.
#[derive(Clone)]
pub struct Rows {
    pub len: usize,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
    cell: Cell,
    /// (first row, rows) of each group, with its header.
    groups: Vec<(usize, usize)>,
    header: Option<Cell>,
}

fn erase<T: Send + Sync + 'static>(page: Page<T>, cells: Arc<Vec<fn(&T) -> AnyView>>, group: Option<(fn(&T) -> String, fn(&[T]) -> AnyView)>) -> Rows {
    let items = Arc::new(page.items);
    let mut groups = Vec::new();
    if let Some((key, _)) = group {
        let mut start = 0;
        for i in 1..=items.len() {
            if i == items.len() || key(&items[i]) != key(&items[start]) {
                groups.push((start, i - start));
                start = i;
            }
        }
    }
    let header: Option<Cell> = group.map(|(_, header)| {
        let items = Arc::clone(&items);
        Arc::new(move |start: usize, len: usize| header(&items[start..start + len])) as Cell
    });
    let len = items.len();
    let cell: Cell = Arc::new(move |row, col| (cells[col])(&items[row]));
    Rows { len, total: page.total, page: page.page, page_size: page.page_size, cell, groups, header }
}

/// Column metadata without the row type.
#[derive(Clone)]
struct ColumnMeta {
    field: &'static str,
    class: &'static str,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Saved column choice: known columns only, in the list's order; None if nothing valid is saved.
pub fn parse_columns(saved: &str, known: &[&str]) -> Option<Vec<String>> {
    let wanted: Vec<String> = serde_json::from_str(saved).ok()?;
    let cols: Vec<String> = known.iter().filter(|c| wanted.iter().any(|w| w == *c)).map(|c| c.to_string()).collect();
    (!cols.is_empty()).then_some(cols)
}

#[component]
pub fn ListPage<T>(config: ListConfig<T>) -> impl IntoView
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    let ListConfig { spec, path, columns, default_columns, picker_key, facets, fixed, search, empty, group } = config;
    let state = UrlState::new(spec, path, fixed);
    let meta: Vec<ColumnMeta> = columns.iter().map(|c| ColumnMeta { field: c.field, class: c.class }).collect();
    let cells: Arc<Vec<fn(&T) -> AnyView>> = Arc::new(columns.iter().map(|c| c.cell).collect());
    let group = group.map(|g| (g.key, g.header));
    let latest = Latest::new();
    let rows = LocalResource::new(move || {
        let query = state.api_query();
        let signal = latest.next();
        let cells = Arc::clone(&cells);
        async move {
            let page: Page<T> = api::fetch_json(&format!("/{}?{}", spec.name, query?), signal.as_ref()).await?;
            Ok::<Rows, ApiError>(erase(page, cells, group))
        }
    });
    let facets = LocalResource::new(move || async move {
        if facets {
            api::get_json::<Facets>(&format!("/{}/facets", spec.name)).await.map(Some)
        } else {
            Ok(None)
        }
    });
    view! {
        <ListView state=state meta=meta default_columns=default_columns picker_key=picker_key
            facets=facets search=search empty=empty rows=rows />
    }
}

#[component]
fn ListView(
    state: UrlState,
    meta: Vec<ColumnMeta>,
    default_columns: &'static [&'static str],
    picker_key: Option<&'static str>,
    facets: LocalResource<Result<Option<Facets>, ApiError>>,
    search: &'static str,
    empty: &'static str,
    rows: LocalResource<Result<Rows, ApiError>>,
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
        Effect::new(move |_| {
            let cols = columns.get();
            if let Some(s) = storage() {
                if cols == defaults {
                    let _ = s.remove_item(key);
                } else {
                    let _ = s.set_item(key, &serde_json::to_string(&cols).unwrap_or_default());
                }
            }
        });
    }
    let meta = Arc::new(meta);
    let export_href = move || state.export_href(columns.get());
    let active = move || state.query.get().map(|q| !q.filters.is_empty() || q.q.is_some()).unwrap_or(false);
    let reset_href = state.href(&ListQuery::new(spec));
    let table_meta = Arc::clone(&meta);
    view! {
        <div class="list" data-list=spec.name>
            <div class="toolbar">
                <div class="toolbar-row">
                    <SearchBox state=state placeholder=search />
                    <div class="list-actions">
                        {picker_key.map(|_| view! { <ColumnPicker all=all.clone() columns=columns defaults=defaults.clone() spec=spec /> })}
                        <a class="button ghost" href=export_href download=format!("{}.csv", spec.name) data-testid="export">"Export CSV"</a>
                    </div>
                </div>
                <div class="filters">
                    {move || match facets.get() {
                        None => view! { <span class="muted">"Loading filters…"</span> }.into_any(),
                        Some(Ok(Some(f))) => f.fields.into_iter().map(|facet| view! { <FacetSelect state=state facet=facet /> }).collect_view().into_any(),
                        Some(Ok(None)) => ().into_any(),
                        Some(Err(e)) => view! { <span class="muted">{format!("Filters unavailable: {e}")}</span> }.into_any(),
                    }}
                    {move || active().then(|| view! {
                        <button class="button ghost" data-testid="clear-all" on:click=move |_| state.update(|q: &mut ListQuery| { q.filters.clear(); q.q = None; })>
                            "Clear all"
                        </button>
                    })}
                </div>
            </div>
            {move || match rows.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Ok(rows)) => {
                    let (total, page, size) = (rows.total, rows.page, rows.page_size);
                    view! {
                        <Table rows=rows meta=Arc::clone(&table_meta) columns=columns state=state empty=empty />
                        <Pager state=state total=total page=page page_size=size />
                    }.into_any()
                }
                Some(Err(e)) => {
                    let reset = reset_href.clone();
                    view! {
                        <ErrorMessage title="Could not load this list" message=e.to_string() retry=move || rows.refetch() />
                        <p><a href=reset>"Reset the view"</a></p>
                    }.into_any()
                }
            }}
        </div>
    }
}

#[component]
fn Table(rows: Rows, meta: Arc<Vec<ColumnMeta>>, columns: RwSignal<Vec<String>>, state: UrlState, empty: &'static str) -> impl IntoView {
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
        let row_view = |r: usize| {
            let cells = vis
                .iter()
                .map(|(i, m)| view! { <td class=m.class>{(rows.cell)(r, *i)}</td> })
                .collect_view();
            view! { <tr>{cells}</tr> }
        };
        match &rows.header {
            Some(header) => rows
                .groups
                .iter()
                .map(|(start, len)| {
                    let span = vis.len().to_string();
                    view! {
                        <tr class="group"><td colspan=span>{header(*start, *len)}</td></tr>
                        {(*start..start + len).map(row_view).collect_view()}
                    }
                })
                .collect_view()
                .into_any(),
            None => (0..rows.len).map(row_view).collect_view().into_any(),
        }
    };
    let reset = state.href(&ListQuery::new(spec));
    view! {
        <div class="table-wrap">
            <table class="grid" data-testid=format!("{}-table", spec.name)>
                <thead><tr>{head}</tr></thead>
                <tbody>{body}</tbody>
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
        <details class="column-picker" data-testid="column-picker">
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
