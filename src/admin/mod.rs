//! `/__admin`: the mock's own API for tests and people — health, flows, sessions and the
//! headless twin of the end-user page (`complete`). Shapes are SPEC section 11's.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::clock::timestamp;
use crate::domain::FailureReason;
use crate::domain::technology::{selector_help, selects_any};
use crate::domain::{Flow, TechnologyCode};
use crate::http::ApiError;
use crate::http::extract::JsonBody;
use crate::session::{Choice, Command, Session, TransitionError};
use crate::state::{AppState, SessionError};
use crate::wire::field::Field;

pub(crate) mod backend;
pub(crate) mod control;
pub(crate) mod paging;

/// The key `?api_key=` scopes an admin call to (SPEC §16), `None` without one. A key the mock
/// does not know (no flow, no backend key) is a 404 that names it: a typo must not scope a test
/// to nothing and pass.
pub(crate) fn scope(state: &AppState, query: &crate::http::extract::QueryMap) -> Result<Option<String>, ApiError> {
    match query.get("api_key").filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(key) if state.knows_key(key) => Ok(Some(key.to_owned())),
        Some(key) => Err(unknown_key(key)),
    }
}

/// The 404 of a scoped call naming a key the mock does not know.
fn unknown_key(key: &str) -> ApiError {
    let why = "a scoped call names a key of GET /__admin/flows or GET /__admin/backend-keys.";
    ApiError::detail(axum::http::StatusCode::NOT_FOUND, crate::state::unknown_key(key, why))
}

/// The admin API's routes that `--admin-token` guards: all but `open_routes`.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_flows, control::create_flow))
        .routes(routes!(control::delete_flow))
        .routes(routes!(control::list_requests, control::clear_requests))
        .routes(routes!(control::reset))
        .routes(routes!(control::list_faults, control::add_fault))
        .routes(routes!(control::list_webhooks))
        .routes(routes!(list_sessions))
        .routes(routes!(get_session))
        .routes(routes!(complete_session))
        .routes(routes!(set_session_scenario))
        .routes(routes!(list_scenarios))
        .routes(routes!(signing_certificate))
        .routes(routes!(test_ca))
        .routes(routes!(crate::http::openapi::openapi_json))
        .routes(routes!(backend::list_backend_keys, backend::add_backend_key))
        .routes(routes!(backend::delete_backend_key))
        .routes(routes!(backend::set_backend_key_scenario))
        .routes(routes!(backend::list_backend_sessions))
        .routes(routes!(backend::get_backend_session))
        .routes(routes!(backend::list_persons))
        .routes(routes!(control::clock))
        .routes(routes!(control::advance_clock))
}

/// The admin API's routes open to everyone: the health check, which container health checks
/// call without credentials.
pub(crate) fn open_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// The mock's test CA (SPEC §14): what a client trusts to reach the mock's HTTPS (`--tls-port`)
/// as kyc.biometric.kz and remote.biometric.kz. The same across restarts with `--ca-dir`.
#[utoipa::path(get, path = "/ca.pem", tag = "admin", responses((status = 200, description = "The test CA certificate, PEM", content_type = "application/x-pem-file")))]
async fn test_ca(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/x-pem-file")], state.ca_pem().to_owned())
}

/// The test certificate the PDF reports are signed with, so that clients can verify them.
#[utoipa::path(get, path = "/signing-certificate", tag = "admin", responses((status = 200, description = "The test certificate, PEM", content_type = "application/x-pem-file")))]
async fn signing_certificate() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/x-pem-file")], crate::report::sign::CERTIFICATE_PEM)
}

/// `{"status": "ok"}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    status: &'static str,
    /// With `--state-file` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    state_file: Option<StateFileHealth>,
}

/// How the state file's writes go.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StateFileHealth {
    path: String,
    /// Whether the last write worked.
    ok: bool,
    last_saved: Option<String>,
    /// Why the last write failed, while writes fail.
    error: Option<String>,
    failing_since: Option<String>,
}

