//! Pieces shared by pages: the list page every list is a configuration of, charts, KPI tiles,
//! chips, copy buttons, loading and error states.

pub mod chart;
pub mod html;
pub mod kpi;
pub mod list_page;
pub mod list_parts;
pub mod status;
pub mod threat_timeline;
