//! Loading and error states every page uses.

use leptos::prelude::*;

#[component]
pub fn Loading(#[prop(optional)] what: &'static str) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            {if what.is_empty() { "Loading…".to_string() } else { format!("Loading {what}…") }}
        </div>
    }
}

/// Shows what went wrong and offers to try again.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>, retry: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="panel error" role="alert" data-testid="error">
            <h2>"Could not load this"</h2>
            <ul>
                {move || errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()}
            </ul>
            <button class="button" on:click=move |_| retry()>"Try again"</button>
        </div>
    }
}

/// An error as a panel with a retry, for pages that match on their result.
#[component]
pub fn ErrorMessage(
    title: &'static str,
    message: String,
    retry: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="panel error" role="alert" data-testid="error">
            <h2>{title}</h2>
            <p>{message}</p>
            <button class="button" on:click=move |_| retry()>"Try again"</button>
        </div>
    }
}
