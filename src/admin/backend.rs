//! `/__admin` for the Backend API: the organisation keys (list, add, delete, the scenario a key's
//! calls play), the E-Document backend sessions with their SMS codes, and the persons registered.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::domain::backend::{BackendKey, BackendKeySpec, Service};
use crate::http::ApiError;
use crate::http::extract::{JsonBody, QueryMap};
use crate::session::backend::BackendSession;
use crate::state::AppState;
use crate::state::backend::BackendKeyError;

/// An organisation key as the admin API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BackendKeyView {
    pub name: String,
    pub api_key: String,
    /// liveness, face2face, document_recognition, persons, edocument.
    #[schema(value_type = Vec<String>)]
    pub technologies: Vec<Service>,
    pub subscription_started: bool,
    pub scenario: Option<String>,
}

impl From<BackendKey> for BackendKeyView {
    fn from(k: BackendKey) -> Self {
        Self {
            name: k.name,
            api_key: k.api_key.as_str().to_owned(),
            technologies: k.services,
            subscription_started: k.started,
            scenario: k.scenario,
        }
    }
}

/// An E-Document backend session as the admin API shows it, its SMS code included.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BackendSessionView {
    pub backend_session_id: Uuid,
    pub api_key: String,
    pub iin: String,
    pub phone: String,
    pub otp: String,
    /// awaiting_code, received or failed.
    pub state: &'static str,
    pub wrong_codes: u8,
    pub scenario: String,
    pub created_at: String,
}

impl From<BackendSession> for BackendSessionView {
    fn from(s: BackendSession) -> Self {
        Self {
            backend_session_id: s.id,
            api_key: s.api_key,
            iin: s.iin,
            phone: s.phone,
            otp: s.otp,
            state: s.state.as_str(),
            wrong_codes: s.wrong_codes,
            scenario: s.scenario,
            created_at: s.created_at,
        }
    }
}

fn key_error(e: &BackendKeyError) -> ApiError {
    match e {
        BackendKeyError::DuplicateKey => ApiError::field(&["api_key"], e.to_string()),
        BackendKeyError::UnknownScenario { .. } => ApiError::field(&["scenario"], e.to_string()),
        BackendKeyError::NotFound => ApiError::NotFound,
    }
}

#[utoipa::path(get, path = "/backend-keys", tag = "admin", responses((status = 200, description = "The organisation keys of the Backend API", body = Vec<BackendKeyView>)))]
pub(crate) async fn list_backend_keys(State(state): State<AppState>) -> Json<Vec<BackendKeyView>> {
    Json(state.backend_keys().into_iter().map(BackendKeyView::from).collect())
}

/// `POST /__admin/backend-keys` with `{"name", "api_key"?, "technologies"?, "subscription_started"?,
/// "scenario"?, "seed"?}`: a key is generated when none is given (from the seed and the name, with
/// a seed); every technology when none is named.
#[utoipa::path(post, path = "/backend-keys", tag = "admin", request_body = Object,
    responses((status = 201, description = "Created", body = BackendKeyView), (status = 400, description = "Bad request", body = crate::http::error::FieldErrorsBody)))]
pub(crate) async fn add_backend_key(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<impl IntoResponse, ApiError> {
    let spec: BackendKeySpec = crate::http::extract::typed_body(body)?;
    let (seed, name) = (spec.seed, spec.name.clone());
    let mut generate = || state.generate_api_key(seed, &name);
    let key = spec.into_key("", Some(&mut generate)).map_err(|e| {
        let field = e.path.split(['.', '[']).next().unwrap_or("non_field_errors").to_owned();
        ApiError::field(&[&field], format!("{} ({})", e.reason, e.path))
    })?;
    let added = state.add_backend_key(key).map_err(|e| key_error(&e))?;
    Ok((StatusCode::CREATED, Json(BackendKeyView::from(added))))
}

#[utoipa::path(delete, path = "/backend-keys/{api_key}", tag = "admin", params(("api_key" = String, Path), ("purge" = Option<bool>, Query, description = "Also remove everything the key owns (SPEC §16)")),
    responses((status = 204, description = "Deleted; its backend sessions stay unless purge=true"), (status = 400, description = "purge is not true or false", body = crate::http::error::FieldErrorsBody), (status = 404, description = "Not found", body = crate::http::error::Detail)))]
