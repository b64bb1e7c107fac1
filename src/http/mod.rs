//! The emulated vendor API (kyc.biometric.kz): its handlers, error shapes, extractors, lint and
//! the OpenAPI schemas of bodies. With `admin/` and `page/`, the only place that knows status
//! codes; the table of the vendor's routes is `app::routes`.

pub(crate) mod api;
pub(crate) mod backend;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod fault;
pub(crate) mod lint;
pub(crate) mod media;
pub(crate) mod openapi;

use axum::body::Body;
use axum::http::header;
use axum::response::Response;

pub(crate) use error::{ApiError, DropConnection};

/// A JSON body already written out (a result, a report) as a response.
pub(crate) fn json_bytes(body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    response.headers_mut().insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    response
}
