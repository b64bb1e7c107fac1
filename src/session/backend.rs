//! The Backend API's E-Document sessions and persons (SPEC §13), with their rules: a request for a
//! citizen's document makes a backend session with an SMS code "from 1414" \[doc\] unless its
//! scenario scripts the subject missing or a request for that IIN already awaits its code;
//! approving it with the right code answers the document (`BackendSession::apply`, the one way a
//! backend session changes). A person's aliases are unique per organisation key \[doc\]. The store
//! of both keeps the newest, up to a limit. Plain data, so the state file keeps them as they are.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::Generator;
use crate::domain::{Iin, Outcome, Phone, TechnologyCode};
use crate::scenario::Scenario;

/// Wrong codes a request survives; the last one ends it \[mock, as the page's three tries\].
pub(crate) const CODE_TRIES: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BackendState {
    /// The code was sent; approve is awaited.
    AwaitingCode,
    /// Approved: the document was answered.
    Received,
    /// Too many wrong codes: a new request is needed.
    Failed,
}

impl BackendState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingCode => "awaiting_code",
            Self::Received => "received",
            Self::Failed => "failed",
        }
    }
}

/// One E-Document backend session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BackendSession {
    pub id: Uuid,
    /// The organisation key that made the request.
    pub api_key: String,
    pub iin: String,
    pub phone: String,
    pub otp: String,
    pub wrong_codes: u8,
    pub state: BackendState,
    /// The scenario the session plays (a magic IIN's, the key's, or the server's).
    pub scenario: String,
    /// Whether the scenario scripts the code to be refused whatever it is (`WRONG_OTP`).
    pub codes_refused: bool,
    pub created_at: String,
    /// The document answered on approval, without its files (they are made when asked for).
    pub document: Value,
    /// Approve calls each of the scenario's `edocument_approve` fault rules has hit.
    #[serde(default)]
    pub fault_calls: HashMap<usize, u32>,
}

/// A person registered through `persons/` \[doc\].
#[expect(clippy::struct_field_names, reason = "`person_id` is the name the API answers with")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Person {
    pub person_id: Uuid,
    /// The organisation key that registered the person (not shown by the API).
    #[serde(skip_serializing)]
    pub api_key: String,
    pub photo_type: String,
    pub is_verified: bool,
    pub aliases: Vec<String>,
    /// The photo's size in bytes; the photo itself is not kept.
    pub image_bytes: usize,
    pub created_at: String,
}

/// Why a request for a document made no backend session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestRefused {
    /// The scenario scripts the subject missing from the Mobile Citizen Database (any scripted
    /// E-Document failure but `WRONG_OTP`).
    SubjectNotFound,
    /// A request for this IIN with this key already awaits its code.
    AlreadyRequested,
}

/// What changes a backend session.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BackendCommand<'a> {
    /// Approval with `code`.
    Approve { code: &'a str },
}

/// Why an approval was refused, each with the vendor's words where real client code shows them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApproveError {
    /// \[seen\]
    #[error("EDocument for this session has already been received")]
    AlreadyReceived,
    /// \[seen\]: a session ended by wrong codes must be requested again.
    #[error("You have not sent a request for access to an e-document")]
    NotRequested,
    /// \[mock: no wording is public\]
    #[error("Invalid code. Attempts left: {left}")]
    WrongCode { left: u8 },
}

impl BackendSession {
    /// The one way a backend session changes. Approval: the right code (unless the scenario
    /// refuses every code) answers the document and ends the session; a wrong one counts, the
    /// last ends it.
    pub(crate) fn apply(&mut self, command: BackendCommand<'_>) -> Result<&Value, ApproveError> {
        let BackendCommand::Approve { code } = command;
        match self.state {
            BackendState::Received => return Err(ApproveError::AlreadyReceived),
            BackendState::Failed => return Err(ApproveError::NotRequested),
            BackendState::AwaitingCode => {}
        }
        if code.trim() != self.otp || self.codes_refused {
            self.wrong_codes += 1;
            let left = CODE_TRIES.saturating_sub(self.wrong_codes);
            if left == 0 {
                self.state = BackendState::Failed;
            }
            return Err(ApproveError::WrongCode { left });
        }
        self.state = BackendState::Received;
        Ok(&self.document)
    }
}

