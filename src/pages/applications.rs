//! Applications: products (MSI deployment types grouped by ProductName), paged and sorted by product
//! on the server with whole-product totals; each product unfolds into its deployment types by
//! version and language, and opens the devices it reaches. A configuration of the list page.

use crate::components::list_page::{column, link, text, Cell, ListConfig, ListPage};
use crate::format::{count, language};
use crate::routes;
use leptos::prelude::*;
use tenantscope_model::api::{ProductRow, PRODUCTS};

/// "7 deployment types", unfolding into version · language groups of ProgramIDs with their devices.
fn deployment_types(p: &ProductRow) -> Cell {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for t in &p.types {
        let title = format!("{} · {}", t.version, language(t.product_language));
        let line = format!("{} · {} targeted devices", t.program_id, count(t.device_count));
        match groups.last_mut() {
            Some((last, lines)) if *last == title => lines.push(line),
            _ => groups.push((title, vec![line])),
        }
    }
    let n = p.deployment_types;
    Cell::Fold(format!("{n} deployment type{}", if n == 1 { "" } else { "s" }), groups)
}

/// The devices the product reaches: members of any collection a deployment type is deployed to.
fn reach(p: &ProductRow) -> Cell {
    let mut collections: Vec<&str> = Vec::new();
    for c in p.types.iter().filter_map(|t| t.collection_id.as_deref()) {
        if !collections.contains(&c) {
            collections.push(c);
        }
    }
    if collections.is_empty() {
        return text("0");
    }
    let pairs: Vec<(&str, &str)> = collections.into_iter().map(|c| ("CollectionId", c)).collect();
    link(routes::devices(&pairs), count(p.product_device_count))
}

#[component]
pub fn Applications() -> impl IntoView {
    let mut config = ListConfig::new(
        &PRODUCTS,
        "/applications",
        vec![
            column("ProductName", "name", |p: &ProductRow| text(&p.product_name)),
            column("Publisher", "", |p: &ProductRow| text(&p.publisher)),
            column("PublisherGroup", "", |p: &ProductRow| text(&p.publisher_group)),
            column("Versions", "num", |p: &ProductRow| text(count(p.versions))),
            column("Languages", "num", |p: &ProductRow| text(count(p.languages))),
            column("DeploymentTypes", "fold-cell", deployment_types),
            column("ProductDeviceCount", "num", reach),
        ],
    );
    config.default_columns = &["ProductName", "Publisher", "Versions", "DeploymentTypes", "ProductDeviceCount"];
    config.picker_key = Some("tenantscope.products.columns");
    config.search = "Search product, publisher, ProgramID";
    config.empty = "No products match.";
    view! {
        <section class="page">
            <div class="page-head"><h1>"Applications"</h1></div>
            <p class="muted small" data-testid="reach-note">
                "One row per product. “Devices reached” counts distinct devices in any collection one of its \
                 deployment types is deployed to; each deployment type lists the devices of its own collection (targeted \
                 devices), so a device in several of them counts once for the product. Select the number for those devices."
            </p>
            <ListPage config=config />
        </section>
    }
}
