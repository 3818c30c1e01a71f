use super::*;
use std::f64::consts::TAU;

const HOSTILE: &str = "<script>alert(1)</script>";

fn pal() -> Palette {
    Palette::light()
}

fn size(width: u32, height: u32) -> Size {
    Size { width, height }
}

fn series3() -> Vec<Series> {
    vec![
        Series {
            label: "Healthy".into(),
            tone: Tone::Good,
        },
        Series {
            label: "Warning".into(),
            tone: Tone::Warn,
        },
        Series {
            label: "Failing".into(),
            tone: Tone::Bad,
        },
    ]
}

fn row(key: &str, label: &str, values: &[u64]) -> BarRow {
    BarRow {
        key: key.into(),
        label: label.into(),
        values: values.to_vec(),
    }
}

fn bucket(key: &str, label: &str, values: &[u64]) -> TimeBucket {
    TimeBucket {
        key: key.into(),
        label: label.into(),
        values: values.to_vec(),
    }
}

fn slice(key: &str, label: &str, value: u64, tone: Tone) -> Slice {
    Slice {
        key: key.into(),
        label: label.into(),
        value,
        tone,
    }
}

/// Number of filled `<rect` elements with the tone's colour (plotters writes upper-case hex).
fn rects_of(svg: &str, tone: Tone) -> usize {
    let fill = format!("fill=\"{}\"", pal().hex(tone).to_uppercase());
    svg.lines()
        .filter(|l| l.starts_with("<rect") && l.contains(&fill))
        .count()
}

fn rect(r: &Region) -> (f64, f64, f64, f64) {
    match r.shape {
        Shape::Rect { x, y, w, h } => (x, y, w, h),
        _ => panic!("not a rect"),
    }
}

fn arc(r: &Region) -> (f64, f64, f64, f64, f64, f64) {
    match r.shape {
        Shape::Arc {
            cx,
            cy,
            inner,
            outer,
            start,
            end,
        } => (cx, cy, inner, outer, start, end),
        _ => panic!("not an arc"),
    }
}

fn assert_escaped(svg: &str) {
    assert!(!svg.contains("<script"), "raw <script> in SVG");
    assert!(svg.contains("&lt;script&gt;"), "escaped label missing");
    assert!(!svg.contains("&amp;lt;"), "double escaped");
}

fn assert_svg_doc(svg: &str, w: u32, h: u32) {
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains(&format!("width=\"{w}\"")));
    assert!(svg.contains(&format!("viewBox=\"0 0 {w} {h}\"")));
    assert!(svg.trim_end().ends_with("</svg>"));
}

#[test]
fn thousands_separators() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1000), "1,000");
    assert_eq!(thousands(1234567), "1,234,567");
    assert_eq!(thousands(1_000_000), "1,000,000");
}

#[test]
fn palette_css_and_hex() {
    let p = pal();
    let css = p.css_vars();
    assert!(css.starts_with(":root{") && css.ends_with('}'));
    assert_eq!(css.matches("--tone-").count(), 15);
    for t in Tone::ALL {
        let decl = format!("--{}:{};", t.css_name(), p.hex(t));
        assert_eq!(css.matches(&decl).count(), 1, "{decl}");
        let hex = p.hex(t);
        assert_eq!(hex.len(), 7);
        let parse = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
        assert_eq!((parse(1), parse(3), parse(5)), p.rgb(t));
    }
    assert_eq!(p.hex(Tone::Good), "#107c41");
    assert_eq!(p.hex(Tone::Severe), "#8b0f24");
    assert_eq!(p.hex(Tone::Surface), "#ffffff");
    let names: std::collections::HashSet<_> = Tone::ALL.iter().map(|t| t.css_name()).collect();
    assert_eq!(names.len(), 15);
}

