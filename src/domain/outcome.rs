//! How a technology ends: passed, or failed with the vendor's `{"type", "detail"}` reason, and
//! the failure reasons the mock knows. Shared by the scenario scripts and the session state
//! machine (both import it from here).

/// How a technology ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed(FailureReason),
}

/// Why a technology failed, as the vendor writes it: `{"type": "CALC_RESULT", "detail": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FailureReason {
    #[serde(rename = "type")]
    pub kind: String,
    pub detail: String,
}

/// How a session whose verification failed ends in the vendor's result: `"status": "FAILED"` (the
/// flow.end webhook's failure example \[doc\]), or `"status": "FINISHED"` with
/// `flow_session_result: false`, which public client code also handles \[seen\]. A scenario
/// chooses (`failed_status`); FAILED unless it does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
pub enum FailedStatus {
    #[default]
    #[serde(rename = "FAILED")]
    Failed,
    #[serde(rename = "FINISHED")]
    Finished,
}

impl FailedStatus {
    /// The result's `status` of a failed session.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failed => "FAILED",
            Self::Finished => "FINISHED",
        }
    }
}

impl FailureReason {
    pub fn new(kind: &str, detail: &str) -> Self {
        Self { kind: kind.to_owned(), detail: detail.to_owned() }
    }
}

/// The failure reasons the mock knows, per family. Liveness's `CALC_RESULT` / "Low overall
/// prediction" is the vendor's documented one; every other type and wording is \[mock\].
pub mod reasons {
    use crate::domain::Family;

    pub const CALC_RESULT: &str = "CALC_RESULT";
    pub const EYES_CLOSED: &str = "EYES_CLOSED";
    pub const FACE_NOT_CENTERED: &str = "FACE_NOT_CENTERED";
    pub const WRONG_HEAD_POSITION: &str = "WRONG_HEAD_POSITION";
    pub const FACES_MISMATCH: &str = "FACES_MISMATCH";
    pub const SUBJECT_NOT_FOUND: &str = "SUBJECT_NOT_FOUND";
    pub const WRONG_OTP: &str = "WRONG_OTP";
    pub const DOCUMENT_UNREADABLE: &str = "DOCUMENT_UNREADABLE";

    /// `(type, detail)` pairs, the default (the most common) first.
    pub fn of(family: Family) -> &'static [(&'static str, &'static str)] {
        match family {
            Family::Liveness => &[
                (CALC_RESULT, "Low overall prediction"),
                (EYES_CLOSED, "Eyes are closed"),
                (FACE_NOT_CENTERED, "Face is not in the center of the frame"),
                (WRONG_HEAD_POSITION, "Head position does not match the instruction"),
            ],
            Family::Face2Face => &[(FACES_MISMATCH, "The faces on the photos do not match")],
            Family::Edocument => &[
                (SUBJECT_NOT_FOUND, "The subject was not found in the citizens' database"),
                (WRONG_OTP, "A wrong SMS code was entered 3 times"),
            ],
            Family::DocumentRecognition => &[(DOCUMENT_UNREADABLE, "The document on the image could not be read")],
        }
    }
}

impl FailureReason {
    /// The reason a technology of `family` fails with when nothing more specific is scripted.
    pub fn default_for(family: crate::domain::Family) -> Self {
        let (kind, detail) = reasons::of(family)[0];
        Self::new(kind, detail)
    }

    /// A known reason of `family` by its type.
    pub fn known(family: crate::domain::Family, kind: &str) -> Option<Self> {
        reasons::of(family).iter().find(|(k, _)| *k == kind).map(|(k, d)| Self::new(k, d))
    }
}
