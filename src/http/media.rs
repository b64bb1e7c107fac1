//! The emulated API's file answers: the liveness video (with byte ranges, as players need), the
//! signed PDF report, and the E-Document's files generated again.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::ApiError;
use super::api::session_in_query;
use super::extract::{BodyBytes, QueryMap, typed};
use super::fault;
use crate::clock::timestamp;
use crate::domain::{Family, FieldErrors, TechnologyCode, drf};
use crate::journal::Notes;
use crate::report::{ReportData, ReportKind};
use crate::session::{Session, StepState};
use crate::state::{AppState, Scripted};
use crate::wire::field::Field;

/// `GET /api/v1/liveness/video/download/?session_id=&flow_api_key=`
#[utoipa::path(get, path = crate::domain::paths::VIDEO, tag = "vendor API",
    params(("session_id" = String, Query), ("flow_api_key" = String, Query), ("Range" = Option<String>, Header, description = "One byte range")),
    responses(
        (status = 200, description = "The whole video", content_type = "video/mp4"),
        (status = 206, description = "The requested range", content_type = "video/mp4"),
        (status = 400, description = "A missing parameter or a non-UUID id", body = crate::http::error::FieldErrorsBody),
        (status = 404, description = "No such session, or no finished liveness step", body = crate::http::error::Detail),
        (status = 416, description = "The range is outside the video", body = crate::http::error::Detail),
    ))]
pub(crate) async fn liveness_video(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    query: QueryMap,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (id, key) = session_in_query(&query)?;
    fault::meet(&state, &notes, Scripted::Session { id: &id, key }).await?;
    let recorded = state
        .with_session(&id, |s| {
            s.steps().iter().any(|st| {
                st.code.family() == Family::Liveness && matches!(st.state, StepState::Passed | StepState::Failed)
            })
        })
        .unwrap_or(false);
    if !recorded {
        return Err(ApiError::not_found(
            "This session has no liveness video: the user has not gone through its liveness step yet.",
        ));
    }
    let video = state.video_of(&id).ok_or(ApiError::NotFound)?;
    let total = video.bytes.len() as u64;
    let mut response_headers = HeaderMap::new();
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(video.content_type));
    response_headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let disposition = format!("attachment; filename=\"liveness-{id}.{}\"", video.extension);
    response_headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("ASCII"));

    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).map_or(Range::Whole, |v| byte_range(v, total));
    match range {
        Range::Whole => Ok((StatusCode::OK, response_headers, Body::from(video.bytes)).into_response()),
        Range::Part(start, end) => {
            let content_range = format!("bytes {start}-{end}/{total}");
            response_headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(&content_range).expect("ASCII"));
            let part = video.bytes.slice(usize::try_from(start).unwrap_or(0)..=usize::try_from(end).unwrap_or(0));
            Ok((StatusCode::PARTIAL_CONTENT, response_headers, Body::from(part)).into_response())
        }
        Range::Unsatisfiable => {
            // The refusal in the vendor's shape, with the file's own headers (`Accept-Ranges`,
            // `Content-Disposition`) as every answer of this endpoint has.
            let mut response = ApiError::RangeNotSatisfiable { total }.into_response();
            for name in [header::ACCEPT_RANGES, header::CONTENT_DISPOSITION] {
                if let Some(value) = response_headers.remove(&name) {
                    response.headers_mut().insert(name, value);
                }
            }
            Ok(response)
        }
    }
}

/// What a `Range` header asks of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    /// No single byte range (another unit, a syntax error, several ranges: RFC 9110 lets a
    /// server ignore those): the whole file, 200.
    Whole,
    /// The first and the last byte: 206.
    Part(u64, u64),
    /// Nothing of the file: 416.
    Unsatisfiable,
}

/// The one byte range a `Range` header asks of a `total`-byte file (RFC 9110, 14.1.2). A suffix
/// longer than the file is the whole file; the unit is case-insensitive.
fn byte_range(header: &str, total: u64) -> Range {
    single_range(header, total).unwrap_or(Range::Whole)
}

