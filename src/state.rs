//! The mock's state — sessions behind one lock, flows and the random generator each behind their
//! own, none ever held across an `.await` — and the operations on it that every front (the
//! emulated API, the end-user page, the admin API) shares, so that each rule lives in one place.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use uuid::Uuid;

use crate::clock::Clock;
use crate::domain::outcome::reasons;
use crate::domain::{FailureReason, Outcome};
use crate::domain::{Family, Flow, Iin, Metadata, Phone, TechnologyCode};
use crate::scenario::{Endpoint, Fault, Scenario, ScenarioSet, Source};
use crate::session::store::{Eviction, Limits};
use crate::session::{Event, Generator, OTP_ATTEMPTS, Session, SessionStore, TransitionError};

/// Cheap to clone: every clone is the same mock.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

struct Shared {
    config: StateConfig,
    clock: Clock,
    inner: Mutex<Inner>,
    /// Apart from `inner`: every create looks its flow up, and must not wait for another create
    /// to store its session. Shared: a create takes its flow without copying it. Taken after
    /// `inner` where both are needed.
    flows: RwLock<Vec<Arc<Flow>>>,
    /// Its own lock too, held only while values are drawn, so that a create makes its session up
    /// outside `inner`. Taken after `inner` where both are needed.
    generator: Mutex<Generator>,
    /// Its own lock: every request writes it, and it never needs the sessions'.
    journal: crate::journal::Journal,
    webhooks: Arc<crate::webhook::Webhooks>,
    /// Something changed since the state file was last written.
    dirty: std::sync::atomic::AtomicBool,
    /// How the state file's last write went; held while one is written, so that writes of
    /// snapshots taken one after the other land in that order.
    saves: Mutex<SaveStatus>,
    /// Turns to draw a PDF report (`AppState::report_slots`).
    report_slots: Arc<tokio::sync::Semaphore>,
    /// The number the next registered flow gets (`Flow::id`).
    next_flow_id: std::sync::atomic::AtomicU64,
    /// When evictions may next be logged, and how many had been when they last were
    /// (`AppState::log_evictions`): atomics, read by every create that evicts.
    eviction_log: EvictionLog,
}

/// How the state file's writes have gone, as `/__admin/health` and the dashboard show it.
#[derive(Debug, Clone, Default)]
pub struct SaveStatus {
    /// When the file was last written.
    pub last_saved: Option<time::OffsetDateTime>,
    /// The last write's failure, while writes fail: when, and why.
    pub failing: Option<(time::OffsetDateTime, String)>,
}

/// Evictions are logged at most once a second, with how many happened since: a store that is
/// full under load lets thousands of sessions go each second.
struct EvictionLog {
    /// The process's clock at start-up; times below are milliseconds since.
    since: std::time::Instant,
    next_ms: std::sync::atomic::AtomicU64,
    logged_total: std::sync::atomic::AtomicU64,
}

