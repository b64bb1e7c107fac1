//! One error type for every HTTP answer that is not a success, turned into the vendor's shapes
//! (Django REST Framework's) in one place: field errors nested like the input, `{"detail": ...}`
//! for everything else.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::domain::FieldErrors;
use crate::session::TransitionError;
use crate::session::store::Eviction;
use crate::state::{NotOwn, SessionError};

/// `{"detail": "message"}`: the vendor's shape of every refusal that is not about fields.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Detail {
    pub detail: String,
}

impl Detail {
    /// The body, written out: the one constructor every front uses (handlers, the server's own
    /// refusals, the proxy's).
    pub(crate) fn json(detail: impl Into<String>) -> String {
        serde_json::to_string(&Self { detail: detail.into() }).unwrap_or_default()
    }
}

/// Field errors nested like the input: `{"field": ["message"]}` or
/// `{"metadata": {"edocument": {"iin": {"value": ["..."]}}}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub(crate) struct FieldErrorsBody(Value);

#[derive(Debug)]
pub(crate) enum ApiError {
    /// 400 with `{"field": ["message"]}` nested like the input.
    Fields(FieldErrors),
    /// 404 `{"detail": "Not found."}`: no such session, or one the key does not own (a key
    /// learns nothing of other flows' sessions) \[mock\].
    NotFound,
    /// 404 for a session past `--session-ttl`, saying when it expired.
    Expired(time::OffsetDateTime),
    /// 404 for a session the store let go to make room, saying so and why.
    Evicted(Eviction),
    /// 403: no flow has the `api_key` given.
    UnknownKey,
    /// A scripted fault's answer: its status and `detail`.
    Fault { status: StatusCode, detail: String },
    /// 416: the byte range asked for is outside the `total`-byte file.
    RangeNotSatisfiable { total: u64 },
    /// Any other status with `{"detail": "message"}`.
    Detail(StatusCode, String),
    /// No answer at all: the server closes the connection (a scripted fault).
    Dropped,
}

/// Marks a response whose connection the server closes instead of sending it (see
/// `server::serve`). Through a server without that loop it reads as a 503.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

impl ApiError {
    pub(crate) fn detail(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Detail(status, message.into())
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::detail(StatusCode::BAD_REQUEST, message)
    }

