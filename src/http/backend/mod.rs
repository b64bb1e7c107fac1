//! The vendor's Backend API on kyc.biometric.kz (SPEC §13): endpoints an integrator's server calls
//! with the organisation's Backend Api Key \[doc\] — liveness of one photo, two faces compared,
//! documents read, persons registered, and a citizen's E-Document after an SMS code. Requests
//! are checked as the docs describe them (multipart files, JSON fields) with DRF's shapes and
//! wordings; the outcomes follow the scenarios (`state::backend`); the bodies are ours \[mock\].

pub(crate) mod edocument;
pub(crate) mod persons;

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::ApiError;
use crate::body::form::{Accepts, Form, FormError};
use crate::domain::backend::{BackendKey, Service};
use crate::domain::{FieldErrors, ImageFormat, TechnologyCode, drf};
use crate::journal::Notes;
use crate::state::{AppState, Scripted};

/// How the Backend API's image endpoints refuse a request, for their OpenAPI descriptions.
pub(crate) enum ImageRefusals {}

impl utoipa::IntoResponses for ImageRefusals {
    fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::response::Response>> {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        [
            ("400", "A missing or bad field, or a subscription missing", "FieldErrorsBody"),
            ("403", "No organisation has this api_key", "Detail"),
            ("415", "Not multipart/form-data", "Detail"),
        ]
        .into_iter()
        .map(|(status, description, schema)| {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name(schema))).build();
            (
                status.to_owned(),
                ResponseBuilder::new().description(description).content("application/json", content).build().into(),
            )
        })
        .collect()
    }
}

/// Django's and DRF's own wordings for files.
mod words {
    pub(super) const NO_FILE: &str = "No file was submitted.";
    pub(super) const EMPTY_FILE: &str = "The submitted file is empty.";
    pub(super) const NOT_A_FILE: &str = "The submitted data was not a file. Check the encoding type on the form.";
    pub(super) const NOT_AN_IMAGE: &str =
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image.";
}

/// Reads a multipart form. A body that is not multipart is refused as DRF refuses it (415) and
/// warned about; one too large 413, too slow 408, broken 400.
async fn upload(request: Request, notes: &Notes) -> Result<Form, ApiError> {
    Form::read(request, Accepts::Multipart).await.map_err(|e| match e {
        FormError::NotAForm(content_type) => {
            let sent =
                if content_type.is_empty() { "a body without Content-Type".to_owned() } else { content_type.clone() };
            notes.lint_here(
                "multipart-required",
                format!("this endpoint takes multipart/form-data (files and fields), not {sent}"),
            );
            ApiError::detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported media type \"{content_type}\" in request."),
            )
        }
        FormError::Exceeded(exceeded) => ApiError::body_unread(&exceeded),
        FormError::Broken(why) => ApiError::bad_request(format!("Multipart form parse error - {why}")),
    })
}

/// The image in file field `name` of `form`, or why not, in Django's words.
fn image<'f>(form: &'f Form, name: &str, errors: &mut FieldErrors, required: bool) -> Option<&'f [u8]> {
    match form.files.get(name).and_then(|files| files.first()) {
        Some((_, bytes)) if bytes.is_empty() => errors.push(&[name], words::EMPTY_FILE),
        Some((_, bytes)) if ImageFormat::read(bytes).is_err() => errors.push(&[name], words::NOT_AN_IMAGE),
        Some((_, bytes)) => return Some(bytes.as_ref()),
        None if form.fields.contains_key(name) => errors.push(&[name], words::NOT_A_FILE),
        None if required => errors.push(&[name], words::NO_FILE),
        None => {}
    }
    None
}