impl Default for EvictionLog {
    fn default() -> Self {
        Self {
            since: std::time::Instant::now(),
            next_ms: std::sync::atomic::AtomicU64::new(0),
            logged_total: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

/// What the state needs from the configuration.
#[derive(Debug, Clone)]
pub struct StateConfig {
    pub flows: Vec<Flow>,
    pub scenarios: Arc<ScenarioSet>,
    /// The scenario of sessions nothing else chooses one for (`--scenario`).
    pub default_scenario: String,
    /// The liveness video of sessions whose scenario has none of its own.
    pub video: crate::video::Video,
    /// Refuse requests that depart from the vendor's docs instead of warning.
    pub strict: bool,
    /// Log one line per request.
    pub log_requests: bool,
    /// How many requests the journal keeps.
    pub journal_limit: usize,
    /// When set, `/__admin` and the dashboard need it as a bearer token.
    pub admin_token: Option<String>,
    /// How many sessions are held; the oldest expired or finished ones make way, else the oldest.
    pub max_sessions: usize,
    /// About how many bytes the held sessions take at most (`Session::held_bytes`); evicted the
    /// same way.
    pub max_store_bytes: usize,
    /// How long a session lives (`None`: for ever).
    pub session_ttl: Option<std::time::Duration>,
    /// Where flows and sessions are kept across restarts.
    pub state_file: Option<std::path::PathBuf>,
    /// Write the state file before answering each change (`--state-sync`).
    pub state_sync: bool,
    pub seed: Option<u64>,
    pub max_body: usize,
    /// The base URL written into generated links, without a trailing slash.
    pub public_url: String,
}

struct Inner {
    sessions: SessionStore,
    /// Create calls each scenario's `create` fault rules have hit (no session exists yet to
    /// count them on), by scenario name and rule index.
    create_fault_calls: HashMap<(String, usize), u32>,
    /// Fault rules added through the admin API, for any session, with the calls each has hit.
    faults: Vec<(Fault, u32)>,
    /// Flows deleted (`Flow::id`): their sessions stay, but no key reaches them any more.
    retired_flows: std::collections::HashSet<u64>,
}

/// What `AppState::create_call` met.
#[derive(Debug)]
pub enum CreateCall {
    /// The new session, and the sessions evicted to make room for it.
    Created(Uuid, Vec<Uuid>),
    /// A fault rule to play first; then `AppState::insert_created` stores the session.
    Fault(Box<Fault>, Box<Session>),
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no session with this id")]
    NotFound,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("the E-Document step has not sent an SMS code yet")]
    NoOtp,
    #[error("no scenario is named {0:?}")]
    UnknownScenario(String),
    #[error("the session expired at {}", crate::clock::timestamp(*.0))]
    Expired(time::OffsetDateTime),
    #[error("the session {0}")]
    Evicted(Eviction),
}

/// Why a flow could not be added at run time.
#[derive(Debug, thiserror::Error)]
pub enum AddFlowError {
    #[error("A flow with this api_key already exists.")]
    DuplicateKey,
    #[error("No scenario is named {name:?}; the scenarios are {known}.")]
    UnknownScenario { name: String, known: String },
}

/// Why a call naming a session and a flow key gets no answer about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotOwn {
    /// No such session, or another flow's.
    Missing,
    /// The session expired then (`--session-ttl`).
    Expired(time::OffsetDateTime),
    /// The store let the session go to make room (`--max-sessions`, `--max-store-bytes`).
    Evicted(Eviction),
}

/// What a call of the result endpoint found (`AppState::result_call`).
pub struct ResultCall<E> {
    /// The time since the session's result was last asked for.
    pub since_last_poll: Option<std::time::Duration>,
    /// How many earlier polls were answered the session's final result, and its status then
    /// (`FINISHED` or `FAILED`): for the polled-after-final lint.
    pub earlier_final_polls: (u32, &'static str),
    /// The answer, or the fault rule the call met instead.
    pub answer: Result<Result<(bytes::Bytes, bool), E>, Fault>,
}

/// What checking an SMS code gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpCheck {
    Correct,
    /// Wrong, with this many attempts left.
    Wrong(u8),
    /// Wrong for the last time: the step has failed.
    Exhausted(Vec<Event>),
}

/// What the admin `complete` call asks for one technology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeChoice {
    Passed,
    Failed,
}

impl AppState {
    pub fn new(config: StateConfig) -> Self {
        Self::restored(config, None)
    }

