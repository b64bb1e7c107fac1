//! The in-memory session store: sessions by id, their creation order for listing, and limits
//! without cliffs — at most `--max-sessions` sessions and about `--max-store-bytes` bytes. When a
//! new session needs room, the oldest expired or finished session goes, else the oldest of any
//! state, found in logarithmic time from the store's own indexes (never by scanning), so a full
//! store creates as fast as an empty one and never refuses. The ids of evicted sessions are
//! remembered (a bounded number of them), so that a request about one can say what happened.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Session, Status};

/// The maps' hasher: foldhash rather than the standard SipHash, which took a visible share of a
/// create that evicts (four lookups of random 16-byte keys). The keys are ids the mock drew
/// itself, so there is no hash flooding to resist.
type Ids<V> = HashMap<Uuid, V, foldhash::fast::RandomState>;

pub(crate) struct SessionStore {
    /// Boxed: a session is large, and a growing map moves every entry when it rehashes — with
    /// sessions inline that stalled creates for tens of milliseconds at a few hundred thousand.
    sessions: Ids<Held>,
    /// Creation sequence → id, so that listing and eviction go by age.
    order: BTreeMap<u64, Uuid>,
    /// The creation sequences of the sessions that have ended (finished or failed): the first
    /// ones to make way.
    ended: BTreeSet<u64>,
    evictions: Evictions,
    next: u64,
    limits: Limits,
    /// The sum of the held sessions' `Session::held_bytes`.
    bytes: usize,
    /// Sessions evicted since the store was made (for the log).
    evicted_total: u64,
}

struct Held {
    seq: u64,
    bytes: usize,
    session: Box<Session>,
}

/// How much the store holds at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Sessions (`--max-sessions`).
    pub sessions: usize,
    /// Bytes, as `Session::held_bytes` estimates them (`--max-store-bytes`).
    pub bytes: usize,
}

impl Limits {
    pub(crate) const UNLIMITED: Self = Self { sessions: usize::MAX, bytes: usize::MAX };
}

/// Which limit made a session go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `--max-sessions`, with its value.
    Sessions(usize),
    /// `--max-store-bytes`, with its value.
    Bytes(usize),
}

/// What the store remembers of a session it let go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eviction {
    pub at: OffsetDateTime,
    pub limit: Limit,
    /// The session's status when it went.
    pub status: Status,
    /// The flow it belonged to (`Session::flow_id`): a key learns only of its own sessions.
    pub flow_id: u64,
}

impl std::fmt::Display for Eviction {
    /// `was evicted at T: the mock keeps ...` — the end of a sentence that starts with the session.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.status.has_ended() { "one of the oldest finished sessions" } else { "the oldest session" };
        let at = crate::clock::timestamp(self.at);
        match self.limit {
            Limit::Sessions(n) => write!(
                f,
                "was evicted at {at}: the mock keeps the newest {n} sessions (--max-sessions), and this was {what} when a new one needed room. Raise --max-sessions, or reset the mock between test runs"
            ),
            Limit::Bytes(n) => write!(
                f,
                "was evicted at {at}: the mock keeps sessions up to {n} bytes in all (--max-store-bytes), and this was {what} when a new one needed room. Raise --max-store-bytes, send smaller photos, or reset the mock between test runs"
            ),
        }
    }
}

/// How many evictions are remembered: the oldest are forgotten first (a request about one of
/// those answers a plain 404).
pub(crate) const REMEMBERED_EVICTIONS: usize = 100_000;

/// The evictions remembered, each with the number of its remembering: an id evicted twice (a
/// session restored under it, say) is forgotten only when its last eviction is.
#[derive(Default)]
struct Evictions {
    by_id: Ids<(u64, Eviction)>,
    order: VecDeque<(Uuid, u64)>,
    next: u64,
}

impl Evictions {
    fn remember(&mut self, id: Uuid, eviction: Eviction) {
        if self.order.len() >= REMEMBERED_EVICTIONS
            && let Some((oldest, number)) = self.order.pop_front()
            && let std::collections::hash_map::Entry::Occupied(entry) = self.by_id.entry(oldest)
            && entry.get().0 == number
        {
            entry.remove();
        }
        self.next += 1;
        self.by_id.insert(id, (self.next, eviction));
        self.order.push_back((id, self.next));
    }
}

impl Default for SessionStore {
    fn default() -> Self {
        Self::new(Limits::UNLIMITED)
    }
}

