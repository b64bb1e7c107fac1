//! `--state-file` as the state runs it: a flag set by every change, the write of a snapshot
//! (one at a time, in the order they were taken), and how the writes have gone, for
//! `/__admin/health` and the dashboard.

use std::cell::Cell;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use super::AppState;

tokio::task_local! {
    /// Set while a request is answered, once it changes flows or sessions: `--state-sync`
    /// writes (and can fail) only the requests that changed something.
    static THIS_REQUEST_CHANGED: Cell<bool>;
}

/// Runs `answering` (one request's answer) and says whether it changed flows or sessions.
pub(crate) async fn noting_change<T>(answering: impl Future<Output = T>) -> (T, bool) {
    THIS_REQUEST_CHANGED
        .scope(Cell::new(false), async move {
            let answer = answering.await;
            (answer, THIS_REQUEST_CHANGED.with(Cell::get))
        })
        .await
}

/// How the state file's writes have gone, as `/__admin/health` and the dashboard show it.
#[derive(Debug, Clone, Default)]
pub(crate) struct SaveStatus {
    /// When the file was last written.
    pub last_saved: Option<time::OffsetDateTime>,
    /// While writes fail: since when, and why the last one failed.
    pub failing: Option<(time::OffsetDateTime, String)>,
}

impl AppState {
    /// Notes that flows or sessions changed, for the state file.
    pub(super) fn changed(&self) {
        // Outside a request (the webhook sender, the saver) there is no request to note it for.
        let _ = THIS_REQUEST_CHANGED.try_with(|changed| changed.set(true));
        // Read first: once set, the flag is not written again by every create on every core.
        if !self.0.dirty.load(Ordering::Relaxed) {
            self.0.dirty.store(true, Ordering::Relaxed);
        }
    }

    /// Writes the state file now if anything changed since the last write (or `always`), and
    /// notes how it went (`save_status`); a failure is logged when writes start failing and when
    /// they work again, not on every try. Blocking I/O: call it off the async threads.
    pub(crate) fn save(&self, always: bool) -> Result<(), crate::persist::StateFileError> {
        let Some(path) = self.0.config.state_file.as_deref() else { return Ok(()) };
        let mut status = self.0.saves.lock().unwrap_or_else(PoisonError::into_inner);
        if !self.0.dirty.swap(false, Ordering::Relaxed) && !always {
            return Ok(());
        }
        let snapshot = {
            let inner = self.lock();
            let oldest_first: Vec<&crate::session::Session> = inner.sessions.iter_newest_first().collect();
            let flows = self.0.flows.all();
            crate::persist::Snapshot::of(flows.iter().map(|f| &**f), oldest_first.into_iter().rev()).with_backend(
                &self.backend_keys(),
                inner.backend.sessions(),
                inner.backend.persons(),
            )
        };
        let written = snapshot.write(path);
        let now = self.0.clock.now();
        match &written {
            Ok(()) => {
                if status.failing.take().is_some() {
                    tracing::info!("the state file is written again: {}", path.display());
                }
                status.last_saved = Some(now);
            }
            Err(e) => {
                // Still to be written: the next save tries again.
                self.0.dirty.store(true, Ordering::Relaxed);
                let reason = e.to_string();
                if let Some((_, before)) = &mut status.failing {
                    *before = reason;
                } else {
                    tracing::error!("cannot save the state file (logged again only when it works): {reason}");
                    status.failing = Some((now, reason));
                }
            }
        }
        written
    }

    /// How the state file's writes have gone; `None` without `--state-file`.
    pub(crate) fn save_status(&self) -> Option<(&std::path::Path, SaveStatus)> {
        let path = self.0.config.state_file.as_deref()?;
        Some((path, self.0.saves.lock().unwrap_or_else(PoisonError::into_inner).clone()))
    }

    /// `--state-sync`: every change is written before it is answered.
    pub(crate) fn state_sync(&self) -> bool {
        self.0.config.state_sync && self.0.config.state_file.is_some()
    }

    pub(crate) fn has_state_file(&self) -> bool {
        self.0.config.state_file.is_some()
    }
}
