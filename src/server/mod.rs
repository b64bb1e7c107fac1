//! Accepting and serving connections, so that no client can lock the others out: at most
//! `--max-connections` at once, and at the cap the connection that has made the least progress
//! toward a request gives way to the newcomer (`slots.rs`); a connection must send its first byte
//! and each request's head within `--header-timeout` (hyper's header timer, kept-alive waits
//! included); a request body must arrive within `--body-timeout`. The plain port is also a proxy
//! for the vendor's hosts (`proxy.rs`); hyper's own refusals get the vendor's JSON shape
//! (`refusals.rs`). Knows sockets and hyper, not routes.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::Either;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::app::App;
use crate::http::DropConnection;
use crate::journal::Via;

mod proxy;
mod refusals;
mod slots;

pub(crate) use proxy::Destinations;

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_body: usize,
    /// File descriptors the process needs beside the server's (the webhook deliveries' sockets).
    pub other_descriptors: u64,
}

/// File descriptors kept free beside the connections and `Limits::other_descriptors`: the
/// listeners, the state file, the runtime's own.
const SPARE_DESCRIPTORS: u64 = 64;

/// The connection cap the process can honour: `--max-connections`, or less when the open-file
/// limit is lower (raised to its hard limit first, as Go's runtime does). A cap above the limit
/// would let idle sockets exhaust the descriptors before the cap is reached, and then nobody is
/// accepted at all.
pub(crate) fn usable_connections(wanted: usize, others: u64) -> usize {
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(u64::MAX);
    let spare = SPARE_DESCRIPTORS + others;
    let usable = usize::try_from(limit.saturating_sub(spare)).unwrap_or(usize::MAX).max(1);
    if usable < wanted {
        tracing::warn!(
            "--max-connections {wanted} is more than the open-file limit ({limit}) allows: serving at most {usable} connections at once (raise `ulimit -n` for more)"
        );
    }
    wanted.min(usable)
}

/// Serves `app` on `listener` (and on the HTTPS listener `tls`, when there is one) until
/// `shutdown` resolves, then stops accepting and lets in-flight requests finish (for at most ten
/// seconds).
///
/// The accept loop is our own rather than `axum::serve` so that a scripted fault can drop a
/// connection without answering (a response marked `DropConnection` turns into a service error,
/// and hyper closes the connection instead of writing it), and so that the cap's newcomers are
/// let in (`slots.rs`).
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TcpListener>,
    app: App,
    secure: Secure,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    // A client that half-closes after a complete request still gets its answer; each request's
    // head, and the wait for the next on a kept-alive connection, is limited.
    builder.http1().half_close(true).timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let graceful = GracefulShutdown::new();
    // Told to connections that have not begun to be served yet (no first byte, no TLS).
    let (closing, closed) = watch::channel(false);
    let slots = slots::Slots::new(usable_connections(limits.max_connections, limits.other_descriptors));
    let shared = Arc::new(Shared { app, builder, secure, limits });
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
        let slot = tokio::select! {
            slot = slots.take() => slot,
            () = &mut shutdown => break,
        };
        stream.set_nodelay(true).ok();
        let task = Task { shared: Arc::clone(&shared), via, closed: closed.clone(), watcher: graceful.watcher() };
        tokio::spawn(task.run(stream, slot));
    }
    drop(listener);
    let _ = closing.send(true);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("in-flight requests did not finish in 10 s"),
    }
}

/// A connection's task, from its acceptance to its end.
struct Task {
    shared: Arc<Shared>,
    via: Via,
    closed: watch::Receiver<bool>,
    watcher: hyper_util::server::graceful::Watcher,
}

impl Task {
    /// Waits for the connection's first byte (and, on the HTTPS port, its TLS handshake), then
    /// serves it; until then shutdown closes it at once, and at any time it may be asked to give
    /// way to a newcomer.
    async fn run(mut self, stream: TcpStream, slot: slots::Slot) {
        let progress = Arc::clone(slot.progress());
        let (header_timeout, acceptor) = (self.shared.limits.header_timeout, self.shared.secure.acceptor.clone());
        let begun = async {
            let stream = slots::Counted::new(first_byte(stream, header_timeout).await?, Arc::clone(&progress));
            if self.via == Via::Tls {
                Some(Either::Left(tls_handshake(stream, &acceptor, header_timeout).await?))
            } else {
                Some(Either::Right(stream))
            }
        };
        let stream = tokio::select! {
            begun = begun => begun,
            () = progress.asked_to_give_way() => None,
            _ = self.closed.wait_for(|closing| *closing) => None,
        };
        let connection = Connection { shared: self.shared, via: self.via, slot: Arc::new(slot) };
        match stream {
            Some(Either::Left(tls)) => Self::served(connection.serve(tls), self.watcher, &progress).await,
            Some(Either::Right(plain)) => Self::served(connection.serve(plain), self.watcher, &progress).await,
            None => {}
        }
    }

