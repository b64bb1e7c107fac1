//! The vendor's paths, each written once: the API host's (kyc.biometric.kz), every one ending with
//! a slash \[doc\], and the end-user host's (remote.biometric.kz). The route table (`app::routes`),
//! the handlers' OpenAPI descriptions and the links the mock writes name these.

use std::fmt::Display;

/// Flow Remote: session create \[doc: 2\].
pub const CREATE: &str = "/api/v1/flows/session/create/";
/// Flow Remote: the result \[doc: 5\].
pub const RESULT: &str = "/api/v1/flows/session/result/";
/// Flow Remote: the liveness video \[doc: 6\].
pub const VIDEO: &str = "/api/v1/liveness/video/download/";
/// Flow Remote: the signed PDF report \[doc: 7\].
pub const REPORT: &str = "/api/v1/flows/session/{session_id}/report/";
/// E-Document: the files generated again \[doc\].
pub const GENERATE_FILES: &str = "/api/v1/e-document/generate-files/";
/// The Backend API \[doc\].
pub const LIVENESS_SHORT: &str = "/api/v1/backend/liveness/short/";
pub const FACE2FACE_COMPARE: &str = "/api/v1/backend/face2face/compare/";
pub const DOCUMENT_PARSE: &str = "/api/v1/backend/document/parse/";
pub const DOCUMENT_PROCESS: &str = "/api/v2/backend/document/process/";
pub const PERSONS: &str = "/api/v1/backend/persons/";
/// The Backend API's E-Document by SMS code \[seen\].
pub const EDOCUMENT_REQUEST: &str = "/api/v1/backend/e-document/online-access/request/identity_card/";
pub const EDOCUMENT_APPROVE: &str = "/api/v1/backend/e-document/online-access/approve/";
/// The end-user page of a session \[doc: 4\].
pub const PAGE: &str = "/flow/{id}";
/// Its final screen: the vendor's iOS SDK closes its WebView once the page's address says
/// "finished" \[seen\], and no address before the end may say it.
pub const PAGE_FINISHED: &str = "/flow/{id}/finished";
/// The final screen's earlier address, still served \[mock\].
pub const PAGE_DONE: &str = "/flow/{id}/done";
/// Where its steps' forms go \[mock\].
pub const PAGE_STEP: &str = "/flow/{id}/{code}";
/// The Flow Widget \[seen\], and the page's own script for frames \[mock\].
pub const WIDGET: &str = "/widget/flow-widget.umd.js";
pub const FRAME_SCRIPT: &str = "/widget/frame.js";

/// `PAGE` of session `id`.
pub fn page(id: impl Display) -> String {
    PAGE.replace("{id}", &id.to_string())
}

/// `PAGE_FINISHED` of session `id`.
pub fn page_finished(id: impl Display) -> String {
    PAGE_FINISHED.replace("{id}", &id.to_string())
}

/// `PAGE_STEP` of session `id`'s step `code`.
pub fn page_step(id: impl Display, code: impl Display) -> String {
    PAGE_STEP.replace("{id}", &id.to_string()).replace("{code}", &code.to_string())
}
