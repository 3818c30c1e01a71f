//! Donut (ring) chart with a legend on the right.

use super::{Chart, FONT, PAD, Palette, Region, Shape, Size, Tone};
use super::{describe, empty_chart, fit, render, text_w, thousands};
use plotters::element::Pie;
use plotters::style::text_anchor::HPos;
use plotters::style::{Color, FontDesc, FontFamily, FontStyle, RGBColor, TextStyle};
use std::f64::consts::TAU;

#[derive(Clone, Debug, PartialEq)]
pub struct Slice {
    pub key: String,
    pub label: String,
    pub value: u64,
    pub tone: Tone,
}

/// Inner radius as a share of the outer radius.
const HOLE: f64 = 0.55;
/// Legend line height, px.
const LINE: i32 = 20;

/// A donut, slices clockwise from 12 o'clock in the given order (zero slices skipped), total in the
/// middle with `caption` under it, legend on the right with label and count for every slice.
/// One Region (Shape::Arc) per non-zero slice. Total 0 → "No data".
pub fn donut(title: &str, caption: &str, slices: &[Slice], size: Size, palette: &Palette) -> Chart {
    let total: u64 = slices.iter().map(|s| s.value).sum();
    if total == 0 {
        return empty_chart(title, size, palette);
    }
    let (w, h) = (size.width as i32, size.height as i32);
    let outer = ((h - 2 * PAD) as f64 / 2.0)
        .min(w as f64 * 0.22)
        .max(4.0)
        .floor();
    let inner = (outer * HOLE).round();
    let (cx, cy) = (PAD + outer as i32, h / 2);

    // Arcs: cumulative fractions so the spans add up to exactly one turn.
    let mut regions = Vec::new();
    let mut cum = 0u64;
    for s in slices.iter().filter(|s| s.value > 0) {
        let start = cum as f64 / total as f64 * TAU;
        cum += s.value;
        let end = cum as f64 / total as f64 * TAU;
        regions.push(Region {
            shape: Shape::Arc {
                cx: cx as f64,
                cy: cy as f64,
                inner,
                outer,
                start,
                end,
            },
            key: s.key.clone(),
            title: s.label.clone(),
            values: vec![(s.label.clone(), s.value)],
        });
    }

    let svg = render(size, palette, &mut |pen| {
        let shown: Vec<&Slice> = slices.iter().filter(|s| s.value > 0).collect();
        let sizes: Vec<f64> = shown.iter().map(|s| s.value as f64).collect();
        let colors: Vec<RGBColor> = shown.iter().map(|s| palette.color(s.tone)).collect();
        let labels: Vec<&str> = vec![""; shown.len()];
        let center = (cx, cy);
        let mut pie = Pie::new(&center, &outer, &sizes, &colors, &labels);
        pie.start_angle(-90.0);
        pie.donut_hole(inner);
        // Pie always draws a label per slice: make it invisible (the SVG backend then skips it).
        let hidden = palette.color(Tone::Surface).mix(0.0);
        pie.label_style(TextStyle::from(FontDesc::new(FontFamily::SansSerif, 1.0, FontStyle::Normal)).color(&hidden));
        let _ = pen.area.draw(&pie);

        // Total and caption in the hole.
        let total_s = thousands(total);
        let px = (inner * 1.6 / (total_s.chars().count() as f64 * 0.6) / 2.0)
            .floor()
            .clamp(5.0, 11.0)
            * 2.0;
        let dy = if caption.is_empty() { 0 } else { 7 };
        pen.text(&total_s, cx, cy - dy, px, Tone::Text, HPos::Center, true);
        if !caption.is_empty() {
            let cap = fit(caption, inner * 1.7, FONT);
            pen.text(
                &cap,
                cx,
                cy + px as i32 / 2 + 6,
                FONT,
                Tone::Muted,
                HPos::Center,
                false,
            );
        }

        // Legend: every slice, zero ones included; "+N more" when the height runs out.
        let lx = cx + outer as i32 + 20;
        let fits = ((h - 2 * PAD) / LINE).max(1) as usize;
        let (n, more) = if slices.len() > fits {
            (fits - 1, slices.len() - (fits - 1))
        } else {
            (slices.len(), 0)
        };
        let lines = n as i32 + i32::from(more > 0);
        let mut y = cy - lines * LINE / 2 + LINE / 2;
        let count_w = slices
            .iter()
            .map(|s| text_w(&thousands(s.value), FONT) as i32)
            .max()
            .unwrap_or(0);
        for s in &slices[..n] {
            pen.rect(lx, y - 5, lx + 10, y + 5, s.tone);
            let label = fit(&s.label, (w - PAD - count_w - 12 - (lx + 16)) as f64, FONT);
            pen.text(&label, lx + 16, y, FONT, Tone::Text, HPos::Left, false);
            pen.text(
                &thousands(s.value),
                w - PAD,
                y,
                FONT,
                Tone::Muted,
                HPos::Right,
                false,
            );
            y += LINE;
        }
        if more > 0 {
            pen.text(
                &format!("+{more} more"),
                lx + 16,
                y,
                FONT,
                Tone::Muted,
                HPos::Left,
                false,
            );
        }
    });

    let parts: Vec<String> = slices
        .iter()
        .map(|s| format!("{} {}", s.label, thousands(s.value)))
        .collect();
    let tail = match caption.is_empty() {
        true => format!(" (total {})", thousands(total)),
        false => format!(" (total {} {caption})", thousands(total)),
    };
    let description = describe(title, &parts, &tail);
    Chart {
        svg,
        regions,
        description,
    }
}
