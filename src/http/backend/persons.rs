//! `POST /api/v1/backend/persons/` (SPEC §13): a person registered with a face photo and the
//! aliases that find it \[doc\].

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::organisation;
use crate::domain::backend::{PhotoType, Service};
use crate::domain::{FieldErrors, Photo, drf};
use crate::http::ApiError;
use crate::http::extract::{BodyBytes, typed};
use crate::http::fault;
use crate::journal::Notes;
use crate::state::{AppState, Scripted};
use crate::wire::field::Field;

/// The most aliases one person takes \[mock\]: real ones are a phone, an IIN, a document number.
const MAX_ALIASES: usize = 100;

/// The persons body \[doc\].
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct PersonBody {
    /// The organisation's Backend Api Key.
    #[serde(default)]
    #[schema(value_type = String)]
    api_key: Field<String>,
    /// Base64 of a JPEG or PNG face photo.
    #[serde(default)]
    #[schema(value_type = String)]
    image_b64: Field<String>,
    /// digital, scan, live or other.
    #[serde(default)]
    #[schema(value_type = String)]
    photo_type: Field<String>,
    #[serde(default)]
    #[schema(value_type = bool)]
    is_verified: Field<bool>,
    /// Identifiers of the person (phone, IIN, document number, custom id) for search and
    /// duplicate prevention.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    aliases: Field<Vec<Value>>,
}

/// `POST /api/v1/backend/persons/`: JSON `api_key`, `image_b64`, `photo_type`, `is_verified`,
/// `aliases` \[doc\].
#[utoipa::path(post, path = crate::domain::paths::PERSONS, tag = "vendor Backend API",
    request_body(content = PersonBody, description = "JSON [doc]"),
    responses(
        (status = 200, description = "The person registered [mock]: {person_id, photo_type, is_verified, aliases, image_bytes, created_at}", body = Object),
        (status = 400, description = "A missing or bad field, an alias already taken, or a subscription missing", body = crate::http::error::FieldErrorsBody),
        (status = 403, description = "No organisation has this api_key", body = crate::http::error::Detail),
    ))]
pub(crate) async fn persons(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let body: PersonBody = typed(&body)?;
    let mut errors = FieldErrors::new();
    let key = body.api_key.required_text(&["api_key"], &mut errors);
    let image = match &body.image_b64 {
        Field::Given(text) => {
            Photo::parse_base64(text).map_err(|e| errors.push(&["image_b64"], e.message("image_b64"))).ok()
        }
        Field::Absent => errors.push_none(&["image_b64"], drf::REQUIRED),
        Field::Null => errors.push_none(&["image_b64"], drf::NULL),
        Field::Wrong(_) => errors.push_none(&["image_b64"], drf::NOT_A_STRING),
    };
    let photo_type = match &body.photo_type {
        Field::Given(text) => {
            PhotoType::parse(text).or_else(|| errors.push_none(&["photo_type"], drf::not_a_choice(text)))
        }
        Field::Absent => errors.push_none(&["photo_type"], drf::REQUIRED),
        Field::Null => errors.push_none(&["photo_type"], drf::not_a_choice("null")),
        Field::Wrong(other) => errors.push_none(&["photo_type"], drf::not_a_choice(&other.to_string())),
    };
    let is_verified = match &body.is_verified {
        Field::Given(b) => Some(*b),
        Field::Absent => errors.push_none(&["is_verified"], drf::REQUIRED),
        Field::Null | Field::Wrong(_) => errors.push_none(&["is_verified"], drf::NOT_A_BOOLEAN),
    };
    let aliases = aliases(&body.aliases, &mut errors);
    let (Some(key), Some(image), Some(photo_type), Some(is_verified)) = (key, image, photo_type, is_verified) else {
        return Err(ApiError::Fields(errors));
    };
    errors.into_result(())?;
    let key = organisation(&state, &notes, &key, Service::Persons)?;
    let scenario = state.backend_scenario(&key).name.clone();
    fault::meet(&state, &notes, Scripted::Scenario { name: &scenario, key: key.api_key.as_str() }).await?;
    match state.register_person(&key, photo_type, is_verified, aliases, image.bytes().len()) {
        Ok(person) => Ok(super::answer(&serde_json::to_value(person).unwrap_or_default())),
        Err((alias, owner)) => Err(ApiError::field(
            &["aliases"],
            format!("A person with the alias \"{alias}\" is already registered (person_id {owner})."),
        )),
    }
}

/// A person's aliases: up to `MAX_ALIASES` strings of 1 to 256 characters, none twice.
fn aliases(field: &Field<Vec<Value>>, errors: &mut FieldErrors) -> Vec<String> {
    let mut aliases = Vec::new();
    match field {
        Field::Absent | Field::Null => {}
        Field::Given(items) if items.len() > MAX_ALIASES => {
            errors
                .push(&["aliases"], format!("A person has at most {MAX_ALIASES} aliases; {} were sent.", items.len()));
        }
        Field::Given(items) => {
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
        Field::Wrong(other) => errors.push(&["aliases"], drf::not_a_list(other)),
    }
    aliases
}
