//! Places a chart drawn by `charts` (an SVG string plus the geometry of its parts): sized by its
//! container and redrawn on resize, hover tooltips and clicks from the same hit regions, a focusable
//! link per part, a text description for screen readers and a "show as table" alternative.

use crate::charts::{hit, Chart, Palette, Region, Shape};
use crate::contexts::theme::use_palette;
use crate::format::count;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use std::sync::Arc;

pub type Draw = Arc<dyn Fn(u32, &Palette) -> Chart + Send + Sync>;
pub type Link = Arc<dyn Fn(&Region) -> Option<String> + Send + Sync>;

/// `part / whole` in percent with three decimals ("12.345%"), written with integers (no float
/// formatting code in the bundle for it).
fn pct(part: f64, whole: f64) -> String {
    let thousandths = (part * 100_000.0 / whole).round() as i64;
    let sign = if thousandths < 0 { "-" } else { "" };
    let t = thousandths.abs();
    format!("{sign}{}.{:03}%", t / 1000, t % 1000)
}

/// Region geometry in percent of the chart's size (so the overlay scales with the SVG).
fn percent_box(shape: &Shape, w: f64, h: f64) -> String {
    match *shape {
        Shape::Rect { x, y, w: rw, h: rh } => {
            format!("left:{};top:{};width:{};height:{}", pct(x, w), pct(y, h), pct(rw, w), pct(rh, h))
        }
        Shape::Arc { .. } => {
            let (ax, ay) = shape.anchor();
            format!("left:{};top:{}", pct(ax, w), pct(ay, h))
        }
    }
}

/// The chart's size from its SVG's (whole-pixel) width and height attributes. Parsed as integers:
/// float parsing would bring its large tables into the bundle.
fn svg_size(svg: &str) -> (f64, f64) {
    let num = |attr: &str| -> Option<u32> {
        let at = svg.find(attr)? + attr.len();
        svg[at..].split('"').next()?.parse().ok()
    };
    (num(" width=\"").unwrap_or(1).max(1) as f64, num(" height=\"").unwrap_or(1).max(1) as f64)
}

