//! Accepting and serving connections, so that no client can lock the others out: at most
//! `--max-connections` at once; a connection that sends nothing within `--header-timeout` is
//! closed, and when the cap is reached the one that has waited longest without sending a byte
//! gives way to the newcomer; a request body must arrive within `--body-timeout`. Knows sockets
//! and hyper, not routes.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use futures_util::future::Either;
use hyper_util::rt::TokioIo;

use crate::app::App;
use crate::http::DropConnection;
use crate::journal::Via;

mod closing;
mod proxy;
mod quiet;
mod refusals;

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

/// File descriptors kept free beside the connections (the listener, the state file, webhook
/// sockets, the runtime's own).
const SPARE_DESCRIPTORS: u64 = 64;

/// The connection cap the process can honour: `--max-connections`, or less when the open-file
/// limit is lower (raised to its hard limit first, as Go's runtime does). A cap above the limit
/// would let idle sockets exhaust the descriptors before the cap is reached, and then nobody is
/// accepted at all.
pub(crate) fn usable_connections(wanted: usize) -> usize {
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(u64::MAX);
    let usable = usize::try_from(limit.saturating_sub(SPARE_DESCRIPTORS)).unwrap_or(usize::MAX).max(1);
    if usable < wanted {
        tracing::warn!(
            "--max-connections {wanted} is more than the open-file limit ({limit}) allows: serving at most {usable} connections at once (raise `ulimit -n` for more)"
        );
    }
    wanted.min(usable)
}

/// The connections that have not sent a byte yet, oldest first: the first to give way when the
/// cap is reached.
#[derive(Default)]
struct Silent {
    queue: Mutex<SilentQueue>,
}

#[derive(Default)]
struct SilentQueue {
    /// The number the last connection to join got.
    last: u64,
    waiting: VecDeque<(u64, Arc<Notify>)>,
}

impl Silent {
    fn join(&self) -> (u64, Arc<Notify>) {
        let notify = Arc::new(Notify::new());
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.last += 1;
        let id = queue.last;
        queue.waiting.push_back((id, Arc::clone(&notify)));
        (id, notify)
    }

    fn leave(&self, id: u64) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = queue.waiting.iter().position(|(i, _)| *i == id) {
            queue.waiting.remove(at);
        }
    }

    /// Asks the connection that has been silent longest to close; false when there is none.
    fn ask_oldest_to_give_way(&self) -> bool {
        let oldest = self.queue.lock().unwrap_or_else(PoisonError::into_inner).waiting.pop_front();
        oldest.map(|(_, notify)| notify.notify_one()).is_some()
    }
}

