//! The guard of the mock's own API and dashboard (a layer of their routers, not of the vendor's
//! routes, which stay open as the vendor's are). Without `--admin-token` (the default) any web
//! page the developer visits could drive a mock on their machine, as Docker's and Redis's local
//! APIs were driven: so a request that a browser sends across sites — an `Origin` other than the
//! mock's own, an admin body that is not JSON (`text/plain` needs no preflight) — or one to a
//! dotted host name the mock does not answer to (DNS rebinding) is refused, 403 with a `detail`
//! that says why and how to allow it. curl, test code and containers send no `Origin` and use an
//! IP address, `localhost` or a service name, and pass. With `--admin-token`, the token is needed
//! too: `Authorization: Bearer <token>`, or a browser's `?token=`, which the dashboard turns into
//! a cookie so that its links and forms never carry it.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::ApiError;
use crate::state::AppState;

/// The cookie the dashboard keeps the token in (HttpOnly, SameSite=Strict).
const COOKIE: &str = "bkz_mock_token";

/// The layer of `/__admin`: bodies must be JSON.
pub(crate) async fn admin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match foreign(&state, &request, true).or_else(|| unauthorized(&state, &request)) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    }
}

/// The layer of the dashboard: its own forms are URL-encoded. A dashboard opened with `?token=`
/// keeps it in a cookie and goes on at its plain address.
pub(crate) async fn dashboard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(refusal) = foreign(&state, &request, false).or_else(|| unauthorized(&state, &request)) {
        return refusal;
    }
    let token = state.admin_token().and_then(|_| query_token(&request));
    let mut response = next.run(request).await;
    // Nothing of its address (a ?token=, say) goes to the pages its links open.
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if let Some(token) = token {
        let value: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        if let Ok(cookie) = HeaderValue::from_str(&format!("{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/")) {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
    }
    response
}

/// Why `request` looks sent across sites, if it does: an `Origin` that is not the mock's own
/// address, a Host the mock does not answer to, or (`json_bodies`) a body that is not JSON.
fn foreign(state: &AppState, request: &Request, json_bodies: bool) -> Option<Response> {
    let host = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned));
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("(not text)");
        let own = origin.split_once("://").is_some_and(|(_, authority)| {
            Some(authority.to_ascii_lowercase()) == host.as_ref().map(|h| h.to_ascii_lowercase())
        });
        if !own {
            return Some(forbidden(format!(
                "Refused: this request to the mock's own API came from the web page at {origin} (its Origin header). A browser sends one from any page the developer visits, so the mock refuses it; curl, test code and containers send none. Use the dashboard at the mock's own address, or call the API without an Origin."
            )));
        }
    }
    if let Some(host) = &host {
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        if !state.answers_to(name) {
            return Some(forbidden(format!(
                "Refused: the mock's own API does not answer to the Host {name:?} (a page that rebinds its DNS to this machine would use one). It answers to IP addresses, localhost, names without a dot (compose services), the vendor's hosts, --public-url's and --tls-name's: start it with --allowed-host {name} to allow this one."
            )));
        }
    }
    let has_body = !http_body::Body::is_end_stream(request.body());
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if json_bodies && has_body && !crate::body::is_json(content_type) {
        let sent = content_type.map_or_else(|| "no Content-Type".to_owned(), |t| format!("Content-Type {t:?}"));
        return Some(forbidden(format!(
            "Refused: the mock's admin API takes JSON bodies (Content-Type: application/json), and this one came with {sent}. A web page can send a text/plain body to any address without asking, so the mock refuses every other kind."
        )));
    }
    None
}

fn forbidden(detail: String) -> Response {
    ApiError::detail(StatusCode::FORBIDDEN, detail).into_response()
}

/// Why `request` may not reach the mock's own API under `--admin-token`, if it may not. (Not
/// tower-http's bearer validator: deprecated since 0.6.7, it compares with `==`, whose time tells
/// how much of a guess was right, and knows no `?token=`.)
fn unauthorized(state: &AppState, request: &Request) -> Option<Response> {
    let expected = state.admin_token()?;
    // The scheme's name is case-insensitive (RFC 9110, 11.1).
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let cookie = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .and_then(|value| url::form_urlencoded::parse(value.as_bytes()).next().map(|(token, _)| token.into_owned()));
    match bearer.or_else(|| query_token(request)).or(cookie) {
        Some(given) if same_secret(given.as_bytes(), expected.as_bytes()) => None,
        Some(_) => Some(refused("Invalid token.")),
        None => Some(refused("Authentication credentials were not provided.")),
    }
}

/// The `?token=` a browser opened the page with.
fn query_token(request: &Request) -> Option<String> {
    url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// Whether two secrets are equal, in a time that does not depend on where they first differ
/// (only on their lengths), so that timing answers does not reveal the token a byte at a time.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(given.ct_eq(expected))
}

fn refused(detail: &str) -> Response {
    let mut response = ApiError::detail(StatusCode::UNAUTHORIZED, detail).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_equal_only_when_every_byte_is() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        for other in [&b"s3creT"[..], b"S3cret", b"s3cre", b"s3crett", b""] {
            assert!(!same_secret(other, b"s3cret"), "{other:?}");
        }
    }
}
