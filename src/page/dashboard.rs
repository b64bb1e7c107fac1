//! `GET /`: the dashboard — flows with their keys, recent sessions with their state and links,
//! the scenarios — and its forms to add and delete flows at run time (POST, then 303 back).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::html;
use crate::domain::TechnologyCode;
use crate::domain::backend::{BackendKeySpec, Service};
use crate::domain::flow::FlowSpec;
use crate::state::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard))
        .routes(routes!(add_flow))
        .routes(routes!(delete_flow))
        .routes(routes!(add_backend_key))
        .routes(routes!(delete_backend_key))
}

struct BackendKeyRow {
    name: String,
    api_key: String,
    technologies: String,
    scenario: String,
}

struct BackendSessionRow {
    id: String,
    iin: String,
    phone: String,
    otp: String,
    state: &'static str,
    created_at: String,
}

struct FlowRow {
    name: String,
    api_key: String,
    technologies: String,
    scenario: String,
    webhook_urls: Vec<String>,
}

struct SessionRow {
    id: String,
    flow_name: String,
    status: &'static str,
    steps: String,
    scenario: String,
    /// In full (RFC 3339, microseconds), for the `datetime` attribute.
    created_at: String,
    /// To the second, as a person reads it.
    created_at_shown: String,
}

struct ScenarioRow {
    name: String,
    description: String,
    iins: Vec<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    base: String,
    flows: Vec<FlowRow>,
    sessions: Vec<SessionRow>,
    session_count: usize,
    scenarios: Vec<ScenarioRow>,
    codes: Vec<&'static str>,
    backend_keys: Vec<BackendKeyRow>,
    backend_sessions: Vec<BackendSessionRow>,
    services: Vec<&'static str>,
    error: Option<String>,
    /// Why the state file cannot be written, while it cannot.
    state_file_error: Option<String>,
    /// The longest name of a flow or a backend key (`MAX_NAME`), for the forms.
    max_name: usize,
    /// The key the sessions are filtered by (`/?api_key=`, SPEC §16).
    key: Option<String>,
}

/// How many sessions the dashboard lists.
const RECENT: usize = 50;

fn render(state: &AppState, error: Option<&str>) -> Response {
    render_for(state, None, error)
}

/// The dashboard, its sessions and backend sessions `key`'s only when given.
fn render_for(state: &AppState, key: Option<&str>, error: Option<&str>) -> Response {
    let (sessions, session_count) = state.page_of_sessions(key, 0, RECENT, |s| SessionRow {
        id: s.id().to_string(),
        flow_name: s.flow_name().to_owned(),
        status: s.status().as_str(),
        steps: s.steps().iter().map(|st| format!("{} {}", st.code, st.state.as_str())).collect::<Vec<_>>().join(", "),
        scenario: s.scenario().to_owned(),
        created_at: crate::clock::timestamp(s.created_at()),
        // "2026-11-29T07:09:54.123456Z" -> "2026-11-29 07:09:54".
        created_at_shown: crate::clock::timestamp(s.created_at())[..19].replace('T', " "),
    });
    let page = Dashboard {
        base: state.public_url().to_owned(),
        flows: state
            .flows()
            .into_iter()
            .map(|f| FlowRow {
                name: f.name,
                api_key: f.api_key.as_str().to_owned(),
                technologies: TechnologyCode::list(&f.technologies),
                scenario: f.scenario.unwrap_or_default(),
                webhook_urls: f.webhook_urls,
            })
            .collect(),
        session_count,
        sessions,
        max_name: crate::domain::flow::MAX_NAME,
        state_file_error: state
            .save_status()
            .and_then(|(path, saves)| Some(format!("{} — {}", path.display(), saves.failing?.1))),
        scenarios: state
            .scenarios()
            .iter()
            .map(|s| ScenarioRow {
                name: s.name.clone(),
                description: s.description.clone(),
                iins: s.match_iins.iter().map(|i| i.as_str().to_owned()).collect(),
            })
            .collect(),
        codes: TechnologyCode::ALL.iter().map(|c| c.as_str()).collect(),
        backend_keys: state
            .backend_keys()
            .into_iter()
            .map(|k| BackendKeyRow {
                name: k.name,
                api_key: k.api_key.as_str().to_owned(),
                technologies: k.services.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                scenario: k.scenario.unwrap_or_default(),
            })
            .collect(),
        key: key.map(str::to_owned),
        backend_sessions: state
            .backend_sessions(key)
            .into_iter()
            .rev()
            .take(RECENT)
            .map(|s| BackendSessionRow {
                id: s.id.to_string(),
                iin: s.iin,
                phone: s.phone,
                otp: s.otp,
                state: s.state.as_str(),
                created_at: s.created_at,
            })
            .collect(),
        services: Service::ALL.iter().map(|s| s.as_str()).collect(),
        error: error.map(str::to_owned),
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    (status, html(&page)).into_response()
}

#[utoipa::path(get, path = "/", tag = "dashboard", params(("api_key" = Option<String>, Query, description = "Only this key's sessions and backend sessions (SPEC §16)")),
    responses((status = 200, description = "The dashboard", content_type = "text/html"), (status = 400, description = "api_key names no flow or backend key", content_type = "text/html")))]
