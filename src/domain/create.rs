//! The create-session request body: `api_key` (required string) and `metadata` (optional).

use std::borrow::{Borrow, Cow};

use serde_json::{Map, Value};

use super::drf;
use super::{FieldErrors, Flow, Metadata};

#[derive(Debug)]
pub enum CreateError {
    /// Field errors, nested like the input.
    Invalid(FieldErrors),
    /// A well-formed key that no flow has.
    UnknownApiKey,
}

/// A create-session request that passed every rule; `F` is how the flow is held (the server's
/// are shared, `Arc<Flow>`).
#[derive(Debug)]
pub struct CreateRequest<F = Flow> {
    pub flow: F,
    pub metadata: Metadata,
}

/// The body nearly every client sends: `{"api_key": "..."}` and nothing else.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Plain<'a> {
    api_key: &'a str,
}

/// The short way for that usual body, read from its bytes without building a JSON tree; the
/// key it names and what `parse_create_request` would make of the same body. `None` for every
/// other body (metadata, another key, a blank key or one with escapes, a repeated key, not an
/// object, not JSON): `parse_create_request` reads those.
pub fn parse_plain_create_request<F: Borrow<Flow>>(
    body: &[u8],
    find_flow: impl FnOnce(&str) -> Option<F>,
) -> Option<(&str, Result<CreateRequest<F>, CreateError>)> {
    // serde also fills a struct from a JSON array (`["key"]`), which the vendor refuses: only
    // an object may take this way.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let Plain { api_key } = serde_json::from_slice(body).ok()?;
    if api_key.trim().is_empty() {
        return None;
    }
    let flow = find_flow(api_key).ok_or(CreateError::UnknownApiKey);
    Some((api_key, flow.map(|flow| CreateRequest { flow, metadata: Metadata::default() })))
}

