//! `--header-timeout` after a connection's first byte: the time a connection may spend between
//! requests — reading the next request's head, or idle on keep-alive — is limited, with one timer
//! per connection instead of hyper's, which armed and dropped a timer for every request (a tenth
//! of the server's CPU on a polling loop, BENCHMARKS.md).
//!
//! The connection counts the requests it is answering (from the service's call until the
//! answer's body is written or dropped). When none is, a read that has to wait checks how long
//! the connection has been without one; past the timeout the read ends the stream and hyper
//! closes the connection, as its own header timeout did. A request body that trickles in is under
//! `--body-timeout` instead (`deadline.rs`), and an answer a client reads slowly is not cut.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// What a connection's reads and its service share: requests being answered, and since when
/// none has been.
pub(super) struct Quiet {
    answering: AtomicUsize,
    /// Milliseconds from `start` to the end of the last answer (0: none yet).
    idle_since_ms: AtomicU64,
    start: Instant,
    timeout: Duration,
}

impl Quiet {
    /// A connection whose wait for a request starts now and may last `timeout`.
    pub(super) fn new(timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            answering: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            start: Instant::now(),
            timeout,
        })
    }

    /// A request is being answered until the guard is dropped.
    pub(super) fn answering(self: &Arc<Self>) -> Answering {
        self.answering.fetch_add(1, Ordering::AcqRel);
        Answering(Arc::clone(self))
    }

    /// When the connection must have a request to answer by; `None` while it is answering one.
    fn deadline(&self) -> Option<Instant> {
        if self.answering.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(self.start + Duration::from_millis(self.idle_since_ms.load(Ordering::Acquire)) + self.timeout)
    }
}

/// One request being answered; dropped once its answer is written (or abandoned).
pub(super) struct Answering(Arc<Quiet>);

impl Drop for Answering {
    fn drop(&mut self) {
        let quiet = &self.0;
        // The idle time first: a read that sees no request answered must see when the last ended.
        let now = u64::try_from(quiet.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        quiet.idle_since_ms.fetch_max(now, Ordering::AcqRel);
        quiet.answering.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer's body that holds its request's `Answering` until hyper has written it all.
pub(super) struct AnsweredBody {
    inner: axum::body::Body,
    _answering: Answering,
}

impl AnsweredBody {
    pub(super) fn new(inner: axum::body::Body, answering: Answering) -> Self {
        Self { inner, _answering: answering }
    }
}

impl http_body::Body for AnsweredBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's stream whose reads fail once it has been too long without a request.
pub(super) struct QuietIo<S> {
    inner: S,
    quiet: Arc<Quiet>,
    /// Made at the first wait and reset only when it fires before the deadline that holds by
    /// then (answers only move the deadline later): not once per request.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<S> QuietIo<S> {
    pub(super) fn new(inner: S, quiet: Arc<Quiet>) -> Self {
        Self { inner, quiet, sleep: None }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for QuietIo<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if let Poll::Ready(read) = Pin::new(&mut this.inner).poll_read(cx, buf) {
            return Poll::Ready(read);
        }
        let Some(deadline) = this.quiet.deadline() else { return Poll::Pending };
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        loop {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if Instant::now() >= deadline {
                // Read as the end of the stream, so that hyper closes the connection as it does
                // when a client leaves: a TLS connection says `close_notify`, and a client's pool
                // knows not to reuse it.
                tracing::debug!("no request within {} s (--header-timeout): closing", this.quiet.timeout.as_secs_f64());
                return Poll::Ready(Ok(()));
            }
            sleep.as_mut().reset(deadline);
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for QuietIo<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
