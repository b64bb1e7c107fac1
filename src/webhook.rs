//! Webhooks [doc, the vendor's webhooks pages]: each of a flow's webhook URLs (up to five)
//! receives `flow.start`, `technology.start`, `technology.end` and `flow.end` as POSTs with the
//! vendor's envelope. Each session has a delivery queue per URL, so events arrive in order at
//! every receiver and a slow or failing one holds up no other; a failed delivery is retried
//! with backoff; nothing here ever blocks a request. Every attempt is recorded for
//! `GET /__admin/webhooks`, the attempts of one event sharing one copy of its envelope, and the
//! list bounded by entries and by bytes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::clock::timestamp;
use crate::session::{Event, EventSink, Session};
use crate::wire::SessionResult;

/// Tries per event, and the wait before the first retry (doubling after each) \[mock\].
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const TIMEOUT: Duration = Duration::from_secs(5);
/// How many dead kept-alive connections one attempt may meet before it counts (`Webhooks::post`).
const STALE_RETRIES: usize = 8;

/// One delivery attempt, as `GET /__admin/webhooks` lists it.
#[expect(clippy::struct_field_names, reason = "`attempt` is the field the admin API has always shown")]
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Attempt {
    /// The envelope's `id`: the same for every attempt of one event.
    pub id: Uuid,
    pub event: &'static str,
    pub session_id: Uuid,
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
    url: String,
    payload: Arc<RawValue>,
}

/// The most the attempt list holds of envelopes, in bytes, beside its count limit.
pub(crate) const MAX_ATTEMPT_BYTES: usize = 32 * 1024 * 1024;

pub(crate) struct Webhooks {
    client: Client<TrackingConnector, Full<Bytes>>,
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
        let tls = TlsClient::new(extra_roots)?;
        Ok(Self::bounded_with(limit, MAX_ATTEMPT_BYTES, tls))
    }

    /// Keeps at most `limit` attempts and `max_bytes` of their envelopes.
    #[cfg(test)]
    pub(crate) fn bounded(limit: usize, max_bytes: usize) -> Arc<Self> {
        Self::bounded_with(limit, max_bytes, TlsClient::new(&[]).expect("no extra roots"))
    }

    fn bounded_with(limit: usize, max_bytes: usize, tls: TlsClient) -> Arc<Self> {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(TIMEOUT));
        http.enforce_http(false);
        let client = Client::builder(TokioExecutor::new()).build(TrackingConnector { http, tls });
        Arc::new_cyclic(|me| Self {
            client,
            attempts: Mutex::default(),
            limit: limit.max(1),
            max_bytes,
            queues: Mutex::default(),
            me: me.clone(),
        })
    }

    /// The attempts held, oldest first: `offset` skipped, at most `limit`; and how many are held.
    pub(crate) fn attempts(&self, offset: usize, limit: usize) -> (Vec<Attempt>, usize) {
        let attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        (attempts.held.iter().skip(offset).take(limit).cloned().collect(), attempts.held.len())
    }

    pub(crate) fn clear(&self) {
        let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        attempts.held.clear();
        attempts.bytes = 0;
    }
}