pub(crate) async fn delete_backend_key(
    State(state): State<AppState>,
    Path(key): Path<String>,
    query: QueryMap,
) -> Result<StatusCode, ApiError> {
    let purge = super::control::purge(&query)?;
    if !state.delete_backend_key(&key) {
        return Err(ApiError::NotFound);
    }
    if purge {
        state.purge_key(&key);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /__admin/backend-keys/{api_key}/scenario` with `{"scenario": name | null}`: the scenario
/// this key's calls play from now on (the image endpoints, and E-Document requests whose IIN no
/// scenario matches); `null` for the server's.
#[utoipa::path(put, path = "/backend-keys/{api_key}/scenario", tag = "admin", params(("api_key" = String, Path)), request_body = Object,
    responses((status = 200, description = "The key", body = BackendKeyView), (status = 400, description = "No such scenario", body = crate::http::error::FieldErrorsBody), (status = 404, description = "No such key", body = crate::http::error::Detail)))]
pub(crate) async fn set_backend_key_scenario(
    State(state): State<AppState>,
    Path(key): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<BackendKeyView>, ApiError> {
    let scenario = match body.get("scenario") {
        Some(Value::String(name)) => Some(name.clone()),
        Some(Value::Null) => None,
        None => return Err(ApiError::field(&["scenario"], crate::domain::drf::REQUIRED)),
        Some(_) => return Err(ApiError::field(&["scenario"], crate::domain::drf::NOT_A_STRING)),
    };
    let key = state.set_backend_key_scenario(&key, scenario).map_err(|e| key_error(&e))?;
    Ok(Json(BackendKeyView::from(key)))
}

#[utoipa::path(get, path = "/backend-sessions", tag = "admin", params(("api_key" = Option<String>, Query, description = "Only this organisation key's (SPEC §16)")),
    responses((status = 200, description = "The E-Document backend sessions, newest first, with their SMS codes", body = Vec<BackendSessionView>), (status = 404, description = "api_key names no flow or backend key", body = crate::http::error::Detail)))]
pub(crate) async fn list_backend_sessions(
    State(state): State<AppState>,
    query: QueryMap,
) -> Result<Json<Vec<BackendSessionView>>, ApiError> {
    let key = super::scope(&state, &query)?;
    Ok(Json(state.backend_sessions(key.as_deref()).into_iter().rev().map(BackendSessionView::from).collect()))
}

#[utoipa::path(get, path = "/backend-sessions/{backend_session_id}", tag = "admin", params(("backend_session_id" = String, Path)),
    responses((status = 200, description = "The backend session", body = BackendSessionView), (status = 404, description = "Not found", body = crate::http::error::Detail)))]
pub(crate) async fn get_backend_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BackendSessionView>, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    state.backend_session(&id).map(|s| Json(BackendSessionView::from(s))).ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/persons", tag = "admin", params(("api_key" = Option<String>, Query, description = "Only this organisation key's (SPEC §16)")),
    responses((status = 200, description = "The persons registered through the Backend API, oldest first", body = Vec<Object>), (status = 404, description = "api_key names no flow or backend key", body = crate::http::error::Detail)))]
pub(crate) async fn list_persons(State(state): State<AppState>, query: QueryMap) -> Result<Json<Vec<Value>>, ApiError> {
    let key = super::scope(&state, &query)?;
    Ok(Json(
        state
            .persons(key.as_deref())
            .into_iter()
            .map(|p| {
                let mut view = serde_json::to_value(&p).unwrap_or_default();
                view["api_key"] = Value::String(p.api_key);
                view
            })
            .collect(),
    ))
}
