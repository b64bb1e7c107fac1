//! The journal, as the front (`App::handle`) runs it: notes every request to the emulated API
//! and the end-user page, finds how the request departs from the vendor's docs (lint), answers
//! the warnings in `X-Mock-Lint` headers, and with `--strict` refuses such requests with a
//! DRF-shaped 400.

use std::borrow::Cow;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::extract::QueryMap;
use super::{
    ApiError, CREATE_PATH, FIXED_PATHS, GENERATE_FILES_PATH, RESULT_PATH, VIDEO_PATH, is_report_path, missing_slash,
};
use crate::domain::Locale;
use crate::domain::flow::is_http_url;
use crate::journal::{Lint, Notes, Record, Warning};
use crate::state::AppState;

/// The header that carries each warning (a constant: a name given as text is checked and copied
/// on every use).
pub(crate) const X_MOCK_LINT: HeaderName = HeaderName::from_static("x-mock-lint");

/// At most this many `X-Mock-Lint` headers on one answer, the last of them saying how many more
/// the journal has: every common client still reads the answer (Python's `http.client`, and so
/// `requests`, and hyper's client refuse more than 100 headers; Node's parser takes 16 KiB of
/// headers in all, and a warning's line is at most about 1.1 KB, `MAX_LINT_MESSAGE`).
pub(crate) const MAX_LINT_HEADERS: usize = 8;

/// Sections of the vendor's Flow Remote page that lints refer to (`journal::doc`), and which
/// documents a path.
pub(crate) mod doc {
    pub(crate) use crate::journal::doc::*;

    /// The section that documents one of the vendor's paths (with or without its slash).
    pub(crate) fn of_path(path: &str) -> &'static str {
        let path = path.trim_end_matches('/');
        if path == super::CREATE_PATH.trim_end_matches('/') {
            SESSION_CREATION
        } else if path == super::RESULT_PATH.trim_end_matches('/') {
            RESULT
        } else if path == super::VIDEO_PATH.trim_end_matches('/') {
            VIDEO
        } else if path == super::GENERATE_FILES_PATH.trim_end_matches('/') {
            GENERATE_FILES
        } else if path.contains("/backend/") {
            BACKEND
        } else {
            REPORT
        }
    }
}

/// The lints a request shows before any handler looks at it; `query` is its parsed query.
fn request_lints(request: &Request, query: &QueryMap) -> Vec<Lint> {
    let mut lints = Vec::new();
    let path = request.uri().path();
    if let Some(with_slash) = missing_slash(path) {
        lints.push(Lint::new(
            "trailing-slash",
            doc::of_path(path),
            format!("refused: the vendor's paths end with a slash, this one does not; use {with_slash}"),
        ));
    }
    let posts_json = request.method() == Method::POST
        && (path == CREATE_PATH
            || path == GENERATE_FILES_PATH
            || is_report_path(path)
            || super::backend::JSON_PATHS.contains(&path));
    if posts_json {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !content_type.starts_with("application/json") {
            let sent = if content_type.is_empty() {
                "no Content-Type".to_owned()
            } else {
                format!("Content-Type {content_type:?}")
            };
            let section = doc::of_path(path);
            lints.push(Lint::new(
                "content-type",
                section,
                format!("the JSON body was sent with {sent}; the vendor documents JSON requests (Content-Type: application/json)"),
            ));
        }
    }
    if path == CREATE_PATH && query.get("api_key").is_some() {
        lints.push(Lint::new(
            "api-key-in-query",
            doc::SESSION_CREATION,
            "api_key was sent in the query string, where it ends up in logs; the vendor reads it from the JSON body",
        ));
    }
    let is_page_entry = request.method() == Method::GET
        && path.starts_with("/flow/")
        && path.trim_start_matches("/flow/").find('/').is_none();
    if is_page_entry {
        for (key, value) in query.pairs() {
            match key {
                "locale" if !Locale::is_known(value) => lints.push(Lint::new(
                    "locale",
                    doc::REDIRECTION,
                    format!("locale {value:?} is not one of the page's locales (ru, en; kz also works); the page shows ru"),
                )),
                "redirect" if !is_http_url(value) => lints.push(Lint::new(
                    "redirect",
                    doc::REDIRECTION,
                    format!("redirect {value:?} is not an absolute http(s) URL; the page will show an error instead of returning the user"),
                )),
                "redirect" if value.starts_with("http://") => lints.push(Lint::new(
                    "redirect-not-https",
                    doc::REDIRECTION,
                    format!("redirect {value:?} is plain http; production redirects should be https"),
                )),
                _ => {}
            }
        }
    }
    lints
}