#[test]
fn bars_segments_labels_and_regions() {
    let rows = vec![
        row("a", "Contoso HQ", &[10, 5, 0]),
        row("b", "Fabrikam", &[20, 0, 4]),
        row("c", "Northwind", &[3, 3, 3]),
    ];
    let sz = size(600, 160);
    let c = stacked_bars("Devices", &series3(), &rows, false, sz, &pal());
    assert_svg_doc(&c.svg, 600, 160);
    // Legend swatch + one rect per non-zero segment.
    assert_eq!(rects_of(&c.svg, Tone::Good), 1 + 3);
    assert_eq!(rects_of(&c.svg, Tone::Warn), 1 + 2);
    assert_eq!(rects_of(&c.svg, Tone::Bad), 1 + 2);
    for l in [
        "Contoso HQ",
        "Fabrikam",
        "Northwind",
        "Healthy",
        "Warning",
        "Failing",
        "24",
    ] {
        assert!(c.svg.contains(l), "{l}");
    }
    let keys: Vec<&str> = c.regions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["a|0", "a|1", "b|0", "b|2", "c|0", "c|1", "c|2"]);
    for r in &c.regions {
        let (x, y, w, h) = rect(r);
        assert!(x >= 0.0 && y >= 0.0 && w > 0.0 && h >= 14.0);
        assert!(x + w <= 600.0 && y + h <= 160.0);
        assert_eq!(r.values.len(), 3);
    }
    assert_eq!(c.regions[0].title, "Contoso HQ");
    assert_eq!(
        c.regions[0].values,
        vec![
            ("Healthy".into(), 10),
            ("Warning".into(), 5),
            ("Failing".into(), 0)
        ]
    );
    // Widths proportional to values (one px per value unit = b|0 width / 20).
    let unit = rect(&c.regions[2]).2 / 20.0;
    for (r, v) in c.regions.iter().zip([10.0, 5.0, 20.0, 4.0, 3.0, 3.0, 3.0]) {
        assert!(
            (rect(r).2 - v * unit).abs() <= 1.0,
            "{} {}",
            r.key,
            rect(r).2
        );
    }
    // Segments of a row are contiguous, rows are stacked top to bottom.
    assert_eq!(
        rect(&c.regions[0]).0 + rect(&c.regions[0]).2,
        rect(&c.regions[1]).0
    );
    assert!(
        rect(&c.regions[0]).1 < rect(&c.regions[2]).1
            && rect(&c.regions[2]).1 < rect(&c.regions[4]).1
    );
    assert!(
        c.description
            .starts_with("Devices: Contoso HQ 15 (Healthy 10, Warning 5)")
    );
}

#[test]
fn bars_scale_to_total_fills_every_row() {
    let rows = vec![
        row("a", "A", &[1, 1, 0]),
        row("b", "B", &[50, 30, 20]),
        row("c", "C", &[0, 0, 7]),
    ];
    let c = stacked_bars(
        "Compliance",
        &series3(),
        &rows,
        true,
        size(500, 140),
        &pal(),
    );
    let width_of = |k: &str| -> f64 {
        c.regions
            .iter()
            .filter(|r| r.key.starts_with(k))
            .map(|r| rect(r).2)
            .sum()
    };
    let (wa, wb, wc) = (width_of("a|"), width_of("b|"), width_of("c|"));
    assert!(wa > 100.0);
    assert_eq!(wa, wb);
    assert_eq!(wb, wc);
}

#[test]
fn bars_truncate_long_labels_but_keep_title() {
    let long = "A very long tenant display name that never ends at all";
    let c = stacked_bars(
        "T",
        &series3(),
        &[row("x", long, &[1, 2, 3])],
        false,
        size(400, 80),
        &pal(),
    );
    assert!(!c.svg.contains(long));
    assert!(c.svg.contains('…'));
    assert_eq!(c.regions[0].title, long);
}

