//! Sessions: what one holds (its flow, metadata, made-up person, steps, SMS code, scenario) and
//! what can be read of it. A session changes only through `Session::apply` (`machine.rs`), its
//! one state machine, so whoever drives it — the end-user page, the admin `complete` call — makes
//! the same history, and whoever watches — the result endpoint, webhooks, the journal — sees the
//! same thing. No HTTP here, no clock: the time comes with each command.

pub(crate) mod backend;
pub(crate) mod generate;
mod machine;
pub(crate) mod results;
mod step;
pub(crate) mod store;

use std::collections::HashMap;
use std::sync::Arc;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::scripting::{Endpoint, Source};
use crate::domain::{ApiKey, Flow, Metadata, TechnologyCode};
pub(crate) use generate::{Generator, Subject};
pub(crate) use machine::{Applied, Choice, Command, Context, EventSink, Found};
pub(crate) use step::{Event, OTP_ATTEMPTS, RecordedEvent, Status, Step, StepState, TransitionError};
pub(crate) use store::SessionStore;

#[derive(Debug, Clone)]
pub(crate) struct Session {
    id: Uuid,
    /// The flow that made the session, shared with the flows registry as it was then: a session
    /// belongs to that flow (its `id`), not to its key.
    flow: Arc<Flow>,
    metadata: HeldMetadata,
    /// The made-up person whose data the results report, consistent across technologies.
    subject: HeldSubject,
    created_at: OffsetDateTime,
    steps: Vec<Step>,
    /// The E-Document step's SMS code, once the user has reached the OTP screen.
    otp: Option<String>,
    /// Wrong OTP codes entered so far; the third fails the step.
    otp_wrong: u8,
    /// Whether `metadata.face2face.photo1` takes the place of the user's upload: it was given and
    /// F2F follows another step of the flow \[doc\].
    uses_photo1: bool,
    /// The scenario the session plays, and why.
    scenario: String,
    scenario_source: Source,
    /// Calls so far that each of the scenario's fault rules has hit, by endpoint and rule index.
    fault_calls: HashMap<(Endpoint, usize), u32>,
    /// When the result endpoint was last asked about this session (for the polling-rate lint).
    last_result_poll: Option<OffsetDateTime>,
    events: Vec<RecordedEvent>,
    /// How many result polls have been answered the session's final result (for the
    /// polled-after-final lint). Not persisted.
    final_polls: u32,
    /// Counts the commands that may change what the session shows (not polls, not fault calls):
    /// whoever keeps something made from it knows when it is stale. Not persisted.
    version: u64,
    /// The base of links to the page, when the session was made through the vendor's hosts.
    link_base: Option<Arc<str>>,
}

/// A session's metadata as held: nothing when there was none (most sessions), boxed
/// otherwise. `Metadata` is 240 bytes, and every byte of a session is held for each one.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeldMetadata(Option<Box<Metadata>>);

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

/// A session's made-up person, made the first time anyone reads it, from a seed the server's
/// generator drew when the session was created: `--seed` still repeats it, and a create no longer
/// pays for a person that most sessions of a load test never show (it was a fifth of a create's
/// instructions, BENCHMARKS.md).
#[derive(Debug, Clone)]
pub(crate) struct HeldSubject {
    seed: u64,
    made: std::sync::OnceLock<Subject>,
}

impl HeldSubject {
    /// A person to make from `seed` when first read.
    pub(crate) fn drawn(seed: u64) -> Self {
        Self { seed, made: std::sync::OnceLock::new() }
    }
}

impl From<Subject> for HeldSubject {
    fn from(subject: Subject) -> Self {
        Self { seed: 0, made: std::sync::OnceLock::from(subject) }
    }
}

/// Everything a session holds that lasts: what a state file restores.
#[derive(Debug, Clone)]
pub(crate) struct Parts {
    pub id: Uuid,
    pub metadata: Metadata,
    pub subject: Subject,
    pub created_at: OffsetDateTime,
    pub steps: Vec<Step>,
    pub otp: Option<String>,
    pub otp_wrong: u8,
    pub uses_photo1: bool,
    pub scenario: String,
    pub scenario_source: Source,
    pub fault_calls: HashMap<(Endpoint, usize), u32>,
    pub last_result_poll: Option<OffsetDateTime>,
    pub events: Vec<RecordedEvent>,
    pub link_base: Option<Arc<str>>,
}

impl Session {
    /// A new session of `flow`, created `now`, playing `scenario` (with why).
    pub(crate) fn new(
        id: Uuid,
        flow: Arc<Flow>,
        metadata: Metadata,
        subject: impl Into<HeldSubject>,
        now: OffsetDateTime,
        scenario: (String, Source),
    ) -> Self {
        Self {
            id,
            steps: flow.technologies.iter().map(|&code| Step::pending(code)).collect(),
            uses_photo1: metadata.photo1().is_some() && flow.uses_face2face_photo(),
            flow,
            metadata: metadata.into(),
            subject: subject.into(),
            created_at: now,
            otp: None,
            otp_wrong: 0,
            scenario: scenario.0,
            scenario_source: scenario.1,
            fault_calls: HashMap::new(),
            last_result_poll: None,
            events: Vec::new(),
            final_polls: 0,
            version: 0,
            link_base: None,
        }
    }

    /// A session as a state file kept it, of `flow`.
    pub(crate) fn restore(parts: Parts, flow: Arc<Flow>) -> Self {
        let Parts {
            id,
            metadata,
            subject,
            created_at,
            steps,
            otp,
            otp_wrong,
            uses_photo1,
            scenario,
            scenario_source,
            fault_calls,
            last_result_poll,
            events,
            link_base,
        } = parts;
        Self {
            id,
            flow,
            metadata: metadata.into(),
            subject: subject.into(),
            created_at,
            steps,
            otp,
            otp_wrong,
            uses_photo1,
            scenario,
            scenario_source,
            fault_calls,
            last_result_poll,
            events,
            final_polls: 0,
            version: 0,
            link_base,
        }
    }

