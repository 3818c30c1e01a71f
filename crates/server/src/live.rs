//! Live data: after every committed write the devices index and the summary are brought up to date
//! once (not per viewer), and a change notice goes to every open `/api/v1/events` stream. The last
//! notices are kept so that a client reconnecting with `Last-Event-ID` gets what it missed.

use crate::store::{self, Store};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use tenantscope_model::api::Summary;
use tokio::sync::broadcast;

/// Notices kept for replay; a client that missed more is told to reload everything.
pub const REPLAY: usize = 256;

/// One change, as the events stream sends it.
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    /// The store's change counter: increasing, never reused.
    pub id: i64,
    /// What changed: an upload kind ("devices", "defender", "threats", ...) or "delete".
    pub entity: &'static str,
    pub records: usize,
    /// When the change was committed (RFC 3339).
    pub at: String,
    /// The summary after the change.
    pub summary: Summary,
}

pub struct Live {
    sender: broadcast::Sender<Notice>,
    recent: Mutex<VecDeque<Notice>>,
    /// The summary, as JSON too, and the change it reflects (computed once per change).
    summary: Mutex<Option<(i64, Arc<Summary>, bytes::Bytes)>>,
    /// Serialises the follow-ups of writes (index, summary, notice).
    publishing: tokio::sync::Mutex<()>,
    /// The thread that brings the devices index up to date: always the same one, so that the
    /// index's copies come from (and go back to) one allocator arena instead of spreading over
    /// every thread of the blocking pool (memory would creep up with each change).
    follower: std::sync::mpsc::Sender<Follow>,
    /// Set when the server shuts down: every open stream ends (so that it does not hold the
    /// shutdown up), and streams opened after it end at once.
    closing: tokio::sync::watch::Sender<bool>,
}

/// Tries of a follow-up (each a second apart) before it gives up.
const FOLLOW_ATTEMPTS: u32 = 30;

