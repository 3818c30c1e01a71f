//! Horizontal stacked bars.

use super::{Chart, FONT, PAD, Palette, Region, Series, Shape, Size, Tone};
use super::{at, describe, empty_chart, fit, render, series_values, text_w, thousands};
use plotters::style::text_anchor::HPos;

#[derive(Clone, Debug, PartialEq)]
pub struct BarRow {
    pub key: String,
    pub label: String,
    /// Values in series order.
    pub values: Vec<u64>,
}

/// Horizontal stacked bars, one row per [`BarRow`] top to bottom, segments in series order, scaled so
/// the longest row total fills the plot width (or, with `scale_to_total`, every row to 100 % of its
/// own total). Row labels on the left (truncated with "…" to ~30 % of the width), row total at the
/// end of each bar, legend above. One Region per non-zero segment, key "{row.key}|{series index}",
/// carrying all the row's values. Callers size the height from the row count (~18 px minimum per row).
pub fn stacked_bars(
    title: &str,
    series: &[Series],
    rows: &[BarRow],
    scale_to_total: bool,
    size: Size,
    palette: &Palette,
) -> Chart {
    let total = |r: &BarRow| (0..series.len()).map(|i| at(&r.values, i)).sum::<u64>();
    let max_total = rows.iter().map(total).max().unwrap_or(0);
    if max_total == 0 {
        return empty_chart(title, size, palette);
    }
    let (w, h) = (size.width as i32, size.height as i32);
    let legend: Vec<(&str, Tone)> = series.iter().map(|s| (s.label.as_str(), s.tone)).collect();
    let label_w = w * 3 / 10;
    let total_w = text_w(&thousands(max_total), FONT) as i32 + 10;
    let (bx0, bx1) = (label_w, (w - PAD - total_w).max(label_w + 1));
    let full = (bx1 - bx0) as f64;

    let mut regions = Vec::new();
    let svg = render(size, palette, &mut |pen| {
        let top = pen.legend(&legend, PAD, PAD, w - PAD) + 6;
        let band = (h - PAD - top).max(1) as f64 / rows.len() as f64;
        let bar_h = (band * 0.62).clamp(4.0, 26.0);
        for (ri, row) in rows.iter().enumerate() {
            let mid = top as f64 + band * (ri as f64 + 0.5);
            let (y0, y1) = (
                (mid - bar_h / 2.0).round() as i32,
                (mid + bar_h / 2.0).round() as i32,
            );
            let label = fit(&row.label, (label_w - PAD - 8) as f64, FONT);
            pen.text(&label, PAD, mid as i32, FONT, Tone::Text, HPos::Left, false);
            let row_total = total(row);
            let scale = if scale_to_total {
                full / row_total.max(1) as f64
            } else {
                full / max_total as f64
            };
            let values = series_values(series, &row.values);
            let (mut cum, mut x0) = (0u64, bx0);
            for (si, s) in series.iter().enumerate() {
                let v = at(&row.values, si);
                if v == 0 {
                    continue;
                }
                cum += v;
                // Cumulative rounding: segments tile exactly, no gaps.
                let x1 = bx0 + (cum as f64 * scale).round() as i32;
                pen.rect(x0, y0, x1, y1, s.tone);
                let shape = Shape::Rect {
                    x: x0 as f64,
                    y: y0 as f64,
                    w: (x1 - x0) as f64,
                    h: (y1 - y0) as f64,
                };
                regions.push(Region {
                    shape,
                    key: format!("{}|{}", row.key, si),
                    title: row.label.clone(),
                    values: values.clone(),
                });
                x0 = x1;
            }
            pen.text(
                &thousands(row_total),
                x0 + 6,
                mid as i32,
                FONT,
                Tone::Muted,
                HPos::Left,
                false,
            );
        }
        // Baseline at zero.
        pen.rect(bx0 - 1, top, bx0, h - PAD, Tone::Grid);
    });

    let parts: Vec<String> = rows
        .iter()
        .map(|r| {
            let vals: Vec<String> = series
                .iter()
                .enumerate()
                .filter(|&(i, _)| at(&r.values, i) > 0)
                .map(|(i, s)| format!("{} {}", s.label, thousands(at(&r.values, i))))
                .collect();
            match vals.is_empty() {
                true => format!("{} 0", r.label),
                false => format!("{} {} ({})", r.label, thousands(total(r)), vals.join(", ")),
            }
        })
        .collect();
    let description = describe(
        title,
        &parts,
        if scale_to_total {
            " (shares of each row's total)"
        } else {
            ""
        },
    );
    Chart {
        svg,
        regions,
        description,
    }
}
