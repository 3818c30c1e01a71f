//! Data & privacy: every field the site uploads, per entity, with its data class, what privacy mode
//! does with it and where the console shows it. Generated from the model (`Entity::fields`,
//! `privacy::MASKED`, the lists' columns), never written by hand.

use crate::components::html::escape;
use leptos::prelude::*;
use tenantscope_model::api::LISTS;
use tenantscope_model::privacy::{masks, shown_because, MASKED};
use tenantscope_model::{DataClass, Entity};

/// The entity's name, and the pages that show its fields besides its lists.
fn about(entity: Entity) -> (&'static str, &'static [&'static str]) {
    match entity {
        Entity::Device => ("Device", &["Device page"]),
        Entity::Application => ("Application (MSI deployment type)", &["Applications"]),
        Entity::DefenderCollection => ("Defender policy collection", &["Collection page"]),
        Entity::DefenderHealth => ("Defender health", &["Device page"]),
        Entity::ThreatDetection => ("Threat detection", &["Threat page"]),
        Entity::ConnectorFacts => ("Service connection point", &["Connector"]),
        Entity::TelemetryEvent => ("Connector telemetry", &["Connector"]),
    }
}

/// The page's tables as HTML, one per entity.
pub fn data_privacy_html() -> String {
    let mut out = String::new();
    for entity in Entity::ALL {
        let (name, pages) = about(entity);
        out.push_str(&format!(
            "<div class=\"panel\"><h2>{0}</h2><div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"{0}: fields\"><table class=\"grid fields\"><thead><tr><th>Field</th><th>Label</th><th>Data class</th><th>Privacy mode</th><th>Shown on</th></tr></thead><tbody>",
            escape(name)
        ));
        for f in entity.fields() {
            let class = match f.class {
                DataClass::Identified => "Identified",
                DataClass::Pseudonymized => "Pseudonymized",
                DataClass::Aggregated => "Aggregated",
            };
            let privacy = match MASKED.iter().find(|m| m.field == f.name).filter(|_| masks(entity, f.name)) {
                Some(m) => format!("<span class=\"badge tone-accent\">Alias</span> {}", escape(&m.kind.alias(42))),
                None => escape(shown_because(entity, f.name).unwrap_or("")),
            };
            let mut shown: Vec<String> = LISTS
                .iter()
                .filter(|l| l.entity == entity && l.columns.contains(&f.name))
                .map(|l| format!("{} list", l.name))
                .collect();
            shown.extend(pages.iter().map(|p| p.to_string()));
            out.push_str(&format!(
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{class}</td><td>{privacy}</td><td>{}</td></tr>",
                escape(f.name),
                escape(f.label),
                escape(&shown.join(", "))
            ));
        }
        out.push_str("</tbody></table></div></div>");
    }
    out
}

#[component]
pub fn DataPrivacy() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Data & privacy"</h1>
            <p class="as-of">
                "Every field the site uploads, its data class from the product's privacy statement, and what privacy mode does with it. "
                "In privacy mode (the header's switch, and always on a kiosk) the server itself answers an alias for every masked value, "
                "the same alias in every view; the other values name products or threats, or identify no person."
            </p>
            <div inner_html=data_privacy_html()></div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_every_entity_is_listed_with_its_class_and_privacy() {
        let html = data_privacy_html();
        for entity in Entity::ALL {
            for f in entity.fields() {
                assert!(html.contains(&format!("<td class=\"mono\">{}</td>", f.name)), "{}", f.name);
            }
        }
        assert_eq!(html.matches("<tr><td").count(), Entity::ALL.iter().map(|e| e.fields().len()).sum::<usize>());
        // A device's name is masked, its model is not; a telemetry item's name is shown.
        assert!(html.contains("<td class=\"mono\">Name</td><td>Name</td><td>Identified</td><td><span class=\"badge tone-accent\">Alias</span> Device 0042</td><td>devices list, Device page</td>"), "{html}");
        assert!(html.contains("<td class=\"mono\">Model</td><td>Model</td><td>Identified</td><td>names a product or a threat"));
        assert!(html.contains("<td class=\"mono\">Name</td><td>Name</td><td>Pseudonymized</td><td>pseudonymized"));
    }
}
