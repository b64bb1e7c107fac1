//! `--body-timeout`: a request body must arrive whole within this long of its headers. A client
//! that announces a large body and then sends a byte a second would otherwise hold its
//! connection (and a handler) for as long as it likes; an idle timer per read would not stop it.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use std::future::Future as _;

use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error a body gives once its deadline has passed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimedOut(pub Duration);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body did not arrive within {} s (--body-timeout)", self.0.as_secs_f64())
    }
}

impl std::error::Error for TimedOut {}

/// Whether `error`, or an error it was made from, is a body's `TimedOut`.
pub(crate) fn timed_out(error: &(dyn std::error::Error + 'static)) -> Option<TimedOut> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(t) = e.downcast_ref::<TimedOut>() {
            return Some(*t);
        }
        next = e.source();
    }
    None
}

/// A request body with a deadline. The timer is made only when the body is not already there
/// (most bodies arrive with their headers), so the usual request pays nothing for it.
pub(crate) struct Body<B> {
    inner: B,
    timeout: Duration,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<B> Body<B> {
    pub(crate) fn new(inner: B, timeout: Duration) -> Self {
        Self { inner, timeout, deadline: Instant::now() + timeout, sleep: None }
    }
}

impl<B> http_body::Body for Body<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(TimedOut(this.timeout))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