/// The organisation key of a request and its subscription to `service`, checked as the vendor
/// does \[seen: the messages real client code matches\]. A flow's key is told apart from an
/// unknown one (and warned about): the Backend API does not take flow keys.
fn organisation(state: &AppState, notes: &Notes, key: &str, service: Service) -> Result<BackendKey, ApiError> {
    notes.api_key(key);
    let Some(found) = state.find_backend_key(key) else {
        if let Some(flow) = state.find_flow(key) {
            notes.lint_here(
                "flow-key-on-backend",
                format!(
                    "this api_key is the key of flow {:?}; the Backend API takes the organisation's Backend Api Key",
                    flow.name
                ),
            );
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
fn form_key(form: &Form, errors: &mut FieldErrors) -> String {
    match form.fields.get("api_key").map(|k| k.trim()) {
        Some(key) if !key.is_empty() => return key.to_owned(),
        Some(_) => errors.push(&["api_key"], drf::BLANK),
        None => errors.push(&["api_key"], drf::REQUIRED),
    }
    String::new()
}

/// The result an image endpoint answers with `key` for `code`'s technology, after the fault
/// rules its call meets (its scenario's, counted per scenario).
async fn image_call(
    state: &AppState,
    notes: &Notes,
    key: &BackendKey,
    code: TechnologyCode,
) -> Result<Value, ApiError> {
    let scenario = state.backend_scenario(key).name.clone();
    super::fault::meet(state, notes, Scripted::Scenario { name: &scenario, key: key.api_key.as_str() }).await?;
    Ok(state.backend_image_result(key, code))
}

fn answer(body: &Value) -> Response {
    super::json_bytes(body.to_string())
}

/// `POST /api/v1/backend/liveness/short/`: multipart `api_key`, `image` \[doc\].
#[utoipa::path(post, path = crate::domain::paths::LIVENESS_SHORT, tag = "vendor Backend API",
    request_body(content_type = "multipart/form-data", description = "api_key (the organisation's Backend Api Key), image (a face photo: JPEG or PNG) [doc]"),
    responses(
        (status = 200, description = "The liveness check [mock: the fields of the flows' liveness_result]", body = Object),
        ImageRefusals,
    ))]
pub(crate) async fn liveness_short(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    request: Request,
) -> Result<Response, ApiError> {
    face_check(&state, &notes, request, &["image"], (Service::Liveness, TechnologyCode::Ldhp)).await
}

/// An endpoint that checks face photos (`files`, each required) and answers the scripted result of
/// `code`'s technology: liveness/short and face2face/compare.
async fn face_check(
    state: &AppState,
    notes: &Notes,
    request: Request,
    files: &[&str],
    (service, code): (Service, TechnologyCode),
) -> Result<Response, ApiError> {
    let form = upload(request, notes).await?;
    let mut errors = FieldErrors::new();
    let key = form_key(&form, &mut errors);
    for file in files {
        image(&form, file, &mut errors, true);
    }
    errors.into_result(()).map_err(ApiError::Fields)?;
    let key = organisation(state, notes, &key, service)?;
    Ok(answer(&image_call(state, notes, &key, code).await?))
}

/// `POST /api/v1/backend/face2face/compare/`: multipart `api_key`, `img_1`, `img_2` \[doc\].
#[utoipa::path(post, path = crate::domain::paths::FACE2FACE_COMPARE, tag = "vendor Backend API",
    request_body(content_type = "multipart/form-data", description = "api_key, img_1, img_2 (face photos: JPEG or PNG) [doc]"),
    responses(
        (status = 200, description = "The similarity of the two faces, fractional and in percent [doc; the fields of the flows' face2face_result: mock]", body = Object),
        ImageRefusals,
    ))]
pub(crate) async fn face2face_compare(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    request: Request,
) -> Result<Response, ApiError> {
    face_check(&state, &notes, request, &["img_1", "img_2"], (Service::Face2Face, TechnologyCode::F2f)).await
}