/// Parses a create-session body. `find_flow` looks a key up among the flows. Errors in
/// `api_key` and in `metadata` are reported together; an unknown key is reported alone, before
/// the metadata is looked at (the vendor authenticates before it validates).
pub fn parse_create_request<F: Borrow<Flow>>(
    body: Value,
    find_flow: impl FnOnce(&str) -> Option<F>,
) -> Result<CreateRequest<F>, CreateError> {
    let mut errors = FieldErrors::new();
    let mut body: Map<String, Value> = match body {
        Value::Object(map) => map,
        other => {
            errors.push(&["non_field_errors"], drf::not_a_dict(&other));
            return Err(CreateError::Invalid(errors));
        }
    };
    let key = match body.get("api_key") {
        None => Err(drf::REQUIRED),
        Some(Value::Null) => Err(drf::NULL),
        Some(Value::String(s)) if s.trim().is_empty() => Err(drf::BLANK),
        Some(Value::String(s)) => Ok(Cow::Borrowed(s.as_str())),
        // DRF's CharField takes numbers and turns them into strings.
        Some(Value::Number(n)) => Ok(Cow::Owned(n.to_string())),
        Some(_) => Err(drf::NOT_A_STRING),
    };
    let flow = match key {
        Ok(key) => Some(find_flow(&key).ok_or(CreateError::UnknownApiKey)?),
        Err(message) => {
            errors.push(&["api_key"], message);
            None
        }
    };
    let technologies = flow.as_ref().map(|f| f.borrow().technologies.as_slice());
    let metadata = match body.remove("metadata") {
        None => Some(Metadata::default()),
        Some(value) => Metadata::parse(value, technologies).map_err(|e| errors.extend(e)).ok(),
    };
    let (Some(flow), Some(mut metadata)) = (flow, metadata) else {
        return Err(CreateError::Invalid(errors));
    };
    metadata.unknown_keys.extend(body.keys().filter(|k| *k != "api_key").cloned());
    Ok(CreateRequest { flow, metadata })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::{ApiKey, TechnologyCode};

    const KEY: &str = "TTpme201NiUMBA_mock-flow-for-everyone-0000000000";

    fn flow() -> Flow {
        Flow {
            id: 0,
            name: "everyone".into(),
            api_key: ApiKey::parse(KEY).unwrap(),
            technologies: vec![TechnologyCode::Ldhp, TechnologyCode::F2f],
            scenario: None,
            webhook_urls: Vec::new(),
        }
    }

    fn find(key: &str) -> Option<Flow> {
        (key == KEY).then(flow)
    }

    /// What the general way makes of a body, as text to compare: the JSON parse error, or the
    /// parsed request or its error.
    fn general(body: &str) -> String {
        match serde_json::from_str::<Value>(body) {
            Ok(value) => format!("{:?}", parse_create_request(value, find)),
            Err(e) => format!("not JSON: {e}"),
        }
    }

    /// Bodies near the usual one: the key known, unknown, blank, escaped, repeated, with other
    /// keys or metadata, with odd spacing or trailing text, or its values in an array.
    fn body() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just(KEY.to_owned()),
            Just(format!(" {KEY}")),
            Just(KEY.replace('T', "\\u0054")),
            Just(String::new()),
            Just("   ".to_owned()),
            Just("\\t".to_owned()),
            "[a-zA-Z0-9_ -]{0,50}",
        ];
        let value = prop_oneof![
            key.clone().prop_map(|k| format!("\"{k}\"")),
            Just("null".to_owned()),
            Just("12".to_owned()),
            Just("[]".to_owned()),
            Just("{}".to_owned()),
        ];
        let member = prop_oneof![
            4 => value.clone().prop_map(|v| format!("\"api_key\": {v}")),
            1 => Just("\"metadata\": {}".to_owned()),
            1 => Just("\"metadata\": {\"extra\": {\"iin\": \"900101300017\"}}".to_owned()),
            1 => value.clone().prop_map(|v| format!("\"other\": {v}")),
        ];
        let object = (
            proptest::collection::vec(member, 0..3),
            "[ \n]{0,2}",
            prop_oneof![Just(""), Just(" "), Just("x"), Just("}")],
        )
            .prop_map(|(members, space, tail)| format!("{space}{{{space}{}}}{tail}", members.join(",")));
        // Serde would fill the short way's struct from an array too.
        let array = (proptest::collection::vec(value, 0..3), "[ \n]{0,2}")
            .prop_map(|(values, space)| format!("{space}[{space}{}]", values.join(",")));
        prop_oneof![4 => object, 1 => array]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        #[test]
        fn the_short_way_agrees_with_the_general_parser(body in body()) {
            if let Some((key, parsed)) = parse_plain_create_request(body.as_bytes(), find) {
                prop_assert_eq!(format!("{parsed:?}"), general(&body), "{}", body);
                let value: Value = serde_json::from_str(&body).unwrap();
                prop_assert_eq!(Some(key), value["api_key"].as_str());
            }
        }
    }

    #[test]
    fn the_short_way_takes_the_usual_body_and_leaves_the_rest() {
        let usual = format!(r#"{{"api_key": "{KEY}"}}"#);
        assert!(matches!(parse_plain_create_request(usual.as_bytes(), find), Some((KEY, Ok(_)))));
        let unknown = r#"{"api_key":"nobody"}"#;
        assert!(matches!(
            parse_plain_create_request(unknown.as_bytes(), find),
            Some(("nobody", Err(CreateError::UnknownApiKey)))
        ));
        for other in [
            format!(r#"{{"api_key":"{KEY}","metadata":{{}}}}"#),
            format!(r#"{{"api_key":"{KEY}","api_key":"{KEY}"}}"#),
            r#"{"api_key":"  "}"#.to_owned(),
            r#"{"api_key":12}"#.to_owned(),
            format!(r#"["{KEY}"]"#),
            format!(r#" [ "{KEY}" ] "#),
            "{}".to_owned(),
            String::new(),
        ] {
            assert!(parse_plain_create_request(other.as_bytes(), find).is_none(), "{other}");
        }
    }
}
