//! The Backend API's E-Document sessions (SPEC §13): a request for a citizen's document makes one,
//! with an SMS code "from 1414" \[doc\]; approving it with the right code answers the document. One
//! small state machine, beside `Session`'s: `BackendSession::approve` is the only way one changes.
//! Plain data, so the state file keeps them as they are.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Wrong codes a request survives; the last one ends it \[mock, as the page's three tries\].
pub(crate) const CODE_TRIES: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendState {
    /// The code was sent; approve is awaited.
    AwaitingCode,
    /// Approved: the document was answered.
    Received,
    /// Too many wrong codes: a new request is needed.
    Failed,
}

impl BackendState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingCode => "awaiting_code",
            Self::Received => "received",
            Self::Failed => "failed",
        }
    }
}

/// One E-Document backend session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackendSession {
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
// `person_id` is the name the API answers with.
#[allow(clippy::struct_field_names)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Person {
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

/// Why an approval was refused, each with the vendor's words where real client code shows them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApproveError {
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
    /// Approval with `code`: the right one (unless the scenario refuses every code) answers the
    /// document and ends the session; a wrong one counts, the last ends it.
    pub fn approve(&mut self, code: &str) -> Result<&Value, ApproveError> {
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

    #[test]
    fn the_transitions_of_an_approval() {
        let mut s = session(false);
        assert_eq!(s.approve("000000"), Err(ApproveError::WrongCode { left: 2 }));
        assert_eq!(s.approve(" 123456 ").cloned(), Ok(serde_json::json!({"result": true})), "the right code");
        assert_eq!(s.state, BackendState::Received);
        assert_eq!(s.approve("123456"), Err(ApproveError::AlreadyReceived), "a second approval");

        let mut s = session(false);
        for left in [2, 1, 0] {
            assert_eq!(s.approve("999999"), Err(ApproveError::WrongCode { left }));
        }
        assert_eq!(s.state, BackendState::Failed, "the third wrong code ends it");
        assert_eq!(s.approve("123456"), Err(ApproveError::NotRequested), "a new request is needed");

        let mut s = session(true);
        assert_eq!(s.approve("123456"), Err(ApproveError::WrongCode { left: 2 }), "WRONG_OTP refuses the right code");
    }
}