    /// A 500: the mock failed (a bug, or a file it could not write).
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::detail(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::detail(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::detail(StatusCode::CONFLICT, message)
    }

    /// A request body that could not be read: too slow (408) or too large (413), and the
    /// connection closes; or broken off (400).
    pub(crate) fn body_unread(error: &(dyn std::error::Error + 'static)) -> Self {
        match crate::body::limits::exceeded(error) {
            Some(exceeded) => Self::detail(exceeded.status(), format!("{}.", capitalized(&exceeded.to_string()))),
            None => Self::bad_request(format!("Could not read the request body: {error}")),
        }
    }

    /// One field error at `path`.
    pub(crate) fn field(path: &[&str], message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.push(path, message);
        Self::Fields(errors)
    }

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::Fields(_) => StatusCode::BAD_REQUEST,
            Self::NotFound | Self::Expired(_) | Self::Evicted(_) => StatusCode::NOT_FOUND,
            Self::UnknownKey => StatusCode::FORBIDDEN,
            Self::Fault { status, .. } | Self::Detail(status, _) => *status,
            Self::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::Dropped => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `detail` of a refusal that is not about fields.
    fn detail_text(&self) -> String {
        match self {
            Self::Fields(_) => "Invalid input.".to_owned(),
            Self::NotFound => "Not found.".to_owned(),
            Self::Expired(at) => format!(
                "Not found. This session expired at {} (sessions live --session-ttl).",
                crate::clock::timestamp(*at)
            ),
            Self::Evicted(eviction) => format!("Not found. This session {eviction}."),
            Self::UnknownKey => {
                "No flow has this api_key. Use the API KEY of a flow (GET /__admin/flows lists them).".to_owned()
            }
            Self::RangeNotSatisfiable { total } => format!("The requested range is outside the video's {total} bytes."),
            Self::Fault { detail: message, .. } | Self::Detail(_, message) => message.clone(),
            Self::Dropped => "The connection was dropped by a scripted fault.".to_owned(),
        }
    }
}

/// A call about a session the key does not reveal, in the vendor's shape.
impl From<NotOwn> for ApiError {
    fn from(e: NotOwn) -> Self {
        match e {
            NotOwn::Missing => Self::NotFound,
            NotOwn::Expired(at) => Self::Expired(at),
            NotOwn::Evicted(eviction) => Self::Evicted(eviction),
        }
    }
}

/// A command the admin API sent to a session that was not carried out: unknown and evicted
/// sessions are 404s, everything else (an ended or expired session, a step that cannot run) a
/// 409, an unknown scenario a field error.
impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::NotFound => Self::NotFound,
            SessionError::Evicted(eviction) => Self::Evicted(eviction),
            SessionError::Transition(e @ TransitionError::Ended(_)) => {
                Self::conflict(format!("Cannot complete: {e}. A session is one-time."))
            }
            SessionError::Transition(e @ TransitionError::UnknownScenario(_)) => {
                Self::field(&["scenario"], format!("{e}."))
            }
            e @ (SessionError::Expired(_) | SessionError::Transition(_)) => {
                Self::conflict(format!("Cannot complete: {e}."))
            }
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        Self::Fields(errors)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match &self {
            Self::Fields(errors) => (self.status(), Json(FieldErrorsBody(nest(errors)))).into_response(),
            other => (self.status(), Json(Detail { detail: other.detail_text() })).into_response(),
        };
        if matches!(self, Self::Dropped) {
            response.extensions_mut().insert(DropConnection);
        }
        if let Self::RangeNotSatisfiable { total } = self
            && let Ok(range) = axum::http::HeaderValue::from_str(&format!("bytes */{total}"))
        {
            response.headers_mut().insert(axum::http::header::CONTENT_RANGE, range);
        }
        if matches!(self.status(), StatusCode::REQUEST_TIMEOUT | StatusCode::PAYLOAD_TOO_LARGE) {
            // The rest of the body is not read.
            response
                .headers_mut()
                .insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
        }
        response
    }
}

/// `text` with its first letter upper-case.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Nests field errors like the input: `metadata.edocument.iin.value` becomes
/// `{"metadata": {"edocument": {"iin": {"value": ["..."]}}}}`. Messages for one field are
/// listed in the order they were found.
pub(crate) fn nest(errors: &FieldErrors) -> Value {
    let mut root = Map::new();
    for error in errors.iter() {
        let Some((leaf, parents)) = error.path.split_last() else { continue };
        let mut node = &mut root;
        for key in parents {
            let slot = node.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Array(messages) = slot {
                // A field with messages of its own that also has nested errors keeps its own
                // messages under DRF's `non_field_errors`.
                let own = std::mem::take(messages);
                *slot = json!({ "non_field_errors": own });
            }
            node = slot.as_object_mut().expect("made an object above");
        }
        match node.entry(leaf.clone()).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(messages) => messages.push(Value::String(error.message.clone())),
            Value::Object(children) => {
                let own = children.entry("non_field_errors").or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(messages) = own {
                    messages.push(Value::String(error.message.clone()));
                }
            }
            _ => unreachable!("only arrays and objects are inserted"),
        }
    }
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_nest_like_the_input() {
        let mut errors = FieldErrors::new();
        errors.push(&["api_key"], "This field is required.");
        errors.push(&["metadata", "edocument", "iin", "value"], "bad iin");
        errors.push(&["metadata", "edocument", "skip_input"], "a");
        errors.push(&["metadata", "edocument", "skip_input"], "b");
        assert_eq!(
            nest(&errors),
            json!({
                "api_key": ["This field is required."],
                "metadata": {"edocument": {"iin": {"value": ["bad iin"]}, "skip_input": ["a", "b"]}}
            })
        );
    }

    #[test]
    fn a_field_with_own_and_nested_errors_keeps_both() {
        let mut errors = FieldErrors::new();
        errors.push(&["a"], "own");
        errors.push(&["a", "b"], "nested");
        errors.push(&["a"], "own again");
        assert_eq!(nest(&errors), json!({"a": {"non_field_errors": ["own", "own again"], "b": ["nested"]}}));
    }
}