/// `{"status": "ok"}`; with `--state-file`, also how its writes go, so that a failing disk is
/// seen (the server still answers: 200).
#[utoipa::path(get, path = "/health", tag = "admin", responses((status = 200, description = "OK; `state_file` only with --state-file", body = Health)))]
async fn health(State(state): State<AppState>) -> Json<Health> {
    let state_file = state.save_status().map(|(path, saves)| StateFileHealth {
        path: path.display().to_string(),
        ok: saves.failing.is_none(),
        last_saved: saves.last_saved.map(timestamp),
        error: saves.failing.as_ref().map(|(_, why)| why.clone()),
        failing_since: saves.failing.as_ref().map(|(at, _)| timestamp(*at)),
    });
    Json(Health { status: "ok", state_file })
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FlowView {
    pub name: String,
    pub api_key: String,
    #[schema(value_type = Vec<crate::http::openapi::Code>)]
    pub technologies: Vec<TechnologyCode>,
    pub scenario: Option<String>,
    /// The first of `webhook_urls`: the shape the admin API has always had.
    pub webhook_url: Option<String>,
    /// Up to five \[doc\], each with its own delivery queue.
    pub webhook_urls: Vec<String>,
}

impl From<Flow> for FlowView {
    fn from(f: Flow) -> Self {
        Self {
            name: f.name,
            api_key: f.api_key.as_str().to_owned(),
            technologies: f.technologies,
            scenario: f.scenario,
            webhook_url: f.webhook_urls.first().cloned(),
            webhook_urls: f.webhook_urls,
        }
    }
}

#[utoipa::path(get, path = "/flows", tag = "admin", responses((status = 200, description = "OK", body = Vec<FlowView>)))]
async fn list_flows(State(state): State<AppState>) -> Json<Vec<FlowView>> {
    Json(state.flows().into_iter().map(FlowView::from).collect())
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SessionView {
    pub session_id: Uuid,
    pub flow_name: String,
    pub api_key: String,
    #[schema(value_type = Vec<crate::http::openapi::Code>)]
    pub technologies: Vec<TechnologyCode>,
    pub status: &'static str,
    pub scenario: String,
    /// Why the session plays it: `admin`, `match`, `flow` or `server`.
    pub scenario_source: &'static str,
    pub steps: Vec<StepView>,
    /// Why the session failed, structured: what the result endpoint writes as one line each
    /// (`flow_session_failure_reasons`).
    pub failure_reasons: Vec<FailureView>,
    pub otp: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// When it expires (`--session-ttl`), if ever.
    pub expires_at: Option<String>,
    /// The end-user page of this session.
    pub page_url: String,
    /// Every transition so far, oldest first.
    pub events: Vec<EventView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StepView {
    #[schema(value_type = crate::http::openapi::Code)]
    pub code: TechnologyCode,
    pub state: &'static str,
    #[schema(value_type = Option<crate::http::openapi::FailureReason>)]
    pub failure_reason: Option<FailureReason>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FailureView {
    #[schema(value_type = crate::http::openapi::Code)]
    pub technology: TechnologyCode,
    #[serde(flatten)]
    #[schema(value_type = crate::http::openapi::FailureReason)]
    pub reason: FailureReason,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct EventView {
    pub at: String,
    /// The vendor's webhook event names: `flow.start`, `technology.start`, ...
    pub event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::http::openapi::Code>)]
    pub technology: Option<TechnologyCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
}

impl SessionView {
    pub(crate) fn of(s: &Session, public_url: &str, ttl: Option<std::time::Duration>) -> Self {
        Self {
            session_id: s.id(),
            flow_name: s.flow_name().to_owned(),
            api_key: s.api_key().as_str().to_owned(),
            technologies: s.technologies().to_vec(),
            status: s.status().as_str(),
            scenario: s.scenario().to_owned(),
            scenario_source: s.scenario_source().as_str(),
            steps: s
                .steps()
                .iter()
                .map(|st| StepView {
                    code: st.code,
                    state: st.state.as_str(),
                    failure_reason: st.failure_reason.as_deref().cloned(),
                })
                .collect(),
            failure_reasons: s
                .steps()
                .iter()
                .filter_map(|st| {
                    let reason = st.failure_reason.as_deref()?.clone();
                    Some(FailureView { technology: st.code, reason })
                })
                .collect(),
            otp: s.otp().map(str::to_owned),
            metadata: s.metadata().display.clone(),
            created_at: timestamp(s.created_at()),
            finished_at: s.finished_at().map(timestamp),
            expires_at: s.expires_at(ttl).map(timestamp),
            page_url: format!("{public_url}{}", crate::domain::paths::page(s.id())),
            events: s
                .events()
                .iter()
                .map(|e| {
                    let (event, technology, success) = e.event.parts();
                    EventView { at: timestamp(e.at), event, technology, success }
                })
                .collect(),
        }
    }
}

/// How many sessions a page of `GET /__admin/sessions` holds when the query does not say.
pub(crate) const SESSIONS_PAGE: usize = 100;

#[utoipa::path(get, path = "/sessions", tag = "admin",
    params(("limit" = Option<usize>, Query, description = "At most this many (default 100, at most 10,000)"), ("offset" = Option<usize>, Query, description = "Skip this many of the newest"), ("api_key" = Option<String>, Query, description = "Only this flow key's sessions (SPEC §16)")),
    responses((status = 200, description = "Newest first, one page; X-Total-Count has how many there are, Link the next page", body = Vec<SessionView>), (status = 400, description = "Bad request", body = crate::http::error::FieldErrorsBody), (status = 404, description = "api_key names no flow or backend key", body = crate::http::error::Detail)))]
async fn list_sessions(
    State(state): State<AppState>,
    query: crate::http::extract::QueryMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> Result<axum::response::Response, ApiError> {
    let page = paging::Page::parse(&query, SESSIONS_PAGE)?;
    let key = scope(&state, &query)?;
    let ttl = state.session_ttl();
    let (views, total) = state
        .page_of_sessions(key.as_deref(), page.offset, page.limit, |s| SessionView::of(s, state.link_base(s), ttl));
    Ok(page.respond(views, total, &uri.to_string()))
}

fn session_view(state: &AppState, id: &Uuid) -> Result<SessionView, ApiError> {
    state
        .with_session(id, |s| SessionView::of(s, state.link_base(s), state.session_ttl()))
        .ok_or_else(|| missing(state, id))
}

/// The answer about a session that is not held: 404, saying so when the store let it go.
fn missing(state: &AppState, id: &Uuid) -> ApiError {
    match state.eviction(id) {
        Some(eviction) => ApiError::Evicted(eviction),
        None => ApiError::NotFound,
    }
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::not_found("Not found. A session id is a UUID."))
}

#[utoipa::path(get, path = "/sessions/{id}", tag = "admin", params(("id" = String, Path)), responses((status = 200, description = "OK", body = SessionView), (status = 404, description = "Not found", body = crate::http::error::Detail)))]
async fn get_session(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<SessionView>, ApiError> {
    session_view(&state, &parse_id(&id)?).map(Json)
}

/// `POST /__admin/sessions/{id}/complete` with an optional `{"outcomes": {"LDHP": "passed",
/// "face2face": "failed"}}`: plays every remaining step as a person finishing the page would.
#[utoipa::path(post, path = "/sessions/{id}/complete", tag = "admin", params(("id" = String, Path)), request_body(content = Option<CompleteBody>),
    responses((status = 200, description = "OK", body = SessionView), (status = 400, description = "Bad request", body = crate::http::error::FieldErrorsBody), (status = 404, description = "Not found", body = crate::http::error::Detail), (status = 409, description = "Already finished", body = crate::http::error::Detail)))]