async fn dashboard(
    State(state): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<Filter>,
) -> Response {
    match query.api_key.as_deref().filter(|k| !k.is_empty()) {
        Some(key) if state.knows_key(key) => render_for(&state, Some(key), None),
        Some(key) => render(&state, Some(&crate::state::unknown_key(key, "showing every key's sessions."))),
        None => render(&state, None),
    }
}

/// The dashboard's query: the key it shows the sessions of.
#[derive(serde::Deserialize)]
struct Filter {
    api_key: Option<String>,
}

/// The add-flow form: a flow as the admin API takes it, the key generated.
#[utoipa::path(post, path = "/dashboard/flows", tag = "dashboard", operation_id = "dashboard_add_flow", request_body(content_type = "application/x-www-form-urlencoded", description = "name, technologies (repeated), scenario, webhook_urls (up to 5, one per line), webhook_url"),
    responses((status = 303, description = "Back to the dashboard"), (status = 400, description = "The flow was refused", content_type = "text/html")))]
async fn add_flow(State(state): State<AppState>, body: Bytes) -> Response {
    let mut name = String::new();
    let mut technologies = Vec::new();
    let mut scenario = None;
    let mut webhook_url = None;
    let mut webhook_urls = Vec::new();
    for (key, value) in url::form_urlencoded::parse(&body) {
        let value = value.trim().to_owned();
        match key.as_ref() {
            "name" => name = value,
            "technologies" => technologies.push(value),
            "scenario" if !value.is_empty() => scenario = Some(value),
            "webhook_url" if !value.is_empty() => webhook_url = Some(value),
            // One URL per line (a textarea).
            "webhook_urls" => {
                webhook_urls.extend(value.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned));
            }
            _ => {}
        }
    }
    let webhook_urls = Some(webhook_urls).filter(|urls| !urls.is_empty());
    let spec = FlowSpec { name, api_key: None, technologies, scenario, webhook_url, webhook_urls, seed: None };
    let mut generate = || state.generate_api_key(None, "");
    let added = spec
        .into_flow("", Some(&mut generate))
        .map_err(|e| format!("{}: {}", e.path, e.reason))
        .and_then(|flow| state.add_flow(flow).map_err(|e| e.to_string()));
    match added {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => render(&state, Some(&e)),
    }
}

/// The add-key form: a Backend API key as the admin API takes it, the key generated.
#[utoipa::path(post, path = "/dashboard/backend-keys", tag = "dashboard", operation_id = "dashboard_add_backend_key", request_body(content_type = "application/x-www-form-urlencoded", description = "name, technologies (repeated; none: every one)"),
    responses((status = 303, description = "Back to the dashboard"), (status = 400, description = "The key was refused", content_type = "text/html")))]
async fn add_backend_key(State(state): State<AppState>, body: Bytes) -> Response {
    let mut name = String::new();
    let mut technologies = Vec::new();
    for (key, value) in url::form_urlencoded::parse(&body) {
        match key.as_ref() {
            "name" => value.trim().clone_into(&mut name),
            "technologies" => technologies.push(value.into_owned()),
            _ => {}
        }
    }
    let technologies = Some(technologies).filter(|t| !t.is_empty());
    let spec =
        BackendKeySpec { name, api_key: None, technologies, subscription_started: true, scenario: None, seed: None };
    let mut generate = || state.generate_api_key(None, "");
    let added = spec
        .into_key("", Some(&mut generate))
        .map_err(|e| format!("{}: {}", e.path, e.reason))
        .and_then(|key| state.add_backend_key(key).map_err(|e| e.to_string()));
    match added {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => render(&state, Some(&e)),
    }
}

#[utoipa::path(post, path = "/dashboard/backend-keys/{api_key}/delete", tag = "dashboard", operation_id = "dashboard_delete_backend_key", params(("api_key" = String, Path)), responses((status = 303, description = "Back to the dashboard")))]
async fn delete_backend_key(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    state.delete_backend_key(&key);
    Redirect::to("/").into_response()
}

#[utoipa::path(post, path = "/dashboard/flows/{api_key}/delete", tag = "dashboard", operation_id = "dashboard_delete_flow", params(("api_key" = String, Path)), responses((status = 303, description = "Back to the dashboard")))]
async fn delete_flow(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    state.delete_flow(&key);
    Redirect::to("/").into_response()
}
