//! Many suites, one mock (SPEC §16): everything scoped by the API key the client already sends.
//! Eight suites run at once against one server, each on a flow of its own, with faults, scenario
//! switches, clock advances, seeds and resets of its own, and none ever sees another's effect.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, TestApp, read, spawn_app};

/// The magic IIN of the shipped `results-slow` scenario (results 5 s after the user finished).
const SLOW_IIN: &str = "900101390072";

async fn post(app: &TestApp, path: &str, body: &Value) -> (StatusCode, Value) {
    read(app.client.post(app.url(path)).json(body).send().await.unwrap()).await
}

async fn new_flow(app: &TestApp, name: &str, seed: u64) -> String {
    let body = json!({"name": name, "technologies": ["LDHP", "F2F"], "seed": seed});
    let (status, flow) = post(app, "/__admin/flows", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{flow}");
    flow["api_key"].as_str().unwrap().to_owned()
}

async fn count(app: &TestApp, path: &str) -> usize {
    let (status, list) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {list}");
    list.as_array().unwrap().len()
}

/// What one suite saw, for the checks across suites.
struct Seen {
    key: String,
    seed: u64,
    /// Its session ids, in the order made, before and after its reset.
    before_reset: Vec<String>,
    after_reset: Vec<String>,
}

/// One suite: everything through its own key, asserting exact counts of its own.
async fn suite(app: &TestApp, n: u64) -> Seen {
    // Pairs of suites share a seed: their session ids must still differ.
    let seed = 100 + n / 2;
    let key = new_flow(app, &format!("suite {n}"), seed).await;
    let q = format!("api_key={key}");
    let mut vendor_calls = 0;

    // Sessions of its own, seeded: the same ids again after its reset.
    let mut before_reset = Vec::new();
    for _ in 0..3 {
        before_reset.push(app.create_ok(&json!({"api_key": key})).await);
        vendor_calls += 1;
    }
    // A fault for its key only: its next two polls fail, nobody else's.
    let fault = json!({"endpoint": "result", "status": 503, "times": 2, "api_key": key});
    assert_eq!(post(app, "/__admin/faults", &fault).await.0, StatusCode::CREATED);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.result(&before_reset[0], &key).await.0.as_u16());
        vendor_calls += 1;
    }
    assert_eq!(statuses, [503, 503, 200, 200], "suite {n}: its own fault, exactly twice");
    let (_, faults) = app.get(&format!("/__admin/faults?{q}")).await;
    assert_eq!(faults.as_array().unwrap().len(), 1, "suite {n}: only its rule: {faults}");
    assert_eq!(faults[0]["calls"], 2, "suite {n}: counted only its calls: {faults}");

    // A scenario switch on one session: that session fails, its sibling passes.
    let (status, _) = read(
        app.client
            .put(app.url(&format!("/__admin/sessions/{}/scenario", before_reset[1])))
            .json(&json!({"scenario": "liveness-fails"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for (i, expected) in [(1, "FAILED"), (2, "FINISHED")] {
        app.complete(&before_reset[i], None).await;
        let (_, result) = app.result(&before_reset[i], &key).await;
        vendor_calls += 1;
        assert_eq!(result["status"], expected, "suite {n}: {result}");
    }

    // Its own clock: a slow result appears once its clock has moved, whatever others' do.
    let slow = app.create_ok(&json!({"api_key": key, "metadata": {"extra": {"iin": SLOW_IIN}}})).await;
    vendor_calls += 1;
    app.complete(&slow, None).await;
    let (_, result) = app.result(&slow, &key).await;
    vendor_calls += 1;
    assert_eq!(result["status"], "PROGRESS", "suite {n}: still processing: {result}");
    let seconds = 10 + u32::try_from(n).unwrap();
    let advance = json!({"seconds": seconds, "api_key": key});
    let (status, clock) = post(app, "/__admin/clock/advance", &advance).await;
    assert_eq!(status, StatusCode::OK, "{clock}");
    let (_, clock) = app.get(&format!("/__admin/clock?{q}")).await;
    assert_eq!(clock["offset_seconds"], json!(f64::from(seconds)), "suite {n}: its own offset only: {clock}");
    let (_, result) = app.result(&slow, &key).await;
    vendor_calls += 1;
    assert_eq!(result["status"], "FINISHED", "suite {n}: its clock moved: {result}");

    // Exact counts of its own.
    assert_eq!(count(app, &format!("/__admin/requests?{q}")).await, vendor_calls, "suite {n}: its journal");
    assert_eq!(count(app, &format!("/__admin/sessions?{q}")).await, 4, "suite {n}: its sessions");

    // Its reset: its sessions, journal, faults and clock go; the key stays; the seed starts over.
    let reset = app.client.post(app.url(&format!("/__admin/reset?{q}"))).send().await.unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(count(app, &format!("/__admin/sessions?{q}")).await, 0, "suite {n}: reset");
    assert_eq!(count(app, &format!("/__admin/requests?{q}")).await, 0, "suite {n}: reset");
    assert_eq!(count(app, &format!("/__admin/faults?{q}")).await, 0, "suite {n}: reset");
    assert_eq!(app.get(&format!("/__admin/clock?{q}")).await.1["offset_seconds"], 0.0, "suite {n}: reset");
    let mut after_reset = Vec::new();
    for _ in 0..3 {
        after_reset.push(app.create_ok(&json!({"api_key": key})).await);
    }
    assert_eq!(count(app, &format!("/__admin/requests?{q}")).await, 3, "suite {n}: counting again from 0");
    Seen { key, seed, before_reset, after_reset }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_suites_on_one_mock_never_see_each_others_effects() {
    let app = std::sync::Arc::new(spawn_app().await);
    let suites: Vec<_> = (0..8)
        .map(|n| {
            let app = std::sync::Arc::clone(&app);
            tokio::spawn(async move { suite(&app, n).await })
        })
        .collect();
    let mut seen = Vec::new();
    for suite in suites {
        seen.push(suite.await.expect("a suite passed"));
    }
    for s in &seen {
        assert_eq!(s.before_reset, s.after_reset, "the seed's ids again after the reset ({})", s.key);
    }
    let all: Vec<&String> = seen.iter().flat_map(|s| &s.before_reset).collect();
    let distinct: HashSet<&&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "no two keys share a session id, seeds shared or not");
    assert!(seen.windows(2).any(|w| w[0].seed == w[1].seed), "pairs of suites did share a seed");

    // The whole mock's clock never moved, and a key nobody advanced has no offset.
    assert_eq!(app.get("/__admin/clock").await.1["offset_seconds"], 0.0);
    assert_eq!(app.get(&format!("/__admin/clock?api_key={EVERYONE}")).await.1["offset_seconds"], 0.0);
    // Unscoped, the admin API sees everyone, as before.
    assert_eq!(count(&app, "/__admin/requests").await, 8 * 3, "every suite's last three creates");
}

/// The same seed and name make the same key and the same session ids in another mock (another
/// run), whatever that mock did before.
#[tokio::test]
async fn a_seeded_flow_repeats_its_key_and_ids_run_after_run() {
    let run = async |noise: usize| {
        let app = spawn_app().await;
        for _ in 0..noise {
            app.create_ok(&json!({"api_key": EVERYONE})).await;
        }
        let key = new_flow(&app, "repeatable", 42).await;
        let sid = app.create_ok(&json!({"api_key": key})).await;
        app.complete(&sid, None).await;
        let (_, result) = app.result(&sid, &key).await;
        let (_, view) = app.get(&format!("/__admin/sessions/{sid}")).await;
        (key, sid, result["liveness_result"].clone(), view["steps"].clone())
    };
    let first = run(0).await;
    let second = run(5).await;
    assert_eq!(first, second, "key, session id, results and steps repeat");
}

#[tokio::test]
async fn an_unknown_key_on_a_scoped_call_is_a_404_naming_it_and_a_fault_for_one_is_refused() {
    let app = spawn_app().await;
    for path in [
        "/__admin/sessions?api_key=nope",
        "/__admin/requests?api_key=nope",
        "/__admin/webhooks?api_key=nope",
        "/__admin/faults?api_key=nope",
        "/__admin/backend-sessions?api_key=nope",
        "/__admin/persons?api_key=nope",
        "/__admin/clock?api_key=nope",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("\"nope\""), "{path}: names it: {body}");
    }
    let (status, body) = read(app.client.post(app.url("/__admin/reset?api_key=nope")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let fault = json!({"endpoint": "result", "status": 503, "api_key": "nope"});
    let (status, body) = post(&app, "/__admin/faults", &fault).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["api_key"][0].as_str().unwrap().contains("\"nope\""), "{body}");
    let (status, body) = post(&app, "/__admin/clock/advance", &json!({"seconds": 5, "api_key": "nope"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = post(&app, "/__admin/clock/advance", &json!({"seconds": 5, "api_key": 7})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(app.get("/__admin/clock").await.1["offset_seconds"], 0.0, "nothing moved");
    assert_eq!(count(&app, "/__admin/faults").await, 0, "nothing added");
}

#[tokio::test]
async fn purge_takes_everything_a_deleted_key_owned_and_a_plain_delete_keeps_the_sessions() {
    let app = spawn_app().await;
    let kept = new_flow(&app, "kept", 1).await;
    let purged = new_flow(&app, "purged", 2).await;
    for key in [&kept, &purged] {
        let sid = app.create_ok(&json!({"api_key": key})).await;
        app.result(&sid, key).await;
    }
    let delete = |key: &str, query: &str| app.client.delete(app.url(&format!("/__admin/flows/{key}{query}"))).send();
    assert_eq!(delete(&purged, "?purge=maybe").await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(delete(&purged, "?purge=true").await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(delete(&kept, "").await.unwrap().status(), StatusCode::NO_CONTENT);
    let (_, sessions) = app.get("/__admin/sessions").await;
    let keys: Vec<&str> = sessions.as_array().unwrap().iter().map(|s| s["api_key"].as_str().unwrap()).collect();
    assert!(keys.contains(&kept.as_str()) && !keys.contains(&purged.as_str()), "{keys:?}");
    let (_, journal) = app.get("/__admin/requests").await;
    let keys: Vec<&str> = journal.as_array().unwrap().iter().filter_map(|e| e["api_key"].as_str()).collect();
    assert_eq!(keys.iter().filter(|k| **k == purged).count(), 0, "the purged key's journal is gone");
    assert_eq!(keys.iter().filter(|k| **k == kept).count(), 2, "the other's stays");
}

#[tokio::test]
async fn the_page_and_webhook_attempts_belong_to_the_sessions_key() {
    let app = spawn_app().await;
    // A receiver that answers 200 to everything.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(async || "ok")).await });
    let mut keys = Vec::new();
    for name in ["a", "b"] {
        let body = json!({"name": name, "technologies": ["LDHP"], "webhook_urls": [hook]});
        keys.push(post(&app, "/__admin/flows", &body).await.1["api_key"].as_str().unwrap().to_owned());
    }
    for key in &keys {
        let sid = app.create_ok(&json!({"api_key": key})).await;
        let page = app.client.get(app.url(&format!("/flow/{sid}"))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        app.complete(&sid, None).await;
    }
    // flow.start, technology.start, technology.end, flow.end for each.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while count(&app, "/__admin/webhooks").await < 8 {
        assert!(tokio::time::Instant::now() < deadline, "every event delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for key in &keys {
        let (_, attempts) = app.get(&format!("/__admin/webhooks?api_key={key}")).await;
        assert_eq!(attempts.as_array().unwrap().len(), 4, "{attempts}");
        assert!(attempts.as_array().unwrap().iter().all(|a| a["api_key"] == json!(key)), "{attempts}");
        let (_, journal) = app.get(&format!("/__admin/requests?api_key={key}&path=/flow/")).await;
        assert_eq!(journal.as_array().unwrap().len(), 1, "the page request is the session's key's: {journal}");
    }
    let reset = app.client.post(app.url(&format!("/__admin/reset?api_key={}", keys[0]))).send().await.unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(count(&app, &format!("/__admin/webhooks?api_key={}", keys[0])).await, 0);
    assert_eq!(count(&app, &format!("/__admin/webhooks?api_key={}", keys[1])).await, 4, "the other key's stay");
}

#[tokio::test]
async fn backend_keys_own_their_backend_sessions_and_persons() {
    let app = spawn_app().await;
    let mut keys = Vec::new();
    for name in ["org a", "org b"] {
        let (status, key) = post(&app, "/__admin/backend-keys", &json!({"name": name, "seed": 7})).await;
        assert_eq!(status, StatusCode::CREATED, "{key}");
        keys.push(key["api_key"].as_str().unwrap().to_owned());
    }
    assert_ne!(keys[0], keys[1], "the seed and the name make the key");
    for key in &keys {
        let body = json!({"api_key": key, "iin": crate::helpers::IIN, "phone": crate::helpers::PHONE});
        let (status, answer) =
            post(&app, "/api/v1/backend/e-document/online-access/request/identity_card/", &body).await;
        assert!(status.is_success(), "{answer}");
    }
    let ids = async |key: &str| {
        let (_, sessions) = app.get(&format!("/__admin/backend-sessions?api_key={key}")).await;
        sessions.as_array().unwrap().iter().map(|s| s["backend_session_id"].clone()).collect::<Vec<_>>()
    };
    let (a, b) = (ids(&keys[0]).await, ids(&keys[1]).await);
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_ne!(a, b, "same seed, other key: other ids");
    let reset = app.client.post(app.url(&format!("/__admin/reset?api_key={}", keys[0]))).send().await.unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert!(ids(&keys[0]).await.is_empty());
    assert_eq!(ids(&keys[1]).await, b, "the other organisation's stays");
    let body = json!({"api_key": keys[0], "iin": crate::helpers::IIN, "phone": crate::helpers::PHONE});
    post(&app, "/api/v1/backend/e-document/online-access/request/identity_card/", &body).await;
    assert_eq!(ids(&keys[0]).await, a, "the seed starts over after the key's reset");
}

#[tokio::test]
async fn the_dashboard_filters_its_sessions_by_key() {
    let app = spawn_app().await;
    let mine = new_flow(&app, "mine", 3).await;
    let my_session = app.create_ok(&json!({"api_key": mine})).await;
    let other_session = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let html = async |path: String| {
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    };
    let (status, page) = html(format!("/?api_key={mine}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&my_session) && !page.contains(&other_session), "only the key's sessions");
    assert!(page.contains("data-testid=\"filter-key\""), "and says it is filtered");
    let (_, page) = html("/".to_owned()).await;
    assert!(page.contains(&my_session) && page.contains(&other_session), "unfiltered: everyone's");
    let (status, page) = html("/?api_key=nope".to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("data-testid=\"form-error\"") && page.contains("api_key &#34;nope&#34;"), "names it");
}

/// The in-process handle's helpers for one test's own flow.
#[tokio::test]
async fn the_handle_gives_each_test_a_flow_of_its_own() {
    let server = biometric_kz_mock::MockServer::start().await;
    let mine = server.new_flow("mine", &["LDHP", "F2F"], Some(9)).unwrap();
    let theirs = server.new_flow("theirs", &["LDHP"], None).unwrap();
    let client = reqwest::Client::new();
    for flow in [&mine, &theirs] {
        let created = client
            .post(format!("{}/api/v1/flows/session/create/", server.api_url()))
            .json(&json!({"api_key": flow.api_key.as_str()}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::OK);
    }
    assert_eq!(server.received_requests_for(mine.api_key.as_str()).len(), 1);
    server.reset_key(mine.api_key.as_str());
    assert!(server.received_requests_for(mine.api_key.as_str()).is_empty());
    assert_eq!(server.received_requests_for(theirs.api_key.as_str()).len(), 1, "the other's stays");
    assert!(server.purge_flow(theirs.api_key.as_str()));
    assert!(!server.purge_flow(theirs.api_key.as_str()), "gone already");
    assert!(server.received_requests().is_empty());
    let again = biometric_kz_mock::MockServer::start().await.new_flow("mine", &["LDHP", "F2F"], Some(9)).unwrap();
    assert_eq!(again.api_key, mine.api_key, "a seed and a name make the same key in another server");
    assert!(server.new_flow("bad", &["XX"], None).unwrap_err().to_string().contains("technologies[0]"));
}
