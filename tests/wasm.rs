//! Runs in headless Chromium: `cargo test --target wasm32-unknown-unknown --test wasm`.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use tenantscope::format;
use tenantscope::pages::overview::Kpi;
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
        view! { <Kpi kpi="test" label="Devices" value="<img src=x onerror=alert(1)>".to_string() /> }
    });
    let value = host.query_selector("[data-kpi=test]").unwrap().expect("kpi value element");
    assert_eq!(value.text_content().unwrap(), "<img src=x onerror=alert(1)>");
    assert!(host.query_selector("img").unwrap().is_none(), "data must never become markup");
    drop(handle);
}
