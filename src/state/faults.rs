//! Fault rules that are not a session's own: those added through the admin API (for any
//! session) and the counts of scenarios' `create` rules (no session exists yet to count those
//! on). A session's own scenario rules are counted on the session (`Command::MeetFault`).

use std::collections::HashMap;

use crate::domain::scripting::Endpoint;
use crate::scenario::{Fault, Scenario};

#[derive(Default)]
pub(crate) struct Faults {
    /// Fault rules added through the admin API, with the calls each has hit.
    admin: Vec<(Fault, u32)>,
    /// Calls each scenario's rules have hit where no session exists to count them on (create, and
    /// the Backend API's calls), by scenario name, endpoint and rule index.
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
    pub(crate) fn take_admin(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let (fault, calls) = self.admin.iter_mut().find(|(f, calls)| f.endpoint == endpoint && *calls < f.times)?;
        *calls += 1;
        Some(fault.clone())
    }

    /// The fault a call of `endpoint` that plays `scenario` meets where no session counts the
    /// calls (a create, the Backend API's calls), counting it: an admin rule first, then the
    /// scenario's.
    pub(crate) fn take(&mut self, scenario: &Scenario, endpoint: Endpoint) -> Option<Fault> {
        if let Some(fault) = self.take_admin(endpoint) {
            return Some(fault);
        }
        let name = &scenario.name;
        scenario.take_fault(endpoint, &mut self.scripted_calls, |i| (name.clone(), endpoint, i))
    }
}
