//! Creating sessions: the scenario a new session plays and why, making it up outside the
//! store's lock, the create faults, and storing it (evicting, and logging evictions once a
//! second, when the store is full).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AppState, CreateCall, Inner};
use crate::domain::scripting::Source;
use crate::domain::{Flow, Iin, Metadata};
use crate::scenario::Scenario;
use crate::session::Session;

impl AppState {
    /// The scenario a new session of `flow` with `metadata` plays, and why: a `match` on one of
    /// its IINs, else the flow's default, else the server's.
    fn choose_scenario(&self, flow: &Flow, metadata: &Metadata) -> (&Scenario, Source) {
        let set = &self.0.config.scenarios;
        let iins: Vec<&Iin> = metadata.iins().collect();
        if let Some(s) = set.matching(&iins) {
            return (s, Source::Match);
        }
        if let Some(s) = flow.scenario.as_deref().and_then(|n| set.get(n)) {
            return (s, Source::Flow);
        }
        (self.fallback(), Source::Server)
    }

    /// A new session of `flow` with `metadata`, and the scenario it plays, made up before any
    /// lock is taken but the generator's.
    fn new_session(
        &self,
        flow: &Arc<Flow>,
        metadata: Metadata,
        link_base: Option<Arc<str>>,
        now: OffsetDateTime,
    ) -> (Box<Session>, &Scenario) {
        let (scenario, source) = self.choose_scenario(flow, &metadata);
        let (id, subject) = {
            let mut generator = self.generator();
            (generator.session_id(), crate::session::HeldSubject::drawn(generator.seed()))
        };
        let session = Session::new(id, Arc::clone(flow), metadata, subject, now, (scenario.name.clone(), source))
            .with_link_base(link_base);
        (Box::new(session), scenario)
    }

    /// Creates a session of `flow` and returns its id, meeting no fault rule (the tests' way).
    #[cfg(test)]
    pub fn create_session(&self, flow: &Arc<Flow>, metadata: Metadata) -> Uuid {
        let (session, _) = self.new_session(flow, metadata, None, self.now());
        let (id, evicted, _) = self.insert(&mut self.lock(), session);
        drop(evicted);
        id
    }

    /// A create call: the fault it meets (an admin rule, or one of the scenario its session would
    /// play, while it has calls left; the call is counted), or else its new session, stored. The
    /// session is made up before the store's lock is taken, which every other create needs.
    /// `link_base`: where links to the session's page go, when it was made through the vendor's
    /// hosts (`None`: the mock's own address). `now`: when the request came (the journal's
    /// reading of the clock, read once for both).
    pub fn create_call(
        &self,
        flow: &Arc<Flow>,
        metadata: Metadata,
        link_base: Option<Arc<str>>,
        now: OffsetDateTime,
    ) -> CreateCall {
        let (session, scenario) = self.new_session(flow, metadata, link_base, now);
        let mut inner = self.lock();
        if let Some(fault) = inner.faults.take(scenario, crate::domain::scripting::Endpoint::Create) {
            return CreateCall::Fault(Box::new(fault), session);
        }
        let (id, evicted, total) = self.insert(&mut inner, session);
        drop(inner);
        CreateCall::Created(id, self.evicted(evicted, total))
    }

    /// Stores the session of a create call whose fault has played, created now; returns its id
    /// and the sessions evicted to make room for it.
    pub fn insert_created(&self, session: Box<Session>) -> (Uuid, Vec<Uuid>) {
        let session = Box::new(session.created(self.0.clock.now()));
        let (id, evicted, total) = self.insert(&mut self.lock(), session);
        (id, self.evicted(evicted, total))
    }

    /// Stores a session; returns its id, the sessions evicted for it (to be freed out of the
    /// lock) and the store's count of evictions so far.
    #[allow(clippy::vec_box)]
    fn insert(&self, inner: &mut Inner, session: Box<Session>) -> (Uuid, Vec<Box<Session>>, u64) {
        let (ttl, now, id) = (self.0.config.session_ttl, session.created_at(), session.id());
        let evicted = inner.sessions.insert(session, now, |s: &Session| s.expired_at(ttl, now).is_some());
        self.changed();
        (id, evicted, inner.sessions.evicted_total())
    }

    /// The ids of sessions just evicted, which are freed here, out of the lock; logs them (at
    /// most once a second) with `total`, the store's count of evictions so far.
    // Boxed as the store holds them: unboxing would copy each session out under the lock.
    #[allow(clippy::vec_box)]
    fn evicted(&self, sessions: Vec<Box<Session>>, total: u64) -> Vec<Uuid> {
        let ids: Vec<Uuid> = sessions.iter().map(|s| s.id()).collect();
        drop(sessions);
        if let Some(latest) = ids.last() {
            self.log_evictions(latest, total);
        }
        ids
    }

    /// Logs evictions, at most one line a second (a full store under load evicts thousands):
    /// an atomic read on every evicting create, a line when a second has passed.
    fn log_evictions(&self, latest: &Uuid, total: u64) {
        let log = &self.0.eviction_log;
        let now = u64::try_from(log.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = log.next_ms.load(Ordering::Relaxed);
        if now < next || log.next_ms.compare_exchange(next, now + 1000, Ordering::Relaxed, Ordering::Relaxed).is_err() {
            return;
        }
        let since_last = total.saturating_sub(log.logged_total.swap(total, Ordering::Relaxed));
        let why = self.eviction(latest).map_or_else(String::new, |e| format!(": session {latest} {e}"));
        tracing::info!("the session store is full: {since_last} session(s) evicted to make room{why}");
    }
}
