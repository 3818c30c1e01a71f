//! Applications: MSI deployment types, grouped by product, with versions, languages and reach.

use crate::api::{self, Latest};
use crate::format::{count, language};
use crate::listview::{FacetSelect, Pager, SearchBox, SortHeader, UrlState};
use crate::widgets::{ErrorPanel, Loading};
use leptos::prelude::*;
use tenantscope_model::api::{ApplicationRow, APPLICATIONS};

pub fn column_label(field: &str) -> &'static str {
    match field {
        "ProductName" => "Product",
        "Publisher" => "Publisher",
        "Version" => "Version",
        "ProductLanguage" => "Language",
        "ProgramID" => "Deployment type (ProgramID)",
        "DeviceCount" => "Targeted devices",
        "ProductDeviceCount" => "Product devices",
        _ => "",
    }
}

/// Consecutive rows of the same product, for group headers.
pub fn group_by_product(rows: Vec<ApplicationRow>) -> Vec<(String, Vec<ApplicationRow>)> {
    let mut groups: Vec<(String, Vec<ApplicationRow>)> = Vec::new();
    for row in rows {
        match groups.last_mut() {
            Some((name, list)) if *name == row.application.product_name => list.push(row),
            _ => groups.push((row.application.product_name.clone(), vec![row])),
        }
    }
    groups
}

#[component]
pub fn Applications() -> impl IntoView {
    let state = UrlState::new(&APPLICATIONS, "/applications");
    let latest = Latest::new();
    let rows = LocalResource::new(move || {
        let query = state.api_query();
        let signal = latest.next();
        async move { api::applications(&query?, signal).await }
    });
    let facets = LocalResource::new(api::applications_facets);
    let export_href = move || state.export_href(Vec::new());
    let headers = ["ProductName", "Version", "ProductLanguage", "Publisher", "DeviceCount", "ProgramID"];
    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Applications"</h1>
                <div class="page-actions">
                    <a class="button ghost" href=export_href download="applications.csv" data-testid="export">"Export CSV"</a>
                </div>
            </div>
            <div class="toolbar">
                <SearchBox state=state placeholder="Search product, publisher, ProgramID" />
                <div class="filters">
                    <Suspense fallback=|| view! { <span class="muted">"Loading filters…"</span> }>
                        {move || Suspend::new(async move {
                            facets.await.map(|f| f.fields.into_iter().map(|facet| {
                                let label = column_label(&facet.field);
                                view! { <FacetSelect state=state facet=facet label=label /> }
                            }).collect_view())
                        })}
                    </Suspense>
                </div>
            </div>
            <Transition fallback=|| view! { <Loading /> }>
                <ErrorBoundary fallback=move |errors| view! { <ErrorPanel errors=errors retry=move || rows.refetch() /> }>
                    {move || Suspend::new(async move {
                        rows.await.map(|page| {
                            let (total, p, size) = (page.total, page.page, page.page_size);
                            let empty = page.items.is_empty();
                            let groups = group_by_product(page.items);
                            view! {
                                <div class="table-wrap">
                                    <table class="grid" data-testid="applications-table">
                                        <thead><tr>
                                            {headers.iter().map(|f| view! { <SortHeader state=state field=f label=column_label(f) /> }).collect_view()}
                                        </tr></thead>
                                        <tbody>
                                            {groups.into_iter().map(|(product, rows)| {
                                                let first = rows[0].clone();
                                                let versions = {
                                                    let mut v: Vec<&str> = rows.iter().map(|r| r.application.version.as_str()).collect();
                                                    v.dedup();
                                                    v.len()
                                                };
                                                view! {
                                                    <tr class="group">
                                                        <td colspan="6">
                                                            <strong>{product}</strong>
                                                            <span class="muted">{format!(
                                                                " · {} · {} deployment type{} · {} version{} · reaches {} devices",
                                                                first.application.publisher,
                                                                rows.len(), if rows.len() == 1 { "" } else { "s" },
                                                                versions, if versions == 1 { "" } else { "s" },
                                                                count(first.product_device_count)
                                                            )}</span>
                                                        </td>
                                                    </tr>
                                                    {rows.into_iter().map(|r| view! {
                                                        <tr>
                                                            <td class="indent">{r.application.product_name}</td>
                                                            <td>{r.application.version}</td>
                                                            <td>{language(r.application.product_language)}</td>
                                                            <td>{r.application.publisher}</td>
                                                            <td class="num">{count(r.device_count)}</td>
                                                            <td class="mono">{r.application.program_id}</td>
                                                        </tr>
                                                    }).collect_view()}
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    {empty.then(|| view! {
                                        <div class="empty"><p>"No deployment types match."</p><a href="/applications">"Clear search and filters"</a></div>
                                    })}
                                </div>
                                <Pager state=state total=total page=p page_size=size />
                            }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}
