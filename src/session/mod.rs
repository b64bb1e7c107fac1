//! Sessions and their state machine. A session walks its technologies in order; each step is
//! pending, in progress, then passed, failed or skipped (an interchangeable alternative passed).
//! Every transition returns the events it caused (flow start, technology start and end, flow
//! end) and records them on the session, so that whoever drives a session — the end-user page,
//! the admin `complete` call, a scenario — produces the same history, and whoever watches —
//! the result endpoint, webhooks, the journal — sees the same thing. No HTTP here.

pub mod generate;
pub mod results;
pub mod store;

use std::collections::HashMap;

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::scripting::{Endpoint, Source};
use crate::domain::{ApiKey, FailureReason, Metadata, Outcome, TechnologyCode};
pub use generate::{Generator, Subject};
pub use results::TechResult;
pub use store::SessionStore;

#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    /// The flow that made the session, as the state numbers flows: a session belongs to that
    /// flow, not to its key (a flow deleted and added again with the same key is another flow).
    pub flow_id: u64,
    pub flow_name: String,
    pub api_key: ApiKey,
    pub technologies: Vec<TechnologyCode>,
    pub metadata: HeldMetadata,
    /// The made-up person whose data the results report, consistent across technologies.
    pub subject: Subject,
    pub created_at: OffsetDateTime,
    pub steps: Vec<Step>,
    /// The E-Document step's SMS code, once the user has reached the OTP screen.
    pub otp: Option<String>,
    /// Wrong OTP codes entered so far; the third fails the step.
    pub otp_wrong: u8,
    /// Whether `metadata.face2face.photo1` takes the place of the user's upload: it was given and
    /// F2F follows another step of the flow [doc].
    pub uses_photo1: bool,
    /// The scenario the session plays, and why.
    pub scenario: String,
    pub scenario_source: Source,
    /// Calls so far that each of the scenario's fault rules has hit, by endpoint and rule index.
    pub fault_calls: HashMap<(Endpoint, usize), u32>,
    /// Where the flow's webhooks go, copied when the session was created.
    pub webhook_url: Option<String>,
    /// When the result endpoint was last asked about this session (for the polling-rate lint).
    pub last_result_poll: Option<OffsetDateTime>,
    pub events: Vec<RecordedEvent>,
    /// The result endpoint's answer, kept once it is final (`AppState::result_answer`). Derived,
    /// so never persisted.
    pub final_result: Option<bytes::Bytes>,
    /// How many result polls have been answered `final_result` (for the polled-after-final
    /// lint). Not persisted.
    pub final_polls: u32,
}

/// A session's metadata as held: nothing when there was none (most sessions), boxed
/// otherwise. `Metadata` is 240 bytes, and every byte of a session is held for each one.
#[derive(Debug, Clone, Default)]
pub struct HeldMetadata(Option<Box<Metadata>>);

impl From<Metadata> for HeldMetadata {
    fn from(metadata: Metadata) -> Self {
        Self((!metadata.is_none()).then(|| Box::new(metadata)))
    }
}

impl std::ops::Deref for HeldMetadata {
    type Target = Metadata;

    fn deref(&self) -> &Metadata {
        static NONE: std::sync::LazyLock<Metadata> = std::sync::LazyLock::new(Metadata::default);
        self.0.as_deref().unwrap_or(&NONE)
    }
}

/// How many wrong SMS codes fail the E-Document step [mock].
pub const OTP_ATTEMPTS: u8 = 3;

#[derive(Debug, Clone)]
pub struct Step {
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    FlowStarted,
    TechnologyStarted(TechnologyCode),
    TechnologyEnded { code: TechnologyCode, success: bool },
    FlowEnded { success: bool },
}

