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

/// Seconds before an error that asking again can fix is retried by itself.
pub const AUTO_RETRY_SECS: u64 = 10;

/// An error as a panel. When asking again can help (`retryable`: the server was unreachable or
/// failed), it offers "Try again" and retries by itself after a few seconds; a request the server
/// refused is not repeated.
#[component]
pub fn ErrorMessage(
    title: &'static str,
    message: String,
    retry: impl Fn() + Send + Sync + 'static,
    #[prop(default = true)] retryable: bool,
) -> impl IntoView {
    let retry = std::sync::Arc::new(retry);
    if retryable {
        let again = std::sync::Arc::clone(&retry);
        if let Ok(handle) = set_timeout_with_handle(move || again(), std::time::Duration::from_secs(AUTO_RETRY_SECS)) {
            on_cleanup(move || handle.clear());
        }
    }
    view! {
        <div class="panel error" role="alert" data-testid="error">
            <h2>{title}</h2>
            <p>{message}</p>
            {retryable.then(|| view! {
                <p class="muted small">{format!("Trying again in {AUTO_RETRY_SECS} seconds.")}</p>
                <button class="button" on:click=move |_| retry()>"Try again"</button>
            })}
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
            <ErrorMessage title="Could not load this" retryable=e.retryable() message=e.to_string() retry=move || res.refetch() />
        }
        .into_any(),
    }
}