    /// The state, with the flows and sessions of a state file when there was one.
    pub fn restored(config: StateConfig, restored: Option<crate::persist::Loaded>) -> Self {
        let mut sessions = SessionStore::new(Limits { sessions: config.max_sessions, bytes: config.max_store_bytes });
        let next_flow_id = std::sync::atomic::AtomicU64::new(1);
        let mut retired_flows = std::collections::HashSet::new();
        let flows = match restored {
            Some(loaded) => {
                let flows = register(loaded.flows, &next_flow_id);
                for mut session in loaded.sessions {
                    // A session belongs to the flow with its key, or, when none has it any more,
                    // to a deleted one.
                    session.flow_id = if let Some(flow) = flows.iter().find(|f| f.api_key == session.api_key) {
                        flow.id
                    } else {
                        let id = next_flow_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        retired_flows.insert(id);
                        id
                    };
                    // A smaller --max-sessions than before keeps the newest.
                    let now = session.created_at;
                    sessions.insert(Box::new(session), now, |_| true);
                }
                flows
            }
            None => register(config.flows.clone(), &next_flow_id),
        };
        let inner = Inner { sessions, create_fault_calls: HashMap::new(), faults: Vec::new(), retired_flows };
        let generator = Generator::new(config.seed);
        let journal = crate::journal::Journal::new(config.journal_limit);
        let webhooks = crate::webhook::Webhooks::new(config.journal_limit);
        let dirty = std::sync::atomic::AtomicBool::new(false);
        // One core fewer than the machine has (at least one): however many reports are asked
        // for at once, a core is left to answer everything else.
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let report_slots = Arc::new(tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1)));
        Self(Arc::new(Shared {
            config,
            clock: Clock::default(),
            inner: Mutex::new(inner),
            flows: RwLock::new(flows),
            generator: Mutex::new(generator),
            journal,
            webhooks,
            dirty,
            saves: Mutex::default(),
            report_slots,
            next_flow_id,
            eviction_log: EvictionLog::default(),
        }))
    }

    pub fn max_body(&self) -> usize {
        self.0.config.max_body
    }

    pub fn admin_token(&self) -> Option<&str> {
        self.0.config.admin_token.as_deref()
    }

    pub fn session_ttl(&self) -> Option<std::time::Duration> {
        self.0.config.session_ttl
    }

    /// Notes that flows or sessions changed, for the state file.
    fn changed(&self) {
        // Read first: once set, the flag is not written again by every create on every core.
        if !self.0.dirty.load(std::sync::atomic::Ordering::Relaxed) {
            self.0.dirty.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Writes the state file now if anything changed since the last write (or `always`), and
    /// notes how it went (`save_status`); a failure is logged when writes start failing and when
    /// they work again, not on every try. Blocking I/O: call it off the async threads.
    pub fn save(&self, always: bool) -> Result<(), crate::persist::StateFileError> {
        let Some(path) = self.0.config.state_file.as_deref() else { return Ok(()) };
        let mut status = self.0.saves.lock().unwrap_or_else(PoisonError::into_inner);
        if !self.0.dirty.swap(false, std::sync::atomic::Ordering::Relaxed) && !always {
            return Ok(());
        }
        let snapshot = {
            let inner = self.lock();
            let oldest_first: Vec<&Session> = inner.sessions.iter_newest_first().collect();
            let flows = self.flows_held();
            crate::persist::Snapshot::of(flows.iter().map(|f| &**f), oldest_first.into_iter().rev())
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
                self.changed();
                let reason = e.to_string();
                if status.failing.as_ref().is_none_or(|(_, before)| *before != reason) {
                    tracing::error!("cannot save the state file: {reason}");
                }
                status.failing = Some((now, reason));
            }
        }
        written
    }

    /// How the state file's writes have gone; `None` without `--state-file`.
    pub fn save_status(&self) -> Option<(&std::path::Path, SaveStatus)> {
        let path = self.0.config.state_file.as_deref()?;
        Some((path, self.0.saves.lock().unwrap_or_else(PoisonError::into_inner).clone()))
    }

    /// `--state-sync`: every change is written before it is answered.
    pub fn state_sync(&self) -> bool {
        self.0.config.state_sync && self.0.config.state_file.is_some()
    }

    /// Whether something changed since the state file was last written.
    pub fn has_unsaved_changes(&self) -> bool {
        self.0.dirty.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn has_state_file(&self) -> bool {
        self.0.config.state_file.is_some()
    }

    pub fn strict(&self) -> bool {
        self.0.config.strict
    }

    pub fn log_requests(&self) -> bool {
        self.0.config.log_requests
    }

    pub fn journal(&self) -> &crate::journal::Journal {
        &self.0.journal
    }

    /// How many PDF reports may be drawn at once: the others wait their turn without holding a
    /// thread, so report generation under load does not starve the other endpoints of CPU.
    pub fn report_slots(&self) -> Arc<tokio::sync::Semaphore> {
        self.0.report_slots.clone()
    }

    pub fn webhooks(&self) -> &crate::webhook::Webhooks {
        &self.0.webhooks
    }

    /// A call of `endpoint` about session `id` that names the flow key `key` (the result, video
    /// and report endpoints), under one lock: the session must exist, belong to the flow of
    /// `key` and not have expired — another flow's session is as unknown as a missing one, a key
    /// reveals only its own sessions. Then the call counts against its fault rules: the fault it
    /// meets, if any.
    pub fn call_about(&self, endpoint: Endpoint, id: &Uuid, key: &str) -> Result<Option<Fault>, NotOwn> {
        let now = self.0.clock.now();
        let mut inner = self.lock();
        self.own(&inner, id, key, now)?;
        Ok(self.take_fault_in(&mut inner, endpoint, id))
    }

    /// The result endpoint's call about session `id` with the flow key `key`, under one lock and
    /// one reading of the clock: checked and counted as `call_about` does, the poll noted (the
    /// time since the previous one is returned, for the polling-rate lint), then — unless a fault
    /// rule hit the call, which the caller plays before asking `result_answer` — the answer.
    pub fn result_call<E>(
        &self,
        id: &Uuid,
        key: &str,
        write: impl FnOnce(&Session, time::OffsetDateTime) -> Result<(bytes::Bytes, bool), E>,
    ) -> Result<ResultCall<E>, NotOwn> {
        let now = self.0.clock.now();
        let mut inner = self.lock();
        self.own(&inner, id, key, now)?;
        let fault = self.take_fault_in(&mut inner, Endpoint::Result, id);
        let session = inner.sessions.get_mut(id).ok_or(NotOwn::Missing)?;
        let since_last_poll =
            session.last_result_poll.replace(now).and_then(|previous| (now - previous).try_into().ok());
        let earlier_final_polls = (session.final_polls, session.status().as_str());
        let answer = match fault {
            Some(fault) => Err(fault),
            None => Ok(Self::answer(session, now, write)),
        };
        Ok(ResultCall { since_last_poll, earlier_final_polls, answer })
    }

    /// The result endpoint's answer about session `id` (after a fault's delay); `None`: no such
    /// session.
    pub fn result_answer<E>(
        &self,
        id: &Uuid,
        write: impl FnOnce(&Session, time::OffsetDateTime) -> Result<(bytes::Bytes, bool), E>,
    ) -> Option<Result<(bytes::Bytes, bool), E>> {
        let now = self.0.clock.now();
        let mut inner = self.lock();
        let session = inner.sessions.get_mut(id)?;
        Some(Self::answer(session, now, write))
    }

    /// `write` makes the answer (returning the body and whether it is final), unless a final one
    /// was kept from an earlier call. An answer is final once the session has ended and every
    /// result is out; nothing changes a session after that (`Session::start` and `end` refuse),
    /// so a suite polling a finished session does not pay for serializing it again on every call.
    fn answer<E>(
        session: &mut Session,
        now: time::OffsetDateTime,
        write: impl FnOnce(&Session, time::OffsetDateTime) -> Result<(bytes::Bytes, bool), E>,
    ) -> Result<(bytes::Bytes, bool), E> {
        if let Some(kept) = &session.final_result {
            session.final_polls = session.final_polls.saturating_add(1);
            return Ok((kept.clone(), true));
        }
        let written = write(session, now);
        if let Ok((body, true)) = &written {
            session.final_result = Some(body.clone());
            session.final_polls = 1;
        }
        written
    }

    /// Whether session `id` is there for the flow of `key` at `now`: the flow that made it, not
    /// since deleted. A session the store let go is reported as such to that flow's key only.
    fn own(&self, inner: &Inner, id: &Uuid, key: &str, now: time::OffsetDateTime) -> Result<(), NotOwn> {
        let live = |flow_id: &u64| inner.retired_flows.is_empty() || !inner.retired_flows.contains(flow_id);
        let Some(session) = inner.sessions.get(id) else {
            let evicted = inner.sessions.eviction(id).filter(|e| live(&e.flow_id));
            return match evicted {
                Some(e) if self.find_flow(key).is_some_and(|f| f.id == e.flow_id) => Err(NotOwn::Evicted(e)),
                _ => Err(NotOwn::Missing),
            };
        };
        if session.api_key.as_str() != key || !live(&session.flow_id) {
            return Err(NotOwn::Missing);
        }
        match session.expired_at(self.0.config.session_ttl, now) {
            Some(at) => Err(NotOwn::Expired(at)),
            None => Ok(()),
        }
    }

    pub fn public_url(&self) -> &str {
        &self.0.config.public_url
    }

    /// A poisoned lock means a panic elsewhere; the data is still consistent (every mutation
    /// is completed before anything can panic), so keep serving rather than fail every request.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn generator(&self) -> MutexGuard<'_, Generator> {
        self.0.generator.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn flows_held(&self) -> RwLockReadGuard<'_, Vec<Arc<Flow>>> {
        self.0.flows.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn flows_mut(&self) -> RwLockWriteGuard<'_, Vec<Arc<Flow>>> {
        self.0.flows.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn flows(&self) -> Vec<Flow> {
        self.flows_held().iter().map(|f| Flow::clone(f)).collect()
    }

    pub fn find_flow(&self, api_key: &str) -> Option<Arc<Flow>> {
        self.flows_held().iter().find(|f| f.api_key.as_str() == api_key).cloned()
    }

    pub fn scenarios(&self) -> &ScenarioSet {
        &self.0.config.scenarios
    }

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
        let server = set.get(&self.0.config.default_scenario).expect("the default scenario was checked at start-up");
        (server, Source::Server)
    }

    /// The scenario of a session (its name was checked when it was set).
    fn scenario_of(&self, session: &Session) -> &Scenario {
        let set = &self.0.config.scenarios;
        set.get(&session.scenario).unwrap_or_else(|| {
            set.get(&self.0.config.default_scenario).expect("the default scenario was checked at start-up")
        })
    }

    /// Creates a session of `flow` and returns its id, meeting no fault rule (the tests' way; the
    /// API's is `create_call`). A full store first lets its oldest finished or expired session go.
    #[cfg(test)]
    pub fn create_session(&self, flow: &Flow, metadata: Metadata) -> Uuid {
        let (session, _) = self.new_session(flow, metadata);
        let (id, evicted, _) = self.insert(&mut self.lock(), session);
        drop(evicted);
        id
    }

    /// A create call: the fault it meets (an admin rule, or one of the scenario its session would
    /// play, while it has calls left; the call is counted), or else its new session. The session
    /// is made up before the sessions' lock is taken, which every other create needs; after a
    /// fault has played, `insert_created` stores it.
    pub fn create_call(&self, flow: &Flow, metadata: Metadata) -> CreateCall {
        let (session, scenario) = self.new_session(flow, metadata);
        let mut inner = self.lock();
        if let Some(fault) = Self::take_create_fault(&mut inner, scenario) {
            return CreateCall::Fault(Box::new(fault), session);
        }
        let (id, evicted, total) = self.insert(&mut inner, session);
        drop(inner);
        CreateCall::Created(id, self.evicted(evicted, total))
    }

    /// Stores the session of a create call whose fault has played, created now; returns its id
    /// and the sessions evicted to make room for it.
    pub fn insert_created(&self, mut session: Box<Session>) -> (Uuid, Vec<Uuid>) {
        session.created_at = self.0.clock.now();
        let (id, evicted, total) = self.insert(&mut self.lock(), session);
        (id, self.evicted(evicted, total))
    }

    /// The ids of sessions just evicted, which are freed here, out of the lock; logs them (at
    /// most once a second) with `total`, the store's count of evictions so far.
    // Boxed as the store holds them: unboxing would copy each session out under the lock.
    #[allow(clippy::vec_box)]
    fn evicted(&self, sessions: Vec<Box<Session>>, total: u64) -> Vec<Uuid> {
        let ids: Vec<Uuid> = sessions.iter().map(|s| s.id).collect();
        drop(sessions);
        if let Some(latest) = ids.last() {
            self.log_evictions(latest, total);
        }
        ids
    }

    /// Logs evictions, at most one line a second (a full store under load evicts thousands):
    /// an atomic read on every evicting create, a line when a second has passed.
    fn log_evictions(&self, latest: &Uuid, total: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let log = &self.0.eviction_log;
        let now = u64::try_from(log.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = log.next_ms.load(Relaxed);
        if now < next || log.next_ms.compare_exchange(next, now + 1000, Relaxed, Relaxed).is_err() {
            return;
        }
        let since_last = total.saturating_sub(log.logged_total.swap(total, Relaxed));
        let why = self.eviction(latest).map_or_else(String::new, |e| format!(": session {latest} {e}"));
        tracing::info!("the session store is full: {since_last} session(s) evicted to make room{why}");
    }

    /// A new session of `flow` with `metadata`, and the scenario it plays.
    fn new_session(&self, flow: &Flow, metadata: Metadata) -> (Box<Session>, &Scenario) {
        let now = self.0.clock.now();
        let (scenario, source) = self.choose_scenario(flow, &metadata);
        let (id, subject) = {
            let mut generator = self.generator();
            (generator.session_id(), generator.subject(&metadata, now.date()))
        };
        let session = Session::new(id, flow, metadata, subject, now, (scenario.name.clone(), source));
        (Box::new(session), scenario)
    }

    /// Stores a session; returns its id, the sessions evicted for it (to be freed out of the
    /// lock) and the store's count of evictions so far.
    #[allow(clippy::vec_box)]
    fn insert(&self, inner: &mut Inner, session: Box<Session>) -> (Uuid, Vec<Box<Session>>, u64) {
        let (ttl, now, id) = (self.0.config.session_ttl, session.created_at, session.id);
        let evicted = inner.sessions.insert(session, now, |s: &Session| s.expired_at(ttl, now).is_some());
        self.changed();
        (id, evicted, inner.sessions.evicted_total())
    }

    /// The name of the flow that made session `id`, when the session is held but `key` is not
    /// that flow's (or that flow was deleted): for the other-flow-key lint.
    pub fn other_flows_session(&self, id: &Uuid, key: &str) -> Option<String> {
        let inner = self.lock();
        let session = inner.sessions.get(id)?;
        let retired = inner.retired_flows.contains(&session.flow_id);
        (session.api_key.as_str() != key || retired).then(|| session.flow_name.clone())
    }

    /// Why session `id` is gone, when the store let it go to make room.
    pub fn eviction(&self, id: &Uuid) -> Option<Eviction> {
        self.lock().sessions.eviction(id)
    }

    /// When session `id` expired, if it has.
    pub fn expired_at(&self, id: &Uuid) -> Option<time::OffsetDateTime> {
        let now = self.0.clock.now();
        self.with_session(id, |s| s.expired_at(self.0.config.session_ttl, now)).flatten()
    }

    /// The session, for a transition: present and not expired.
    fn live<'s>(
        &self,
        sessions: &'s mut SessionStore,
        id: &Uuid,
        now: time::OffsetDateTime,
    ) -> Result<&'s mut Session, SessionError> {
        if sessions.get(id).is_none() {
            return Err(sessions.eviction(id).map_or(SessionError::NotFound, SessionError::Evicted));
        }
        let session = sessions.get_mut(id).ok_or(SessionError::NotFound)?;
        match session.expired_at(self.0.config.session_ttl, now) {
            Some(at) => Err(SessionError::Expired(at)),
            None => Ok(session),
        }
    }

    /// The virtual clock.
    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    /// An admin fault rule for `endpoint` with calls left, counting this one.
    fn take_admin_fault(inner: &mut Inner, endpoint: Endpoint) -> Option<Fault> {
        let (fault, calls) = inner.faults.iter_mut().find(|(f, calls)| f.endpoint == endpoint && *calls < f.times)?;
        *calls += 1;
        Some(fault.clone())
    }

    /// The fault a create call of a session playing `scenario` meets, counting the call.
    fn take_create_fault(inner: &mut Inner, scenario: &Scenario) -> Option<Fault> {
        if let Some(fault) = Self::take_admin_fault(inner, Endpoint::Create) {
            return Some(fault);
        }
        for (index, fault) in scenario.faults_for(Endpoint::Create) {
            let calls = inner.create_fault_calls.entry((scenario.name.clone(), index)).or_default();
            if *calls < fault.times {
                *calls += 1;
                return Some(fault.clone());
            }
        }
        None
    }

    /// The fault a call of `endpoint` about session `id` meets, if its scenario has one left for
    /// this session; counts the call.
    fn take_fault_in(&self, inner: &mut Inner, endpoint: Endpoint, id: &Uuid) -> Option<Fault> {
        if let Some(fault) = Self::take_admin_fault(inner, endpoint) {
            return Some(fault);
        }
        let session = inner.sessions.get_mut(id)?;
        let scenario = self.scenario_of(session);
        for (index, fault) in scenario.faults_for(endpoint) {
            let calls = session.fault_calls.entry((endpoint, index)).or_default();
            if *calls < fault.times {
                *calls += 1;
                return Some(fault.clone());
            }
        }
        None
    }

    /// Adds an admin fault rule: the next `times` calls of its endpoint, about any session.
    pub fn add_fault(&self, fault: Fault) {
        self.lock().faults.push((fault, 0));
    }

    /// The admin fault rules with the calls each has hit.
    pub fn faults(&self) -> Vec<(Fault, u32)> {
        self.lock().faults.clone()
    }

    /// Adds a flow; its API key must be new. Returns it as registered (with its `id`).
    pub fn add_flow(&self, flow: Flow) -> Result<Flow, AddFlowError> {
        if let Some(name) = flow.scenario.as_deref().filter(|n| self.0.config.scenarios.get(n).is_none()) {
            return Err(AddFlowError::UnknownScenario {
                name: name.to_owned(),
                known: self.0.config.scenarios.names(),
            });
        }
        let mut flows = self.flows_mut();
        if flows.iter().any(|f| f.api_key == flow.api_key) {
            return Err(AddFlowError::DuplicateKey);
        }
        let flow = Flow { id: self.0.next_flow_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed), ..flow };
        flows.push(Arc::new(flow.clone()));
        self.changed();
        Ok(flow)
    }

    /// Removes the flow with this key; its sessions stay. False when there was none.
    pub fn delete_flow(&self, api_key: &str) -> bool {
        let mut inner = self.lock();
        let mut flows = self.flows_mut();
        let Some(at) = flows.iter().position(|f| f.api_key.as_str() == api_key) else { return false };
        let gone = flows.remove(at);
        inner.retired_flows.insert(gone.id);
        self.changed();
        true
    }

    /// A key for a flow created without one.
    pub fn generate_api_key(&self) -> crate::domain::ApiKey {
        self.generator().api_key()
    }

    /// Back to the start: no sessions, no journal, no faults, the start-up flows.
    pub fn reset(&self) {
        {
            let mut inner = self.lock();
            inner.sessions.clear();
            inner.create_fault_calls.clear();
            inner.faults.clear();
            inner.retired_flows.clear();
            *self.flows_mut() = register(self.0.config.flows.clone(), &self.0.next_flow_id);
        }
        self.0.journal.clear();
        self.0.webhooks.clear();
        self.0.clock.reset();
        self.changed();
    }

    /// Makes session `id` play scenario `name` from now on (the admin's choice, which wins).
    pub fn set_scenario(&self, id: &Uuid, name: &str) -> Result<(), SessionError> {
        if self.0.config.scenarios.get(name).is_none() {
            return Err(SessionError::UnknownScenario(name.to_owned()));
        }
        let mut inner = self.lock();
        let session = inner.sessions.get_mut(id).ok_or(SessionError::NotFound)?;
        name.clone_into(&mut session.scenario);
        session.scenario_source = Source::Admin;
        session.fault_calls.clear();
        self.changed();
        Ok(())
    }

    /// The liveness video of session `id`: its scenario's, or the server's.
    pub fn video_of(&self, id: &Uuid) -> Option<crate::video::Video> {
        self.with_session(id, |s| self.scenario_of(s).video.clone().unwrap_or_else(|| self.0.config.video.clone()))
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.0.clock.now()
    }

    /// Runs `f` on the session, under the lock: keep `f` short and free of I/O.
    pub fn with_session<R>(&self, id: &Uuid, f: impl FnOnce(&Session) -> R) -> Option<R> {
        self.lock().sessions.get(id).map(f)
    }

    /// Runs `f` on one page of the sessions, newest first (`offset` skipped, at most `limit`),
    /// under the lock; also returns how many sessions there are.
    pub fn page_of_sessions<R>(&self, offset: usize, limit: usize, f: impl FnMut(&Session) -> R) -> (Vec<R>, usize) {
        let inner = self.lock();
        (inner.sessions.iter_newest_first().skip(offset).take(limit).map(f).collect(), inner.sessions.len())
    }

    /// Ends one technology of a session with `outcome`, generating its result: the single
    /// transition every front goes through.
    pub fn end_step(&self, id: &Uuid, code: TechnologyCode, outcome: Outcome) -> Result<Vec<Event>, SessionError> {
        let now = self.0.clock.now();
        let mut guard = self.lock();
        let sessions = &mut guard.sessions;
        let mut generator = self.generator();
        let session = self.live(sessions, id, now)?;
        let scenario = self.scenario_of(session);
        let mut result =
            serde_json::to_value(generator.result(code, &outcome, &session.subject)).expect("results serialize");
        scenario.apply_result(code, &mut result);
        let visible_at = crate::clock::after(now, scenario.processing(code));
        let events = session.end(code, outcome, result, visible_at, now)?;
        self.0.webhooks.emit(session, &events, now, || generator.session_id());
        if session.status().has_ended() {
            sessions.ended(id);
        }
        self.changed();
        Ok(events)
    }

    /// The user opens a technology's screen (`technology.start`, and `flow.start` for the first).
    pub fn start_step(&self, id: &Uuid, code: TechnologyCode) -> Result<Vec<Event>, SessionError> {
        let now = self.0.clock.now();
        let mut guard = self.lock();
        let sessions = &mut guard.sessions;
        let mut generator = self.generator();
        let session = self.live(sessions, id, now)?;
        let events = session.start(code, now)?;
        self.0.webhooks.emit(session, &events, now, || generator.session_id());
        self.changed();
        Ok(events)
    }

    /// The outcome the session's scenario scripts for `code`: what a person who just goes on
    /// gets. Every technology passes unless something scripts otherwise.
    pub fn scripted_outcome(&self, id: &Uuid, code: TechnologyCode) -> Result<Outcome, SessionError> {
        self.with_session(id, |s| self.scenario_of(s).outcome(code)).ok_or(SessionError::NotFound)
    }

    /// The E-Document step sends an SMS code to the subject with this IIN and phone (what the
    /// user entered, or the metadata's with `skip_input`). The results then describe that person.
    pub fn begin_otp(&self, id: &Uuid, iin: Iin, phone: Phone) -> Result<String, SessionError> {
        let now = self.0.clock.now();
        let mut guard = self.lock();
        let sessions = &mut guard.sessions;
        let mut generator = self.generator();
        let session = self.live(sessions, id, now)?;
        let events = session.start(TechnologyCode::Ed, now)?;
        self.0.webhooks.emit(session, &events, now, || generator.session_id());
        if session.subject.iin == iin {
            session.subject.phone = phone;
        } else {
            session.subject = generator.subject_with(Some(iin), Some(phone), now.date());
        }
        let otp = generator.otp();
        session.otp = Some(otp.clone());
        session.otp_wrong = 0;
        self.changed();
        Ok(otp)
    }

    /// Checks an SMS code; the last wrong one fails the E-Document step.
    pub fn check_otp(&self, id: &Uuid, code: &str) -> Result<OtpCheck, SessionError> {
        {
            let mut inner = self.lock();
            let session = inner.sessions.get_mut(id).ok_or(SessionError::NotFound)?;
            if session.status().has_ended() {
                return Err(TransitionError::Ended(session.status()).into());
            }
            let expected = session.otp.as_deref().ok_or(SessionError::NoOtp)?;
            if code.trim() == expected {
                return Ok(OtpCheck::Correct);
            }
            session.otp_wrong += 1;
            self.changed();
            if session.otp_wrong < OTP_ATTEMPTS {
                return Ok(OtpCheck::Wrong(OTP_ATTEMPTS - session.otp_wrong));
            }
        }
        let reason = FailureReason::known(Family::Edocument, reasons::WRONG_OTP).expect("a known reason");
        Ok(OtpCheck::Exhausted(self.end_step(id, TechnologyCode::Ed, Outcome::Failed(reason))?))
    }

    /// Runs the steps nobody has to act on: `Face2Face` with `metadata.face2face.photo1`, which
    /// compares the given photo instead of asking for one, plays its scripted outcome as soon as
    /// it becomes the current step.
    pub fn run_automatic_steps(&self, id: &Uuid) -> Result<Vec<Event>, SessionError> {
        let automatic = self
            .with_session(id, |s| {
                (s.uses_photo1 && s.runnable() == [TechnologyCode::F2f]).then_some(TechnologyCode::F2f)
            })
            .ok_or(SessionError::NotFound)?;
        match automatic {
            Some(code) => {
                let outcome = self.scripted_outcome(id, code)?;
                self.end_step(id, code, outcome)
            }
            None => Ok(Vec::new()),
        }
    }

    /// Plays every remaining step as a person would: in order, each technology as the session's
    /// scenario scripts (`scenario`, when given, becomes the session's first) unless `outcomes`
    /// says otherwise (keys are codes or families), until the session ends.
    pub fn complete(
        &self,
        id: &Uuid,
        scenario: Option<&str>,
        outcomes: &HashMap<String, OutcomeChoice>,
    ) -> Result<Vec<Event>, SessionError> {
        let ended = self.with_session(id, |s| s.status().has_ended()).ok_or(SessionError::NotFound)?;
        if let Some(name) = scenario.filter(|_| !ended) {
            self.set_scenario(id, name)?;
        }
        let mut events = Vec::new();
        loop {
            let next = self
                .with_session(id, |s| {
                    if s.status().has_ended() && events.is_empty() {
                        return Err(TransitionError::Ended(s.status()));
                    }
                    Ok(s.runnable().first().copied())
                })
                .ok_or(SessionError::NotFound)??;
            let Some(code) = next else { return Ok(events) };
            let scripted = self.scripted_outcome(id, code)?;
            let outcome = match outcomes.get(code.as_str()).or_else(|| outcomes.get(code.family().as_str())) {
                None => scripted,
                Some(OutcomeChoice::Passed) => Outcome::Passed,
                // A forced failure keeps the scenario's reason when it scripts one.
                Some(OutcomeChoice::Failed) => match scripted {
                    failed @ Outcome::Failed(_) => failed,
                    Outcome::Passed => Outcome::Failed(FailureReason::default_for(code.family())),
                },
            };
            events.extend(self.end_step(id, code, outcome)?);
        }
    }
}

