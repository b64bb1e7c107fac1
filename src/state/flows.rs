//! The flows registry: the flows the mock serves, each numbered (`Flow::id`) when registered, so
//! that a session belongs to the flow that made it, not to its key. Behind its own lock: every
//! create looks its flow up and must not wait for another create to store its session.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use super::AppState;
use crate::domain::Flow;

pub(crate) struct Flows {
    held: RwLock<Vec<Arc<Flow>>>,
    /// The number the next registered flow gets.
    next_id: AtomicU64,
}

/// Why a flow could not be added at run time.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AddFlowError {
    #[error("A flow with this api_key already exists.")]
    DuplicateKey,
    #[error("No scenario is named {name:?}; the scenarios are {known}.")]
    UnknownScenario { name: String, known: String },
    #[error(
        "The webhook URL {0} points at the mock's own /__admin: events would drive the mock's admin API. Point webhooks at your receiver."
    )]
    WebhookToAdmin(String),
}

/// The flows, as the fronts reach them.
impl AppState {
    pub(crate) fn flows(&self) -> Vec<Flow> {
        self.0.flows.all().iter().map(|f| Flow::clone(f)).collect()
    }

    pub(crate) fn find_flow(&self, api_key: &str) -> Option<Arc<Flow>> {
        self.0.flows.find(api_key)
    }

    /// Adds a flow; its API key must be new, its scenario known, and no webhook URL of it the
    /// mock's own `/__admin` (a page that may create flows must not make the mock call itself).
    /// Returns it as registered.
    pub(crate) fn add_flow(&self, flow: Flow) -> Result<Flow, AddFlowError> {
        let to_admin = |url: &&String| {
            url::Url::parse(url).is_ok_and(|u| {
                u.path().starts_with("/__admin") && u.host_str().is_some_and(|host| self.answers_to(host))
            })
        };
        if let Some(url) = flow.webhook_urls.iter().find(to_admin) {
            return Err(AddFlowError::WebhookToAdmin(url.clone()));
        }
        if let Some(name) = flow.scenario.as_deref().filter(|n| self.0.config.scenarios.get(n).is_none()) {
            return Err(AddFlowError::UnknownScenario {
                name: name.to_owned(),
                known: self.0.config.scenarios.names(),
            });
        }
        let added = self.0.flows.add(flow)?;
        self.0.scopes.seed(added.api_key.as_str(), added.seed);
        self.changed();
        Ok(Flow::clone(&added))
    }

    /// Removes the flow with this key; its sessions stay, out of any key's reach. False when
    /// there was none.
    pub(crate) fn delete_flow(&self, api_key: &str) -> bool {
        let mut inner = self.lock();
        let Some(gone) = self.0.flows.remove(api_key) else { return false };
        inner.retired_flows.insert(gone.id);
        self.0.scopes.forget(api_key);
        self.changed();
        true
    }

    /// A key for a flow or backend key created without one: made from its seed and name when
    /// it has a seed (so that the same request makes the same key run after run), else drawn.
    pub(crate) fn generate_api_key(&self, seed: Option<u64>, name: &str) -> crate::domain::ApiKey {
        match seed {
            Some(seed) => super::scopes::seeded_key(seed, name),
            None => self.generator().api_key(),
        }
    }

    /// Every flow's and backend key's seed, registered (start-up, reset).
    pub(super) fn register_seeds(&self) {
        for flow in self.0.flows.all() {
            self.0.scopes.seed(flow.api_key.as_str(), flow.seed);
        }
        for key in self.backend_keys() {
            self.0.scopes.seed(key.api_key.as_str(), key.seed);
        }
    }
}

impl Flows {
    pub(crate) fn new(flows: Vec<Flow>) -> Self {
        let registry = Self { held: RwLock::new(Vec::new()), next_id: AtomicU64::new(1) };
        registry.replace(flows);
        registry
    }

    /// A number no flow has had (for sessions of flows that are gone).
    pub(crate) fn fresh_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn numbered(&self, flow: Flow) -> Arc<Flow> {
        Arc::new(Flow { id: self.fresh_id(), ..flow })
    }

    fn held(&self) -> RwLockReadGuard<'_, Vec<Arc<Flow>>> {
        self.held.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every flow, in the order they were added.
    pub(crate) fn all(&self) -> Vec<Arc<Flow>> {
        self.held().clone()
    }

    pub(crate) fn find(&self, api_key: &str) -> Option<Arc<Flow>> {
        self.held().iter().find(|f| f.api_key.as_str() == api_key).cloned()
    }

    /// Adds a flow, numbered; its API key must be new.
    pub(crate) fn add(&self, flow: Flow) -> Result<Arc<Flow>, AddFlowError> {
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        if held.iter().any(|f| f.api_key == flow.api_key) {
            return Err(AddFlowError::DuplicateKey);
        }
        let flow = self.numbered(flow);
        held.push(Arc::clone(&flow));
        Ok(flow)
    }

    /// Removes the flow with this key; returns it, if there was one.
    pub(crate) fn remove(&self, api_key: &str) -> Option<Arc<Flow>> {
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        let at = held.iter().position(|f| f.api_key.as_str() == api_key)?;
        Some(held.remove(at))
    }

    /// Replaces every flow with `flows`, numbered anew (start-up, reset).
    pub(crate) fn replace(&self, flows: Vec<Flow>) {
        let numbered = flows.into_iter().map(|flow| self.numbered(flow)).collect();
        *self.held.write().unwrap_or_else(PoisonError::into_inner) = numbered;
    }
}

/// Whether a flow a state file names for a session is the live flow with its key.
pub(super) fn same_flow(live: &Flow, own: &Flow) -> bool {
    live.name == own.name && live.technologies == own.technologies && live.webhook_urls == own.webhook_urls
}