fn single_range(header: &str, total: u64) -> Option<Range> {
    let (unit, spec) = header.trim().split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return None;
    }
    let (first, last) = spec.trim().split_once('-')?;
    let number = |text: &str| -> Option<Option<u64>> {
        let text = text.trim();
        if text.is_empty() {
            Some(None)
        } else if text.bytes().all(|b| b.is_ascii_digit()) {
            // More digits than a u64 holds: past any file's end.
            Some(Some(text.parse().unwrap_or(u64::MAX)))
        } else {
            None
        }
    };
    let part = match (number(first)?, number(last)?) {
        (None, None) => return None,
        // `-N`: the last N bytes; `-0` asks for nothing.
        (None, Some(0)) => None,
        (None, Some(suffix)) => (total > 0).then(|| (total.saturating_sub(suffix), total - 1)),
        (Some(start), last) => {
            if last.is_some_and(|last| last < start) {
                return None;
            }
            (start < total).then(|| (start, last.map_or(total - 1, |last| last.min(total - 1))))
        }
    };
    Some(part.map_or(Range::Unsatisfiable, |(start, end)| Range::Part(start, end)))
}

#[cfg(test)]
mod tests {
    use super::{Range, byte_range};

    #[test]
    fn byte_ranges_follow_rfc_9110() {
        let cases: [(&str, Range); 17] = [
            ("bytes=0-99", Range::Part(0, 99)),
            ("bytes=100-", Range::Part(100, 999)),
            ("bytes=-10", Range::Part(990, 999)),
            ("bytes=-99999999", Range::Part(0, 999)),
            ("bytes=-0", Range::Unsatisfiable),
            ("bytes=5-5000", Range::Part(5, 999)),
            ("bytes=999-999", Range::Part(999, 999)),
            ("bytes=1000-", Range::Unsatisfiable),
            ("bytes=99999999999999999999999-", Range::Unsatisfiable),
            ("Bytes=0-1", Range::Part(0, 1)),
            ("BYTES = 0-1", Range::Part(0, 1)),
            ("bytes=5-4", Range::Whole),
            ("bytes=0-5,10-20", Range::Whole),
            ("items=0-5", Range::Whole),
            ("bytes=x-y", Range::Whole),
            ("bytes=-", Range::Whole),
            ("bytes", Range::Whole),
        ];
        for (header, expected) in cases {
            assert_eq!(byte_range(header, 1000), expected, "{header}");
        }
        assert_eq!(byte_range("bytes=0-", 0), Range::Unsatisfiable, "nothing of an empty file");
        assert_eq!(byte_range("bytes=-5", 0), Range::Unsatisfiable);
    }
}

/// The report body \[doc\].
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ReportBody {
    /// The flow's API KEY.
    #[serde(default)]
    #[schema(value_type = String)]
    api_key: Field<String>,
}

/// `{"pdf": "<base64>"}` \[doc\].
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ReportResponse {
    /// The signed PDF, base64.
    pdf: String,
}

/// The generate-files body \[doc\].
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct GenerateFilesBody {
    /// A Flow session with E-Document.
    #[serde(default)]
    #[schema(value_type = String)]
    session_id: Field<String>,
    /// The flow's key, or the organisation's Backend Api Key (the vendor's docs name it).
    #[serde(default)]
    #[schema(value_type = String)]
    api_key: Field<String>,
}

/// The generate-files answer \[mock\].
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FilesGenerated {
    detail: &'static str,
    /// The fields generated: document_pdf, document_image.
    generated: Vec<&'static str>,
}

