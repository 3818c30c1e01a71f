//! Device detail (`/devices/{AADDeviceID}`): identity, Defender health, threats, collections, apps.

use crate::api;
use crate::charts::Tone;
use crate::components::html::{cell_html, escape, fields_html, note_html, panel_html, table_html};
use crate::components::list_page::{chip, link, text, Cell};
use crate::components::status::{ErrorMessage, Loading};
use crate::format::{datetime, language, severity_tone, threat_state_tone, verdict_tone};
use crate::routes;
use leptos::prelude::*;
use tenantscope_model::api::DeviceDetail;
use crate::contexts::page::use_page;
use tenantscope_model::{Application, DefenderHealth, Flag, FlagSeverity, HealthVerdict, MdeOnboardingState};

#[component]
pub fn Device(id: String) -> impl IntoView {
    let id = StoredValue::new(id);
    let id = move || id.get_value();
    let detail = api::resource(move || Ok(format!("/devices/{}", tenantscope_model::api::encode_component(&id()))));
    view! {
        <section class="page">
            {move || match detail.get().map(|r| r.and_then(|b| b.decode::<tenantscope_model::api::DeviceDetail>())) {
                    None => view! { <Loading /> }.into_any(),
                        Some(Ok(d)) => view! { <DeviceView detail=d /> }.into_any(),
                        Some(Err(e)) if e.is_not_found() => view! {
                            <h1>"Device not found"</h1>
                            <div class="panel" data-testid="not-found">
                                <p>"No device has the Entra device ID " <code>{id()}</code> "."</p>
                                <p><a href="/devices">"Back to Devices"</a></p>
                            </div>
                        }.into_any(),
                        Some(Err(e)) => view! {
                            <h1>"Device"</h1>
                            <ErrorMessage title="Could not load this device" retryable=e.retryable() message=e.to_string() retry=move || detail.refetch() />
                        }.into_any(),
                }}
        </section>
    }
}

/// Decoded flags as chips: problems in their colour, informational flags muted; `ok` when no flag
/// signals a problem (never a green chip next to a red one). The raw number is only a tooltip.
fn flag_chips(flags: Vec<Flag>, raw: u64, ok: &str) -> Cell {
    let mut chips: Vec<(Tone, String, String)> = flags
        .iter()
        .map(|f| {
            let tone = match f.severity {
                FlagSeverity::Info => Tone::Idle,
                FlagSeverity::Warning => Tone::Warn,
                FlagSeverity::Critical => Tone::Bad,
            };
            (tone, f.label.to_string(), format!("Flag {} of raw value {raw}", f.value))
        })
        .collect();
    if flags.iter().all(|f| f.severity == FlagSeverity::Info) {
        chips.retain(|c| c.1 != "No status flags set (well initialised)");
        chips.insert(0, (Tone::Good, ok.to_string(), format!("Raw value {raw}")));
    }
    Cell::Chips(chips)
}

fn yes_no(value: bool, good_when: bool) -> Cell {
    chip(if value == good_when { Tone::Good } else { Tone::Bad }, if value { "Yes" } else { "No" })
}

#[component]
fn DeviceView(detail: DeviceDetail) -> impl IntoView {
    use_page().set_object(detail.device.device.name.clone());
    // Static once drawn: one HTML string (links go through the router, copy buttons through the
    // console's one copy handler).
    view! { <div class="device-view" inner_html=device_html(detail, js_sys::Date::now())></div> }
}

