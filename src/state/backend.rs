//! The Backend API's state (SPEC §13): the organisation keys (behind their own lock, as the
//! flows are), and, under the store's lock, the E-Document backend sessions and the persons
//! registered (`session::backend`, whose rules they follow). Which scenario a call plays is
//! decided here, as for sessions.

use std::sync::{PoisonError, RwLock};

use serde_json::Value;
use uuid::Uuid;

use super::AppState;
use crate::domain::backend::{BackendKey, PhotoType};
use crate::domain::{Iin, Metadata, Phone, TechnologyCode};
use crate::scenario::Scenario;
use crate::session::backend::{ApproveError, BackendCommand, BackendSession, Person, Request, RequestRefused};

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

/// Why a key could not be added or changed at run time.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BackendKeyError {
    #[error("A backend key with this api_key already exists.")]
    DuplicateKey,
    #[error("No scenario is named {name:?}; the scenarios are {known}.")]
    UnknownScenario { name: String, known: String },
    #[error("No backend key has this api_key.")]
    NotFound,
}

impl AppState {
    pub(crate) fn backend_keys(&self) -> Vec<BackendKey> {
        self.0.backend_keys.read().clone()
    }

    pub(crate) fn find_backend_key(&self, api_key: &str) -> Option<BackendKey> {
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
    pub(crate) fn add_backend_key(&self, key: BackendKey) -> Result<BackendKey, BackendKeyError> {
        self.known_scenario(key.scenario.as_deref())?;
        let mut keys = self.0.backend_keys.write();
        if keys.iter().any(|k| k.api_key == key.api_key) {
            return Err(BackendKeyError::DuplicateKey);
        }
        keys.push(key.clone());
        drop(keys);
        self.0.scopes.seed(key.api_key.as_str(), key.seed);
        self.changed();
        Ok(key)
    }

    pub(crate) fn delete_backend_key(&self, api_key: &str) -> bool {
        let mut keys = self.0.backend_keys.write();
        let before = keys.len();
        keys.retain(|k| k.api_key.as_str() != api_key);
        let gone = keys.len() != before;
        drop(keys);
        if gone {
            self.0.scopes.forget(api_key);
            self.changed();
        }
        gone
    }

    /// The scenario calls with this key play from now on (`None`: the server's).
    pub(crate) fn set_backend_key_scenario(
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
    pub(crate) fn backend_scenario(&self, key: &BackendKey) -> &Scenario {
        key.scenario.as_deref().and_then(|n| self.0.config.scenarios.get(n)).unwrap_or_else(|| self.fallback())
    }

    /// The scenario an E-Document request for `iin` with `key` plays: a magic IIN's, else the
    /// key's, else the server's.
    pub(crate) fn edocument_scenario(&self, key: &BackendKey, iin: &Iin) -> &Scenario {
        self.0.config.scenarios.iter().find(|s| s.matches(&[iin])).unwrap_or_else(|| self.backend_scenario(key))
    }

    /// The result an image endpoint answers with `key` for `code`'s technology, as its scenario
    /// scripts it, merged with the scenario's fields.
    pub(crate) fn backend_image_result(&self, key: &BackendKey, code: TechnologyCode) -> Value {
        let scenario = self.backend_scenario(key);
        let outcome = scenario.outcome(code);
        let scope = self.scope(key.api_key.as_str());
        let today = self.now_in(scope.as_deref()).date();
        let mut generator = self.generator_in(scope.as_deref()).lock().unwrap_or_else(PoisonError::into_inner);
        let subject = generator.subject(&Metadata::default(), today);
        let generated = generator.result(code, &outcome, &subject);
        drop(generator);
        let mut result = serde_json::to_value(generated).unwrap_or_default();
        scenario.apply_result(code, &mut result);
        result
    }

    /// `persons/` \[doc\]: registers a person unless one of its aliases is taken (for this key);
    /// answers the person, or the alias taken and by whom.
    pub(crate) fn register_person(
        &self,
        key: &BackendKey,
        photo_type: PhotoType,
        is_verified: bool,
        aliases: Vec<String>,
        image_bytes: usize,
    ) -> Result<Person, (String, Uuid)> {
        let scope = self.scope(key.api_key.as_str());
        let person_id = self.generator_in(scope.as_deref()).lock().unwrap_or_else(PoisonError::into_inner).session_id();
        let person = Person {
            person_id,
            api_key: key.api_key.as_str().to_owned(),
            photo_type: photo_type.as_str().to_owned(),
            is_verified,
            aliases,
            image_bytes,
            created_at: crate::clock::timestamp(self.now_in(scope.as_deref())),
        };
        self.lock().backend.register(person.clone(), self.0.config.max_sessions)?;
        self.changed();
        Ok(person)
    }

    /// The E-Document request \[doc, seen\] for `iin` and `phone` with `key`: a backend session
    /// with a new code, or why there is none.
    pub(crate) fn edocument_request(&self, key: &BackendKey, iin: &Iin, phone: &Phone) -> Result<Uuid, RequestRefused> {
        let scope = self.scope(key.api_key.as_str());
        let now = self.now_in(scope.as_deref());
        let request = Request {
            api_key: key.api_key.as_str(),
            iin,
            phone,
            scenario: self.edocument_scenario(key, iin),
            created_at: crate::clock::timestamp(now),
            today: now.date(),
        };
        let mut inner = self.lock();
        let mut generator = self.generator_in(scope.as_deref()).lock().unwrap_or_else(PoisonError::into_inner);
        let requested = inner.backend.request(&request, &mut generator, self.0.config.max_sessions);
        drop(generator);
        drop(inner);
        if requested.is_ok() {
            self.changed();
        }
        requested
    }

    /// The approval \[seen\] of backend session `id` with `code`. `None`: no such session. With
    /// `files`, the document's files are made (outside the lock).
    pub(crate) fn edocument_approve(&self, id: &Uuid, code: &str, files: bool) -> Option<Result<Value, ApproveError>> {
        let mut inner = self.lock();
        let approved = inner.backend.session_mut(id)?.apply(BackendCommand::Approve { code }).cloned();
        drop(inner);
        self.changed();
        Some(approved.map(|mut document| {
            if files {
                crate::session::generate::make_document_files(&mut document, |_| false);
                document["face_photo"] = Value::String(base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    crate::report::document::FACE_PHOTO,
                ));
            }
            document
        }))
    }

    pub(crate) fn backend_session(&self, id: &Uuid) -> Option<BackendSession> {
        self.lock().backend.session(id).cloned()
    }
}
