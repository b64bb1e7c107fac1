//! `GET /__admin/openapi.json`: an OpenAPI 3.1 document of the emulated API, the page and the
//! admin API. It is generated from the handlers' own annotations and types, and the router is
//! built from the same `routes!` lists (utoipa-axum), so the document cannot drift from what is
//! served. The types below exist only to describe bodies the handlers read as raw JSON.

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{OpenApi, PartialSchema, ToSchema};

/// The document's header; paths and schemas come from the routers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "biometric-kz-mock",
        description = "An offline fake of the biometric.kz Flow Remote integration: the vendor's API (kyc.biometric.kz), the end-user page (remote.biometric.kz) and the mock's own admin API. Errors use Django REST Framework's shapes: {\"detail\": \"...\"} or field errors nested like the input.",
    ),
    tags(
        (name = "vendor API", description = "The emulated kyc.biometric.kz API"),
        (name = "end-user page", description = "The emulated remote.biometric.kz page (HTML)"),
        (name = "admin", description = "The mock's own API under /__admin"),
        (name = "dashboard", description = "The mock's dashboard (HTML)"),
    )
)]
pub(crate) struct ApiDoc;

/// The document of the routes the server serves, published by `app` when it assembles them.
static DOCUMENT: OnceLock<Document> = OnceLock::new();

/// Keeps the document of the assembled routes (the first; every assembly makes the same).
pub(crate) fn publish(document: Document) {
    let _ = DOCUMENT.set(document);
}

/// The published document (empty only if no router was assembled, which serving requires).
pub(crate) fn document() -> &'static Document {
    DOCUMENT.get_or_init(ApiDoc::openapi)
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "admin", responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub(crate) async fn openapi_json() -> Json<&'static Document> {
    Json(document())
}

/// A technology code (its schema lives with the wire shapes that name it).
pub(crate) use crate::wire::Code;

// The schemas of types that live below the HTTP layer (`domain`, `scenario`), which must not know
// utoipa: each is built from the type's own list of values, or says its fields as it writes them.

/// Why a technology failed, as the vendor writes it (`domain::FailureReason`).
pub(crate) enum FailureReason {}

impl PartialSchema for FailureReason {
    fn schema() -> RefOr<Schema> {
        let text = || ObjectBuilder::new().schema_type(Type::String);
        ObjectBuilder::new()
            .description(Some(
                "Why a technology failed, as the vendor writes it: {\"type\": \"CALC_RESULT\", \"detail\": \"...\"}.",
            ))
            .property("type", text())
            .property("detail", text())
            .required("type")
            .required("detail")
            .into()
    }
}

impl ToSchema for FailureReason {}

/// An emulated endpoint a fault can hit (`domain::scripting::Endpoint`): one of its `ALL`.
pub(crate) enum Endpoint {}

impl PartialSchema for Endpoint {
    fn schema() -> RefOr<Schema> {
        let names = crate::domain::scripting::Endpoint::ALL.map(crate::domain::scripting::Endpoint::as_str);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An emulated endpoint a fault can hit: the flows' and the Backend API's."))
            .enum_values(Some(names))
            .into()
    }
}

impl ToSchema for Endpoint {}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    /// The schema of `domain::scripting::Endpoint` names the same endpoints, in the same order.
    #[test]
    fn the_schemas_endpoints_are_the_domains() {
        let schema = serde_json::to_value(super::Endpoint::schema()).unwrap();
        let named: Vec<&str> =
            schema["enum"].as_array().expect("an enum of names").iter().filter_map(|v| v.as_str()).collect();
        let domain: Vec<&str> =
            crate::domain::scripting::Endpoint::ALL.map(crate::domain::scripting::Endpoint::as_str).to_vec();
        assert_eq!(named, domain);
    }
}