/// The device page's content as HTML (every value escaped).
pub fn device_html(detail: DeviceDetail, now_ms: f64) -> String {
    let (_, findings) = HealthVerdict::assess(detail.health.as_ref(), &detail.active_threats(), Some((now_ms / 1000.0) as i64));
    let row = detail.device;
    let d = row.device;
    let identity = vec![
        ("Name", text(&d.name)),
        ("OS", text(&d.device_os)),
        ("OS build", text(&d.device_os_build)),
        ("SKU", text(&d.sku)),
        ("Model", text(&d.model)),
        ("Manufacturer", text(&d.manufacturer)),
        ("Serial number", Cell::Copy(d.serial_number.clone())),
        ("Domain", text(&d.domain_names)),
        ("Entra device ID", Cell::Copy(d.aad_device_id.clone())),
        ("Primary user ID", Cell::Copy(d.aad_primary_user_id.clone().unwrap_or_default())),
        ("SMS ID", Cell::Copy(d.smsid.clone())),
        ("Tenant ID", Cell::Copy(d.aad_tenant_id.clone())),
    ];
    let threats: Vec<Vec<Cell>> = detail
        .threats
        .iter()
        .map(|t| {
            vec![
                link(routes::threat(t.threat_id), &t.threat_name),
                text(t.category.label()),
                chip(severity_tone(t.severity), t.severity.label()),
                chip(threat_state_tone(t.current_status), t.current_status.label()),
                text(t.current_status_id.label()),
                text(t.execution_status.label()),
                text(t.number_of_detections.to_string()),
                text(datetime(&t.initial_detection_time)),
                text(datetime(&t.last_threat_status_change_time)),
                Cell::External(t.url.clone()),
            ]
        })
        .collect();
    let n_types = detail.applications.len();
    let apps: Vec<Vec<Cell>> = dedupe_apps(detail.applications)
        .into_iter()
        .map(|(a, n)| {
            vec![text(a.product_name), text(a.version), text(language(a.product_language)), text(a.publisher), text(n.to_string())]
        })
        .collect();
    let n_apps = apps.len();
    let verdict = row.defender_health;
    let mut out = String::new();
    out.push_str(&format!("<div class=\"page-head detail-head\"><h1 data-testid=\"device-name\">{}</h1><span data-testid=\"verdict\">", escape(&d.name)));
    cell_html(&Cell::Chip(verdict_tone(verdict), verdict.label().into(), verdict.rule().into()), now_ms, &mut out);
    out.push_str("</span></div>");
    let why = if findings.is_empty() {
        note_html(verdict.rule())
    } else {
        let mut list = String::from("<ul class=\"plain\">");
        for f in &findings {
            list.push_str("<li>");
            cell_html(&chip(verdict_tone(f.verdict), f.verdict.label()), now_ms, &mut list);
            list.push_str(&format!(" {}</li>", escape(&f.text)));
        }
        list + "</ul>"
    };
    out.push_str(&panel_html("findings", "findings", "Why this verdict", &why));
    let health = match detail.health {
        Some(h) => format!("<dl class=\"fields\" data-testid=\"health\">{}</dl>", fields_html(&health_fields(h), now_ms)),
        None => note_html("This device has not reported Defender health."),
    };
    out.push_str(&format!(
        "<div class=\"detail-grid\">{}{}</div>",
        panel_html("", "", "Identity", &format!("<dl class=\"fields\" data-testid=\"identity\">{}</dl>", fields_html(&identity, now_ms))),
        panel_html("", "", "Defender health", &health)
    ));
    let threats_html = if threats.is_empty() {
        note_html("No threats detected on this device.")
    } else {
        let headers = ["Threat", "Category", "Severity", "State", "Detection status", "Execution", "Detections", "First detected", "Last change", "More information"];
        table_html("threats", &headers, threats, now_ms)
    };
    out.push_str(&panel_html("", "", &format!("Threats ({})", detail.threats.len()), &threats_html));
    let mut collections = String::from("<ul class=\"plain\" data-testid=\"collections\">");
    for c in &detail.collections {
        collections.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <span class=\"muted\">{}</span></li>",
            escape(&routes::collection(&c.collection_id)),
            escape(&c.collection_name),
            escape(&c.collection_id)
        ));
    }
    collections.push_str("</ul>");
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut apps_html = format!(
        "<p class=\"muted small\" data-testid=\"applications-count\">{n_apps} product version{} · {n_types} deployment type{}</p>",
        plural(n_apps),
        plural(n_types)
    );
    apps_html.push_str(&if apps.is_empty() {
        note_html("No MSI deployment types target this device's collections.")
    } else {
        table_html("applications", &["Product", "Version", "Language", "Publisher", "Deployment types"], apps, now_ms)
    });
    out.push_str(&format!(
        "<div class=\"detail-grid\">{}{}</div>",
        panel_html("", "", &format!("Collections ({})", detail.collections.len()), &collections),
        panel_html("", "", "Applications deployed", &apps_html)
    ));
    out
}

