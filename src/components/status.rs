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

/// What a resource holds, shown without suspense machinery: a loading line until the first answer,
/// then its value, or an error panel with a retry. While a refresh loads, the resource keeps (and
/// this shows) the previous value.
pub fn loaded<T, V>(res: crate::api::Resource, what: &'static str, show: impl Fn(T) -> V + Send + Sync + 'static) -> impl IntoView
where
    T: tenantscope_model::json::FromJson + 'static,
    V: IntoView + 'static,
{
    move || match res.get().map(|r| r.and_then(|b| b.decode::<T>())) {
        None => view! { <Loading what=what /> }.into_any(),
        Some(Ok(value)) => show(value).into_any(),
        Some(Err(e)) => view! {
            <ErrorMessage title="Could not load this" message=e.to_string() retry=move || res.refetch() />
        }
        .into_any(),
    }
}