impl EventSink for Webhooks {
    /// Queues the envelopes of `events` that just happened to `session` (called under the state's
    /// lock: builds JSON and sends on a channel, no I/O). Envelope ids come from `new_id`, the
    /// state's generator, so that a `--seed` run sends the same ids every time.
    fn emit(&self, session: &Session, events: &[Event], at: OffsetDateTime, new_id: &mut dyn FnMut() -> Uuid) {
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
                let (name, payload) = envelope(session, event, at, id);
                (id, name, payload)
            })
            .collect();
        let ended = events.iter().any(|e| matches!(e, Event::FlowEnded { .. }));
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

    /// One attempt. A request that fails on a kept-alive connection (one that has carried an
    /// answered request before), which the receiver closed meanwhile without saying so, is sent
    /// again at once: the pool has dropped the dead connection, so the second try opens a fresh
    /// one. Not counted as an attempt: the receiver never answered the first.
    async fn post(&self, envelope: &Envelope) -> Result<u16, String> {
        // The pool may hold several such connections; each failure drops one. A fresh connection
        // is tried at the latest once they are gone.
        for _ in 0..STALE_RETRIES {
            match self.post_once(envelope).await {
                Err(PostError::Reused(e)) => {
                    tracing::debug!(
                        "webhook to {} failed on a reused connection ({e}); sending it again",
                        envelope.url
                    );
                }
                other => return other.map_err(|e| e.to_string()),
            }
        }
        self.post_once(envelope).await.map_err(|e| e.to_string())
    }

    async fn post_once(&self, envelope: &Envelope) -> Result<u16, PostError> {
        let body = envelope.payload.get().as_bytes().to_vec();
        let mut request = hyper::Request::post(&envelope.url)
            .header("content-type", "application/json")
            .header("user-agent", concat!("biometric-kz-mock/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| PostError::Other(e.to_string()))?;
        let connection = hyper_util::client::legacy::connect::capture_connection(&mut request);
        let used = || {
            let mut extras = hyper::http::Extensions::new();
            if let Some(connected) = connection.connection_metadata().as_ref() {
                connected.get_extras(&mut extras);
            }
            extras.remove::<Used>()
        };
        match tokio::time::timeout(TIMEOUT, self.client.request(request)).await {
            Ok(Ok(response)) => {
                if let Some(used) = response.extensions().get::<Used>() {
                    used.set();
                }
                Ok(response.status().as_u16())
            }
            Ok(Err(e)) if !e.is_connect() && used().is_some_and(|u| u.get()) => Err(PostError::Reused(e)),
            Ok(Err(e)) => Err(PostError::Request(e)),
            Err(_) => Err(PostError::Other(format!("no answer within {} s", TIMEOUT.as_secs()))),
        }
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

/// Why one attempt failed.
enum PostError {
    /// The HTTP client's error (connecting, sending, reading the answer).
    Request(hyper_util::client::legacy::Error),
    /// The same, on a connection that had carried an answered request before.
    Reused(hyper_util::client::legacy::Error),
    Other(String),
}

impl std::fmt::Display for PostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Request(e) | Self::Reused(e) => {
                // The cause is in the chain ("client error (Connect)" alone says little):
                // "invalid peer certificate: UnknownIssuer", "Connection refused"...
                write!(f, "request failed: {e}")?;
                let mut source = std::error::Error::source(e);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
            Self::Other(text) => f.write_str(text),
        }
    }
}

/// The client side of TLS for `https://` receivers: the system's roots and `extra_roots` (PEM),
/// read when the first `https://` delivery connects. Reading the system's bundle took about half
/// of the server's start-up (5 of 9 ms), and most runs never deliver over HTTPS; `--webhook-ca`
/// is still checked at start-up, so a bad file stops the server with its reason.
#[derive(Clone)]
struct TlsClient {
    extra: Arc<Vec<rustls::pki_types::CertificateDer<'static>>>,
    made: Arc<std::sync::OnceLock<tokio_rustls::TlsConnector>>,
}

impl TlsClient {
    fn new(extra_roots: &[u8]) -> Result<Self, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;
        let mut extra = Vec::new();
        let mut check = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(extra_roots) {
            let cert = cert.map_err(|e| format!("--webhook-ca: not a PEM certificate: {e}"))?;
            check.add(cert.clone()).map_err(|e| format!("--webhook-ca: a certificate cannot be used: {e}"))?;
            extra.push(cert);
        }
        if !extra_roots.is_empty() && extra.is_empty() {
            return Err("--webhook-ca: no PEM certificate in the file".into());
        }
        Ok(Self { extra: Arc::new(extra), made: Arc::default() })
    }

    /// The connector, made at the first call.
    fn connector(&self) -> &tokio_rustls::TlsConnector {
        self.made.get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                // A system certificate rustls cannot use is skipped, as browsers do.
                let _ = roots.add(cert);
            }
            for cert in self.extra.iter() {
                // Checked by `new`.
                let _ = roots.add(cert.clone());
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            tokio_rustls::TlsConnector::from(Arc::new(config))
        })
    }
}

/// The HTTP connector (TLS for `https://` receivers), marking each connection it opens with a
/// flag that says whether the connection has carried an answered request yet: a request that
/// fails on a connection that has, failed on a kept-alive one (`Webhooks::post`).
#[derive(Clone)]
struct TrackingConnector {
    http: HttpConnector,
    tls: TlsClient,
}

/// Whether a connection has carried an answered request (a `Connected` extra).
#[derive(Clone, Default)]
struct Used(Arc<std::sync::atomic::AtomicBool>);