/// What a request for a document names.
pub(crate) struct Request<'a> {
    pub api_key: &'a str,
    pub iin: &'a Iin,
    pub phone: &'a Phone,
    pub scenario: &'a Scenario,
    /// When it came, as the admin API shows it.
    pub created_at: String,
    pub today: time::Date,
}

/// The backend sessions and persons, newest kept.
#[derive(Default)]
pub(crate) struct BackendStore {
    sessions: HashMap<Uuid, BackendSession>,
    order: VecDeque<Uuid>,
    persons: VecDeque<Person>,
    /// Who holds each alias, by organisation key: aliases prevent duplicates \[doc\].
    aliases: HashMap<(String, String), Uuid>,
}

impl BackendStore {
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

    pub(crate) fn session(&self, id: &Uuid) -> Option<&BackendSession> {
        self.sessions.get(id)
    }

    pub(crate) fn session_mut(&mut self, id: &Uuid) -> Option<&mut BackendSession> {
        self.sessions.get_mut(id)
    }

    pub(crate) fn persons(&self) -> impl Iterator<Item = &Person> {
        self.persons.iter()
    }

    /// A request for a document: refused as its scenario scripts or while one for the same IIN
    /// and key awaits its code; else a backend session with a new code, stored (the oldest go
    /// past `limit`). Its id, code and document are drawn from `generator`.
    pub(crate) fn request(
        &mut self,
        request: &Request<'_>,
        generator: &mut Generator,
        limit: usize,
    ) -> Result<Uuid, RequestRefused> {
        let code = TechnologyCode::Ed;
        let codes_refused = match request.scenario.outcome(code) {
            Outcome::Passed => false,
            Outcome::Failed(reason) if reason.kind == "WRONG_OTP" => true,
            Outcome::Failed(_) => return Err(RequestRefused::SubjectNotFound),
        };
        let pending = self.sessions.values().any(|s| {
            s.state == BackendState::AwaitingCode && s.iin == request.iin.as_str() && s.api_key == request.api_key
        });
        if pending {
            return Err(RequestRefused::AlreadyRequested);
        }
        let id = generator.session_id();
        let otp = generator.otp();
        let subject = generator.subject_with(Some(request.iin.clone()), Some(request.phone.clone()), request.today);
        let mut document = serde_json::to_value(generator.result(code, &Outcome::Passed, &subject)).unwrap_or_default();
        request.scenario.apply_result(code, &mut document);
        let session = BackendSession {
            id,
            api_key: request.api_key.to_owned(),
            iin: request.iin.as_str().to_owned(),
            phone: request.phone.as_str().to_owned(),
            otp,
            wrong_codes: 0,
            state: BackendState::AwaitingCode,
            scenario: request.scenario.name.clone(),
            codes_refused,
            created_at: request.created_at.clone(),
            document,
            fault_calls: HashMap::new(),
        };
        while self.order.len() >= limit.max(1) {
            let Some(old) = self.order.pop_front() else { break };
            self.sessions.remove(&old);
        }
        self.order.push_back(id);
        self.sessions.insert(id, session);
        Ok(id)
    }

    /// The backend sessions and persons of organisation key `key` gone (its reset, SPEC §16).
    pub(crate) fn remove_key(&mut self, key: &str) {
        self.sessions.retain(|_, s| s.api_key != key);
        self.order.retain(|id| self.sessions.contains_key(id));
        self.persons.retain(|p| p.api_key != key);
        self.aliases.retain(|(owner, _), _| owner != key);
    }

