//! The one front every request passes, and the router behind it: every route of the emulated API
//! (`http`), the end-user page and the dashboard (`page`) and `/__admin` (`admin`), assembled
//! here from their `routes!` lists, so the OpenAPI document and the router cannot disagree; then,
//! in front of them, the admin token, the journal and lint, the JSON shape of the framework's own
//! errors, `--state-sync` and the request log. Knows every front; no front knows it.

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::FromRequest as _;
use axum::http::{Method, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Either};
use tower::ServiceExt as _;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::extract::BodyBytes;
use crate::http::lint::Journaled;
use crate::http::{ApiError, CREATE_PATH, RESULT_PATH, api, backend, lint, media, missing_slash, openapi};
use crate::state::AppState;
use crate::webhook::Webhooks;
use std::sync::Arc;

/// Every route the server serves, each with its OpenAPI description: the emulated API, the
/// end-user page, the dashboard and `/__admin`. Routes are added here only through `routes!`, so
/// the document (`openapi::document`) and the router cannot disagree.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(api::create_session))
        .routes(routes!(api::session_result))
        .routes(routes!(media::liveness_video))
        .routes(routes!(media::session_report))
        .routes(routes!(media::generate_files))
        .routes(routes!(backend::liveness_short))
        .routes(routes!(backend::face2face_compare))
        .routes(routes!(backend::document_parse))
        .routes(routes!(backend::document_process))
        .routes(routes!(backend::persons))
        .routes(routes!(backend::edocument_request))
        .routes(routes!(backend::edocument_approve))
        .nest("/__admin", crate::admin::routes())
        .merge(crate::page::routes())
        .merge(crate::page::dashboard::routes())
        .merge(crate::widget::routes())
}

/// The whole application: every route behind the one front layer. Built by a plain function so
/// tests and the in-process handle can use it without a socket.
pub fn app(state: AppState, webhooks: Arc<Webhooks>) -> App {
    let (documented, document) = routes().split_for_parts();
    openapi::publish(document);
    let router = documented
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.max_body()))
        // The admin API lists and clears the webhook attempts.
        .layer(axum::Extension(webhooks))
        .with_state(state.clone());
    App { state, router }
}

/// The router with what every request goes through first, outermost first: `--admin-token`, the
/// journal and lint (which must see the status the client gets), the vendor's JSON shape for the
/// framework's own errors.
///
/// One plain function rather than a `from_fn` layer each: `Router::layer` wraps every route, and
/// each layer cloned and boxed the whole stack below it on every request — measurably slower on
/// the hot vendor endpoints (BENCHMARKS.md).
#[derive(Clone)]
pub struct App {
    state: AppState,
    router: Router,
}

/// What `App::handle` answers a request with: the answer itself when it is made at once (result
/// polling, which suites run in a loop, and every refusal before a handler), else a future.
/// Small either way: hyper moves it whole, several times, on every request (BENCHMARKS.md).
pub type Answering = Either<std::future::Ready<Response>, BoxFuture<'static, Response>>;

impl App {
    /// Answers one request. The app is the connection's own handle (`Arc`), cloned into the
    /// future of a request that needs one: a reference count the connection's core alone writes.
    pub fn handle(self: &Arc<Self>, request: Request<Body>) -> Answering {
        // Nothing is paid for the line when nobody asked for it, or nobody reads it (RUST_LOG=warn).
        let logged = (self.state.log_requests()
            && tracing::enabled!(target: "biometric_kz_mock::request", tracing::Level::INFO))
        .then(|| (std::time::Instant::now(), request.method().clone(), request.uri().path().to_owned()));
        let answering = self.answer(request);
        match logged {
            None => answering,
            Some((started, method, path)) => Either::Right(Box::pin(answering.map(move |response| {
                log_request(&method, &path, &response, started.elapsed());
                response
            }))),
        }
    }

    fn answer(self: &Arc<Self>, request: Request<Body>) -> Answering {
        if let Some(refusal) = admin_auth(&self.state, &request) {
            return Either::Left(std::future::ready(refusal));
        }
        let answering = self.journaled(request);
        if !self.state.state_sync() {
            return answering;
        }
        let app = Arc::clone(self);
        Either::Right(Box::pin(async move {
            let response = answering.await;
            if app.state.has_unsaved_changes() { synced(&app.state, response).await } else { response }
        }))
    }

