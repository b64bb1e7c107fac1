//! Extractors whose rejections use the vendor's error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde_json::Value;

use super::ApiError;
use crate::state::AppState;

/// A JSON object body, parsed **whatever the Content-Type**: the vendor's own JavaScript example
/// sends none, and real clients follow it \[doc\]. An empty body is an empty object, as DRF reads
/// it; any other JSON value is refused as DRF refuses it ("Invalid data. Expected a dictionary,
/// but got list."), before a handler could read an array by position.
pub(crate) struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let BodyBytes(bytes) = BodyBytes::from_request(req, state).await?;
        json_object(&bytes).map(Self)
    }
}

/// A body as `JsonBody` takes it: a JSON object (or nothing), else DRF's refusal.
pub(crate) fn json_object(bytes: &[u8]) -> Result<Value, ApiError> {
    match parse_json(bytes)? {
        object @ Value::Object(_) => Ok(object),
        other => Err(ApiError::field(&["non_field_errors"], crate::domain::drf::not_a_dict(&other))),
    }
}

/// A JSON body as `T` (the admin API's flows and keys): a wrong type, or a key `T` does not have,
/// is told against its own field, as DRF would; a body that is not such an object at all,
/// against `non_field_errors`.
pub(crate) fn typed_body<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let field = path.split(['.', '[']).next().filter(|f| !f.is_empty()).unwrap_or("non_field_errors");
        ApiError::field(&[field], e.inner().to_string())
    })
}

/// A JSON object body (`json_object`) as `T`, a struct of DRF-like fields (`wire::field::Field`)
/// that takes whatever came.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    typed_body(json_object(bytes)?)
}

/// A request body as it came, up to `--max-body`, for a handler that reads it its own way
/// (session create takes a short way for its usual body before `parse_json`).
pub(crate) struct BodyBytes(pub Bytes);

impl FromRequest<AppState> for BodyBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        // Read under the body's limits (`body::limits`, which the server puts on every body).
        Bytes::from_request(req, state).await.map(Self).map_err(|e| ApiError::body_unread(&e))
    }
}

/// A body as `JsonBody` reads it: JSON whatever the Content-Type; nothing but whitespace is an
/// empty object, as DRF reads it.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let detail = if looks_form_encoded(bytes) {
            "JSON parse error - the body must be JSON, such as {\"api_key\": \"...\"}; this one looks form-encoded (name=value&...), as `curl -d` sends it. Send JSON, with Content-Type: application/json.".to_owned()
        } else {
            format!("JSON parse error - {e}")
        };
        ApiError::bad_request(detail)
    })
}

/// Whether a body that is not JSON reads like `name=value&name=value` (an HTML form's or
/// `curl -d`'s encoding).
fn looks_form_encoded(bytes: &[u8]) -> bool {
    let text = bytes.trim_ascii();
    let first = text.split(|b| *b == b'&').next().unwrap_or_default();
    let Some(equals) = first.iter().position(|b| *b == b'=') else { return false };
    let name = &first[..equals];
    !name.is_empty()
        && name.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'%' | b'[' | b']'))
        && text.iter().all(u8::is_ascii_graphic)
}

/// Query parameters; a repeated parameter keeps its last value, as Django's `QueryDict.get`
/// does. Never fails: bad percent-encoding is decoded lossily. Vendor routes get the one the
/// journal parsed (`app::journaling`).
#[derive(Clone, Debug, Default)]
pub(crate) struct QueryMap {
    pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(parts.extensions.remove::<Self>().unwrap_or_else(|| Self::parse(parts.uri.query().unwrap_or_default())))
    }
}

impl QueryMap {
    /// `application/x-www-form-urlencoded` decoding, as `url::form_urlencoded` does it (a query
    /// with nothing to decode, as most are, is only split).
    pub(crate) fn parse(query: &str) -> Self {
        if query.bytes().any(|b| b == b'%' || b == b'+') {
            return Self { pairs: url::form_urlencoded::parse(query.as_bytes()).into_owned().collect() };
        }
        let pairs = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key.to_owned(), value.to_owned())
            })
            .collect();
        Self { pairs }
    }

    /// Every pair, in order, decoded.
    pub(crate) fn pairs(&self) -> impl DoubleEndedIterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(key, value)| (key.as_str(), value.as_str()))
    }

    /// The values of the parameters `names`, each required; the ones missing or blank (nothing
    /// but white space) are DRF-style field errors.
    pub(crate) fn require<const N: usize>(&self, names: [&str; N]) -> Result<[&str; N], ApiError> {
        let values = names.map(|name| self.get(name).filter(|v| !v.trim().is_empty()));
        let mut errors = crate::domain::FieldErrors::new();
        for (name, value) in names.iter().zip(&values) {
            if value.is_none() {
                errors.push(&[name], crate::domain::drf::REQUIRED);
            }
        }
        errors.into_result(values.map(Option::unwrap_or_default)).map_err(ApiError::Fields)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// A UUID as a query gives it, spaces around it allowed.
pub(crate) fn query_uuid(text: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(text.trim()).ok()
}

/// A session id in a query: a UUID, in DRF's wording when it is not.
pub(crate) fn session_id(text: &str) -> Result<uuid::Uuid, ApiError> {
    query_uuid(text).ok_or_else(|| ApiError::field(&["session_id"], "Must be a valid UUID."))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::QueryMap;

    proptest! {
        #[test]
        fn query_parsing_agrees_with_form_urlencoded(query in "[a-z=&%+0-9A-F\\-_.~ é]{0,40}") {
            let expected: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            let parsed = QueryMap::parse(&query);
            let pairs: Vec<(String, String)> = parsed.pairs().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
            prop_assert_eq!(pairs, expected);
        }
    }

    #[test]
    fn a_repeated_parameter_keeps_its_last_value_decoded_or_not() {
        assert_eq!(QueryMap::parse("a=1&b=2&a=3").get("a"), Some("3"));
        assert_eq!(QueryMap::parse("a=1&a=x%20y").get("a"), Some("x y"));
        assert_eq!(QueryMap::parse("a=x%20y&a=1").get("a"), Some("1"));
        assert_eq!(QueryMap::parse("a=1").get("b"), None);
        assert_eq!(QueryMap::parse("").pairs().count(), 0);
    }

    #[test]
    fn a_required_parameter_is_neither_missing_nor_blank() {
        let query = QueryMap::parse("a=1&b=%20%20&c=");
        assert_eq!(query.require(["a"]).unwrap(), ["1"]);
        for name in ["b", "c", "d"] {
            assert!(query.require(["a", name]).is_err(), "{name}");
        }
    }
}
