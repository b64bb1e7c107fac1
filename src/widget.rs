//! The Flow Widget's scripts, served as they are written in `widget/` (plain JavaScript, no build
//! step): `GET /widget/flow-widget.umd.js`, the library a front end loads from remote.biometric.kz
//! (SPEC §12), and `GET /widget/frame.js`, what the end-user page runs when it is framed. Knows
//! HTTP caching, nothing of sessions.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::Digest as _;
use std::sync::OnceLock;

/// The widget library, as the vendor's address serves it.
pub(crate) const WIDGET_JS: &str = include_str!("../widget/flow-widget.umd.js");
/// The page's own script for frames: the `in_frame` field and the `finish`/`error` messages.
pub(crate) const FRAME_JS: &str = include_str!("../widget/frame.js");

/// How long a browser may use a copy without asking again: short, because a developer who
/// upgrades the mock should get the new script within minutes; after that, `ETag` makes the
/// question cheap.
const MAX_AGE: &str = "public, max-age=300";

/// `GET /widget/flow-widget.umd.js`: the Flow Widget, a UMD bundle (a plain `<script>`, CommonJS
/// or AMD) defining `FlowWidget.startSession({id, selector, locale})`.
#[utoipa::path(get, path = crate::domain::paths::WIDGET, tag = "end-user page",
    responses((status = 200, description = "The Flow Widget library [mock: the vendor's script is not public; ours mounts an iframe of /flow/{id}?web_view=true and dispatches `finish` on window]", content_type = "text/javascript"), (status = 304, description = "The copy the browser holds (If-None-Match) is current")))]
pub(crate) async fn flow_widget(headers: HeaderMap) -> Response {
    static TAG: OnceLock<HeaderValue> = OnceLock::new();
    script(&headers, WIDGET_JS, TAG.get_or_init(|| etag(WIDGET_JS)))
}

/// `GET /widget/frame.js`: the end-user page's script for frames.
#[utoipa::path(get, path = crate::domain::paths::FRAME_SCRIPT, tag = "end-user page",
    responses((status = 200, description = "What the page does inside a frame: it posts {event: finish|error, session_id, ...} to its parent", content_type = "text/javascript"), (status = 304, description = "The copy the browser holds (If-None-Match) is current")))]
pub(crate) async fn frame_script(headers: HeaderMap) -> Response {
    static TAG: OnceLock<HeaderValue> = OnceLock::new();
    script(&headers, FRAME_JS, TAG.get_or_init(|| etag(FRAME_JS)))
}

/// A strong `ETag` of the script's bytes.
fn etag(text: &str) -> HeaderValue {
    let digest = sha2::Sha256::digest(text.as_bytes());
    let mut tag = String::from("\"");
    for byte in &digest[..12] {
        use std::fmt::Write as _;
        let _ = write!(tag, "{byte:02x}");
    }
    tag.push('"');
    HeaderValue::from_str(&tag).expect("hex in quotes is a header value")
}

fn script(request: &HeaderMap, text: &'static str, tag: &HeaderValue) -> Response {
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/").as_bytes() == tag.as_bytes());
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
        (header::CACHE_CONTROL, HeaderValue::from_static(MAX_AGE)),
        (header::ETAG, tag.clone()),
        // Any origin may load it: a page's <script crossorigin> and module loaders fetch it with CORS.
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    if fresh { (StatusCode::NOT_MODIFIED, headers).into_response() } else { (headers, text).into_response() }
}
