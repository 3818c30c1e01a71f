use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

#[component]
pub fn NotFound() -> impl IntoView {
    let path = use_location().pathname;
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <div class="panel">
                <p>"There is no page at " <code>{move || path.get()}</code> "."</p>
                <p><A href="/">"Go to the Overview"</A></p>
            </div>
        </section>
    }
}
