//! The Backend API's state (SPEC §13): the organisation keys (behind their own lock, as the
//! flows are), and under the store's lock the E-Document backend sessions and the persons
//! registered, both bounded by `--max-sessions` (the oldest go first). Which scenario a call
//! plays, the fault it meets, and the results it answers are decided here, as for sessions.

use std::collections::{HashMap, VecDeque};
use std::sync::{PoisonError, RwLock};

use serde_json::Value;
use uuid::Uuid;

use super::AppState;
use crate::domain::backend::{BackendKey, PhotoType};
use crate::domain::scripting::Endpoint;
use crate::domain::{Iin, Metadata, Outcome, Phone, TechnologyCode};
use crate::scenario::{Fault, Scenario};
use crate::session::backend::{ApproveError, BackendSession, BackendState, Person};

/// The organisation keys, as registered (the start-up set comes back with `reset`).
pub(crate) struct BackendKeys(RwLock<Vec<BackendKey>>);

impl BackendKeys {
    pub(crate) fn new(keys: Vec<BackendKey>) -> Self {
        Self(RwLock::new(keys))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<BackendKey>> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<BackendKey>> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The backend sessions and persons, under the store's lock.
#[derive(Default)]
pub(crate) struct BackendStore {
    sessions: HashMap<Uuid, BackendSession>,
    order: VecDeque<Uuid>,
    persons: VecDeque<Person>,
    /// Who holds each alias, by organisation key: aliases prevent duplicates \[doc\].
    aliases: HashMap<(String, String), Uuid>,
}

impl BackendStore {
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    pub(crate) fn restore(sessions: Vec<BackendSession>, persons: Vec<Person>) -> Self {
        let mut store = Self::default();
        for session in sessions {
            store.order.push_back(session.id);
            store.sessions.insert(session.id, session);
        }
        for person in &persons {
            for alias in &person.aliases {
                store.aliases.insert((person.api_key.clone(), alias.clone()), person.person_id);
            }
        }
        store.persons = persons.into();
        store
    }

    pub(crate) fn sessions(&self) -> impl Iterator<Item = &BackendSession> {
        self.order.iter().filter_map(|id| self.sessions.get(id))
    }

    pub(crate) fn persons(&self) -> impl Iterator<Item = &Person> {
        self.persons.iter()
    }

    fn insert(&mut self, session: BackendSession, limit: usize) {
        while self.order.len() >= limit.max(1) {
            let Some(old) = self.order.pop_front() else { break };
            self.sessions.remove(&old);
        }
        self.order.push_back(session.id);
        self.sessions.insert(session.id, session);
    }
}

/// Why a key could not be added or changed at run time.
#[derive(Debug, thiserror::Error)]
pub enum BackendKeyError {
    #[error("A backend key with this api_key already exists.")]
    DuplicateKey,
    #[error("No scenario is named {name:?}; the scenarios are {known}.")]
    UnknownScenario { name: String, known: String },
    #[error("No backend key has this api_key.")]
    NotFound,
}

/// What an E-Document request met.
#[derive(Debug)]
pub enum EdocRequest {
    /// The new backend session.
    Requested(Uuid),
    /// A scripted fault to play (the government service down, a delay…): nothing was made.
    Fault(Fault),
    /// The scenario scripts the subject missing from the Mobile Citizen Database.
    SubjectNotFound,
    /// A request for this IIN with this key already awaits its code.
    AlreadyRequested,
}

impl AppState {
    pub fn backend_keys(&self) -> Vec<BackendKey> {
        self.0.backend_keys.read().clone()
    }

    pub fn find_backend_key(&self, api_key: &str) -> Option<BackendKey> {
        self.0.backend_keys.read().iter().find(|k| k.api_key.as_str() == api_key).cloned()
    }

    fn known_scenario(&self, name: Option<&str>) -> Result<(), BackendKeyError> {
        match name.filter(|n| self.0.config.scenarios.get(n).is_none()) {
            Some(name) => {
                Err(BackendKeyError::UnknownScenario { name: name.to_owned(), known: self.0.config.scenarios.names() })
            }
            None => Ok(()),
        }
    }

    /// Adds a key: new, with a known scenario.
    pub fn add_backend_key(&self, key: BackendKey) -> Result<BackendKey, BackendKeyError> {
        self.known_scenario(key.scenario.as_deref())?;
        let mut keys = self.0.backend_keys.write();
        if keys.iter().any(|k| k.api_key == key.api_key) {
            return Err(BackendKeyError::DuplicateKey);
        }
        keys.push(key.clone());
        drop(keys);
        self.changed();
        Ok(key)
    }

    pub fn delete_backend_key(&self, api_key: &str) -> bool {
        let mut keys = self.0.backend_keys.write();
        let before = keys.len();
        keys.retain(|k| k.api_key.as_str() != api_key);
        let gone = keys.len() != before;
        drop(keys);
        if gone {
            self.changed();
        }
        gone
    }

    /// The scenario calls with this key play from now on (`None`: the server's).
    pub fn set_backend_key_scenario(
        &self,
        api_key: &str,
        scenario: Option<String>,
    ) -> Result<BackendKey, BackendKeyError> {
        self.known_scenario(scenario.as_deref())?;
        let mut keys = self.0.backend_keys.write();
        let key = keys.iter_mut().find(|k| k.api_key.as_str() == api_key).ok_or(BackendKeyError::NotFound)?;
        key.scenario = scenario;
        let key = key.clone();
        drop(keys);
        self.changed();
        Ok(key)
    }

    /// The scenario a call with `key` plays: the key's, else the server's.
    fn backend_scenario(&self, key: &BackendKey) -> &Scenario {
        key.scenario.as_deref().and_then(|n| self.0.config.scenarios.get(n)).unwrap_or_else(|| self.fallback())
    }

    /// A call of an image endpoint (or `persons/`) with `key`: the fault it meets (an admin rule
    /// first, then its scenario's), and otherwise the result it answers for `code`'s family, as
    /// the scenario scripts it and merged with the scenario's fields; `None` for `persons/`.
    pub fn backend_image_call(
        &self,
        endpoint: Endpoint,
        key: &BackendKey,
        code: Option<TechnologyCode>,
        faults: bool,
    ) -> Result<Option<Value>, Fault> {
        let scenario = self.backend_scenario(key);
        if faults && let Some(fault) = self.lock().faults.take(scenario, endpoint) {
            return Err(fault);
        }
        let Some(code) = code else { return Ok(None) };
        let outcome = scenario.outcome(code);
        let mut generator = self.generator();
        let subject = generator.subject(&Metadata::default(), self.now().date());
        let generated = generator.result(code, &outcome, &subject);
        drop(generator);
        let mut result = serde_json::to_value(generated).unwrap_or_default();
        scenario.apply_result(code, &mut result);
        Ok(Some(result))
    }

    /// `persons/` \[doc\]: registers a person unless one of its aliases is taken (for this key);
    /// answers the person, or the alias taken and by whom.
    pub fn register_person(
        &self,
        key: &BackendKey,
        photo_type: PhotoType,
        is_verified: bool,
        aliases: Vec<String>,
        image_bytes: usize,
    ) -> Result<Person, (String, Uuid)> {
        let person_id = self.generator().session_id();
        let created_at = crate::clock::timestamp(self.now());
        let mut inner = self.lock();
        let owner = key.api_key.as_str().to_owned();
        for alias in &aliases {
            if let Some(holder) = inner.backend.aliases.get(&(owner.clone(), alias.clone())) {
                return Err((alias.clone(), *holder));
            }
        }
        let person = Person {
            person_id,
            api_key: key.api_key.as_str().to_owned(),
            photo_type: photo_type.as_str().to_owned(),
            is_verified,
            aliases,
            image_bytes,
            created_at,
        };
        while inner.backend.persons.len() >= self.0.config.max_sessions.max(1) {
            let Some(gone) = inner.backend.persons.pop_front() else { break };
            for alias in gone.aliases {
                inner.backend.aliases.remove(&(gone.api_key.clone(), alias));
            }
        }
        for alias in &person.aliases {
            inner.backend.aliases.insert((owner.clone(), alias.clone()), person_id);
        }
        inner.backend.persons.push_back(person.clone());
        drop(inner);
        self.changed();
        Ok(person)
    }

    /// The E-Document request \[doc, seen\]: the scenario is a magic IIN's, else the key's, else
    /// the server's; its faults on `edocument_request` come first, then a scripted
    /// `SUBJECT_NOT_FOUND` (or any scripted failure other than `WRONG_OTP`), then a request
    /// already awaiting its code for this IIN and key; else a backend session with a new code.
    /// With `faults` false (a delay already played), no fault rule is met.
    pub fn edocument_request(&self, key: &BackendKey, iin: &Iin, phone: &Phone, faults: bool) -> EdocRequest {
        let set = &self.0.config.scenarios;
        let scenario = set.iter().find(|s| s.matches(&[iin])).unwrap_or_else(|| self.backend_scenario(key));
        let code = TechnologyCode::Ed;
        let (codes_refused, missing) = match scenario.outcome(code) {
            Outcome::Passed => (false, false),
            Outcome::Failed(reason) => (reason.kind == "WRONG_OTP", reason.kind != "WRONG_OTP"),
        };
        let now = self.now();
        {
            let mut inner = self.lock();
            if let Some(fault) = faults.then(|| inner.faults.take(scenario, Endpoint::EdocumentRequest)).flatten() {
                return EdocRequest::Fault(fault);
            }
            if missing {
                return EdocRequest::SubjectNotFound;
            }
            let pending = inner.backend.sessions.values().any(|s| {
                s.state == BackendState::AwaitingCode && s.iin == iin.as_str() && s.api_key == key.api_key.as_str()
            });
            if pending {
                return EdocRequest::AlreadyRequested;
            }
        }
        let mut generator = self.generator();
        let id = generator.session_id();
        let otp = generator.otp();
        let subject = generator.subject_with(Some(iin.clone()), Some(phone.clone()), now.date());
        let document = serde_json::to_value(generator.result(code, &Outcome::Passed, &subject)).unwrap_or_default();
        drop(generator);
        let mut document = document;
        scenario.apply_result(code, &mut document);
        let session = BackendSession {
            id,
            api_key: key.api_key.as_str().to_owned(),
            iin: iin.as_str().to_owned(),
            phone: phone.as_str().to_owned(),
            otp,
            wrong_codes: 0,
            state: BackendState::AwaitingCode,
            scenario: scenario.name.clone(),
            codes_refused,
            created_at: crate::clock::timestamp(now),
            document,
            fault_calls: HashMap::new(),
        };
        self.lock().backend.insert(session, self.0.config.max_sessions);
        self.changed();
        EdocRequest::Requested(id)
    }

    /// The approval \[seen\] of backend session `id` with `code`: the fault it meets first (an
    /// admin rule, then its scenario's, counted on the session), then the state machine. `None`:
    /// no such session. With `files`, the document's files are made (outside the lock).
    pub fn edocument_approve(
        &self,
        id: &Uuid,
        code: &str,
        files: bool,
        faults: bool,
    ) -> Option<Result<Result<Value, ApproveError>, Fault>> {
        let mut inner = self.lock();
        let admin = if faults { inner.faults.take_admin(Endpoint::EdocumentApprove) } else { None };
        let session = inner.backend.sessions.get_mut(id)?;
        let scenario = self.0.config.scenarios.get(&session.scenario).unwrap_or_else(|| self.fallback());
        // Its scenario's rules are counted on the backend session, as a session's are on it.
        let scripted = || {
            faults.then(|| scenario.take_fault(Endpoint::EdocumentApprove, &mut session.fault_calls, |i| i)).flatten()
        };
        if let Some(fault) = admin.or_else(scripted) {
            return Some(Err(fault));
        }
        let approved = session.approve(code).cloned();
        drop(inner);
        self.changed();
        Some(Ok(approved.map(|mut document| {
            if files {
                crate::session::generate::make_document_files(&mut document, |_| false);
                document["face_photo"] = Value::String(base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    crate::report::document::FACE_PHOTO,
                ));
            }
            document
        })))
    }

    /// The backend sessions, oldest first.
    pub fn backend_sessions(&self) -> Vec<BackendSession> {
        self.lock().backend.sessions().cloned().collect()
    }

    pub fn backend_session(&self, id: &Uuid) -> Option<BackendSession> {
        self.lock().backend.sessions.get(id).cloned()
    }

    /// The persons registered, oldest first.
    pub fn persons(&self) -> Vec<Person> {
        self.lock().backend.persons().cloned().collect()
    }
}
