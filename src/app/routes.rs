//! The vendor's routes, each once: the API host's (kyc.biometric.kz) and the end-user host's
//! (remote.biometric.kz), with everything the mock knows of each — method, path, how its body is
//! read, the section of the vendor's docs that documents it, the endpoint its fault rules name,
//! where it names its session, the lints of its query, and its handler. The router, the
//! trailing-slash check, the Content-Type lint, the doc citations and the journal's subject are
//! all read from this table (`journaling.rs` learns a request's row from axum's `MatchedPath`).
//!
//! Adding an endpoint is one row here and one handler.

use axum::http::Method;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::domain::paths;
use crate::domain::scripting::Endpoint;
use crate::http::extract::QueryMap;
use crate::http::lint::{self, doc};
use crate::http::{api, backend, media};
use crate::journal::Lint;
use crate::state::AppState;

/// How a route's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// No body (a GET).
    None,
    /// JSON, read whatever the Content-Type \[doc\]; anything but JSON's media type is linted.
    Json,
    /// `multipart/form-data` (files and fields).
    Multipart,
    /// The end-user page's forms: multipart or URL-encoded, as a browser sends them.
    Form,
}

/// Where a request names the session it is about, for the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    /// Nowhere the journal reads; the handler notes it (create, and the bodies that name one).
    Handler,
    /// The query's `session_id`.
    Query,
    /// The path parameter of this name.
    Path(&'static str),
}

/// One of the vendor's routes.
pub(crate) struct Route {
    pub method: Method,
    /// As axum writes it (`{name}` for a parameter). Every API path ends with a slash \[doc\].
    pub path: &'static str,
    pub body: BodyKind,
    /// The section of the vendor's docs its lints cite.
    pub doc: &'static str,
    /// The endpoint its fault rules name (`POST /__admin/faults`, scenarios' `faults`).
    pub fault: Option<Endpoint>,
    pub subject: Subject,
    /// The lints its query may show before any handler looks at it.
    pub query_lints: fn(&QueryMap) -> Vec<Lint>,
    /// The handler, with its OpenAPI description.
    handler: fn() -> UtoipaMethodRouter<AppState>,
}

fn no_lints(_: &QueryMap) -> Vec<Lint> {
    Vec::new()
}

/// Every vendor route the mock serves.
pub(crate) static VENDOR: [Route; 18] = [
    // kyc.biometric.kz: Flow Remote.
    Route {
        method: Method::POST,
        path: paths::CREATE,
        body: BodyKind::Json,
        doc: doc::SESSION_CREATION,
        fault: Some(Endpoint::Create),
        subject: Subject::Handler,
        query_lints: lint::api_key_in_query,
        handler: || routes!(api::create_session),
    },
    Route {
        method: Method::GET,
        path: paths::RESULT,
        body: BodyKind::None,
        doc: doc::RESULT,
        fault: Some(Endpoint::Result),
        subject: Subject::Query,
        query_lints: no_lints,
        handler: || routes!(api::session_result),
    },
    Route {
        method: Method::GET,
        path: paths::VIDEO,
        body: BodyKind::None,
        doc: doc::VIDEO,
        fault: Some(Endpoint::Video),
        subject: Subject::Query,
        query_lints: no_lints,
        handler: || routes!(media::liveness_video),
    },
    Route {
        method: Method::POST,
        path: paths::REPORT,
        body: BodyKind::Json,
        doc: doc::REPORT,
        fault: Some(Endpoint::Report),
        subject: Subject::Path("session_id"),
        query_lints: no_lints,
        handler: || routes!(media::session_report),
    },
    Route {
        method: Method::POST,
        path: paths::GENERATE_FILES,
        body: BodyKind::Json,
        doc: doc::GENERATE_FILES,
        fault: Some(Endpoint::GenerateFiles),
        subject: Subject::Handler,
        query_lints: no_lints,
        handler: || routes!(media::generate_files),
    },
    // kyc.biometric.kz: the Backend API (the organisation's key).
    Route {
        method: Method::POST,
        path: paths::LIVENESS_SHORT,
        body: BodyKind::Multipart,
        doc: doc::BACKEND,
        fault: Some(Endpoint::LivenessShort),
        subject: Subject::Handler,
        query_lints: no_lints,
        handler: || routes!(backend::liveness_short),
    },
    Route {
        method: Method::POST,
        path: paths::FACE2FACE_COMPARE,
        body: BodyKind::Multipart,
        doc: doc::BACKEND,
        fault: Some(Endpoint::Face2faceCompare),
        subject: Subject::Handler,
        query_lints: no_lints,
        handler: || routes!(backend::face2face_compare),
    },
    Route {
        method: Method::POST,
        path: paths::DOCUMENT_PARSE,
        body: BodyKind::Multipart,
        doc: doc::BACKEND,
        fault: Some(Endpoint::DocumentParse),
        subject: Subject::Handler,
        query_lints: no_lints,
        handler: || routes!(backend::document_parse),
    },
    Route {
        method: Method::POST,
        path: paths::DOCUMENT_PROCESS,
        body: BodyKind::Multipart,
        doc: doc::BACKEND,
        fault: Some(Endpoint::DocumentProcess),
        subject: Subject::Handler,
        query_lints: no_lints,
        handler: || routes!(backend::document_process),
    },
    Route {
        method: Method::POST,
        path: paths::PERSONS,
        body: BodyKind::Json,
        doc: doc::BACKEND,
        fault: Some(Endpoint::Persons),
        subject: Subject::Handler,
        query_lints: no_lints,
        handler: || routes!(backend::persons::persons),
    },
    Route {
        method: Method::POST,
        path: paths::EDOCUMENT_REQUEST,
        body: BodyKind::Json,
        doc: doc::BACKEND,
        fault: Some(Endpoint::EdocumentRequest),
        subject: Subject::Handler,
        query_lints: no_lints,
        handler: || routes!(backend::edocument::edocument_request),
    },
    Route {
        method: Method::POST,
        path: paths::EDOCUMENT_APPROVE,
        body: BodyKind::Json,
        doc: doc::BACKEND,
        fault: Some(Endpoint::EdocumentApprove),
        subject: Subject::Handler,
        query_lints: no_lints,
        handler: || routes!(backend::edocument::edocument_approve),
    },
    // remote.biometric.kz: the end-user page and the Flow Widget.
    Route {
        method: Method::GET,
        path: paths::PAGE,
        body: BodyKind::None,
        doc: doc::REDIRECTION,
        fault: None,
        subject: Subject::Path("id"),
        query_lints: lint::page_query,
        handler: || routes!(crate::page::show),
    },
    Route {
        method: Method::GET,
        path: paths::PAGE_FINISHED,
        body: BodyKind::None,
        doc: doc::REDIRECTION,
        fault: None,
        subject: Subject::Path("id"),
        query_lints: no_lints,
        handler: || routes!(crate::page::finished),
    },
    Route {
        method: Method::GET,
        path: paths::PAGE_DONE,
        body: BodyKind::None,
        doc: doc::REDIRECTION,
        fault: None,
        subject: Subject::Path("id"),
        query_lints: no_lints,
        handler: || routes!(crate::page::done),
    },
    Route {
        method: Method::POST,
        path: paths::PAGE_STEP,
        body: BodyKind::Form,
        doc: doc::REDIRECTION,
        fault: None,
        subject: Subject::Path("id"),
        query_lints: no_lints,
        handler: || routes!(crate::page::submit),
    },
    Route {
        method: Method::GET,
        path: paths::WIDGET,
        body: BodyKind::None,
        doc: doc::WIDGET,
        fault: None,
        subject: Subject::Handler,
        query_lints: no_lints,
        handler: || routes!(crate::widget::flow_widget),
    },
    Route {
        method: Method::GET,
        path: paths::FRAME_SCRIPT,
        body: BodyKind::None,
        doc: doc::WIDGET,
        fault: None,
        subject: Subject::Handler,
        query_lints: no_lints,
        handler: || routes!(crate::widget::frame_script),
    },
];

