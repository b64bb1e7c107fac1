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

use crate::app::App;
use crate::http::DropConnection;

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

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and lets in-flight
/// requests finish (for at most ten seconds).
///
/// The accept loop is our own rather than `axum::serve` so that a scripted fault can drop a
/// connection without answering (a response marked `DropConnection` turns into a service error,
/// and hyper closes the connection instead of writing it), and so that silent sockets give way.
pub(crate) async fn serve(listener: TcpListener, app: App, limits: Limits, shutdown: impl Future<Output = ()>) {
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    // A client that never finishes its headers gives up its connection after this long; one
    // that half-closes after a complete request still gets its answer.
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .half_close(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(usable_connections(limits.max_connections)));
    let silent = Arc::new(Silent::default());
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
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
        // One handle per connection, cloned for each of its requests: its count is written by
        // the core serving the connection only, where cloning the shared `App` on every request
        // had both cores write the same counters.
        let app = Arc::new(app.clone());
        let answering = tower::ServiceBuilder::new().layer(crate::app::panic_net()).service_fn(move |request| {
            let app = Arc::clone(&app);
            async move { Ok::<_, std::convert::Infallible>(app.handle(request).await) }
        });
        let body_timeout = limits.body_timeout;
        let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let answering = answering.clone();
            async move {
                let request = request.map(|body| axum::body::Body::new(crate::deadline::Body::new(body, body_timeout)));
                let Ok(response) = tower::ServiceExt::oneshot(answering, request).await;
                if response.extensions().get::<DropConnection>().is_some() {
                    return Err(DroppedByFault);
                }
                Ok(response)
            }
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let silent = Arc::clone(&silent);
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _slot: OwnedSemaphorePermit = slot;
            if !first_byte(&stream, &silent, header_timeout).await {
                return;
            }
            let stream = TokioIo::new(refusals::Refusals::new(stream));
            let connection = builder.serve_connection_with_upgrades(stream, service).into_owned();
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("in-flight requests did not finish in 10 s"),
    }
}

/// Waits for the connection's first byte: false when it closes, stays silent past `timeout`, or
/// is asked to give way to a newcomer first. (hyper's header timeout starts only once the
/// protocol is known, which takes a first byte: a silent socket would be held for ever.)
async fn first_byte(stream: &TcpStream, silent: &Silent, timeout: Duration) -> bool {
    let (id, give_way) = silent.join();
    let mut byte = [0u8; 1];
    let arrived = tokio::select! {
        peeked = tokio::time::timeout(timeout, stream.peek(&mut byte)) => matches!(peeked, Ok(Ok(n)) if n > 0),
        () = give_way.notified() => false,
    };
    silent.leave(id);
    arrived
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
