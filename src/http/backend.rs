//! The vendor's Backend API on kyc.biometric.kz (SPEC §13): endpoints an integrator's server calls
//! with the organisation's Backend Api Key \[doc\] — liveness of one photo, two faces compared,
//! documents read, persons registered, and a citizen's E-Document after an SMS code. Requests
//! are checked as the docs describe them (multipart files, JSON fields) with DRF's shapes and
//! wordings; the outcomes follow the scenarios (`state::backend`); the bodies are ours \[mock\].

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::ApiError;
use super::extract::{BodyBytes, json_object, required_strings};
use super::lint::doc;
use crate::domain::backend::{BackendKey, PhotoType, Service};
use crate::domain::scripting::Endpoint;
use crate::domain::{FieldErrors, Iin, ImageFormat, Phone, Photo, TechnologyCode, drf};
use crate::journal::{Lint, Notes};
use crate::session::backend::ApproveError;
use crate::state::AppState;
use crate::state::backend::EdocRequest;

pub(crate) const LIVENESS_PATH: &str = "/api/v1/backend/liveness/short/";
pub(crate) const FACE2FACE_PATH: &str = "/api/v1/backend/face2face/compare/";
pub(crate) const DOCUMENT_PARSE_PATH: &str = "/api/v1/backend/document/parse/";
pub(crate) const DOCUMENT_PROCESS_PATH: &str = "/api/v2/backend/document/process/";
pub(crate) const PERSONS_PATH: &str = "/api/v1/backend/persons/";
pub(crate) const EDOCUMENT_REQUEST_PATH: &str = "/api/v1/backend/e-document/online-access/request/identity_card/";
pub(crate) const EDOCUMENT_APPROVE_PATH: &str = "/api/v1/backend/e-document/online-access/approve/";

/// The Backend API's paths; the JSON ones are linted for their Content-Type as create is.
pub(crate) const PATHS: [&str; 7] = [
    LIVENESS_PATH,
    FACE2FACE_PATH,
    DOCUMENT_PARSE_PATH,
    DOCUMENT_PROCESS_PATH,
    PERSONS_PATH,
    EDOCUMENT_REQUEST_PATH,
    EDOCUMENT_APPROVE_PATH,
];
pub(crate) const JSON_PATHS: [&str; 3] = [PERSONS_PATH, EDOCUMENT_REQUEST_PATH, EDOCUMENT_APPROVE_PATH];

/// The most aliases one person takes \[mock\]: real ones are a phone, an IIN, a document number.
const MAX_ALIASES: usize = 100;

/// Django's and DRF's own wordings for files.
mod words {
    pub(super) const NO_FILE: &str = "No file was submitted.";
    pub(super) const EMPTY_FILE: &str = "The submitted file is empty.";
    pub(super) const NOT_A_FILE: &str = "The submitted data was not a file. Check the encoding type on the form.";
    pub(super) const NOT_AN_IMAGE: &str =
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image.";
}

/// A multipart form as read: text fields, and files by field (several per field allowed), with
/// their file names.
struct Upload {
    fields: HashMap<String, String>,
    files: HashMap<String, Vec<(String, Vec<u8>)>>,
}

