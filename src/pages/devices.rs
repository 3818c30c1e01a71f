//! Devices: the whole estate as a configuration of the list page. The view (page, size, sort,
//! search, filters) is the URL's query string, which is also the API query.

use crate::components::list_page::{chip, column, link, text, Cell, Column, ListConfig, ListPage};
use crate::format::{agent_tone, verdict_tone};
use crate::routes;
use leptos::prelude::*;
use tenantscope_model::api::{DeviceRow, DEVICES};

/// Columns shown until the user picks others.
pub const DEFAULT_COLUMNS: [&str; 10] = [
    "Name", "DefenderHealth", "AgentState", "ActiveThreats", "DeviceOS", "DeviceOSBuild", "Model", "Manufacturer",
    "SerialNumber", "DomainNames",
];

/// Every devices column: the list's field and how a row shows in it.
pub fn device_columns() -> Vec<Column<DeviceRow>> {
    vec![
        column("Name", "name", |r: &DeviceRow| {
            link(routes::device(&r.device.aad_device_id), &r.device.name)
        }),
        column("DefenderHealth", "", |r: &DeviceRow| {
            let v = r.defender_health;
            Cell::Chip(verdict_tone(v), v.label().into(), v.rule().into())
        }),
        column("AgentState", "", |r: &DeviceRow| chip(agent_tone(r.agent_state), r.agent_state.label())),
        column("ActiveThreats", "num", |r: &DeviceRow| Cell::Alert(r.active_threats.to_string(), r.active_threats > 0)),
        column("DeviceOS", "", |r: &DeviceRow| text(&r.device.device_os)),
        column("DeviceOSBuild", "", |r: &DeviceRow| text(&r.device.device_os_build)),
        column("Model", "", |r: &DeviceRow| text(&r.device.model)),
        column("Manufacturer", "", |r: &DeviceRow| text(&r.device.manufacturer)),
        column("SerialNumber", "mono", |r: &DeviceRow| text(&r.device.serial_number)),
        column("DomainNames", "", |r: &DeviceRow| text(&r.device.domain_names)),
        column("SKU", "", |r: &DeviceRow| text(&r.device.sku)),
        column("AADDeviceID", "mono", |r: &DeviceRow| text(&r.device.aad_device_id)),
        column("AADPrimaryUserID", "mono", |r: &DeviceRow| text(r.device.aad_primary_user_id.clone().unwrap_or_default())),
        column("SMSID", "mono", |r: &DeviceRow| text(&r.device.smsid)),
        column("AADTenantID", "mono", |r: &DeviceRow| text(&r.device.aad_tenant_id)),
    ]
}

/// A devices list at `path` (the Devices page, or a collection's members with `fixed` filters).
pub fn devices_list(path: String, fixed: Vec<(String, String)>) -> ListConfig<DeviceRow> {
    let mut config = ListConfig::new(&DEVICES, path, device_columns());
    config.default_columns = &DEFAULT_COLUMNS;
    config.picker_key = Some("tenantscope.devices.columns");
    config.fixed = fixed;
    config.search = "Search name, serial, Entra device ID, model";
    config.empty = "No devices match this view.";
    config
}

#[component]
pub fn Devices() -> impl IntoView {
    view! {
        <section class="page">
            <div class="page-head"><h1>"Devices"</h1></div>
            <ListPage config=devices_list("/devices".into(), Vec::new()) />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_column_is_configured_and_the_defaults_exist() {
        let cols: Vec<&str> = device_columns().iter().map(|c| c.field).collect();
        assert_eq!(cols, DEVICES.columns);
        for c in DEFAULT_COLUMNS {
            assert!(DEVICES.columns.contains(&c));
        }
    }
}
