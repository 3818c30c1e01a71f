//! Device detail (`/devices/{AADDeviceID}`): identity, Defender health, threats, collections, apps.

use crate::api;
use crate::components::chips::{severity_chip, state_chip, verdict_chip};
use crate::components::copy_button::CopyButton;
use crate::components::status::Loading;
use crate::format::{ago, datetime, http_url, language};
use crate::routes;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use tenantscope_model::api::DeviceDetail;
use tenantscope_model::{Application, DefenderHealth, Flag, FlagSeverity, ThreatDetection};

#[component]
pub fn Device() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = LocalResource::new(move || {
        let id = id();
        async move { api::device(&id).await }
    });
    view! {
        <section class="page">
            {move || match detail.get() {
                    None => view! { <Loading /> }.into_any(),
                        Some(Ok(d)) => view! { <DeviceView detail=d /> }.into_any(),
                        Some(Err(e)) if e.is_not_found() => view! {
                            <h1>"Device not found"</h1>
                            <div class="panel" data-testid="not-found">
                                <p>"No device has the Entra device ID " <code>{id()}</code> "."</p>
                                <p><A href="/devices">"Back to Devices"</A></p>
                            </div>
                        }.into_any(),
                        Some(Err(e)) => view! {
                            <h1>"Device"</h1>
                            <div class="panel error" role="alert">
                                <h2>"Could not load this device"</h2>
                                <p>{e.to_string()}</p>
                                <button class="button" on:click=move |_| detail.refetch()>"Try again"</button>
                            </div>
                        }.into_any(),
                }}
        </section>
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A time as absolute and relative text, highlighted when it is overdue.
fn when(value: &Option<String>, overdue: bool) -> AnyView {
    match value {
        Some(t) => {
            let rel = ago(t, now_ms()).unwrap_or_default();
            view! {
                <span class:overdue=overdue>
                    {datetime(t)} <span class="muted">" (" {rel} ")"</span>
                    {overdue.then(|| view! { <span class="badge tone-bad">"Overdue"</span> })}
                </span>
            }
            .into_any()
        }
        None => view! { <span class="muted">"Never"</span> }.into_any(),
    }
}

fn flag_chips(flags: Vec<Flag>) -> impl IntoView {
    flags
        .into_iter()
        .map(|f| {
            let class = match f.severity {
                FlagSeverity::Info => "badge tone-good",
                FlagSeverity::Warning => "badge tone-warn",
                FlagSeverity::Critical => "badge tone-bad",
            };
            view! { <span class=class title=format!("flag value {}", f.value)>{f.label}</span> }
        })
        .collect_view()
}

fn on_off(value: bool, good_when: bool) -> impl IntoView {
    let class = if value == good_when { "badge tone-good" } else { "badge tone-bad" };
    view! { <span class=class>{if value { "Yes" } else { "No" }}</span> }
}

#[component]
fn DeviceView(detail: DeviceDetail) -> impl IntoView {
    let row = detail.device;
    let d = row.device.clone();
    let ids: Vec<(&'static str, String, bool)> = vec![
        ("Name", d.name.clone(), false),
        ("OS", d.device_os.clone(), false),
        ("OS build", d.device_os_build.clone(), false),
        ("SKU", d.sku.clone(), false),
        ("Model", d.model.clone(), false),
        ("Manufacturer", d.manufacturer.clone(), false),
        ("Serial number", d.serial_number.clone(), true),
        ("Domain", d.domain_names.clone(), false),
        ("Entra device ID", d.aad_device_id.clone(), true),
        ("Primary user ID", d.aad_primary_user_id.clone().unwrap_or_default(), true),
        ("SMS ID", d.smsid.clone(), true),
        ("Tenant ID", d.aad_tenant_id.clone(), true),
    ];
    let identity = ids
        .into_iter()
        .map(|(label, value, copy)| {
            let empty = value.is_empty();
            view! {
                <dt>{label}</dt>
                <dd data-field=label>
                    {if empty { "—".to_string() } else { value.clone() }}
                    {(copy && !empty).then(|| view! { <CopyButton text=value what=label /> })}
                </dd>
            }
        })
        .collect_view();
    view! {
        <div class="page-head detail-head">
            <h1 data-testid="device-name">{d.name.clone()}</h1>
            <span data-testid="verdict">{verdict_chip(row.defender_health)}</span>
        </div>
        <div class="detail-grid">
            <div class="panel">
                <h2>"Identity"</h2>
                <dl class="fields">{identity}</dl>
            </div>
            <div class="panel">
                <h2>"Defender health"</h2>
                {match detail.health {
                    Some(h) => view! { <Health health=h /> }.into_any(),
                    None => view! { <p class="muted">"This device has not reported Defender health."</p> }.into_any(),
                }}
            </div>
        </div>
        <div class="panel scroll-x">
            <h2>{format!("Threats ({})", detail.threats.len())}</h2>
            <Threats threats=detail.threats />
        </div>
        <div class="detail-grid">
            <div class="panel">
                <h2>{format!("Collections ({})", detail.collections.len())}</h2>
                <ul class="plain" data-testid="collections">
                    {detail.collections.into_iter().map(|c| {
                        let href = routes::collection(&c.collection_id);
                        view! { <li><A href=href>{c.collection_name}</A> " " <span class="muted">{c.collection_id}</span></li> }
                    }).collect_view()}
                </ul>
            </div>
            <div class="panel">
                <h2>{format!("Applications deployed ({})", detail.applications.len())}</h2>
                {if detail.applications.is_empty() {
                    view! { <p class="muted">"No MSI deployment types target this device's collections."</p> }.into_any()
                } else {
                    view! {
                        <table class="grid compact">
                            <thead><tr><th>"Product"</th><th>"Version"</th><th>"Language"</th><th>"Publisher"</th><th>"Deployment types"</th></tr></thead>
                            <tbody>
                                {dedupe_apps(detail.applications).into_iter().map(|(a, n)| view! {
                                    <tr title=a.program_id.clone()>
                                        <td>{a.product_name}</td><td>{a.version}</td><td>{language(a.product_language)}</td>
                                        <td>{a.publisher}</td><td class="num">{n}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
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

#[component]
fn Health(health: DefenderHealth) -> impl IntoView {
    let h = health;
    let ps = h.product_status;
    let cs = h.computer_state;
    view! {
        <dl class="fields">
            <dt>"Product status"</dt>
            <dd data-field="ProductStatus"><div class="chips">{flag_chips(ps.flags())}</div><span class="muted">{format!("value {}", ps.0)}</span></dd>
            <dt>"Computer state"</dt>
            <dd data-field="ComputerState"><div class="chips">{if cs.is_clean() {
                view! { <span class="badge tone-good">"Clean"</span> }.into_any()
            } else {
                flag_chips(cs.flags()).into_any()
            }}</div></dd>
            <dt>"Defender enabled"</dt><dd>{on_off(h.defender_enabled, true)}</dd>
            <dt>"Real-time protection"</dt><dd>{on_off(h.rtp_enabled, true)}</dd>
            <dt>"Network protection"</dt><dd>{on_off(h.nis_enabled, true)}</dd>
            <dt>"Tamper protection"</dt><dd>{on_off(h.tamper_protection_enabled, true)}</dd>
            <dt>"Defender for Endpoint"</dt>
            <dd>{h.mde_onboarding_state.label().to_string()} " · sensor " {on_off(h.is_mde_sense_running, true)}</dd>
            <dt>"Signatures out of date"</dt><dd>{on_off(h.signature_out_of_date, false)}</dd>
            <dt>"Reboot required"</dt><dd>{on_off(h.reboot_required, false)}</dd>
            <dt>"Full scan required"</dt><dd>{on_off(h.full_scan_required, false)}</dd>
            <dt>"Virtual machine"</dt><dd>{if h.is_virtual_machine { "Yes" } else { "No" }}</dd>
            <dt>"Last signature update"</dt><dd data-field="LastUpdateTime">{when(&h.last_update_time, h.signature_out_of_date)}</dd>
            <dt>"Last quick scan"</dt><dd data-field="QuickScanTime">{when(&h.quick_scan_time, h.quick_scan_overdue)}</dd>
            <dt>"Last full scan"</dt><dd data-field="FullScanTime">{when(&h.full_scan_time, h.full_scan_overdue)}</dd>
            <dt>"Signature version"</dt><dd>{h.signature_version}</dd>
            <dt>"Engine version"</dt><dd>{h.engine_version}</dd>
            <dt>"Platform version"</dt><dd>{h.defender_version}</dd>
            <dt>"Quick scan signatures"</dt><dd>{h.quick_scan_sig_version.unwrap_or_default()}</dd>
            <dt>"Full scan signatures"</dt><dd>{h.full_scan_sig_version.unwrap_or_default()}</dd>
        </dl>
    }
}

#[component]
fn Threats(threats: Vec<ThreatDetection>) -> impl IntoView {
    if threats.is_empty() {
        return view! { <p class="muted">"No threats detected on this device."</p> }.into_any();
    }
    let now = now_ms();
    view! {
        <table class="grid compact" data-testid="threats">
            <thead><tr>
                <th>"Threat"</th><th>"Category"</th><th>"Severity"</th><th>"State"</th><th>"Detection status"</th>
                <th>"Execution"</th><th>"Detections"</th><th>"First detected"</th><th>"Last change"</th>
            </tr></thead>
            <tbody>
                {threats.into_iter().map(|t| {
                    let link = t.url.as_deref().and_then(http_url);
                    view! {
                        <tr>
                            <td>
                                <A href=routes::threat(t.threat_id)>{t.threat_name.clone()}</A>
                                {link.map(|href| view! { " " <a href=href target="_blank" rel="noopener noreferrer nofollow">"info"</a> })}
                            </td>
                            <td>{t.category.label().to_string()}</td>
                            <td>{severity_chip(t.severity)}</td>
                            <td>{state_chip(t.current_status)}</td>
                            <td>{t.current_status_id.label().to_string()}</td>
                            <td>{t.execution_status.label().to_string()}</td>
                            <td class="num">{t.number_of_detections}</td>
                            <td title=ago(&t.initial_detection_time, now).unwrap_or_default()>{datetime(&t.initial_detection_time)}</td>
                            <td title=ago(&t.last_threat_status_change_time, now).unwrap_or_default()>{datetime(&t.last_threat_status_change_time)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
