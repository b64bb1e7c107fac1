//! Extractors whose rejections use the vendor's error shape.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde_json::Value;

use super::ApiError;
use crate::state::AppState;

/// A JSON body, parsed **whatever the Content-Type**: the vendor's own JavaScript example sends
/// none, and real clients follow it [doc]. An empty body is an empty object, as DRF reads it.
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        // `--max-body` applied here rather than left to the router's `DefaultBodyLimit`: the hot
        // endpoints are answered without the router (`App::handle`).
        let limited = http_body_util::Limited::new(req.into_body(), state.max_body());
        let bytes = match http_body_util::BodyExt::collect(limited).await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(ApiError::payload_too_large(state.max_body()));
            }
            Err(e) => return Err(ApiError::bad_request(format!("Could not read the request body: {e}"))),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Value::Object(serde_json::Map::new())));
        }
        serde_json::from_slice(&bytes).map(Self).map_err(|e| ApiError::bad_request(format!("JSON parse error - {e}")))
    }
}

/// Query parameters; a repeated parameter keeps its last value, as Django's `QueryDict.get`
/// does. Never fails: bad percent-encoding is decoded lossily. A list, not a hash map: queries
/// are a handful of pairs, and this is on every polling request.
#[derive(Clone)]
pub struct QueryMap(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // The journal has parsed it already for journaled requests.
        Ok(parts.extensions.remove::<Self>().unwrap_or_else(|| Self::parse(parts.uri.query().unwrap_or_default())))
    }
}

impl QueryMap {
    /// `application/x-www-form-urlencoded` decoding, as `url::form_urlencoded` does it; pairs with
    /// nothing to decode (the usual `session_id=...&flow_api_key=...`) are copied as they are,
    /// which is several times faster on the polling path.
    pub fn parse(query: &str) -> Self {
        let pairs = query.split('&').filter(|pair| !pair.is_empty()).map(|pair| {
            if pair.bytes().any(|b| b == b'%' || b == b'+') {
                let decoded = url::form_urlencoded::parse(pair.as_bytes()).into_owned().next();
                decoded.unwrap_or_default()
            } else {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key.to_owned(), value.to_owned())
            }
        });
        Self(pairs.collect())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The parameters in `names` that are missing or empty, as DRF-style field errors.
    pub fn require(&self, names: &[&str]) -> Result<(), ApiError> {
        let mut errors = crate::domain::FieldErrors::new();
        for name in names {
            if self.get(name).is_none_or(|v| v.trim().is_empty()) {
                errors.push(&[name], "This field is required.");
            }
        }
        errors.into_result(()).map_err(ApiError::Fields)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
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
            prop_assert_eq!(parsed.pairs(), expected.as_slice());
        }
    }

    #[test]
    fn query_parsing_keeps_empty_values_and_decodes_where_needed() {
        let parsed = QueryMap::parse("a=1&&b&c=&d=x%20y+z&e%3D=%ZZ&=v");
        let pairs: Vec<(&str, &str)> = parsed.pairs().iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(pairs, [("a", "1"), ("b", ""), ("c", ""), ("d", "x y z"), ("e=", "%ZZ"), ("", "v")]);
        assert_eq!(parsed.get("d"), Some("x y z"));
    }
}
