//! The create-session request body: `api_key` (required string) and `metadata` (optional).

use std::borrow::{Borrow, Cow};

use serde_json::{Map, Value};

use super::metadata::drf;
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
