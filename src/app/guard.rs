//! The guard of the mock's own API and dashboard (a layer of their routers, not of the vendor's
//! routes, which stay open as the vendor's are): `--admin-token`, as `Authorization: Bearer
//! <token>` or, for a browser, `?token=`.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::ApiError;
use crate::state::AppState;

/// The layer: the request, if the guard lets it through; else the refusal.
pub(crate) async fn guarded(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match refusal(&state, &request) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    }
}

/// Why `request` may not reach the mock's own API, if it may not. (Not tower-http's bearer
/// validator: deprecated since 0.6.7, it compares with `==`, whose time tells how much of a
/// guess was right, and knows no `?token=`.)
fn refusal(state: &AppState, request: &Request) -> Option<Response> {
    let expected = state.admin_token()?;
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

fn unauthorized(detail: &str) -> Response {
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