async fn complete_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<SessionView>, ApiError> {
    let id = parse_id(&id)?;
    let technologies = state.with_session(&id, |s| s.technologies().to_vec()).ok_or_else(|| missing(&state, &id))?;
    let (scenario, outcomes) = parse_complete(body, &technologies, &state)?;
    let complete = Command::Complete { scenario: scenario.as_deref(), outcomes: &outcomes };
    let view = |s: &Session, _: &_| SessionView::of(s, state.link_base(s), state.session_ttl());
    let (_, view) = state.apply_and_view(&id, complete, view)?;
    Ok(Json(view))
}

/// `PUT /__admin/sessions/{id}/scenario`'s body.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ScenarioBody {
    #[serde(default)]
    #[schema(value_type = String)]
    scenario: Field<String>,
}

/// `PUT /__admin/sessions/{id}/scenario` with `{"scenario": name}`: the session plays that
/// scenario from its next step on, whatever matched it before.
#[utoipa::path(put, path = "/sessions/{id}/scenario", tag = "admin", params(("id" = String, Path)), request_body = ScenarioBody,
    responses((status = 200, description = "OK", body = SessionView), (status = 400, description = "Bad request", body = crate::http::error::FieldErrorsBody), (status = 404, description = "Not found", body = crate::http::error::Detail)))]
