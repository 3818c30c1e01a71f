use crate::charts::Tone;
use leptos::prelude::*;

/// One key figure. `kpi` names it for tests; `href` opens the list it counts.
#[component]
pub fn Kpi(
    kpi: &'static str,
    label: &'static str,
    value: String,
    #[prop(optional, into)] note: Option<String>,
    #[prop(optional)] tone: Option<Tone>,
    #[prop(optional)] href: Option<String>,
    #[prop(optional)] title: &'static str,
) -> impl IntoView {
    use super::html::escape;
    let class = format!("kpi {}", tone.map(Tone::css_name).unwrap_or(""));
    let note = note.map(|n| format!("<div class=\"kpi-note\">{}</div>", escape(&n))).unwrap_or_default();
    let body = format!(
        "<div class=\"kpi-label\">{}</div><div class=\"kpi-value\" data-kpi=\"{kpi}\">{}</div>{note}",
        escape(label),
        escape(&value)
    );
    // Static: one HTML string (a tile per grid cell; the wrapper does not take part in the layout).
    let html = match href {
        Some(href) => format!("<a class=\"{class}\" href=\"{}\" title=\"{}\">{body}</a>", escape(&href), escape(title)),
        None => format!("<div class=\"{class}\" title=\"{}\">{body}</div>", escape(title)),
    };
    view! { <div class="html-block" inner_html=html></div> }
}
