//! The one front every request passes, and the router behind it: the vendor's routes from their
//! table (`routes.rs`) under the journal (`journaling.rs`), `/__admin` and the dashboard under the
//! admin guard (`guard.rs`). In front of the router, only what concerns every answer: the vendor's
//! JSON shape for the framework's own errors, `--state-sync`, the request log, and the panic net.
//! Knows every front; no front knows it.

mod guard;
mod journaling;
pub(crate) mod routes;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt as _;
use tower::ServiceExt as _;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::http::{ApiError, openapi};
use crate::state::AppState;
use crate::webhook::Webhooks;

/// Every route the server serves, each with its OpenAPI description: the vendor's routes, the
/// dashboard and `/__admin`, each front under its own layer.
pub(crate) fn routes(state: &AppState, webhooks: Arc<Webhooks>) -> OpenApiRouter<AppState> {
    let vendor = routes::router()
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), journaling::journaled))
        // The result endpoint's kept answers.
        .layer(axum::Extension(Arc::new(crate::http::api::FinalAnswers::default())));
    let admin = crate::admin::routes()
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::admin))
        // The admin API lists and clears the webhook attempts.
        .layer(axum::Extension(webhooks))
        // Container health checks call it without credentials.
        .merge(crate::admin::open_routes());
    let dashboard =
        crate::page::dashboard::routes().layer(axum::middleware::from_fn_with_state(state.clone(), guard::dashboard));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()).merge(vendor).nest("/__admin", admin).merge(dashboard)
}

/// The whole application. Built by a plain function so tests and the in-process handle can use
/// it without a socket.
pub(crate) fn app(state: AppState, webhooks: Arc<Webhooks>) -> App {
    let (documented, document) = routes(&state, webhooks).split_for_parts();
    openapi::publish(document);
    let router = documented
        // `--max-body` is the server's (`body::limits`), on every request's body.
        .layer(DefaultBodyLimit::disable())
        .with_state(state.clone());
    App { state, router }
}

/// The router, and what every answer goes through after it.
#[derive(Clone)]
pub(crate) struct App {
    state: AppState,
    router: Router,
}

impl App {
    /// Answers one request.
    pub(crate) async fn handle(&self, request: Request<Body>) -> Response {
        // Nothing is paid for the line when nobody asked for it, or nobody reads it (RUST_LOG=warn).
        let logged = (self.state.log_requests()
            && tracing::enabled!(target: "biometric_kz_mock::request", tracing::Level::INFO))
        .then(|| (std::time::Instant::now(), request.uri().path().to_owned()));
        let method = request.method().clone();
        let answering = self.router.clone().oneshot(request);
        let (answered, changed) = crate::state::noting_change(answering).await;
        let mut response = answered.unwrap_or_else(|never| match never {});
        if needs_json_shape(&response) {
            response = json_framework_errors(&method, response).await;
        }
        // Only a change can fail to be written: reads and health answer whatever the disk does.
        if changed && self.state.state_sync() {
            response = synced(&self.state, response).await;
        }
        if let Some((started, path)) = logged {
            log_request(&method, &path, &response, started.elapsed());
        }
        response
    }
}

/// One line per request (`--log-requests`): method, path, status, time, and the codes of its
/// lint warnings (read from its `X-Mock-Lint` headers, so every front's are there).
fn log_request(method: &Method, path: &str, response: &Response, took: std::time::Duration) {
    let lint: Vec<&str> = response
        .headers()
        .get_all(crate::http::lint::X_MOCK_LINT)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(':').next())
        .collect();
    let status = response.status().as_u16();
    let ms = took.as_secs_f64() * 1000.0;
    if lint.is_empty() {
        tracing::info!(target: "biometric_kz_mock::request", "{method} {path} {status} {ms:.3} ms");
    } else {
        tracing::info!(target: "biometric_kz_mock::request", "{method} {path} {status} {ms:.3} ms lint: {}", lint.join(", "));
    }
}

/// `--state-sync`: the response to a request that changed something goes out once the state
/// file holds the change; if it cannot be written, the client learns so (503) instead.
async fn synced(state: &AppState, response: Response) -> Response {
    let saving = state.clone();
    let written = tokio::task::spawn_blocking(move || saving.save(false)).await;
    let why = match written {
        Ok(Ok(())) => return response,
        Ok(Err(e)) => e.to_string(),
        Err(e) => format!("the saving thread failed: {e}"),
    };
    let detail = format!("The change was made, but --state-sync could not write it to the state file: {why}");
    ApiError::detail(StatusCode::SERVICE_UNAVAILABLE, detail).into_response()
}

/// The net under every request: if answering it panics (a bug of ours), the client gets a 500
/// in the vendor's shape that says so instead of a closed connection, and the log says what
/// happened.
pub(crate) async fn caught(answering: impl Future<Output = Response>) -> Response {
    std::panic::AssertUnwindSafe(answering).catch_unwind().await.unwrap_or_else(|payload| panicked(&*payload))
}

/// The answer to a request whose handler panicked with `payload`.
fn panicked(payload: &(dyn std::any::Any + Send)) -> Response {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!("a request handler panicked: {what}");
    let detail =
        format!("The mock failed while answering this request (a bug: please report it with the request): {what}");
    ApiError::detail(StatusCode::INTERNAL_SERVER_ERROR, detail).into_response()
}

/// Unknown paths answer DRF's 404; a vendor path without its trailing slash says which path
/// was meant, because the vendor (Django) would not serve it either.
async fn not_found(uri: Uri) -> ApiError {
    match routes::meant(uri.path()) {
        Some(_) => ApiError::not_found(format!("Not found. The vendor's paths end with a slash: use {}/", uri.path())),
        None => ApiError::not_found("Not found."),
    }
}

/// Whether `json_framework_errors` has anything to do: a client error whose body is not already
/// JSON (or the end-user page's own HTML).
fn needs_json_shape(response: &Response) -> bool {
    response.status().is_client_error()
        && !response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html"))
}

/// The framework answers some requests itself (405 for a known path with another method, for
/// one) with an empty or plain-text body; give those the vendor's JSON shape, keeping headers
/// such as `Allow`.
async fn json_framework_errors(method: &Method, response: Response) -> Response {
    let status = response.status();
    let (mut parts, body) = response.into_parts();
    let detail = if status == StatusCode::METHOD_NOT_ALLOWED {
        format!("Method \"{method}\" not allowed.")
    } else {
        let text = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&text).trim().to_owned();
        if text.is_empty() { status.canonical_reason().unwrap_or("Error").to_owned() } else { text }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut fresh = ApiError::detail(status, detail).into_response();
    let headers = std::mem::take(fresh.headers_mut());
    parts.headers.extend(headers);
    let body = if method == Method::HEAD { Body::empty() } else { fresh.into_body() };
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers 204 after a first poll that yields, or panics if the request says `boom`.
    async fn answer(request: Request<Body>) -> Response {
        tokio::task::yield_now().await;
        assert!(request.uri().path() != "/boom", "boom at {}", request.uri());
        StatusCode::NO_CONTENT.into_response()
    }

    #[tokio::test]
    async fn a_panicking_handler_still_answers_500_in_the_vendor_shape() {
        let request = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let polled = caught(answer(request("/boom"))).await;
        assert_eq!(polled.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(polled.into_body(), 1 << 16).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let detail = json["detail"].as_str().unwrap();
        assert!(detail.ends_with("): boom at /boom"), "{detail}");
        let calm = caught(answer(request("/calm"))).await;
        assert_eq!(calm.status(), StatusCode::NO_CONTENT, "no panic, the answer as it was");
    }
}
