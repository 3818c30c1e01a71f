//! Runs in headless Chromium: `cargo test --target wasm32-unknown-unknown --test wasm`.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use tenantscope::format;
use tenantscope::components::kpi::kpi_html;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn formatting_works_in_the_browser() {
    assert_eq!(format::count(1_234_567), "1,234,567");
    assert_eq!(format::percent(67.35), "67.4%");
    let now = js_sys::Date::now();
    let earlier = tenantscope_model::time::format_rfc3339((now / 1000.0) as i64 - 300);
    assert_eq!(format::ago(&earlier, now).as_deref(), Some("5 minutes ago"));
}

#[wasm_bindgen_test]
fn kpi_renders_data_as_text_not_markup() {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone().unchecked_into(), || {
        let mut tiles = String::new();
        kpi_html(&mut tiles, "test", "Devices", "<img src=x onerror=alert(1)>", "<b>note</b>", None, Some("/devices?a=\"x"), "");
        view! { <div inner_html=tiles></div> }
    });
    let value = host.query_selector("[data-kpi=test]").unwrap().expect("kpi value element");
    assert_eq!(value.text_content().unwrap(), "<img src=x onerror=alert(1)>");
    assert!(host.query_selector("img").unwrap().is_none(), "data must never become markup");
    drop(handle);
}

#[wasm_bindgen_test]
fn charts_draw_in_the_browser() {
    use tenantscope::charts::{donut, Palette, Size, Slice, Tone};
    // plotters measures text through the page on wasm32: the donut must still draw here.
    let slices = [
        Slice { key: "healthy".into(), label: "Healthy".into(), value: 90, tone: Tone::Good },
        Slice { key: "rtp_off".into(), label: "<b>Real-time protection off</b>".into(), value: 10, tone: Tone::Bad },
    ];
    let chart = donut("Devices by antivirus state", "devices", &slices, Size { width: 480, height: 240 }, &Palette::light());
    assert!(chart.svg.starts_with("<svg") && chart.svg.contains("viewBox"));
    assert_eq!(chart.regions.len(), 2);
    assert!(!chart.svg.contains("<b>"), "labels are escaped");
}

#[wasm_bindgen_test]
fn time_parser_is_total_in_the_browser() {
    // A panic here would abort the whole console: the parser must take any text.
    for s in tenantscope_model::time::awkward_strings(0xbeef, 5_000) {
        if let Some(t) = tenantscope_model::time::parse_rfc3339(&s) {
            assert_eq!(tenantscope_model::time::parse_rfc3339(&tenantscope_model::time::format_rfc3339(t)), Some(t), "{s:?}");
        }
    }
    assert_eq!(tenantscope_model::time::parse_rfc3339("2026-11-24T16:03:00+é:00"), None);
}
