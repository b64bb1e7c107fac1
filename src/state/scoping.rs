//! Many suites, one mock (SPEC §16): what a key owns, found and let go by the key. A flow
//! session belongs to its flow's key, a backend session and a person to their organisation key,
//! a journal entry to the key it was made with, an admin fault rule to the key it names; a key
//! may also keep a clock and a seed of its own (`scopes.rs`). Lists and resets that name a key
//! scan what the mock holds; the calls of the emulated API never do.

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use super::AppState;
use super::scopes::Scope;
use crate::clock::PastTheEnd;
use crate::session::Generator;
use crate::session::Session;
use crate::session::backend::{BackendSession, Person};

/// What a call naming a key the mock does not know is told (its first 100 characters quoted),
/// then `why` it matters there.
pub(crate) fn unknown_key(key: &str, why: &str) -> String {
    let shown: String = key.chars().take(100).collect();
    format!("No flow or backend key has the api_key {shown:?}: {why}")
}

impl AppState {
    /// What `key` keeps of its own, if anything (`scopes.rs`).
    pub(super) fn scope(&self, key: &str) -> Option<Arc<Scope>> {
        self.0.scopes.get(key)
    }

    /// The generator values are drawn from for a key with `scope`: its own when it has a seed,
    /// else the mock's.
    pub(super) fn generator_in<'a>(&'a self, scope: Option<&'a Scope>) -> &'a Mutex<Generator> {
        scope.and_then(Scope::generator).unwrap_or(&self.0.generator)
    }

    /// The time for a key with `scope`: the mock's clock and the key's own offset.
    pub(super) fn now_in(&self, scope: Option<&Scope>) -> OffsetDateTime {
        Self::on_clock_of(self.0.clock.now(), scope)
    }

    /// `at` (by the mock's clock) by the clock of a key with `scope`.
    fn on_clock_of(at: OffsetDateTime, scope: Option<&Scope>) -> OffsetDateTime {
        match scope.map_or(0, Scope::offset_ms) {
            0 => at,
            ms => crate::clock::ahead(at, ms),
        }
    }

    /// The time for `key`'s sessions (SPEC §16: a key may have moved its own clock).
    pub(crate) fn now_for(&self, key: &str) -> OffsetDateTime {
        self.now_in(self.scope(key).as_deref())
    }

    /// `at`, a time by the mock's clock (when a request came), by `key`'s clock.
    pub(crate) fn on_key_clock(&self, at: OffsetDateTime, key: &str) -> OffsetDateTime {
        Self::on_clock_of(at, self.scope(key).as_deref())
    }

    /// Whether `key` is a flow's key or an organisation's Backend Api Key.
    pub(crate) fn knows_key(&self, key: &str) -> bool {
        self.find_flow(key).is_some() || self.find_backend_key(key).is_some()
    }

    /// Everything `key` owns gone — sessions, fault rules, backend sessions and persons, journal
    /// entries, webhook attempts — and its own clock and seed back to their start; the key
    /// itself stays.
    pub(crate) fn reset_key(&self, key: &str) {
        let flows: Vec<u64> = self.find_flow(key).map(|f| f.id).into_iter().collect();
        let removed = {
            let mut inner = self.lock();
            inner.faults.clear_key(key);
            inner.backend.remove_key(key);
            inner.sessions.remove_where(|s| s.api_key().as_str() == key, &flows)
        };
        // Freed out of the lock.
        drop(removed);
        self.0.journal.remove_key(key);
        self.0.events.forget_key(key);
        self.0.scopes.restart(key);
        self.changed();
    }

    /// Everything a deleted key owned gone (`?purge=true`): `reset_key`, and its clock and seed
    /// forgotten.
    pub(crate) fn purge_key(&self, key: &str) {
        self.reset_key(key);
        self.0.scopes.forget(key);
    }

    /// Runs `f` on one page of the sessions (of `key`'s flow only, when given), newest first
    /// (`offset` skipped, at most `limit`), under the lock; also returns how many there are.
    pub(crate) fn page_of_sessions<R>(
        &self,
        key: Option<&str>,
        offset: usize,
        limit: usize,
        f: impl FnMut(&Session) -> R,
    ) -> (Vec<R>, usize) {
        let inner = self.lock();
        let Some(key) = key else {
            let page = inner.sessions.iter_newest_first().skip(offset).take(limit).map(f).collect();
            return (page, inner.sessions.len());
        };
        let of_key = || inner.sessions.iter_newest_first().filter(|s| s.api_key().as_str() == key);
        (of_key().skip(offset).take(limit).map(f).collect(), of_key().count())
    }

    /// The backend sessions (`key`'s only, when given), oldest first.
    pub(crate) fn backend_sessions(&self, key: Option<&str>) -> Vec<BackendSession> {
        let inner = self.lock();
        inner.backend.sessions().filter(|s| key.is_none_or(|k| s.api_key == k)).cloned().collect()
    }

    /// The persons registered (with `key` only, when given), oldest first.
    pub(crate) fn persons(&self, key: Option<&str>) -> Vec<Person> {
        let inner = self.lock();
        inner.backend.persons().filter(|p| key.is_none_or(|k| p.api_key == k)).cloned().collect()
    }

    /// How far `key`'s clock runs ahead of the mock's (the mock's own offset not included).
    pub(crate) fn key_offset(&self, key: &str) -> time::Duration {
        time::Duration::milliseconds(self.scope(key).map_or(0, |s| s.offset_ms()))
    }

    /// Moves `key`'s clock `by` forward: its sessions' expiry, processing delays and times
    /// follow it, nobody else's. Refused past the clock's end.
    pub(crate) fn advance_key_clock(&self, key: &str, by: std::time::Duration) -> Result<(), PastTheEnd> {
        let ms = i64::try_from(by.as_millis()).map_err(|_| PastTheEnd)?;
        let now = self.0.clock.now();
        self.0.scopes.advance(key, ms, |offset| {
            let shown = now.checked_add(time::Duration::milliseconds(offset)).ok_or(PastTheEnd)?;
            if shown <= crate::clock::LATEST { Ok(()) } else { Err(PastTheEnd) }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::state;

    #[test]
    fn a_keys_reset_takes_its_sessions_and_leaves_the_others() {
        let state = state();
        let flows = state.flows();
        let (mine, theirs) = (&flows[0], &flows[1]);
        let create =
            |key: &str| state.create(&state.find_flow(key).unwrap(), crate::domain::Metadata::default(), None).0;
        let kept = create(theirs.api_key.as_str());
        let gone = create(mine.api_key.as_str());
        state.reset_key(mine.api_key.as_str());
        assert!(state.with_session(&gone, |_| ()).is_none(), "the key's session is gone");
        assert!(state.with_session(&kept, |_| ()).is_some(), "another key's stays");
        let (listed, total) = state.page_of_sessions(Some(theirs.api_key.as_str()), 0, 10, Session::id);
        assert_eq!((listed, total), (vec![kept], 1));
    }
}
