//! The state's own rules: the result call and its kept answer, ownership, faults.

use super::*;
use crate::domain::Metadata;
use crate::domain::scripting::Endpoint;

pub(super) fn state() -> AppState {
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
            public_url: "http://mock.test".into(),
            own_hosts: vec!["mock.test".into()],
        },
        None,
        Arc::new(NoEvents),
    )
}

/// An event sink that hears nothing (no webhooks in these tests).
struct NoEvents;

impl EventSink for NoEvents {
    fn emit(
        &self,
        _: &Session,
        _: &[crate::session::Event],
        _: crate::domain::FailedStatus,
        _: OffsetDateTime,
        _: &mut dyn FnMut() -> Uuid,
    ) {
    }

    fn forget_key(&self, _: &str) {}
}

#[test]
fn a_poll_checks_the_key_and_notes_the_gap_and_the_final_answers() {
    let state = state();
    let flow = state.find_flow(state.flows()[0].api_key.as_str()).unwrap();
    let key = flow.api_key.as_str().to_owned();
    let (id, _) = state.create(&flow, Metadata::default(), None);
    assert_eq!(state.poll(&id, "another flow's key", state.now()), Err(NotOwn::Missing));
    assert_eq!(state.poll(&Uuid::nil(), &key, state.now()), Err(NotOwn::Missing));

    let first = state.poll(&id, &key, state.now()).unwrap();
    assert_eq!(first.since_last_poll, None, "the first poll has no previous one");
    state.clock().advance(std::time::Duration::from_millis(250)).unwrap();
    let second = state.poll(&id, &key, state.now()).unwrap();
    let gap = second.since_last_poll.expect("a second poll has a previous one");
    assert!(gap >= std::time::Duration::from_millis(250) && gap < std::time::Duration::from_secs(5), "{gap:?}");

    let outcomes = std::collections::HashMap::new();
    state.apply(&id, Command::Complete { scenario: None, outcomes: &outcomes }).unwrap();
    let finals: Vec<u32> = (0..3).map(|_| state.poll(&id, &key, state.now()).unwrap().earlier_final_polls).collect();
    assert_eq!(finals, [0, 1, 2], "the polls that found it finished are counted");
}

#[test]
fn the_admin_fault_rule_comes_first_and_counts_only_its_calls() {
    let state = state();
    let flow = state.find_flow(state.flows()[0].api_key.as_str()).unwrap();
    let key = flow.api_key.as_str().to_owned();
    let (id, _) = state.create(&flow, Metadata::default(), None);
    let about = Scripted::Session { id: &id, key: &key };
    assert_eq!(state.meet_fault(Endpoint::Result, Scripted::Session { id: &id, key: "other" }), Err(NotOwn::Missing));
    let fault = |times| crate::scenario::Fault {
        endpoint: Endpoint::Result,
        status: Some(502),
        detail: None,
        delay_ms: 0,
        drop_connection: false,
        times,
    };
    state.add_fault(None, fault(1));
    assert_eq!(state.meet_fault(Endpoint::Video, about).unwrap(), None, "another endpoint's call meets none");
    assert_eq!(state.meet_fault(Endpoint::Result, about).unwrap().and_then(|f| f.status), Some(502));
    assert_eq!(state.meet_fault(Endpoint::Result, about).unwrap(), None, "the rule had one call");
    assert_eq!(state.faults(None)[0].calls, 1, "and it counted it");

    // A rule for another key: this key's calls never meet it, nor count for it (SPEC §16).
    let other = state.flows()[1].api_key.as_str().to_owned();
    state.add_fault(Some(other.clone()), fault(5));
    assert_eq!(state.meet_fault(Endpoint::Result, about).unwrap(), None, "another key's rule");
    assert_eq!(state.faults(Some(&other))[0].calls, 0, "not counted");
    let (theirs, _) = state.create(&state.find_flow(&other).unwrap(), Metadata::default(), None);
    let about_theirs = Scripted::Session { id: &theirs, key: &other };
    assert_eq!(state.meet_fault(Endpoint::Result, about_theirs).unwrap().and_then(|f| f.status), Some(502));
    assert_eq!(state.faults(Some(&other))[0].calls, 1);
    assert_eq!(state.faults(Some(&key)).len(), 0, "the key's own list has none of them");
}