/// `POST /api/v1/flows/session/{session_id}/report/?technology=` with `{"api_key"}`.
#[utoipa::path(post, path = crate::domain::paths::REPORT, tag = "vendor API",
    params(("session_id" = String, Path, description = "UUID"), ("technology" = String, Query, description = "LDHP, LDD2, LDD, LDPM or F2F")),
    request_body = ReportBody,
    responses(
        (status = 200, description = "The signed PDF", body = ReportResponse),
        (status = 400, description = "A precondition failed", body = crate::http::error::FieldErrorsBody),
        (status = 403, description = "No flow has this api_key", body = crate::http::error::Detail),
        (status = 404, description = "No such session for this key", body = crate::http::error::Detail),
    ))]
pub(crate) async fn session_report(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    Path(session_id): Path<String>,
    query: QueryMap,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    // Django's <uuid:session_id> route would not match anything else: 404 before any other
    // check, the body's included.
    let id = Uuid::parse_str(&session_id).map_err(|_| ApiError::NotFound)?;
    let body: ReportBody = typed(&body)?;
    if let Some(key) = body.api_key.given() {
        notes.api_key(key);
    }
    let [text] = query.require(["technology"])?;
    let code = text
        .parse::<TechnologyCode>()
        .ok()
        .filter(|c| TechnologyCode::REPORTABLE.contains(c))
        .ok_or_else(|| ApiError::field(&["technology"], drf::not_a_choice(text)))?;
    let mut errors = FieldErrors::new();
    let key = body.api_key.required_text(&["api_key"], &mut errors);
    let key = errors.into_result(key.unwrap_or_default())?;
    if state.find_flow(&key).is_none() {
        return Err(ApiError::UnknownKey);
    }
    fault::meet(&state, &notes, Scripted::Session { id: &id, key: &key }).await?;
    let now = state.now_for(&key);
    let data = state.with_session(&id, |s| report_data(s, code, now)).ok_or(ApiError::NotFound)??;
    // A few milliseconds of CPU: off the async threads, so other requests never wait for it, and
    // a few at a time (`report_slots`), so a burst of reports cannot take every core. The turn
    // goes with the work: a client that hangs up does not free it before the drawing is done.
    let failed = |e: &dyn std::fmt::Display| {
        ApiError::detail(StatusCode::INTERNAL_SERVER_ERROR, format!("report rendering failed: {e}"))
    };
    let turn = state.report_slots().acquire_owned().await.map_err(|e| failed(&e))?;
    let body = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let pdf = crate::report::render_signed(&data)?;
        // Encoded here too: 80 KB of base64 in JSON is not work for the async threads either.
        let pdf = base64::engine::general_purpose::STANDARD.encode(pdf);
        Ok::<_, crate::report::ReportError>(serde_json::to_string(&ReportResponse { pdf }).unwrap_or_default())
    })
    .await
    .map_err(|e| failed(&e))?
    .map_err(|e| ApiError::detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(super::json_bytes(body))
}

/// `POST /api/v1/e-document/generate-files/` with `{"session_id", "api_key"}` \[doc: the vendor's
/// "generate files" page, "for cases when document_pdf or document_image files were not
/// generated during the initial receipt of the electronic document"\]. The key is the flow's
/// \[mock: the docs name the organisation's key, which the Backend API brings; until then the
/// flow's\].
#[utoipa::path(post, path = crate::domain::paths::GENERATE_FILES, tag = "vendor API",
    request_body = GenerateFilesBody,
    responses(
        (status = 200, description = "The missing files were generated; the result now has them", body = FilesGenerated),
        (status = 400, description = "A missing field, a non-UUID id, no E-Document in the session, its step not passed, or both files already there", body = crate::http::error::FieldErrorsBody),
        (status = 403, description = "No flow has this api_key", body = crate::http::error::Detail),
        (status = 404, description = "No such session for this key", body = crate::http::error::Detail),
    ))]
