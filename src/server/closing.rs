//! Graceful shutdown of the connections being served, at one atomic load per poll of each.
//! hyper-util's `GracefulShutdown` polls a watch channel beside every connection, and each of
//! those polls locks a mutex that all connections share: on a polling loop both cores took it
//! for every request (BENCHMARKS.md). Here a connection keeps its own flag, and its task's waker
//! is stored only when it changes; shutdown raises every flag, wakes each task once, and waits
//! for the last connection to end.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use hyper_util::server::graceful::GracefulConnection;
use tokio::sync::Notify;

/// The connections open: counted from their acceptance until their `Open` is dropped.
#[derive(Default)]
pub(super) struct Connections {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    open: Mutex<Registry>,
    /// Told when the last connection ends during a shutdown.
    all_closed: Notify,
}

#[derive(Default)]
struct Registry {
    closing: bool,
    last: u64,
    each: HashMap<u64, Arc<Asked>>,
}

/// One connection's flag, and the waker of the task serving it.
#[derive(Default)]
struct Asked {
    to_close: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Connections {
    /// A connection just accepted; it counts as open until the `Open` is dropped.
    pub(super) fn open(&self) -> Open {
        let asked = Arc::new(Asked::default());
        let mut open = lock(&self.shared.open);
        open.last += 1;
        let id = open.last;
        // One accepted after shutdown began is asked at once.
        asked.to_close.store(open.closing, Ordering::Release);
        open.each.insert(id, Arc::clone(&asked));
        Open { shared: Arc::clone(&self.shared), id, asked, waker: None }
    }

    /// Asks every connection to close once its request in flight is answered (hyper's own
    /// graceful shutdown), then waits until the last has ended.
    pub(super) async fn shutdown(&self) {
        let wakers: Vec<Waker> = {
            let mut open = lock(&self.shared.open);
            open.closing = true;
            open.each
                .values()
                .filter_map(|asked| {
                    asked.to_close.store(true, Ordering::Release);
                    lock(&asked.waker).take()
                })
                .collect()
        };
        wakers.into_iter().for_each(Waker::wake);
        loop {
            let notified = self.shared.all_closed.notified();
            tokio::pin!(notified);
            // Registered before the count is read: an end between the two is not missed.
            notified.as_mut().enable();
            if lock(&self.shared.open).each.is_empty() {
                return;
            }
            notified.await;
        }
    }
}

/// A connection's place among the open ones.
pub(super) struct Open {
    shared: Arc<Shared>,
    id: u64,
    asked: Arc<Asked>,
    /// The waker last stored for shutdown to wake.
    waker: Option<Waker>,
}

impl Open {
    /// Whether shutdown has asked the connection to close; until it has, `cx`'s task is woken
    /// when it does. The waker is stored only when it is not the one stored already.
    fn poll_asked(&mut self, cx: &Context<'_>) -> bool {
        if self.asked.to_close.load(Ordering::Acquire) {
            return true;
        }
        if self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return false;
        }
        *lock(&self.asked.waker) = Some(cx.waker().clone());
        self.waker = Some(cx.waker().clone());
        // Read again: shutdown may have raised the flag and taken the old waker in between.
        self.asked.to_close.load(Ordering::Acquire)
    }

    /// Resolves when shutdown asks the connection to close (a connection that has not sent a
    /// request yet has nothing to finish).
    pub(super) fn asked(&mut self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|cx| if self.poll_asked(cx) { Poll::Ready(()) } else { Poll::Pending })
    }

    /// `connection`, closed gracefully when shutdown asks.
    pub(super) fn watch<C: GracefulConnection>(self, connection: C) -> Watched<C> {
        Watched { connection: Box::pin(connection), open: self, closing: false }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let mut open = lock(&self.shared.open);
        open.each.remove(&self.id);
        if open.closing && open.each.is_empty() {
            self.shared.all_closed.notify_waiters();
        }
    }
}

/// A connection served until it ends, told to close gracefully once shutdown asks.
pub(super) struct Watched<C> {
    connection: Pin<Box<C>>,
    open: Open,
    /// Told already.
    closing: bool,
}

impl<C: GracefulConnection> Future for Watched<C> {
    type Output = C::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<C::Output> {
        let this = &mut *self;
        if !this.closing && this.open.poll_asked(cx) {
            this.closing = true;
            this.connection.as_mut().graceful_shutdown();
        }
        this.connection.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Connections;

    #[tokio::test]
    async fn shutdown_waits_for_every_open_connection_and_none_after() {
        let connections = Connections::default();
        tokio::time::timeout(Duration::from_secs(1), connections.shutdown()).await.expect("nothing open: at once");

        let connections = std::sync::Arc::new(Connections::default());
        let (first, second) = (connections.open(), connections.open());
        let waiting = tokio::spawn({
            let connections = std::sync::Arc::clone(&connections);
            async move { connections.shutdown().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(first.asked.to_close.load(std::sync::atomic::Ordering::Acquire), "each open one is asked");
        let late = connections.open();
        assert!(late.asked.to_close.load(std::sync::atomic::Ordering::Acquire), "one opened during shutdown too");
        drop(first);
        drop(late);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "one is still open");
        drop(second);
        tokio::time::timeout(Duration::from_secs(1), waiting).await.expect("ends with the last").unwrap();
    }
}
