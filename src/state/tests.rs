//! The state's own rules: the result call and its kept answer, ownership, faults.

use super::*;
use crate::domain::Metadata;
use crate::domain::scripting::Endpoint;

fn state() -> AppState {
    let config = crate::Config::default();
    let (flows, scenarios) = config.load().unwrap();
    AppState::restored(
        StateConfig {
            flows,
            backend_keys: config.load_backend_keys(&scenarios).unwrap(),
            scenarios: Arc::new(scenarios),
            default_scenario: config.default_scenario.clone(),
            video: config.load_video().unwrap(),
            strict: false,
            log_requests: false,
            journal_limit: 10,
            admin_token: None,
            max_sessions: 10,
            max_store_bytes: usize::MAX,
            session_ttl: None,
            state_file: None,
            state_sync: false,
            frame_ancestors: "*".into(),
            public_url_set: false,
            ca_pem: String::new(),
            seed: Some(1),
            max_body: 1 << 20,
            public_url: "http://mock.test".into(),
        },
        None,
        Arc::new(NoEvents),
    )
}

/// An event sink that hears nothing (no webhooks in these tests).
struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _: &Session, _: &[crate::session::Event], _: OffsetDateTime, _: &mut dyn FnMut() -> Uuid) {}
}

#[test]
fn only_a_final_result_answer_is_kept_and_answered_again() {
    let state = state();
    let flow = state.find_flow(&state.flows()[0].api_key.to_string()).unwrap();
    let id = state.create_session(&flow, Metadata::default());
    let mut writes = 0;
    let mut answer = |last: bool| {
        state
            .result_answer(&id, |_, _| {
                writes += 1;
                Ok::<_, ()>((bytes::Bytes::from(format!("answer {writes}")), last))
            })
            .unwrap()
            .unwrap()
    };
    assert_eq!(answer(false), (bytes::Bytes::from("answer 1"), false));
    assert_eq!(answer(false), (bytes::Bytes::from("answer 2"), false), "an answer in progress is written anew");
    assert_eq!(answer(true), (bytes::Bytes::from("answer 3"), true));
    assert_eq!(answer(false), (bytes::Bytes::from("answer 3"), true), "a final answer is kept");
    assert_eq!(writes, 3);
    assert!(state.result_answer(&Uuid::nil(), |_, _| Ok::<_, ()>((bytes::Bytes::new(), true))).is_none());
}

#[test]
fn a_result_call_checks_the_key_notes_the_poll_and_meets_faults_before_answering() {
    let state = state();
    let flow = state.find_flow(&state.flows()[0].api_key.to_string()).unwrap();
    let key = flow.api_key.as_str().to_owned();
    let id = state.create_session(&flow, Metadata::default());
    let write = |_: &Session, _| Ok::<_, ()>((bytes::Bytes::from_static(b"{}"), false));
    assert!(matches!(state.result_call(&id, "another flow's key", state.now(), write), Err(NotOwn::Missing)));
    assert!(matches!(state.result_call(&Uuid::nil(), &key, state.now(), write), Err(NotOwn::Missing)));

    let first = state.result_call(&id, &key, state.now(), write).unwrap();
    assert_eq!(first.since_last_poll, None, "the first poll has no previous one");
    assert_eq!(first.answer.unwrap().unwrap(), (bytes::Bytes::from_static(b"{}"), false));
    state.clock().advance(std::time::Duration::from_millis(250)).unwrap();
    let second = state.result_call(&id, &key, state.now(), write).unwrap();
    let gap = second.since_last_poll.expect("a second poll has a previous one");
    assert!(gap >= std::time::Duration::from_millis(250) && gap < std::time::Duration::from_secs(5), "{gap:?}");

    state.add_fault(Fault {
        endpoint: Endpoint::Result,
        status: Some(502),
        detail: None,
        delay_ms: 0,
        drop_connection: false,
        times: 1,
    });
    let faulted = state.result_call(&id, &key, state.now(), |_, _| -> Result<(bytes::Bytes, bool), ()> {
        panic!("a call that meets a fault is not answered")
    });
    assert_eq!(faulted.unwrap().answer.unwrap_err().status, Some(502));
    assert!(state.result_call(&id, &key, state.now(), write).unwrap().answer.is_ok(), "the rule had one call");
    assert_eq!(state.call_about(Endpoint::Video, &id, &key), Ok(None));
}
