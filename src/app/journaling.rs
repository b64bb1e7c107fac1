//! The journal as the vendor's routes run it: a layer of the vendor router (and of its fallback),
//! so it runs after routing and learns the request's route from axum's `MatchedPath` — or, for a
//! path that matched nothing, the route it lacks only a trailing slash for. It notes what the
//! request concerns and the lint it shows as it came, refuses it under `--strict`, hands the
//! handler its notes and parsed query, then records the answer and adds its warnings to it as
//! `X-Mock-Lint` headers.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::routes::{self, BodyKind, Route, Subject};
use crate::http::extract::QueryMap;
use crate::http::lint::{self, MAX_LINT_HEADERS, X_MOCK_LINT};
use crate::journal::{Lint, Notes, Record, RouteFacts, Via};
use crate::state::AppState;

/// The layer: `request` journaled, answered by the router's handler, recorded.
pub(crate) async fn journaled(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let (notes, query) = open(&state, &request);
    let recording = Recording::of(&request, notes.clone());
    if state.strict() && notes.has_lint() {
        return recording.close(&state, lint::strict_refusal(&notes).into_response());
    }
    request.extensions_mut().insert(notes);
    request.extensions_mut().insert(query);
    let response = next.run(request).await;
    recording.close(&state, response)
}

/// The route a request took, and the values of its path's parameters; `meant`: it lacks only its
/// trailing slash.
struct Taken {
    route: Option<&'static Route>,
    parameters: Vec<(&'static str, String)>,
    meant: bool,
}

fn taken(request: &Request) -> Taken {
    let path = request.uri().path();
    let matched = request.extensions().get::<MatchedPath>().and_then(|m| routes::matched(m.as_str()));
    if let Some(route) = matched {
        let parameters = routes::parameters(route.path, path)
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| (name, value.to_owned()))
            .collect();
        return Taken { route: Some(route), parameters, meant: false };
    }
    match routes::meant(path) {
        Some((route, parameters)) => Taken { route: Some(route), parameters, meant: true },
        None => Taken { route: None, parameters: Vec::new(), meant: false },
    }
}

/// What the journal learns of a request before its handler runs: its notes (the session and key
/// it names, its lints, where links to a session it makes go) and its parsed query.
fn open(state: &AppState, request: &Request) -> (Notes, QueryMap) {
    let Taken { route, parameters, meant } = taken(request);
    let facts = RouteFacts {
        doc: route.map_or(crate::journal::doc::SESSION_CREATION, |r| r.doc),
        endpoint: route.and_then(|r| r.fault),
    };
    let notes = Notes::received(state.now(), facts);
    let query = QueryMap::parse(request.uri().query().unwrap_or_default());
    let via = request.extensions().get::<Via>().copied().unwrap_or_default();
    if via != Via::Direct
        && !state.public_url_set()
        && let Some(base) = vendor_link_base(via, request.uri().scheme_str(), host_of(request).as_deref())
    {
        notes.link_base(base);
    }
    // The key and the session the query names, on every route (`flow_api_key` on the result's and
    // the video's, `api_key` where a client put it), the last of each as handlers read them.
    if let Some((_, key)) = query.pairs().rev().find(|(name, _)| matches!(*name, "flow_api_key" | "api_key")) {
        notes.api_key(key);
    }
    if let Some(id) = query.get("session_id").and_then(crate::http::extract::query_uuid) {
        notes.session(id);
    }
    let Some(route) = route else { return (notes, query) };
    if let Subject::Path(name) = route.subject
        && let Some(id) = parameters.iter().find(|(n, _)| *n == name).and_then(|(_, v)| Uuid::parse_str(v).ok())
    {
        notes.session(id);
    }
    if meant {
        notes.lint(lint::trailing_slash(&format!("{}/", request.uri().path()), route.doc));
    }
    let content_type = request.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("(not text)"));
    if route.body == BodyKind::Json
        && request.method() == route.method
        && let Some(lint) = lint::content_type(content_type, route.doc)
    {
        notes.lint(lint);
    }
    for lint in (route.query_lints)(&query) {
        notes.lint(lint);
    }
    (notes, query)
}

/// The host a request named: its absolute URI's (through the proxy) or its `Host` header.
fn host_of(request: &Request) -> Option<String> {
    let named = request.uri().authority().map(ToString::to_string);
    named.or_else(|| request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned))
}