/// Flows as the state holds them, each numbered anew.
fn register(flows: Vec<Flow>, next_id: &std::sync::atomic::AtomicU64) -> Vec<Arc<Flow>> {
    flows
        .into_iter()
        .map(|flow| Arc::new(Flow { id: next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed), ..flow }))
        .collect()
}

/// Whether `key` names a technology (`LDHP`) or a family (`liveness`) present in `codes`.
pub fn selects_any(key: &str, codes: &[TechnologyCode]) -> bool {
    codes.iter().any(|c| c.as_str() == key || c.family().as_str() == key)
}

/// The families and codes a selector may name, for error messages.
pub fn selector_help() -> String {
    let families: Vec<&str> = Family::ALL.iter().map(|f| f.as_str()).collect();
    format!("a code ({}) or a family ({})", TechnologyCode::list(&TechnologyCode::ALL), families.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> AppState {
        let config = crate::Config::default();
        let (flows, scenarios) = config.load().unwrap();
        AppState::new(StateConfig {
            flows,
            scenarios: Arc::new(scenarios),
            default_scenario: config.default_scenario.clone(),
            video: config.load_video().unwrap(),
            strict: false,
            log_requests: false,
            journal_limit: 10,
            admin_token: None,
            max_sessions: 10,
            max_store_bytes: usize::MAX,
            session_ttl: None,
            state_file: None,
            state_sync: false,
            seed: Some(1),
            max_body: 1 << 20,
            public_url: "http://mock.test".into(),
        })
    }

    #[test]
    fn only_a_final_result_answer_is_kept_and_answered_again() {
        let state = state();
        let flow = state.flows()[0].clone();
        let id = state.create_session(&flow, Metadata::default());
        let mut writes = 0;
        let mut answer = |last: bool| {
            state
                .result_answer(&id, |_, _| {
                    writes += 1;
                    Ok::<_, ()>((bytes::Bytes::from(format!("answer {writes}")), last))
                })
                .unwrap()
                .unwrap()
        };
        assert_eq!(answer(false), (bytes::Bytes::from("answer 1"), false));
        assert_eq!(answer(false), (bytes::Bytes::from("answer 2"), false), "an answer in progress is written anew");
        assert_eq!(answer(true), (bytes::Bytes::from("answer 3"), true));
        assert_eq!(answer(false), (bytes::Bytes::from("answer 3"), true), "a final answer is kept");
        assert_eq!(writes, 3);
        assert!(state.result_answer(&Uuid::nil(), |_, _| Ok::<_, ()>((bytes::Bytes::new(), true))).is_none());
    }

    #[test]
    fn a_result_call_checks_the_key_notes_the_poll_and_meets_faults_before_answering() {
        let state = state();
        let flow = state.flows()[0].clone();
        let key = flow.api_key.as_str().to_owned();
        let id = state.create_session(&flow, Metadata::default());
        let write = |_: &Session, _| Ok::<_, ()>((bytes::Bytes::from_static(b"{}"), false));
        assert!(matches!(state.result_call(&id, "another flow's key", write), Err(NotOwn::Missing)));
        assert!(matches!(state.result_call(&Uuid::nil(), &key, write), Err(NotOwn::Missing)));

        let first = state.result_call(&id, &key, write).unwrap();
        assert_eq!(first.since_last_poll, None, "the first poll has no previous one");
        assert_eq!(first.answer.unwrap().unwrap(), (bytes::Bytes::from_static(b"{}"), false));
        state.clock().advance(std::time::Duration::from_millis(250)).unwrap();
        let second = state.result_call(&id, &key, write).unwrap();
        let gap = second.since_last_poll.expect("a second poll has a previous one");
        assert!(gap >= std::time::Duration::from_millis(250) && gap < std::time::Duration::from_secs(5), "{gap:?}");

        state.add_fault(Fault {
            endpoint: Endpoint::Result,
            status: Some(502),
            detail: None,
            delay_ms: 0,
            drop_connection: false,
            times: 1,
        });
        let faulted = state.result_call(&id, &key, |_, _| -> Result<(bytes::Bytes, bool), ()> {
            panic!("a call that meets a fault is not answered")
        });
        assert_eq!(faulted.unwrap().answer.unwrap_err().status, Some(502));
        assert!(state.result_call(&id, &key, write).unwrap().answer.is_ok(), "the rule had one call");
        assert_eq!(state.call_about(Endpoint::Video, &id, &key), Ok(None));
    }
}
