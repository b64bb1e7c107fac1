//! Handlers of the emulated Flow Remote API on kyc.biometric.kz: session create and the result.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::ApiError;
use super::extract::{BodyBytes, QueryMap, parse_json};
use super::fault;
use super::lint::{doc, refuse_if_strict};
use crate::domain::{Flow, Metadata, TechnologyCode};
use crate::journal::{Lint, Notes};
use crate::state::{AppState, NotOwn, Scripted};
use crate::wire::SessionResult;
use crate::wire::create::{CreateError, parse_create_request};

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CreateSessionResponse {
    pub session_id: Uuid,
    #[schema(value_type = Vec<crate::http::openapi::Code>)]
    pub technologies: Vec<TechnologyCode>,
}

/// `POST /api/v1/flows/session/create/`
#[utoipa::path(post, path = crate::domain::paths::CREATE, tag = "vendor API",
    request_body(content = crate::wire::create::CreateSessionBody, description = "JSON, read whatever the Content-Type"),
    responses(
        (status = 200, description = "The session", body = CreateSessionResponse),
        (status = 400, description = "Field errors nested like the input, or a JSON parse error", body = crate::http::error::FieldErrorsBody),
        (status = 403, description = "No flow has this api_key", body = crate::http::error::Detail),
        (status = 413, description = "Body over --max-body", body = crate::http::error::Detail),
    ))]
pub(crate) async fn create_session(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let body = parse_json(&body)?;
    let key = body.get("api_key").and_then(Value::as_str).map(str::to_owned);
    if let Some(key) = &key {
        notes.api_key(key);
    }
    let request = parse_create_request(body, |key| state.find_flow(key)).map_err(|e| match e {
        CreateError::Invalid(errors) => ApiError::Fields(errors),
        CreateError::UnknownApiKey => {
            if let Some(org) = key.and_then(|k| state.find_backend_key(&k)) {
                notes.lint_here(
                    "backend-key-on-flow",
                    format!("this api_key is the Backend Api Key of organisation {:?}; a session is created with a flow's API KEY", org.name),
                );
            }
            ApiError::UnknownKey
        }
    })?;
    for lint in ignored_metadata(&request.flow, &request.metadata) {
        notes.lint(lint);
    }
    refuse_if_strict(&state, &notes)?;
    let (scenario, _) = state.scenario_for(&request.flow, &request.metadata);
    fault::meet(&state, &notes, Scripted::Scenario { name: &scenario.name, key: request.flow.api_key.as_str() })
        .await?;
    // A full store makes room: nothing refuses a new session.
    let (session_id, evicted) = state.create(&request.flow, request.metadata, notes.links_to());
    notes.session(session_id);
    if !evicted.is_empty() {
        notes.evicted(evicted);
    }
    let technologies = request.flow.technologies.clone();
    Ok(Json(CreateSessionResponse { session_id, technologies }).into_response())
}

/// Metadata the vendor accepts but does not use with this flow, and keys it does not know.
fn ignored_metadata(flow: &Flow, metadata: &Metadata) -> Vec<Lint> {
    let mut lints = Vec::new();
    if metadata.face2face.is_some() && !flow.uses_face2face_photo() {
        lints.push(Lint::new(
            "ignored-face2face",
            doc::FACE2FACE,
            format!(
                "metadata.face2face works only in flows where F2F follows Liveness, E-Document or Document Recognition; flow {:?} ({}) ignores it",
                flow.name,
                TechnologyCode::list(&flow.technologies)
            ),
        ));
    }
    if metadata.edocument.is_some() && !flow.has(TechnologyCode::Ed) {
        lints.push(Lint::new(
            "ignored-edocument",
            doc::EDOCUMENT,
            format!(
                "metadata.edocument is ignored: flow {:?} ({}) has no E-Document (ED) step",
                flow.name,
                TechnologyCode::list(&flow.technologies)
            ),
        ));
    }
    for key in &metadata.unknown_keys {
        let (at, section) = if key.starts_with("metadata.") {
            (key.clone(), doc::METADATA)
        } else {
            (format!("{key} (in the body)"), doc::SESSION_CREATION)
        };
        lints.push(Lint::new("unknown-key", section, format!("unknown key {at} is ignored")));
    }
    lints
}

/// `GET /api/v1/flows/session/result/?session_id=&flow_api_key=`
#[utoipa::path(get, path = crate::domain::paths::RESULT, tag = "vendor API",
    params(("session_id" = String, Query, description = "The session id (UUID)"), ("flow_api_key" = String, Query, description = "The key of the flow that made it")),
    responses(
        (status = 200, description = "The session's result", body = SessionResult),
        (status = 400, description = "A missing parameter or a non-UUID id", body = crate::http::error::FieldErrorsBody),
        (status = 404, description = "No such session for this key", body = crate::http::error::Detail),
    ))]