    /// The answer to `request`, journaled (`lint::open`) unless it is for `/__admin` or the
    /// dashboard.
    fn journaled(self: &Arc<Self>, request: Request<Body>) -> Answering {
        let (journaled, recording) = match lint::open(&self.state, &request) {
            lint::Opened::Refused(refusal) => return Either::Left(std::future::ready(refusal)),
            lint::Opened::Unjournaled => {
                let app = Arc::clone(self);
                return Either::Right(Box::pin(async move { app.dispatch(request, None).await }));
            }
            lint::Opened::Journaled(journaled, recording) => (journaled, recording),
        };
        // Result polling goes straight to the handler `routes()` registers and documents for
        // it, with the query and notes the journal already has, skipping the router and the
        // extractors; it is answered at once unless a scripted fault must be played first.
        if (request.method(), request.uri().path()) == (&Method::GET, RESULT_PATH) {
            let Journaled { notes, query, session_in_query } = &journaled;
            return match api::result(&self.state, notes, query, *session_in_query) {
                api::Polled::Answered(response) => {
                    Either::Left(std::future::ready(recording.close(&self.state, response)))
                }
                api::Polled::AfterFault(fault, id) => {
                    let app = Arc::clone(self);
                    Either::Right(Box::pin(async move {
                        let response = api::result_after_fault(&app.state, &journaled.notes, fault, id).await;
                        recording.close(&app.state, response)
                    }))
                }
            };
        }
        if (request.method(), request.uri().path()) == (&Method::POST, CREATE_PATH) {
            return Either::Right(Box::pin(Arc::clone(self).create(request, journaled, recording)));
        }
        let app = Arc::clone(self);
        Either::Right(Box::pin(async move {
            let response = app.dispatch(request, Some(journaled)).await;
            recording.close(&app.state, response)
        }))
    }

    /// Session create, which suites call often: straight to the handler `routes()` registers
    /// and documents for it, in a future of its own. One with room for the router's (`dispatch`)
    /// was moved whole into its box on every create, at 2.4 times the size.
    // Not an `async fn`: one keeps its arguments apart from the locals they become, and its
    // future is 1,280 bytes where this block's is 872 (the size test below).
    #[expect(clippy::manual_async_fn, reason = "an async fn's future is half as large again")]
    fn create(
        self: Arc<Self>,
        request: Request<Body>,
        journaled: Journaled,
        recording: lint::Recording,
    ) -> impl Future<Output = Response> + Send + 'static {
        async move {
            let response = match BodyBytes::from_request(request, &self.state).await {
                Ok(body) => api::create(&self.state, &journaled.notes, body).await.into_response(),
                Err(refusal) => refusal.into_response(),
            };
            recording.close(&self.state, response)
        }
    }

    /// The router's answer to a journaled request (or, for `/__admin` and the dashboard, one
    /// the journal does not cover), in the vendor's JSON shape when the framework answered.
    /// Result polling and session create are answered without it (`journaled`).
    async fn dispatch(&self, mut request: Request<Body>, journaled: Option<Journaled>) -> Response {
        if let Some(journaled) = journaled {
            journaled.into_extensions(&mut request);
        }
        let method = request.method().clone();
        let response = self.router.clone().oneshot(request).await.unwrap_or_else(|never| match never {});
        // The framework's own refusals (a 405, say) get the vendor's JSON shape; the two
        // handlers that skip the router answer in it already, and pay for no check.
        if needs_json_shape(&response) { json_framework_errors(&method, response).await } else { response }
    }
}

/// One line per request (`--log-requests`): method, path, status, time, and the codes of its
/// lint warnings (read from its `X-Mock-Lint` headers, so every front's are there).
fn log_request(method: &Method, path: &str, response: &Response, took: std::time::Duration) {
    let lint: Vec<&str> = response
        .headers()
        .get_all(lint::X_MOCK_LINT)
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

/// `--admin-token`: `/__admin` and the dashboard need `Authorization: Bearer <token>` (or, for a
/// browser, `?token=`). The emulated API stays open, as the vendor's is; so does
/// `/__admin/health`, which container health checks call without credentials. The refusal, if
/// any. (Not tower-http's bearer validator: deprecated since 0.6.7, it compares with `==`,
/// whose time tells how much of a guess was right, and knows neither `?token=` nor the
/// exemptions.)
fn admin_auth(state: &AppState, request: &Request<Body>) -> Option<Response> {
    let expected = state.admin_token()?;
    let path = request.uri().path();
    let guarded =
        (path.starts_with("/__admin") && path != "/__admin/health") || path == "/" || path.starts_with("/dashboard/");
    if !guarded {
        return None;
    }
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let query_token = url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned());
    match bearer.or(query_token) {
        Some(given) if same_secret(given.as_bytes(), expected.as_bytes()) => None,
        Some(_) => Some(unauthorized("Invalid token.")),
        None => Some(unauthorized("Authentication credentials were not provided.")),
    }
}

/// Whether two secrets are equal, in a time that does not depend on where they first differ
/// (only on their lengths), so that timing answers does not reveal the token a byte at a time.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(given.ct_eq(expected))
}

