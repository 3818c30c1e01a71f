//! What the current page is about, for the frame: the object a detail page shows (its name goes into
//! the breadcrumb and the document title), and the last view of each list (the breadcrumb's way back).

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct PageContext {
    /// The name of the object a detail page shows ("LTP-AMS-00339"); None on list pages.
    pub object: RwSignal<Option<String>>,
    /// The last URL (path and query) seen for each list path ("/devices" → "/devices?DefenderHealth=at_risk").
    lists: RwSignal<Vec<(String, String)>>,
    /// The row a list opened last, so that going back restores the list's scroll and focus.
    opened: StoredValue<Option<Opened>>,
}

/// Where a list was when one of its rows was opened.
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    /// The list's URL (path and query).
    pub list: String,
    /// The link that was followed.
    pub href: String,
    /// The window's and the table's scroll positions.
    pub window_y: f64,
    pub table_y: f64,
    pub table_x: f64,
}

pub fn provide_page() {
    provide_context(PageContext { object: RwSignal::new(None), lists: RwSignal::new(Vec::new()), opened: StoredValue::new(None) });
}

pub fn use_page() -> PageContext {
    expect_context::<PageContext>()
}

impl PageContext {
    /// Names the object of the current page (a detail page calls it once its data is in).
    pub fn set_object(&self, name: impl Into<String>) {
        self.object.set(Some(name.into()));
    }

    /// Remembers the view of a list page.
    pub fn remember_list(&self, path: &str, url: String) {
        self.lists.update(|lists| match lists.iter_mut().find(|(p, _)| p == path) {
            Some(entry) => entry.1 = url,
            None => lists.push((path.to_string(), url)),
        });
    }

    /// Remembers the row a list is opening.
    pub fn opening(&self, opened: Opened) {
        self.opened.set_value(Some(opened));
    }

    /// The row opened from the list at `url`, once (taken).
    pub fn take_opened(&self, url: &str) -> Option<Opened> {
        let found = self.opened.with_value(|o| o.as_ref().filter(|o| o.list == url).cloned());
        if found.is_some() {
            self.opened.set_value(None);
        }
        found
    }

    /// The last view of the list at `path` (tracked), or the path itself.
    pub fn list_href(&self, path: &str) -> String {
        self.lists.with(|lists| lists.iter().find(|(p, _)| p == path).map(|(_, u)| u.clone())).unwrap_or_else(|| path.to_string())
    }
}

/// "LTP-AMS-00339 · Devices · Tenantscope": the object (if any), the page, the product.
pub fn document_title(object: Option<&str>, page: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(o) = object.filter(|o| !o.is_empty()) {
        parts.push(o);
    }
    if !page.is_empty() {
        parts.push(page);
    }
    parts.push("Tenantscope");
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn titles_name_the_object_and_the_page() {
        assert_eq!(super::document_title(Some("LTP-AMS-00339"), "Devices"), "LTP-AMS-00339 · Devices · Tenantscope");
        assert_eq!(super::document_title(None, "Threats"), "Threats · Tenantscope");
        assert_eq!(super::document_title(None, ""), "Tenantscope");
    }
}
