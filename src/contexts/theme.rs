//! The palette: one definition (`charts::Palette`) feeds the CSS custom properties (`--tone-*`,
//! written into a `<style>` element) and every chart. A theme is a palette swap: light, dark or high
//! contrast, from the address (`theme=`, for a kiosk), else the viewer's choice (localStorage), else
//! the system's preference.

use crate::charts::Palette;
use leptos::prelude::*;

const THEME_KEY: &str = "tenantscope.theme";

#[derive(Clone, Copy)]
pub struct Theme {
    pub palette: RwSignal<Palette>,
    /// The theme's key (`Palette::THEMES`).
    pub key: RwSignal<&'static str>,
}

fn known(key: &str) -> Option<&'static str> {
    Palette::THEMES.iter().map(|(k, _)| *k).find(|k| *k == key)
}

/// The theme to start with.
fn initial() -> &'static str {
    let Some(window) = web_sys::window() else { return "light" };
    let asked = window.location().search().ok().and_then(|s| {
        tenantscope_model::api::decode_query(s.trim_start_matches('?')).into_iter().find(|(k, _)| k == "theme").map(|(_, v)| v)
    });
    let saved = || window.local_storage().ok().flatten().and_then(|s| s.get_item(THEME_KEY).ok().flatten());
    let system = || {
        let matches = |q: &str| window.match_media(q).ok().flatten().is_some_and(|m| m.matches());
        if matches("(prefers-contrast: more)") {
            "contrast"
        } else if matches("(prefers-color-scheme: dark)") {
            "dark"
        } else {
            "light"
        }
    };
    asked.as_deref().and_then(known).or_else(|| saved().as_deref().and_then(known)).unwrap_or_else(system)
}

pub fn provide_theme() {
    let start = initial();
    let theme = Theme { palette: RwSignal::new(Palette::named(start)), key: RwSignal::new(start) };
    provide_context(theme);
    crate::api::effect(move || {
        let css = theme.palette.with(Palette::css_vars);
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        if let Some(root) = doc.document_element() {
            let _ = root.set_attribute("data-theme", theme.key.get());
        }
        let el = match doc.get_element_by_id("palette") {
            Some(el) => el,
            None => {
                let Ok(el) = doc.create_element("style") else { return };
                el.set_id("palette");
                if let Some(head) = doc.head() {
                    let _ = head.append_child(&el);
                }
                el
            }
        };
        el.set_text_content(Some(&css));
    });
}

impl Theme {
    /// Switches the theme (charts redraw in it) and remembers the choice in this browser.
    pub fn set(&self, key: &str) {
        let Some(key) = known(key) else { return };
        if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = s.set_item(THEME_KEY, key);
        }
        self.key.set(key);
        self.palette.set(Palette::named(key));
    }
}

pub fn use_theme() -> Theme {
    expect_context::<Theme>()
}

pub fn use_palette() -> RwSignal<Palette> {
    use_theme().palette
}