impl Upload {
    /// Reads the form. A body that is not multipart is refused as DRF refuses it (415) and
    /// warned about; one too large 413, too slow 408, broken 400.
    async fn read(request: Request, state: &AppState, notes: &Notes, section: &'static str) -> Result<Self, ApiError> {
        let content_type =
            request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        if !content_type.starts_with("multipart/form-data") {
            notes.lint(Lint::new(
                "multipart-required",
                section,
                format!(
                    "this endpoint takes multipart/form-data (files and fields), not {}",
                    if content_type.is_empty() {
                        "a body without Content-Type".to_owned()
                    } else {
                        content_type.clone()
                    }
                ),
            ));
            return Err(ApiError::detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported media type \"{content_type}\" in request."),
            ));
        }
        let refused = |e: axum::extract::multipart::MultipartError| {
            let status = e.status();
            match crate::deadline::timed_out(&e) {
                Some(_) => ApiError::body_unread(&e),
                None if status == StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(state.max_body()),
                None => ApiError::bad_request(format!("Multipart form parse error - {}", e.body_text())),
            }
        };
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("Multipart form parse error - {}", e.body_text())))?;
        let mut upload = Self { fields: HashMap::new(), files: HashMap::new() };
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                // An empty form (no part at all) is read as DRF reads it: no fields.
                Err(e)
                    if upload.fields.is_empty()
                        && upload.files.is_empty()
                        && e.body_text().contains("incomplete multipart stream") =>
                {
                    break;
                }
                Err(e) => return Err(refused(e)),
            };
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.map_err(refused)?;
            match file_name {
                Some(file_name) => upload.files.entry(name).or_default().push((file_name, bytes.to_vec())),
                None => {
                    upload.fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        }
        Ok(upload)
    }

    /// The image in file field `name`, or why not, in Django's words.
    fn image(&self, name: &str, errors: &mut FieldErrors, required: bool) -> Option<&[u8]> {
        match self.files.get(name).and_then(|files| files.first()) {
            Some((_, bytes)) if bytes.is_empty() => errors.push(&[name], words::EMPTY_FILE),
            Some((_, bytes)) if ImageFormat::sniff(bytes).is_err() => errors.push(&[name], words::NOT_AN_IMAGE),
            Some((_, bytes)) => return Some(bytes),
            None if self.fields.contains_key(name) => errors.push(&[name], words::NOT_A_FILE),
            None if required => errors.push(&[name], words::NO_FILE),
            None => {}
        }
        None
    }
}

/// The organisation key of a request and its subscription to `service`, checked as the vendor
/// does \[seen: the messages real client code matches\]. A flow's key is told apart from an
/// unknown one (and warned about): the Backend API does not take flow keys.
fn organisation(
    state: &AppState,
    notes: &Notes,
    key: &str,
    service: Service,
    section: &'static str,
) -> Result<BackendKey, ApiError> {
    notes.api_key(key);
    let Some(found) = state.find_backend_key(key) else {
        if let Some(flow) = state.find_flow(key) {
            notes.lint(Lint::new(
                "flow-key-on-backend",
                section,
                format!(
                    "this api_key is the key of flow {:?}; the Backend API takes the organisation's Backend Api Key",
                    flow.name
                ),
            ));
            return Err(ApiError::detail(
                StatusCode::FORBIDDEN,
                "This api_key is a flow's key. The Backend API takes the organisation's Backend Api Key (GET /__admin/backend-keys lists them).",
            ));
        }
        return Err(ApiError::detail(
            StatusCode::FORBIDDEN,
            "No organisation has this api_key. Use the Backend Api Key of the organisation (GET /__admin/backend-keys lists them).",
        ));
    };
    if !found.started {
        return Err(ApiError::bad_request("Subscription has not started"));
    }
    if found.services.is_empty() {
        return Err(ApiError::bad_request("Client does not have subscription"));
    }
    if !found.has(service) {
        return Err(ApiError::bad_request(if service == Service::Edocument {
            "Client does not have access to E-Document technology"
        } else {
            "No active or future subscription for technology"
        }));
    }
    Ok(found)
}

/// `api_key` of a multipart form, into `errors` when missing or blank.
fn form_key(upload: &Upload, errors: &mut FieldErrors) -> String {
    match upload.fields.get("api_key").map(|k| k.trim()) {
        Some(key) if !key.is_empty() => return key.to_owned(),
        Some(_) => errors.push(&["api_key"], drf::BLANK),
        None => errors.push(&["api_key"], drf::REQUIRED),
    }
    String::new()
}

/// The result of an image endpoint, or its fault played.
async fn image_call(
    state: &AppState,
    endpoint: Endpoint,
    key: &BackendKey,
    code: Option<TechnologyCode>,
) -> Result<Option<Value>, ApiError> {
    match state.backend_image_call(endpoint, key, code, true) {
        Ok(result) => Ok(result),
        Err(fault) => {
            super::fault::play(Some(fault)).await?;
            // A fault with only a delay lets the call go on, as it does on the flows' endpoints.
            Ok(state.backend_image_call(endpoint, key, code, false).ok().flatten())
        }
    }
}

fn answer(body: &Value) -> Response {
    super::json_bytes(body.to_string())
}

