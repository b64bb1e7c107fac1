//! `GET /__admin/openapi.json`: an OpenAPI 3.1 document of the emulated API, the page and the
//! admin API. It is generated from the handlers' own annotations and types, and the router is
//! built from the same `routes!` lists (utoipa-axum), so the document cannot drift from what is
//! served. The types below exist only to describe bodies the handlers read as raw JSON.

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::OpenApi as Document;
use utoipa::{OpenApi, ToSchema};

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

/// `{"detail": "message"}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Detail {
    detail: String,
}

/// Field errors nested like the input: `{"field": ["message"]}` or `{"metadata": {"edocument": {"iin": {"value": ["..."]}}}}`.
#[derive(ToSchema)]
#[schema(value_type = Object)]
#[allow(dead_code)]
pub(crate) struct FieldErrors(serde_json::Value);

/// The create-session body \[doc\].
#[derive(ToSchema)]
#[schema(description = "The create-session body [doc].")]
#[allow(dead_code)]
pub(crate) struct CreateSessionBody {
    /// The flow's API KEY (47 or more characters).
    api_key: String,
    metadata: Option<MetadataDoc>,
}

/// Session metadata \[doc\]; unknown keys are ignored with a lint warning.
#[derive(ToSchema)]
#[schema(description = "Session metadata [doc]; unknown keys are ignored with a lint warning.")]
#[allow(dead_code)]
pub(crate) struct MetadataDoc {
    face2face: Option<Face2FaceDoc>,
    edocument: Option<EdocumentDoc>,
    general: Option<GeneralDoc>,
    extra: Option<ExtraDoc>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Face2FaceDoc {
    /// Base64 of a JPEG or PNG photo.
    photo1: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct EdocumentDoc {
    iin: Option<PrefillDoc>,
    phone: Option<PrefillDoc>,
    /// True only with both values given and both not changeable.
    #[schema(default = false)]
    skip_input: Option<bool>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct PrefillDoc {
    /// An IIN (12 digits, valid check digit and birth date) or a phone (77 and 9 digits).
    value: Option<String>,
    #[schema(default = true)]
    changeable: Option<bool>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct GeneralDoc {
    interchangeable_tech: Option<Vec<Code>>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ExtraDoc {
    /// The client's IIN; reports need it.
    iin: Option<String>,
}

/// The report body \[doc\].
#[derive(ToSchema)]
#[schema(description = "The report body [doc].")]
#[allow(dead_code)]
pub(crate) struct ReportBody {
    api_key: String,
}

/// `{"pdf": "<base64>"}` \[doc\].
#[derive(ToSchema)]
#[schema(description = "`{\"pdf\": \"<base64>\"}` [doc].")]
#[allow(dead_code)]
pub(crate) struct ReportResponse {
    /// The signed PDF, base64.
    pdf: String,
}

/// `POST /__admin/sessions/{id}/complete`'s optional body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct CompleteBody {
    /// The scenario to play the remaining steps with.
    scenario: Option<String>,
    /// Per code or family: "passed" or "failed".
    #[schema(value_type = Option<Object>)]
    outcomes: Option<serde_json::Value>,
}

/// `PUT /__admin/sessions/{id}/scenario`'s body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ScenarioBody {
    scenario: String,
}

/// `POST /__admin/flows`' body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct FlowBody {
    name: String,
    technologies: Vec<String>,
    /// Generated when absent.
    api_key: Option<String>,
    scenario: Option<String>,
    /// One webhook URL (the first, when `webhook_urls` is also given).
    webhook_url: Option<String>,
    /// Up to five webhook URLs (the vendor's limit), each with its own delivery queue.
    webhook_urls: Option<Vec<String>>,
}

/// The generate-files body.
#[derive(ToSchema)]
#[schema(description = "The generate-files body [doc].")]
#[allow(dead_code)]
pub(crate) struct GenerateFilesBody {
    /// A Flow session with E-Document.
    session_id: String,
    /// The flow's key (the vendor's docs: the organisation's).
    api_key: String,
}

/// The generate-files answer.
#[derive(ToSchema)]
#[schema(description = "The generate-files answer [mock].")]
#[allow(dead_code)]
pub(crate) struct FilesGenerated {
    detail: String,
    /// The fields generated: document_pdf, document_image.
    generated: Vec<String>,
}

/// The persons body.
#[derive(ToSchema)]
#[schema(description = "The persons body [doc].")]
#[allow(dead_code)]
pub(crate) struct PersonBody {
    /// The organisation's Backend Api Key.
    api_key: String,
    /// Base64 of a JPEG or PNG face photo.
    image_b64: String,
    /// digital, scan, live or other.
    photo_type: String,
    is_verified: bool,
    /// Identifiers of the person (phone, IIN, document number, custom id) for search and duplicate prevention.
    aliases: Option<Vec<String>>,
}

/// The E-Document request body.
#[derive(ToSchema)]
#[schema(description = "The E-Document request body [seen].")]
#[allow(dead_code)]
pub(crate) struct EdocumentRequestBody {
    api_key: String,
    /// 12 digits with a valid check digit.
    iin: String,
    /// 77 and nine digits.
    phone: String,
}

/// The E-Document request's answer.
#[derive(ToSchema)]
#[schema(description = "The E-Document request's answer [seen].")]
#[allow(dead_code)]
pub(crate) struct BackendSessionCreated {
    backend_session_id: String,
}

/// The E-Document approval body.
#[derive(ToSchema)]
#[schema(description = "The E-Document approval body [seen]: no api_key.")]
#[allow(dead_code)]
pub(crate) struct EdocumentApproveBody {
    backend_session_id: String,
    /// The 6-digit SMS code.
    code: String,
    /// With true, the document's files too.
    file: Option<bool>,
    /// pdf.
    file_type: Option<String>,
}

/// `{"status": "ok"}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Health {
    status: String,
    /// With `--state-file` only.
    state_file: Option<StateFileHealth>,
}

/// How the state file's writes go.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct StateFileHealth {
    path: String,
    /// Whether the last write worked.
    ok: bool,
    last_saved: Option<String>,
    /// Why the last write failed, while writes fail.
    error: Option<String>,
    failing_since: Option<String>,
}

