//! Vertical stacked columns over time.

use super::{Chart, FONT, PAD, Palette, Region, Series, Shape, Size, Tone};
use super::{at, describe, empty_chart, render, series_values, text_w, thousands};
use plotters::style::FontTransform;
use plotters::style::text_anchor::HPos;

#[derive(Clone, Debug, PartialEq)]
pub struct TimeBucket {
    pub key: String,
    /// e.g. "11-24" or "14:00".
    pub label: String,
    /// Values in series order.
    pub values: Vec<u64>,
}

/// Vertical stacked columns, left to right, y axis from zero with a few integer "nice" ticks,
/// x labels thinned (about one per 60 px, never overlapping), legend above. Zero buckets leave a gap.
/// One Region per bucket (a Rect over the bucket's full slot and plot height), even for empty ones.
/// No buckets or all-zero → "No data" and no regions.
pub fn timeline(
    title: &str,
    series: &[Series],
    buckets: &[TimeBucket],
    y_label: &str,
    size: Size,
    palette: &Palette,
) -> Chart {
    let total = |b: &TimeBucket| (0..series.len()).map(|i| at(&b.values, i)).sum::<u64>();
    let max_total = buckets.iter().map(total).max().unwrap_or(0);
    if max_total == 0 {
        return empty_chart(title, size, palette);
    }
    let (w, h) = (size.width as i32, size.height as i32);
    let legend: Vec<(&str, Tone)> = series.iter().map(|s| (s.label.as_str(), s.tone)).collect();

    let mut regions = Vec::new();
    let svg = render(size, palette, &mut |pen| {
        let axis_title_w = if y_label.is_empty() { 0 } else { 18 };
        let top = pen.legend(&legend, PAD + axis_title_w, PAD, w - PAD) + 10;
        let bottom = h - PAD - 18;
        let plot_h = (bottom - top).max(1);
        let (step, ticks) = nice_ticks(max_total, (plot_h / 40).clamp(2, 5) as u64);
        let y_max = step * ticks;
        let tick_w = text_w(&thousands(y_max), FONT) as i32;
        let left = PAD + axis_title_w + tick_w + 8;
        let right = w - PAD;
        let y_of = |v: u64| bottom - (v as f64 / y_max as f64 * plot_h as f64).round() as i32;

        if !y_label.is_empty() {
            let mid = (top + bottom) / 2;
            pen.text_rot(
                y_label,
                PAD + 6,
                mid,
                FONT,
                Tone::Muted,
                HPos::Center,
                false,
                FontTransform::Rotate270,
            );
        }
        for t in 0..=ticks {
            let y = y_of(t * step);
            pen.rect(
                left,
                y,
                right,
                y + 1,
                if t == 0 { Tone::Muted } else { Tone::Grid },
            );
            pen.text(
                &thousands(t * step),
                left - 6,
                y,
                FONT,
                Tone::Muted,
                HPos::Right,
                false,
            );
        }

        let band = (right - left) as f64 / buckets.len() as f64;
        let col_w = (band * 0.7).clamp(1.0, 40.0);
        let label_w = buckets
            .iter()
            .map(|b| text_w(&b.label, FONT))
            .fold(0.0, f64::max);
        let every = (60f64.max(label_w + 8.0) / band).ceil().max(1.0) as usize;
        for (i, b) in buckets.iter().enumerate() {
            let slot = left as f64 + band * i as f64;
            let x0 = (slot + (band - col_w) / 2.0).round() as i32;
            let x1 = (x0 + col_w.round() as i32).max(x0 + 1);
            let mut cum = 0u64;
            for (si, s) in series.iter().enumerate() {
                let v = at(&b.values, si);
                if v > 0 {
                    // Cumulative rounding keeps the stack gap-free.
                    let y1 = y_of(cum);
                    cum += v;
                    pen.rect(x0, y_of(cum), x1, y1, s.tone);
                }
            }
            if i % every == 0 {
                let x = (slot + band / 2.0).round() as i32;
                pen.text(
                    &b.label,
                    x,
                    bottom + 12,
                    FONT,
                    Tone::Muted,
                    HPos::Center,
                    false,
                );
            }
            regions.push(Region {
                shape: Shape::Rect {
                    x: slot,
                    y: top as f64,
                    w: band,
                    h: plot_h as f64,
                },
                key: b.key.clone(),
                title: b.label.clone(),
                values: series_values(series, &b.values),
            });
        }
    });

    let (first, last) = (&buckets[0].label, &buckets[buckets.len() - 1].label);
    let peak = buckets
        .iter()
        .max_by_key(|b| total(b))
        .map(|b| b.label.as_str())
        .unwrap_or("");
    let parts: Vec<String> = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "{} {}",
                s.label,
                thousands(buckets.iter().map(|b| at(&b.values, i)).sum())
            )
        })
        .collect();
    let unit = if y_label.is_empty() {
        String::new()
    } else {
        format!(" {y_label}")
    };
    let tail = format!(
        "; {} periods from {first} to {last}, peak {}{unit} at {peak}",
        buckets.len(),
        thousands(max_total)
    );
    let description = describe(title, &parts, &tail);
    Chart {
        svg,
        regions,
        description,
    }
}

/// A 1/2/5 × 10^k step and the number of steps so that `step * n >= max` with about `target` steps.
fn nice_ticks(max: u64, target: u64) -> (u64, u64) {
    let raw = max.div_ceil(target).max(1);
    let mut mag = 1u64;
    while mag * 10 <= raw {
        mag *= 10;
    }
    let step = [1, 2, 5, 10]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10 * mag);
    (step, max.div_ceil(step))
}
