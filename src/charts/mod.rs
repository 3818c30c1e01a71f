//! Pure chart functions: data in, SVG string + hit regions + screen-reader text out.
//!
//! Everything is drawn with plotters' `SVGBackend::with_string` on a plain pixel `DrawingArea`
//! (no `ChartBuilder`): filled `Rectangle`s, `Text` and, for the donut, `Pie`.
//! Text is escaped by plotters' SVG backend (`<`, `>`, `&`, `"`, `'`), so labels are passed raw.
//! Only relative paths are used, so this folder can be moved under any crate's `src/charts/`.

mod bars;
mod donut;
mod palette;
#[cfg(test)]
mod tests;
mod timeline;

pub use self::bars::{BarRow, stacked_bars};
pub use self::donut::{Slice, donut};
pub use self::palette::{Palette, Tone};
pub use self::timeline::{TimeBucket, timeline};

use plotters::backend::SVGBackend;
use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, IntoDrawingArea};
use plotters::element::{Rectangle, Text};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontDesc, FontFamily, FontStyle, FontTransform, TextStyle};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

/// A named series of a stacked chart (legend entry), in stack order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub tone: Tone,
}

/// Geometry of an interactive part of a chart, in SVG pixel coordinates of the chart's viewBox.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    },
    /// A ring segment centred at (cx, cy); angles in radians, clockwise from 12 o'clock, start < end.
    Arc {
        cx: f64,
        cy: f64,
        inner: f64,
        outer: f64,
        start: f64,
        end: f64,
    },
}

impl Shape {
    /// Whether the point lies inside (for hover and click hit-testing).
    /// Rects are half-open (`x <= px < x + w`), so adjacent rects never both match.
    pub fn contains(&self, px: f64, py: f64) -> bool {
        match *self {
            Shape::Rect { x, y, w, h } => px >= x && px < x + w && py >= y && py < y + h,
            Shape::Arc {
                cx,
                cy,
                inner,
                outer,
                start,
                end,
            } => {
                let (dx, dy) = (px - cx, py - cy);
                let r = dx.hypot(dy);
                if r < inner || r > outer {
                    return false;
                }
                // Clockwise from 12 o'clock (screen y grows downwards).
                let mut a = dx.atan2(-dy);
                if a < 0.0 {
                    a += std::f64::consts::TAU;
                }
                a >= start && a < end
            }
        }
    }

    /// A point well inside the shape (rect centre; arc mid-angle at mid-radius).
    pub fn anchor(&self) -> (f64, f64) {
        match *self {
            Shape::Rect { x, y, w, h } => (x + w / 2.0, y + h / 2.0),
            Shape::Arc {
                cx,
                cy,
                inner,
                outer,
                start,
                end,
            } => {
                let (a, r) = ((start + end) / 2.0, (inner + outer) / 2.0);
                (cx + r * a.sin(), cy - r * a.cos())
            }
        }
    }
}

/// One interactive part: a bar, a bar segment, a slice or a time bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub shape: Shape,
    /// Caller-provided key identifying what the region stands for (row key, slice key, bucket key).
    pub key: String,
    /// Tooltip headline, e.g. the row label or the bucket's time label (plain text, NOT escaped).
    pub title: String,
    /// The numbers it holds, in series order: (series label, value). Plain text.
    pub values: Vec<(String, u64)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// Complete `<svg ...>` document with width/height and a `viewBox="0 0 W H"`.
    pub svg: String,
    pub regions: Vec<Region>,
    /// Plain-text description for screen readers (bounded length).
    pub description: String,
}

/// Finds the region under a point.
pub fn hit(regions: &[Region], x: f64, y: f64) -> Option<&Region> {
    regions.iter().find(|r| r.shape.contains(x, y))
}

/// "1234567" → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Private drawing helpers shared by the three charts.

/// Outer padding of every chart, px.
const PAD: i32 = 8;
/// Label font size, px.
const FONT: f64 = 12.0;
/// Most items listed in a description before summarising.
const DESC_ITEMS: usize = 12;

/// Thin wrapper over a root pixel drawing area; one method per shape.
struct Pen<'a, 'p> {
    area: DrawingArea<SVGBackend<'a>, Shift>,
    pal: &'p Palette,
}

#[allow(clippy::too_many_arguments)]
impl Pen<'_, '_> {
    /// Filled rectangle from (x0, y0) to (x1, y1) exclusive.
    fn rect(&self, x0: i32, y0: i32, x1: i32, y1: i32, tone: Tone) {
        if x1 > x0 && y1 > y0 {
            let style = self.pal.color(tone).filled();
            let _ = self.area.draw(&Rectangle::new([(x0, y0), (x1, y1)], style));
        }
    }

