//! What the handler of a vendor route learns about the request it answers, for the request's
//! journal entry: the session and key it concerned, its lints, the sessions evicted for it. The
//! route's facts come with them (the section of the docs its lints cite, the endpoint its fault
//! rules name), and when the request came: handlers read the clock no second time.

use std::sync::{Arc, Mutex, PoisonError};

use uuid::Uuid;

use super::Lint;
use crate::domain::scripting::Endpoint;

#[derive(Debug, Clone)]
pub(crate) struct Notes {
    noted: Arc<Mutex<Noted>>,
    at: time::OffsetDateTime,
    route: RouteFacts,
}

/// What the journal knows of the route a request took.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteFacts {
    /// The section of the vendor's docs that documents the route.
    pub doc: &'static str,
    /// The endpoint its fault rules name.
    pub endpoint: Option<Endpoint>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Noted {
    pub session_id: Option<Uuid>,
    pub api_key: Option<String>,
    pub lints: Vec<Lint>,
    /// Sessions the store let go to make room for the one this request created.
    pub evicted: Vec<Uuid>,
    /// Where links to a session made by this request go: the vendor's end-user host, when the
    /// request came to the vendor's API host (over TLS or the proxy).
    pub link_base: Option<Arc<str>>,
}

impl Notes {
    /// Notes of a request that came `at` by a route of these facts.
    pub(crate) fn received(at: time::OffsetDateTime, route: RouteFacts) -> Self {
        Self { noted: Arc::default(), at, route }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Noted) -> R) -> R {
        f(&mut self.noted.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// When the request came.
    pub(crate) fn at(&self) -> time::OffsetDateTime {
        self.at
    }

    /// The endpoint the route's fault rules name.
    pub(crate) fn endpoint(&self) -> Option<Endpoint> {
        self.route.endpoint
    }

    pub(crate) fn session(&self, id: Uuid) {
        self.with(|n| n.session_id = Some(id));
    }

    pub(crate) fn api_key(&self, key: &str) {
        self.with(|n| n.api_key = Some(key.to_owned()));
    }

    pub(crate) fn link_base(&self, base: Arc<str>) {
        self.with(|n| n.link_base = Some(base));
    }

    pub(crate) fn links_to(&self) -> Option<Arc<str>> {
        self.with(|n| n.link_base.clone())
    }

    pub(crate) fn evicted(&self, ids: Vec<Uuid>) {
        self.with(|n| n.evicted = ids);
    }

    /// A warning about the request.
    pub(crate) fn lint(&self, lint: Lint) {
        self.with(|n| n.lints.push(lint));
    }

    /// A warning about the request that cites its route's section of the docs.
    pub(crate) fn lint_here(&self, code: &'static str, message: impl Into<String>) {
        self.lint(Lint::new(code, self.route.doc, message));
    }

    pub(crate) fn lints(&self) -> Vec<Lint> {
        self.with(|n| n.lints.clone())
    }

    pub(crate) fn has_lint(&self) -> bool {
        self.with(|n| !n.lints.is_empty())
    }

    pub(crate) fn taken(&self) -> Noted {
        self.with(std::mem::take)
    }
}