    /// This new session, made through the vendor's hosts: links to it go to `base` (e.g.
    /// `https://remote.biometric.kz`) rather than the mock's own address. At construction only.
    #[must_use]
    pub(crate) fn with_link_base(mut self, base: Option<Arc<str>>) -> Self {
        self.link_base = base;
        self
    }

    /// The base of links to this session's page, when it was made through the vendor's hosts.
    pub(crate) fn link_base(&self) -> Option<&str> {
        self.link_base.as_deref()
    }

    pub(crate) fn id(&self) -> Uuid {
        self.id
    }

    /// The number of the flow that made the session (`Flow::id`).
    pub(crate) fn flow_id(&self) -> u64 {
        self.flow.id
    }

    pub(crate) fn flow_name(&self) -> &str {
        &self.flow.name
    }

    pub(crate) fn api_key(&self) -> &ApiKey {
        &self.flow.api_key
    }

    pub(crate) fn technologies(&self) -> &[TechnologyCode] {
        &self.flow.technologies
    }

    /// Where the flow's webhooks went when the session was created.
    pub(crate) fn webhook_urls(&self) -> &[String] {
        &self.flow.webhook_urls
    }

    pub(crate) fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The session's person: from the metadata where it names one (IIN, phone), made up otherwise.
    pub(crate) fn subject(&self) -> &Subject {
        let HeldSubject { seed, made } = &self.subject;
        made.get_or_init(|| generate::Generator::new(Some(*seed)).subject(&self.metadata, self.created_at.date()))
    }

    /// Replaces the session's person (the E-Document step names one).
    fn set_subject(&mut self, subject: Subject) {
        self.subject = subject.into();
    }

    pub(crate) fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    pub(crate) fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub(crate) fn otp(&self) -> Option<&str> {
        self.otp.as_deref()
    }

    pub(crate) fn otp_wrong(&self) -> u8 {
        self.otp_wrong
    }

    pub(crate) fn uses_photo1(&self) -> bool {
        self.uses_photo1
    }

    /// The name of the scenario the session plays.
    pub(crate) fn scenario(&self) -> &str {
        &self.scenario
    }

    pub(crate) fn scenario_source(&self) -> Source {
        self.scenario_source
    }

    pub(crate) fn fault_calls(&self) -> &HashMap<(Endpoint, usize), u32> {
        &self.fault_calls
    }

    pub(crate) fn last_result_poll(&self) -> Option<OffsetDateTime> {
        self.last_result_poll
    }

    /// The session's version: it moves with every command that may change what it shows.
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// Whether the result endpoint shows the session's final result at `now`: it has ended and
    /// no result is still in its scenario's processing delay.
    pub(crate) fn shows_final(&self, now: OffsetDateTime) -> bool {
        self.status().has_ended() && !self.processing(now)
    }

    /// Whether a result is still in its scenario's processing delay at `now`.
    pub(crate) fn processing(&self, now: OffsetDateTime) -> bool {
        self.steps.iter().any(|st| st.visible_at.is_some_and(|at| at > now))
    }

    /// Every transition so far, oldest first.
    pub(crate) fn events(&self) -> &[RecordedEvent] {
        &self.events
    }

    /// About how many bytes the store holds for this session (for `--max-store-bytes`): the
    /// session and its steps, a typical result for each step, the metadata as kept.
    pub(crate) fn held_bytes(&self) -> usize {
        const RESULT: usize = 640;
        let files = if self.flow.has(TechnologyCode::Ed) { results::DOCUMENT_FILES_HELD } else { 0 };
        std::mem::size_of::<Self>()
            + self.steps.len() * (std::mem::size_of::<Step>() + RESULT)
            + self.metadata.held_bytes
            + files
    }

    /// Derived from the steps, never stored, so it cannot disagree with them.
    pub(crate) fn status(&self) -> Status {
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
    pub(crate) fn expires_at(&self, ttl: Option<std::time::Duration>) -> Option<OffsetDateTime> {
        ttl.map(|ttl| crate::clock::after(self.created_at, ttl))
    }

    /// When the session expired, if it has by `now`.
    pub(crate) fn expired_at(&self, ttl: Option<std::time::Duration>, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.expires_at(ttl).filter(|at| *at <= now)
    }

    /// When the last step ended, once the session has ended.
    pub(crate) fn finished_at(&self) -> Option<OffsetDateTime> {
        if self.status().has_ended() { self.steps.iter().filter_map(|s| s.ended_at).max() } else { None }
    }

    pub(crate) fn step(&self, code: TechnologyCode) -> Option<&Step> {
        self.steps.iter().find(|s| s.code == code)
    }

    /// The first step that has not ended: where the user is.
    pub(crate) fn current(&self) -> Option<&Step> {
        if self.status().has_ended() {
            return None;
        }
        self.steps.iter().find(|s| !s.state.has_ended())
    }

    /// The technologies the user may run now: the current one and, when it belongs to
    /// `general.interchangeable_tech`, the other pending members of that group.
    pub(crate) fn runnable(&self) -> Vec<TechnologyCode> {
        let Some(current) = self.current() else { return Vec::new() };
        let group = self.metadata.interchangeable();
        if group.contains(&current.code) {
            self.steps.iter().filter(|s| group.contains(&s.code) && !s.state.has_ended()).map(|s| s.code).collect()
        } else {
            vec![current.code]
        }
    }
}

#[cfg(test)]
mod tests;
