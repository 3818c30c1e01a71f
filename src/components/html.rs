//! Cells as HTML text. Tables and field lists are static once drawn, so they are written as one
//! HTML string each (far less wasm than a view per cell). Every piece of data goes through
//! `escape`, links are built by the console (`routes`) or pass `http_url`, and the only behaviour
//! (copy buttons) is one delegated click handler (`install_copy_handler`).

use super::list_page::Cell;
use crate::format::{ago, datetime, http_url};

/// Text as HTML text or attribute value: `& < > " '` escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn chip(out: &mut String, tone: &str, label: &str, title: &str) {
    out.push_str(&format!("<span class=\"badge {tone}\" title=\"{}\">{}</span>", escape(title), escape(label)));
}

/// One cell as HTML; `now_ms` (JavaScript time) for relative times.
pub fn cell_html(cell: &Cell, now_ms: f64, out: &mut String) {
    match cell {
        Cell::Text(s) => out.push_str(&escape(s)),
        Cell::Link(href, label) => out.push_str(&format!("<a href=\"{}\">{}</a>", escape(href), escape(label))),
        Cell::Chip(tone, label, title) => chip(out, tone.css_name(), label, title),
        Cell::Alert(n, alert) => out.push_str(&format!("<span{}>{}</span>", if *alert { " class=\"alert\"" } else { "" }, escape(n))),
        Cell::Chips(chips) => {
            out.push_str("<span class=\"chips\">");
            for (tone, label, title) in chips {
                chip(out, tone.css_name(), label, title);
            }
            out.push_str("</span>");
        }
        Cell::Copy(value) if value.is_empty() => out.push('—'),
        Cell::Copy(value) => {
            let v = escape(value);
            out.push_str(&format!(
                "<span class=\"copyable\"><span class=\"mono\" title=\"{v}\">{v}</span><button type=\"button\" class=\"copy\" data-copy=\"{v}\" aria-label=\"Copy {v}\">Copy</button></span>"
            ));
        }
        Cell::Time(None, _) => out.push_str("<span class=\"muted\">Never</span>"),
        Cell::Time(Some(t), overdue) => {
            let rel = ago(t, now_ms).map(|r| format!(" <span class=\"muted\">({})</span>", escape(&r))).unwrap_or_default();
            let flag = if *overdue { " <span class=\"badge tone-bad\">Overdue</span>" } else { "" };
            out.push_str(&format!("<span{}>{}{rel}{flag}</span>", if *overdue { " class=\"overdue\"" } else { "" }, escape(&datetime(t))));
        }
        Cell::Fold(summary, groups) => {
            out.push_str(&format!("<details class=\"fold\"><summary>{}</summary>", escape(summary)));
            for (title, lines) in groups {
                out.push_str(&format!("<div class=\"fold-group\"><div class=\"fold-title\">{}</div><ul>", escape(title)));
                for l in lines {
                    out.push_str(&format!("<li>{}</li>", escape(l)));
                }
                out.push_str("</ul></div>");
            }
            out.push_str("</details>");
        }
        Cell::External(url) => match url.as_deref() {
            Some(raw) => match http_url(raw) {
                Some(href) => out.push_str(&format!(
                    "<a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\">More information</a>",
                    escape(&href)
                )),
                None => out.push_str(&format!("<span class=\"inert\" title=\"Not a web link\">{}</span>", escape(raw))),
            },
            None => out.push('—'),
        },
    }
}