    /// One line of text, vertically centred on `y`, horizontally anchored by `h`.
    fn text(&self, s: &str, x: i32, y: i32, px: f64, tone: Tone, h: HPos, bold: bool) {
        self.text_rot(s, x, y, px, tone, h, bold, FontTransform::None);
    }

    fn text_rot(
        &self,
        s: &str,
        x: i32,
        y: i32,
        px: f64,
        tone: Tone,
        h: HPos,
        bold: bool,
        t: FontTransform,
    ) {
        let weight = if bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        let color = self.pal.color(tone);
        // The SVG backend writes font-size = size / 1.24; even integer px survive that round trip
        // exactly (13 would come out as "13.000000000000002"), so callers use 10/12/14/…/22.
        // The family as a value: `From<&str>` would lower-case the name and pull Unicode case tables into the bundle.
        let style = TextStyle::from(FontDesc::new(FontFamily::SansSerif, px * 1.24, weight))
            .color(&color)
            .pos(Pos::new(h, VPos::Center))
            .transform(t);
        let _ = self.area.draw(&Text::new(s, (x, y), style));
    }

    /// Legend in series order, wrapping onto further lines; returns the y below it.
    fn legend(&self, items: &[(&str, Tone)], x0: i32, y0: i32, x_max: i32) -> i32 {
        if items.is_empty() {
            return y0;
        }
        let (mut x, mut y) = (x0, y0 + 8);
        for &(label, tone) in items {
            let label = fit(label, 200.0, FONT);
            let w = 16 + text_w(&label, FONT) as i32 + 16;
            if x > x0 && x + w > x_max {
                x = x0;
                y += 20;
            }
            self.rect(x, y - 5, x + 10, y + 5, tone);
            self.text(&label, x + 16, y, FONT, Tone::Text, HPos::Left, false);
            x += w;
        }
        y + 12
    }

    fn no_data(&self, size: Size) {
        let (x, y) = (size.width as i32 / 2, size.height as i32 / 2);
        self.text("No data", x, y, 14.0, Tone::Muted, HPos::Center, false);
    }
}

/// Draws on a fresh SVG surface of `size` and returns the finished document.
fn render(size: Size, pal: &Palette, draw: &mut dyn FnMut(&Pen)) -> String {
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (size.width, size.height)).into_drawing_area();
        let pen = Pen { area, pal };
        pen.rect(0, 0, size.width as i32, size.height as i32, Tone::Surface);
        draw(&pen);
        let _ = pen.area.present();
    }
    // plotters-svg 0.3.7 already writes a viewBox; keep this for other versions.
    if !svg.contains("viewBox") {
        let vb = format!("<svg viewBox=\"0 0 {} {}\"", size.width, size.height);
        svg = svg.replacen("<svg", &vb, 1);
    }
    svg
}

/// The "No data" chart.
fn empty_chart(title: &str, size: Size, pal: &Palette) -> Chart {
    Chart {
        svg: render(size, pal, &mut |pen| pen.no_data(size)),
        regions: Vec::new(),
        description: format!("{title}: no data."),
    }
}

/// Rough rendered width of `s` in a sans-serif font of `px` (no font metrics in wasm/SVG).
fn text_w(s: &str, px: f64) -> f64 {
    s.chars().count() as f64 * px * 0.6
}

/// `s` shortened with "…" so that it is at most `max_w` px wide.
fn fit(s: &str, max_w: f64, px: f64) -> String {
    if text_w(s, px) <= max_w {
        return s.to_string();
    }
    let keep = ((max_w / (px * 0.6)) as usize).saturating_sub(1);
    let mut out: String = s.chars().take(keep).collect();
    out.push('…');
    out
}

/// "{title}: a, b, c, … and N more." with at most `DESC_ITEMS` parts.
fn describe(title: &str, parts: &[String], tail: &str) -> String {
    let shown = parts.len().min(DESC_ITEMS);
    let mut s = format!("{title}: {}", parts[..shown].join(", "));
    if parts.len() > shown {
        s.push_str(&format!(", and {} more", parts.len() - shown));
    }
    s.push_str(tail);
    s.push('.');
    s
}

/// Value `i` of a row, 0 when missing.
fn at(values: &[u64], i: usize) -> u64 {
    values.get(i).copied().unwrap_or(0)
}

/// (series label, value) for every series.
fn series_values(series: &[Series], values: &[u64]) -> Vec<(String, u64)> {
    series
        .iter()
        .enumerate()
        .map(|(i, s)| (s.label.clone(), at(values, i)))
        .collect()
}
