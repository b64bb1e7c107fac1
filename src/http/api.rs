//! Handlers of the emulated kyc.biometric.kz API and their wire shapes.

use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::ApiError;
use super::extract::{BodyBytes, QueryMap, parse_json};
use super::lint::{doc, refuse_if_strict};
use crate::domain::create::{CreateError, parse_create_request, parse_plain_create_request};
use crate::domain::{Flow, Metadata, TechnologyCode};
use crate::journal::{Lint, Notes, Warning};
use crate::session::Session;
use crate::state::{AppState, CreateCall};
use crate::wire::SessionResult;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CreateSessionResponse {
    pub session_id: Uuid,
    #[schema(value_type = Vec<crate::http::openapi::Code>)]
    pub technologies: Vec<TechnologyCode>,
}

impl CreateSessionResponse {
    /// The JSON `serde_json` writes for this answer (a test holds the two equal), written
    /// directly: it is on every create, and the id and codes need no escaping.
    fn json(session_id: Uuid, technologies: &[TechnologyCode]) -> Vec<u8> {
        let mut id = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id = session_id.hyphenated().encode_lower(&mut id);
        let mut json = Vec::with_capacity(64 + 8 * technologies.len());
        json.extend_from_slice(b"{\"session_id\":\"");
        json.extend_from_slice(id.as_bytes());
        json.extend_from_slice(b"\",\"technologies\":[");
        for (at, code) in technologies.iter().enumerate() {
            if at > 0 {
                json.push(b',');
            }
            json.push(b'"');
            json.extend_from_slice(code.as_str().as_bytes());
            json.push(b'"');
        }
        json.extend_from_slice(b"]}");
        json
    }
}

/// `POST /api/v1/flows/session/create/`
#[utoipa::path(post, path = "/api/v1/flows/session/create/", tag = "vendor API",
    request_body(content = crate::http::openapi::CreateSessionBody, description = "JSON, read whatever the Content-Type"),
    responses(
        (status = 200, description = "The session", body = CreateSessionResponse),
        (status = 400, description = "Field errors nested like the input, or a JSON parse error", body = crate::http::openapi::FieldErrors),
        (status = 403, description = "No flow has this api_key", body = crate::http::openapi::Detail),
        (status = 413, description = "Body over --max-body", body = crate::http::openapi::Detail),
    ))]
pub(crate) async fn create_session(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    body: BodyBytes,
) -> Result<Response, ApiError> {
    create(&state, &notes, body).await
}

/// `create_session` on borrowed state and notes, as `App::handle` calls it: the shared state's
/// reference count is not touched on every request.
pub(crate) async fn create(state: &AppState, notes: &Notes, BodyBytes(body): BodyBytes) -> Result<Response, ApiError> {
    let find_flow = |key: &str| state.find_flow(key);
    let parsed = if let Some((key, parsed)) = parse_plain_create_request(&body, find_flow) {
        notes.api_key(key);
        parsed
    } else {
        let body = parse_json(&body)?;
        if let Some(key) = body.get("api_key").and_then(Value::as_str) {
            notes.api_key(key);
        }
        parse_create_request(body, find_flow)
    };
    let request = parsed.map_err(|e| match e {
        CreateError::Invalid(errors) => ApiError::Fields(errors),
        CreateError::UnknownApiKey => {
            let key = parse_json(&body).ok().and_then(|b| b.get("api_key").and_then(Value::as_str).map(str::to_owned));
            if let Some(org) = key.and_then(|k| state.find_backend_key(&k)) {
                notes.lint(Lint::new(
                    "backend-key-on-flow",
                    doc::SESSION_CREATION,
                    format!("this api_key is the Backend Api Key of organisation {:?}; a session is created with a flow's API KEY", org.name),
                ));
            }
            ApiError::UnknownKey
        }
    })?;
    for lint in ignored_metadata(&request.flow, &request.metadata) {
        notes.lint(lint);
    }
    refuse_if_strict(state, notes)?;
    // A full store makes room: nothing refuses a new session.
    let (session_id, evicted) = match state.create_call(&request.flow, request.metadata, notes.links_to(), notes.at()) {
        CreateCall::Created(id, evicted) => (id, evicted),
        CreateCall::Fault(fault, session) => {
            Box::pin(super::fault::play(Some(*fault))).await?;
            state.insert_created(session)
        }
    };
    notes.session(session_id);
    if !evicted.is_empty() {
        notes.evicted(evicted);
    }
    Ok(super::json_bytes(CreateSessionResponse::json(session_id, &request.flow.technologies)))
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
#[utoipa::path(get, path = "/api/v1/flows/session/result/", tag = "vendor API",
    params(("session_id" = String, Query, description = "The session id (UUID)"), ("flow_api_key" = String, Query, description = "The key of the flow that made it")),
    responses(
        (status = 200, description = "The session's result", body = SessionResult),
        (status = 400, description = "A missing parameter or a non-UUID id", body = crate::http::openapi::FieldErrors),
        (status = 404, description = "No such session for this key", body = crate::http::openapi::Detail),
    ))]
pub(crate) async fn session_result(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    query: QueryMap,
) -> Response {
    match result(&state, &notes, &query, None) {
        Polled::Answered(response) => response,
        Polled::AfterFault(fault, id) => result_after_fault(&state, &notes, fault, id).await,
    }
}

