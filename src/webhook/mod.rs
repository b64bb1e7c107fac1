//! Webhooks [doc, the vendor's webhooks pages]: each of a flow's webhook URLs (up to five)
//! receives `flow.start`, `technology.start`, `technology.end` and `flow.end` as POSTs with the
//! vendor's envelope. Each session has a delivery queue per URL, so events arrive in order at
//! every receiver and a slow or failing one holds up no other; a failed delivery is retried
//! with backoff; nothing here ever blocks a request. Attempts in flight are bounded, in all
//! and per receiver (`turns.rs`). Every attempt is recorded for
//! `GET /__admin/webhooks`, the attempts of one event sharing one copy of its envelope, and the
//! list bounded by entries and by bytes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

mod client;
mod envelope;
mod turns;

use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::clock::timestamp;
use crate::session::{Event, EventSink, Session};
use client::WebhookClient;
use envelope::envelope;
pub(crate) use turns::MAX_IN_FLIGHT;
use turns::Turns;

/// Tries per event, and the wait before the first retry (doubling after each) \[mock\].
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// One delivery attempt, as `GET /__admin/webhooks` lists it.
#[expect(clippy::struct_field_names, reason = "`attempt` is the field the admin API has always shown")]
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Attempt {
    /// The envelope's `id`: the same for every attempt of one event.
    pub id: Uuid,
    pub event: &'static str,
    pub session_id: Uuid,
    /// The key of the session's flow: whose attempt it is (SPEC §16).
    #[schema(value_type = String)]
    pub api_key: Arc<str>,
    pub url: String,
    pub attempt: u32,
    pub at: String,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub delivered: bool,
    /// The envelope sent: one copy, shared by every attempt of the event.
    #[schema(value_type = Object)]
    pub payload: Arc<RawValue>,
}

struct Envelope {
    id: Uuid,
    event: &'static str,
    session_id: Uuid,
    api_key: Arc<str>,
    url: String,
    payload: Arc<RawValue>,
}

/// The most the attempt list holds of envelopes, in bytes, beside its count limit.
pub(crate) const MAX_ATTEMPT_BYTES: usize = 32 * 1024 * 1024;

pub(crate) struct Webhooks {
    client: WebhookClient,
    turns: Turns,
    attempts: Mutex<Attempts>,
    limit: usize,
    max_bytes: usize,
    /// One queue per session and URL (its index in the flow's list).
    queues: Mutex<HashMap<(Uuid, usize), mpsc::UnboundedSender<Envelope>>>,
    /// Itself, for the delivery workers it starts from `emit` (which has only `&self`).
    me: std::sync::Weak<Self>,
}

#[derive(Default)]
struct Attempts {
    held: VecDeque<Attempt>,
    /// The envelopes' bytes, counted for each attempt (an upper bound: attempts share them).
    bytes: usize,
}

impl Webhooks {
    /// `extra_roots`: certificates (PEM) trusted for `https://` receivers beside the system's
    /// (`--webhook-ca`).
    pub(crate) fn new(limit: usize, extra_roots: &[u8]) -> Result<Arc<Self>, String> {
        Ok(Self::bounded_with(limit, MAX_ATTEMPT_BYTES, WebhookClient::new(extra_roots)?))
    }

    /// Keeps at most `limit` attempts and `max_bytes` of their envelopes.
    #[cfg(test)]
    pub(crate) fn bounded(limit: usize, max_bytes: usize) -> Arc<Self> {
        Self::bounded_with(limit, max_bytes, WebhookClient::new(&[]).expect("no extra roots"))
    }

    fn bounded_with(limit: usize, max_bytes: usize, client: WebhookClient) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            client,
            turns: Turns::new(),
            attempts: Mutex::default(),
            limit: limit.max(1),
            max_bytes,
            queues: Mutex::default(),
            me: me.clone(),
        })
    }

    /// The attempts held (of `key`'s sessions only, when given), oldest first: `offset`
    /// skipped, at most `limit`; and how many there are.
    pub(crate) fn attempts(&self, key: Option<&str>, offset: usize, limit: usize) -> (Vec<Attempt>, usize) {
        let attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        let selected = || attempts.held.iter().filter(|a| key.is_none_or(|k| &*a.api_key == k));
        (selected().skip(offset).take(limit).cloned().collect(), selected().count())
    }

    pub(crate) fn clear(&self) {
        let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        attempts.held.clear();
        attempts.bytes = 0;
    }

    /// The attempts of `key`'s sessions gone (its reset, SPEC §16).
    fn clear_key(&self, key: &str) {
        let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        let Attempts { held, bytes } = &mut *attempts;
        held.retain(|a| {
            let keep = &*a.api_key != key;
            if !keep {
                *bytes -= a.payload.get().len();
            }
            keep
        });
    }
}

impl EventSink for Webhooks {
    fn forget_key(&self, key: &str) {
        self.clear_key(key);
    }

