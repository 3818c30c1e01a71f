//! The palette: one definition (`charts::Palette`) feeds the CSS custom properties (`--tone-*`,
//! written into a `<style>` element) and every chart. A theme is a palette swap.

use crate::charts::Palette;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Theme(pub RwSignal<Palette>);

pub fn provide_theme() {
    let palette = RwSignal::new(Palette::light());
    provide_context(Theme(palette));
    crate::api::effect(move || {
        let css = palette.with(Palette::css_vars);
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
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

pub fn use_palette() -> RwSignal<Palette> {
    expect_context::<Theme>().0
}