// The schemas of types that live below the HTTP layer (`domain`, `scenario`), which must not know
// utoipa: each mirrors its type field for field, under the same name and description.

/// Why a technology failed, as the vendor writes it: `{"type": "CALC_RESULT", "detail": "..."}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct FailureReason {
    #[schema(rename = "type")]
    kind: String,
    detail: String,
}

/// How the Backend API's four image endpoints refuse a request.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum ImageRefusals {
    /// A missing or bad field, or a subscription missing
    #[response(status = 400)]
    Invalid(crate::http::openapi::FieldErrors),
    /// No organisation has this api_key
    #[response(status = 403)]
    Forbidden(crate::http::openapi::Detail),
    /// Not multipart/form-data
    #[response(status = 415)]
    NotMultipart(crate::http::openapi::Detail),
}

/// An emulated endpoint a fault can hit: the flows' and the Backend API's.
#[derive(ToSchema, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum Endpoint {
    Create,
    Result,
    Video,
    Report,
    GenerateFiles,
    LivenessShort,
    Face2faceCompare,
    DocumentParse,
    DocumentProcess,
    Persons,
    EdocumentRequest,
    EdocumentApprove,
}

/// A fault: the next `times` calls of `endpoint` are delayed, answered with an error status, or
/// have their connection dropped.
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct Fault {
    endpoint: Endpoint,
    /// An error status (400-599) answered with `{"detail": ...}`.
    #[serde(default)]
    status: Option<u16>,
    /// The `detail` of that answer; a default wording per status otherwise.
    #[serde(default)]
    detail: Option<String>,
    /// Wait this long before answering (or dropping).
    #[serde(default)]
    delay_ms: u64,
    /// Close the connection without answering.
    #[serde(default)]
    drop_connection: bool,
    #[serde(default)]
    times: u32,
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    /// The schema's copy of `domain::scripting::Endpoint` (kept apart so that `domain` does not
    /// depend on utoipa) names the same endpoints, in the same order.
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
