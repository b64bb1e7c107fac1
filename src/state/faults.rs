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
    admin: Vec<(Fault, u32)>,
    /// Calls each scenario's rules have hit where no session exists to count them on, by scenario
    /// name, endpoint and rule index.
    scripted_calls: HashMap<(String, Endpoint, usize), u32>,
}

impl Faults {
    pub(crate) fn add(&mut self, fault: Fault) {
        self.admin.push((fault, 0));
    }

    /// The admin rules with the calls each has hit.
    pub(crate) fn admin(&self) -> Vec<(Fault, u32)> {
        self.admin.clone()
    }

    pub(crate) fn clear(&mut self) {
        self.admin.clear();
        self.scripted_calls.clear();
    }

    /// An admin rule for `endpoint` with calls left, counting this one.
    fn take_admin(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let (fault, calls) = self.admin.iter_mut().find(|(f, calls)| f.endpoint == endpoint && *calls < f.times)?;
        *calls += 1;
        Some(fault.clone())
    }
}

/// Whose scripted fault rules a call meets, and where its calls are counted.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scripted<'a> {
    /// A call about session `id` with the flow key `key` (result, video, report, generate files):
    /// its scenario's rules, counted on the session, which must be the key's.
    Session { id: &'a Uuid, key: &'a str },
    /// A call no session counts (a create, the Backend API's image calls and requests): the rules
    /// of the scenario of this name, counted per scenario.
    Scenario(&'a str),
    /// A call about a backend session (an approval): its scenario's rules, counted on it.
    BackendSession(&'a Uuid),
}

impl AppState {
    /// The fault a call of `endpoint` meets, the call counted: an admin rule first, then the one
    /// its scenario scripts. `Err`: the session the call is about is not the key's.
    pub(crate) fn meet_fault(&self, endpoint: Endpoint, scripted: Scripted<'_>) -> Result<Option<Fault>, NotOwn> {
        let now = self.0.clock.now();
        let mut inner = self.lock();
        if let Scripted::Session { id, key } = scripted {
            self.own(&inner, id, key, now)?;
        }
        if let Some(fault) = inner.faults.take_admin(endpoint) {
            return Ok(Some(fault));
        }
        let scenarios = &self.0.config.scenarios;
        Ok(match scripted {
            Scripted::Session { id, .. } => {
                let ctx = self.context(now);
                let session = inner.sessions.get_mut(id).ok_or(NotOwn::Missing)?;
                match session.apply(Command::MeetFault(endpoint), &ctx) {
                    Ok(Applied { found: Found::Fault(fault), .. }) => fault,
                    _ => None,
                }
            }
            Scripted::Scenario(name) => {
                let scenario = scenarios.get(name).unwrap_or_else(|| self.fallback());
                let calls = &mut inner.faults.scripted_calls;
                scenario.take_fault(endpoint, calls, |i| (scenario.name.clone(), endpoint, i))
            }
            Scripted::BackendSession(id) => {
                let Some(session) = inner.backend.session_mut(id) else { return Ok(None) };
                let scenario = scenarios.get(&session.scenario).unwrap_or_else(|| self.fallback());
                scenario.take_fault(endpoint, &mut session.fault_calls, |i| i)
            }
        })
    }

    /// Adds an admin fault rule: the next `times` calls of its endpoint, about any session.
    pub(crate) fn add_fault(&self, fault: Fault) {
        self.lock().faults.add(fault);
    }

    /// The admin fault rules with the calls each has hit.
    pub(crate) fn faults(&self) -> Vec<(Fault, u32)> {
        self.lock().faults.admin()
    }
}
