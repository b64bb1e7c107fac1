//! The Backend API's E-Document by SMS code (SPEC §13): a request for a citizen's document sends
//! a code from 1414 \[doc\]; its approval with the code answers the document \[seen\].

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::organisation;
use crate::domain::backend::Service;
use crate::domain::{FieldErrors, Iin, Phone, drf};
use crate::http::ApiError;
use crate::http::extract::{BodyBytes, typed};
use crate::http::fault;
use crate::journal::Notes;
use crate::session::backend::{ApproveError, RequestRefused};
use crate::state::{AppState, Scripted};
use crate::wire::field::Field;

/// The E-Document request body \[seen\].
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct EdocumentRequestBody {
    /// The organisation's Backend Api Key.
    #[serde(default)]
    #[schema(value_type = String)]
    api_key: Field<String>,
    /// 12 digits with a valid check digit.
    #[serde(default)]
    #[schema(value_type = String)]
    iin: Field<String>,
    /// 77 and nine digits.
    #[serde(default)]
    #[schema(value_type = String)]
    phone: Field<String>,
}

/// The E-Document request's answer \[seen\].
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BackendSessionCreated {
    backend_session_id: Uuid,
}

/// The E-Document approval body \[seen\]: no api_key.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct EdocumentApproveBody {
    #[serde(default)]
    #[schema(value_type = String)]
    backend_session_id: Field<String>,
    /// The 6-digit SMS code.
    #[serde(default)]
    #[schema(value_type = String)]
    code: Field<String>,
    /// With true, the document's files too.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    file: Field<bool>,
    /// pdf.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    file_type: Field<String>,
    /// Keys approve does not take (an `api_key`, say): ignored, with a lint warning.
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: serde_json::Map<String, serde_json::Value>,
}

/// `POST /api/v1/backend/e-document/online-access/request/identity_card/`: JSON `api_key`, `iin`,
/// `phone` \[seen\] → `{"backend_session_id"}`; an SMS code goes to the phone from 1414 \[doc\].
#[utoipa::path(post, path = crate::domain::paths::EDOCUMENT_REQUEST, tag = "vendor Backend API",
    request_body(content = EdocumentRequestBody, description = "JSON [seen]"),
    responses(
        (status = 200, description = "The backend session awaiting its SMS code", body = BackendSessionCreated),
        (status = 400, description = "Invalid IIN, a bad phone, a request already awaiting its code, or a subscription missing", body = crate::http::error::FieldErrorsBody),
        (status = 403, description = "No organisation has this api_key", body = crate::http::error::Detail),
        (status = 404, description = "Subject not found in MCDB (as a scenario scripts it)", body = crate::http::error::Detail),
        (status = 424, description = "Government service error (as a scenario's fault scripts it)", body = crate::http::error::Detail),
    ))]
pub(crate) async fn edocument_request(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let body: EdocumentRequestBody = typed(&body)?;
    let mut errors = FieldErrors::new();
    let fields = [("api_key", &body.api_key), ("iin", &body.iin), ("phone", &body.phone)];
    let [key, iin, phone] = fields.map(|(name, field)| field.required_text(&[name], &mut errors).unwrap_or_default());
    errors.into_result(())?;
    let key = organisation(&state, &notes, &key, Service::Edocument)?;
    let iin = Iin::parse(iin.trim()).map_err(|_| ApiError::bad_request("Invalid IIN"))?;
    let phone = Phone::parse(phone.trim()).map_err(|e| ApiError::field(&["phone"], e.to_string()))?;
    let scenario = state.edocument_scenario(&key, &iin).name.clone();
    fault::meet(&state, &notes, Scripted::Scenario { name: &scenario, key: key.api_key.as_str() }).await?;
    match state.edocument_request(&key, &iin, &phone) {
        Ok(id) => {
            notes.session(id);
            Ok(Json(BackendSessionCreated { backend_session_id: id }).into_response())
        }
        Err(RequestRefused::SubjectNotFound) => Err(ApiError::not_found("Subject not found in MCDB")),
        Err(RequestRefused::AlreadyRequested) => {
            Err(ApiError::bad_request("You have already requested a document for this session"))
        }
    }
}

/// `POST /api/v1/backend/e-document/online-access/approve/`: JSON `backend_session_id`, `code`,
/// `file`, `file_type` (no `api_key`) \[seen\] → the document.
#[utoipa::path(post, path = crate::domain::paths::EDOCUMENT_APPROVE, tag = "vendor Backend API",
    request_body(content = EdocumentApproveBody, description = "JSON [seen]"),
    responses(
        (status = 200, description = "The document: result_json.common.{docOwner, docNumber, docIssuer}, extra, gender [seen]; with file: true also document_pdf, document_image, face_photo [seen]", body = Object),
        (status = 400, description = "A bad field, a wrong code, an approval without a request, a second approval", body = crate::http::error::FieldErrorsBody),
    ))]
pub(crate) async fn edocument_approve(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let body: EdocumentApproveBody = typed(&body)?;
    for key in body.unknown.keys() {
        notes.lint_here(
            "unknown-key",
            format!("unknown key {key} (in the body) is ignored: approve takes backend_session_id, code, file and file_type, and no api_key"),
        );
    }
    let mut errors = FieldErrors::new();
    let id = body.backend_session_id.required_text(&["backend_session_id"], &mut errors);
    // DRF's CharField reads a number as its text [seen: clients send the code as an integer].
    let code = body.code.char_field(&["code"], &mut errors);
    let id = id.and_then(|id| match Uuid::parse_str(id.trim()) {
        Ok(id) => Some(id),
        Err(_) => errors.push_none(&["backend_session_id"], "Must be a valid UUID."),
    });
    let six_digits = |code: &str| code.trim().len() == 6 && code.trim().bytes().all(|b| b.is_ascii_digit());
    if code.as_deref().is_some_and(|code| !six_digits(code)) {
        errors.push(&["code"], "The code has 6 digits.");
    }
    let files = match &body.file {
        Field::Absent | Field::Null => false,
        Field::Given(b) => *b,
        Field::Wrong(_) => {
            errors.push(&["file"], drf::NOT_A_BOOLEAN);
            false
        }
    };
    match &body.file_type {
        Field::Absent | Field::Null => {}
        Field::Given(t) if t == "pdf" => {}
        Field::Given(t) => errors.push(&["file_type"], drf::not_a_choice(t)),
        Field::Wrong(other) => errors.push(&["file_type"], drf::not_a_choice(&other.to_string())),
    }
    let (Some(id), Some(code)) = (id, code) else { return Err(ApiError::Fields(errors)) };
    errors.into_result(())?;
    notes.session(id);
    fault::meet(&state, &notes, Scripted::BackendSession(&id)).await?;
    match state.edocument_approve(&id, &code, files) {
        Some(Ok(document)) => Ok(super::answer(&document)),
        Some(Err(refused)) => Err(ApiError::bad_request(refused.to_string())),
        None => Err(ApiError::bad_request(ApproveError::NotRequested.to_string())),
    }
}
