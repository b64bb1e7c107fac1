//! Fault rules, and the one place that decides which rule a call meets: an admin rule for the
//! call's endpoint first (the admin's choice wins), then the scenario's. The calls a scenario's
//! rules have hit are counted where the calls are: on the session or backend session they are
//! about (`Command::MeetFault`), else per scenario here (a create, the Backend API's calls).

use std::collections::HashMap;

use uuid::Uuid;

use super::{AppState, NotOwn};
use crate::domain::scripting::Endpoint;
use crate::scenario::Fault;
use crate::session::{Applied, Command, Found};

#[derive(Default)]
pub(crate) struct Faults {
    /// Fault rules added through the admin API, with the calls each has hit.
    admin: Vec<AdminRule>,
    /// Calls each scenario's rules have hit where no session exists to count them on, by the
    /// call's key, scenario name, endpoint and rule index: suites on other keys do not use up
    /// each other's scripted faults (SPEC §16).
    scripted_calls: HashMap<(String, String, Endpoint, usize), u32>,
}

/// A fault rule added through the admin API: for calls with its key (none: every call), with
/// the calls it has hit.
#[derive(Debug, Clone)]
pub(crate) struct AdminRule {
    pub key: Option<String>,
    pub fault: Fault,
    pub calls: u32,
}

impl Faults {
    pub(crate) fn add(&mut self, key: Option<String>, fault: Fault) {
        self.admin.push(AdminRule { key, fault, calls: 0 });
    }

    pub(crate) fn clear(&mut self) {
        self.admin.clear();
        self.scripted_calls.clear();
    }

    /// `key`'s rules, and the calls its scenarios' rules have hit, gone.
    pub(crate) fn clear_key(&mut self, key: &str) {
        self.admin.retain(|rule| rule.key.as_deref() != Some(key));
        self.scripted_calls.retain(|(call_key, ..), _| call_key != key);
    }

    /// An admin rule for `endpoint` and a call with `key` with calls left, counting this one.
    fn take_admin(&mut self, endpoint: Endpoint, key: Option<&str>) -> Option<Fault> {
        let rule = self.admin.iter_mut().find(|rule| {
            rule.fault.endpoint == endpoint
                && rule.calls < rule.fault.times
                && rule.key.as_deref().is_none_or(|own| Some(own) == key)
        })?;
        rule.calls += 1;
        Some(rule.fault.clone())
    }
}

/// Whose scripted fault rules a call meets, and where its calls are counted.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scripted<'a> {
    /// A call about session `id` with the flow key `key` (result, video, report, generate files):
    /// its scenario's rules, counted on the session, which must be the key's.
    Session { id: &'a Uuid, key: &'a str },
    /// A call with `key` that no session counts (a create, the Backend API's image calls and
    /// requests): the rules of the scenario `name`, counted per key and scenario.
    Scenario { name: &'a str, key: &'a str },
    /// A call about a backend session (an approval): its scenario's rules, counted on it.
    BackendSession(&'a Uuid),
}

impl AppState {
    /// The fault a call of `endpoint` meets, the call counted: an admin rule first, then the one
    /// its scenario scripts. `Err`: the session the call is about is not the key's.
    pub(crate) fn meet_fault(&self, endpoint: Endpoint, scripted: Scripted<'_>) -> Result<Option<Fault>, NotOwn> {
        let scope = match scripted {
            Scripted::Session { key, .. } => self.scope(key),
            _ => None,
        };
        let now = self.now_in(scope.as_deref());
        let mut inner = self.lock();
        if let Scripted::Session { id, key } = scripted {
            self.own(&inner, id, key, now)?;
        }
        // The call's key: an admin rule for a key plays on that key's calls only.
        let key = match scripted {
            Scripted::Session { key, .. } | Scripted::Scenario { key, .. } => Some(key.to_owned()),
            Scripted::BackendSession(id) => inner.backend.session(id).map(|s| s.api_key.clone()),
        };
        if let Some(fault) = inner.faults.take_admin(endpoint, key.as_deref()) {
            return Ok(Some(fault));
        }
        let scenarios = &self.0.config.scenarios;
        Ok(match scripted {
            Scripted::Session { id, .. } => {
                let ctx = self.context(now, scope.as_deref());
                let session = inner.sessions.get_mut(id).ok_or(NotOwn::Missing)?;
                match session.apply(Command::MeetFault(endpoint), &ctx) {
                    Ok(Applied { found: Found::Fault(fault), .. }) => fault,
                    _ => None,
                }
            }
            Scripted::Scenario { name, key } => {
                let scenario = scenarios.get(name).unwrap_or_else(|| self.fallback());
                let calls = &mut inner.faults.scripted_calls;
                scenario.take_fault(endpoint, calls, |i| (key.to_owned(), scenario.name.clone(), endpoint, i))
            }
            Scripted::BackendSession(id) => {
                let Some(session) = inner.backend.session_mut(id) else { return Ok(None) };
                let scenario = scenarios.get(&session.scenario).unwrap_or_else(|| self.fallback());
                scenario.take_fault(endpoint, &mut session.fault_calls, |i| i)
            }
        })
    }

    /// Adds an admin fault rule: the next `times` calls of its endpoint with `key` (or about its
    /// sessions), or with any key when `None`.
    pub(crate) fn add_fault(&self, key: Option<String>, fault: Fault) {
        self.lock().faults.add(key, fault);
    }

    /// The admin fault rules with the calls each has hit: `key`'s only, when given.
    pub(crate) fn faults(&self, key: Option<&str>) -> Vec<AdminRule> {
        let inner = self.lock();
        inner.faults.admin.iter().filter(|rule| key.is_none_or(|k| rule.key.as_deref() == Some(k))).cloned().collect()
    }
}
