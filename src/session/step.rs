//! A session's steps, its status derived from them, the events its transitions cause, and why a
//! transition is refused. Plain data; the transitions themselves are `machine.rs`'s.

use serde_json::Value;
use time::OffsetDateTime;

use crate::domain::{FailureReason, TechnologyCode};

/// How many wrong SMS codes fail the E-Document step \[mock\].
pub(crate) const OTP_ATTEMPTS: u8 = 3;

/// One technology of a session.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub code: TechnologyCode,
    pub state: StepState,
    pub started_at: Option<OffsetDateTime>,
    pub ended_at: Option<OffsetDateTime>,
    /// Set when the step ends, passed or failed: the result as the vendor's JSON, scenario
    /// fields merged in. Boxed, as is the failure reason: most steps of most sessions held have
    /// neither, and every byte of a step is held for each session.
    pub result: Option<Box<Value>>,
    /// When the result appears on the result endpoint (the scenario's processing delay).
    pub visible_at: Option<OffsetDateTime>,
    pub failure_reason: Option<Box<FailureReason>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Pending,
    InProgress,
    Passed,
    Failed,
    /// Not run because an interchangeable technology passed instead.
    Skipped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No step has started yet.
    Created,
    Progress,
    Finished,
    Failed,
}

/// What a transition caused, in the vendor's webhook terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    FlowStarted,
    TechnologyStarted(TechnologyCode),
    TechnologyEnded { code: TechnologyCode, success: bool },
    FlowEnded { success: bool },
}

impl Event {
    /// The vendor's webhook event name (`flow.start`, ...), the technology and the success.
    pub(crate) fn parts(&self) -> (&'static str, Option<TechnologyCode>, Option<bool>) {
        match *self {
            Event::FlowStarted => ("flow.start", None, None),
            Event::TechnologyStarted(code) => ("technology.start", Some(code), None),
            Event::TechnologyEnded { code, success } => ("technology.end", Some(code), Some(success)),
            Event::FlowEnded { success } => ("flow.end", None, Some(success)),
        }
    }
}

/// An event as the session keeps it, with when it happened.
#[derive(Debug, Clone)]
pub(crate) struct RecordedEvent {
    pub at: OffsetDateTime,
    pub event: Event,
}

/// Why a command was refused; the session is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the session is already {}", .0.as_str().to_lowercase())]
    Ended(Status),
    #[error("{0} is not a technology of this session")]
    NotInSession(TechnologyCode),
    #[error("{code} cannot run now: the session is at {current}")]
    OutOfOrder { code: TechnologyCode, current: TechnologyCode },
    #[error("the E-Document step has not sent an SMS code yet")]
    NoOtp,
    #[error("no scenario is named {0:?}")]
    UnknownScenario(String),
    #[error("this session has no E-Document technology")]
    NoEdocument,
    #[error("the E-Document step of this session is {}, not passed: there is no document to make files of", .0.as_str().replace('_', " "))]
    EdocumentNotPassed(StepState),
    #[error("document_pdf and document_image have already been generated for this session")]
    FilesExist,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    pub fn has_ended(self) -> bool {
        matches!(self, Self::Passed | Self::Failed | Self::Skipped)
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::InProgress, Self::Passed, Self::Failed, Self::Skipped]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Progress => "PROGRESS",
            Self::Finished => "FINISHED",
            Self::Failed => "FAILED",
        }
    }

    pub fn has_ended(self) -> bool {
        matches!(self, Self::Finished | Self::Failed)
    }
}

impl Step {
    pub(crate) fn pending(code: TechnologyCode) -> Self {
        Self {
            code,
            state: StepState::Pending,
            started_at: None,
            ended_at: None,
            result: None,
            visible_at: None,
            failure_reason: None,
        }
    }
}
