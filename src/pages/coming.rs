use crate::shell::section;
use leptos::prelude::*;

/// A section that is not built yet: says so, says what it will hold, and where its data already is.
pub fn coming(key: &'static str) -> impl IntoView {
    let s = section(key);
    view! {
        <section class="page">
            <h1>{s.title}</h1>
            <div class="panel coming" data-testid="coming">
                <p class="coming-badge">"Coming soon"</p>
                <p>{s.blurb}</p>
                <p class="muted">
                    "The data is already served by the API: "
                    <a href=s.api target="_blank" rel="noopener"><code>{s.api}</code></a>
                </p>
            </div>
        </section>
    }
}
