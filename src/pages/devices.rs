//! Devices: the server-paged device list. Its state (page, size, sort, search, filters) is the URL's
//! query string, which is also the API query, so a shared link opens the same rows.

use crate::api::{self, Latest};
use crate::listview::{FacetSelect, Pager, SearchBox, SortHeader, UrlState};
use crate::widgets::{ErrorPanel, Loading};
use leptos::prelude::*;
use leptos_router::components::A;
use tenantscope_model::api::{encode_component, DeviceRow, ListQuery, DEVICES};
use tenantscope_model::HealthVerdict;

/// Display name of each column (the API field names are the keys).
pub fn column_label(field: &str) -> &'static str {
    match field {
        "Name" => "Name",
        "DefenderHealth" => "Defender health",
        "ActiveThreats" => "Active threats",
        "DeviceOS" => "OS",
        "DeviceOSBuild" => "OS build",
        "Model" => "Model",
        "Manufacturer" => "Manufacturer",
        "SerialNumber" => "Serial number",
        "DomainNames" => "Domain",
        "SKU" => "SKU",
        "AADDeviceID" => "Entra device ID",
        "AADPrimaryUserID" => "Primary user ID",
        "SMSID" => "SMS ID",
        "AADTenantID" => "Tenant ID",
        "HasActiveThreats" => "Active threats",
        "CollectionId" => "Collection",
        _ => "",
    }
}

/// Columns shown until the user picks others.
pub const DEFAULT_COLUMNS: [&str; 9] =
    ["Name", "DefenderHealth", "ActiveThreats", "DeviceOS", "DeviceOSBuild", "Model", "Manufacturer", "SerialNumber", "DomainNames"];

const COLUMNS_KEY: &str = "tenantscope.devices.columns";

/// The text of one cell.
pub fn cell_text(row: &DeviceRow, field: &str) -> String {
    let d = &row.device;
    match field {
        "Name" => d.name.clone(),
        "DefenderHealth" => row.defender_health.label().to_string(),
        "ActiveThreats" => row.active_threats.to_string(),
        "DeviceOS" => d.device_os.clone(),
        "DeviceOSBuild" => d.device_os_build.clone(),
        "Model" => d.model.clone(),
        "Manufacturer" => d.manufacturer.clone(),
        "SerialNumber" => d.serial_number.clone(),
        "DomainNames" => d.domain_names.clone(),
        "SKU" => d.sku.clone(),
        "AADDeviceID" => d.aad_device_id.clone(),
        "AADPrimaryUserID" => d.aad_primary_user_id.clone().unwrap_or_default(),
        "SMSID" => d.smsid.clone(),
        "AADTenantID" => d.aad_tenant_id.clone(),
        _ => String::new(),
    }
}

