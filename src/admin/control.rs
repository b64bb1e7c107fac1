//! `/__admin` controls beyond sessions: flows created and deleted at run time, the request
//! journal, fault rules, and reset.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::FlowView;
use super::paging::{self, Page};
use crate::domain::flow::FlowSpec;
use crate::http::ApiError;
use crate::http::extract::{JsonBody, QueryMap};
use crate::journal::{Entry, Filter};
use crate::scenario::Fault;
use crate::state::{AddFlowError, AppState};
use crate::webhook::Webhooks;
use axum::Extension;
use std::sync::Arc;

/// `POST /__admin/flows`' body: a flow as a `--flows` file gives one, its key generated when absent.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlowBody {
    name: String,
    technologies: Vec<String>,
    /// Generated when absent.
    #[serde(default)]
    api_key: Option<String>,
    #[serde(default)]
    scenario: Option<String>,
    /// One webhook URL (the first, when `webhook_urls` is also given).
    #[serde(default)]
    webhook_url: Option<String>,
    /// Up to five webhook URLs (the vendor's limit), each with its own delivery queue.
    #[serde(default)]
    webhook_urls: Option<Vec<String>>,
    /// What the mock makes up for the flow's sessions (ids, names, scores, codes, webhook ids)
    /// repeats run after run with this seed, whatever other keys do; without `api_key`, the key
    /// is made from the seed and the name too (SPEC §16).
    #[serde(default)]
    seed: Option<u64>,
}

impl From<FlowBody> for FlowSpec {
    fn from(body: FlowBody) -> Self {
        let FlowBody { name, technologies, api_key, scenario, webhook_url, webhook_urls, seed } = body;
        Self { name, api_key, technologies, scenario, webhook_url, webhook_urls, seed }
    }
}

/// `POST /__admin/flows` with `{"name", "technologies", "api_key"?, "scenario"?, "webhook_url"?,
/// "webhook_urls"?}`.
#[utoipa::path(post, path = "/flows", tag = "admin", request_body = FlowBody,
    responses((status = 201, description = "Created", body = FlowView), (status = 400, description = "Bad request", body = crate::http::error::FieldErrorsBody)))]
pub(crate) async fn create_flow(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<impl IntoResponse, ApiError> {
    let spec = FlowSpec::from(crate::http::extract::typed_body::<FlowBody>(body)?);
    let (seed, name) = (spec.seed, spec.name.clone());
    let mut generate = || state.generate_api_key(seed, &name);
    let flow = spec.into_flow("", Some(&mut generate)).map_err(|e| {
        let field = e.path.split(['.', '[']).next().unwrap_or("non_field_errors").to_owned();
        ApiError::field(&[&field], format!("{} ({})", e.reason, e.path))
    })?;
    state.add_flow(flow.clone()).map_err(|e| {
        let field = match e {
            AddFlowError::DuplicateKey => "api_key",
            AddFlowError::UnknownScenario { .. } => "scenario",
            AddFlowError::WebhookToAdmin(_) => "webhook_urls",
        };
        ApiError::field(&[field], e.to_string())
    })?;
    Ok((StatusCode::CREATED, Json(FlowView::from(flow))))
}

/// `DELETE /__admin/flows/{api_key}`: the flow goes; its sessions stay, unless `?purge=true`,
/// which also removes everything the key owns (SPEC §16).
#[utoipa::path(delete, path = "/flows/{api_key}", tag = "admin", params(("api_key" = String, Path), ("purge" = Option<bool>, Query, description = "Also remove everything the key owns: sessions, journal entries, webhook attempts, fault rules, its clock and seed (SPEC §16)")),
    responses((status = 204, description = "Deleted; its sessions stay unless purge=true"), (status = 400, description = "purge is not true or false", body = crate::http::error::FieldErrorsBody), (status = 404, description = "Not found", body = crate::http::error::Detail)))]
pub(crate) async fn delete_flow(
    State(state): State<AppState>,
    Path(key): Path<String>,
    query: QueryMap,
) -> Result<StatusCode, ApiError> {
    let purge = purge(&query)?;
    if !state.delete_flow(&key) {
        return Err(ApiError::NotFound);
    }
    if purge {
        state.purge_key(&key);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `?purge=`: `true` or `false` (the default).
pub(crate) fn purge(query: &QueryMap) -> Result<bool, ApiError> {
    match query.get("purge") {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::field(&["purge"], crate::domain::drf::NOT_A_BOOLEAN)),
    }
}

/// `GET /__admin/requests?path=&session_id=&api_key=&limit=&offset=`, newest first.
#[utoipa::path(get, path = "/requests", tag = "admin", params(("path" = Option<String>, Query, description = "A part of the path"), ("session_id" = Option<String>, Query), ("api_key" = Option<String>, Query), ("limit" = Option<usize>, Query, description = "At most this many (default: every entry held, at most 10,000)"), ("offset" = Option<usize>, Query, description = "Skip this many of the newest")),
    responses((status = 200, description = "Newest first; X-Total-Count has how many match, Link the next page", body = Vec<Entry>), (status = 400, description = "Bad request", body = crate::http::error::FieldErrorsBody)))]