/// Serves `app` on `listener` (and on the HTTPS listener `tls`, when there is one) until
/// `shutdown` resolves, then stops accepting and lets in-flight requests finish (for at most ten
/// seconds). The plain port is also a proxy for the vendor's hosts only (`proxy.rs`).
///
/// The accept loop is our own rather than `axum::serve` so that a scripted fault can drop a
/// connection without answering (a response marked `DropConnection` turns into a service error,
/// and hyper closes the connection instead of writing it), and so that silent sockets give way.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TcpListener>,
    app: App,
    secure: Secure,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    // A client that half-closes after a complete request still gets its answer. (No timer for
    // hyper: the header timeout is the connection's own, `quiet.rs`.)
    builder.http1().half_close(true);
    let connections = closing::Connections::default();
    let slots = Arc::new(Semaphore::new(usable_connections(limits.max_connections)));
    let silent = Arc::new(Silent::default());
    let secure = Arc::new(secure);
    tokio::pin!(shutdown);
    let accept_tls = async |listener: &Option<TcpListener>| match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    };
    loop {
        let (accepted, via) = tokio::select! {
            accepted = listener.accept() => (accepted, Via::Direct),
            accepted = accept_tls(&tls) => (accepted, Via::Tls),
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let slot = if let Ok(slot) = Arc::clone(&slots).try_acquire_owned() {
            slot
        } else {
            // The cap is reached: a socket that has sent nothing makes room, else the newcomer
            // waits for one to close.
            silent.ask_oldest_to_give_way();
            tokio::select! {
                slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
                () = &mut shutdown => break,
            }
        };
        stream.set_nodelay(true).ok();
        // One handle per connection, cloned into the future of a request that needs one
        // (`App::handle`): its count is written by the core serving the connection only, where
        // cloning the shared `App` on every request had both cores write the same counters.
        // The slot is shared with a CONNECT tunnel the connection may become, which outlives it.
        let slot = Arc::new(slot);
        let (app, builder, secure) = (app.clone(), builder.clone(), Arc::clone(&secure));
        let acceptor = secure.acceptor.clone();
        let mut open = connections.open();
        let silent = Arc::clone(&silent);
        tokio::spawn(async move {
            if !first_byte(&stream, &silent, &mut open, limits.header_timeout).await {
                return;
            }
            // From the moment hyper serves it, the wait for each request is limited (`quiet.rs`).
            let connection = move || Connection {
                quiet: quiet::Quiet::new(limits.header_timeout),
                _slot: slot,
                app: Arc::new(app),
                builder,
                secure,
                body_timeout: limits.body_timeout,
                header_timeout: limits.header_timeout,
                via,
            };
            if via == Via::Tls {
                // The HTTPS port: a TLS handshake within the header timeout, then the same service.
                let Some(stream) = tls_handshake(stream, &acceptor, limits.header_timeout).await else {
                    return;
                };
                connection().serve(stream, open).await;
            } else {
                connection().serve(stream, open).await;
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = connections.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("in-flight requests did not finish in 10 s"),
    }
}

/// What the HTTPS side needs: the TLS configuration (the test CA's certificate) and the hosts the
/// plain port proxies to itself.
pub(crate) struct Secure {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Hosts the mock answers for as a proxy and in absolute-form requests: the vendor's two and
    /// this machine's names (and `--tls-name`s).
    pub hosts: Vec<String>,
}

/// One connection's way of answering: the app, and how it came (direct, TLS, a tunnel).
#[derive(Clone)]
struct Connection {
    /// Its place under `--max-connections`, held by the tunnel it may open too.
    _slot: Arc<OwnedSemaphorePermit>,
    app: Arc<App>,
    builder: hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    secure: Arc<Secure>,
    body_timeout: Duration,
    header_timeout: Duration,
    via: Via,
    /// The requests it is answering, and how long it may wait for the next (`quiet.rs`); a
    /// CONNECT tunnel shares its connection's.
    quiet: Arc<quiet::Quiet>,
}

type Answer = Result<hyper::Response<quiet::AnsweredBody>, DroppedByFault>;

impl Connection {
    /// Serves `stream` (plain or TLS) until it closes, or until shutdown asks (`open`).
    async fn serve<S>(&self, stream: S, open: closing::Open)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(refusals::Refusals::new(quiet::QuietIo::new(stream, Arc::clone(&self.quiet))));
        let served = self.builder.clone().serve_connection_with_upgrades(io, self.clone().service()).into_owned();
        if let Err(e) = open.watch(served).await {
            tracing::debug!("connection ({}) ended: {e}", self.via.as_str());
        }
    }

    /// The hyper service of this connection: the app under the panic net (`app::caught`), a body timer on every
    /// request, proxy requests checked and tunnels opened (`proxy.rs`).
    fn service(
        self,
    ) -> impl hyper::service::Service<
        hyper::Request<hyper::body::Incoming>,
        Response = hyper::Response<quiet::AnsweredBody>,
        Error = DroppedByFault,
        Future = impl Future<Output = Answer> + Send,
    > + Clone
    + Send
    + 'static {
        // Shared by the connection's requests, and not cloned for each: a request's answer is
        // made as it is called (`App::handle`), and its future holds none of the connection.
        let connection = Arc::new(self);
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            let answering = connection.quiet.answering();
            let answered = |response: hyper::Response<axum::body::Body>| {
                response.map(|body| quiet::AnsweredBody::new(body, answering))
            };
            let via = match proxy::check(&request, connection.via, &connection.secure.hosts) {
                proxy::Checked::Serve(via) => via,
                proxy::Checked::Refuse(response) => return Either::Left(std::future::ready(Ok(answered(response)))),
                proxy::Checked::Tunnel => {
                    return Either::Left(std::future::ready(Ok(answered(connection.open_tunnel(request)))));
                }
            };
            // The journal takes a request without a mark as direct: most requests carry none,
            // and their extension map is never allocated.
            if via != Via::Direct {
                request.extensions_mut().insert(via);
            }
            let body_timeout = connection.body_timeout;
            // A request that has no body (a poll, a page) gets the empty one, which is neither
            // boxed nor timed: the usual GET pays for no wrapper it would only drop.
            let request = request.map(|body| {
                if http_body::Body::is_end_stream(&body) {
                    axum::body::Body::empty()
                } else {
                    axum::body::Body::new(crate::body::deadline::Body::new(body, body_timeout))
                }
            });
            let app = Arc::clone(&connection.app);
            Either::Right(async move {
                let response = crate::app::caught(app.handle(request)).await;
                if response.extensions().get::<DropConnection>().is_some() {
                    return Err(DroppedByFault);
                }
                Ok(answered(response))
            })
        })
    }

    /// Answers a `CONNECT` to a vendor host 200, then speaks TLS inside the tunnel with the test
    /// CA's certificate and serves it as the HTTPS port does. Nothing is ever forwarded.
    fn open_tunnel(&self, request: hyper::Request<hyper::body::Incoming>) -> hyper::Response<axum::body::Body> {
        let inner = Self { via: Via::Tunnel, ..self.clone() };
        tokio::spawn(async move {
            let upgraded = match hyper::upgrade::on(request).await {
                Ok(upgraded) => upgraded,
                Err(e) => return tracing::debug!("CONNECT tunnel not opened: {e}"),
            };
            let io = TokioIo::new(upgraded);
            let handshake = tokio::time::timeout(inner.header_timeout, inner.secure.acceptor.accept(io)).await;
            let Ok(Ok(stream)) = handshake else { return tracing::debug!("TLS in a CONNECT tunnel failed") };
            let io = TokioIo::new(refusals::Refusals::new(stream));
            if let Err(e) = inner.builder.clone().serve_connection(io, inner.clone().service()).await {
                tracing::debug!("tunnel ended: {e}");
            }
        });
        hyper::Response::new(axum::body::Body::empty())
    }
}