/// Saved column choice: known columns only, in the list's order; None if nothing valid is saved.
pub fn parse_columns(saved: &str) -> Option<Vec<String>> {
    let wanted: Vec<String> = serde_json::from_str(saved).ok()?;
    let cols: Vec<String> =
        DEVICES.columns.iter().filter(|c| wanted.iter().any(|w| w == *c)).map(|c| c.to_string()).collect();
    (!cols.is_empty()).then_some(cols)
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn default_columns() -> Vec<String> {
    DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect()
}

pub fn verdict_class(v: HealthVerdict) -> String {
    format!("badge {}", crate::format::verdict_tone(v))
}

#[component]
pub fn Devices() -> impl IntoView {
    let state = UrlState::new(&DEVICES, "/devices");
    let latest = Latest::new();
    let response_at = StoredValue::new(0.0f64);
    let rows = LocalResource::new(move || {
        let query = state.api_query();
        let signal = latest.next();
        async move {
            let page = api::devices(&query?, signal).await;
            response_at.set_value(now_ms());
            page
        }
    });
    let facets = LocalResource::new(api::devices_facets);

    let columns = RwSignal::new(
        storage()
            .and_then(|s| s.get_item(COLUMNS_KEY).ok().flatten())
            .and_then(|saved| parse_columns(&saved))
            .unwrap_or_else(default_columns),
    );
    Effect::new(move |_| {
        let cols = columns.get();
        if let Some(s) = storage() {
            if cols == default_columns() {
                let _ = s.remove_item(COLUMNS_KEY);
            } else {
                let _ = s.set_item(COLUMNS_KEY, &serde_json::to_string(&cols).unwrap_or_default());
            }
        }
    });

    let export_href = move || state.export_href(columns.get());

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Devices"</h1>
                <div class="page-actions">
                    <ColumnPicker columns=columns />
                    <a class="button ghost" href=export_href download="devices.csv" data-testid="export">"Export CSV"</a>
                </div>
            </div>
            <div class="toolbar">
                <SearchBox state=state placeholder="Search name, serial, Entra device ID, model" />
                <Filters state=state facets=facets />
            </div>
            <Transition fallback=|| view! { <Loading /> }>
                <ErrorBoundary fallback=move |errors| view! {
                    <ErrorPanel errors=errors retry=move || rows.refetch() />
                    <p><a href="/devices">"Reset the view"</a></p>
                }>
                    {move || Suspend::new(async move {
                        rows.await.map(|page| {
                            let total = page.total;
                            let (p, size) = (page.page, page.page_size);
                            view! {
                                <Table rows=page.items columns=columns state=state response_at=response_at />
                                <Pager state=state total=total page=p page_size=size />
                            }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

#[component]
fn Table(
    rows: Vec<DeviceRow>,
    columns: RwSignal<Vec<String>>,
    state: UrlState,
    response_at: StoredValue<f64>,
) -> impl IntoView {
    let empty = rows.is_empty();
    let table_ref = NodeRef::<leptos::html::Table>::new();
    // How long after the response the new rows were on screen (read by the end-to-end test).
    request_animation_frame(move || {
        if let Some(table) = table_ref.get_untracked() {
            let _ = table.set_attribute("data-render-ms", &format!("{:.1}", now_ms() - response_at.get_value()));
        }
    });
    let head = move || {
        columns
            .get()
            .into_iter()
            .filter_map(|c| DEVICES.columns.iter().find(|k| **k == c).copied())
            .map(|c| view! { <SortHeader state=state field=c label=column_label(c) /> })
            .collect_view()
    };
    let body = move || {
        let cols = columns.get();
        rows.iter()
            .map(|row| {
                let href = format!("/devices/{}", encode_component(&row.device.aad_device_id));
                let cells = cols
                    .iter()
                    .map(|c| {
                        let text = cell_text(row, c);
                        match c.as_str() {
                            "Name" => view! { <td class="name"><A href=href.clone()>{text}</A></td> }.into_any(),
                            "DefenderHealth" => view! {
                                <td><span class=verdict_class(row.defender_health) title=row.defender_health.rule()>{text}</span></td>
                            }.into_any(),
                            "ActiveThreats" => {
                                let class = if row.active_threats > 0 { "num alert" } else { "num" };
                                view! { <td class=class>{text}</td> }.into_any()
                            }
                            _ => view! { <td>{text}</td> }.into_any(),
                        }
                    })
                    .collect_view();
                view! { <tr>{cells}</tr> }
            })
            .collect_view()
    };
    view! {
        <div class="table-wrap">
            <table class="grid" node_ref=table_ref data-testid="devices-table">
                <thead><tr>{head}</tr></thead>
                <tbody>{body}</tbody>
            </table>
            {empty.then(|| view! {
                <div class="empty" data-testid="empty">
                    <p>"No devices match this view."</p>
                    <a href="/devices">"Clear search and filters"</a>
                </div>
            })}
        </div>
    }
}

/// Filter choices come from the data: every value with its device count.
#[component]
fn Filters(state: UrlState, facets: LocalResource<Result<tenantscope_model::api::Facets, api::ApiError>>) -> impl IntoView {
    let active = move || {
        state.query.get().map(|q| !q.filters.is_empty() || q.q.is_some()).unwrap_or(false)
    };
    view! {
        <div class="filters">
            <Suspense fallback=|| view! { <span class="muted">"Loading filters…"</span> }>
                {move || Suspend::new(async move {
                    match facets.await {
                        Ok(f) => f.fields.into_iter().map(|facet| {
                            let label = column_label(&facet.field);
                            view! { <FacetSelect state=state facet=facet label=label /> }
                        }).collect_view().into_any(),
                        Err(e) => view! { <span class="muted">{format!("Filters unavailable: {e}")}</span> }.into_any(),
                    }
                })}
            </Suspense>
            {move || active().then(|| view! {
                <button class="button ghost" on:click=move |_| state.update(|q: &mut ListQuery| { q.filters.clear(); q.q = None; })>
                    "Clear all"
                </button>
            })}
        </div>
    }
}

/// Show or hide columns; remembered in localStorage.
#[component]
fn ColumnPicker(columns: RwSignal<Vec<String>>) -> impl IntoView {
    view! {
        <details class="column-picker" data-testid="column-picker">
            <summary class="button ghost">"Columns"</summary>
            <div class="menu">
                {DEVICES.columns.iter().map(|c| {
                    let c: &'static str = c;
                    let checked = move || columns.get().iter().any(|x| x == c);
                    view! {
                        <label>
                            <input type="checkbox" data-column=c prop:checked=checked disabled=c == "Name"
                                on:change=move |_| columns.update(|cols| {
                                    if cols.iter().any(|x| x == c) {
                                        cols.retain(|x| x != c);
                                    } else {
                                        cols.push(c.to_string());
                                        let order: Vec<String> = DEVICES.columns.iter().filter(|k| cols.iter().any(|x| x == *k)).map(|k| k.to_string()).collect();
                                        *cols = order;
                                    }
                                }) />
                            {column_label(c)}
                        </label>
                    }
                }).collect_view()}
                <button class="button ghost" data-testid="reset-columns" on:click=move |_| columns.set(default_columns())>"Reset"</button>
            </div>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_a_label_and_the_defaults_exist() {
        for c in DEVICES.columns {
            assert!(!column_label(c).is_empty(), "{c}");
        }
        for f in DEVICES.filters {
            assert!(!column_label(f.name).is_empty(), "{}", f.name);
        }
        for c in DEFAULT_COLUMNS {
            assert!(DEVICES.columns.contains(&c));
        }
    }

    #[test]
    fn saved_columns_are_validated() {
        assert_eq!(parse_columns(r#"["Model","Name","Bogus"]"#), Some(vec!["Name".to_string(), "Model".to_string()]));
        assert_eq!(parse_columns(r#"["Bogus"]"#), None);
        assert_eq!(parse_columns("not json"), None);
    }
}