impl Used {
    fn get(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A connection of `TrackingConnector`: plain TCP, or TLS over it.
struct Tracked {
    io: hyper_util::rt::TokioIo<Stream>,
    used: Used,
}

enum Stream {
    Plain(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower::Service<hyper::Uri> for TrackingConnector {
    type Response = Tracked;
    type Error = BoxError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Tracked, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: hyper::Uri) -> Self::Future {
        let secure = uri.scheme_str() == Some("https");
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let connecting = self.http.call(uri);
        let tls = self.tls.clone();
        Box::pin(async move {
            let tcp = connecting.await?.into_inner();
            let stream = if secure {
                let name = rustls::pki_types::ServerName::try_from(host)?;
                // The first HTTPS delivery reads the system's roots (a few milliseconds, once).
                let connector = match tls.made.get() {
                    Some(made) => made.clone(),
                    None => tokio::task::spawn_blocking(move || tls.connector().clone()).await?,
                };
                Stream::Tls(Box::new(connector.connect(name, tcp).await?))
            } else {
                Stream::Plain(tcp)
            };
            Ok(Tracked { io: hyper_util::rt::TokioIo::new(stream), used: Used::default() })
        })
    }
}

impl hyper_util::client::legacy::connect::Connection for Tracked {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        hyper_util::client::legacy::connect::Connected::new().extra(self.used.clone())
    }
}

impl tokio::io::AsyncRead for Stream {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => std::pin::Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Stream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => std::pin::Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Self::Tls(s) => std::pin::Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => std::pin::Pin::new(s).poll_shutdown(cx),
        }
    }
}

impl hyper::rt::Read for Tracked {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Tracked {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

/// The vendor's envelope: `{"id", "event", "session_id", "created", "success", "flow_name",
/// "metadata", "data"}`, with `data` as the vendor's webhooks page shows per event.
fn envelope(session: &Session, event: &Event, at: OffsetDateTime, id: Uuid) -> (&'static str, Arc<RawValue>) {
    let tech = |code: crate::domain::TechnologyCode| json!({"technology_code": code, "technology_name": code.name()});
    let (name, success, data) = match event {
        Event::FlowStarted => ("flow.start", true, json!({"technologies": session.technologies()})),
        Event::TechnologyStarted(code) => ("technology.start", true, tech(*code)),
        Event::TechnologyEnded { code, success } => {
            let mut data = tech(*code);
            data["result"] = session.step(*code).and_then(|s| s.result.as_deref().cloned()).unwrap_or(Value::Null);
            ("technology.end", *success, data)
        }
        Event::FlowEnded { success } => {
            // The result as the vendor's API will show it once processing is over.
            let result = SessionResult::of(session, time::macros::datetime!(9999-01-01 0:00 UTC));
            ("flow.end", *success, json!({"session_result": result}))
        }
    };
    let payload = json!({
        "id": id,
        "event": name,
        "session_id": session.id(),
        "created": at.unix_timestamp(),
        "success": success,
        "flow_name": session.flow_name(),
        // `null` for a session created without metadata [doc: the webhooks page's example].
        "metadata": if session.metadata().is_none() { &Value::Null } else { &session.metadata().display },
        "data": data,
    });
    let raw = serde_json::value::to_raw_value(&payload).expect("a JSON value writes out");
    (name, Arc::from(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_webhook_ca_is_refused_at_once_and_the_roots_are_read_when_first_needed() {
        assert_eq!(TlsClient::new(b"not a certificate").err().unwrap(), "--webhook-ca: no PEM certificate in the file");
        let cut = b"-----BEGIN CERTIFICATE-----\nMIIB\n";
        assert!(TlsClient::new(cut).err().unwrap().starts_with("--webhook-ca: not a PEM certificate"), "a cut one");
        let key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertificateParams::default().self_signed(&key).unwrap();
        let client = TlsClient::new(ca.pem().as_bytes()).unwrap();
        assert!(client.made.get().is_none(), "nothing read at start-up");
        client.connector();
        assert!(client.made.get().is_some(), "read at the first connection, and kept");
    }

    fn envelope(n: u128, bytes: usize) -> Envelope {
        let payload = serde_json::value::to_raw_value(&json!({"pad": "x".repeat(bytes - 10)})).unwrap();
        Envelope {
            id: Uuid::from_u128(n),
            event: "flow.start",
            session_id: Uuid::nil(),
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
        let (held, total) = webhooks.attempts(0, usize::MAX);
        assert_eq!(total, 10, "ten attempts of a thousand bytes fit in ten thousand, each counted");
        assert_eq!((held[0].id, held[0].attempt), (Uuid::from_u128(16), 3), "the oldest went first");
        assert!(Arc::ptr_eq(&held[1].payload, &held[2].payload), "one copy per envelope");
        let (page, _) = webhooks.attempts(8, 5);
        assert_eq!(page.len(), 2);
    }
}