/// The result endpoint's answer, made at once: a suite polls in a loop, and `App::handle`
/// answers it without a future unless a scripted fault must be played first.
pub(crate) enum Polled {
    Answered(Response),
    /// A fault rule met the call: `result_after_fault` plays it, then answers about the session.
    AfterFault(crate::scenario::Fault, Uuid),
}

/// `session_result` on borrowed state and notes, as `App::handle` calls it; `session`: the id
/// the journal read from the query.
pub(crate) fn result(state: &AppState, notes: &Notes, query: &QueryMap, session: Option<Uuid>) -> Polled {
    poll(state, notes, query, session).unwrap_or_else(|refused| Polled::Answered(refused.into_response()))
}

/// `result`, or why the poll is refused.
fn poll(state: &AppState, notes: &Notes, query: &QueryMap, session: Option<Uuid>) -> Result<Polled, ApiError> {
    let (id, key) = session_in_query(query, session)?;
    let call = state.result_call(&id, key, notes.at(), write_result).map_err(|e| {
        if let Some(owner) = state.other_flows_session(&id, key) {
            notes.lint(Lint::new(
                "other-flow-key",
                doc::RESULT,
                format!("session {id} exists, but it belongs to flow {owner:?}, not to the flow of this flow_api_key; the vendor answers \"Not found.\" (send the key of the flow that created the session)"),
            ));
        }
        ApiError::from(e)
    })?;
    // These two are on every request of a client polling in a loop: kept as their numbers.
    if let (earlier @ 2.., status) = call.earlier_final_polls {
        notes.lint(Warning::PolledAfterFinal { status, earlier });
    }
    if let Some(gap) = call.since_last_poll.filter(|gap| *gap < std::time::Duration::from_secs(1)) {
        // Under a second: the milliseconds fit.
        notes.lint(Warning::PollingTooFast { ms: u32::try_from(gap.as_millis()).unwrap_or(999) });
    }
    Ok(match call.answer {
        Ok(answer) => Polled::Answered(result_answer(notes, answer)?),
        Err(fault) => Polled::AfterFault(fault, id),
    })
}

/// The result after the fault rule a poll met (`Polled::AfterFault`): its delay waited out,
/// then its error, or the answer about the session as it is by then.
pub(crate) async fn result_after_fault(
    state: &AppState,
    notes: &Notes,
    fault: crate::scenario::Fault,
    id: Uuid,
) -> Response {
    let answered = async {
        super::fault::play(Some(fault)).await?;
        result_answer(notes, state.result_answer(&id, write_result).ok_or(ApiError::NotFound)?)
    };
    answered.await.unwrap_or_else(IntoResponse::into_response)
}

/// A session's result as the endpoint writes it, and whether it is final (kept from then on).
fn write_result(session: &Session, now: time::OffsetDateTime) -> Result<(bytes::Bytes, bool), serde_json::Error> {
    let result = SessionResult::of(session, now);
    let last = result.status != "PROGRESS";
    serde_json::to_vec(&result).map(|body| (body.into(), last))
}

/// The answer of a result whose body `write_result` made (or the one kept).
fn result_answer(notes: &Notes, answer: Result<(bytes::Bytes, bool), serde_json::Error>) -> Result<Response, ApiError> {
    let (body, last) = answer.map_err(|e| {
        ApiError::detail(axum::http::StatusCode::INTERNAL_SERVER_ERROR, format!("Cannot write the result: {e}"))
    })?;
    if !last {
        notes.lint(Lint::new(
            "result-before-finish",
            doc::RESULT,
            "the result was polled before the user finished the flow (status PROGRESS); results appear once the user has passed the technologies",
        ));
    }
    Ok(super::json_bytes(body))
}

/// The session a `?session_id=&flow_api_key=` query names (the result and video endpoints \[doc\])
/// and the key, both required. `parsed`: the id already read from this query's `session_id`
/// (the journal's), not parsed again.
pub(crate) fn session_in_query(query: &QueryMap, parsed: Option<Uuid>) -> Result<(Uuid, &str), ApiError> {
    let [id, key] = query.require(["session_id", "flow_api_key"])?;
    Ok((parsed.map_or_else(|| parse_session_id(id), Ok)?, key))
}

/// A session id in a query: a UUID, in DRF's wording when it is not.
pub(crate) fn parse_session_id(text: &str) -> Result<Uuid, ApiError> {
    query_uuid(text).ok_or_else(|| ApiError::field(&["session_id"], "Must be a valid UUID."))
}

/// A UUID as a query gives it, spaces around it allowed. Most come without: read as they are
/// first, and trimmed only when that fails.
pub(crate) fn query_uuid(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text).or_else(|_| Uuid::parse_str(text.trim())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_create_answer_is_written_as_serde_would() {
        for technologies in [vec![], vec![TechnologyCode::Ldhp], TechnologyCode::ALL.to_vec()] {
            let ours = String::from_utf8(CreateSessionResponse::json(Uuid::new_v4(), &technologies)).unwrap();
            let created = CreateSessionResponse { session_id: Uuid::parse_str(&ours[15..51]).unwrap(), technologies };
            assert_eq!(ours, serde_json::to_string(&created).unwrap());
        }
    }
}
