//! `events`: Server-Sent Events of change notices. Each event is `event: change`, `id:` the change
//! id and `data:` the notice (entity, records, time, summary). A client reconnecting with
//! `Last-Event-ID` first gets the notices it missed, or `event: reset` when too many were missed
//! (reload everything). Comment lines every 15 seconds keep proxies from closing an idle stream.

use super::{only_params, query_pairs, ApiContext, Routes};
use crate::error::Result;
use crate::live::Notice;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

pub fn router() -> Routes {
    Routes::new().route("/events", get(events))
}

/// Seconds between heartbeats on an idle stream.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// A notice as an event; in privacy mode with its masked values (the tenant) aliased from what the
/// stream looked up when it opened.
fn change_event(notice: &Notice, private: Option<&crate::privacy::Privacy>) -> Event {
    let event = Event::default().event("change").id(notice.id.to_string());
    let data = match private {
        None => event.json_data(notice),
        Some(p) => {
            let mut json = serde_json::to_value(notice).unwrap_or_default();
            match p.aliaser(None).json(&mut json) {
                Ok(()) => event.json_data(json),
                Err(_) => return reset_event(),
            }
        }
    };
    data.unwrap_or_else(|_| reset_event())
}

fn reset_event() -> Event {
    Event::default().event("reset").data("{}")
}

async fn events(
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    only_params(&query_pairs(&raw.0), &[])?;
    // A Last-Event-ID that is not a change id is as if none were sent.
    let last_seen = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    let private = crate::privacy::current();
    if let Some(p) = &private {
        // The tenant's alias looked up now (notices are aliased from what is remembered).
        let summary: serde_json::Value = serde_json::from_slice(&ctx.live.current_summary_json(&ctx.store).await?).unwrap_or_default();
        p.rewrite(&ctx.store, summary).await?;
    }
    let receiver = ctx.live.receiver();
    let current = ctx.store.run(|conn| crate::store::write::last_change(conn)).await?;
    // Notices replayed here may also arrive on the receiver: those are not sent twice.
    let mut replayed = last_seen.unwrap_or(i64::MIN);
    let first: Vec<Event> = match ctx.live.missed(last_seen, current) {
        Some(notices) => {
            replayed = notices.iter().map(|n| n.id).max().unwrap_or(replayed);
            notices.iter().map(|n| change_event(n, private.as_deref())).collect()
        }
        None => vec![reset_event()],
    };
    let replay = stream::iter(first.into_iter().map(Ok));
    let closing = ctx.live.closing();
    let live = stream::unfold((receiver, closing), move |(mut receiver, mut closing)| {
        let private = private.clone();
        async move {
            if *closing.borrow() {
                return None;
            }
            let event = tokio::select! {
                received = async {
                    loop {
                        match receiver.recv().await {
                            Ok(notice) if notice.id <= replayed => continue,
                            other => return other,
                        }
                    }
                } => match received {
                    Ok(notice) => change_event(&notice, private.as_deref()),
                    // This stream fell behind: the client reloads everything.
                    Err(RecvError::Lagged(_)) => reset_event(),
                    Err(RecvError::Closed) => return None,
                },
                // The server shuts down: the stream ends (the browser reconnects to the next server).
                _ = closing.wait_for(|closed| *closed) => return None,
            };
            Some((Ok(event), (receiver, closing)))
        }
    });
    use futures_util::StreamExt;
    Ok(Sse::new(replay.chain(live)).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat")))
}
