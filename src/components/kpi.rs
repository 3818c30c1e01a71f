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
    let body = view! {
        <div class="kpi-label">{label}</div>
        <div class="kpi-value" data-kpi=kpi>{value}</div>
        {note.map(|n| view! { <div class="kpi-note">{n}</div> })}
    };
    let class = format!("kpi {}", tone.map(Tone::css_name).unwrap_or(""));
    match href {
        Some(href) => view! { <a class=class href=href title=title>{body}</a> }.into_any(),
        None => view! { <div class=class title=title>{body}</div> }.into_any(),
    }
}