/// Table rows: each row's cells, each cell with its CSS class.
pub fn rows_html(rows: impl Iterator<Item = Vec<(&'static str, Cell)>>, now_ms: f64) -> String {
    let mut out = String::new();
    for row in rows {
        out.push_str("<tr>");
        for (class, cell) in row {
            if class.is_empty() {
                out.push_str("<td>");
            } else {
                out.push_str(&format!("<td class=\"{class}\">"));
            }
            cell_html(&cell, now_ms, &mut out);
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out
}

/// A definition list's items: label, then the value.
pub fn fields_html(rows: &[(&'static str, Cell)], now_ms: f64) -> String {
    let mut out = String::new();
    for (label, cell) in rows {
        let l = escape(label);
        out.push_str(&format!("<dt>{l}</dt><dd data-field=\"{l}\">"));
        cell_html(cell, now_ms, &mut out);
        out.push_str("</dd>");
    }
    out
}

/// A small table of cells in a region that scrolls sideways (detail pages).
pub fn table_html(testid: &str, headers: &[&str], rows: Vec<Vec<Cell>>, now_ms: f64) -> String {
    let head: String = headers.iter().map(|h| format!("<th scope=\"col\">{}</th>", escape(h))).collect();
    let body = rows_html(rows.into_iter().map(|r| r.into_iter().map(|c| ("", c)).collect()), now_ms);
    format!(
        "<div class=\"scroll-x\" tabindex=\"0\" role=\"region\" aria-label=\"{t}\"><table class=\"grid compact\" data-testid=\"{t}\"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>",
        t = escape(testid)
    )
}

/// A panel with a heading around HTML.
pub fn panel_html(class: &str, testid: &str, title: &str, inner: &str) -> String {
    let id = if testid.is_empty() { String::new() } else { format!(" data-testid=\"{}\"", escape(testid)) };
    format!("<div class=\"panel {class}\"{id}><h2>{}</h2>{inner}</div>", escape(title))
}

/// A muted note.
pub fn note_html(text: &str) -> String {
    format!("<p class=\"muted\">{}</p>", escape(text))
}

/// The console's document-wide behaviour, one listener each instead of a handler per element:
/// copy buttons (`button.copy[data-copy]`) copy their value and say so for a moment; an open
/// popover (`details.popover`: column and filter pickers) closes on a click outside it, and on
/// Escape, giving the focus back to its button.
#[cfg(target_arch = "wasm32")]
pub fn install_document_handlers() {
    use wasm_bindgen::JsCast;
    let element = |t: Option<web_sys::EventTarget>| t.and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    let click = leptos::prelude::window_event_listener(leptos::ev::click, move |ev| {
        let target = element(ev.target());
        if let Some(button) = target.as_ref().and_then(|e| e.closest("button.copy[data-copy]").ok().flatten()) {
            if let Some(window) = web_sys::window() {
                let text = button.get_attribute("data-copy").unwrap_or_default();
                let _ = window.navigator().clipboard().write_text(&text);
                button.set_text_content(Some("Copied"));
                leptos::prelude::set_timeout(move || button.set_text_content(Some("Copy")), std::time::Duration::from_millis(1500));
            }
        }
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        let Ok(open) = doc.query_selector_all("details.popover[open]") else { return };
        for i in 0..open.length() {
            if let Some(d) = open.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlDetailsElement>().ok()) {
                if !target.as_ref().is_some_and(|t| d.contains(Some(t))) {
                    d.set_open(false);
                }
            }
        }
    });
    let escape = leptos::prelude::window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() != "Escape" {
            return;
        }
        let Some(d) = element(ev.target())
            .and_then(|e| e.closest("details.popover[open]").ok().flatten())
            .and_then(|d| d.dyn_into::<web_sys::HtmlDetailsElement>().ok())
        else {
            return;
        };
        ev.prevent_default();
        d.set_open(false);
        if let Some(summary) = d.first_element_child().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = summary.focus();
        }
    });
    std::mem::forget((click, escape));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::Tone;

    fn html(c: Cell) -> String {
        let mut out = String::new();
        cell_html(&c, 0.0, &mut out);
        out
    }

    #[test]
    fn data_is_text_never_markup() {
        let evil = "<script>alert(1)</script>\"'&";
        assert_eq!(html(Cell::Text(evil.into())), "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;");
        let link = html(Cell::Link("/threats/1".into(), evil.into()));
        assert!(link.starts_with("<a href=\"/threats/1\">&lt;script&gt;"), "{link}");
        let chip = html(Cell::Chip(Tone::Bad, evil.into(), evil.into()));
        assert!(!chip.contains("<script") && chip.contains("title=\"&lt;script&gt;"), "{chip}");
        let copy = html(Cell::Copy("a\"b".into()));
        assert!(copy.contains("data-copy=\"a&quot;b\""), "{copy}");
        let fold = html(Cell::Fold(evil.into(), vec![(evil.into(), vec![evil.into()])]));
        assert!(!fold.contains("<script"), "{fold}");
    }

    #[test]
    fn only_web_links_are_links() {
        assert!(html(Cell::External(Some("javascript:alert(1)".into()))).starts_with("<span class=\"inert\""));
        assert!(html(Cell::External(Some("https://example.com/a?b=\"c\"".into()))).starts_with("<span class=\"inert\""));
        assert!(html(Cell::External(Some("https://go.microsoft.com/fwlink/?linkid=37020".into()))).contains("href=\"https://go.microsoft.com/fwlink/?linkid=37020\""));
        assert_eq!(html(Cell::External(None)), "—");
    }

    #[test]
    fn rows_and_fields() {
        let rows = rows_html(vec![vec![("name", Cell::Text("A".into())), ("", Cell::Text("B".into()))]].into_iter(), 0.0);
        assert_eq!(rows, "<tr><td class=\"name\">A</td><td>B</td></tr>");
        assert_eq!(fields_html(&[("OS", Cell::Text("Win".into()))], 0.0), "<dt>OS</dt><dd data-field=\"OS\">Win</dd>");
    }
}