/// `POST /api/v1/backend/liveness/short/`: multipart `api_key`, `image` \[doc\].
#[utoipa::path(post, path = "/api/v1/backend/liveness/short/", tag = "vendor Backend API",
    request_body(content_type = "multipart/form-data", description = "api_key (the organisation's Backend Api Key), image (a face photo: JPEG or PNG) [doc]"),
    responses(
        (status = 200, description = "The liveness check [mock: the fields of the flows' liveness_result]", body = Object),
        crate::http::openapi::ImageRefusals,
    ))]
pub(crate) async fn liveness_short(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    request: Request,
) -> Result<Response, ApiError> {
    let face = (Service::Liveness, Endpoint::LivenessShort, TechnologyCode::Ldhp);
    face_check(&state, &notes, request, &["image"], face).await
}

/// An endpoint that checks face photos (`files`, each required) and answers the scripted result of
/// `code`'s technology: liveness/short and face2face/compare.
async fn face_check(
    state: &AppState,
    notes: &Notes,
    request: Request,
    files: &[&str],
    (service, endpoint, code): (Service, Endpoint, TechnologyCode),
) -> Result<Response, ApiError> {
    let upload = Upload::read(request, state, notes, doc::BACKEND).await?;
    let mut errors = FieldErrors::new();
    let key = form_key(&upload, &mut errors);
    for file in files {
        upload.image(file, &mut errors, true);
    }
    errors.into_result(()).map_err(ApiError::Fields)?;
    let key = organisation(state, notes, &key, service, doc::BACKEND)?;
    let result = image_call(state, endpoint, &key, Some(code)).await?;
    Ok(answer(&result.unwrap_or_default()))
}

/// `POST /api/v1/backend/face2face/compare/`: multipart `api_key`, `img_1`, `img_2` \[doc\].
#[utoipa::path(post, path = "/api/v1/backend/face2face/compare/", tag = "vendor Backend API",
    request_body(content_type = "multipart/form-data", description = "api_key, img_1, img_2 (face photos: JPEG or PNG) [doc]"),
    responses(
        (status = 200, description = "The similarity of the two faces, fractional and in percent [doc; the fields of the flows' face2face_result: mock]", body = Object),
        crate::http::openapi::ImageRefusals,
    ))]
pub(crate) async fn face2face_compare(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    request: Request,
) -> Result<Response, ApiError> {
    let faces = (Service::Face2Face, Endpoint::Face2faceCompare, TechnologyCode::F2f);
    face_check(&state, &notes, request, &["img_1", "img_2"], faces).await
}

/// `POST /api/v1/backend/document/parse/`: multipart `api_key`, `frontside_image`,
/// `backside_image` (one of them at least), `country_code` \[doc\].
#[utoipa::path(post, path = "/api/v1/backend/document/parse/", tag = "vendor Backend API",
    request_body(content_type = "multipart/form-data", description = "api_key, frontside_image and/or backside_image (one is needed; JPEG or PNG), country_code (a string such as kz; the docs' table says File, their example sends the string) [doc]"),
    responses(
        (status = 200, description = "The document's data [mock: the fields of the flows' document_recognition_result, and country_code]", body = Object),
        crate::http::openapi::ImageRefusals,
    ))]
pub(crate) async fn document_parse(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    request: Request,
) -> Result<Response, ApiError> {
    let upload = Upload::read(request, &state, &notes, doc::BACKEND).await?;
    let mut errors = FieldErrors::new();
    let key = form_key(&upload, &mut errors);
    let front = upload.image("frontside_image", &mut errors, false).is_some();
    let back = upload.image("backside_image", &mut errors, false).is_some();
    let given = |f: &str| upload.files.contains_key(f) || upload.fields.contains_key(f);
    if !given("frontside_image") && !given("backside_image") {
        errors.push(&["non_field_errors"], "One of frontside_image or backside_image must be passed.");
    }
    // The docs' own example sends the string; a file holding it is read as text.
    let country = match (upload.fields.get("country_code"), upload.files.get("country_code").and_then(|f| f.first())) {
        (Some(text), _) => text.trim().to_owned(),
        (None, Some((_, bytes))) => String::from_utf8_lossy(bytes).trim().to_owned(),
        (None, None) => "kz".to_owned(),
    };
    if country.is_empty() || country.len() > 8 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        errors.push(&["country_code"], "A country code is two or three letters, such as kz.");
    }
    errors.into_result(()).map_err(ApiError::Fields)?;
    let key = organisation(&state, &notes, &key, Service::DocumentRecognition, doc::BACKEND)?;
    let mut result =
        image_call(&state, Endpoint::DocumentParse, &key, Some(TechnologyCode::Dr)).await?.unwrap_or_default();
    result["country_code"] = json!(country.to_lowercase());
    result["sides"] = json!({"frontside": front, "backside": back});
    Ok(answer(&result))
}

