//! Device detail (`/devices/{AADDeviceID}`): identity, Defender health, threats, collections, apps.

use crate::api;
use crate::charts::Tone;
use crate::components::list_page::{cell_table, chip, fields, link, render, text, Cell};
use crate::components::status::{ErrorMessage, Loading};
use crate::format::{datetime, language, severity_tone, threat_state_tone, verdict_tone};
use crate::routes;
use leptos::prelude::*;
use tenantscope_model::api::DeviceDetail;
use crate::contexts::page::use_page;
use tenantscope_model::{ActiveThreat, Application, DefenderHealth, Flag, FlagSeverity, HealthVerdict, MdeOnboardingState};

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
    let row = detail.device;
    let d = row.device.clone();
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
    let apps: Vec<Vec<Cell>> = dedupe_apps(detail.applications.clone())
        .into_iter()
        .map(|(a, n)| {
            vec![text(a.product_name), text(a.version), text(language(a.product_language)), text(a.publisher), text(n.to_string())]
        })
        .collect();
    let n_threats = detail.threats.len();
    let n_types = detail.applications.len();
    let n_apps = apps.len();
    let active: Vec<ActiveThreat<'_>> = detail
        .threats
        .iter()
        .filter(|t| t.current_status.is_active())
        .map(|t| ActiveThreat { name: &t.threat_name, severity: t.severity })
        .collect();
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let (_, findings) = HealthVerdict::assess(detail.health.as_ref(), &active, Some(now));
    let verdict = row.defender_health;
    let why = if findings.is_empty() {
        verdict.rule().to_string()
    } else {
        String::new()
    };
    use_page().set_object(d.name.clone());
    view! {
        <div class="page-head detail-head">
            <h1 data-testid="device-name">{d.name.clone()}</h1>
            <span data-testid="verdict">{render(Cell::Chip(verdict_tone(verdict), verdict.label().into(), verdict.rule().into()))}</span>
        </div>
        <div class="panel findings" data-testid="findings">
            <h2>"Why this verdict"</h2>
            {if findings.is_empty() {
                view! { <p class="muted">{why}</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {findings.into_iter().map(|f| view! {
                            <li>{render(chip(verdict_tone(f.verdict), f.verdict.label()))} " " {f.text}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
        <div class="detail-grid">
            <div class="panel">
                <h2>"Identity"</h2>
                {fields("identity", identity)}
            </div>
            <div class="panel">
                <h2>"Defender health"</h2>
                {match detail.health {
                    Some(h) => fields("health", health_fields(h)).into_any(),
                    None => view! { <p class="muted">"This device has not reported Defender health."</p> }.into_any(),
                }}
            </div>
        </div>
        <div class="panel">
            <h2>{format!("Threats ({n_threats})")}</h2>
            {if n_threats == 0 {
                view! { <p class="muted">"No threats detected on this device."</p> }.into_any()
            } else {
                cell_table("threats", &["Threat", "Category", "Severity", "State", "Detection status", "Execution", "Detections", "First detected", "Last change", "More information"], threats).into_any()
            }}
        </div>
        <div class="detail-grid">
            <div class="panel">
                <h2>{format!("Collections ({})", detail.collections.len())}</h2>
                <ul class="plain" data-testid="collections">
                    {detail.collections.into_iter().map(|c| {
                        let href = routes::collection(&c.collection_id);
                        view! { <li><a href=href>{c.collection_name}</a> " " <span class="muted">{c.collection_id}</span></li> }
                    }).collect_view()}
                </ul>
            </div>
            <div class="panel">
                <h2>"Applications deployed"</h2>
                <p class="muted small" data-testid="applications-count">
                    {format!("{n_apps} product version{} · {n_types} deployment type{}", if n_apps == 1 { "" } else { "s" }, if n_types == 1 { "" } else { "s" })}
                </p>
                {if n_apps == 0 {
                    view! { <p class="muted">"No MSI deployment types target this device's collections."</p> }.into_any()
                } else {
                    cell_table("applications", &["Product", "Version", "Language", "Publisher", "Deployment types"], apps).into_any()
                }}
            </div>
        </div>
    }
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
        ("Network protection", yes_no(h.nis_enabled, true)),
        ("Tamper protection", yes_no(h.tamper_protection_enabled, true)),
        ("Defender for Endpoint", chip(
            if h.mde_onboarding_state == MdeOnboardingState::Onboarded && h.is_mde_sense_running { Tone::Good } else { Tone::Bad },
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