fn region_text(r: &Region) -> String {
    let values: Vec<String> = r.values.iter().map(|(k, v)| format!("{k}: {}", count(*v))).collect();
    format!("{} — {}", r.title, values.join(", "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn size_from_the_svg() {
        assert_eq!(super::svg_size(r#"<svg width="760" height="280" viewBox="0 0 760 280">"#), (760.0, 280.0));
        assert_eq!(super::svg_size("<svg>"), (1.0, 1.0));
        assert_eq!(super::pct(1.0, 3.0), "33.333%");
        assert_eq!(super::pct(720.0, 720.0), "100.000%");
        assert_eq!(super::pct(-1.0, 200.0), "-0.500%");
    }
}

#[component]
pub fn ChartView(
    /// Names the chart for assistive technology and the table toggle.
    title: String,
    draw: Draw,
    /// Where a part of the chart leads (None: it is not a link).
    link: Link,
    #[prop(optional)] testid: &'static str,
    /// Height of the placeholder before the first measure (no jump when the chart appears).
    #[prop(default = 220)]
    min_height: u32,
) -> impl IntoView {
    let palette = use_palette();
    let container = NodeRef::<leptos::html::Div>::new();
    let width = RwSignal::new(0u32);
    let measure = move || {
        if let Some(el) = container.get_untracked() {
            let w = el.client_width().max(0) as u32;
            if w > 0 && w != width.get_untracked() {
                width.set(w);
            }
        }
    };
    crate::api::effect(move || {
        if container.get().is_some() {
            request_animation_frame(measure);
        }
    });
    let listener = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || listener.remove());

    let draw_for = draw.clone();
    let chart = Memo::new(move |_| {
        let w = width.get();
        (w > 0).then(|| palette.with(|p| draw_for(w, p)))
    });
    let tooltip = RwSignal::new(None::<(String, f64, f64)>);
    let show_table = RwSignal::new(false);
    let navigate = use_navigate();
    let link_for_click = link.clone();

    // Pointer position in chart coordinates.
    let to_chart = move |ev: &web_sys::MouseEvent| -> Option<(f64, f64, f64, f64)> {
        let el = container.get_untracked()?;
        let el: &web_sys::Element = &el;
        let rect = el.get_bounding_client_rect();
        let c = chart.get_untracked()?;
        let (w, h) = svg_size(&c.svg);
        let (px, py) = (ev.client_x() as f64 - rect.left(), ev.client_y() as f64 - rect.top());
        Some((px * w / rect.width().max(1.0), py * h / rect.height().max(1.0), px, py))
    };
    let on_move = move |ev: web_sys::MouseEvent| {
        let found = to_chart(&ev).and_then(|(x, y, px, py)| {
            let c = chart.get_untracked()?;
            hit(&c.regions, x, y).map(|r| (region_text(r), px, py))
        });
        tooltip.set(found);
    };
    let on_click = move |ev: web_sys::MouseEvent| {
        // Clicks on a part's own link are handled by the link.
        let on_link = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|el| el.closest("a").ok().flatten().is_some());
        if on_link {
            return;
        }
        let target = to_chart(&ev).and_then(|(x, y, _, _)| {
            let c = chart.get_untracked()?;
            hit(&c.regions, x, y).and_then(|r| link_for_click(r))
        });
        if let Some(href) = target {
            navigate(&href, Default::default());
        }
    };

    // The hit areas and the table are static once drawn: HTML strings (far less wasm than views);
    // every text is escaped, and links are the console's own (`link`).
    use crate::components::html::escape;
    let link_for_overlay = link.clone();
    let overlay = move || {
        chart.get().map(|c| {
            let (w, h) = svg_size(&c.svg);
            let mut out = String::new();
            for r in &c.regions {
                let class = match r.shape {
                    Shape::Rect { .. } => "hit",
                    Shape::Arc { .. } => "hit point",
                };
                let total: u64 = r.values.iter().map(|(_, v)| v).sum();
                let common = format!(
                    "class=\"{class}\" style=\"{}\" data-key=\"{}\" data-total=\"{total}\"",
                    escape(&percent_box(&r.shape, w, h)),
                    escape(&r.key)
                );
                match link_for_overlay(r) {
                    Some(href) => out.push_str(&format!("<a {common} href=\"{}\" aria-label=\"{}\"></a>", escape(&href), escape(&region_text(r)))),
                    None => out.push_str(&format!("<span {common}></span>")),
                }
            }
            out
        })
    };
    let link_for_table = link;
    let table = move || {
        chart.get().map(|c| {
            // Stacked charts: a column per series. Charts whose parts hold one number each (a donut's
            // slices, one-series bars): one "Count" column.
            let single = c.regions.iter().all(|r| r.values.len() == 1);
            let series: Vec<String> = if single {
                vec!["Count".to_string()]
            } else {
                c.regions.first().map(|r| r.values.iter().map(|(k, _)| k.clone()).collect()).unwrap_or_default()
            };
            let mut out = String::from("<table class=\"grid compact chart-table\"><thead><tr><th></th>");
            for s in &series {
                out.push_str(&format!("<th scope=\"col\">{}</th>", escape(s)));
            }
            out.push_str("</tr></thead><tbody>");
            let mut seen: Vec<&str> = Vec::new();
            for r in &c.regions {
                // Stacked bars have a region per segment, each carrying the whole row: one line per row.
                let row = r.key.split('|').next().unwrap_or_default();
                if seen.contains(&row) {
                    continue;
                }
                seen.push(row);
                let name = match link_for_table(r) {
                    Some(href) => format!("<a href=\"{}\">{}</a>", escape(&href), escape(&r.title)),
                    None => format!("<span>{}</span>", escape(&r.title)),
                };
                out.push_str(&format!("<tr><th scope=\"row\">{name}</th>"));
                for s in &series {
                    let v = if single {
                        r.values.first().map(|(_, v)| *v).unwrap_or(0)
                    } else {
                        r.values.iter().find(|(k, _)| k == s).map(|(_, v)| *v).unwrap_or(0)
                    };
                    out.push_str(&format!("<td class=\"num\">{}</td>", count(v)));
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table>");
            out
        })
    };
    let title_for_svg = title.clone();
    let title_for_toggle = title.clone();
    view! {
        <figure class="chart" data-testid=testid>
            <div
                class="chart-box"
                node_ref=container
                style=format!("min-height:{min_height}px")
                on:mousemove=on_move
                on:mouseleave=move |_| tooltip.set(None)
                on:click=on_click
            >
                {move || chart.get().map(|c| view! {
                    <div class="chart-svg" role="img" aria-label=format!("{}. {}", title_for_svg, c.description) inner_html=c.svg></div>
                })}
                <div class="chart-overlay" inner_html=move || overlay().unwrap_or_default()></div>
                {move || tooltip.get().map(|(text, x, y)| view! {
                    <div class="chart-tooltip" role="tooltip" data-testid="chart-tooltip" style=format!("left:{}px;top:{}px", x.round() as i64, y.round() as i64)>{text}</div>
                })}
            </div>
            <figcaption class="chart-actions">
                <button class="button ghost small" aria-expanded=move || show_table.get().to_string()
                    on:click=move |_| show_table.update(|s| *s = !*s)>
                    {move || if show_table.get() { "Hide table" } else { "Show as table" }}
                    <span class="sr-only">{format!(": {title_for_toggle}")}</span>
                </button>
            </figcaption>
            {move || show_table.get().then(|| view! { <div inner_html=table().unwrap_or_default()></div> })}
        </figure>
    }
}