pub(crate) async fn list_requests(
    State(state): State<AppState>,
    query: QueryMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> Result<axum::response::Response, ApiError> {
    let session_id = match query.get("session_id").filter(|s| !s.is_empty()) {
        Some(text) => {
            Some(Uuid::parse_str(text).map_err(|_| ApiError::field(&["session_id"], "Must be a valid UUID."))?)
        }
        None => None,
    };
    let page = Page::parse(&query, paging::MAX_LIMIT)?;
    let filter = Filter {
        path: query.get("path").filter(|s| !s.is_empty()).map(str::to_owned),
        session_id,
        api_key: super::scope(&state, &query)?,
    };
    let (entries, total) = state.journal().list(&filter, page.offset, page.limit);
    Ok(page.respond(entries, total, &uri.to_string()))
}

#[utoipa::path(delete, path = "/requests", tag = "admin", responses((status = 204, description = "Cleared")))]
pub(crate) async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.journal().clear();
    StatusCode::NO_CONTENT
}

/// `POST /__admin/reset`: sessions, journal and faults cleared, flows back to the start-up set;
/// with `?api_key=K`, only what K owns, and K's clock and seed back to their start (SPEC §16).
#[utoipa::path(post, path = "/reset", tag = "admin", params(("api_key" = Option<String>, Query, description = "Reset only what this key owns; the key and everyone else's stay (SPEC §16)")),
    responses((status = 204, description = "Sessions, journal, faults and webhook attempts cleared; flows back to the start-up set (with api_key: the key's only)"), (status = 404, description = "api_key names no flow or backend key", body = crate::http::error::Detail)))]
pub(crate) async fn reset(
    State(state): State<AppState>,
    Extension(webhooks): Extension<Arc<Webhooks>>,
    query: QueryMap,
) -> Result<StatusCode, ApiError> {
    if let Some(key) = super::scope(&state, &query)? {
        state.reset_key(&key);
    } else {
        state.reset();
        webhooks.clear();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A fault rule, as `POST /__admin/faults` takes it and `GET /__admin/faults` lists it: the next
/// `times` calls of `endpoint` are delayed, answered with an error status, or have their
/// connection dropped.
#[derive(serde::Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultBody {
    #[schema(value_type = crate::http::openapi::Endpoint)]
    endpoint: crate::domain::scripting::Endpoint,
    /// Play only on calls made with this flow or backend key, or about its sessions; `times`
    /// counts only those (SPEC §16). Every call's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_key: Option<String>,
    /// An error status (400-599) answered with `{"detail": ...}`.
    #[serde(default)]
    status: Option<u16>,
    /// The `detail` of that answer; a default wording per status otherwise.
    #[serde(default)]
    detail: Option<String>,
    /// Wait this long before answering (or dropping).
    #[serde(default)]
    delay_ms: u64,
    /// Close the connection without answering.
    #[serde(default)]
    drop_connection: bool,
    #[serde(default = "one")]
    times: u32,
    /// The calls the rule has hit (listed only).
    #[serde(skip_deserializing)]
    #[schema(read_only)]
    calls: u32,
}

fn one() -> u32 {
    1
}

impl FaultBody {
    /// The rule, and the key it is for.
    fn into_rule(self) -> (Option<String>, Fault) {
        let FaultBody { endpoint, api_key, status, detail, delay_ms, drop_connection, times, calls: _ } = self;
        (api_key, Fault { endpoint, status, detail, delay_ms, drop_connection, times })
    }

    fn of(rule: crate::state::AdminRule) -> Self {
        let Fault { endpoint, status, detail, delay_ms, drop_connection, times } = rule.fault;
        Self { endpoint, api_key: rule.key, status, detail, delay_ms, drop_connection, times, calls: rule.calls }
    }
}

/// `POST /__admin/faults` with `{"endpoint", "status"?, "detail"?, "delay_ms"?, "drop_connection"?, "times"}`.
#[utoipa::path(post, path = "/faults", tag = "admin", request_body = FaultBody, responses((status = 201, description = "Created", body = FaultBody), (status = 400, description = "Bad request", body = crate::http::error::FieldErrorsBody)))]
pub(crate) async fn add_fault(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<impl IntoResponse, ApiError> {
    let de = serde_path_to_error::deserialize::<_, FaultBody>(body);
    let (key, fault) = de
        .map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "non_field_errors".to_owned() } else { path };
            ApiError::field(&[&field], e.into_inner().to_string())
        })?
        .into_rule();
    if let Some((field, reason)) = fault.problems().into_iter().next() {
        return Err(ApiError::field(&[field], reason));
    }
    if let Some(key) = key.as_deref().filter(|k| !state.knows_key(k)) {
        return Err(ApiError::field(&["api_key"], crate::state::unknown_key(key, "a rule for it would never play.")));
    }
    state.add_fault(key.clone(), fault.clone());
    Ok((StatusCode::CREATED, Json(FaultBody::of(crate::state::AdminRule { key, fault, calls: 0 }))))
}

