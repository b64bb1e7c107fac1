//! The per-technology results a session reports, with the vendor's field names and types
//! (`prediction` is a string, dates are strings, ...). Plain data: generated in `generate`,
//! serialized as they are by the result endpoint.

#![expect(
    clippy::struct_field_names,
    reason = "the fields are the vendor's names (`docOwner`, `nameRu`, `date_of_birth`...), not ours to shorten"
)]

use serde::Serialize;

use crate::domain::FailureReason;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum TechResult {
    Liveness(LivenessResult),
    Face2Face(Face2FaceResult),
    Edocument(EdocumentResult),
    DocumentRecognition(DocumentRecognitionResult),
}

/// `liveness_result` \[doc\].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct LivenessResult {
    pub result: bool,
    pub eye_closed: bool,
    pub prediction: String,
    pub face_center: bool,
    pub face_direction: String,
    pub failure_reason: Option<FailureReason>,
}

/// `face2face_result` \[seen\].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Face2FaceResult {
    pub result: bool,
    pub prediction: String,
    pub prediction_percent: String,
}

/// `edocument_result` \[seen\]: the state database's answer about the subject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct EdocumentResult {
    pub result: bool,
    pub phone: String,
    pub result_json: EdocumentJson,
    pub extra: EdocumentExtra,
    pub gender: String,
    /// The document as a PDF and as an image, base64 \[doc\]: `null` until made (`end` fills them
    /// for a pass unless the scenario leaves them out; the generate-files call makes them later).
    pub document_pdf: Option<String>,
    pub document_image: Option<String>,
}

/// The E-Document result's file fields, which the vendor may fail to make \[doc: the
/// "generate files" feature\].
pub(crate) const DOCUMENT_FILES: [&str; 2] = ["document_pdf", "document_image"];

/// About how many bytes the two files take in a result, base64 (a test checks it): what a
/// session with E-Document holds for them in the store's count (`--max-store-bytes`).
pub(crate) const DOCUMENT_FILES_HELD: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct EdocumentJson {
    pub common: EdocumentCommon,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EdocumentCommon {
    pub doc_owner: DocOwner,
    pub doc_number: String,
    pub doc_issuer: DocIssuer,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DocOwner {
    pub iin: String,
    pub first_name: String,
    pub last_name: String,
    pub middle_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct DocIssuer {
    #[serde(rename = "nameRu")]
    pub name_ru: String,
    #[serde(rename = "nameEn")]
    pub name_en: String,
    #[serde(rename = "nameKk")]
    pub name_kk: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct EdocumentExtra {
    pub date_of_birth: String,
    pub date_of_issue: String,
    pub date_of_expire: String,
}

/// `document_recognition_result` \[doc\]; the docs' example ends with "...", so the fields after
/// `authority` are \[mock\].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct DocumentRecognitionResult {
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
