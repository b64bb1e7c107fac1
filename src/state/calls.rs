//! The emulated API's calls about a session (result, video, report): whether the key's flow
//! owns the session, the fault rules the call meets, the poll, and the result's answer kept
//! once it is final.

use std::collections::HashSet;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AppState, Inner, NotOwn, ResultCall};
use crate::domain::scripting::Endpoint;
use crate::scenario::Fault;
use crate::session::{Applied, Command, Context, Found, Session};

impl AppState {
    /// Whether session `id` is there for the flow of `key` at `now`: the flow that made it, not
    /// since deleted. A session the store let go is reported as such to that flow's key only.
    fn own(&self, inner: &Inner, id: &Uuid, key: &str, now: OffsetDateTime) -> Result<(), NotOwn> {
        match inner.sessions.get(id) {
            Some(session) => self.owns(&inner.retired_flows, session, key, now),
            None => Err(self.gone(inner, id, key)),
        }
    }

    /// `own` for a session that is there: it belongs to the flow of `key`, not since deleted,
    /// and has not expired at `now`.
    fn owns(&self, retired: &HashSet<u64>, session: &Session, key: &str, now: OffsetDateTime) -> Result<(), NotOwn> {
        if session.api_key().as_str() != key || Self::retired(retired, session.flow_id()) {
            return Err(NotOwn::Missing);
        }
        match session.expired_at(self.0.config.session_ttl, now) {
            Some(at) => Err(NotOwn::Expired(at)),
            None => Ok(()),
        }
    }

    /// `own` for a session that is not there: evicted (told to its flow's key only), or missing.
    fn gone(&self, inner: &Inner, id: &Uuid, key: &str) -> NotOwn {
        match inner.sessions.eviction(id).filter(|e| !Self::retired(&inner.retired_flows, e.flow_id)) {
            Some(e) if self.find_flow(key).is_some_and(|f| f.id == e.flow_id) => NotOwn::Evicted(e),
            _ => NotOwn::Missing,
        }
    }

    fn retired(retired: &HashSet<u64>, flow_id: u64) -> bool {
        !retired.is_empty() && retired.contains(&flow_id)
    }

    /// The fault a call of `endpoint` about session `id` meets: an admin rule first, then the
    /// session's scenario's; the call is counted.
    fn meet_fault(inner: &mut Inner, endpoint: Endpoint, id: &Uuid, ctx: &Context<'_>) -> Option<Fault> {
        if let Some(fault) = inner.faults.take_admin(endpoint) {
            return Some(fault);
        }
        let session = inner.sessions.get_mut(id)?;
        match session.apply(Command::MeetFault(endpoint), ctx) {
            Ok(Applied { found: Found::Fault(fault), .. }) => fault,
            _ => None,
        }
    }

    /// A call of `endpoint` about session `id` with the flow key `key` (the video and report
    /// endpoints), under one lock: the session must exist, belong to the flow of `key` and not
    /// have expired. Then the call counts against the fault rules: the fault it meets, if any.
    pub fn call_about(&self, endpoint: Endpoint, id: &Uuid, key: &str) -> Result<Option<Fault>, NotOwn> {
        let now = self.0.clock.now();
        let mut inner = self.lock();
        self.own(&inner, id, key, now)?;
        Ok(Self::meet_fault(&mut inner, endpoint, id, &self.context(now)))
    }

    /// The result endpoint's call about session `id` with the flow key `key`, under one lock and
    /// one reading of the clock: checked and counted as `call_about` does, the poll noted, then
    /// — unless a fault rule hit the call, which the caller plays before asking `result_answer`
    /// — the answer. `write` makes the answer (the body, and whether it is final) unless a final
    /// one is kept: nothing changes a session after that, so a suite polling a finished session
    /// does not pay for serializing it again on every call. `now`: when the request came (the
    /// journal's reading of the clock).
    pub fn result_call<E>(
        &self,
        id: &Uuid,
        key: &str,
        now: OffsetDateTime,
        write: impl FnOnce(&Session, OffsetDateTime) -> Result<(bytes::Bytes, bool), E>,
    ) -> Result<ResultCall<E>, NotOwn> {
        let mut inner = self.lock();
        // One lookup of the session for all of it: a suite polls in a loop.
        let Inner { sessions, faults, retired_flows, .. } = &mut *inner;
        let Some(session) = sessions.get_mut(id) else { return Err(self.gone(&inner, id, key)) };
        self.owns(retired_flows, session, key, now)?;
        let admin_fault = faults.take_admin(Endpoint::Result);
        let ctx = self.context(now);
        let Ok(Applied { found: Found::Poll { since_last, earlier_final_polls, kept, fault }, .. }) =
            session.apply(Command::Poll { meet_fault: admin_fault.is_none() }, &ctx)
        else {
            return Err(NotOwn::Missing);
        };
        let earlier_final_polls = (earlier_final_polls, session.status().as_str());
        let answer = match (admin_fault.or(fault), kept) {
            (Some(fault), _) => Err(fault),
            (None, Some(kept)) => Ok(Ok((kept, true))),
            (None, None) => Ok(Self::write_answer(session, &ctx, write)),
        };
        Ok(ResultCall { since_last_poll: since_last, earlier_final_polls, answer })
    }

    /// The "generate files" call \[doc\] about session `id` with the flow key `key`, under one
    /// lock: checked as `call_about` does, then the E-Document step's missing files are made.
    /// The fields made, or why there were none to make.
    pub fn generate_files(
        &self,
        id: &Uuid,
        key: &str,
    ) -> Result<Result<Vec<&'static str>, crate::session::TransitionError>, NotOwn> {
        let now = self.0.clock.now();
        let mut inner = self.lock();
        self.own(&inner, id, key, now)?;
        let session = inner.sessions.get_mut(id).ok_or(NotOwn::Missing)?;
        match session.apply(Command::GenerateFiles, &self.context(now)) {
            Ok(Applied { found: Found::FilesMade(made), .. }) => {
                self.changed();
                Ok(Ok(made))
            }
            Ok(_) => Ok(Ok(Vec::new())),
            Err(e) => Ok(Err(e)),
        }
    }

    /// The result endpoint's answer about session `id` after a fault's delay; `None`: no such
    /// session any more.
    pub fn result_answer<E>(
        &self,
        id: &Uuid,
        write: impl FnOnce(&Session, OffsetDateTime) -> Result<(bytes::Bytes, bool), E>,
    ) -> Option<Result<(bytes::Bytes, bool), E>> {
        let now = self.0.clock.now();
        let mut inner = self.lock();
        let session = inner.sessions.get_mut(id)?;
        if let Some(kept) = session.kept_answer() {
            return Some(Ok((kept.clone(), true)));
        }
        Some(Self::write_answer(session, &self.context(now), write))
    }

    /// Writes a result answer, keeping it once it is final.
    fn write_answer<E>(
        session: &mut Session,
        ctx: &Context<'_>,
        write: impl FnOnce(&Session, OffsetDateTime) -> Result<(bytes::Bytes, bool), E>,
    ) -> Result<(bytes::Bytes, bool), E> {
        let written = write(session, ctx.now);
        if let Ok((body, true)) = &written {
            // Keeping an answer is always accepted.
            let _ = session.apply(Command::KeepAnswer(body.clone()), ctx);
        }
        written
    }
}
