//! Creating sessions: the scenario a new session plays and why, making it up outside the
//! store's lock, and storing it (evicting, and logging evictions once a second, when the store
//! is full).

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use uuid::Uuid;

use super::{AppState, Inner};
use crate::domain::scripting::Source;
use crate::domain::{Flow, Iin, Metadata};
use crate::scenario::Scenario;
use crate::session::Session;

impl AppState {
    /// The scenario a new session of `flow` with `metadata` plays, and why: a `match` on one of
    /// its IINs, else the flow's default, else the server's.
    pub(crate) fn scenario_for(&self, flow: &Flow, metadata: &Metadata) -> (&Scenario, Source) {
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

    /// Creates a session of `flow` with `metadata`, made up before the store's lock is taken
    /// (only the generator's is), and stores it: its id, and the sessions evicted to make room
    /// for it. `link_base`: where links to the session's page go, when it was made through the
    /// vendor's hosts (`None`: the mock's own address).
    pub(crate) fn create(
        &self,
        flow: &Arc<Flow>,
        metadata: Metadata,
        link_base: Option<Arc<str>>,
    ) -> (Uuid, Vec<Uuid>) {
        let (scenario, source) = self.scenario_for(flow, &metadata);
        let scenario = (scenario.name.clone(), source);
        let scope = self.scope(flow.api_key.as_str());
        let (id, subject) = {
            let mut generator = self.generator_in(scope.as_deref()).lock().unwrap_or_else(PoisonError::into_inner);
            (generator.session_id(), crate::session::HeldSubject::drawn(generator.seed()))
        };
        let now = self.now_in(scope.as_deref());
        let session = Session::new(id, Arc::clone(flow), metadata, subject, now, scenario).with_link_base(link_base);
        let (id, evicted, total) = self.insert(&mut self.lock(), Box::new(session));
        (id, self.evicted(evicted, total))
    }

    /// Stores a session; returns its id, the sessions evicted for it (to be freed out of the
    /// lock) and the store's count of evictions so far.
    #[expect(clippy::vec_box, reason = "boxed as the store holds them: unboxing would copy each out under the lock")]
    fn insert(&self, inner: &mut Inner, session: Box<Session>) -> (Uuid, Vec<Box<Session>>, u64) {
        let (ttl, now, id) = (self.0.config.session_ttl, session.created_at(), session.id());
        let evicted = inner.sessions.insert(session, now, |s: &Session| s.expired_at(ttl, now).is_some());
        self.changed();
        (id, evicted, inner.sessions.evicted_total())
    }

    /// The ids of sessions just evicted, which are freed here, out of the lock; logs them (at
    /// most once a second) with `total`, the store's count of evictions so far.
    #[expect(clippy::vec_box, reason = "boxed as the store holds them: unboxing would copy each out under the lock")]
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
