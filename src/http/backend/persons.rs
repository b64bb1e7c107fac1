//! `POST /api/v1/backend/persons/` (SPEC §13): a person registered with a face photo and the
//! aliases that find it \[doc\].

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use serde_json::Value;

use super::organisation;
use crate::domain::backend::{PhotoType, Service};
use crate::domain::{FieldErrors, Photo, drf};
use crate::http::ApiError;
use crate::http::extract::{BodyBytes, json_object, required_strings};
use crate::http::fault;
use crate::journal::Notes;
use crate::state::{AppState, Scripted};

/// The most aliases one person takes \[mock\]: real ones are a phone, an IIN, a document number.
const MAX_ALIASES: usize = 100;

/// `POST /api/v1/backend/persons/`: JSON `api_key`, `image_b64`, `photo_type`, `is_verified`,
/// `aliases` \[doc\].
#[utoipa::path(post, path = "/api/v1/backend/persons/", tag = "vendor Backend API",
    request_body(content = crate::http::openapi::PersonBody, description = "JSON [doc]"),
    responses(
        (status = 200, description = "The person registered [mock]: {person_id, photo_type, is_verified, aliases, image_bytes, created_at}", body = Object),
        (status = 400, description = "A missing or bad field, an alias already taken, or a subscription missing", body = crate::http::openapi::FieldErrors),
        (status = 403, description = "No organisation has this api_key", body = crate::http::openapi::Detail),
    ))]
pub(crate) async fn persons(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let mut errors = FieldErrors::new();
    let key = match required_strings(&body, ["api_key"]) {
        Ok([key]) => key,
        Err(ApiError::Fields(e)) => {
            errors.extend(e);
            String::new()
        }
        Err(other) => return Err(other),
    };
    let image = match body.get("image_b64") {
        Some(Value::String(text)) => {
            Photo::parse_base64(text).map_err(|e| errors.push(&["image_b64"], e.message("image_b64"))).ok()
        }
        None => {
            errors.push(&["image_b64"], drf::REQUIRED);
            None
        }
        Some(Value::Null) => {
            errors.push(&["image_b64"], drf::NULL);
            None
        }
        Some(_) => {
            errors.push(&["image_b64"], drf::NOT_A_STRING);
            None
        }
    };
    let photo_type = match body.get("photo_type") {
        Some(Value::String(text)) => PhotoType::parse(text).or_else(|| {
            errors.push(&["photo_type"], drf::not_a_choice(text));
            None
        }),
        None => {
            errors.push(&["photo_type"], drf::REQUIRED);
            None
        }
        Some(other) => {
            errors.push(&["photo_type"], drf::not_a_choice(&other.to_string()));
            None
        }
    };
    let is_verified = match body.get("is_verified") {
        Some(Value::Bool(b)) => *b,
        None => {
            errors.push(&["is_verified"], drf::REQUIRED);
            false
        }
        Some(_) => {
            errors.push(&["is_verified"], drf::NOT_A_BOOLEAN);
            false
        }
    };
    let mut aliases = Vec::new();
    match body.get("aliases") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.len() > MAX_ALIASES => {
            errors
                .push(&["aliases"], format!("A person has at most {MAX_ALIASES} aliases; {} were sent.", items.len()));
        }
        Some(Value::Array(items)) => {
            let mut seen = std::collections::HashSet::new();
            for (i, item) in items.iter().enumerate() {
                match item.as_str().map(str::trim) {
                    Some(alias) if !alias.is_empty() && alias.len() <= 256 => {
                        if !seen.insert(alias) {
                            errors.push(&["aliases", &i.to_string()], "This alias is listed twice.");
                        }
                        aliases.push(alias.to_owned());
                    }
                    Some(_) => errors.push(&["aliases", &i.to_string()], "An alias is 1 to 256 characters."),
                    None => errors.push(&["aliases", &i.to_string()], drf::NOT_A_STRING),
                }
            }
        }
        Some(other) => errors.push(&["aliases"], drf::not_a_list(other)),
    }
    errors.into_result(()).map_err(ApiError::Fields)?;
    let (Some(image), Some(photo_type)) = (image, photo_type) else {
        return Err(ApiError::bad_request("The person could not be read."));
    };
    let key = organisation(&state, &notes, &key, Service::Persons)?;
    let scenario = state.backend_scenario(&key).name.clone();
    fault::meet(&state, &notes, Scripted::Scenario(&scenario)).await?;
    match state.register_person(&key, photo_type, is_verified, aliases, image.bytes().len()) {
        Ok(person) => Ok(super::answer(&serde_json::to_value(person).unwrap_or_default())),
        Err((alias, owner)) => Err(ApiError::field(
            &["aliases"],
            format!("A person with the alias \"{alias}\" is already registered (person_id {owner})."),
        )),
    }
}
