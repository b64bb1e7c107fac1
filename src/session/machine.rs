//! The session state machine: every change to a session is a `Command` that `Session::apply`
//! checks against the session's state and carries out, returning the events it caused (for
//! webhooks and the admin API) and what it found (an SMS code sent, a wrong code's attempts left,
//! a poll's gap, a fault to play). A refused command changes nothing. The rules of the flow live
//! here once: steps in order, interchangeable technologies, `skip_input`, the SMS code's three
//! attempts, the face match on `photo1`, and what a forced failure fails with.

use std::collections::HashMap;
use std::sync::Mutex;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Event, Generator, OTP_ATTEMPTS, RecordedEvent, Session, StepState, Subject, TransitionError};
use crate::domain::outcome::reasons;
use crate::domain::scripting::{Endpoint, Source};
use crate::domain::{FailureReason, Family, Iin, Outcome, Phone, TechnologyCode};
use crate::scenario::{Fault, Scenario, ScenarioSet};

/// What happens to a session.
#[derive(Debug)]
pub(crate) enum Command<'a> {
    /// The user opens the page: the step they are at (or `chosen`, one of interchangeable
    /// technologies) starts; with `skip_input` \[doc\] the E-Document step sends its SMS code to
    /// the metadata's subject at once.
    Open { chosen: Option<TechnologyCode> },
    /// The E-Document step sends an SMS code to the subject with this IIN and phone (what the
    /// user entered); the results then describe that person.
    SendOtp { iin: Iin, phone: Phone },
    /// The user ends step `code` as `choice` says. For E-Document (unless failed on purpose) the
    /// SMS code `otp` must be right; the last wrong one fails the step. A face match on
    /// `photo1` that comes next plays at once.
    Submit { code: TechnologyCode, choice: Choice<'a>, otp: Option<&'a str> },
    /// Every remaining step, as a person finishing the page would: each as the scenario scripts
    /// (`scenario`, when given, becomes the session's first) unless `outcomes` (by code or
    /// family) says otherwise.
    Complete { scenario: Option<&'a str>, outcomes: &'a HashMap<String, Choice<'a>> },
    /// The session plays scenario `name` from its next step on (the admin's choice, which wins).
    SetScenario { name: &'a str },
    /// The result endpoint is asked about the session: the poll is noted.
    Poll,
    /// A call of `endpoint` about the session meets its scenario's fault rules.
    MeetFault(Endpoint),
    /// The vendor's "generate files" call \[doc\]: the passed E-Document step's missing
    /// `document_pdf` and `document_image` are made.
    GenerateFiles,
}

/// How a step ends: as scripted, or forced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Choice<'a> {
    Scripted,
    Pass,
    /// A failure, with the reason's type when one was chosen. The reason is that type's if the
    /// mock knows it, else the scenario's when it scripts a failure, else the family's default:
    /// the one rule for the page's Fail button and the admin `complete` call.
    Fail(Option<&'a str>),
}

/// What a command needs from outside the session: the time, the generator and the scenarios.
pub(crate) struct Context<'a> {
    pub now: OffsetDateTime,
    /// Taken only by the commands that draw values (after the store's lock, never before).
    pub generator: &'a Mutex<Generator>,
    pub scenarios: &'a ScenarioSet,
    /// The scenario of a session whose own is gone (`--scenario`).
    pub fallback: &'a Scenario,
}

impl Context<'_> {
    fn scenario(&self, name: &str) -> &Scenario {
        self.scenarios.get(name).unwrap_or(self.fallback)
    }

    fn generator(&self) -> std::sync::MutexGuard<'_, Generator> {
        self.generator.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What a command did.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// The events it caused, in order (the vendor's webhook events).
    pub events: Vec<Event>,
    pub found: Found,
}

/// What a command found, for the one who sent it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) enum Found {
    #[default]
    Nothing,
    /// `Open`: the step the user sees.
    Opened(TechnologyCode),
    /// `SendOtp` (or `Open` with `skip_input`): the code sent.
    OtpSent(String),
    /// `Submit`: a wrong SMS code, with this many attempts left.
    OtpWrong { left: u8 },
    /// `Poll`: the time since the previous poll, and how many earlier polls were answered the
    /// session's final result.
    Poll { since_last: Option<std::time::Duration>, earlier_final_polls: u32 },
    /// `MeetFault`: the scenario's fault rule the call meets, if any (the call is counted).
    Fault(Option<Fault>),
    /// `GenerateFiles`: the fields made.
    FilesMade(Vec<&'static str>),
}

/// Who hears of a session's events: the webhook sender, wired in at start-up. Called under the
/// store's lock, so it must only queue (no I/O); `failed` is how the session's scenario ends a
/// failed verification; `new_id` draws envelope ids from the mock's generator, so that a `--seed`
/// run sends the same ids every time.
pub(crate) trait EventSink: Send + Sync {
    fn emit(
        &self,
        session: &Session,
        events: &[Event],
        failed: crate::domain::FailedStatus,
        at: OffsetDateTime,
        new_id: &mut dyn FnMut() -> Uuid,
    );