type Follow = (Arc<Store>, tokio::sync::oneshot::Sender<store::Result<store::CaughtUp>>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Live {
    pub fn new() -> Arc<Live> {
        let (sender, _) = broadcast::channel(REPLAY);
        let (follower, requests) = std::sync::mpsc::channel::<Follow>();
        // Ends when the hub is dropped (its sender with it).
        std::thread::Builder::new().name("tenantscope-follow".into()).spawn(move || {
            for (store, answer) in requests {
                let caught_up = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.catch_up()))
                    .unwrap_or_else(|_| Err(store::StoreError::Task("following the changes panicked".into())));
                let _ = answer.send(caught_up);
            }
        })
        .expect("cannot start the thread that follows changes");
        Arc::new(Live {
            follower,
            sender,
            recent: Mutex::new(VecDeque::with_capacity(REPLAY)),
            summary: Mutex::new(None),
            publishing: tokio::sync::Mutex::new(()),
            closing: tokio::sync::watch::channel(false).0,
        })
    }

    /// The summary as of the last change, as JSON, from memory: computed and serialised at the
    /// first request and again after each change (`changed`), never per viewer. Writes go through
    /// this server (the one write path), which is what keeps it current.
    pub async fn current_summary_json(&self, store: &Arc<Store>) -> store::Result<bytes::Bytes> {
        if let Some((_, _, json)) = lock(&self.summary).as_ref() {
            return Ok(json.clone());
        }
        Ok(self.recompute_summary(store).await?.1)
    }

    async fn recompute_summary(&self, store: &Arc<Store>) -> store::Result<(Arc<Summary>, bytes::Bytes)> {
        // As of the devices index's change: its counts are the device numbers.
        let (change, summary) = store.run_indexed(|conn, index| Ok((index.change(), store::summary(conn, index)?))).await?;
        let json = bytes::Bytes::from(serde_json::to_vec(&summary).map_err(|e| store::StoreError::Task(e.to_string()))?);
        let summary = Arc::new(summary);
        let mut slot = lock(&self.summary);
        // A slower computation never replaces a newer one.
        if slot.as_ref().is_none_or(|(c, _, _)| *c <= change) {
            *slot = Some((change, Arc::clone(&summary), json.clone()));
        }
        Ok((summary, json))
    }

    /// After a committed write: the devices index brought up to every change committed so far and
    /// the summary recomputed, then a notice sent for each change, in change order. One follow-up
    /// runs at a time; one that finds its change already followed by an earlier one has nothing to
    /// do, so a burst of writes is followed in a few steps, not one per write.
    pub async fn changed(&self, store: &Arc<Store>) {
        let _publishing = self.publishing.lock().await;
        // A follow-up that fails (the store busy, say) is tried again, each second for a while: the
        // changes stay in the store's log until one succeeds, and the summary of before the change
        // is not served meanwhile.
        let follow = || async {
            // In memory for the devices written, else rebuilt; requests keep the previous index meanwhile.
            let (answer, caught_up) = tokio::sync::oneshot::channel();
            let _ = self.follower.send((Arc::clone(store), answer));
            caught_up.await.map_err(|e| store::StoreError::Task(e.to_string()))?
        };
        let Some(caught_up) = self.retried("following a change", follow).await else { return };
        if caught_up.changes.is_empty() {
            return;
        }
        let summary = self.retried("the summary after a change", || async { Ok(self.recompute_summary(store).await?.0) }).await;
        let Some(summary) = summary else {
            // These changes are announced to no one: a client that reconnects with an earlier
            // Last-Event-ID is told to reload everything instead of skipping them.
            lock(&self.recent).clear();
            return;
        };
        for change in caught_up.changes {
            let notice = Notice {
                id: change.id,
                entity: change.kind,
                records: change.records,
                at: tenantscope_model::time::format_rfc3339(change.at),
                summary: (*summary).clone(),
            };
            {
                let mut recent = lock(&self.recent);
                if recent.len() == REPLAY {
                    recent.pop_front();
                }
                recent.push_back(notice.clone());
            }
            // No receiver is fine: nobody is watching.
            let _ = self.sender.send(notice);
        }
    }

    /// `attempt` until it succeeds, each second, `FOLLOW_ATTEMPTS` times at most (the store busy,
    /// say); meanwhile no summary is served from memory (the next request computes it again).
    async fn retried<T, F: std::future::Future<Output = store::Result<T>>>(&self, what: &str, attempt: impl Fn() -> F) -> Option<T> {
        for tried in 0..FOLLOW_ATTEMPTS {
            if tried > 0 {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            match attempt().await {
                Ok(out) => return Some(out),
                Err(e) => tracing::error!(error = %e, attempt = tried, "{what} failed"),
            }
            *lock(&self.summary) = None;
        }
        None
    }

    /// Ends every open events stream (at shutdown).
    pub fn shutdown(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves when the server shuts down.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// A receiver of the notices from now on (take it before reading the store's last change, so that
    /// no notice falls between the two).
    pub fn receiver(&self) -> broadcast::Receiver<Notice> {
        self.sender.subscribe()
    }

    /// The kept notices after `last_seen`, or None when some it missed are no longer kept (the client
    /// must reload everything). `current` is the store's last change.
    pub fn missed(&self, last_seen: Option<i64>, current: i64) -> Option<Vec<Notice>> {
        let recent = lock(&self.recent);
        match last_seen {
            None => Some(Vec::new()),
            Some(seen) if seen >= current && recent.back().is_none_or(|n| n.id <= seen) => Some(Vec::new()),
            Some(seen) => match recent.iter().map(|n| n.id).min() {
                Some(oldest) if oldest <= seen + 1 => Some(recent.iter().filter(|n| n.id > seen).cloned().collect()),
                _ => None,
            },
        }
    }
}

/// How often a server over PostgreSQL looks for changes without being told (a notification lost
/// with its connection, say); between two looks it follows each announced change at once.
pub const LOOK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// On PostgreSQL: follows the changes every server over the database commits. A connection of its
/// own listens for the announcements (`write::CHANNEL`); each one (a burst as one) brings the devices
/// index and summary up to date and sends the notices to this server's event streams. After a lost
/// connection it connects again and catches up from the change log by change id. Ends when the
/// server shuts down. None on SQLite (every write goes through this server).
pub fn follow_database(store: Arc<Store>, live: Arc<Live>) -> Option<tokio::task::JoinHandle<()>> {
    let store::Location::Postgres(url) = store.location().clone() else { return None };
    Some(tokio::spawn(async move {
        // The announcements of this store's schema only (other tenants announce on the same channel).
        let schema = loop {
            let asked = Arc::clone(&store);
            match tokio::task::spawn_blocking(move || asked.with(|c| Ok(c.query_row("SELECT current_schema()", [], |r| r.get::<_, String>(0))?))).await {
                Ok(Ok(schema)) => break schema,
                _ => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
            }
        };
        let mut closing = live.closing();
        // Told once per outage.
        let mut failing = false;
        loop {
            match listen(&url, &schema).await {
                Ok((_client, mut announced)) => {
                    if failing {
                        tracing::info!("listening for changes again");
                        failing = false;
                    }
                    // Whatever committed while nobody listened.
                    live.changed(&store).await;
                    loop {
                        tokio::select! {
                            heard = announced.recv() => {
                                if heard.is_none() {
                                    break;
                                }
                                while announced.try_recv().is_ok() {}
                                live.changed(&store).await;
                            }
                            _ = tokio::time::sleep(LOOK_EVERY) => live.changed(&store).await,
                            _ = closing.changed() => return,
                        }
                    }
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "cannot listen for changes; trying again");
                    }
                    failing = true;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                _ = closing.changed() => return,
            }
        }
    }))
}

/// A connection listening on the change channel, and the announcements it hears (None once the
/// connection is gone). The client is kept by the caller for as long as it listens.
async fn listen(url: &str, schema: &str) -> Result<(tokio_postgres::Client, tokio::sync::mpsc::UnboundedReceiver<i64>), tokio_postgres::Error> {
    let prefix = format!("{schema}:");
    let mut config: tokio_postgres::Config = url.parse()?;
    store::db::pg_timeouts(&mut config);
    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
    let (heard, announced) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => {
                    let Some(id) = n.payload().strip_prefix(&prefix) else { continue };
                    if heard.send(id.parse::<i64>().unwrap_or(0)).is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "the connection listening for changes ended");
                    return;
                }
                None => return,
            }
        }
    });
    client.batch_execute(&format!("LISTEN {}", store::write::CHANNEL)).await?;
    Ok((client, announced))
}
