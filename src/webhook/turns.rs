//! How many webhook deliveries may be in flight at once: each holds a socket for up to the
//! client's timeout, so without a bound, receivers that hang (5 of them, 300 sessions) took every
//! file descriptor and the server could accept no one. At most `MAX_IN_FLIGHT` attempts run at
//! once, and at most `PER_RECEIVER` to one receiver (its scheme, host and port), so that a few
//! hanging receivers leave turns for the others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Attempts in flight at once, to every receiver together \[mock\].
pub(crate) const MAX_IN_FLIGHT: usize = 64;
/// Attempts in flight at once to one receiver \[mock\]; also the idle connections kept to it.
pub(super) const PER_RECEIVER: usize = 8;
/// Receivers remembered before those with no attempt in flight are forgotten.
const REMEMBERED: usize = 1024;

pub(super) struct Turns {
    all: Arc<Semaphore>,
    receivers: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// One attempt's turn, given back when dropped.
pub(super) struct Turn {
    _receiver: OwnedSemaphorePermit,
    _all: OwnedSemaphorePermit,
}

impl Turns {
    pub(super) fn new() -> Self {
        Self { all: Arc::new(Semaphore::new(MAX_IN_FLIGHT)), receivers: Mutex::default() }
    }

    /// Waits for a turn to send to `url`: first the receiver's, then one of all.
    pub(super) async fn take(&self, url: &str) -> Turn {
        let receiver = {
            let mut receivers = self.receivers.lock().unwrap_or_else(PoisonError::into_inner);
            if receivers.len() >= REMEMBERED {
                receivers.retain(|_, turns| Arc::strong_count(turns) > 1);
            }
            Arc::clone(receivers.entry(receiver(url)).or_insert_with(|| Arc::new(Semaphore::new(PER_RECEIVER))))
        };
        // The semaphores are never closed.
        let receiver = receiver.acquire_owned().await.expect("open");
        let all = Arc::clone(&self.all).acquire_owned().await.expect("open");
        Turn { _receiver: receiver, _all: all }
    }
}

/// The receiver a URL names: its scheme, host and port (the whole URL if it does not parse).
fn receiver(url: &str) -> String {
    match url.parse::<hyper::Uri>() {
        Ok(uri) => format!("{}://{}", uri.scheme_str().unwrap_or(""), uri.authority().map_or("", |a| a.as_str())),
        Err(_) => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_receiver_gets_at_most_its_share_and_others_still_get_turns() {
        let turns = Turns::new();
        let mut held = Vec::new();
        for _ in 0..PER_RECEIVER {
            held.push(turns.take("http://hanging:9/a").await);
        }
        let more = tokio::time::timeout(Duration::from_millis(50), turns.take("http://hanging:9/b")).await;
        assert!(more.is_err(), "the receiver's share is taken (another path, same receiver)");
        let other = tokio::time::timeout(Duration::from_millis(50), turns.take("http://healthy:9/")).await;
        assert!(other.is_ok(), "another receiver still gets a turn");
        drop(other);
        for n in 0..(MAX_IN_FLIGHT - PER_RECEIVER) {
            held.push(turns.take(&format!("http://r{n}:9/")).await);
        }
        let full = tokio::time::timeout(Duration::from_millis(50), turns.take("http://healthy:9/")).await;
        assert!(full.is_err(), "at most {MAX_IN_FLIGHT} in flight in all");
        held.pop();
        let after = tokio::time::timeout(Duration::from_millis(50), turns.take("http://healthy:9/")).await;
        assert!(after.is_ok(), "a turn given back is taken");
    }
}