#[test]
fn donut_arcs() {
    let slices = vec![
        slice("h", "Healthy", 812, Tone::Good),
        slice("o", "Off", 0, Tone::Warn),
        slice("u", "Unhealthy", 120, Tone::Bad),
        slice("n", "Not reporting", 68, Tone::Idle),
    ];
    let c = donut("Antivirus", "devices", &slices, size(480, 240), &pal());
    assert_svg_doc(&c.svg, 480, 240);
    assert_eq!(c.regions.len(), 3);
    let spans: f64 = c.regions.iter().map(|r| arc(r).5 - arc(r).4).sum();
    assert!((spans - TAU).abs() < 1e-6);
    assert_eq!(arc(&c.regions[0]).4, 0.0);
    for (r, v) in c.regions.iter().zip([812.0, 120.0, 68.0]) {
        let (cx, cy, inner, outer, start, end) = arc(r);
        assert!(((end - start) - v / 1000.0 * TAU).abs() < 1e-9);
        assert!((inner / outer - 0.55).abs() < 0.02);
        let (ax, ay) = r.shape.anchor();
        assert!(r.shape.contains(ax, ay), "{}", r.key);
        assert!(!r.shape.contains(cx, cy));
        assert!(!r.shape.contains(cx + outer + 2.0, cy));
        assert_eq!(
            hit(&c.regions, ax, ay).map(|h| h.key.as_str()),
            Some(r.key.as_str())
        );
        assert_eq!(r.values, vec![(r.title.clone(), v as u64)]);
    }
    // Legend lists zero slices too, total has separators-ready formatting.
    for l in [
        "Healthy",
        "Off",
        "Unhealthy",
        "Not reporting",
        "1,000",
        "devices",
        "812",
    ] {
        assert!(c.svg.contains(l), "{l}");
    }
    // Slice fills are polygons of the slice colours; Off (zero) only in the legend.
    let poly = |t: Tone| {
        let fill = format!("fill=\"{}\"", pal().hex(t).to_uppercase());
        c.svg
            .lines()
            .filter(|l| l.starts_with("<polygon") && l.contains(&fill))
            .count()
    };
    assert_eq!(
        (poly(Tone::Good), poly(Tone::Bad), poly(Tone::Idle)),
        (1, 1, 1)
    );
    assert_eq!(poly(Tone::Warn), 0);
    assert_eq!(rects_of(&c.svg, Tone::Warn), 1);
    assert!(
        c.description
            .starts_with("Antivirus: Healthy 812, Off 0, Unhealthy 120")
    );
    assert!(c.description.contains("total 1,000 devices"));
}

#[test]
fn donut_single_slice_is_full_ring() {
    let c = donut(
        "One",
        "devices",
        &[slice("a", "All", 1_000_000, Tone::Good)],
        size(400, 200),
        &pal(),
    );
    assert_eq!(c.regions.len(), 1);
    let (cx, cy, inner, outer, start, end) = arc(&c.regions[0]);
    assert_eq!((start, end), (0.0, TAU));
    let mid = (inner + outer) / 2.0;
    for a in [0.0f64, 1.0, 2.0, 3.0, 4.0, 5.0, 6.2] {
        assert!(
            c.regions[0]
                .shape
                .contains(cx + mid * a.sin(), cy - mid * a.cos()),
            "angle {a}"
        );
    }
    assert!(c.svg.contains("1,000,000"));
    assert!(c.svg.contains("<polygon"));
}

