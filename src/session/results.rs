//! The per-technology results a session reports, with the vendor's field names and types
//! (`prediction` is a string, dates are strings, ...). Plain data: generated in `generate`,
//! serialized as they are by the result endpoint.

use serde::Serialize;

/// Why a technology failed, as the vendor writes it: `{"type": "CALC_RESULT", "detail": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FailureReason {
    #[serde(rename = "type")]
    pub kind: String,
    pub detail: String,
}

impl FailureReason {
    pub fn new(kind: &str, detail: &str) -> Self {
        Self { kind: kind.to_owned(), detail: detail.to_owned() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TechResult {
    Liveness(LivenessResult),
    Face2Face(Face2FaceResult),
    Edocument(EdocumentResult),
    DocumentRecognition(DocumentRecognitionResult),
}

/// `liveness_result` [doc].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LivenessResult {
    pub result: bool,
    pub eye_closed: bool,
    pub prediction: String,
    pub face_center: bool,
    pub face_direction: String,
    pub failure_reason: Option<FailureReason>,
}

/// `face2face_result` [seen].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Face2FaceResult {
    pub result: bool,
    pub prediction: String,
    pub prediction_percent: String,
}

/// `edocument_result` [seen]: the state database's answer about the subject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdocumentResult {
    pub result: bool,
    pub phone: String,
    pub result_json: EdocumentJson,
    pub extra: EdocumentExtra,
    pub gender: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdocumentJson {
    pub common: EdocumentCommon,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EdocumentCommon {
    pub doc_owner: DocOwner,
    pub doc_number: String,
    pub doc_issuer: DocIssuer,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocOwner {
    pub iin: String,
    pub first_name: String,
    pub last_name: String,
    pub middle_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocIssuer {
    #[serde(rename = "nameRu")]
    pub name_ru: String,
    #[serde(rename = "nameEn")]
    pub name_en: String,
    #[serde(rename = "nameKk")]
    pub name_kk: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdocumentExtra {
    pub date_of_birth: String,
    pub date_of_issue: String,
    pub date_of_expire: String,
}

/// `document_recognition_result` [doc]; the docs' example ends with "...", so the fields after
/// `authority` are [mock].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentRecognitionResult {
    pub result: bool,
    pub first_name: String,
    pub last_name: String,
    pub patronymic: String,
    pub personal_number: String,
    pub date_of_birth: String,
    pub document_number: String,
    pub authority: String,
    pub date_of_issue: String,
    pub date_of_expiry: String,
}

/// The failure reasons the mock knows, per family. Liveness's `CALC_RESULT` / "Low overall
/// prediction" is the vendor's documented one; every other type and wording is [mock].
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