/// What a request concerned, read from where the vendor's API carries it. Answers the session
/// its query's `session_id` names (the last one, as handlers read it) when that is a UUID.
fn request_subject(path: &str, fixed: bool, query: &QueryMap, notes: &Notes) -> Option<Uuid> {
    let mut session_id = None;
    for (key, value) in query.pairs() {
        match key {
            "session_id" => session_id = Some(value),
            "flow_api_key" | "api_key" => match query.span_of(value) {
                Some(span) => notes.api_key_in_query(span),
                None => notes.api_key(value),
            },
            _ => {}
        }
    }
    let in_query = session_id.and_then(super::api::query_uuid);
    if let Some(id) = in_query {
        notes.session(id);
    }
    // `/flow/{id}...` and `/api/v1/flows/session/{id}/report...`; a `fixed` one (`known_path`,
    // such as the result's) names none.
    if fixed {
        return in_query;
    }
    let id = path.strip_prefix("/flow/").and_then(|rest| rest.split('/').next()).or_else(|| {
        let mut segments = path.strip_prefix("/api/v1/flows/session/")?.split('/');
        let id = segments.next()?;
        (segments.next() == Some("report")).then_some(id)
    });
    if let Some(id) = id.and_then(|id| Uuid::parse_str(id).ok()) {
        notes.session(id);
    }
    in_query
}

/// What the journal learned about a request before answering it: its parsed query and the
/// notes handlers add to. `Journaled::into_extensions` hands both to handlers reached through
/// the router, which take them with the `QueryMap` and `Extension<Notes>` extractors.
pub(crate) struct Journaled {
    pub notes: Notes,
    pub query: QueryMap,
    /// The session the query's `session_id` names, when it is a UUID: read once, for the
    /// journal and the handler.
    pub session_in_query: Option<Uuid>,
}

impl Journaled {
    pub(crate) fn into_extensions(self, request: &mut Request) {
        request.extensions_mut().insert(self.notes);
        request.extensions_mut().insert(self.query);
    }
}

/// What the journal makes of a request before anything answers it (`open`).
pub(crate) enum Opened {
    /// The mock's own API and dashboard, which are not the vendor's: not journaled.
    Unjournaled,
    /// `--strict` refused it for the lint it shows as it came: the answer, journaled.
    Refused(Response),
    /// To be answered with what the journal learned (`Journaled`), then closed (`Recording::close`)
    /// with the answer.
    Journaled(Journaled, Recording),
}

/// A request's journal record while it is being answered: what `Recording::close` records, with the
/// status and warnings of the answer.
pub(crate) struct Recording {
    notes: Notes,
    method: Cow<'static, str>,
    path: Cow<'static, str>,
    query: std::sync::Arc<str>,
    via: crate::journal::Via,
    /// The host it named, when it came through TLS, a tunnel or the proxy.
    host: Option<String>,
}