/// Waits for the connection's first byte: false when it closes, stays silent past `timeout`, is
/// asked to give way to a newcomer first, or the server shuts down (`open`). (hyper's header
/// timeout starts only once the protocol is known, which takes a first byte: a silent socket
/// would be held for ever.)
async fn first_byte(stream: &TcpStream, silent: &Silent, open: &mut closing::Open, timeout: Duration) -> bool {
    let (id, give_way) = silent.join();
    let mut byte = [0u8; 1];
    let arrived = tokio::select! {
        peeked = tokio::time::timeout(timeout, stream.peek(&mut byte)) => matches!(peeked, Ok(Ok(n)) if n > 0),
        () = give_way.notified() => false,
        () = open.asked() => false,
    };
    silent.leave(id);
    arrived
}

/// A TLS handshake on a connection of the HTTPS port, within `timeout`. A client that speaks plain
/// HTTP there gets a plain HTTP 400 that says which port to use; a handshake that fails or is too
/// slow closes the connection (logged at debug).
async fn tls_handshake(
    mut stream: TcpStream,
    acceptor: &tokio_rustls::TlsAcceptor,
    timeout: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    // 0x16: a TLS handshake record; anything else is not TLS.
    if matches!(stream.peek(&mut first).await, Ok(1)) && first[0] != 0x16 {
        use tokio::io::AsyncWriteExt as _;
        let body = crate::http::error::Detail::json(
            "This is the mock's HTTPS port (--tls-port): use https:// here, or the plain port for http://.",
        );
        let answer = format!(
            "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = tokio::time::timeout(timeout, stream.write_all(answer.as_bytes())).await;
        let _ = stream.shutdown().await;
        return None;
    }
    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(e)) => {
            tracing::debug!("TLS handshake failed: {e}");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake not finished within {} s", timeout.as_secs());
            None
        }
    }
}

/// The service error that makes hyper close a connection without answering.
#[derive(Debug)]
struct DroppedByFault;

impl std::fmt::Display for DroppedByFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a scripted fault")
    }
}

impl std::error::Error for DroppedByFault {}