#[test]
fn timeline_regions_ticks_and_gaps() {
    let buckets = vec![
        bucket("d1", "11-24", &[5, 2, 0]),
        bucket("d2", "11-25", &[0, 0, 0]),
        bucket("d3", "11-26", &[7, 0, 1]),
        bucket("d4", "11-27", &[1, 1, 1]),
    ];
    let sz = size(600, 240);
    let c = timeline("Alerts", &series3(), &buckets, "alerts", sz, &pal());
    assert_svg_doc(&c.svg, 600, 240);
    assert_eq!(c.regions.len(), 4);
    assert_eq!(c.regions[1].key, "d2");
    assert_eq!(c.regions[1].title, "11-25");
    assert_eq!(
        c.regions[2].values,
        vec![
            ("Healthy".into(), 7),
            ("Warning".into(), 0),
            ("Failing".into(), 1)
        ]
    );
    // Legend swatch + one column segment per non-zero value; the empty bucket adds none.
    assert_eq!(rects_of(&c.svg, Tone::Good), 1 + 3);
    assert_eq!(rects_of(&c.svg, Tone::Warn), 1 + 2);
    assert_eq!(rects_of(&c.svg, Tone::Bad), 1 + 2);
    assert!(c.svg.contains(">\n0\n</text>"), "zero tick");
    assert!(c.svg.contains("11-24") && c.svg.contains("alerts"));
    // Slots tile the plot width left to right, full plot height, inside the svg.
    for w in c.regions.windows(2) {
        let (a, b) = (rect(&w[0]), rect(&w[1]));
        assert!((a.0 + a.2 - b.0).abs() < 1e-9);
        assert_eq!((a.1, a.3), (b.1, b.3));
    }
    for r in &c.regions {
        let (x, y, w, h) = rect(r);
        assert!(x >= 0.0 && y >= 0.0 && x + w <= 600.0 + 1e-9 && y + h <= 240.0 && h > 100.0);
    }
    let (ax, ay) = c.regions[1].shape.anchor();
    assert_eq!(hit(&c.regions, ax, ay).unwrap().key, "d2");
    assert!(hit(&c.regions, 1.0, 1.0).is_none());
    assert!(hit(&c.regions, ax, 239.0).is_none());
}

#[test]
fn timeline_thins_x_labels() {
    let buckets: Vec<TimeBucket> = (0..48)
        .map(|i| bucket(&i.to_string(), &format!("{:02}:00", i % 24), &[i + 1]))
        .collect();
    let s = vec![Series {
        label: "Sign-ins".into(),
        tone: Tone::Accent,
    }];
    let c = timeline("Sign-ins", &s, &buckets, "", size(600, 200), &pal());
    assert_eq!(c.regions.len(), 48);
    let shown = buckets
        .iter()
        .filter(|b| c.svg.contains(&format!("\n{}\n", b.label)))
        .count();
    assert!((4..=10).contains(&shown), "{shown} x labels");
    assert!(c.description.contains("48 periods from 00:00 to 23:00"));
}

#[test]
fn hostile_labels_are_escaped() {
    let labels = [HOSTILE, "\"quoted\"", "a & b"];
    let s: Vec<Series> = labels
        .iter()
        .zip(Tone::ALL)
        .map(|(l, t)| Series {
            label: l.to_string(),
            tone: t,
        })
        .collect();
    let rows: Vec<BarRow> = labels.iter().map(|l| row(l, l, &[1, 2, 3])).collect();
    let bars = stacked_bars("t", &s, &rows, false, size(900, 160), &pal()).svg;
    let slices: Vec<Slice> = labels.iter().map(|l| slice(l, l, 3, Tone::Good)).collect();
    let ring = donut("t", HOSTILE, &slices, size(900, 240), &pal()).svg;
    let buckets: Vec<TimeBucket> = labels.iter().map(|l| bucket(l, l, &[1, 2, 3])).collect();
    let tl = timeline("t", &s, &buckets, HOSTILE, size(900, 240), &pal()).svg;
    for svg in [&bars, &ring, &tl] {
        assert_escaped(svg);
        assert!(svg.contains("&quot;quoted&quot;"));
        assert!(svg.contains("a &amp; b"));
        assert!(!svg.contains("a & b"));
    }
    // Region titles stay plain text.
    let c = stacked_bars("t", &s, &rows, false, size(900, 160), &pal());
    assert_eq!(c.regions[0].title, HOSTILE);
}

#[test]
fn empty_data_draws_no_data() {
    let p = pal();
    let charts = [
        stacked_bars("t", &series3(), &[], false, size(400, 100), &p),
        stacked_bars(
            "t",
            &series3(),
            &[row("a", "A", &[0, 0, 0])],
            false,
            size(400, 100),
            &p,
        ),
        donut("t", "devices", &[], size(400, 200), &p),
        donut(
            "t",
            "devices",
            &[slice("a", "A", 0, Tone::Good)],
            size(400, 200),
            &p,
        ),
        timeline("t", &series3(), &[], "", size(400, 200), &p),
        timeline(
            "t",
            &series3(),
            &[bucket("a", "A", &[0, 0, 0])],
            "",
            size(400, 200),
            &p,
        ),
    ];
    for c in &charts {
        assert!(c.svg.contains("No data"));
        assert!(c.regions.is_empty());
        assert!(c.svg.contains("viewBox=\"0 0 400 "));
        assert!(!c.svg.contains("<polygon"));
        assert_eq!(c.description, "t: no data.");
    }
}