pub(crate) async fn session_result(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    Extension(answers): Extension<Arc<FinalAnswers>>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let (id, key) = session_in_query(&query)?;
    let not_own = |e: NotOwn| other_flows_key(&state, &notes, &id, key, e);
    let polled = state.poll(&id, key, state.on_key_clock(notes.at(), key)).map_err(not_own)?;
    fault::meet(&state, &notes, Scripted::Session { id: &id, key }).await?;
    // The session as it is by now: a fault may have delayed the answer.
    let now = state.now_for(key);
    let written = |s: &crate::session::Session, scenario: &crate::scenario::Scenario| {
        let last = s.shows_final(now);
        let kept = last.then(|| answers.get(s.id(), s.version())).flatten();
        let (body, status) = kept.map_or_else(
            || {
                let result = SessionResult::of(s, now, scenario.failed_status);
                let body = serde_json::to_vec(&result).map(Bytes::from);
                if let (true, Ok(body)) = (last, &body) {
                    answers.keep(s.id(), s.version(), body.clone(), result.status);
                }
                (body, result.status)
            },
            |(body, status)| (Ok(body), status),
        );
        (body, status, last)
    };
    let (body, status, last) = state.view(&id, written).ok_or(ApiError::NotFound)?;
    let body = body.map_err(|e| ApiError::internal(format!("Cannot write the result: {e}")))?;
    if polled.earlier_final_polls >= 2 {
        notes.lint_here(
            "polled-after-final",
            format!(
                "this session has been {status} for {} earlier polls; FAILED is as final as FINISHED, and a client that waits for FINISHED alone polls for ever when a verification fails",
                polled.earlier_final_polls
            ),
        );
    }
    if let Some(gap) = polled.since_last_poll.filter(|gap| *gap < std::time::Duration::from_secs(1)) {
        notes.lint_here(
            "polling-too-fast",
            format!("this session's result was polled again after {} ms; poll at most once a second", gap.as_millis()),
        );
    }
    if !last {
        notes.lint_here(
            "result-before-finish",
            "the result was polled before the user finished the flow (status PROGRESS); results appear once the user has passed the technologies",
        );
    }
    Ok(super::json_bytes(body))
}

/// The result answers of sessions that have ended, as written at their first final poll: a client
/// polling a finished session in a loop gets them again instead of a new serialization (a fifth of
/// a poll's work, BENCHMARKS.md), for as long as the session does not change (`Session::version`).
/// At most `FinalAnswers::KEPT`; when full, it starts over.
#[derive(Default)]
pub(crate) struct FinalAnswers(Mutex<HashMap<Uuid, Kept>>);

/// One kept answer: the session's version it was written at, its body and its status.
type Kept = (u64, Bytes, &'static str);

impl FinalAnswers {
    const KEPT: usize = 10_000;

    fn kept(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Kept>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, id: Uuid, version: u64) -> Option<(Bytes, &'static str)> {
        let kept = self.kept();
        let (at, body, status) = kept.get(&id)?;
        (*at == version).then(|| (body.clone(), *status))
    }

    fn keep(&self, id: Uuid, version: u64, body: Bytes, status: &'static str) {
        let mut kept = self.kept();
        if kept.len() >= Self::KEPT {
            kept.clear();
        }
        kept.insert(id, (version, body, status));
    }
}

/// A call about a session the key does not own, told as the vendor tells it ("Not found."), and
/// warned about when the session is another flow's.
fn other_flows_key(state: &AppState, notes: &Notes, id: &Uuid, key: &str, e: NotOwn) -> ApiError {
    if let Some(owner) = state.other_flows_session(id, key) {
        notes.lint_here(
            "other-flow-key",
            format!("session {id} exists, but it belongs to flow {owner:?}, not to the flow of this flow_api_key; the vendor answers \"Not found.\" (send the key of the flow that created the session)"),
        );
    }
    ApiError::from(e)
}

/// The session a `?session_id=&flow_api_key=` query names (the result and video endpoints
/// \[doc\]) and the key, both required.
pub(crate) fn session_in_query(query: &QueryMap) -> Result<(Uuid, &str), ApiError> {
    let [id, key] = query.require(["session_id", "flow_api_key"])?;
    Ok((super::extract::session_id(id)?, key))
}