pub(crate) async fn generate_files(
    State(state): State<AppState>,
    Extension(notes): Extension<Notes>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let body: GenerateFilesBody = typed(&body)?;
    if let Some(key) = body.api_key.given() {
        notes.api_key(key);
    }
    let mut errors = FieldErrors::new();
    let (session_id, key) = (
        body.session_id.required_text(&["session_id"], &mut errors),
        body.api_key.required_text(&["api_key"], &mut errors),
    );
    let (session_id, key) = errors.into_result((session_id.unwrap_or_default(), key.unwrap_or_default()))?;
    let id = super::extract::session_id(&session_id)?;
    notes.session(id);
    // The docs name the organisation's Backend Api Key, which reaches every flow's sessions; the
    // flow's own key is taken too [mock].
    let key = if state.find_flow(&key).is_some() {
        key
    } else if let Some(org) = state.find_backend_key(&key) {
        if !org.has(crate::domain::backend::Service::Edocument) {
            return Err(ApiError::bad_request("Client does not have access to E-Document technology"));
        }
        state.with_session(&id, |s| s.api_key().as_str().to_owned()).ok_or(ApiError::NotFound)?
    } else {
        return Err(ApiError::UnknownKey);
    };
    fault::meet(&state, &notes, Scripted::Session { id: &id, key: &key }).await?;
    let generated = state.generate_files(&id, &key)?.map_err(|e| {
        use crate::session::TransitionError as T;
        ApiError::bad_request(match e {
            T::NoEdocument => "This session has no E-Document technology: there are no files to generate.".to_owned(),
            T::EdocumentNotPassed(step) => format!(
                "The E-Document step of this session is {}, not passed: files are generated for a received electronic document.",
                step.as_str().replace('_', " ")
            ),
            T::FilesExist => "document_pdf and document_image have already been generated for this session.".to_owned(),
            other => other.to_string(),
        })
    })?;
    Ok(Json(FilesGenerated { detail: "Files have been generated.", generated }).into_response())
}

/// Checks every precondition of a report \[doc\], each with its own message, and gathers what the
/// report prints.
fn report_data(s: &Session, code: TechnologyCode, now: time::OffsetDateTime) -> Result<ReportData, ApiError> {
    let Some(step) = s.step(code) else {
        return Err(ApiError::field(
            &["technology"],
            format!("{code} is not a technology of this session ({}).", TechnologyCode::list(s.technologies())),
        ));
    };
    let Some(iin) = s.metadata().extra.as_ref().and_then(|e| e.iin.as_ref()) else {
        return Err(ApiError::bad_request(
            "This session has no metadata.extra.iin: reports need the client's IIN, passed in metadata.extra.iin when the session is created.",
        ));
    };
    if !matches!(step.state, StepState::Passed | StepState::Failed) {
        return Err(ApiError::bad_request(format!(
            "The {code} step of this session is not finished (it is {}); a report needs a finished technology.",
            step.state.as_str()
        )));
    }
    if step.visible_at.is_some_and(|at| at > now) {
        return Err(ApiError::bad_request(format!(
            "The {code} result of this session is still being processed; ask again when the result endpoint shows it."
        )));
    }
    let field = |name: &str| step.result.as_ref().and_then(|r| r.get(name)).and_then(Value::as_str).map(str::to_owned);
    Ok(ReportData {
        session_id: s.id().to_string(),
        flow_name: s.flow_name().to_owned(),
        iin: iin.as_str().to_owned(),
        technology_code: code.as_str().to_owned(),
        technology_name: code.name().to_owned(),
        kind: if code.family() == Family::Face2Face { ReportKind::FaceComparison } else { ReportKind::Liveness },
        passed: step.state == StepState::Passed,
        score: field("prediction"),
        score_percent: field("prediction_percent"),
        failure_reason: step.failure_reason.as_ref().map(|r| format!("{}: {}", r.kind, r.detail)),
        created_at: timestamp(s.created_at()),
        finished_at: s.finished_at().or(step.ended_at).map(timestamp).unwrap_or_default(),
        generated_at: timestamp(now),
    })
}
