//! The emulated vendor API (kyc.biometric.kz): its handlers, error shapes, extractors, lint and
//! the OpenAPI schemas of bodies read as raw JSON. With `admin/` and `page/`, the only place that
//! knows status codes; the router of every route is assembled in `app`, not here.

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

/// The vendor's paths this mock serves. Every one ends with a slash \[doc\].
pub(crate) const CREATE_PATH: &str = "/api/v1/flows/session/create/";
pub(crate) const RESULT_PATH: &str = "/api/v1/flows/session/result/";
pub(crate) const VIDEO_PATH: &str = "/api/v1/liveness/video/download/";
pub(crate) const GENERATE_FILES_PATH: &str = "/api/v1/e-document/generate-files/";
/// The vendor's paths with nothing variable in them.
pub(crate) const FIXED_PATHS: [&str; 4] = [CREATE_PATH, RESULT_PATH, VIDEO_PATH, GENERATE_FILES_PATH];

/// A JSON body already written out (a kept result, a report) as a response.
pub(crate) fn json_bytes(body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    response.headers_mut().insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    response
}

/// Whether `path` is the report path of some session, with or without its trailing slash.
pub(crate) fn is_report_path(path: &str) -> bool {
    path.starts_with("/api/v1/flows/session/") && path.trim_end_matches('/').ends_with("/report")
}

/// The vendor path `path` means when it lacks only its trailing slash [doc: every path ends with one].
pub(crate) fn missing_slash(path: &str) -> Option<String> {
    // Every request is checked; the ones with their slash need no copy.
    if path.ends_with('/') {
        return None;
    }
    let with_slash = format!("{path}/");
    let vendor = FIXED_PATHS.contains(&with_slash.as_str())
        || backend::PATHS.contains(&with_slash.as_str())
        || is_report_path(path);
    vendor.then_some(with_slash)
}
