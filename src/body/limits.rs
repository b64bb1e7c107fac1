//! The two limits of a request body, in one place: `--max-body` (a body its `Content-Length` says
//! is over it is refused before a byte of it is read, so no `100 Continue` invites it; one that
//! streams past it is cut there) and `--body-timeout` (the whole body within this long of its
//! headers: a client that announces a large body and then sends a byte a second would otherwise
//! hold its connection, and a handler, for as long as it likes; an idle timer per read would not
//! stop it). The server wraps every request's body; the readers answer what went wrong.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// Why a body could not be read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    /// It did not arrive within this long (`--body-timeout`).
    Time(Duration),
    /// It is larger than this many bytes (`--max-body`).
    Size(usize),
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Time(timeout) => {
                write!(f, "the request body did not arrive within {} s (--body-timeout)", timeout.as_secs_f64())
            }
            Self::Size(limit) => write!(f, "the request body is larger than {limit} bytes (--max-body)"),
        }
    }
}

impl std::error::Error for Exceeded {}

impl Exceeded {
    /// The status that answers it: 408 for `--body-timeout`, 413 for `--max-body`.
    pub(crate) fn status(self) -> axum::http::StatusCode {
        match self {
            Self::Time(_) => axum::http::StatusCode::REQUEST_TIMEOUT,
            Self::Size(_) => axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        }
    }
}

/// Whether `error`, or an error it was made from, is a body's `Exceeded`.
pub(crate) fn exceeded(error: &(dyn std::error::Error + 'static)) -> Option<Exceeded> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(exceeded) = e.downcast_ref::<Exceeded>() {
            return Some(*exceeded);
        }
        next = e.source();
    }
    None
}

/// A request body under both limits. The timer is made only when the body is not already there
/// (most bodies arrive with their headers).
pub(crate) struct Body<B> {
    inner: B,
    timeout: Duration,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
    /// Bytes that may still come.
    left: usize,
    max: usize,
}

impl<B> Body<B> {
    pub(crate) fn new(inner: B, timeout: Duration, max: usize) -> Self {
        Self { inner, timeout, deadline: Instant::now() + timeout, sleep: None, left: max, max }
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
        // Its Content-Length (the lower bound of its size) says so before anything is read.
        if this.inner.size_hint().lower() > this.left as u64 {
            return Poll::Ready(Some(Err(Box::new(Exceeded::Size(this.max)))));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(match frame {
                Some(Ok(frame)) => {
                    let bytes = frame.data_ref().map_or(0, Bytes::len);
                    match this.left.checked_sub(bytes) {
                        Some(left) => {
                            this.left = left;
                            Some(Ok(frame))
                        }
                        None => Some(Err(Box::new(Exceeded::Size(this.max)))),
                    }
                }
                other => other.map(|f| f.map_err(Into::into)),
            });
        }
        let deadline = this.deadline;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(Exceeded::Time(this.timeout))))),
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

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt as _, Full, StreamBody};

    use super::*;

    async fn read(
        body: impl http_body::Body<Data = Bytes, Error = std::convert::Infallible> + Unpin,
        max: usize,
    ) -> Result<Bytes, Option<Exceeded>> {
        let limited = Body::new(body, Duration::from_secs(5), max);
        limited.collect().await.map(http_body_util::Collected::to_bytes).map_err(|e| exceeded(&*e))
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_whether_its_length_says_so_or_not() {
        assert_eq!(read(Full::new(Bytes::from_static(b"12345")), 5).await, Ok(Bytes::from_static(b"12345")));
        assert_eq!(read(Full::new(Bytes::from_static(b"123456")), 5).await, Err(Some(Exceeded::Size(5))));
        // A stream of chunks says no length: cut where it passes the limit.
        let chunks =
            futures_util::stream::iter(["123", "456"].map(|c| Ok(Frame::data(Bytes::from_static(c.as_bytes())))));
        assert_eq!(read(StreamBody::new(chunks), 5).await, Err(Some(Exceeded::Size(5))));
    }
}