    /// Registers `person` unless one of its aliases is taken for its key: then the alias and who
    /// holds it. The oldest persons go past `limit`.
    pub(crate) fn register(&mut self, person: Person, limit: usize) -> Result<(), (String, Uuid)> {
        for alias in &person.aliases {
            if let Some(holder) = self.aliases.get(&(person.api_key.clone(), alias.clone())) {
                return Err((alias.clone(), *holder));
            }
        }
        while self.persons.len() >= limit.max(1) {
            let Some(gone) = self.persons.pop_front() else { break };
            for alias in gone.aliases {
                self.aliases.remove(&(gone.api_key.clone(), alias));
            }
        }
        for alias in &person.aliases {
            self.aliases.insert((person.api_key.clone(), alias.clone()), person.person_id);
        }
        self.persons.push_back(person);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(codes_refused: bool) -> BackendSession {
        BackendSession {
            id: Uuid::nil(),
            api_key: "k".into(),
            iin: "900101300017".into(),
            phone: "77011234567".into(),
            otp: "123456".into(),
            wrong_codes: 0,
            state: BackendState::AwaitingCode,
            scenario: "happy-path".into(),
            codes_refused,
            created_at: String::new(),
            document: serde_json::json!({"result": true}),
            fault_calls: HashMap::new(),
        }
    }

    fn approve(s: &mut BackendSession, code: &str) -> Result<Value, ApproveError> {
        s.apply(BackendCommand::Approve { code }).cloned()
    }

    #[test]
    fn the_transitions_of_an_approval() {
        let mut s = session(false);
        assert_eq!(approve(&mut s, "000000"), Err(ApproveError::WrongCode { left: 2 }));
        assert_eq!(approve(&mut s, " 123456 "), Ok(serde_json::json!({"result": true})), "the right code");
        assert_eq!(s.state, BackendState::Received);
        assert_eq!(approve(&mut s, "123456"), Err(ApproveError::AlreadyReceived), "a second approval");

        let mut s = session(false);
        for left in [2, 1, 0] {
            assert_eq!(approve(&mut s, "999999"), Err(ApproveError::WrongCode { left }));
        }
        assert_eq!(s.state, BackendState::Failed, "the third wrong code ends it");
        assert_eq!(approve(&mut s, "123456"), Err(ApproveError::NotRequested), "a new request is needed");

        let mut s = session(true);
        assert_eq!(
            approve(&mut s, "123456"),
            Err(ApproveError::WrongCode { left: 2 }),
            "WRONG_OTP refuses the right code"
        );
    }

    #[test]
    fn a_request_waits_for_its_code_and_the_store_keeps_the_newest() {
        let (_, scenarios) = crate::Config::default().load().unwrap();
        let scenario = scenarios.get("happy-path").unwrap().clone();
        let iin = Iin::parse("900101300017").unwrap();
        let phone = Phone::parse("77011234567").unwrap();
        let today = time::macros::date!(2026 - 12 - 07);
        let request = |key| Request {
            api_key: key,
            iin: &iin,
            phone: &phone,
            scenario: &scenario,
            created_at: String::new(),
            today,
        };
        let mut store = BackendStore::default();
        let mut generator = Generator::new(Some(1));
        let first = store.request(&request("a"), &mut generator, 2).unwrap();
        assert_eq!(store.request(&request("a"), &mut generator, 2), Err(RequestRefused::AlreadyRequested));
        let other = store.request(&request("b"), &mut generator, 2).unwrap();
        assert_ne!(first, other, "another key asks for its own");
        store.session_mut(&first).unwrap().state = BackendState::Received;
        store.request(&request("a"), &mut generator, 2).unwrap();
        assert!(store.session(&first).is_none(), "the oldest went past the limit");
    }

    #[test]
    fn an_alias_is_held_once_per_key() {
        let person = |key: &str, alias: &str| Person {
            person_id: Uuid::new_v4(),
            api_key: key.into(),
            photo_type: "live".into(),
            is_verified: true,
            aliases: vec![alias.into()],
            image_bytes: 1,
            created_at: String::new(),
        };
        let mut store = BackendStore::default();
        let holder = person("a", "77011234567");
        let id = holder.person_id;
        store.register(holder, 10).unwrap();
        assert_eq!(store.register(person("a", "77011234567"), 10), Err(("77011234567".into(), id)));
        store.register(person("b", "77011234567"), 10).expect("another key may use it");
    }
}
