//! Coloured chips: the colour comes from the palette tone, the text always says the same thing.

use crate::charts::Tone;
use crate::format::{agent_tone, severity_tone, threat_state_tone, verdict_tone};
use leptos::prelude::*;
use tenantscope_model::{AgentState, HealthVerdict, Severity, ThreatState};

#[component]
pub fn Chip(tone: Tone, text: String, #[prop(optional)] title: String) -> impl IntoView {
    view! { <span class=format!("badge {}", tone.css_name()) title=title>{text}</span> }
}

pub fn verdict_chip(v: HealthVerdict) -> AnyView {
    view! { <Chip tone=verdict_tone(v) text=v.label().to_string() title=v.rule().to_string() /> }.into_any()
}

pub fn severity_chip(s: Severity) -> AnyView {
    view! { <Chip tone=severity_tone(s) text=s.label().into_owned() /> }.into_any()
}

pub fn agent_chip(s: AgentState) -> AnyView {
    view! { <Chip tone=agent_tone(s) text=s.label().to_string() /> }.into_any()
}

pub fn state_chip(s: ThreatState) -> AnyView {
    view! { <Chip tone=threat_state_tone(s) text=s.label().into_owned() /> }.into_any()
}