/// The net under every request: if `answer` panics (a bug of ours), making its answer or
/// polling the future it made, the client gets a 500 in the vendor's shape that says so instead
/// of a closed connection, and the log says what happened. Our own rather than tower-http's
/// `CatchPanicLayer`, which boxed every answer's body once more and put two more services
/// between hyper and the app.
pub(crate) fn caught<F: Future<Output = Response>>(answer: impl FnOnce() -> F) -> Caught<F> {
    let answering = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(answer)) {
        Ok(answering) => answering,
        Err(payload) => return Either::Left(std::future::ready(panicked(&*payload))),
    };
    let unwound: fn(std::thread::Result<Response>) -> Response =
        |caught| caught.unwrap_or_else(|payload| panicked(&*payload));
    Either::Right(std::panic::AssertUnwindSafe(answering).catch_unwind().map(unwound))
}

/// The future `caught` answers with: named, so that it holds nothing of the closure that made it.
pub(crate) type Caught<F> = Either<
    std::future::Ready<Response>,
    futures_util::future::Map<
        futures_util::future::CatchUnwind<std::panic::AssertUnwindSafe<F>>,
        fn(std::thread::Result<Response>) -> Response,
    >,
>;

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

fn unauthorized(detail: &str) -> Response {
    let mut response = ApiError::detail(StatusCode::UNAUTHORIZED, detail).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
    response
}

/// Unknown paths answer DRF's 404; a vendor path without its trailing slash says which path
/// was meant, because the vendor (Django) would not serve it either.
async fn not_found(uri: Uri) -> ApiError {
    match missing_slash(uri.path()) {
        Some(meant) => ApiError::not_found(format!("Not found. The vendor's paths end with a slash: use {meant}")),
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

    #[test]
    fn secrets_compare_equal_only_when_every_byte_is() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        for other in [&b"s3creT"[..], b"S3cret", b"s3cre", b"s3crett", b""] {
            assert!(!same_secret(other, b"s3cret"), "{other:?}");
        }
    }

    /// The app as the server builds it with the default configuration, as a connection holds it.
    async fn built_app() -> Arc<App> {
        let config = crate::Config { port: 0, ..crate::Config::default() };
        Arc::new(crate::Application::build(config).await.unwrap().app())
    }

    /// hyper moves the future of every request whole, several times over, before it runs: an
    /// `async fn` step that holds its request beside the future it makes of it doubled this
    /// (5.7 KB under the panic net, a copy of which showed as 8 % of result polling's throughput).
    /// Since result polling is answered without a future, it is the size of an answer.
    #[tokio::test]
    async fn the_future_every_request_carries_stays_small() {
        let app = built_app().await;
        let request = Request::get(crate::http::RESULT_PATH).body(Body::empty()).unwrap();
        let answering = caught(|| app.handle(request));
        let size = std::mem::size_of_val(&answering);
        assert!(size <= 256, "the future of a request is {size} bytes");
        assert_eq!(answering.await.status(), StatusCode::BAD_REQUEST, "and it still answers");
    }

    /// A create's future is boxed, which moves it whole once: without the router's room it is
    /// 872 bytes, where one future for both was 2,120.
    #[tokio::test]
    async fn a_creates_future_has_no_room_for_the_routers() {
        let app = built_app().await;
        let body = r#"{"api_key": "TTpme201NiUMBA_mock-flow-for-everyone-0000000000"}"#;
        let request = Request::post(crate::http::CREATE_PATH).body(Body::from(body)).unwrap();
        let lint::Opened::Journaled(journaled, recording) = lint::open(&app.state, &request) else {
            panic!("a create is journaled");
        };
        let creating = Arc::clone(&app).create(request, journaled, recording);
        let size = std::mem::size_of_val(&creating);
        assert!(size <= 1024, "the future of a create is {size} bytes");
        assert_eq!(creating.await.status(), StatusCode::OK, "and it still creates");
    }

    #[tokio::test]
    async fn a_panicking_handler_still_answers_500_in_the_vendor_shape() {
        let request = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let detail = async |response: Response| {
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            json["detail"].as_str().unwrap().to_owned()
        };
        // Panicking while its future runs, and while making the answer (or the future).
        let polled = detail(caught(|| answer(request("/boom"))).await).await;
        assert!(polled.ends_with("): boom at /boom"), "{polled}");
        let made = caught(|| -> std::future::Ready<Response> { panic!("boom while making it") }).await;
        let made = detail(made).await;
        assert!(made.ends_with("): boom while making it"), "{made}");
        let calm = caught(|| answer(request("/calm"))).await;
        assert_eq!(calm.status(), StatusCode::NO_CONTENT, "no panic, the answer as it was");
    }
}