    /// Queues the envelopes of `events` that just happened to `session` (called under the state's
    /// lock: builds JSON and sends on a channel, no I/O). Envelope ids come from `new_id`, the
    /// state's generator, so that a `--seed` run sends the same ids every time.
    fn emit(
        &self,
        session: &Session,
        events: &[Event],
        failed: crate::domain::FailedStatus,
        at: OffsetDateTime,
        new_id: &mut dyn FnMut() -> Uuid,
    ) {
        let urls = session.webhook_urls();
        if urls.is_empty() || events.is_empty() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let Some(me) = self.me.upgrade() else { return };
        // Every receiver gets the same envelope (one id per event, one copy of its bytes).
        let envelopes: Vec<(Uuid, &'static str, Arc<RawValue>)> = events
            .iter()
            .map(|event| {
                let id = new_id();
                let (name, payload) = envelope(session, event, failed, at, id);
                (id, name, payload)
            })
            .collect();
        let ended = events.iter().any(|e| matches!(e, Event::FlowEnded { .. }));
        let api_key: Arc<str> = Arc::from(session.api_key().as_str());
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        for (index, url) in urls.iter().enumerate() {
            let key = (session.id(), index);
            let sender = queues.entry(key).or_insert_with(|| {
                let (sender, receiver) = mpsc::unbounded_channel();
                tokio::spawn(Arc::clone(&me).deliver_in_order(receiver));
                sender
            });
            for (id, event, payload) in &envelopes {
                let envelope = Envelope {
                    id: *id,
                    event,
                    session_id: session.id(),
                    api_key: Arc::clone(&api_key),
                    url: url.clone(),
                    payload: Arc::clone(payload),
                };
                // The worker only stops once this sender is gone, so the send cannot fail.
                let _ = sender.send(envelope);
            }
            if ended {
                // The flow is over: dropping the sender lets the worker finish the queue and stop.
                queues.remove(&key);
            }
        }
    }
}

impl Webhooks {
    async fn deliver_in_order(self: Arc<Self>, mut queue: mpsc::UnboundedReceiver<Envelope>) {
        while let Some(envelope) = queue.recv().await {
            let mut backoff = FIRST_BACKOFF;
            for attempt in 1..=ATTEMPTS {
                let outcome = self.post(&envelope).await;
                let delivered = matches!(outcome, Ok(status) if (200..300).contains(&status));
                // A certificate the mock does not trust stays untrusted: no retry.
                let permanent = matches!(&outcome, Err(e) if e.contains("certificate"));
                self.record(&envelope, attempt, outcome, delivered);
                if delivered || permanent {
                    break;
                }
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
    }

    /// One attempt, when its turn comes: the receiver's status, or why there is none.
    async fn post(&self, envelope: &Envelope) -> Result<u16, String> {
        let _turn = self.turns.take(&envelope.url).await;
        let body = Bytes::copy_from_slice(envelope.payload.get().as_bytes());
        self.client.post(&envelope.url, &body).await
    }

    fn record(&self, envelope: &Envelope, attempt: u32, outcome: Result<u16, String>, delivered: bool) {
        let (status, error) = match outcome {
            Ok(status) => (Some(status), (!delivered).then(|| format!("the receiver answered {status}"))),
            Err(e) => (None, Some(e)),
        };
        // Each attempt counts its envelope's bytes, though they share one copy: the bound holds
        // however the attempts of different events interleave.
        let bytes = envelope.payload.get().len();
        let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        while !attempts.held.is_empty()
            && (attempts.held.len() >= self.limit || attempts.bytes + bytes > self.max_bytes)
            && let Some(old) = attempts.held.pop_front()
        {
            attempts.bytes -= old.payload.get().len();
        }
        attempts.bytes += bytes;
        attempts.held.push_back(Attempt {
            id: envelope.id,
            event: envelope.event,
            session_id: envelope.session_id,
            api_key: Arc::clone(&envelope.api_key),
            url: envelope.url.clone(),
            attempt,
            at: timestamp(OffsetDateTime::now_utc()),
            status,
            error,
            delivered,
            payload: Arc::clone(&envelope.payload),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(n: u128, bytes: usize) -> Envelope {
        let payload = serde_json::value::to_raw_value(&serde_json::json!({"pad": "x".repeat(bytes - 10)})).unwrap();
        Envelope {
            id: Uuid::from_u128(n),
            event: "flow.start",
            session_id: Uuid::nil(),
            api_key: Arc::from("k"),
            url: "http://x".into(),
            payload: Arc::from(payload),
        }
    }

    #[test]
    fn attempts_share_their_envelope_and_stay_under_the_byte_limit() {
        let webhooks = Webhooks::bounded(1000, 10_000);
        for n in 0..20 {
            let e = envelope(n, 1000);
            for attempt in 1..=3 {
                webhooks.record(&e, attempt, Ok(500), false);
            }
        }
        let (held, total) = webhooks.attempts(None, 0, usize::MAX);
        assert_eq!(total, 10, "ten attempts of a thousand bytes fit in ten thousand, each counted");
        assert_eq!((held[0].id, held[0].attempt), (Uuid::from_u128(16), 3), "the oldest went first");
        assert!(Arc::ptr_eq(&held[1].payload, &held[2].payload), "one copy per envelope");
        let (page, _) = webhooks.attempts(None, 8, 5);
        assert_eq!(page.len(), 2);
    }
}
