use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn NotFound() -> impl IntoView {
    let path = use_location().pathname;
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <div class="panel">
                <p>"There is no page at " <code>{move || path.get()}</code> "."</p>
                <p><a href="/">"Go to the Overview"</a></p>
            </div>
        </section>
    }
}
