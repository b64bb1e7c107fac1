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
}

impl From<FlowBody> for FlowSpec {
    fn from(body: FlowBody) -> Self {
        let FlowBody { name, technologies, api_key, scenario, webhook_url, webhook_urls } = body;
        Self { name, api_key, technologies, scenario, webhook_url, webhook_urls }
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
    let mut generate = || state.generate_api_key();
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

/// `DELETE /__admin/flows/{api_key}`: the flow goes; its sessions stay.
#[utoipa::path(delete, path = "/flows/{api_key}", tag = "admin", params(("api_key" = String, Path)), responses((status = 204, description = "Deleted; its sessions stay"), (status = 404, description = "Not found", body = crate::http::error::Detail)))]
pub(crate) async fn delete_flow(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.delete_flow(&key) { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NotFound) }
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
        api_key: query.get("api_key").filter(|s| !s.is_empty()).map(str::to_owned),
    };
    let (entries, total) = state.journal().list(&filter, page.offset, page.limit);
    Ok(page.respond(entries, total, &uri.to_string()))
}

#[utoipa::path(delete, path = "/requests", tag = "admin", responses((status = 204, description = "Cleared")))]
pub(crate) async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.journal().clear();
    StatusCode::NO_CONTENT
}

/// `POST /__admin/reset`: sessions, journal and faults cleared, flows back to the start-up set.
#[utoipa::path(post, path = "/reset", tag = "admin", responses((status = 204, description = "Sessions, journal, faults and webhook attempts cleared; flows back to the start-up set")))]
pub(crate) async fn reset(State(state): State<AppState>, Extension(webhooks): Extension<Arc<Webhooks>>) -> StatusCode {
    state.reset();
    webhooks.clear();
    StatusCode::NO_CONTENT
}

/// A fault rule, as `POST /__admin/faults` takes it and `GET /__admin/faults` lists it: the next
/// `times` calls of `endpoint` are delayed, answered with an error status, or have their
/// connection dropped.
#[derive(serde::Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultBody {
    #[schema(value_type = crate::http::openapi::Endpoint)]
    endpoint: crate::domain::scripting::Endpoint,
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

impl From<FaultBody> for Fault {
    fn from(body: FaultBody) -> Self {
        let FaultBody { endpoint, status, detail, delay_ms, drop_connection, times, calls: _ } = body;
        Self { endpoint, status, detail, delay_ms, drop_connection, times }
    }
}

impl FaultBody {
    fn of(fault: Fault, calls: u32) -> Self {
        let Fault { endpoint, status, detail, delay_ms, drop_connection, times } = fault;
        Self { endpoint, status, detail, delay_ms, drop_connection, times, calls }
    }
}

/// `POST /__admin/faults` with `{"endpoint", "status"?, "detail"?, "delay_ms"?, "drop_connection"?, "times"}`.
#[utoipa::path(post, path = "/faults", tag = "admin", request_body = FaultBody, responses((status = 201, description = "Created", body = FaultBody), (status = 400, description = "Bad request", body = crate::http::error::FieldErrorsBody)))]
pub(crate) async fn add_fault(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<impl IntoResponse, ApiError> {
    let de = serde_path_to_error::deserialize::<_, FaultBody>(body);
    let fault = Fault::from(de.map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "non_field_errors".to_owned() } else { path };
        ApiError::field(&[&field], e.into_inner().to_string())
    })?);
    if let Some((field, reason)) = fault.problems().into_iter().next() {
        return Err(ApiError::field(&[field], reason));
    }
    state.add_fault(fault.clone());
    Ok((StatusCode::CREATED, Json(FaultBody::of(fault, 0))))
}

/// `GET /__admin/faults`: the admin rules and the calls each has hit.
#[utoipa::path(get, path = "/faults", tag = "admin", responses((status = 200, description = "The rules with their `calls`", body = Vec<FaultBody>)))]
pub(crate) async fn list_faults(State(state): State<AppState>) -> Json<Vec<FaultBody>> {
    Json(state.faults().into_iter().map(|(fault, calls)| FaultBody::of(fault, calls)).collect())
}

/// `GET /__admin/webhooks?limit=&offset=`: the delivery attempts held, oldest first.
#[utoipa::path(get, path = "/webhooks", tag = "admin",
    params(("limit" = Option<usize>, Query, description = "At most this many (default: every attempt held, at most 10,000)"), ("offset" = Option<usize>, Query, description = "Skip this many of the oldest")),
    responses((status = 200, description = "Delivery attempts, oldest first; X-Total-Count has how many are held, Link the next page", body = Vec<crate::webhook::Attempt>), (status = 400, description = "Bad request", body = crate::http::error::FieldErrorsBody)))]
pub(crate) async fn list_webhooks(
    Extension(webhooks): Extension<Arc<Webhooks>>,
    query: QueryMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> Result<axum::response::Response, ApiError> {
    let page = Page::parse(&query, paging::MAX_LIMIT)?;
    let (attempts, total) = webhooks.attempts(page.offset, page.limit);
    Ok(page.respond(attempts, total, &uri.to_string()))
}

/// The virtual clock: its time and how far it runs ahead of the real one.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ClockView {
    pub now: String,
    pub offset_seconds: f64,
}

fn clock_view(state: &AppState) -> ClockView {
    ClockView { now: crate::clock::timestamp(state.now()), offset_seconds: state.clock().offset().as_seconds_f64() }
}

/// `GET /__admin/clock`.
#[utoipa::path(get, path = "/clock", tag = "admin", responses((status = 200, description = "OK", body = ClockView)))]
pub(crate) async fn clock(State(state): State<AppState>) -> Json<ClockView> {
    Json(clock_view(&state))
}

/// `POST /__admin/clock/advance` with `{"seconds": N}`: moves the clock forward, so that
/// sessions expire and processing delays pass without waiting.
#[utoipa::path(post, path = "/clock/advance", tag = "admin", request_body(content = Object, description = "{\"seconds\": N}, N > 0"),
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
    // Past what a Duration holds is past the clock's end too.
    let by = std::time::Duration::try_from_secs_f64(seconds).unwrap_or(std::time::Duration::MAX);
    state.clock().advance(by).map_err(|e| {
        ApiError::field(
            &["seconds"],
            format!("Too far: {e}; the clock shows {}.", crate::clock::timestamp(state.now())),
        )
    })?;
    Ok(Json(clock_view(&state)))
}
