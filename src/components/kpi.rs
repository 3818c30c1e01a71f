use crate::charts::Tone;

/// One key figure, appended to `out` as HTML (a tile of a `kpi-grid`). `kpi` names it for tests;
/// `href` opens the list it counts; `note` and `title` may be empty. Every text is escaped.
#[allow(clippy::too_many_arguments)]
pub fn kpi_html(out: &mut String, kpi: &str, label: &str, value: &str, note: &str, tone: Option<Tone>, href: Option<&str>, title: &str) {
    use super::html::escape;
    let class = format!("kpi {}", tone.map(Tone::css_name).unwrap_or(""));
    let note = if note.is_empty() { String::new() } else { format!("<div class=\"kpi-note\">{}</div>", escape(note)) };
    let body = format!(
        "<div class=\"kpi-label\">{}</div><div class=\"kpi-value\" data-kpi=\"{kpi}\">{}</div>{note}",
        escape(label),
        escape(value)
    );
    out.push_str(&match href {
        Some(href) => format!("<a class=\"{class}\" href=\"{}\" title=\"{}\">{body}</a>", escape(href), escape(title)),
        None => format!("<div class=\"{class}\" title=\"{}\">{body}</div>", escape(title)),
    });
}
