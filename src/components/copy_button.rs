use leptos::prelude::*;
use std::time::Duration;

/// Copies `text` to the clipboard and says so for a moment.
#[component]
pub fn CopyButton(text: String, #[prop(optional)] what: &'static str) -> impl IntoView {
    let what = if what.is_empty() { "value" } else { what };
    let copied = RwSignal::new(false);
    view! {
        <button class="copy" title=format!("Copy {what}") aria-label=format!("Copy {what}") on:click=move |_| {
            if let Some(w) = web_sys::window() {
                let _ = w.navigator().clipboard().write_text(&text);
                copied.set(true);
                set_timeout(move || copied.set(false), Duration::from_millis(1500));
            }
        }>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}