    /// What it keeps of the sessions of flow key `key` (the deliveries made) gone: the key's
    /// reset (SPEC §16).
    fn forget_key(&self, key: &str);
}

impl Session {
    /// The one way a session changes. Refused commands (`TransitionError`) change nothing.
    pub(crate) fn apply(&mut self, command: Command<'_>, ctx: &Context<'_>) -> Result<Applied, TransitionError> {
        let mut applied = Applied::default();
        if !matches!(command, Command::Poll | Command::MeetFault(_)) {
            // What the session shows may change: a new version (a refused command's is unused).
            self.version += 1;
        }
        match command {
            Command::Open { chosen } => {
                let runnable = self.runnable();
                let Some(&first) = runnable.first() else { return Err(TransitionError::Ended(self.status())) };
                let code = chosen.filter(|c| runnable.contains(c)).unwrap_or(first);
                applied.events = self.start(code, ctx.now)?;
                if code == TechnologyCode::Ed
                    && self.otp.is_none()
                    && let Some((iin, phone)) = self.skip_input()
                {
                    applied.found = self.send_otp(iin, phone, ctx, &mut applied.events)?;
                } else {
                    applied.found = Found::Opened(code);
                }
            }
            Command::SendOtp { iin, phone } => applied.found = self.send_otp(iin, phone, ctx, &mut applied.events)?,
            Command::Submit { code, choice, otp } => {
                self.check_runnable(code)?;
                if code.family() == Family::Edocument && !matches!(choice, Choice::Fail(_)) {
                    let expected = self.otp.as_deref().ok_or(TransitionError::NoOtp)?;
                    if otp.unwrap_or_default().trim() != expected {
                        self.otp_wrong += 1;
                        if self.otp_wrong < OTP_ATTEMPTS {
                            applied.found = Found::OtpWrong { left: OTP_ATTEMPTS - self.otp_wrong };
                            return Ok(applied);
                        }
                        let wrong_otp = FailureReason::known(Family::Edocument, reasons::WRONG_OTP);
                        let reason = wrong_otp.unwrap_or_else(|| FailureReason::default_for(Family::Edocument));
                        applied.events = self.end(code, Outcome::Failed(reason), ctx)?;
                        return Ok(applied);
                    }
                }
                let outcome = self.decide(code, choice, ctx);
                applied.events = self.end(code, outcome, ctx)?;
                self.play_automatic(ctx, &mut applied.events)?;
            }
            Command::Complete { scenario, outcomes } => {
                if self.status().has_ended() {
                    return Err(TransitionError::Ended(self.status()));
                }
                if let Some(name) = scenario {
                    self.apply(Command::SetScenario { name }, ctx)?;
                }
                while let Some(&code) = self.runnable().first() {
                    let choice = outcomes
                        .get(code.as_str())
                        .or_else(|| outcomes.get(code.family().as_str()))
                        .copied()
                        .unwrap_or(Choice::Scripted);
                    let outcome = self.decide(code, choice, ctx);
                    applied.events.extend(self.end(code, outcome, ctx)?);
                }
            }
            Command::SetScenario { name } => {
                let scenario =
                    ctx.scenarios.get(name).ok_or_else(|| TransitionError::UnknownScenario(name.to_owned()))?;
                scenario.name.clone_into(&mut self.scenario);
                self.scenario_source = Source::Admin;
                self.fault_calls.clear();
            }
            Command::Poll => {
                let since_last =
                    self.last_result_poll.replace(ctx.now).and_then(|previous| (ctx.now - previous).try_into().ok());
                let earlier_final_polls = self.final_polls;
                if self.shows_final(ctx.now) {
                    self.final_polls = self.final_polls.saturating_add(1);
                }
                applied.found = Found::Poll { since_last, earlier_final_polls };
            }
            Command::GenerateFiles => applied.found = Found::FilesMade(self.generate_files()?),
            Command::MeetFault(endpoint) => applied.found = Found::Fault(self.meet_fault(endpoint, ctx)),
        }
        Ok(applied)
    }

    /// The session's scenario's fault rule a call of `endpoint` meets, if any; the call is
    /// counted.
    fn meet_fault(&mut self, endpoint: Endpoint, ctx: &Context<'_>) -> Option<Fault> {
        ctx.scenario(&self.scenario).take_fault(endpoint, &mut self.fault_calls, |i| (endpoint, i))
    }

    /// The metadata's subject when `skip_input` holds: the code goes to them without asking.
    fn skip_input(&self) -> Option<(Iin, Phone)> {
        let edocument = self.metadata.edocument.as_ref().filter(|e| e.skip_input)?;
        Some((edocument.iin.as_ref()?.value.clone()?, edocument.phone.as_ref()?.value.clone()?))
    }