/// The router of every vendor route, each with its OpenAPI description.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    VENDOR.iter().fold(OpenApiRouter::new(), |router, route| router.routes((route.handler)()))
}

/// The row of the route axum matched (`MatchedPath`).
pub(crate) fn matched(path: &str) -> Option<&'static Route> {
    VENDOR.iter().find(|route| route.path == path)
}

/// The route `path` was meant for when it lacks only its trailing slash \[doc: every API path
/// ends with one\], and the values of its parameters.
pub(crate) fn meant(path: &str) -> Option<(&'static Route, Vec<(&'static str, String)>)> {
    if path.ends_with('/') {
        return None;
    }
    let with_slash = format!("{path}/");
    VENDOR.iter().filter(|route| route.path.ends_with('/')).find_map(|route| {
        let values = parameters(route.path, &with_slash)?;
        Some((route, values.into_iter().map(|(name, value)| (name, value.to_owned())).collect()))
    })
}

/// The parameters of `pattern` in `path`, when `path` is of that pattern: each `{name}` is one
/// segment that is not empty.
pub(crate) fn parameters<'p>(pattern: &'static str, path: &'p str) -> Option<Vec<(&'static str, &'p str)>> {
    if !pattern.contains('{') {
        return (pattern == path).then(Vec::new);
    }
    let (mut patterns, mut segments) = (pattern.split('/'), path.split('/'));
    let mut values = Vec::new();
    loop {
        match (patterns.next(), segments.next()) {
            (None, None) => return Some(values),
            (Some(want), Some(got)) => match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                Some(name) if !got.is_empty() => values.push((name, got)),
                None if want == got => {}
                _ => return None,
            },
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_is_the_route_its_handler_documents() {
        for route in &VENDOR {
            let (_, paths, _) = (route.handler)();
            let documented: Vec<&String> = paths.paths.keys().collect();
            assert_eq!(documented, [route.path], "the handler of {} documents its own path", route.path);
            let item = &paths.paths[route.path];
            let method = match route.method {
                Method::GET => item.get.is_some(),
                Method::POST => item.post.is_some(),
                _ => false,
            };
            assert!(method, "{} {} is the method its handler documents", route.method, route.path);
        }
    }

    #[test]
    fn every_api_path_ends_with_a_slash_and_is_listed_once() {
        for (i, route) in VENDOR.iter().enumerate() {
            assert!(route.path.ends_with('/') || !route.path.starts_with("/api/"), "{}", route.path);
            assert!(VENDOR[..i].iter().all(|r| (r.path, &r.method) != (route.path, &route.method)), "{}", route.path);
        }
    }

    #[test]
    fn a_path_without_its_slash_finds_the_route_it_meant() {
        let id = "5b0e6f1c-8d2a-4c11-9a57-2f4e1b3c9d80";
        let report = paths::REPORT.replace("{session_id}", id);
        let (route, values) = meant(report.trim_end_matches('/')).unwrap();
        assert_eq!((route.path, values), (paths::REPORT, vec![("session_id", id.into())]));
        assert_eq!(meant(paths::RESULT.trim_end_matches('/')).unwrap().0.doc, doc::RESULT);
        for other in [paths::RESULT, "/api/v1/nothing", "/flow/x", "/api/v1/flows/session//report"] {
            assert!(meant(other).is_none(), "{other}");
        }
    }
}