/// `GET /__admin/faults?api_key=`: the admin rules (the key's only, when given) and the calls
/// each has hit.
#[utoipa::path(get, path = "/faults", tag = "admin", params(("api_key" = Option<String>, Query, description = "Only the rules for this key (SPEC §16)")),
    responses((status = 200, description = "The rules with their `calls`", body = Vec<FaultBody>), (status = 404, description = "api_key names no flow or backend key", body = crate::http::error::Detail)))]
pub(crate) async fn list_faults(
    State(state): State<AppState>,
    query: QueryMap,
) -> Result<Json<Vec<FaultBody>>, ApiError> {
    let key = super::scope(&state, &query)?;
    Ok(Json(state.faults(key.as_deref()).into_iter().map(FaultBody::of).collect()))
}

/// `GET /__admin/webhooks?limit=&offset=&api_key=`: the delivery attempts held, oldest first.
#[utoipa::path(get, path = "/webhooks", tag = "admin",
    params(("limit" = Option<usize>, Query, description = "At most this many (default: every attempt held, at most 10,000)"), ("offset" = Option<usize>, Query, description = "Skip this many of the oldest"), ("api_key" = Option<String>, Query, description = "Only the attempts of this flow key's sessions (SPEC §16)")),
    responses((status = 200, description = "Delivery attempts, oldest first; X-Total-Count has how many are held, Link the next page", body = Vec<crate::webhook::Attempt>), (status = 400, description = "Bad request", body = crate::http::error::FieldErrorsBody), (status = 404, description = "api_key names no flow or backend key", body = crate::http::error::Detail)))]
pub(crate) async fn list_webhooks(
    State(state): State<AppState>,
    Extension(webhooks): Extension<Arc<Webhooks>>,
    query: QueryMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> Result<axum::response::Response, ApiError> {
    let page = Page::parse(&query, paging::MAX_LIMIT)?;
    let key = super::scope(&state, &query)?;
    let (attempts, total) = webhooks.attempts(key.as_deref(), page.offset, page.limit);
    Ok(page.respond(attempts, total, &uri.to_string()))
}

/// The virtual clock: its time and how far it runs ahead of the real one.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ClockView {
    pub now: String,
    pub offset_seconds: f64,
}

/// The clock as everyone sees it, or as `key`'s sessions do (its own offset added).
fn clock_view(state: &AppState, key: Option<&str>) -> ClockView {
    let (now, offset) = match key {
        Some(key) => (state.now_for(key), state.clock().offset() + state.key_offset(key)),
        None => (state.now(), state.clock().offset()),
    };
    ClockView { now: crate::clock::timestamp(now), offset_seconds: offset.as_seconds_f64() }
}

/// `GET /__admin/clock?api_key=`.
#[utoipa::path(get, path = "/clock", tag = "admin", params(("api_key" = Option<String>, Query, description = "The time of this key's sessions (SPEC §16)")),
    responses((status = 200, description = "OK", body = ClockView), (status = 404, description = "api_key names no flow or backend key", body = crate::http::error::Detail)))]
pub(crate) async fn clock(State(state): State<AppState>, query: QueryMap) -> Result<Json<ClockView>, ApiError> {
    let key = super::scope(&state, &query)?;
    Ok(Json(clock_view(&state, key.as_deref())))
}

/// `POST /__admin/clock/advance` with `{"seconds": N, "api_key"?: K}`: moves the clock forward,
/// so that sessions expire and processing delays pass without waiting; with `api_key`, for K's
/// sessions alone (SPEC §16).
#[utoipa::path(post, path = "/clock/advance", tag = "admin", request_body(content = Object, description = "{\"seconds\": N, \"api_key\"?: K}, N > 0"),
    responses((status = 200, description = "OK", body = ClockView), (status = 400, description = "Bad request", body = crate::http::error::FieldErrorsBody)))]
pub(crate) async fn advance_clock(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<ClockView>, ApiError> {
    let seconds = body.get("seconds").and_then(Value::as_f64).filter(|s| s.is_finite() && *s > 0.0);
    let Some(seconds) = seconds else {
        return Err(ApiError::field(
            &["seconds"],
            "A positive number of seconds is required, e.g. {\"seconds\": 3600}.",
        ));
    };
    let key = match body.get("api_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) if state.knows_key(key) => Some(key.clone()),
        Some(Value::String(key)) => {
            return Err(ApiError::field(&["api_key"], crate::state::unknown_key(key, "no clock of its own to move.")));
        }
        Some(_) => return Err(ApiError::field(&["api_key"], crate::domain::drf::NOT_A_STRING)),
    };
    // Past what a Duration holds is past the clock's end too.
    let by = std::time::Duration::try_from_secs_f64(seconds).unwrap_or(std::time::Duration::MAX);
    let moved = match key.as_deref() {
        Some(key) => state.advance_key_clock(key, by),
        None => state.clock().advance(by),
    };
    moved.map_err(|e| {
        let shown = key.as_deref().map_or_else(|| state.now(), |k| state.now_for(k));
        ApiError::field(&["seconds"], format!("Too far: {e}; the clock shows {}.", crate::clock::timestamp(shown)))
    })?;
    Ok(Json(clock_view(&state, key.as_deref())))
}
