//! Applications: MSI deployment types grouped by product, a configuration of the list page.

use crate::components::list_page::{column, text, Group, ListConfig, ListPage};
use crate::format::{count, language};
use leptos::prelude::*;
use tenantscope_model::api::{ApplicationRow, APPLICATIONS};

fn header(rows: &[ApplicationRow]) -> (String, String) {
    let first = &rows[0];
    let mut versions: Vec<&str> = rows.iter().map(|r| r.application.version.as_str()).collect();
    versions.dedup();
    let n = rows.len();
    (
        first.application.product_name.clone(),
        format!(
            " · {} · {} deployment type{} · {} version{} · reaches {} devices",
            first.application.publisher,
            n,
            if n == 1 { "" } else { "s" },
            versions.len(),
            if versions.len() == 1 { "" } else { "s" },
            count(first.product_device_count)
        ),
    )
}

#[component]
pub fn Applications() -> impl IntoView {
    let mut config = ListConfig::new(
        &APPLICATIONS,
        "/applications",
        vec![
            column("ProductName", "indent", |r: &ApplicationRow| text(&r.application.product_name)),
            column("Version", "", |r: &ApplicationRow| text(&r.application.version)),
            column("ProductLanguage", "", |r: &ApplicationRow| text(language(r.application.product_language))),
            column("Publisher", "", |r: &ApplicationRow| text(&r.application.publisher)),
            column("DeviceCount", "num", |r: &ApplicationRow| text(count(r.device_count))),
            column("ProgramID", "mono", |r: &ApplicationRow| text(&r.application.program_id)),
            column("ProductDeviceCount", "num", |r: &ApplicationRow| text(count(r.product_device_count))),
        ],
    );
    config.default_columns = &["ProductName", "Version", "ProductLanguage", "Publisher", "DeviceCount", "ProgramID"];
    config.picker_key = Some("tenantscope.applications.columns");
    config.search = "Search product, publisher, ProgramID";
    config.empty = "No deployment types match.";
    config.group = Some(Group { key: |r: &ApplicationRow| r.application.product_name.clone(), header });
    view! {
        <section class="page">
            <div class="page-head"><h1>"Applications"</h1></div>
            <ListPage config=config />
        </section>
    }
}