#[test]
fn hit_finds_region_or_none() {
    let r = |k: &str, x: f64| Region {
        shape: Shape::Rect {
            x,
            y: 10.0,
            w: 10.0,
            h: 10.0,
        },
        key: k.into(),
        title: k.into(),
        values: vec![],
    };
    let regions = vec![r("a", 0.0), r("b", 10.0)];
    assert_eq!(hit(&regions, 5.0, 15.0).unwrap().key, "a");
    assert_eq!(hit(&regions, 10.0, 15.0).unwrap().key, "b");
    assert!(hit(&regions, 25.0, 15.0).is_none());
    assert!(hit(&regions, 5.0, 5.0).is_none());
    let ring = Shape::Arc {
        cx: 50.0,
        cy: 50.0,
        inner: 20.0,
        outer: 40.0,
        start: 0.0,
        end: TAU / 4.0,
    };
    assert!(ring.contains(80.0, 45.0)); // right of centre, slightly up: inside first quarter
    assert!(!ring.contains(50.0, 80.0)); // 6 o'clock
    assert!(!ring.contains(55.0, 45.0)); // in the hole
}

#[test]
fn descriptions_are_bounded() {
    let slices: Vec<Slice> = (0..40)
        .map(|i| slice(&i.to_string(), &format!("Item {i}"), i + 1, Tone::Info))
        .collect();
    let c = donut("Many", "things", &slices, size(480, 240), &pal());
    assert!(c.description.contains("and 28 more"));
    assert!(c.description.len() < 400);
    assert!(c.svg.contains("more"));
}

#[test]
#[ignore]
fn write_samples() {
    let p = pal();
    let dir = std::path::Path::new("/tmp/charts-samples");
    std::fs::create_dir_all(dir).unwrap();
    let sev = vec![
        Series {
            label: "Severe".into(),
            tone: Tone::Severe,
        },
        Series {
            label: "High".into(),
            tone: Tone::High,
        },
        Series {
            label: "Moderate".into(),
            tone: Tone::Moderate,
        },
        Series {
            label: "Low".into(),
            tone: Tone::Low,
        },
    ];
    let rows = vec![
        row(
            "1",
            "Contoso Ltd (contoso.onmicrosoft.com)",
            &[2, 14, 30, 55],
        ),
        row("2", "Fabrikam", &[0, 3, 12, 40]),
        row("3", HOSTILE, &[1, 0, 0, 4]),
        row("4", "Northwind Traders & Co \"EU\"", &[0, 0, 0, 0]),
        row("5", "Tailspin Toys", &[5, 20, 9, 2]),
    ];
    let h = 56 + 30 * rows.len() as u32;
    let write = |name: &str, c: &Chart| std::fs::write(dir.join(name), &c.svg).unwrap();
    write(
        "bars.svg",
        &stacked_bars("Vulnerabilities", &sev, &rows, false, size(720, h), &p),
    );
    let comp = vec![
        Series {
            label: "Compliant".into(),
            tone: Tone::Good,
        },
        Series {
            label: "In grace period".into(),
            tone: Tone::Warn,
        },
        Series {
            label: "Not compliant".into(),
            tone: Tone::Bad,
        },
        Series {
            label: "Not evaluated".into(),
            tone: Tone::Idle,
        },
    ];
    write(
        "bars_share.svg",
        &stacked_bars("Compliance", &comp, &rows, true, size(720, h), &p),
    );
    let slices = vec![
        slice("h", "Healthy", 812, Tone::Good),
        slice("r", "Real-time protection off", 12, Tone::Warn),
        slice("o", "Signatures out of date", 0, Tone::Bad),
        slice(
            "n",
            "Not reporting for more than seven days",
            41,
            Tone::Idle,
        ),
    ];
    write(
        "donut.svg",
        &donut("Antivirus", "devices", &slices, size(480, 240), &p),
    );
    write(
        "donut_one.svg",
        &donut(
            "One",
            "devices",
            &[slice("a", "All", 1_000_000, Tone::Good)],
            size(480, 240),
            &p,
        ),
    );
    let days: Vec<TimeBucket> = (0..30)
        .map(|i: u64| {
            let v = if i % 7 == 5 {
                vec![0, 0, 0, 0]
            } else {
                vec![i % 3, (i * 7) % 11, (i * 13) % 17 + 3, (i * 5) % 9]
            };
            bucket(&i.to_string(), &format!("11-{:02}", i + 1), &v)
        })
        .collect();
    write(
        "timeline.svg",
        &timeline("Alerts", &sev, &days, "alerts", size(720, 260), &p),
    );
    let hours: Vec<TimeBucket> = (0..24u64)
        .map(|i| bucket(&i.to_string(), &format!("{i:02}:00"), &[i * 37 % 50, 900]))
        .collect();
    write(
        "timeline_small.svg",
        &timeline(
            "Sign-ins",
            &sev[..2],
            &hours,
            "sign-ins",
            size(360, 180),
            &p,
        ),
    );
    let many: Vec<BarRow> = (0..10u64)
        .map(|i| {
            row(
                &i.to_string(),
                &format!("Policy number {i} with a long name"),
                &[i * 3, 10 - i, 2, 0],
            )
        })
        .collect();
    write(
        "bars_dense.svg",
        &stacked_bars("Policies", &comp, &many, true, size(420, 40 + 18 * 10), &p),
    );
    write(
        "empty.svg",
        &timeline("Alerts", &sev, &[], "alerts", size(720, 260), &p),
    );
}