/// `POST /api/v2/backend/document/process/`: multipart `api_key`, `file` (several allowed) \[doc\].
#[utoipa::path(post, path = "/api/v2/backend/document/process/", tag = "vendor Backend API",
    request_body(content_type = "multipart/form-data", description = "api_key, file (one or more document images: JPEG or PNG, or PDF) [doc]"),
    responses(
        (status = 200, description = "One document per file [mock: {result, documents: [{file_name, ...document_recognition_result}]}]", body = Object),
        crate::http::openapi::ImageRefusals,
    ))]
pub(crate) async fn document_process(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    request: Request,
) -> Result<Response, ApiError> {
    let upload = Upload::read(request, &state, &notes, doc::BACKEND).await?;
    let mut errors = FieldErrors::new();
    let key = form_key(&upload, &mut errors);
    let files = upload.files.get("file").map(Vec::as_slice).unwrap_or_default();
    if files.is_empty() {
        let message = if upload.fields.contains_key("file") { words::NOT_A_FILE } else { words::NO_FILE };
        errors.push(&["file"], message);
    }
    for (i, (_, bytes)) in files.iter().enumerate() {
        let index = i.to_string();
        if bytes.is_empty() {
            errors.push(&["file", &index], words::EMPTY_FILE);
        } else if ImageFormat::sniff(bytes).is_err() && !bytes.starts_with(b"%PDF-") {
            errors.push(&["file", &index], "Upload a document image (JPEG or PNG) or a PDF.");
        }
    }
    errors.into_result(()).map_err(ApiError::Fields)?;
    let key = organisation(&state, &notes, &key, Service::DocumentRecognition, doc::BACKEND)?;
    let mut documents = Vec::with_capacity(files.len());
    for (name, _) in files {
        let mut document =
            image_call(&state, Endpoint::DocumentProcess, &key, Some(TechnologyCode::Dr)).await?.unwrap_or_default();
        document["file_name"] = json!(name);
        documents.push(document);
    }
    let passed = documents.iter().all(|d| d["result"] == json!(true));
    Ok(answer(&json!({"result": passed, "documents": documents})))
}

/// `POST /api/v1/backend/persons/`: JSON `api_key`, `image_b64`, `photo_type`, `is_verified`,
/// `aliases` \[doc\].
#[utoipa::path(post, path = "/api/v1/backend/persons/", tag = "vendor Backend API",
    request_body(content = crate::http::openapi::PersonBody, description = "JSON [doc]"),
    responses(
        (status = 200, description = "The person registered [mock]: {person_id, photo_type, is_verified, aliases, image_bytes, created_at}", body = Object),
        (status = 400, description = "A missing or bad field, an alias already taken, or a subscription missing", body = crate::http::openapi::FieldErrors),
        (status = 403, description = "No organisation has this api_key", body = crate::http::openapi::Detail),
    ))]
