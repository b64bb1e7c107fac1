//! The mock's state, and the one door through which a session changes: a command is applied to
//! it under one acquisition of the store's lock, with one reading of the clock, and the events
//! it caused go to the event sink wired in at start-up (the webhook sender, which this module
//! does not know). Sessions, fault rules and retired flows share that lock; flows
//! (`flows.rs`), the generator and the journal each have their own, none held across an
//! `.await`. Lock order: the store's, then flows or the generator.

pub(crate) mod backend;
mod calls;
mod create;
mod faults;
pub(crate) mod flows;
mod saving;
mod scopes;
mod scoping;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::Clock;
use crate::domain::Flow;
use crate::scenario::{Scenario, ScenarioSet};
use crate::session::store::{Eviction, Limits};
use crate::session::{Applied, Command, Context, EventSink, Found, Generator, Session, SessionStore, TransitionError};
use faults::Faults;
pub(crate) use faults::{AdminRule, Scripted};
pub(crate) use flows::AddFlowError;
use flows::Flows;
pub(crate) use saving::{SaveStatus, noting_change};
use scopes::{Scope, Scopes};
pub(crate) use scoping::unknown_key;

/// Cheap to clone: every clone is the same mock.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

struct Shared {
    config: StateConfig,
    clock: Clock,
    inner: Mutex<Inner>,
    flows: Flows,
    /// The Backend API's organisation keys.
    backend_keys: backend::BackendKeys,
    /// Held only while values are drawn, so that a create makes its session up outside `inner`.
    generator: Mutex<Generator>,
    /// What keys keep of their own: their time, their seed's generator (`scopes.rs`).
    scopes: Scopes,
    /// Its own lock: every request writes it, and it never needs the sessions'.
    journal: crate::journal::Journal,
    /// Who hears of sessions' events (the webhook sender).
    events: Arc<dyn EventSink>,
    /// Something changed since the state file was last written.
    dirty: AtomicBool,
    /// How the state file's writes have gone; held while one is written (`saving.rs`).
    saves: Mutex<SaveStatus>,
    /// Turns to draw a PDF report (`AppState::report_slots`).
    report_slots: Arc<tokio::sync::Semaphore>,
    /// The end-user page's `Content-Security-Policy`, written once.
    page_policy: String,
    eviction_log: EvictionLog,
    /// Where the default scenario (`--scenario`) is in the scenario set: found once.
    fallback: usize,
}

/// What the state needs from the configuration.
#[derive(Debug, Clone)]
#[expect(clippy::struct_excessive_bools, reason = "switches of the command line, each its own flag")]
pub(crate) struct StateConfig {
    pub flows: Vec<Flow>,
    /// The Backend API's organisation keys at start-up.
    pub backend_keys: Vec<crate::domain::backend::BackendKey>,
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
    /// Who may frame the end-user page (the CSP `frame-ancestors` source list).
    pub frame_ancestors: String,
    /// The test CA's certificate, PEM (`GET /__admin/ca.pem`).
    pub ca_pem: String,
    pub seed: Option<u64>,
    /// The base URL written into generated links, without a trailing slash.
    pub public_url: String,
    /// Whether `--public-url` set it: then it wins over the vendor's hosts in links.
    pub public_url_set: bool,
    /// The dotted host names the mock's own API answers to (beside IP addresses and names
    /// without a dot): the vendor's, --public-url's, --tls-name's and --allowed-host's.
    pub own_hosts: Vec<String>,
}

struct Inner {
    sessions: SessionStore,
    faults: Faults,
    /// Flows deleted (`Flow::id`): their sessions stay, but no key reaches them any more.
    retired_flows: HashSet<u64>,
    /// The Backend API's E-Document sessions and persons.
    backend: crate::session::backend::BackendStore,
}

/// Evictions are logged at most once a second, with how many happened since: a store that is
/// full under load lets thousands of sessions go each second.
struct EvictionLog {
    /// The process's clock at start-up; times below are milliseconds since.
    since: std::time::Instant,
    next_ms: AtomicU64,
    logged_total: AtomicU64,
}

