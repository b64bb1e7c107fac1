//! The result endpoint's body, which the API answers and the `flow.end` webhook carries: plain
//! serde structs over a borrowed session, with their OpenAPI schemas.

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::domain::{FailureReason, Family, TechnologyCode};
use crate::session::{Session, Status, StepState};

/// The body of the result endpoint \[doc + seen + mock\]. It borrows the session, so that the
/// endpoint writes it out under the state's lock without copying any result.
#[expect(clippy::struct_field_names, reason = "the vendor's field names (`flow_session_result`, ...)")]
#[derive(Serialize, utoipa::ToSchema)]
#[schema(
    description = "The body of the result endpoint [doc + seen + mock]. It borrows the session, so that the\nendpoint writes it out under the state's lock without copying any result."
)]
pub(crate) struct SessionResult<'a> {
    pub id: Uuid,
    pub status: &'static str,
    pub technologies: Vec<TechnologyInfo>,
    #[expect(rustdoc::broken_intra_doc_links, reason = "the OpenAPI description, as written: [mock] is a tag")]
    /// `null` until the session ends, then whether it succeeded [mock].
    pub flow_session_result: Option<bool>,
    /// One line per failed technology, `"LDHP: CALC_RESULT: Low overall prediction"`
    /// (technology, type, detail) [seen: clients join them as strings; the format is mock].
    #[schema(value_type = Vec<String>)]
    pub flow_session_failure_reasons: Vec<SessionFailure<'a>>,
    #[schema(value_type = Option<String>)]
    pub validated_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub finished_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub liveness_result: Option<Shown<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub face2face_result: Option<Shown<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub edocument_result: Option<Shown<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub document_recognition_result: Option<Shown<'a>>,
}

/// A technology's result as the result endpoint shows it.
#[derive(Clone, Copy)]
pub(crate) enum Shown<'a> {
    /// Still in its scenario's processing delay: `{}` \[seen\].
    Processing,
    Result(&'a Value),
}

impl Serialize for Shown<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Processing => serde::ser::SerializeMap::end(serializer.serialize_map(Some(0))?),
            Self::Result(value) => value.serialize(serializer),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TechnologyInfo {
    #[schema(value_type = super::Code)]
    pub code: TechnologyCode,
    pub name: &'static str,
    pub description: &'static str,
}

/// One entry of `flow_session_failure_reasons`: a string, as real clients read them \[seen\] (a
/// NestJS client types them `string[]` and joins them into its message), in a format of ours
/// \[mock\]: `"<technology>: <type>: <detail>"`. The admin API keeps them structured.
pub(crate) struct SessionFailure<'a> {
    pub technology: TechnologyCode,
    pub reason: &'a FailureReason,
}

impl std::fmt::Display for SessionFailure<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.technology, self.reason.kind, self.reason.detail)
    }
}

impl Serialize for SessionFailure<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'a> SessionResult<'a> {
    /// The session as the result endpoint shows it at `now`: a result still in its scenario's
    /// processing delay is `{}` \[seen\], and the session is in progress until every result is out.
    /// `failed`: how the session's scenario ends a failed verification.
    pub(crate) fn of(s: &'a Session, now: OffsetDateTime, failed: crate::domain::FailedStatus) -> Self {
        let processing = s.processing(now);
        let status = if processing { Status::Progress } else { s.status() };
        let finished_at = if processing { None } else { s.finished_at().map(Timestamp) };
        // A technology's result appears once the user has gone through it, passed or failed;
        // pending and skipped technologies have none [doc].
        let result_of = |family: Family| {
            s.steps()
                .iter()
                .rev()
                .filter(|st| st.code.family() == family && matches!(st.state, StepState::Passed | StepState::Failed))
                .find_map(|st| match st.visible_at {
                    Some(at) if at > now => Some(Shown::Processing),
                    _ => st.result.as_deref().map(Shown::Result),
                })
        };
        Self {
            id: s.id(),
            status: match status {
                // The vendor has no "created": a session nobody has opened yet is in progress.
                Status::Created | Status::Progress => "PROGRESS",
                Status::Finished => "FINISHED",
                Status::Failed => failed.as_str(),
            },
            technologies: s
                .technologies()
                .iter()
                .map(|&code| TechnologyInfo { code, name: code.name(), description: code.description() })
                .collect(),
            flow_session_result: status.has_ended().then_some(status == Status::Finished),
            flow_session_failure_reasons: s
                .steps()
                .iter()
                .filter(|_| !processing)
                .filter_map(|st| {
                    st.failure_reason.as_ref().map(|reason| SessionFailure { technology: st.code, reason })
                })
                .collect(),
            validated_at: finished_at,
            finished_at,
            liveness_result: result_of(Family::Liveness),
            face2face_result: result_of(Family::Face2Face),
            edocument_result: result_of(Family::Edocument),
            document_recognition_result: result_of(Family::DocumentRecognition),
        }
    }
}