/// Where links to a session go when it was made through the vendor's hosts (SPEC §14): the
/// vendor's end-user host, by the scheme the request came (`https` over TLS and tunnels; through
/// the proxy, the scheme of its absolute-form URI: axios with `HTTPS_PROXY` sends `https://` ones
/// to the plain port) and the port it named, if not the default.
fn vendor_link_base(via: Via, scheme: Option<&str>, host: Option<&str>) -> Option<std::sync::Arc<str>> {
    let host = host?;
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (name, Some(port)),
        _ => (host, None),
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    if !crate::domain::VENDOR_HOSTS.iter().any(|v| v.eq_ignore_ascii_case(name)) {
        return None;
    }
    let scheme = if via == Via::Proxy && scheme != Some("https") { "http" } else { "https" };
    let default = if scheme == "https" { "443" } else { "80" };
    let port = port.filter(|p| *p != default).map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!("{scheme}://{}{port}", crate::domain::VENDOR_HOSTS[1]).into())
}

/// A request's journal record while it is answered: `close` records it with its answer.
struct Recording {
    notes: Notes,
    method: String,
    path: String,
    query: String,
    via: Via,
    /// The host it named, when it came through TLS, a tunnel or the proxy.
    host: Option<String>,
}

impl Recording {
    fn of(request: &Request, notes: Notes) -> Self {
        let via = request.extensions().get::<Via>().copied().unwrap_or_default();
        Self {
            notes,
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
            query: request.uri().query().unwrap_or_default().to_owned(),
            via,
            host: if via == Via::Direct { None } else { host_of(request) },
        }
    }

    /// Records the request with `response`, the answer it got, and adds the warnings to it as
    /// `X-Mock-Lint` headers (or, under `--strict`, answers the refusal instead).
    fn close(self, state: &AppState, mut response: Response) -> Response {
        let Self { notes, method, path, query, via, host } = self;
        if state.strict() && notes.has_lint() && response.status().is_success() {
            // A warning found while answering (a read-only endpoint): the answer becomes the refusal.
            response = lint::strict_refusal(&notes).into_response();
        }
        let mut noted = notes.taken();
        // A request that named no key (the page) belongs to the key of the session it is about.
        if noted.api_key.is_none()
            && let Some(id) = noted.session_id
        {
            noted.api_key = state.with_session(&id, |s| s.api_key().as_str().to_owned());
        }
        let shown = if noted.lints.len() > MAX_LINT_HEADERS { MAX_LINT_HEADERS - 1 } else { noted.lints.len() };
        let mut lines: Vec<String> = noted.lints[..shown].iter().map(Lint::text).collect();
        let more = noted.lints.len() - shown;
        if more > 0 {
            lines.push(format!(
                "more-warnings: {more} more warnings than the {shown} above; the journal (GET /__admin/requests) has every one"
            ));
        }
        let name = HeaderName::from_static(X_MOCK_LINT);
        for value in lines.into_iter().filter_map(lint::header_value) {
            response.headers_mut().append(name.clone(), value);
        }
        state.journal().record(Record {
            at: notes.at(),
            method,
            path,
            query,
            status: response.status().as_u16(),
            noted,
            via,
            host,
        });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_the_vendor_host_the_client_named() {
        let cases = [
            (Via::Tls, None, "kyc.biometric.kz", Some("https://remote.biometric.kz")),
            (Via::Tunnel, None, "kyc.biometric.kz:443", Some("https://remote.biometric.kz")),
            (Via::Tls, None, "KYC.biometric.kz.:8443", Some("https://remote.biometric.kz:8443")),
            (Via::Proxy, Some("http"), "kyc.biometric.kz", Some("http://remote.biometric.kz")),
            (Via::Proxy, Some("http"), "kyc.biometric.kz:80", Some("http://remote.biometric.kz")),
            (Via::Proxy, Some("https"), "kyc.biometric.kz", Some("https://remote.biometric.kz")),
            (Via::Tls, None, "localhost:8443", None),
        ];
        for (via, scheme, host, expected) in cases {
            assert_eq!(vendor_link_base(via, scheme, Some(host)).as_deref(), expected, "{via:?} {scheme:?} {host}");
        }
    }
}