/// Why a command about a session was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no session with this id")]
    NotFound,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("the session expired at {}", crate::clock::timestamp(*.0))]
    Expired(OffsetDateTime),
    #[error("the session {0}")]
    Evicted(Eviction),
}

/// Why a call naming a session and a flow key gets no answer about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotOwn {
    /// No such session, or another flow's.
    Missing,
    /// The session expired then (`--session-ttl`).
    Expired(OffsetDateTime),
    /// The store let the session go to make room (`--max-sessions`, `--max-store-bytes`).
    Evicted(Eviction),
}

impl AppState {
    /// The state, with the flows and sessions of a state file when there was one; `events`
    /// hears of every session's events.
    pub(crate) fn restored(
        config: StateConfig,
        restored: Option<crate::persist::Loaded>,
        events: Arc<dyn EventSink>,
    ) -> Self {
        let limits = Limits { sessions: config.max_sessions, bytes: config.max_store_bytes };
        let mut sessions = SessionStore::new(limits);
        let mut retired_flows = HashSet::new();
        let mut backend_keys = config.backend_keys.clone();
        let mut backend = crate::session::backend::BackendStore::default();
        let flows = match restored {
            Some(loaded) => {
                if let Some(keys) = loaded.backend_keys {
                    backend_keys = keys;
                }
                backend = crate::session::backend::BackendStore::restore(loaded.backend_sessions, loaded.persons);
                let flows = Flows::new(loaded.flows);
                let live = flows.all();
                for (parts, own) in loaded.sessions {
                    // A session belongs to the live flow with its key, when that flow is the
                    // same; otherwise to a flow of its own that no key reaches (a deleted one).
                    let flow = match live.iter().find(|f| f.api_key == own.api_key) {
                        Some(flow) if flows::same_flow(flow, &own) => Arc::clone(flow),
                        found => {
                            let id = found.map_or_else(|| flows.fresh_id(), |f| f.id);
                            if found.is_none() {
                                retired_flows.insert(id);
                            }
                            Arc::new(Flow { id, ..own })
                        }
                    };
                    let session = Session::restore(parts, flow);
                    // A smaller --max-sessions than before keeps the newest.
                    let now = session.created_at();
                    sessions.insert(Box::new(session), now, |_| true);
                }
                flows
            }
            None => Flows::new(config.flows.clone()),
        };
        let inner = Inner { sessions, faults: Faults::default(), retired_flows, backend };
        // One core fewer than the machine has (at least one): however many reports are asked
        // for at once, a core is left to answer everything else.
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        // Framing as configured; scripts only from the mock itself (the page has one, for frames),
        // so that nothing a request carried could ever run even if it escaped the templates.
        let page_policy = format!(
            "frame-ancestors {}; script-src 'self'; object-src 'none'; base-uri 'none'",
            config.frame_ancestors
        );
        let fallback = config.scenarios.position(&config.default_scenario);
        let state = Self(Arc::new(Shared {
            fallback: fallback.expect("the default scenario was checked at start-up"),
            page_policy,
            backend_keys: backend::BackendKeys::new(backend_keys),
            generator: Mutex::new(Generator::new(config.seed)),
            scopes: Scopes::default(),
            journal: crate::journal::Journal::new(config.journal_limit),
            config,
            clock: Clock::default(),
            inner: Mutex::new(inner),
            flows,
            events,
            dirty: AtomicBool::new(false),
            saves: Mutex::default(),
            report_slots: Arc::new(tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1))),
            eviction_log: EvictionLog {
                since: std::time::Instant::now(),
                next_ms: AtomicU64::new(0),
                logged_total: AtomicU64::new(0),
            },
        }));
        state.register_seeds();
        state
    }

    pub(crate) fn admin_token(&self) -> Option<&str> {
        self.0.config.admin_token.as_deref()
    }

    pub(crate) fn session_ttl(&self) -> Option<std::time::Duration> {
        self.0.config.session_ttl
    }

    pub(crate) fn strict(&self) -> bool {
        self.0.config.strict
    }

    /// The test CA's certificate, PEM.
    pub(crate) fn ca_pem(&self) -> &str {
        &self.0.config.ca_pem
    }

    /// The end-user page's `Content-Security-Policy` (`--frame-ancestors`).
    pub(crate) fn page_policy(&self) -> &str {
        &self.0.page_policy
    }

    pub(crate) fn log_requests(&self) -> bool {
        self.0.config.log_requests
    }

    pub(crate) fn journal(&self) -> &crate::journal::Journal {
        &self.0.journal
    }

    /// How many PDF reports may be drawn at once: the others wait their turn without holding a
    /// thread, so report generation under load does not starve the other endpoints of CPU.
    pub(crate) fn report_slots(&self) -> Arc<tokio::sync::Semaphore> {
        self.0.report_slots.clone()
    }

    pub(crate) fn public_url(&self) -> &str {
        &self.0.config.public_url
    }

    pub(crate) fn public_url_set(&self) -> bool {
        self.0.config.public_url_set
    }

    /// Whether `host` (a Host header's name, without its port) is one the mock's own API answers
    /// to: an IP address, a name without a dot (`localhost`, a compose service), or one of
    /// `own_hosts`. A page on another name (DNS rebinding) is not.
    pub(crate) fn answers_to(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<std::net::IpAddr>().is_ok()
            || !host.contains('.')
            || self.0.config.own_hosts.iter().any(|own| own.eq_ignore_ascii_case(host))
    }

    /// Where links to `session`'s page go: `--public-url`, else the vendor's end-user host when
    /// the session was made through the vendor's API host, else the mock's own address.
    pub(crate) fn link_base<'a>(&'a self, session: &'a Session) -> &'a str {
        match session.link_base() {
            Some(base) if !self.public_url_set() => base,
            _ => self.public_url(),
        }
    }

    pub(crate) fn scenarios(&self) -> &ScenarioSet {
        &self.0.config.scenarios
    }

    /// The virtual clock.
    pub(crate) fn clock(&self) -> &Clock {
        &self.0.clock
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.0.clock.now()
    }

    /// A poisoned lock means a panic elsewhere; the data is still consistent (every mutation
    /// is completed before anything can panic), so keep serving rather than fail every request.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn generator(&self) -> MutexGuard<'_, Generator> {
        self.0.generator.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The scenario of sessions whose own is gone, and of those nothing chooses one for.
    fn fallback(&self) -> &Scenario {
        self.0.config.scenarios.at(self.0.fallback)
    }

    /// The scenario session `session` plays.
    fn scenario_of(&self, session: &Session) -> &Scenario {
        self.0.config.scenarios.get(session.scenario()).unwrap_or_else(|| self.fallback())
    }

    /// What a command needs, for a key with `scope`.
    fn context<'a>(&'a self, now: OffsetDateTime, scope: Option<&'a Scope>) -> Context<'a> {
        Context {
            now,
            generator: self.generator_in(scope),
            scenarios: &self.0.config.scenarios,
            fallback: self.fallback(),
        }
    }

    /// Back to the start: no sessions, no journal, no faults, the start-up flows, the real time.
    pub(crate) fn reset(&self) {
        {
            let mut inner = self.lock();
            inner.sessions.clear();
            inner.faults.clear();
            inner.retired_flows.clear();
            inner.backend = crate::session::backend::BackendStore::default();
            self.0.flows.replace(self.0.config.flows.clone());
            self.0.backend_keys.write().clone_from(&self.0.config.backend_keys);
        }
        self.0.journal.clear();
        self.0.clock.reset();
        self.0.scopes.clear();
        self.register_seeds();
        self.changed();
    }

    // Changing sessions.

    /// Applies `command` to session `id` (present, not expired) under one lock, with one reading
    /// of the clock; hands the events it caused to the event sink.
    pub(crate) fn apply(&self, id: &Uuid, command: Command<'_>) -> Result<Applied, SessionError> {
        self.apply_and_view(id, command, |_, _| ()).map(|(applied, ())| applied)
    }

    /// `apply`, then `view` of the session as it then is (with the scenario it plays), under the
    /// same lock: a page shows a screen with one acquisition.
    pub(crate) fn apply_and_view<R>(
        &self,
        id: &Uuid,
        command: Command<'_>,
        view: impl FnOnce(&Session, &Scenario) -> R,
    ) -> Result<(Applied, R), SessionError> {
        let mut inner = self.lock();
        let scope = inner.sessions.get(id).and_then(|s| self.scope(s.api_key().as_str()));
        let now = self.now_in(scope.as_deref());
        // The admin may still choose an expired session's scenario; nothing else reaches it.
        let even_expired = matches!(command, Command::SetScenario { .. });
        let session = self.live(&mut inner.sessions, id, now, even_expired)?;
        let applied = session.apply(command, &self.context(now, scope.as_deref()))?;
        if !applied.events.is_empty() {
            let mut generator = self.generator_in(scope.as_deref()).lock().unwrap_or_else(PoisonError::into_inner);
            let failed = self.scenario_of(session).failed_status;
            self.0.events.emit(session, &applied.events, failed, now, &mut || generator.session_id());
            self.changed();
        } else if !matches!(applied.found, Found::Nothing | Found::Opened(_)) {
            self.changed();
        }
        let ended = session.status().has_ended();
        let seen = view(session, self.scenario_of(session));
        if ended {
            inner.sessions.ended(id);
        }
        Ok((applied, seen))
    }

    /// The session, for a command: present and (unless `even_expired`) not expired.
    fn live<'s>(
        &self,
        sessions: &'s mut SessionStore,
        id: &Uuid,
        now: OffsetDateTime,
        even_expired: bool,
    ) -> Result<&'s mut Session, SessionError> {
        if sessions.get(id).is_none() {
            return Err(sessions.eviction(id).map_or(SessionError::NotFound, SessionError::Evicted));
        }
        let session = sessions.get_mut(id).ok_or(SessionError::NotFound)?;
        match session.expired_at(self.0.config.session_ttl, now).filter(|_| !even_expired) {
            Some(at) => Err(SessionError::Expired(at)),
            None => Ok(session),
        }
    }

    // Reading sessions.

    /// Runs `view` on the session and the scenario it plays, under the lock: keep it short.
    pub(crate) fn view<R>(&self, id: &Uuid, view: impl FnOnce(&Session, &Scenario) -> R) -> Option<R> {
        let inner = self.lock();
        inner.sessions.get(id).map(|s| view(s, self.scenario_of(s)))
    }

    /// `view` of session `id` if a command could reach it now (present, not expired), under the
    /// lock; else why not.
    pub(crate) fn view_live<R>(
        &self,
        id: &Uuid,
        view: impl FnOnce(&Session, &Scenario) -> R,
    ) -> Result<R, SessionError> {
        let mut inner = self.lock();
        let scope = inner.sessions.get(id).and_then(|s| self.scope(s.api_key().as_str()));
        let now = self.now_in(scope.as_deref());
        let session = self.live(&mut inner.sessions, id, now, false)?;
        Ok(view(session, self.scenario_of(session)))
    }

    /// Runs `f` on the session, under the lock: keep `f` short and free of I/O.
    pub(crate) fn with_session<R>(&self, id: &Uuid, f: impl FnOnce(&Session) -> R) -> Option<R> {
        self.lock().sessions.get(id).map(f)
    }

    /// Why session `id` is gone, when the store let it go to make room.
    pub(crate) fn eviction(&self, id: &Uuid) -> Option<Eviction> {
        self.lock().sessions.eviction(id)
    }

    /// The name of the flow that made session `id`, when the session is held but `key` is not
    /// that flow's (or that flow was deleted): for the other-flow-key lint.
    pub(crate) fn other_flows_session(&self, id: &Uuid, key: &str) -> Option<String> {
        let inner = self.lock();
        let session = inner.sessions.get(id)?;
        let retired = inner.retired_flows.contains(&session.flow_id());
        (session.api_key().as_str() != key || retired).then(|| session.flow_name().to_owned())
    }

    /// The liveness video of session `id`: its scenario's, or the server's.
    pub(crate) fn video_of(&self, id: &Uuid) -> Option<crate::video::Video> {
        self.view(id, |_, scenario| scenario.video.clone().unwrap_or_else(|| self.0.config.video.clone()))
    }
}

#[cfg(test)]
mod tests;
