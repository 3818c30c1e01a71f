//! The viewer's settings, kept in localStorage: times in UTC or in local time.

use leptos::prelude::*;

const TIME_KEY: &str = "tenantscope.time";

#[derive(Clone, Copy)]
pub struct Settings {
    /// Show times in the viewer's local time zone (else UTC).
    pub local_time: RwSignal<bool>,
}

pub fn provide_settings() {
    let saved = storage().and_then(|s| s.get_item(TIME_KEY).ok().flatten()).as_deref() == Some("local");
    crate::format::set_local_time(saved);
    let local_time = RwSignal::new(saved);
    crate::api::effect(move || {
        let local = local_time.get();
        if let Some(s) = storage() {
            let _ = if local { s.set_item(TIME_KEY, "local") } else { s.remove_item(TIME_KEY) };
        }
    });
    provide_context(Settings { local_time });
}

impl Settings {
    /// Switches between UTC and local time; pages re-render with the new setting.
    pub fn set_local_time(&self, local: bool) {
        crate::format::set_local_time(local);
        self.local_time.set(local);
    }
}

pub fn use_settings() -> Settings {
    expect_context::<Settings>()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}