impl SessionStore {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            sessions: Ids::default(),
            order: BTreeMap::new(),
            ended: BTreeSet::new(),
            evictions: Evictions::default(),
            next: 0,
            limits: Limits { sessions: limits.sessions.max(1), bytes: limits.bytes },
            bytes: 0,
            evicted_total: 0,
        }
    }

    /// Adds a session, first letting others go while a limit would be passed: the oldest one
    /// when `expired` says it has expired, else the oldest that has ended, else the oldest of
    /// any state. Never refuses: a session larger than the byte limit by itself is held alone.
    /// Returns the sessions let go, for the caller to drop once it has let go of the store's lock
    /// (freeing a session is not free). Boxed by the caller, so that it is allocated before the
    /// store's lock is taken.
    #[expect(clippy::vec_box, reason = "boxed by the caller, so that it is allocated before the lock is taken")]
    pub(crate) fn insert(
        &mut self,
        session: Box<Session>,
        now: OffsetDateTime,
        expired: impl Fn(&Session) -> bool,
    ) -> Vec<Box<Session>> {
        let bytes = session.held_bytes();
        let mut evicted = Vec::new();
        loop {
            let limit = if self.sessions.len() >= self.limits.sessions {
                Limit::Sessions(self.limits.sessions)
            } else if self.bytes.saturating_add(bytes) > self.limits.bytes && !self.sessions.is_empty() {
                Limit::Bytes(self.limits.bytes)
            } else {
                break;
            };
            let Some(victim) = self.victim(&expired) else { break };
            if let Some(gone) = self.take(&victim) {
                let eviction = Eviction { at: now, limit, status: gone.status(), flow_id: gone.flow_id() };
                self.evictions.remember(victim, eviction);
                self.evicted_total += 1;
                evicted.push(gone);
            }
        }
        let seq = self.next;
        self.next += 1;
        if session.status().has_ended() {
            self.ended.insert(seq);
        }
        self.order.insert(seq, session.id());
        self.bytes += bytes;
        // A held session's eviction record, if it has one (an id restored after it was
        // evicted), is never read: `eviction` answers only for sessions not held.
        self.sessions.insert(session.id(), Held { seq, bytes, session });
        evicted
    }

    /// The session to let go next: the oldest when it has expired, else the oldest that has
    /// ended, else the oldest.
    fn victim(&self, expired: impl Fn(&Session) -> bool) -> Option<Uuid> {
        let (_, &oldest) = self.order.first_key_value()?;
        if self.sessions.get(&oldest).is_some_and(|h| expired(&h.session)) {
            return Some(oldest);
        }
        let ended = self.ended.first().and_then(|seq| self.order.get(seq)).copied();
        Some(ended.unwrap_or(oldest))
    }

    /// Notes that session `id` has ended, so that it makes way before unfinished ones.
    pub(crate) fn ended(&mut self, id: &Uuid) {
        if let Some(held) = self.sessions.get(id) {
            self.ended.insert(held.seq);
        }
    }

    fn take(&mut self, id: &Uuid) -> Option<Box<Session>> {
        let held = self.sessions.remove(id)?;
        self.order.remove(&held.seq);
        self.ended.remove(&held.seq);
        self.bytes -= held.bytes;
        Some(held.session)
    }

    /// How many sessions the store has evicted since it was made.
    pub(crate) fn evicted_total(&self) -> u64 {
        self.evicted_total
    }

    pub(crate) fn get(&self, id: &Uuid) -> Option<&Session> {
        self.sessions.get(id).map(|h| &*h.session)
    }

    pub(crate) fn get_mut(&mut self, id: &Uuid) -> Option<&mut Session> {
        self.sessions.get_mut(id).map(|h| &mut *h.session)
    }

    /// Why session `id` is no longer held, if the store let it go (and still remembers it).
    pub(crate) fn eviction(&self, id: &Uuid) -> Option<Eviction> {
        if self.sessions.contains_key(id) {
            return None;
        }
        self.evictions.by_id.get(id).map(|(_, eviction)| *eviction)
    }

    /// Newest first.
    pub(crate) fn iter_newest_first(&self) -> impl Iterator<Item = &Session> {
        self.order.values().rev().filter_map(|id| self.get(id))
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// The held sessions' estimated size (`Session::held_bytes`).
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Removes the sessions `which` selects, and what is remembered of those it evicted (a
    /// key's reset, SPEC §16); returns them, to be freed out of the lock. Scans the store.
    #[expect(clippy::vec_box, reason = "boxed as the store holds them: unboxing would copy each out")]
    pub(crate) fn remove_where(&mut self, which: impl Fn(&Session) -> bool, flows: &[u64]) -> Vec<Box<Session>> {
        let ids: Vec<Uuid> = self.sessions.values().filter(|h| which(&h.session)).map(|h| h.session.id()).collect();
        self.evictions.by_id.retain(|_, (_, eviction)| !flows.contains(&eviction.flow_id));
        ids.iter().filter_map(|id| self.take(id)).collect()
    }

    pub(crate) fn clear(&mut self) {
        self.sessions.clear();
        self.order.clear();
        self.ended.clear();
        self.evictions = Evictions::default();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scripting::Source;
    use crate::domain::{ApiKey, Flow, Metadata, TechnologyCode};
    use crate::session::{Command, Context, Generator};

    const T0: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

    fn session(n: u128) -> Box<Session> {
        let flow = Flow {
            id: 7,
            name: "test".into(),
            api_key: ApiKey::parse("k-0123456789012345678901234567890123456789012345").unwrap(),
            technologies: vec![TechnologyCode::Ldhp],
            scenario: None,
            webhook_urls: Vec::new(),
            seed: None,
        };
        let subject = Generator::new(Some(1)).subject(&Metadata::default(), T0.date());
        let scenario = ("happy-path".to_owned(), Source::Server);
        let flow = std::sync::Arc::new(flow);
        Box::new(Session::new(Uuid::from_u128(n), flow, Metadata::default(), subject, T0, scenario))
    }

    fn finish(store: &mut SessionStore, n: u128) {
        let id = Uuid::from_u128(n);
        let (_, scenarios) = crate::Config::default().load().unwrap();
        let generator = std::sync::Mutex::new(Generator::new(Some(1)));
        let fallback = scenarios.get("happy-path").unwrap();
        let ctx = Context { now: T0, generator: &generator, scenarios: &scenarios, fallback };
        let outcomes = HashMap::new();
        store.get_mut(&id).unwrap().apply(Command::Complete { scenario: None, outcomes: &outcomes }, &ctx).unwrap();
        store.ended(&id);
    }

    fn ids(sessions: impl IntoIterator<Item = Box<Session>>) -> Vec<Uuid> {
        sessions.into_iter().map(|s| s.id()).collect()
    }

    fn held(store: &SessionStore) -> Vec<u128> {
        let mut ids: Vec<u128> = store.iter_newest_first().map(|s| s.id().as_u128()).collect();
        ids.reverse();
        ids
    }

    /// Each case: the store's limit, which sessions of 1..=3 have finished, which have expired,
    /// and the sessions held after a fourth arrives, with the one that went and why.
    #[test]
    fn a_full_store_lets_the_oldest_expired_then_finished_then_any_session_go() {
        type Case = (&'static str, &'static [u128], &'static [u128], [u128; 3], u128);
        let cases: [Case; 4] = [
            ("nothing finished: the oldest goes", &[], &[], [2, 3, 4], 1),
            ("a finished one goes before older unfinished ones", &[2], &[], [1, 3, 4], 2),
            ("the oldest finished one goes first", &[3, 2], &[], [1, 3, 4], 2),
            ("an expired oldest goes before a finished one", &[3], &[1], [2, 3, 4], 1),
        ];
        for (case, finished, expired, after, gone) in cases {
            let mut store = SessionStore::new(Limits { sessions: 3, bytes: usize::MAX });
            for n in 1..=3 {
                assert!(store.insert(session(n), T0, |_| false).is_empty(), "{case}: room for three");
            }
            for n in finished {
                finish(&mut store, *n);
            }
            let evicted = ids(store.insert(session(4), T0, |s| expired.contains(&s.id().as_u128())));
            assert_eq!(evicted, [Uuid::from_u128(gone)], "{case}");
            assert_eq!(held(&store), after, "{case}");
            let eviction = store.eviction(&Uuid::from_u128(gone)).expect("an eviction is remembered");
            assert_eq!(eviction.limit, Limit::Sessions(3), "{case}");
            assert_eq!(eviction.flow_id, 7, "{case}");
            assert_eq!(eviction.status.has_ended(), finished.contains(&gone), "{case}");
        }
    }

    #[test]
    fn the_byte_limit_evicts_until_the_new_session_fits_and_never_refuses_one() {
        let each = session(0).held_bytes();
        let mut store = SessionStore::new(Limits { sessions: 100, bytes: each * 3 });
        for n in 1..=3 {
            store.insert(session(n), T0, |_| false);
        }
        assert_eq!(store.bytes(), each * 3);
        let evicted = ids(store.insert(session(4), T0, |_| false));
        assert_eq!(evicted, [Uuid::from_u128(1)], "one session's room is made");
        assert_eq!(store.eviction(&evicted[0]).unwrap().limit, Limit::Bytes(each * 3));
        assert_eq!(store.bytes(), each * 3, "the sum follows removals");

        let mut tiny = SessionStore::new(Limits { sessions: 100, bytes: each / 2 });
        tiny.insert(session(1), T0, |_| false);
        let evicted = tiny.insert(session(2), T0, |_| false);
        assert_eq!((evicted.len(), tiny.len()), (1, 1), "a session larger than the limit is held alone");
    }

    #[test]
    fn evictions_are_forgotten_when_the_id_comes_back_or_the_store_is_cleared() {
        let mut store = SessionStore::new(Limits { sessions: 1, bytes: usize::MAX });
        store.insert(session(1), T0, |_| false);
        store.insert(session(2), T0, |_| false);
        assert!(store.eviction(&Uuid::from_u128(1)).is_some());
        store.insert(session(1), T0, |_| false);
        assert!(store.eviction(&Uuid::from_u128(1)).is_none(), "held again, so not evicted");
        assert!(store.eviction(&Uuid::from_u128(2)).is_some());
        store.clear();
        assert!(store.eviction(&Uuid::from_u128(2)).is_none() && store.is_empty() && store.bytes() == 0);
    }
}