    async fn served<C>(connection: C, watcher: hyper_util::server::graceful::Watcher, progress: &slots::Progress)
    where
        C: hyper_util::server::graceful::GracefulConnection<Error = Box<dyn std::error::Error + Send + Sync>>,
    {
        tokio::select! {
            served = watcher.watch(connection) => {
                if let Err(e) = served {
                    tracing::debug!("connection ended: {e}");
                }
            }
            () = progress.asked_to_give_way() => {}
        }
    }
}

/// What the HTTPS side needs: the TLS configuration (the test CA's certificate) and the hosts the
/// plain port proxies to itself.
pub(crate) struct Secure {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Where the plain port answers as a proxy: CONNECT and absolute-form requests.
    pub proxied: Destinations,
}

/// What every connection shares.
struct Shared {
    app: App,
    builder: hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    secure: Secure,
    limits: Limits,
}

/// One connection's way of answering: how it came (direct, TLS, a tunnel), and its slot, which a
/// CONNECT tunnel it opens shares.
#[derive(Clone)]
struct Connection {
    shared: Arc<Shared>,
    via: Via,
    slot: Arc<slots::Slot>,
}

type Answer = Result<hyper::Response<slots::AnsweredBody>, DroppedByFault>;

impl Connection {
    /// The connection served on `stream` (plain or TLS) until it closes; graceful shutdown can
    /// ask it to close once its request in flight is answered.
    fn serve<S>(
        self,
        stream: S,
    ) -> impl hyper_util::server::graceful::GracefulConnection<Error = Box<dyn std::error::Error + Send + Sync>>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(refusals::Refusals::new(stream));
        let builder = self.shared.builder.clone();
        builder.serve_connection_with_upgrades(io, self.service()).into_owned()
    }

    /// The hyper service of this connection: the app under the panic net (`app::caught`), a body
    /// timer on every request, proxy requests checked and tunnels opened (`proxy.rs`).
    fn service(
        self,
    ) -> impl hyper::service::Service<
        hyper::Request<hyper::body::Incoming>,
        Response = hyper::Response<slots::AnsweredBody>,
        Error = DroppedByFault,
        Future = impl Future<Output = Answer> + Send,
    > + Clone
    + Send
    + 'static {
        let connection = Arc::new(self);
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            let answering = connection.slot.progress().answering();
            let answered = |response: hyper::Response<axum::body::Body>| {
                response.map(|body| slots::AnsweredBody::new(body, answering))
            };
            let via = match proxy::check(&request, connection.via, &connection.shared.secure.proxied) {
                proxy::Checked::Serve(via) => via,
                proxy::Checked::Refuse(response) => return Either::Left(std::future::ready(Ok(answered(response)))),
                proxy::Checked::Tunnel => {
                    return Either::Left(std::future::ready(Ok(answered(connection.open_tunnel(request)))));
                }
            };
            request.extensions_mut().insert(via);
            let (body_timeout, max_body) = (connection.shared.limits.body_timeout, connection.shared.limits.max_body);
            let request =
                request.map(|body| axum::body::Body::new(crate::body::limits::Body::new(body, body_timeout, max_body)));
            let shared = Arc::clone(&connection.shared);
            Either::Right(async move {
                let response = crate::app::caught(shared.app.handle(request)).await;
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
            let timeout = inner.shared.limits.header_timeout;
            let handshake = tokio::time::timeout(timeout, inner.shared.secure.acceptor.accept(io)).await;
            let Ok(Ok(stream)) = handshake else { return tracing::debug!("TLS in a CONNECT tunnel failed") };
            if let Err(e) = inner.serve(stream).await {
                tracing::debug!("tunnel ended: {e}");
            }
        });
        hyper::Response::new(axum::body::Body::empty())
    }
}

/// The connection once its first byte has come within `timeout`; `None` when it closes or stays
/// silent. (hyper's header timer starts only once it knows the protocol, which takes a first
/// byte: a silent socket would be held for ever.)
async fn first_byte(stream: TcpStream, timeout: Duration) -> Option<TcpStream> {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(timeout, stream.peek(&mut byte)).await {
        Ok(Ok(n)) if n > 0 => Some(stream),
        _ => None,
    }
}

/// A TLS handshake on a connection of the HTTPS port, within `timeout`. A client that speaks plain
/// HTTP there gets a plain HTTP 400 that says which port to use; a handshake that fails or is too
/// slow closes the connection (logged at debug).
async fn tls_handshake(
    mut stream: slots::Counted<TcpStream>,
    acceptor: &tokio_rustls::TlsAcceptor,
    timeout: Duration,
) -> Option<tokio_rustls::server::TlsStream<slots::Counted<TcpStream>>> {
    // 0x16: a TLS handshake record; anything else is not TLS.
    let mut first = [0u8; 1];
    if matches!(stream.get_ref().peek(&mut first).await, Ok(1)) && first[0] != 0x16 {
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
