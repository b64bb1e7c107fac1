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
    /// Create calls each scenario's `create` rules have hit, by scenario name and rule index.
    create_calls: HashMap<(String, usize), u32>,
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
        self.create_calls.clear();
    }

    /// An admin rule for `endpoint` with calls left, counting this one.
    pub(crate) fn take_admin(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let (fault, calls) = self.admin.iter_mut().find(|(f, calls)| f.endpoint == endpoint && *calls < f.times)?;
        *calls += 1;
        Some(fault.clone())
    }

    /// The fault a create call of a session that would play `scenario` meets, counting the call:
    /// an admin rule first, then the scenario's.
    pub(crate) fn take_create(&mut self, scenario: &Scenario) -> Option<Fault> {
        if let Some(fault) = self.take_admin(Endpoint::Create) {
            return Some(fault);
        }
        for (index, fault) in scenario.faults_for(Endpoint::Create) {
            let calls = self.create_calls.entry((scenario.name.clone(), index)).or_default();
            if *calls < fault.times {
                *calls += 1;
                return Some(fault.clone());
            }
        }
        None
    }
}
