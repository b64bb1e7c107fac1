//! The connection cap (`--max-connections`) and who gives way at it. Every connection holds a
//! slot from its acceptance to its end, with its progress toward a request: the bytes it has sent
//! since its last request was answered, and whether one is being answered now. At the cap, the
//! connection that has made the least progress — silent sockets and idle kept-alive connections
//! first — is asked to give way, and the newcomer waits for the slot it frees: no client can lock
//! the others out by connecting and saying nothing.
//!
//! What must stay true: a connection answering a request is never asked to give way; a slot is
//! freed when its `Slot` is dropped, whatever ends the connection; the choice at the cap scans
//! the open connections once (at most `--max-connections` of them), and only at the cap.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// The slots of the open connections.
pub(super) struct Slots {
    cap: usize,
    open: Mutex<BTreeMap<u64, Arc<Progress>>>,
    next: AtomicU64,
    /// Told when a slot is freed.
    freed: Notify,
}

/// One connection's progress toward a request, and its cue to give way.
#[derive(Default)]
pub(super) struct Progress {
    /// Bytes read since the last request began or its answer ended.
    bytes: AtomicU64,
    /// Requests being answered.
    answering: AtomicUsize,
    asked: AtomicBool,
    give_way: Notify,
}

impl Slots {
    pub(super) fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self { cap: cap.max(1), open: Mutex::default(), next: AtomicU64::new(0), freed: Notify::new() })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Progress>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a connection just accepted: at once under the cap; at it, once the connection
    /// asked to give way has gone.
    pub(super) async fn take(self: &Arc<Self>) -> Slot {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before the count is read: a slot freed between the two is not missed.
            freed.as_mut().enable();
            {
                let mut open = self.open();
                if open.len() < self.cap {
                    let id = self.next.fetch_add(1, Ordering::Relaxed);
                    let progress = Arc::new(Progress::default());
                    open.insert(id, Arc::clone(&progress));
                    return Slot { slots: Arc::clone(self), id, progress };
                }
                Self::ask_one_to_give_way(&open);
            }
            freed.await;
        }
    }

    /// Asks the connection that has made the least progress toward a request to give way: of
    /// those not being answered, the one that has read the fewest bytes since its last answer
    /// (silent sockets, idle kept-alive ones, then heads and TLS handshakes that trickle in), the
    /// oldest first. None when every connection is being answered.
    fn ask_one_to_give_way(open: &BTreeMap<u64, Arc<Progress>>) {
        let least = open
            .values()
            .filter(|p| p.answering.load(Ordering::Acquire) == 0 && !p.asked.load(Ordering::Acquire))
            // The first of the least: the oldest (ids grow).
            .min_by_key(|p| p.bytes.load(Ordering::Acquire));
        if let Some(least) = least {
            least.asked.store(true, Ordering::Release);
            least.give_way.notify_one();
        }
    }
}

/// A connection's place under the cap, freed when dropped.
pub(super) struct Slot {
    slots: Arc<Slots>,
    id: u64,
    progress: Arc<Progress>,
}

impl Slot {
    pub(super) fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.open().remove(&self.id);
        self.slots.freed.notify_one();
    }
}

impl Progress {
    /// Resolves when the connection is asked to give way to a newcomer.
    pub(super) async fn asked_to_give_way(&self) {
        self.give_way.notified().await;
    }

    /// A request is being answered until the guard is dropped (with its answer's body).
    pub(super) fn answering(self: &Arc<Self>) -> Answering {
        self.answering.fetch_add(1, Ordering::AcqRel);
        self.bytes.store(0, Ordering::Release);
        Answering(Arc::clone(self))
    }
}

/// One request being answered; dropped once its answer is written (or abandoned).
pub(super) struct Answering(Arc<Progress>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.bytes.store(0, Ordering::Release);
        self.0.answering.fetch_sub(1, Ordering::AcqRel);
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

/// A connection's stream that counts the bytes it reads toward the connection's progress.
pub(super) struct Counted<S> {
    inner: S,
    progress: Arc<Progress>,
}

impl<S> Counted<S> {
    pub(super) fn new(inner: S, progress: Arc<Progress>) -> Self {
        Self { inner, progress }
    }

    pub(super) fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        let added = (buf.filled().len() - before) as u64;
        if added > 0 {
            self.progress.bytes.fetch_add(added, Ordering::AcqRel);
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A connection arriving at the cap: it waits for a slot on a task of its own.
    fn arriving(slots: &Arc<Slots>) -> tokio::task::JoinHandle<Slot> {
        let slots = Arc::clone(slots);
        tokio::spawn(async move { slots.take().await })
    }

    #[tokio::test]
    async fn at_the_cap_the_least_progress_gives_way_oldest_first_and_a_busy_one_never() {
        let slots = Slots::new(3);
        let older = slots.take().await;
        let fewer = slots.take().await;
        let busy = slots.take().await;
        older.progress().bytes.store(40, Ordering::Release);
        fewer.progress().bytes.store(10, Ordering::Release);
        let _answering = busy.progress().answering();
        let newcomer = arriving(&slots);
        tokio::time::timeout(Duration::from_secs(1), fewer.progress().asked_to_give_way()).await.expect("asked");
        assert!(!older.progress().asked.load(Ordering::Acquire), "more bytes: not asked first");
        drop(fewer);
        let newcomer = tokio::time::timeout(Duration::from_secs(1), newcomer).await.expect("in").unwrap();
        newcomer.progress().bytes.store(40, Ordering::Release);
        // Equal progress: the oldest goes.
        let next = arriving(&slots);
        tokio::time::timeout(Duration::from_secs(1), older.progress().asked_to_give_way()).await.expect("oldest");
        assert!(!busy.progress().asked.load(Ordering::Acquire), "the one answering a request is never asked");
        drop(older);
        tokio::time::timeout(Duration::from_secs(1), next).await.expect("in").unwrap();
    }

    #[tokio::test]
    async fn at_the_cap_a_silent_connection_gives_way_and_a_busy_one_never_does() {
        let slots = Slots::new(2);
        let busy = slots.take().await;
        let _answering = busy.progress().answering();
        let silent = slots.take().await;
        let newcomer = arriving(&slots);
        tokio::time::timeout(Duration::from_secs(1), silent.progress().asked_to_give_way()).await.expect("asked");
        assert!(!busy.progress().asked.load(Ordering::Acquire), "the one answering a request is not asked");
        drop(silent);
        tokio::time::timeout(Duration::from_secs(1), newcomer).await.expect("the newcomer got the slot").unwrap();
    }
}