/// Deployment types of the same product, version and language shown once, with how many there are.
pub fn dedupe_apps(apps: Vec<Application>) -> Vec<(Application, usize)> {
    let mut out: Vec<(Application, usize)> = Vec::new();
    for a in apps {
        match out.iter_mut().find(|(b, _)| {
            b.product_name == a.product_name && b.version == a.version && b.product_language == a.product_language
        }) {
            Some((_, n)) => *n += 1,
            None => out.push((a, 1)),
        }
    }
    out
}

fn health_fields(h: DefenderHealth) -> Vec<(&'static str, Cell)> {
    let ps = h.product_status;
    let cs = h.computer_state;
    vec![
        ("Product status", flag_chips(ps.flags(), ps.0, "No problems reported")),
        ("Computer state", flag_chips(cs.flags(), cs.0, "Clean")),
        ("Defender enabled", yes_no(h.defender_enabled, true)),
        ("Real-time protection", yes_no(h.rtp_enabled, true)),
        // Not part of the verdict: off is worth a look, not a red finding.
        ("Network protection", chip(if h.nis_enabled { Tone::Good } else { Tone::Warn }, if h.nis_enabled { "Yes" } else { "No" })),
        ("Tamper protection", yes_no(h.tamper_protection_enabled, true)),
        ("Defender for Endpoint", chip(
            if h.mde_onboarding_state == MdeOnboardingState::Onboarded && h.is_mde_sense_running { Tone::Good } else { Tone::Warn },
            format!("{}, sensor {}", h.mde_onboarding_state.label(), if h.is_mde_sense_running { "running" } else { "not running" }),
        )),
        ("Signatures out of date", yes_no(h.signature_out_of_date, false)),
        ("Reboot required", yes_no(h.reboot_required, false)),
        ("Full scan required", yes_no(h.full_scan_required, false)),
        ("Virtual machine", text(if h.is_virtual_machine { "Yes" } else { "No" })),
        ("Last signature update", Cell::Time(h.last_update_time, h.signature_out_of_date)),
        ("Last quick scan", Cell::Time(h.quick_scan_time, h.quick_scan_overdue)),
        ("Last full scan", Cell::Time(h.full_scan_time, h.full_scan_overdue)),
        ("Signature version", Cell::Copy(h.signature_version)),
        ("Engine version", Cell::Copy(h.engine_version)),
        ("Platform version", Cell::Copy(h.defender_version)),
        ("Quick scan signatures", text(h.quick_scan_sig_version.unwrap_or_default())),
        ("Full scan signatures", text(h.full_scan_sig_version.unwrap_or_default())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device as a hostile site could upload it: markup in every text it controls.
    const HOSTILE: &str = r#"{
        "device": {"SMSID": "<b>s</b>", "AADTenantID": "t\"", "AADDeviceID": "d'", "Name": "<script>alert(1)</script>",
            "DeviceOS": "<img src=x onerror=alert(1)>", "DeviceOSBuild": "&", "AADPrimaryUserID": null, "Model": "<i>m</i>",
            "Manufacturer": "M", "SerialNumber": "\"><script>", "DomainNames": "d", "SKU": "s",
            "DefenderHealth": "unhealthy", "AgentState": "rtp_off", "ActiveThreats": 1},
        "health": null,
        "threats": [{"ThreatID": 7, "ThreatName": "<script>x</script>", "Category": 8, "Severity": 5, "URL": "javascript:alert(1)",
            "CurrentStatus": 1, "CurrentStatusID": 1, "ExecutionStatus": 1, "LastThreatStatusChangeTime": "2026-11-24T10:00:00Z",
            "InitialDetectionTime": "2026-11-24T09:00:00Z", "NumberOfDetections": 1, "DeviceId": "d'"}],
        "collections": [{"CollectionId": "C<1>", "CollectionName": "<script>c</script>"}],
        "applications": [{"ProductName": "<script>p</script>", "Publisher": "P&P", "Version": "1", "ProductLanguage": 0, "ProgramID": "x"}]
    }"#;

    #[test]
    fn uploaded_text_is_never_markup() {
        let detail: DeviceDetail = tenantscope_model::json::parse(HOSTILE).unwrap();
        let html = device_html(detail, 1_795_536_000_000.0);
        assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>") && !html.contains("<i>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("href=\"javascript"), "a javascript: URL is never a link");
        assert!(html.contains("Active threat: &lt;script&gt;x&lt;/script&gt; (Severe)"), "the verdict says why");
        assert!(html.contains("href=\"/collections/C%3C1%3E\""), "{html}");
    }
}