/// Journals `request`: notes what it concerns and the lint it shows as it came, for it to be
/// answered with its `Journaled`, unless `--strict` refuses it. Requests the journal does not
/// cover (`/__admin`, the dashboard) are `Unjournaled`.
///
/// Two steps, this and `Recording::close`, rather than a future around the answer's: result polling
/// is answered without a future at all (`App::handle`).
pub(crate) fn open(state: &AppState, request: &Request) -> Opened {
    let path = request.uri().path();
    if path.starts_with("/__admin") || path == "/" || path.starts_with("/dashboard/") {
        return Opened::Unjournaled;
    }
    let now = state.now();
    let path = known_path(path).map_or_else(|| Cow::Owned(path.to_owned()), Cow::Borrowed);
    let method = known_method(request.method()).map_or_else(|| Cow::Owned(request.method().to_string()), Cow::Borrowed);
    // One copy of the query, shared by the journal entry and the parsed pairs handlers read.
    let query: std::sync::Arc<str> = request.uri().query().unwrap_or_default().into();
    let via = request.extensions().get::<crate::journal::Via>().copied().unwrap_or_default();
    let host = (via != crate::journal::Via::Direct).then(|| {
        let named = request.uri().authority().map(ToString::to_string);
        named.or_else(|| request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned))
    });
    let notes = Notes::received(now);
    if let Some(base) =
        host.as_ref().and_then(|h| vendor_link_base(via, h.as_deref())).filter(|_| !state.public_url_set())
    {
        notes.link_base(base);
    }
    let pairs = QueryMap::parse_shared(std::sync::Arc::clone(&query));
    let session_in_query = request_subject(&path, matches!(path, Cow::Borrowed(_)), &pairs, &notes);
    for lint in request_lints(request, &pairs) {
        notes.lint(lint);
    }
    let recording = Recording { notes, method, path, query, via, host: host.flatten() };
    if state.strict() && recording.notes.has_lint() {
        let refusal = strict_refusal(&recording.notes);
        return Opened::Refused(recording.close(state, refusal));
    }
    let journaled = Journaled { notes: recording.notes.clone(), query: pairs, session_in_query };
    Opened::Journaled(journaled, recording)
}

impl Recording {
    /// Records the request with `response`, the answer it got, and adds the warnings to it as
    /// `X-Mock-Lint` headers (or, with `--strict`, answers the refusal instead).
    pub(crate) fn close(self, state: &AppState, mut response: Response) -> Response {
        let Self { notes, method, path, query, via, host } = self;
        if state.strict() && notes.has_lint() && response.status().is_success() {
            // A warning found while answering (a read-only endpoint): the answer becomes the refusal.
            response = strict_refusal(&notes);
        }
        let answered = notes.taken();
        // Each warning's line goes into its header without a copy; the journal keeps the warnings
        // themselves, and writes their lines only when it is read.
        let shown = if answered.lint.len() > MAX_LINT_HEADERS { MAX_LINT_HEADERS - 1 } else { answered.lint.len() };
        let more = answered.lint.len() - shown;
        let more = (more > 0).then(|| {
            format!("more-warnings: {more} more warnings than the {shown} above; the journal (GET /__admin/requests) has every one")
        });
        let mut values = answered.lint[..shown].iter().filter_map(warning_header).chain(more.and_then(header_value));
        if let Some(first) = values.next() {
            // The name is looked up once for all of them.
            let mut lines = match response.headers_mut().entry(X_MOCK_LINT) {
                header::Entry::Occupied(mut lines) => {
                    lines.append(first);
                    lines
                }
                header::Entry::Vacant(none) => none.insert_entry(first),
            };
            values.for_each(|value| lines.append(value));
        }
        state.journal().record(Record {
            at: notes.at(),
            method,
            path,
            query,
            status: response.status().as_u16(),
            session_id: answered.session_id,
            api_key: answered.api_key,
            warnings: answered.lint,
            evicted: answered.evicted.into_boxed_slice(),
            via,
            host: host.map(String::into_boxed_str),
        });
        response
    }
}

/// Where links to a session go when it was made through the vendor's hosts (SPEC §14): the
/// vendor's end-user host, by the scheme the request came (`https` over TLS and tunnels, `http`
/// through the proxy) and the port it named, if not the default.
fn vendor_link_base(via: crate::journal::Via, host: Option<&str>) -> Option<std::sync::Arc<str>> {
    let host = host?;
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (name, Some(port)),
        _ => (host, None),
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    if !crate::domain::VENDOR_HOSTS.iter().any(|v| v.eq_ignore_ascii_case(name)) {
        return None;
    }
    let scheme = if via == crate::journal::Via::Proxy { "http" } else { "https" };
    let default = if scheme == "https" { "443" } else { "80" };
    let port = port.filter(|p| *p != default).map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!("{scheme}://{}{port}", crate::domain::VENDOR_HOSTS[1]).into())
}

