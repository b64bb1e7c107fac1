//! The lints a request shows before its handler looks at it (its Content-Type, its missing
//! trailing slash, its query), the `X-Mock-Lint` header that carries each warning, and
//! `--strict`, which refuses a request with warnings in the vendor's error shape.

use axum::http::HeaderValue;

use super::ApiError;
use super::extract::QueryMap;
use crate::domain::Locale;
use crate::domain::flow::is_http_url;
pub(crate) use crate::journal::doc;
use crate::journal::{Lint, Notes};
use crate::state::AppState;

/// The header that carries each warning.
pub(crate) const X_MOCK_LINT: &str = "x-mock-lint";

/// At most this many `X-Mock-Lint` headers on one answer, the last of them saying how many more
/// the journal has: every common client still reads the answer (Python's `http.client`, and so
/// `requests`, and hyper's client refuse more than 100 headers; Node's parser takes 16 KiB of
/// headers in all, and a warning's line is at most about 1.1 KB, `MAX_LINT_MESSAGE`).
pub(crate) const MAX_LINT_HEADERS: usize = 8;

/// A path that lacks only its trailing slash: refused, saying which path was meant.
pub(crate) fn trailing_slash(meant: &str, doc: &'static str) -> Lint {
    Lint::new(
        "trailing-slash",
        doc,
        format!("refused: the vendor's paths end with a slash, this one does not; use {meant}"),
    )
}

/// A JSON body sent with another `Content-Type`, or none (`content_type` as it came).
pub(crate) fn content_type(content_type: Option<&str>, doc: &'static str) -> Option<Lint> {
    if crate::body::is_json(content_type) {
        return None;
    }
    let sent = match content_type {
        None | Some("") => "no Content-Type".to_owned(),
        Some(other) => format!("Content-Type {other:?}"),
    };
    Some(Lint::new(
        "content-type",
        doc,
        format!(
            "the JSON body was sent with {sent}; the vendor documents JSON requests (Content-Type: application/json)"
        ),
    ))
}

/// Session create's query: `api_key` belongs in the body.
pub(crate) fn api_key_in_query(query: &QueryMap) -> Vec<Lint> {
    let lint = Lint::new(
        "api-key-in-query",
        doc::SESSION_CREATION,
        "api_key was sent in the query string, where it ends up in logs; the vendor reads it from the JSON body",
    );
    query.get("api_key").map(|_| lint).into_iter().collect()
}

/// The end-user page's query: a locale it does not have, a redirect it cannot follow, a word the
/// vendor's iOS SDK takes for the flow's end.
pub(crate) fn page_query(query: &QueryMap) -> Vec<Lint> {
    let mut lints = Vec::new();
    if query.pairs().any(|(key, value)| key.contains("finished") || value.contains("finished")) {
        lints.push(Lint::new(
            "says-finished",
            doc::REDIRECTION,
            "the page's address contains \"finished\": the vendor's iOS SDK closes the flow as soon as its address says it, so the user would never see the page (the mock carries it on with its \"f\" percent-encoded)",
        ));
    }
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
    lints
}

/// A lint's line as a header value: visible ASCII; anything else in a message is shown as '?'.
pub(crate) fn header_value(text: String) -> Option<HeaderValue> {
    // Checked without stopping at the first bad byte, so the compiler checks many at a time.
    let visible = text.bytes().fold(true, |visible, b| visible & (b' '..=b'~').contains(&b));
    let text = if visible {
        text
    } else {
        text.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect()
    };
    HeaderValue::from_maybe_shared(bytes::Bytes::from(text)).ok()
}

/// `--strict`: a request with warnings is refused, in the vendor's error shape.
pub(crate) fn strict_refusal(notes: &Notes) -> ApiError {
    let lines: Vec<String> = notes.lints().iter().map(Lint::text).collect();
    ApiError::bad_request(format!("Refused by --strict: {}", lines.join("; ")))
}

/// For handlers with side effects: under `--strict`, refuse before acting when a warning was found.
pub(crate) fn refuse_if_strict(state: &AppState, notes: &Notes) -> Result<(), ApiError> {
    if state.strict() && notes.has_lint() { Err(strict_refusal(notes)) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

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