async fn set_session_scenario(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<SessionView>, ApiError> {
    let id = parse_id(&id)?;
    let body: ScenarioBody = crate::http::extract::typed_body(body)?;
    let name = match body.scenario {
        Field::Given(name) => name,
        Field::Absent => return Err(ApiError::field(&["scenario"], "This field is required.")),
        Field::Null | Field::Wrong(_) => return Err(ApiError::field(&["scenario"], "Not a valid string.")),
    };
    let view = |s: &Session, _: &_| SessionView::of(s, state.link_base(s), state.session_ttl());
    let (_, view) = state.apply_and_view(&id, Command::SetScenario { name: &name }, view).map_err(|e| match e {
        SessionError::Transition(TransitionError::UnknownScenario(_)) => ApiError::field(
            &["scenario"],
            format!("{e}; the scenarios are {} (GET /__admin/scenarios).", state.scenarios().names()),
        ),
        other => ApiError::from(other),
    })?;
    Ok(Json(view))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ScenarioView {
    pub name: String,
    pub description: String,
    /// The IINs that select it (`extra.iin` or `edocument.iin.value`).
    #[serde(rename = "match")]
    pub match_iins: Vec<String>,
}

#[utoipa::path(get, path = "/scenarios", tag = "admin", responses((status = 200, description = "OK", body = Vec<ScenarioView>)))]
async fn list_scenarios(State(state): State<AppState>) -> Json<Vec<ScenarioView>> {
    Json(
        state
            .scenarios()
            .iter()
            .map(|s| ScenarioView {
                name: s.name.clone(),
                description: s.description.clone(),
                match_iins: s.match_iins.iter().map(|i| i.as_str().to_owned()).collect(),
            })
            .collect(),
    )
}

/// `POST /__admin/sessions/{id}/complete`'s optional body.
#[derive(Default, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct CompleteBody {
    /// The scenario to play the remaining steps with.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    scenario: Field<String>,
    /// Per code or family: "passed" or "failed".
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    outcomes: Field<Value>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: serde_json::Map<String, Value>,
}

/// The body of `complete`: an optional `scenario` and optional per-technology `outcomes`.
fn parse_complete(
    body: Value,
    technologies: &[TechnologyCode],
    state: &AppState,
) -> Result<(Option<String>, HashMap<String, Choice<'static>>), ApiError> {
    let body: CompleteBody = crate::http::extract::typed_body(body)?;
    if let Some(unknown) = body.unknown.keys().next() {
        return Err(ApiError::field(&[unknown], "Unknown field; this call takes \"scenario\" and \"outcomes\"."));
    }
    let scenario = match body.scenario {
        Field::Absent => None,
        Field::Given(name) if state.scenarios().get(&name).is_some() => Some(name),
        Field::Given(name) => {
            return Err(ApiError::field(
                &["scenario"],
                format!("No scenario is named {name:?}; the scenarios are {}.", state.scenarios().names()),
            ));
        }
        Field::Null | Field::Wrong(_) => return Err(ApiError::field(&["scenario"], "Not a valid string.")),
    };
    let outcomes = match body.outcomes {
        Field::Absent => None,
        Field::Null => Some(Value::Null),
        Field::Given(value) | Field::Wrong(value) => Some(value),
    };
    Ok((scenario, parse_outcomes(outcomes, technologies)?))
}

fn parse_outcomes(
    given: Option<Value>,
    technologies: &[TechnologyCode],
) -> Result<HashMap<String, Choice<'static>>, ApiError> {
    let mut outcomes = HashMap::new();
    let Some(given) = given else { return Ok(outcomes) };
    let Value::Object(given) = given else {
        return Err(ApiError::field(
            &["outcomes"],
            "Expected an object such as {\"LDHP\": \"passed\", \"F2F\": \"failed\"}.",
        ));
    };
    let mut errors = crate::domain::FieldErrors::new();
    for (key, value) in given {
        let choice = match value.as_str() {
            Some("passed") => Some(Choice::Pass),
            Some("failed") => Some(Choice::Fail(None)),
            _ => {
                errors.push(&["outcomes", &key], format!("Expected \"passed\" or \"failed\", got {value}."));
                None
            }
        };
        if !selects_any(&key, technologies) {
            errors.push(
                &["outcomes", &key],
                format!(
                    "\"{key}\" names no technology of this session ({}); use {}.",
                    TechnologyCode::list(technologies),
                    selector_help()
                ),
            );
        } else if let Some(choice) = choice {
            outcomes.insert(key, choice);
        }
    }
    errors.into_result(outcomes).map_err(ApiError::Fields)
}
