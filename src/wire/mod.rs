//! Wire shapes: the bodies the fronts read and write that more than one layer knows — the
//! create-session body and its metadata (`create.rs`, which the state file reads back too), the
//! result body (`result.rs`, which the API answers and the `flow.end` webhook carries) — as serde
//! structs with their OpenAPI schemas, and the DRF-like field they are made of (`field.rs`). No
//! handlers, no status codes.

pub(crate) mod create;
pub(crate) mod field;
mod result;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, SchemaFormat};

use crate::domain::TechnologyCode;
pub(crate) use result::SessionResult;

/// The schema of a technology code: one of `TechnologyCode::ALL`, as the domain lists them.
pub(crate) enum Code {}

impl utoipa::PartialSchema for Code {
    fn schema() -> RefOr<Schema> {
        let codes = TechnologyCode::ALL.map(TechnologyCode::as_str);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(None::<SchemaFormat>)
            .description(Some("A technology code"))
            .enum_values(Some(codes))
            .into()
    }
}

impl utoipa::ToSchema for Code {}
