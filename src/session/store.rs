//! The in-memory session store: sessions by id, their creation order for listing, and room for
//! at most a given number of them (`--max-sessions`), the oldest finished ones making way.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use super::Session;

pub struct SessionStore {
    /// Boxed: a session is large, and a growing map moves every entry when it rehashes — with
    /// sessions inline that stalled creates for tens of milliseconds at a few hundred thousand.
    sessions: HashMap<Uuid, (u64, Box<Session>)>,
    /// Creation sequence → id, so that listing and eviction go by age.
    order: BTreeMap<u64, Uuid>,
    next: u64,
    capacity: usize,
}

/// There is no room for another session: every one held is still in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full {
    pub capacity: usize,
}

impl Default for SessionStore {
    fn default() -> Self {
        Self::with_capacity(usize::MAX)
    }
}

impl SessionStore {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { sessions: HashMap::new(), order: BTreeMap::new(), next: 0, capacity: capacity.max(1) }
    }

    /// Adds a session, first removing the oldest one `evictable` allows when the store is full.
    /// Boxed by the caller, so that it is allocated before the store's lock is taken.
    pub fn insert(&mut self, session: Box<Session>, evictable: impl Fn(&Session) -> bool) -> Result<(), Full> {
        if self.sessions.len() >= self.capacity {
            let oldest = self
                .order
                .values()
                .find(|id| self.sessions.get(*id).is_some_and(|(_, s)| evictable(s)))
                .copied()
                .ok_or(Full { capacity: self.capacity })?;
            self.remove(&oldest);
        }
        let seq = self.next;
        self.next += 1;
        self.order.insert(seq, session.id);
        self.sessions.insert(session.id, (seq, session));
        Ok(())
    }

    pub fn remove(&mut self, id: &Uuid) -> Option<Session> {
        let (seq, session) = self.sessions.remove(id)?;
        self.order.remove(&seq);
        Some(*session)
    }

    pub fn get(&self, id: &Uuid) -> Option<&Session> {
        self.sessions.get(id).map(|(_, s)| &**s)
    }

    pub fn get_mut(&mut self, id: &Uuid) -> Option<&mut Session> {
        self.sessions.get_mut(id).map(|(_, s)| &mut **s)
    }

    /// Newest first.
    pub fn iter_newest_first(&self) -> impl Iterator<Item = &Session> {
        self.order.values().rev().filter_map(|id| self.get(id))
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    pub fn clear(&mut self) {
        self.sessions.clear();
        self.order.clear();
    }
}