impl Event {
    /// The vendor's webhook event name (`flow.start`, ...), the technology and the success.
    pub fn parts(&self) -> (&'static str, Option<TechnologyCode>, Option<bool>) {
        match *self {
            Event::FlowStarted => ("flow.start", None, None),
            Event::TechnologyStarted(code) => ("technology.start", Some(code), None),
            Event::TechnologyEnded { code, success } => ("technology.end", Some(code), Some(success)),
            Event::FlowEnded { success } => ("flow.end", None, Some(success)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RecordedEvent {
    pub at: OffsetDateTime,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the session is already {}", .0.as_str().to_lowercase())]
    Ended(Status),
    #[error("{0} is not a technology of this session")]
    NotInSession(TechnologyCode),
    #[error("{code} cannot run now: the session is at {current}")]
    OutOfOrder { code: TechnologyCode, current: TechnologyCode },
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

impl Session {
    pub fn new(
        id: Uuid,
        flow: &crate::domain::Flow,
        metadata: Metadata,
        subject: Subject,
        now: OffsetDateTime,
        scenario: (String, Source),
    ) -> Self {
        let steps = flow
            .technologies
            .iter()
            .map(|&code| Step {
                code,
                state: StepState::Pending,
                started_at: None,
                ended_at: None,
                result: None,
                visible_at: None,
                failure_reason: None,
            })
            .collect();
        Self {
            id,
            flow_id: flow.id,
            flow_name: flow.name.clone(),
            api_key: flow.api_key.clone(),
            technologies: flow.technologies.clone(),
            subject,
            created_at: now,
            steps,
            otp: None,
            otp_wrong: 0,
            uses_photo1: metadata.photo1().is_some() && flow.uses_face2face_photo(),
            metadata: metadata.into(),
            scenario: scenario.0,
            scenario_source: scenario.1,
            fault_calls: HashMap::new(),
            last_result_poll: None,
            webhook_url: flow.webhook_url.clone(),
            events: Vec::new(),
            final_result: None,
            final_polls: 0,
        }
    }

    /// About how many bytes the store holds for this session (for `--max-store-bytes`): the
    /// session and its steps, a typical result for each step, the metadata as kept.
    pub fn held_bytes(&self) -> usize {
        const RESULT: usize = 640;
        std::mem::size_of::<Self>()
            + self.steps.len() * (std::mem::size_of::<Step>() + RESULT)
            + self.metadata.held_bytes
            + self.flow_name.len()
            + self.api_key.as_str().len()
    }

    /// Derived from the steps, never stored, so it cannot disagree with them.
    pub fn status(&self) -> Status {
        if self.steps.iter().any(|s| s.state == StepState::Failed) {
            Status::Failed
        } else if self.steps.iter().all(|s| s.state.has_ended()) {
            Status::Finished
        } else if self.steps.iter().all(|s| s.state == StepState::Pending) {
            Status::Created
        } else {
            Status::Progress
        }
    }

    /// When the session expires, with sessions living `ttl` (`None`: they never do).
    pub fn expires_at(&self, ttl: Option<std::time::Duration>) -> Option<OffsetDateTime> {
        ttl.map(|ttl| crate::clock::after(self.created_at, ttl))
    }

    /// When the session expired, if it has by `now`.
    pub fn expired_at(&self, ttl: Option<std::time::Duration>, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.expires_at(ttl).filter(|at| *at <= now)
    }

    /// When the last step ended, once the session has ended.
    pub fn finished_at(&self) -> Option<OffsetDateTime> {
        if self.status().has_ended() { self.steps.iter().filter_map(|s| s.ended_at).max() } else { None }
    }

    pub fn step(&self, code: TechnologyCode) -> Option<&Step> {
        self.steps.iter().find(|s| s.code == code)
    }

    /// The first step that has not ended: where the user is.
    pub fn current(&self) -> Option<&Step> {
        if self.status().has_ended() {
            return None;
        }
        self.steps.iter().find(|s| !s.state.has_ended())
    }

    /// The technologies the user may run now: the current one and, when it belongs to
    /// `general.interchangeable_tech`, the other pending members of that group.
    pub fn runnable(&self) -> Vec<TechnologyCode> {
        let Some(current) = self.current() else { return Vec::new() };
        let group = self.metadata.interchangeable();
        if group.contains(&current.code) {
            self.steps.iter().filter(|s| group.contains(&s.code) && !s.state.has_ended()).map(|s| s.code).collect()
        } else {
            vec![current.code]
        }
    }

    /// The user begins a technology. Starting one already in progress changes nothing.
    pub fn start(&mut self, code: TechnologyCode, now: OffsetDateTime) -> Result<Vec<Event>, TransitionError> {
        let index = self.check_runnable(code)?;
        let mut events = Vec::new();
        if self.steps[index].state == StepState::InProgress {
            return Ok(events);
        }
        if self.status() == Status::Created {
            events.push(Event::FlowStarted);
        }
        let step = &mut self.steps[index];
        step.state = StepState::InProgress;
        step.started_at = Some(now);
        events.push(Event::TechnologyStarted(code));
        self.record(now, &events);
        Ok(events)
    }

    /// A technology ends with `outcome` and `result` (starting it first if it had not started).
    /// A pass skips the technologies interchangeable with it; a failure ends the session.
    pub fn end(
        &mut self,
        code: TechnologyCode,
        outcome: Outcome,
        result: Value,
        visible_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Vec<Event>, TransitionError> {
        let mut events = self.start(code, now)?;
        let success = outcome == Outcome::Passed;
        let step = self.steps.iter_mut().find(|s| s.code == code).expect("checked by start");
        step.ended_at = Some(now);
        step.result = Some(Box::new(result));
        step.visible_at = Some(visible_at);
        match outcome {
            Outcome::Passed => step.state = StepState::Passed,
            Outcome::Failed(reason) => {
                step.state = StepState::Failed;
                step.failure_reason = Some(Box::new(reason));
            }
        }
        if success {
            let group = self.metadata.interchangeable().to_vec();
            if group.contains(&code) {
                for other in self.steps.iter_mut().filter(|s| s.code != code && group.contains(&s.code)) {
                    if !other.state.has_ended() {
                        other.state = StepState::Skipped;
                        other.ended_at = Some(now);
                    }
                }
            }
        }
        let mut ended = vec![Event::TechnologyEnded { code, success }];
        match self.status() {
            Status::Finished => ended.push(Event::FlowEnded { success: true }),
            Status::Failed => ended.push(Event::FlowEnded { success: false }),
            Status::Created | Status::Progress => {}
        }
        self.record(now, &ended);
        events.extend(ended);
        Ok(events)
    }

    fn check_runnable(&self, code: TechnologyCode) -> Result<usize, TransitionError> {
        let status = self.status();
        if status.has_ended() {
            return Err(TransitionError::Ended(status));
        }
        let index = self.steps.iter().position(|s| s.code == code).ok_or(TransitionError::NotInSession(code))?;
        if !self.runnable().contains(&code) {
            let current = self.current().map_or(code, |s| s.code);
            return Err(TransitionError::OutOfOrder { code, current });
        }
        Ok(index)
    }

    fn record(&mut self, at: OffsetDateTime, events: &[Event]) {
        self.events.extend(events.iter().map(|event| RecordedEvent { at, event: event.clone() }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Flow, TechnologyCode::*};
    use serde_json::json;

    #[test]
    fn metadata_is_held_only_when_there_is_some() {
        let none = HeldMetadata::from(Metadata::default());
        assert!(none.0.is_none(), "no metadata takes no allocation");
        assert!(none.is_none() && none.display == json!({}));
        let sent = json!({"extra": {"iin": "900101300017"}});
        let some = HeldMetadata::from(Metadata::parse(sent, Some(&[Ldhp])).unwrap());
        assert!(some.0.is_some());
        assert_eq!(
            some.extra.as_ref().and_then(|e| e.iin.as_ref()).map(crate::domain::Iin::as_str),
            Some("900101300017")
        );
        let unknown = HeldMetadata::from(Metadata::parse(json!({"x": 1}), Some(&[Ldhp])).unwrap());
        assert_eq!(unknown.unknown_keys, ["metadata.x"], "an unknown key alone is kept too");
    }

    fn session(codes: &[TechnologyCode], metadata: serde_json::Value) -> (Session, Generator) {
        let flow = Flow {
            id: 0,
            name: "test".into(),
            api_key: ApiKey::parse("k-0123456789012345678901234567890123456789012345").unwrap(),
            technologies: codes.to_vec(),
            scenario: None,
            webhook_url: None,
        };
        let metadata = Metadata::parse(metadata, Some(codes)).unwrap();
        let mut generator = Generator::new(Some(1));
        let subject = generator.subject(&metadata, time::macros::date!(2026 - 01 - 01));
        let scenario = ("happy-path".to_owned(), Source::Server);
        (Session::new(Uuid::nil(), &flow, metadata, subject, OffsetDateTime::UNIX_EPOCH, scenario), generator)
    }

    fn pass(s: &mut Session, g: &mut Generator, code: TechnologyCode) -> Result<Vec<Event>, TransitionError> {
        let result = serde_json::to_value(g.result(code, &Outcome::Passed, &s.subject)).unwrap();
        s.end(code, Outcome::Passed, result, OffsetDateTime::UNIX_EPOCH, OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn a_session_walks_created_progress_finished_with_events_in_order() {
        let (mut s, mut g) = session(&[Ldhp, F2f], json!({}));
        assert_eq!(s.status(), Status::Created);
        assert_eq!(
            pass(&mut s, &mut g, Ldhp).unwrap(),
            vec![
                Event::FlowStarted,
                Event::TechnologyStarted(Ldhp),
                Event::TechnologyEnded { code: Ldhp, success: true }
            ]
        );
        assert_eq!(s.status(), Status::Progress);
        assert_eq!(
            pass(&mut s, &mut g, F2f).unwrap(),
            vec![
                Event::TechnologyStarted(F2f),
                Event::TechnologyEnded { code: F2f, success: true },
                Event::FlowEnded { success: true }
            ]
        );
        assert_eq!(s.status(), Status::Finished);
        assert_eq!(s.events.len(), 6, "every event is recorded on the session");
        assert_eq!(pass(&mut s, &mut g, F2f), Err(TransitionError::Ended(Status::Finished)));
    }

    #[test]
    fn steps_run_in_order_only() {
        let (mut s, mut g) = session(&[Ldhp, F2f], json!({}));
        assert_eq!(pass(&mut s, &mut g, F2f), Err(TransitionError::OutOfOrder { code: F2f, current: Ldhp }));
        assert_eq!(pass(&mut s, &mut g, Dr), Err(TransitionError::NotInSession(Dr)));
        assert!(s.events.is_empty(), "a refused transition records nothing");
    }

    #[test]
    fn a_failed_step_fails_the_session_and_stops_it() {
        let (mut s, mut g) = session(&[Ldhp, F2f], json!({}));
        let reason = FailureReason::new("CALC_RESULT", "Low overall prediction");
        let outcome = Outcome::Failed(reason.clone());
        let result = serde_json::to_value(g.result(Ldhp, &outcome, &s.subject)).unwrap();
        let at = OffsetDateTime::UNIX_EPOCH;
        let events = s.end(Ldhp, outcome, result, at, at).unwrap();
        assert_eq!(events.last(), Some(&Event::FlowEnded { success: false }));
        assert_eq!(s.status(), Status::Failed);
        assert_eq!(s.step(Ldhp).unwrap().failure_reason.as_deref(), Some(&reason));
        assert_eq!(s.step(F2f).unwrap().state, StepState::Pending);
        assert!(matches!(pass(&mut s, &mut g, F2f), Err(TransitionError::Ended(Status::Failed))));
    }

    #[test]
    fn interchangeable_technologies_let_either_run_and_skip_the_other() {
        let (mut s, mut g) = session(&[Ldhp, Ed, Dr, F2f], json!({"general": {"interchangeable_tech": ["ED", "DR"]}}));
        pass(&mut s, &mut g, Ldhp).unwrap();
        assert_eq!(s.runnable(), vec![Ed, Dr]);
        pass(&mut s, &mut g, Dr).unwrap();
        assert_eq!(s.step(Ed).unwrap().state, StepState::Skipped);
        assert_eq!(s.runnable(), vec![F2f]);
        pass(&mut s, &mut g, F2f).unwrap();
        assert_eq!(s.status(), Status::Finished);
    }
}