    /// How step `code` ends when `choice` is made: the one place a forced failure's reason is
    /// chosen (`Choice::Fail`).
    fn decide(&self, code: TechnologyCode, choice: Choice<'_>, ctx: &Context<'_>) -> Outcome {
        let scripted = || ctx.scenario(&self.scenario).outcome(code);
        match choice {
            Choice::Scripted => scripted(),
            Choice::Pass => Outcome::Passed,
            Choice::Fail(kind) => {
                let chosen = kind.and_then(|kind| FailureReason::known(code.family(), kind));
                let reason = chosen.or_else(|| match scripted() {
                    Outcome::Failed(reason) => Some(reason),
                    Outcome::Passed => None,
                });
                Outcome::Failed(reason.unwrap_or_else(|| FailureReason::default_for(code.family())))
            }
        }
    }

    /// The user begins a technology. Starting one already in progress changes nothing.
    fn start(&mut self, code: TechnologyCode, now: OffsetDateTime) -> Result<Vec<Event>, TransitionError> {
        let index = self.check_runnable(code)?;
        let mut events = Vec::new();
        if self.steps[index].state == StepState::InProgress {
            return Ok(events);
        }
        if self.status() == super::Status::Created {
            events.push(Event::FlowStarted);
        }
        let step = &mut self.steps[index];
        step.state = StepState::InProgress;
        step.started_at = Some(now);
        events.push(Event::TechnologyStarted(code));
        self.record(now, &events);
        Ok(events)
    }

    /// A technology ends with `outcome` (starting it first if it had not started); its result is
    /// generated, the scenario's fields merged in, and shown after the scenario's processing
    /// delay. A pass skips the technologies interchangeable with it; a failure ends the session.
    fn end(
        &mut self,
        code: TechnologyCode,
        outcome: Outcome,
        ctx: &Context<'_>,
    ) -> Result<Vec<Event>, TransitionError> {
        let mut events = self.start(code, ctx.now)?;
        let scenario = ctx.scenario(&self.scenario);
        let generated = ctx.generator().result(code, &outcome, self.subject());
        let mut result = serde_json::to_value(generated).unwrap_or_default();
        scenario.apply_result(code, &mut result);
        if code.family() == crate::domain::Family::Edocument && outcome == Outcome::Passed {
            // The document's files, unless the scenario leaves them out (the vendor may fail to
            // make them [doc]); a failed E-Document step has no document.
            super::generate::make_document_files(&mut result, |key| scenario.scripts_field(code, key));
        }
        let visible_at = crate::clock::after(ctx.now, scenario.processing(code));
        let success = outcome == Outcome::Passed;
        let now = ctx.now;
        let step = self.steps.iter_mut().find(|s| s.code == code).ok_or(TransitionError::NotInSession(code))?;
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
            super::Status::Finished => ended.push(Event::FlowEnded { success: true }),
            super::Status::Failed => ended.push(Event::FlowEnded { success: false }),
            super::Status::Created | super::Status::Progress => {}
        }
        self.record(now, &ended);
        events.extend(ended);
        Ok(events)
    }

    /// The passed E-Document step's missing files are made \[doc: "generate files"\].
    fn generate_files(&mut self) -> Result<Vec<&'static str>, TransitionError> {
        let step = self
            .steps
            .iter_mut()
            .find(|s| s.code.family() == crate::domain::Family::Edocument)
            .ok_or(TransitionError::NoEdocument)?;
        let state = step.state;
        let (StepState::Passed, Some(result)) = (state, step.result.as_deref_mut()) else {
            return Err(TransitionError::EdocumentNotPassed(state));
        };
        let made = super::generate::make_document_files(result, |_| false);
        if made.is_empty() {
            return Err(TransitionError::FilesExist);
        }
        Ok(made)
    }

    /// The E-Document step starts and sends an SMS code to this subject.
    fn send_otp(
        &mut self,
        iin: Iin,
        phone: Phone,
        ctx: &Context<'_>,
        events: &mut Vec<Event>,
    ) -> Result<Found, TransitionError> {
        events.extend(self.start(TechnologyCode::Ed, ctx.now)?);
        let mut generator = ctx.generator();
        let subject = if self.subject().iin == iin {
            Subject { phone, ..self.subject().clone() }
        } else {
            generator.subject_with(Some(iin), Some(phone), ctx.now.date())
        };
        self.set_subject(subject);
        let otp = generator.otp();
        self.otp = Some(otp.clone());
        self.otp_wrong = 0;
        Ok(Found::OtpSent(otp))
    }

    /// The steps nobody acts on: Face2Face with `metadata.face2face.photo1` compares the given
    /// photo instead of asking for one, so it plays as scripted once it is the current step.
    fn play_automatic(&mut self, ctx: &Context<'_>, events: &mut Vec<Event>) -> Result<(), TransitionError> {
        if self.uses_photo1 && self.runnable() == [TechnologyCode::F2f] {
            let outcome = self.decide(TechnologyCode::F2f, Choice::Scripted, ctx);
            events.extend(self.end(TechnologyCode::F2f, outcome, ctx)?);
        }
        Ok(())
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