pub(crate) async fn persons(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let mut errors = FieldErrors::new();
    let key = match required_strings(&body, ["api_key"]) {
        Ok([key]) => key,
        Err(ApiError::Fields(e)) => {
            errors.extend(e);
            String::new()
        }
        Err(other) => return Err(other),
    };
    let image = match body.get("image_b64") {
        Some(Value::String(text)) => {
            Photo::parse_base64(text).map_err(|e| errors.push(&["image_b64"], e.message("image_b64"))).ok()
        }
        None => {
            errors.push(&["image_b64"], drf::REQUIRED);
            None
        }
        Some(Value::Null) => {
            errors.push(&["image_b64"], drf::NULL);
            None
        }
        Some(_) => {
            errors.push(&["image_b64"], drf::NOT_A_STRING);
            None
        }
    };
    let photo_type = match body.get("photo_type") {
        Some(Value::String(text)) => PhotoType::parse(text).or_else(|| {
            errors.push(&["photo_type"], drf::not_a_choice(text));
            None
        }),
        None => {
            errors.push(&["photo_type"], drf::REQUIRED);
            None
        }
        Some(other) => {
            errors.push(&["photo_type"], drf::not_a_choice(&other.to_string()));
            None
        }
    };
    let is_verified = match body.get("is_verified") {
        Some(Value::Bool(b)) => *b,
        None => {
            errors.push(&["is_verified"], drf::REQUIRED);
            false
        }
        Some(_) => {
            errors.push(&["is_verified"], drf::NOT_A_BOOLEAN);
            false
        }
    };
    let mut aliases = Vec::new();
    match body.get("aliases") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.len() > MAX_ALIASES => {
            errors
                .push(&["aliases"], format!("A person has at most {MAX_ALIASES} aliases; {} were sent.", items.len()));
        }
        Some(Value::Array(items)) => {
            let mut seen = std::collections::HashSet::new();
            for (i, item) in items.iter().enumerate() {
                match item.as_str().map(str::trim) {
                    Some(alias) if !alias.is_empty() && alias.len() <= 256 => {
                        if !seen.insert(alias) {
                            errors.push(&["aliases", &i.to_string()], "This alias is listed twice.");
                        }
                        aliases.push(alias.to_owned());
                    }
                    Some(_) => errors.push(&["aliases", &i.to_string()], "An alias is 1 to 256 characters."),
                    None => errors.push(&["aliases", &i.to_string()], drf::NOT_A_STRING),
                }
            }
        }
        Some(other) => errors.push(&["aliases"], drf::not_a_list(other)),
    }
    errors.into_result(()).map_err(ApiError::Fields)?;
    let (Some(image), Some(photo_type)) = (image, photo_type) else {
        return Err(ApiError::bad_request("The person could not be read."));
    };
    let key = organisation(&state, &notes, &key, Service::Persons, doc::BACKEND)?;
    image_call(&state, Endpoint::Persons, &key, None).await?;
    match state.register_person(&key, photo_type, is_verified, aliases, image.bytes().len()) {
        Ok(person) => Ok(answer(&serde_json::to_value(person).unwrap_or_default())),
        Err((alias, owner)) => Err(ApiError::field(
            &["aliases"],
            format!("A person with the alias \"{alias}\" is already registered (person_id {owner})."),
        )),
    }
}

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
    let key = organisation(&state, &notes, &key, Service::Edocument, doc::BACKEND)?;
    let iin = Iin::parse(iin.trim()).map_err(|_| ApiError::bad_request("Invalid IIN"))?;
    let phone = Phone::parse(phone.trim()).map_err(|e| ApiError::field(&["phone"], e.to_string()))?;
    let mut requested = state.edocument_request(&key, &iin, &phone, true);
    if let EdocRequest::Fault(fault) = requested {
        // A fault that only delays lets the call go on, as on the flows' endpoints.
        super::fault::play(Some(fault)).await?;
        requested = state.edocument_request(&key, &iin, &phone, false);
    }
    match requested {
        EdocRequest::Requested(id) => {
            notes.session(id);
            Ok(answer(&json!({"backend_session_id": id})))
        }
        EdocRequest::SubjectNotFound => Err(ApiError::not_found("Subject not found in MCDB")),
        EdocRequest::AlreadyRequested => {
            Err(ApiError::bad_request("You have already requested a document for this session"))
        }
        EdocRequest::Fault(_) => Err(ApiError::bad_request("The request met a scripted fault twice.")),
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
    let not_requested = || ApiError::bad_request(ApproveError::NotRequested.to_string());
    let mut outcome = state.edocument_approve(&id, &code, files, true).ok_or_else(not_requested)?;
    if let Err(fault) = outcome {
        // A fault that only delays lets the call go on, as on the flows' endpoints.
        super::fault::play(Some(fault)).await?;
        outcome = state.edocument_approve(&id, &code, files, false).ok_or_else(not_requested)?;
    }
    match outcome {
        Ok(Ok(document)) => Ok(answer(&document)),
        Ok(Err(refused)) => Err(ApiError::bad_request(refused.to_string())),
        Err(_) => Err(ApiError::bad_request("The request met a scripted fault twice.")),
    }
}
