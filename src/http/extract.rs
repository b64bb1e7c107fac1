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

/// The string fields `names` of a JSON object body, each required, in DRF's words when one is
/// missing, null, blank or not a string; every bad field is told at once, as DRF does.
pub(crate) fn required_strings<const N: usize>(body: &Value, names: [&str; N]) -> Result<[String; N], ApiError> {
    use crate::domain::drf;
    let mut errors = crate::domain::FieldErrors::new();
    let values = names.map(|name| match body.get(name) {
        Some(Value::String(text)) if !text.trim().is_empty() => text.clone(),
        found => {
            let message = match found {
                None => drf::REQUIRED,
                Some(Value::Null) => drf::NULL,
                Some(Value::String(_)) => drf::BLANK,
                Some(_) => drf::NOT_A_STRING,
            };
            errors.push(&[name], message);
            String::new()
        }
    });
    errors.into_result(values).map_err(ApiError::Fields)
}

/// A request body as it came, up to `--max-body`, for a handler that reads it its own way
/// (session create takes a short way for its usual body before `parse_json`).
pub(crate) struct BodyBytes(pub Bytes);

impl FromRequest<AppState> for BodyBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        // `--max-body` applied here rather than left to the router's `DefaultBodyLimit`: the hot
        // endpoints are answered without the router (`App::handle`).
        let limited = http_body_util::Limited::new(req.into_body(), state.max_body());
        match http_body_util::BodyExt::collect(limited).await {
            Ok(collected) => Ok(Self(collected.to_bytes())),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::payload_too_large(state.max_body())),
            Err(e) => Err(ApiError::body_unread(&*e)),
        }
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
/// does. Never fails: bad percent-encoding is decoded lossily. A list, not a hash map: queries
/// are a handful of pairs, and this is on every polling request.
#[derive(Clone)]
pub(crate) struct QueryMap {
    /// The query as it came; parts with nothing to decode are read from it. Shared with the
    /// journal's entry for the request.
    raw: std::sync::Arc<str>,
    /// Room for two pairs in place: a polling request's `session_id` and `flow_api_key`.
    pairs: smallvec::SmallVec<[(Part, Part); 2]>,
    /// The keys and values that had something to decode, decoded (`Part::Decoded`).
    decoded: Vec<String>,
}

/// A key or a value: a range of the raw query, or, when its pair had something to decode (or
/// the query is over 4 GiB), its decoded copy in `QueryMap::decoded`. In `u32`s: the map is held
/// in the future of every journaled request, which hyper moves whole.
#[derive(Clone)]
enum Part {
    Raw(u32, u32),
    Decoded(u32),
}

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // The journal has parsed it already for journaled requests.
        Ok(parts.extensions.remove::<Self>().unwrap_or_else(|| Self::parse(parts.uri.query().unwrap_or_default())))
    }
}

impl QueryMap {
    /// `application/x-www-form-urlencoded` decoding, as `url::form_urlencoded` does it. Pairs with
    /// nothing to decode (the usual `session_id=...&flow_api_key=...`) are kept as ranges of one
    /// copy of the query: this is on every polling request.
    pub(crate) fn parse(query: &str) -> Self {
        Self::parse_shared(query.into())
    }

    /// `parse` of a query already held in an `Arc`, without copying it.
    pub(crate) fn parse_shared(query: std::sync::Arc<str>) -> Self {
        // One pass of `memchr` finds the separators and the bytes that need decoding, many bytes
        // at a time: a byte-by-byte loop over a polling request's hundred-byte query cost more
        // than the rest of its parsing.
        let bytes = query.as_bytes();
        let ranges = u32::try_from(bytes.len()).is_ok();
        let at = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let (mut pairs, mut decoded) = (smallvec::SmallVec::new(), Vec::new());
        let (mut start, mut to_decode) = (0, false);
        for end in memchr::memchr3_iter(b'&', b'%', b'+', bytes).chain([bytes.len()]) {
            if end < bytes.len() && bytes[end] != b'&' {
                to_decode = true;
                continue;
            }
            let pair = &bytes[start..end];
            if !pair.is_empty() && (to_decode || !ranges) {
                let (key, value) = url::form_urlencoded::parse(pair).into_owned().next().unwrap_or_default();
                decoded.extend([key, value]);
                pairs.push((Part::Decoded(at(decoded.len() - 2)), Part::Decoded(at(decoded.len() - 1))));
            } else if !pair.is_empty() {
                let eq = memchr::memchr(b'=', pair).map_or(end, |eq| start + eq);
                pairs.push((Part::Raw(at(start), at(eq)), Part::Raw(at((eq + 1).min(end)), at(end))));
            }
            (start, to_decode) = (end + 1, false);
        }
        Self { raw: query, pairs, decoded }
    }

