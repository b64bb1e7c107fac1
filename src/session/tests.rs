//! The state machine's transition table, walked case by case: each command with what it must
//! do — the events it causes, what it finds, or why it is refused (and then changes nothing).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::*;
use crate::domain::{ApiKey, Flow, Iin, Phone, TechnologyCode, TechnologyCode::*};

const T0: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;
const IIN: &str = "900101300017";
const PHONE: &str = "77011234567";

#[test]
fn metadata_is_held_only_when_there_is_some() {
    let none = HeldMetadata::from(Metadata::default());
    assert!(none.0.is_none(), "no metadata takes no allocation");
    assert!(none.is_none() && none.display == json!({}), "and reads as none");
    let some =
        HeldMetadata::from(crate::wire::create::parse_metadata(json!({"extra": {"iin": IIN}}), Some(&[Ldhp])).unwrap());
    assert_eq!(some.extra.as_ref().and_then(|e| e.iin.as_ref()).map(Iin::as_str), Some(IIN), "kept");
    let unknown = HeldMetadata::from(crate::wire::create::parse_metadata(json!({"x": 1}), Some(&[Ldhp])).unwrap());
    assert_eq!(unknown.unknown_keys, ["metadata.x"], "an unknown key alone is kept too");
}

/// A command of a case, as owned data.
#[derive(Debug, Clone)]
enum Cmd {
    Open(Option<TechnologyCode>),
    SendOtp,
    /// Submit with the SMS code the session sent (`None`: the code given).
    Submit(TechnologyCode, Choice<'static>, Option<&'static str>),
    SubmitRightOtp(TechnologyCode),
    Complete,
    SetScenario(&'static str),
    Poll,
    MeetFault(Endpoint),
    GenerateFiles,
}

/// What a command must do.
#[derive(Debug)]
enum Expect {
    Events(Vec<Event>),
    Found(Found),
    /// Refused, with the session left as it was.
    Refused(TransitionError),
    /// Anything but a refusal (the check is the case's end state).
    Done,
}

use Expect::{Done, Events, Refused};

struct Case {
    name: &'static str,
    flow: &'static [TechnologyCode],
    metadata: Value,
    scenario: &'static str,
    steps: Vec<(Cmd, Expect)>,
    /// The status at the end, and the failure reasons of the failed steps.
    end: (Status, Vec<(TechnologyCode, &'static str)>),
}

fn started(code: TechnologyCode) -> Event {
    Event::TechnologyStarted(code)
}

fn ended(code: TechnologyCode, success: bool) -> Event {
    Event::TechnologyEnded { code, success }
}

/// What a session's first poll finds when it meets no fault: nothing before it, nothing kept.
fn first_poll() -> Expect {
    Expect::Found(Found::Poll { since_last: None, earlier_final_polls: 0 })
}

#[expect(clippy::too_many_lines, reason = "one table, read top to bottom")]
fn cases() -> Vec<Case> {
    let photo = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        include_bytes!("../../fixtures/photos/face.png"),
    );
    vec![
        Case {
            name: "a session walks created, progress, finished, with its events in order",
            flow: &[Ldhp, F2f],
            metadata: json!({}),
            scenario: "happy-path",
            steps: vec![
                (Cmd::Open(None), Events(vec![Event::FlowStarted, started(Ldhp)])),
                (Cmd::Open(None), Events(vec![])),
                (Cmd::Submit(Ldhp, Choice::Scripted, None), Events(vec![ended(Ldhp, true)])),
                (
                    Cmd::Submit(F2f, Choice::Pass, None),
                    Events(vec![started(F2f), ended(F2f, true), Event::FlowEnded { success: true }]),
                ),
            ],
            end: (Status::Finished, vec![]),
        },
        Case {
            name: "steps run in order only, and only the session's own",
            flow: &[Ldhp, F2f],
            metadata: json!({}),
            scenario: "happy-path",
            steps: vec![
                (
                    Cmd::Submit(F2f, Choice::Pass, None),
                    Refused(TransitionError::OutOfOrder { code: F2f, current: Ldhp }),
                ),
                (Cmd::Submit(Dr, Choice::Pass, None), Refused(TransitionError::NotInSession(Dr))),
                (Cmd::Open(Some(F2f)), Events(vec![Event::FlowStarted, started(Ldhp)])),
            ],
            end: (Status::Progress, vec![]),
        },
        Case {
            name: "a finished session refuses every change of its steps",
            flow: &[Ldhp],
            metadata: json!({}),
            scenario: "happy-path",
            steps: vec![
                (Cmd::Complete, Done),
                (Cmd::Open(None), Refused(TransitionError::Ended(Status::Finished))),
                (Cmd::Submit(Ldhp, Choice::Pass, None), Refused(TransitionError::Ended(Status::Finished))),
                (Cmd::Complete, Refused(TransitionError::Ended(Status::Finished))),
            ],
            end: (Status::Finished, vec![]),
        },
        Case {
            name: "a wrong SMS code three times fails E-Document and the session",
            flow: &[Ldhp, Ed, F2f],
            metadata: json!({}),
            scenario: "happy-path",
            steps: vec![
                (Cmd::Submit(Ldhp, Choice::Pass, None), Done),
                (Cmd::Submit(Ed, Choice::Scripted, Some("000000")), Refused(TransitionError::NoOtp)),
                (Cmd::SendOtp, Done),
                (Cmd::Submit(Ed, Choice::Scripted, Some("not it")), Expect::Found(Found::OtpWrong { left: 2 })),
                (Cmd::Submit(Ed, Choice::Pass, Some("")), Expect::Found(Found::OtpWrong { left: 1 })),
                (
                    Cmd::Submit(Ed, Choice::Scripted, None),
                    Events(vec![ended(Ed, false), Event::FlowEnded { success: false }]),
                ),
                (Cmd::SubmitRightOtp(Ed), Refused(TransitionError::Ended(Status::Failed))),
            ],
            end: (Status::Failed, vec![(Ed, "WRONG_OTP")]),
        },
        Case {
            name: "the right SMS code passes E-Document; a forced failure needs none",
            flow: &[Ed, Dr],
            metadata: json!({}),
            scenario: "happy-path",
            steps: vec![
                (Cmd::SendOtp, Events(vec![Event::FlowStarted, started(Ed)])),
                (Cmd::SubmitRightOtp(Ed), Events(vec![ended(Ed, true)])),
                (Cmd::Submit(Dr, Choice::Fail(None), None), Done),
            ],
            end: (Status::Failed, vec![(Dr, "DOCUMENT_UNREADABLE")]),
        },
        Case {
            name: "skip_input sends the SMS code as soon as E-Document opens",
            flow: &[Ed],
            metadata: json!({"edocument": {"iin": {"value": IIN, "changeable": false}, "phone": {"value": PHONE, "changeable": false}, "skip_input": true}}),
            scenario: "happy-path",
            steps: vec![(Cmd::Open(None), Done), (Cmd::SubmitRightOtp(Ed), Done)],
            end: (Status::Finished, vec![]),
        },
        Case {
            name: "a forced failure takes a known chosen reason",
            flow: &[Ldhp],
            metadata: json!({}),
            scenario: "happy-path",
            steps: vec![(Cmd::Submit(Ldhp, Choice::Fail(Some("EYES_CLOSED")), None), Done)],
            end: (Status::Failed, vec![(Ldhp, "EYES_CLOSED")]),
        },
        Case {
            name: "a forced failure without a known reason takes the scenario's scripted one",
            flow: &[Ldhp],
            metadata: json!({}),
            scenario: "liveness-eyes-closed",
            steps: vec![(Cmd::Submit(Ldhp, Choice::Fail(Some("NO_SUCH_REASON")), None), Done)],
            end: (Status::Failed, vec![(Ldhp, "EYES_CLOSED")]),
        },
        Case {
            name: "else the family's default",
            flow: &[F2f],
            metadata: json!({}),
            scenario: "happy-path",
            steps: vec![(Cmd::Submit(F2f, Choice::Fail(None), None), Done)],
            end: (Status::Failed, vec![(F2f, "FACES_MISMATCH")]),
        },
        Case {
            name: "complete plays the rest as scripted, from the scenario set first",
            flow: &[Ldhp, F2f],
            metadata: json!({}),
            scenario: "happy-path",
            steps: vec![
                (
                    Cmd::SetScenario("no-such-scenario"),
                    Refused(TransitionError::UnknownScenario("no-such-scenario".into())),
                ),
                (Cmd::SetScenario("face-mismatch"), Events(vec![])),
                (Cmd::Complete, Done),
            ],
            end: (Status::Failed, vec![(F2f, "FACES_MISMATCH")]),
        },
        Case {
            name: "interchangeable technologies: either runs, the other is skipped",
            flow: &[Ldhp, Ed, Dr, F2f],
            metadata: json!({"general": {"interchangeable_tech": ["ED", "DR"]}}),
            scenario: "happy-path",
            steps: vec![
                (Cmd::Submit(Ldhp, Choice::Pass, None), Done),
                (Cmd::Open(Some(Dr)), Expect::Found(Found::Opened(Dr))),
                (Cmd::Submit(Dr, Choice::Pass, None), Events(vec![ended(Dr, true)])),
                (Cmd::Open(None), Expect::Found(Found::Opened(F2f))),
                (Cmd::Submit(F2f, Choice::Scripted, None), Done),
            ],
            end: (Status::Finished, vec![]),
        },
        Case {
            name: "with photo1 the face match plays as soon as the step before ends",
            flow: &[Ldhp, F2f],
            metadata: json!({"face2face": {"photo1": photo}}),
            scenario: "happy-path",
            steps: vec![(
                Cmd::Submit(Ldhp, Choice::Pass, None),
                Events(vec![
                    Event::FlowStarted,
                    started(Ldhp),
                    ended(Ldhp, true),
                    started(F2f),
                    ended(F2f, true),
                    Event::FlowEnded { success: true },
                ]),
            )],
            end: (Status::Finished, vec![]),
        },
        Case {
            name: "polls are counted, and those that found the session ended",
            flow: &[Ldhp],
            metadata: json!({}),
            scenario: "happy-path",
            steps: vec![
                (Cmd::Poll, first_poll()),
                (Cmd::Complete, Done),
                (
                    Cmd::Poll,
                    Expect::Found(Found::Poll { since_last: Some(std::time::Duration::ZERO), earlier_final_polls: 0 }),
                ),
                (
                    Cmd::Poll,
                    Expect::Found(Found::Poll { since_last: Some(std::time::Duration::ZERO), earlier_final_polls: 1 }),
                ),
            ],
            end: (Status::Finished, vec![]),
        },
        Case {
            name: "a scenario's fault rule hits its next N calls, counted on the session",
            flow: &[Ldhp],
            metadata: json!({}),
            scenario: "result-503-twice",
            steps: vec![
                (Cmd::MeetFault(Endpoint::Video), Expect::Found(Found::Fault(None))),
                (Cmd::MeetFault(Endpoint::Result), Done),
                (Cmd::MeetFault(Endpoint::Result), Done),
                (Cmd::MeetFault(Endpoint::Result), Expect::Found(Found::Fault(None))),
            ],
            end: (Status::Created, vec![]),
        },
        Case {
            name: "the E-Document files are generated once, for a passed E-Document step only",
            flow: &[Ldhp, Ed],
            metadata: json!({}),
            scenario: "edocument-files-missing",
            steps: vec![
                (Cmd::GenerateFiles, Refused(TransitionError::EdocumentNotPassed(StepState::Pending))),
                (Cmd::Complete, Done),
                (Cmd::GenerateFiles, Expect::Found(Found::FilesMade(vec!["document_pdf", "document_image"]))),
                (Cmd::GenerateFiles, Refused(TransitionError::FilesExist)),
            ],
            end: (Status::Finished, vec![]),
        },
        Case {
            name: "a session without E-Document has no files to generate",
            flow: &[Ldhp],
            metadata: json!({}),
            scenario: "happy-path",
            steps: vec![(Cmd::Complete, Done), (Cmd::GenerateFiles, Refused(TransitionError::NoEdocument))],
            end: (Status::Finished, vec![]),
        },
    ]
}

fn session(case: &Case, generator: &Mutex<Generator>) -> Session {
    let flow = Flow {
        id: 1,
        name: "test".into(),
        api_key: ApiKey::parse("k-0123456789012345678901234567890123456789012345").unwrap(),
        technologies: case.flow.to_vec(),
        scenario: None,
        webhook_urls: Vec::new(),
        seed: None,
    };
    let metadata = crate::wire::create::parse_metadata(case.metadata.clone(), Some(case.flow))
        .expect("the case's metadata is valid");
    let subject = generator.lock().unwrap().subject(&metadata, T0.date());
    let scenario = (case.scenario.to_owned(), crate::domain::scripting::Source::Server);
    Session::new(Uuid::nil(), Arc::new(flow), metadata, subject, T0, scenario)
}

#[test]
fn the_transition_table() {
    let (_, scenarios) = crate::Config::default().load().unwrap();
    let generator = Mutex::new(Generator::new(Some(1)));
    let ctx = Context {
        now: T0,
        generator: &generator,
        scenarios: &scenarios,
        fallback: scenarios.get("happy-path").unwrap(),
    };
    let no_outcomes = HashMap::new();
    for case in cases() {
        let mut s = session(&case, &generator);
        for (i, (cmd, expect)) in case.steps.into_iter().enumerate() {
            let at = format!("{}: step {i} ({cmd:?})", case.name);
            let otp = s.otp().map(str::to_owned);
            let command = match &cmd {
                Cmd::Open(chosen) => Command::Open { chosen: *chosen },
                Cmd::SendOtp => Command::SendOtp { iin: Iin::parse(IIN).unwrap(), phone: Phone::parse(PHONE).unwrap() },
                Cmd::Submit(code, choice, otp) => Command::Submit { code: *code, choice: *choice, otp: *otp },
                Cmd::SubmitRightOtp(code) => {
                    Command::Submit { code: *code, choice: Choice::Scripted, otp: otp.as_deref() }
                }
                Cmd::Complete => Command::Complete { scenario: None, outcomes: &no_outcomes },
                Cmd::SetScenario(name) => Command::SetScenario { name },
                Cmd::Poll => Command::Poll,
                Cmd::MeetFault(endpoint) => Command::MeetFault(*endpoint),
                Cmd::GenerateFiles => Command::GenerateFiles,
            };
            let before = format!("{:?}", (s.steps(), s.events().len(), s.otp(), s.otp_wrong(), s.scenario()));
            let applied = s.apply(command, &ctx);
            match (expect, applied) {
                (Events(events), Ok(applied)) => assert_eq!(applied.events, events, "{at}"),
                (Expect::Found(found), Ok(applied)) => assert_eq!(applied.found, found, "{at}"),
                (Refused(error), Err(got)) => {
                    assert_eq!(got, error, "{at}");
                    let after = format!("{:?}", (s.steps(), s.events().len(), s.otp(), s.otp_wrong(), s.scenario()));
                    assert_eq!(after, before, "{at}: a refused command changes nothing");
                }
                (Done, Ok(_)) => {}
                (expect, got) => panic!("{at}: expected {expect:?}, got {got:?}"),
            }
        }
        let (status, failures) = case.end;
        assert_eq!(s.status(), status, "{}: the end status", case.name);
        let got: Vec<(TechnologyCode, &str)> =
            s.steps().iter().filter_map(|st| Some((st.code, st.failure_reason.as_deref()?.kind.as_str()))).collect();
        assert_eq!(got, failures, "{}: the failure reasons", case.name);
        let recorded = s.events().iter().filter(|e| matches!(e.event, Event::FlowEnded { .. })).count();
        assert_eq!(recorded, usize::from(status.has_ended()), "{}: one flow end is recorded when it ends", case.name);
    }
}
