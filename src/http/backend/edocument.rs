//! The Backend API's E-Document by SMS code (SPEC §13): a request for a citizen's document sends
//! a code from 1414 \[doc\]; its approval with the code answers the document \[seen\].

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::organisation;
use crate::domain::backend::Service;
use crate::domain::{FieldErrors, Iin, Phone, drf};
use crate::http::ApiError;
use crate::http::extract::{BodyBytes, json_object, required_strings};
use crate::http::fault;
use crate::journal::Notes;
use crate::session::backend::{ApproveError, RequestRefused};
use crate::state::{AppState, Scripted};

/// `POST /api/v1/backend/e-document/online-access/request/identity_card/`: JSON `api_key`, `iin`,
/// `phone` \[seen\] → `{"backend_session_id"}`; an SMS code goes to the phone from 1414 \[doc\].
#[utoipa::path(post, path = "/api/v1/backend/e-document/online-access/request/identity_card/", tag = "vendor Backend API",
    request_body(content = crate::http::openapi::EdocumentRequestBody, description = "JSON [seen]"),
    responses(
        (status = 200, description = "The backend session awaiting its SMS code", body = crate::http::openapi::BackendSessionCreated),
        (status = 400, description = "Invalid IIN, a bad phone, a request already awaiting its code, or a subscription missing", body = crate::http::openapi::FieldErrors),
        (status = 403, description = "No organisation has this api_key", body = crate::http::openapi::Detail),
        (status = 404, description = "Subject not found in MCDB (as a scenario scripts it)", body = crate::http::openapi::Detail),
        (status = 424, description = "Government service error (as a scenario's fault scripts it)", body = crate::http::openapi::Detail),
    ))]
pub(crate) async fn edocument_request(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let [key, iin, phone] = required_strings(&body, ["api_key", "iin", "phone"])?;
    let key = organisation(&state, &notes, &key, Service::Edocument)?;
    let iin = Iin::parse(iin.trim()).map_err(|_| ApiError::bad_request("Invalid IIN"))?;
    let phone = Phone::parse(phone.trim()).map_err(|e| ApiError::field(&["phone"], e.to_string()))?;
    let scenario = state.edocument_scenario(&key, &iin).name.clone();
    fault::meet(&state, &notes, Scripted::Scenario(&scenario)).await?;
    match state.edocument_request(&key, &iin, &phone) {
        Ok(id) => {
            notes.session(id);
            Ok(super::answer(&json!({"backend_session_id": id})))
        }
        Err(RequestRefused::SubjectNotFound) => Err(ApiError::not_found("Subject not found in MCDB")),
        Err(RequestRefused::AlreadyRequested) => {
            Err(ApiError::bad_request("You have already requested a document for this session"))
        }
    }
}

/// `POST /api/v1/backend/e-document/online-access/approve/`: JSON `backend_session_id`, `code`,
/// `file`, `file_type` (no `api_key`) \[seen\] → the document.
#[utoipa::path(post, path = "/api/v1/backend/e-document/online-access/approve/", tag = "vendor Backend API",
    request_body(content = crate::http::openapi::EdocumentApproveBody, description = "JSON [seen]"),
    responses(
        (status = 200, description = "The document: result_json.common.{docOwner, docNumber, docIssuer}, extra, gender [seen]; with file: true also document_pdf, document_image, face_photo [seen]", body = Object),
        (status = 400, description = "A bad field, a wrong code, an approval without a request, a second approval", body = crate::http::openapi::FieldErrors),
    ))]
pub(crate) async fn edocument_approve(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let mut errors = FieldErrors::new();
    let ids = required_strings(&body, ["backend_session_id", "code"]);
    let (id, code) = match ids {
        Ok([id, code]) => (id, code),
        Err(ApiError::Fields(e)) => {
            errors.extend(e);
            (String::new(), String::new())
        }
        Err(other) => return Err(other),
    };
    let id = match uuid::Uuid::parse_str(id.trim()) {
        Ok(id) => Some(id),
        Err(_) if !id.is_empty() => {
            errors.push(&["backend_session_id"], "Must be a valid UUID.");
            None
        }
        Err(_) => None,
    };
    let six_digits = code.trim().len() == 6 && code.trim().bytes().all(|b| b.is_ascii_digit());
    if !code.is_empty() && !six_digits {
        errors.push(&["code"], "The code has 6 digits.");
    }
    let files = match body.get("file") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.push(&["file"], drf::NOT_A_BOOLEAN);
            false
        }
    };
    match body.get("file_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t == "pdf" => {}
        Some(Value::String(t)) => errors.push(&["file_type"], drf::not_a_choice(t)),
        Some(other) => errors.push(&["file_type"], drf::not_a_choice(&other.to_string())),
    }
    errors.into_result(()).map_err(ApiError::Fields)?;
    let Some(id) = id else { return Err(ApiError::bad_request("The request could not be read.")) };
    notes.session(id);
    fault::meet(&state, &notes, Scripted::BackendSession(&id)).await?;
    match state.edocument_approve(&id, &code, files) {
        Some(Ok(document)) => Ok(super::answer(&document)),
        Some(Err(refused)) => Err(ApiError::bad_request(refused.to_string())),
        None => Err(ApiError::bad_request(ApproveError::NotRequested.to_string())),
    }
}