/// The vendor paths every suite calls, as constants for the journal.
fn known_path(path: &str) -> Option<&'static str> {
    FIXED_PATHS.into_iter().find(|known| *known == path)
}

fn known_method(method: &Method) -> Option<&'static str> {
    const KNOWN: [(Method, &str); 7] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::PATCH, "PATCH"),
    ];
    KNOWN.iter().find(|(known, _)| known == method).map(|(_, text)| *text)
}

/// A warning's `X-Mock-Lint` value. The two of a polling loop are written from numbers (visible
/// ASCII, not checked again); `polling-too-fast` is one of a thousand lines, each written once
/// and then shared (at most ~130 KB in all), since a tight loop carries the same few on every
/// request.
fn warning_header(warning: &Warning) -> Option<HeaderValue> {
    static TOO_FAST: [std::sync::OnceLock<HeaderValue>; 1000] = [const { std::sync::OnceLock::new() }; 1000];
    let written = |warning: &Warning| HeaderValue::from_maybe_shared(bytes::Bytes::from(warning.line())).ok();
    match warning {
        Warning::Said(_) => header_value(warning.line()),
        Warning::PollingTooFast { ms } => match usize::try_from(*ms).ok().and_then(|ms| TOO_FAST.get(ms)) {
            Some(kept) => Some(
                kept.get_or_init(|| {
                    let line: &'static str = Box::leak(warning.line().into_boxed_str());
                    HeaderValue::from_static(line)
                })
                .clone(),
            ),
            None => written(warning),
        },
        Warning::PolledAfterFinal { .. } => written(warning),
    }
}

/// A lint line as a header value: visible ASCII; anything else in a message is shown as '?'.
fn header_value(text: String) -> Option<HeaderValue> {
    // Checked without stopping at the first bad byte, which lets the compiler check many bytes
    // at a time: this is on every warned request.
    let visible = text.bytes().fold(true, |visible, b| visible & (b == b' ' || b.is_ascii_graphic()));
    let text = if visible {
        text
    } else {
        text.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect()
    };
    HeaderValue::from_maybe_shared(bytes::Bytes::from(text)).ok()
}

/// `--strict`: a request with warnings is refused, in the vendor's error shape.
fn strict_error(notes: &Notes) -> ApiError {
    let lines: Vec<String> = notes.lints().iter().map(Lint::text).collect();
    ApiError::bad_request(format!("Refused by --strict: {}", lines.join("; ")))
}

fn strict_refusal(notes: &Notes) -> Response {
    strict_error(notes).into_response()
}

/// For handlers with side effects: under `--strict`, refuse before acting when a warning was found.
pub(crate) fn refuse_if_strict(state: &AppState, notes: &Notes) -> Result<(), ApiError> {
    if state.strict() && notes.has_lint() { Err(strict_error(notes)) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::{Warning, header_value, warning_header};

    #[test]
    fn a_polling_loops_warning_header_is_its_line_kept_or_written() {
        let warnings = [0, 7, 999, 1000, u32::MAX]
            .map(|ms| Warning::PollingTooFast { ms })
            .into_iter()
            .chain([Warning::PolledAfterFinal { status: "FAILED", earlier: 12 }]);
        for warning in warnings {
            for _ in 0..2 {
                assert_eq!(warning_header(&warning).unwrap(), warning.line(), "{warning:?}, kept or not");
            }
        }
    }

    #[test]
    fn a_lint_line_becomes_visible_ascii_in_its_header() {
        let plain = "polling-too-fast: polled again after 3 ms (vendor docs: 5. Getting the result)";
        assert_eq!(header_value(plain.to_owned()).unwrap(), plain);
        for (line, shown) in [
            ("locale \"é\"", "locale \"?\""),
            ("key a\tb", "key a?b"),
            ("key a\u{1}b\u{7f}", "key a?b?"),
            ("id 日本", "id ??"),
        ] {
            assert_eq!(header_value(line.to_owned()).unwrap(), shown, "{line:?}");
        }
    }
}
