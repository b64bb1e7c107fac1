//! Reliability under load and against generated input: many clients at once lose or mix up no
//! session, every generated create body gets exactly the answer its rules say, and a damaged
//! state file is refused or served, never a crash.

use std::collections::HashSet;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, INDIVIDUALS, LEGAL, TestApp, photo_base64, read, scratch_dir, spawn_with};
use biometric_kz_mock::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_create_complete_and_poll_twenty_thousand_sessions() {
    let app = Arc::new(spawn_with(Config { journal_limit: 100, ..Config::default() }).await);
    let per_client = 20_000 / 64 + 1;
    let tasks: Vec<_> = (0..64)
        .map(|client| {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for n in 0..per_client {
                    // Each client's sessions carry its own number, to detect a mix-up.
                    let key = if n % 2 == 0 { EVERYONE } else { INDIVIDUALS };
                    let iin = if n % 2 == 0 { "900101300017" } else { "880315400010" };
                    let body = json!({"api_key": key, "metadata": {"extra": {"iin": iin}}, "client": client});
                    let (status, created) = read(app.create(&body).await).await;
                    assert_eq!(status, StatusCode::OK, "{created}");
                    let sid = created["session_id"].as_str().unwrap().to_owned();
                    let (status, done) = app.complete(&sid, None).await;
                    assert_eq!(status, StatusCode::OK, "{done}");
                    let (status, result) = app.result(&sid, key).await;
                    assert!(status.is_success(), "no 5xx: {status} {result}");
                    assert_eq!(result["id"], json!(sid), "the session asked for, not another");
                    assert_eq!(result["status"], "FINISHED");
                    mine.push((sid, key, iin));
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("a client finished"));
    }
    assert!(all.len() >= 20_000);
    let ids: HashSet<&str> = all.iter().map(|(sid, _, _)| sid.as_str()).collect();
    assert_eq!(ids.len(), all.len(), "every id is unique");
    let listed = app.client.get(app.url("/__admin/sessions?limit=1")).send().await.unwrap();
    let total: usize = listed.headers()["x-total-count"].to_str().unwrap().parse().unwrap();
    assert_eq!(total, all.len(), "no session was lost");
    // A sample, checked against what its client sent.
    for (sid, key, iin) in all.iter().step_by(997) {
        let (_, view) = app.get(&format!("/__admin/sessions/{sid}")).await;
        assert_eq!(view["api_key"], *key);
        assert_eq!(view["metadata"]["extra"]["iin"], *iin, "no mixed-up metadata");
    }
}

/// One generated create body and the answer its rules call for.
#[derive(Debug, Clone)]
struct Case {
    body: Value,
    expected: StatusCode,
    /// Paths (dotted) that must carry an error when `expected` is 400.
    errors: Vec<&'static str>,
}

fn case() -> impl Strategy<Value = Case> {
    let key = prop_oneof![
        12 => Just((Some(json!(INDIVIDUALS)), None)),
        1 => Just((None, Some("api_key"))),
        1 => Just((Some(json!(null)), Some("api_key"))),
        1 => Just((Some(json!([1])), Some("api_key"))),
        1 => Just((Some(json!("")), Some("api_key"))),
        2 => Just((Some(json!("no-such-key-0123456789012345678901234567890123456")), None)),
    ];
    let iin = prop_oneof![
        12 => Just((json!("900101300017"), None)),
        1 => Just((json!("900101300018"), Some("metadata.edocument.iin.value"))),
        1 => Just((json!("901301300017"), Some("metadata.edocument.iin.value"))),
        1 => Just((json!(900_101_300_017_u64), Some("metadata.edocument.iin.value"))),
        1 => "[0-9]{0,11}".prop_map(|s| (json!(s), Some("metadata.edocument.iin.value"))),
    ];
    let phone = prop_oneof![
        12 => Just((json!("77011234567"), None)),
        1 => Just((json!("+77011234567"), Some("metadata.edocument.phone.value"))),
        1 => "8[0-9]{10}".prop_map(|s| (json!(s), Some("metadata.edocument.phone.value"))),
    ];
    let changeable = prop_oneof![4 => Just(None), 4 => Just(Some(json!(true))), 6 => Just(Some(json!(false))), 1 => Just(Some(json!("no")))];
    let skip = prop_oneof![4 => Just(None), 3 => Just(Some(json!(false))), 4 => Just(Some(json!(true))), 1 => Just(Some(json!(1)))];
    let photo = prop_oneof![
        6 => Just(None),
        4 => Just(Some((json!(photo_base64("face.png")), false))),
        1 => Just(Some((json!("bm90IGFuIGltYWdl"), true))),
        1 => Just(Some((json!("%%%"), true))),
    ];
    // Most bodies carry metadata; the rest are the usual `{"api_key"}` body, which the server
    // reads a shorter way. A few send the body's values in a list instead of an object.
    let with_metadata = prop_oneof![3 => Just(true), 1 => Just(false)];
    let in_a_list = prop_oneof![15 => Just(false), 1 => Just(true)];
    let parts = (key, iin, phone, changeable.clone(), changeable, skip, photo);
    (parts, with_metadata, in_a_list).prop_map(
        |(
            ((key, key_error), (iin, iin_error), (phone, phone_error), iin_changeable, phone_changeable, skip, photo),
            with_metadata,
            in_a_list,
        )| {
            let mut errors: Vec<&'static str> = Vec::new();
            let mut body = serde_json::Map::new();
            if let Some(key) = key {
                body.insert("api_key".into(), key);
            }
            let mut iin_part = json!({"value": iin});
            if let Some(c) = &iin_changeable {
                iin_part["changeable"] = c.clone();
                if !c.is_boolean() {
                    errors.push("metadata.edocument.iin.changeable");
                }
            }
            let mut phone_part = json!({"value": phone});
            if let Some(c) = &phone_changeable {
                phone_part["changeable"] = c.clone();
                if !c.is_boolean() {
                    errors.push("metadata.edocument.phone.changeable");
                }
            }
            errors.extend(iin_error);
            errors.extend(phone_error);
            let mut edocument = json!({"iin": iin_part, "phone": phone_part});
            if let Some(skip) = &skip {
                edocument["skip_input"] = skip.clone();
                match skip {
                    Value::Bool(true) => {
                        // Both values are given; both must be changeable: false.
                        if iin_changeable != Some(json!(false)) || phone_changeable != Some(json!(false)) {
                            errors.push("metadata.edocument.skip_input");
                        }
                    }
                    Value::Bool(false) => {}
                    _ => errors.push("metadata.edocument.skip_input"),
                }
            }
            let mut metadata = json!({"edocument": edocument});
            if let Some((photo, bad)) = photo {
                metadata["face2face"] = json!({"photo1": photo});
                if bad {
                    errors.push("metadata.face2face.photo1");
                }
            }
            if with_metadata {
                body.insert("metadata".into(), metadata);
            } else {
                errors.clear();
            }
            errors.extend(key_error);
            Case::of(body, errors, in_a_list)
        },
    )
}

impl Case {
    /// The answer a body calls for, from the errors its parts were built with.
    fn of(body: serde_json::Map<String, Value>, mut errors: Vec<&'static str>, in_a_list: bool) -> Self {
        if in_a_list {
            let values = body.into_values().collect();
            return Self {
                body: Value::Array(values),
                expected: StatusCode::BAD_REQUEST,
                errors: vec!["non_field_errors"],
            };
        }
        let unknown_key = body.get("api_key").and_then(Value::as_str).is_some_and(|k| k.starts_with("no-such"));
        let expected = if unknown_key {
            StatusCode::FORBIDDEN
        } else if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        if expected != StatusCode::BAD_REQUEST {
            errors.clear();
        }
        Self { body: Value::Object(body), expected, errors }
    }
}

fn has_error_at(errors: &Value, path: &str) -> bool {
    let mut node = errors;
    for part in path.split('.') {
        match node.get(part) {
            Some(next) => node = next,
            None => return false,
        }
    }
    node.is_array() || node.get("non_field_errors").is_some()
}

#[tokio::test]
async fn ten_thousand_generated_create_bodies_each_get_the_answer_their_rules_say() {
    let app = spawn_with(Config { journal_limit: 10, ..Config::default() }).await;
    let mut runner = TestRunner::new(ProptestConfig { cases: 10_000, ..ProptestConfig::default() });
    let mut cases = Vec::with_capacity(10_000);
    let strategy = case();
    for _ in 0..10_000 {
        cases.push(strategy.new_tree(&mut runner).expect("a case").current());
    }
    let mut seen = std::collections::HashMap::new();
    let (mut lists, mut plain_created) = (0, 0);
    for case in cases {
        let (status, body) = read(app.create(&case.body).await).await;
        assert!(!status.is_server_error(), "never a 5xx: {} for {}", status, case.body);
        assert_eq!(status, case.expected, "answer for {}: {body}", case.body);
        for path in &case.errors {
            assert!(has_error_at(&body, path), "an error at {path} for {}: {body}", case.body);
        }
        *seen.entry(status.as_u16()).or_insert(0) += 1;
        lists += usize::from(case.body.is_array());
        plain_created += usize::from(status == StatusCode::OK && case.body.get("metadata").is_none());
    }
    for status in [200, 400, 403] {
        assert!(seen.get(&status).copied().unwrap_or(0) > 100, "the generator covers {status}: {seen:?}");
    }
    assert!(
        lists > 100 && plain_created > 100,
        "the generator covers lists ({lists}) and plain bodies ({plain_created})"
    );
}

/// A state file damaged in one or two places (a value made odd, null or extreme, a key removed)
/// either stops start-up with a message naming the file, or loads, and then every session in it
/// answers on every endpoint without a 5xx. A doubled session or flow is always refused.
#[tokio::test]
async fn a_damaged_state_file_is_refused_or_served_never_a_crash() {
    use biometric_kz_mock::MockServer;
    use rand::{Rng, SeedableRng};
    let dir = scratch_dir("damaged");
    let saved = dir.join("saved.json");
    {
        let app = spawn_with(Config { state_file: Some(saved.clone()), ..Config::default() }).await;
        for (i, key) in [EVERYONE, INDIVIDUALS, LEGAL].into_iter().cycle().take(6).enumerate() {
            let sid = app.create_ok(&json!({"api_key": key, "metadata": {"extra": {"iin": "900101300017"}}})).await;
            if i < 3 {
                assert_eq!(app.complete(&sid, None).await.0, StatusCode::OK);
            }
        }
        // The state is written a quarter of a second after a change.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::fs::read_to_string(&saved).map_or(0, |t| t.matches("\"flow_name\"").count()) < 6 {
            assert!(std::time::Instant::now() < deadline, "the state file was not written");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let original: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    let (mut loaded, mut refused) = (0, 0);
    for round in 0..250 {
        let mut state = original.clone();
        for _ in 0..rng.random_range(1..=2) {
            damage(&mut state, &mut rng);
        }
        let file = dir.join(format!("damaged-{round}.json"));
        std::fs::write(&file, state.to_string()).unwrap();
        let config = Config { state_file: Some(file.clone()), ..Config::default() };
        let server = match MockServer::builder().config(config).start().await {
            Ok(server) => server,
            Err(e) => {
                assert!(e.to_string().contains(file.to_str().unwrap()), "round {round}: {e}");
                refused += 1;
                continue;
            }
        };
        loaded += 1;
        let app = TestApp { base: server.uri(), client: reqwest::Client::new(), server };
        for session in state["sessions"].as_array().into_iter().flatten() {
            let (Some(sid), Some(key)) = (session["id"].as_str(), session["api_key"].as_str()) else { continue };
            let calls = [
                ("GET", format!("/__admin/sessions/{sid}"), None),
                ("GET", format!("/api/v1/flows/session/result/?session_id={sid}&flow_api_key={key}"), None),
                ("GET", format!("/api/v1/liveness/video/download/?session_id={sid}&flow_api_key={key}"), None),
                ("GET", format!("/flow/{sid}"), None),
                ("GET", format!("/flow/{sid}/done"), None),
                ("POST", format!("/api/v1/flows/session/{sid}/report/?technology=F2F"), Some(json!({"api_key": key}))),
                ("POST", format!("/__admin/sessions/{sid}/complete"), None),
                ("GET", "/".to_owned(), None),
            ];
            for (method, path, body) in calls {
                let mut request = app.client.request(method.parse().unwrap(), app.url(&path));
                if let Some(body) = body {
                    request = request.json(&body);
                }
                let response = request.send().await.unwrap_or_else(|e| panic!("round {round}: {path}: {e}"));
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                assert!(!status.is_server_error(), "round {round}: {method} {path}: {status}: {text:.300}");
            }
        }
    }
    assert!(loaded > 15 && refused > 50, "{loaded} damaged files loaded, {refused} refused");
    // A session or a flow twice would be held twice or lose one: refused, saying which.
    for (list, expected) in
        [("sessions", "at sessions[6]: the same id as sessions[0]"), ("flows", "the same API key as flows[0]")]
    {
        let mut state = original.clone();
        let first = state[list][0].clone();
        state[list].as_array_mut().unwrap().push(first);
        let file = dir.join(format!("twice-{list}.json"));
        std::fs::write(&file, state.to_string()).unwrap();
        let config = Config { state_file: Some(file), ..Config::default() };
        let refusal = MockServer::builder().config(config).start().await.err().expect("refused").to_string();
        assert!(refusal.contains(expected), "{refusal}");
    }
}

/// Damages one place of `state`: a value made odd, null or extreme, or a key removed.
fn damage(state: &mut Value, rng: &mut rand_chacha::ChaCha8Rng) {
    use rand::Rng;
    // A random walk down from the root to some value, as a JSON pointer.
    let mut pointer = String::new();
    let mut at = &*state;
    loop {
        let (step, next) = match at {
            // The root stays an object: the walk always leaves it.
            Value::Object(map) if !map.is_empty() && (pointer.is_empty() || rng.random_ratio(4, 5)) => {
                let (key, next) = map.iter().nth(rng.random_range(0..map.len())).unwrap();
                (key.replace('~', "~0").replace('/', "~1"), next)
            }
            Value::Array(items) if !items.is_empty() && rng.random_ratio(4, 5) => {
                let i = rng.random_range(0..items.len());
                (i.to_string(), &items[i])
            }
            _ => break,
        };
        pointer = format!("{pointer}/{step}");
        at = next;
    }
    if rng.random_ratio(1, 6) && !pointer.is_empty() {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        if let Some(Value::Object(map)) = state.pointer_mut(parent) {
            map.remove(&key.replace("~1", "/").replace("~0", "~"));
            return;
        }
    }
    let at = state.pointer_mut(&pointer).unwrap();
    // Mostly a value of the same type, odd (these load and must then be served); sometimes
    // anything (these are mostly refused).
    let strings = [json!(""), json!("<script>bkz</script>"), json!("W".repeat(5_000)), json!("8999-12-31T23:59:59Z")];
    let numbers = [json!(0), json!(-1), json!(u64::MAX), json!(1e300)];
    let anything = [json!(null), json!([]), json!({}), json!("0001-01-01T00:00:00Z"), json!(7)];
    *at = match at {
        Value::String(_) if rng.random_ratio(3, 4) => strings[rng.random_range(0..strings.len())].clone(),
        Value::Number(_) if rng.random_ratio(3, 4) => numbers[rng.random_range(0..numbers.len())].clone(),
        Value::Bool(b) if rng.random_ratio(3, 4) => json!(!*b),
        _ => anything[rng.random_range(0..anything.len())].clone(),
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_answers_the_request_in_flight_and_waits_for_no_idle_or_silent_connection() {
    let application = biometric_kz_mock::Application::build(Config { port: 0, ..Config::default() }).await.unwrap();
    let addr = application.local_addr();
    let base = format!("http://{addr}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(application.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{base}{path}");
    // A keep-alive connection left idle, one that never sends a byte, and a create held for a
    // second by a fault.
    let idle = client.get(url("/__admin/health")).send().await.unwrap();
    assert_eq!(idle.status(), StatusCode::OK);
    let fault = client.post(url("/__admin/faults")).json(&json!({"endpoint": "create", "delay_ms": 1000})).send();
    assert_eq!(fault.await.unwrap().status(), StatusCode::CREATED);
    let _silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let in_flight =
        tokio::spawn(client.post(url("/api/v1/flows/session/create/")).json(&json!({"api_key": EVERYONE})).send());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let asked = std::time::Instant::now();
    stop.send(()).unwrap();
    let answered = in_flight.await.unwrap().expect("the request in flight is answered");
    assert_eq!(answered.status(), StatusCode::OK);
    tokio::time::timeout(std::time::Duration::from_secs(5), running)
        .await
        .expect("neither the idle nor the silent connection holds the shutdown up")
        .unwrap()
        .unwrap();
    assert!(asked.elapsed() < std::time::Duration::from_secs(5));
    assert!(client.get(url("/__admin/health")).send().await.is_err(), "nothing is served after");
}
