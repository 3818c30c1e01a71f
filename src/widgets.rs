//! Small views every page uses: the loading line and the error panel with a retry button.

use leptos::prelude::*;

#[component]
pub fn Loading() -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            "Loading…"
        </div>
    }
}

/// Shows what went wrong and offers to try again.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>, retry: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="panel error" role="alert" data-testid="error">
            <h2>"Could not load this page"</h2>
            <ul>
                {move || errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()}
            </ul>
            <button class="button" on:click=move |_| retry()>"Try again"</button>
        </div>
    }
}