/// WCAG relative luminance and contrast ratio.
fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let lum = |(r, g, b): (u8, u8, u8)| {
        let ch = |c: u8| {
            let c = c as f64 / 255.0;
            if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)
    };
    let (x, y) = (lum(a), lum(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[test]
fn every_theme_meets_wcag_contrast() {
    for (key, _) in Palette::THEMES {
        let p = Palette::named(key);
        let surface = p.rgb(Tone::Surface);
        // Text: AA (4.5:1) in every theme, AAA (7:1) in high contrast.
        let text = if key == "contrast" { 7.0 } else { 4.5 };
        for t in [Tone::Text, Tone::Muted] {
            let c = contrast(p.rgb(t), surface);
            assert!(c >= text, "{key}: {t:?} on the surface is {c:.2}:1");
        }
        // Chart marks and status colours are graphics: 3:1 (4.5:1 in high contrast).
        let marks = if key == "contrast" { 4.5 } else { 3.0 };
        for t in [Tone::Good, Tone::Warn, Tone::Bad, Tone::Severe, Tone::High, Tone::Moderate, Tone::Low, Tone::Accent] {
            let c = contrast(p.rgb(t), surface);
            assert!(c >= marks, "{key}: {t:?} on the surface is {c:.2}:1");
        }
        // Text on the accent (buttons) reads too.
        let c = contrast(p.rgb(Tone::Surface), p.rgb(Tone::Accent));
        assert!(c >= 4.5, "{key}: the accent's ink is {c:.2}:1");
    }
    assert_eq!(Palette::named("nope"), Palette::light());
}

/// The stylesheet carries the light palette for pages drawn without the console's code (the
/// server's sign-in page): the same values as `Palette::light`.
#[test]
fn the_stylesheet_falls_back_to_the_light_palette() {
    let css = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/style/main.css")).unwrap();
    let vars = Palette::light().css_vars();
    let body = vars.trim_start_matches(":root{").trim_end_matches('}');
    assert!(css.contains(&format!(":root{{{body}}}")), "style/main.css must hold {vars}");
}