/// `POST /api/v1/backend/document/parse/`: multipart `api_key`, `frontside_image`,
/// `backside_image` (one of them at least), `country_code` \[doc\].
#[utoipa::path(post, path = crate::domain::paths::DOCUMENT_PARSE, tag = "vendor Backend API",
    request_body(content_type = "multipart/form-data", description = "api_key, frontside_image and/or backside_image (one is needed; JPEG or PNG), country_code (a string such as kz; the docs' table says File, their example sends the string) [doc]"),
    responses(
        (status = 200, description = "The document's data [mock: the fields of the flows' document_recognition_result, and country_code]", body = Object),
        ImageRefusals,
    ))]
pub(crate) async fn document_parse(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    request: Request,
) -> Result<Response, ApiError> {
    let form = upload(request, &notes).await?;
    let mut errors = FieldErrors::new();
    let key = form_key(&form, &mut errors);
    let front = image(&form, "frontside_image", &mut errors, false).is_some();
    let back = image(&form, "backside_image", &mut errors, false).is_some();
    let given = |f: &str| form.files.contains_key(f) || form.fields.contains_key(f);
    if !given("frontside_image") && !given("backside_image") {
        errors.push(&["non_field_errors"], "One of frontside_image or backside_image must be passed.");
    }
    // The docs' own example sends the string; a file holding it is read as text.
    let country = match (form.fields.get("country_code"), form.files.get("country_code").and_then(|f| f.first())) {
        (Some(text), _) => text.trim().to_owned(),
        (None, Some((_, bytes))) => String::from_utf8_lossy(bytes).trim().to_owned(),
        (None, None) => "kz".to_owned(),
    };
    if country.is_empty() || country.len() > 8 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        errors.push(&["country_code"], "A country code is two or three letters, such as kz.");
    }
    errors.into_result(()).map_err(ApiError::Fields)?;
    let key = organisation(&state, &notes, &key, Service::DocumentRecognition)?;
    let mut result = image_call(&state, &notes, &key, TechnologyCode::Dr).await?;
    result["country_code"] = json!(country.to_lowercase());
    result["sides"] = json!({"frontside": front, "backside": back});
    Ok(answer(&result))
}

/// `POST /api/v2/backend/document/process/`: multipart `api_key`, `file` (several allowed) \[doc\].
#[utoipa::path(post, path = crate::domain::paths::DOCUMENT_PROCESS, tag = "vendor Backend API",
    request_body(content_type = "multipart/form-data", description = "api_key, file (one or more document images: JPEG or PNG, or PDF) [doc]"),
    responses(
        (status = 200, description = "One document per file [mock: {result, documents: [{file_name, ...document_recognition_result}]}]", body = Object),
        ImageRefusals,
    ))]
pub(crate) async fn document_process(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    request: Request,
) -> Result<Response, ApiError> {
    let form = upload(request, &notes).await?;
    let mut errors = FieldErrors::new();
    let key = form_key(&form, &mut errors);
    let files = form.files.get("file").map(Vec::as_slice).unwrap_or_default();
    if files.is_empty() {
        let message = if form.fields.contains_key("file") { words::NOT_A_FILE } else { words::NO_FILE };
        errors.push(&["file"], message);
    }
    for (i, (_, bytes)) in files.iter().enumerate() {
        let index = i.to_string();
        if bytes.is_empty() {
            errors.push(&["file", &index], words::EMPTY_FILE);
        } else if ImageFormat::read(bytes).is_err() && !bytes.starts_with(b"%PDF-") {
            errors.push(&["file", &index], "Upload a document image (JPEG or PNG) or a PDF.");
        }
    }
    errors.into_result(()).map_err(ApiError::Fields)?;
    let key = organisation(&state, &notes, &key, Service::DocumentRecognition)?;
    let mut documents = Vec::with_capacity(files.len());
    for (name, _) in files {
        let mut document = image_call(&state, &notes, &key, TechnologyCode::Dr).await?;
        document["file_name"] = json!(name);
        documents.push(document);
    }
    let passed = documents.iter().all(|d| d["result"] == json!(true));
    Ok(answer(&json!({"result": passed, "documents": documents})))
}
