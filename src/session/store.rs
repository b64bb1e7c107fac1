//! The in-memory session store: sessions by id, and their creation order for listing.

use std::collections::{HashMap, VecDeque};

use uuid::Uuid;

use super::Session;

#[derive(Default)]
pub struct SessionStore {
    sessions: HashMap<Uuid, Session>,
    order: VecDeque<Uuid>,
}

impl SessionStore {
    pub fn insert(&mut self, session: Session) {
        self.order.push_back(session.id);
        self.sessions.insert(session.id, session);
    }

    pub fn get(&self, id: &Uuid) -> Option<&Session> {
        self.sessions.get(id)
    }

    pub fn get_mut(&mut self, id: &Uuid) -> Option<&mut Session> {
        self.sessions.get_mut(id)
    }

    /// Newest first.
    pub fn iter_newest_first(&self) -> impl Iterator<Item = &Session> {
        self.order.iter().rev().filter_map(|id| self.sessions.get(id))
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
