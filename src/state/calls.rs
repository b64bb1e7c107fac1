//! The emulated API's calls about a session (result, video, report, generate files): whether the
//! key's flow owns the session, and the poll.

use std::collections::HashSet;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AppState, Inner, NotOwn};
use crate::session::{Applied, Command, Found, Session};

/// What a poll of the result endpoint found (`AppState::poll`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Polled {
    /// The time since the session's result was last asked for.
    pub since_last_poll: Option<std::time::Duration>,
    /// How many earlier polls were answered the session's final result.
    pub earlier_final_polls: u32,
}

impl AppState {
    /// Whether session `id` is there for the flow of `key` at `now`: the flow that made it, not
    /// since deleted. A session the store let go is reported as such to that flow's key only.
    pub(super) fn own(&self, inner: &Inner, id: &Uuid, key: &str, now: OffsetDateTime) -> Result<(), NotOwn> {
        match inner.sessions.get(id) {
            Some(session) => self.owns(&inner.retired_flows, session, key, now),
            None => Err(self.gone(inner, id, key)),
        }
    }

    /// `own` for a session that is there: it belongs to the flow of `key`, not since deleted,
    /// and has not expired at `now`.
    fn owns(&self, retired: &HashSet<u64>, session: &Session, key: &str, now: OffsetDateTime) -> Result<(), NotOwn> {
        if session.api_key().as_str() != key || retired.contains(&session.flow_id()) {
            return Err(NotOwn::Missing);
        }
        match session.expired_at(self.0.config.session_ttl, now) {
            Some(at) => Err(NotOwn::Expired(at)),
            None => Ok(()),
        }
    }

    /// `own` for a session that is not there: evicted (told to its flow's key only), or missing.
    fn gone(&self, inner: &Inner, id: &Uuid, key: &str) -> NotOwn {
        match inner.sessions.eviction(id).filter(|e| !inner.retired_flows.contains(&e.flow_id)) {
            Some(e) if self.find_flow(key).is_some_and(|f| f.id == e.flow_id) => NotOwn::Evicted(e),
            _ => NotOwn::Missing,
        }
    }

    /// The result endpoint's call about session `id` with the flow key `key`, at `now` (when the
    /// request came, by the key's time: `now_for`): the session must be the key's; the poll is
    /// noted.
    pub(crate) fn poll(&self, id: &Uuid, key: &str, now: OffsetDateTime) -> Result<Polled, NotOwn> {
        let mut inner = self.lock();
        self.own(&inner, id, key, now)?;
        let scope = self.scope(key);
        let ctx = self.context(now, scope.as_deref());
        let session = inner.sessions.get_mut(id).ok_or(NotOwn::Missing)?;
        let Ok(Applied { found: Found::Poll { since_last, earlier_final_polls }, .. }) =
            session.apply(Command::Poll, &ctx)
        else {
            return Err(NotOwn::Missing);
        };
        Ok(Polled { since_last_poll: since_last, earlier_final_polls })
    }

    /// The "generate files" call \[doc\] about session `id` with the flow key `key`, under one
    /// lock: checked as every call about a session is, then the E-Document step's missing files
    /// are made. The fields made, or why there were none to make.
    pub(crate) fn generate_files(
        &self,
        id: &Uuid,
        key: &str,
    ) -> Result<Result<Vec<&'static str>, crate::session::TransitionError>, NotOwn> {
        let scope = self.scope(key);
        let now = self.now_in(scope.as_deref());
        let mut inner = self.lock();
        self.own(&inner, id, key, now)?;
        let session = inner.sessions.get_mut(id).ok_or(NotOwn::Missing)?;
        match session.apply(Command::GenerateFiles, &self.context(now, scope.as_deref())) {
            Ok(Applied { found: Found::FilesMade(made), .. }) => {
                self.changed();
                Ok(Ok(made))
            }
            Ok(_) => Ok(Ok(Vec::new())),
            Err(e) => Ok(Err(e)),
        }
    }
}