    fn text<'a>(&'a self, part: &'a Part) -> &'a str {
        match part {
            Part::Raw(from, to) => &self.raw[*from as usize..*to as usize],
            Part::Decoded(index) => &self.decoded[*index as usize],
        }
    }

    /// Whether `part` reads `text`.
    fn reads(&self, part: &Part, text: &str) -> bool {
        match part {
            Part::Raw(from, to) => self.raw.as_bytes().get(*from as usize..*to as usize) == Some(text.as_bytes()),
            Part::Decoded(index) => self.decoded[*index as usize] == text,
        }
    }

    /// Every pair, in order, decoded.
    pub(crate) fn pairs(&self) -> impl DoubleEndedIterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(key, value)| (self.text(key), self.text(value)))
    }

    /// The values of the parameters `names`, each looked up once; the ones missing or empty
    /// are DRF-style field errors.
    pub(crate) fn require<const N: usize>(&self, names: [&str; N]) -> Result<[&str; N], ApiError> {
        // Blank: nothing but white space (what `trim().is_empty()` says, without scanning a
        // value from both ends; a usual one stops at its first character).
        let values = names.map(|name| self.get(name).filter(|v| !v.chars().all(char::is_whitespace)));
        if values.iter().all(Option::is_some) {
            return Ok(values.map(Option::unwrap_or_default));
        }
        let mut errors = crate::domain::FieldErrors::new();
        for (name, value) in names.iter().zip(&values) {
            if value.is_none() {
                errors.push(&[name], "This field is required.");
            }
        }
        errors.into_result(values.map(Option::unwrap_or_default)).map_err(ApiError::Fields)
    }

    /// Where `value`, a key or value this map handed out, lies in the query as it came; `None`
    /// for one that had something to decode (its own copy).
    pub(crate) fn span_of(&self, value: &str) -> Option<std::ops::Range<usize>> {
        let start = (value.as_ptr() as usize).checked_sub(self.raw.as_ptr() as usize)?;
        (start + value.len() <= self.raw.len()).then(|| start..start + value.len())
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(key, _)| self.reads(key, name)).map(|(_, value)| self.text(value))
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
            let pairs: Vec<(String, String)> = parsed.pairs().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
            prop_assert_eq!(pairs, expected);
        }
    }

    #[test]
    fn query_parsing_keeps_empty_values_and_decodes_where_needed() {
        let parsed = QueryMap::parse("a=1&&b&c=&d=x%20y+z&e%3D=%ZZ&=v");
        let pairs: Vec<(&str, &str)> = parsed.pairs().collect();
        assert_eq!(pairs, [("a", "1"), ("b", ""), ("c", ""), ("d", "x y z"), ("e=", "%ZZ"), ("", "v")]);
        assert_eq!(parsed.get("d"), Some("x y z"));
        assert_eq!(parsed.span_of(parsed.get("a").unwrap()), Some(2..3), "a raw value lies in the query");
        assert_eq!(parsed.span_of(parsed.get("d").unwrap()), None, "a decoded one is its own copy");
        assert_eq!(parsed.span_of("1"), None, "text from elsewhere is not in it");
    }

    #[test]
    fn a_repeated_parameter_keeps_its_last_value_decoded_or_not() {
        assert_eq!(QueryMap::parse("a=1&b=2&a=3").get("a"), Some("3"));
        assert_eq!(QueryMap::parse("a=1&a=x%20y").get("a"), Some("x y"));
        assert_eq!(QueryMap::parse("a=x%20y&a=1").get("a"), Some("1"));
        assert_eq!(QueryMap::parse("a=1").get("b"), None);
        assert_eq!(QueryMap::parse("").pairs().count(), 0);
    }
}
