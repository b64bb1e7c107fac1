//! Scenarios end to end: every shipped scenario played through the admin call and through the
//! page, the selection precedence, the processing delay and the faults.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::multipart::Form;
use serde_json::{Value, json};

use crate::helpers::forms::{FormBrowser, current_step, otp_shown};
use crate::helpers::{EVERYONE, INDIVIDUALS, LEGAL, TestApp, read, scratch_dir, spawn_app, spawn_with};
use biometric_kz_mock::Config;

const FAMILIES: [(&str, &[&str], &str); 4] = [
    ("liveness", &["LDHP", "LDD", "LDD2", "LDPM"], "liveness_result"),
    ("face2face", &["F2F"], "face2face_result"),
    ("edocument", &["ED"], "edocument_result"),
    ("document_recognition", &["DR"], "document_recognition_result"),
];

/// The shipped scenario files, parsed as JSON: each is a test case.
fn shipped() -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap()).collect()
}

/// The flow whose technologies a scenario scripts (E-Document and Document Recognition have
/// a flow each).
fn flow_for(scenario: &Value) -> &'static str {
    let techs = scenario["technologies"].as_object().cloned().unwrap_or_default();
    if techs.keys().any(|k| k == "edocument" || k == "ED") {
        INDIVIDUALS
    } else if techs.keys().any(|k| k == "document_recognition" || k == "DR") {
        LEGAL
    } else {
        EVERYONE
    }
}

/// Checks a finished session's result against what the scenario file scripts: the status, each
/// technology's outcome, failure reason and scripted fields.
fn assert_follows(scenario: &Value, r: &Value) {
    let name = scenario["name"].as_str().unwrap();
    let scripts = scenario["technologies"].as_object().cloned().unwrap_or_default();
    let failing: Vec<(&str, &Value)> =
        scripts.iter().filter(|(_, t)| t["outcome"] == "failed").map(|(k, t)| (k.as_str(), t)).collect();
    // A failure ends as the file's `failed_status` says (FAILED unless it says FINISHED).
    let failed_status = scenario["failed_status"].as_str().unwrap_or("FAILED");
    assert_eq!(r["status"], if failing.is_empty() { "FINISHED" } else { failed_status }, "{name}: {r}");
    assert_eq!(r["flow_session_result"], failing.is_empty(), "{name}");
    for (key, script) in &scripts {
        let (_, codes, field) =
            FAMILIES.iter().find(|(f, codes, _)| f == key || codes.contains(&key.as_str())).unwrap();
        let result = &r[*field];
        assert!(result.is_object(), "{name}: {field} present: {r}");
        assert_eq!(result["result"], script["outcome"] != "failed", "{name}: {field}.result");
        for (k, v) in script["result"].as_object().cloned().unwrap_or_default() {
            assert_eq!(&result[&k], &v, "{name}: {field}.{k} as scripted");
        }
        if script["outcome"] == "failed" {
            let reasons = r["flow_session_failure_reasons"].as_array().unwrap();
            let reason = reasons[0].as_str().unwrap_or_else(|| panic!("{name}: a string: {r}"));
            let (technology, rest) = reason.split_once(": ").unwrap_or_else(|| panic!("{name}: {reason}"));
            assert!(codes.contains(&technology), "{name}: {reason}");
            let expected = format!(
                "{}: {}",
                script["failure_reason"]["type"].as_str().unwrap(),
                script["failure_reason"]["detail"].as_str().unwrap()
            );
            assert_eq!(rest, expected, "{name}");
            if *field == "liveness_result" {
                assert_eq!(result["failure_reason"], script["failure_reason"], "{name}");
            }
        }
    }
}

/// Polls the result as a patient client would — through scripted 503s, dropped connections
/// and processing delays — until it settles. Between polls the virtual clock moves a second,
/// so a scripted processing delay passes without the test sleeping through it.
async fn settled(app: &TestApp, sid: &str, key: &str) -> Value {
    let url = app.url(&format!("/api/v1/flows/session/result/?session_id={sid}&flow_api_key={key}"));
    for _ in 0..60 {
        if let Ok(response) = app.client.get(&url).send().await {
            let (status, r) = read(response).await;
            if status == StatusCode::OK && r["status"] != "PROGRESS" {
                return r;
            }
        }
        app.advance(1.0).await;
    }
    panic!("the result of {sid} did not settle within 60 polls a virtual second apart");
}

#[tokio::test]
async fn every_shipped_scenario_plays_as_scripted_through_the_admin_call() {
    let app = spawn_app().await;
    for scenario in shipped() {
        let name = scenario["name"].as_str().unwrap();
        let key = flow_for(&scenario);
        let sid = app.create_ok(&json!({"api_key": key})).await;
        let (status, view) = app.complete(&sid, Some(json!({"scenario": name}))).await;
        assert_eq!(status, StatusCode::OK, "{name}: {view}");
        assert_eq!(view["scenario"], name, "{name}: the scenario asked for is played: {view}");
        assert_eq!(view["scenario_source"], "admin", "{name}: chosen by the admin call: {view}");
        let r = settled(&app, &sid, key).await;
        assert_follows(&scenario, &r);
    }
}

#[tokio::test]
async fn every_shipped_scenario_plays_as_scripted_through_the_page_selected_by_its_magic_iin() {
    let b = FormBrowser::new().await;
    for scenario in shipped() {
        let name = scenario["name"].as_str().unwrap();
        let key = flow_for(&scenario);
        let metadata = match scenario["match"]["iin"][0].as_str() {
            Some(iin) => json!({"extra": {"iin": iin}}),
            None => json!({}),
        };
        let sid = b.app.create_ok(&json!({"api_key": key, "metadata": metadata})).await;
        let (_, view) = b.app.get(&format!("/__admin/sessions/{sid}")).await;
        assert_eq!(view["scenario"], name, "the magic IIN selects {name}");
        b.walk(&sid, "?locale=en").await;
        let r = settled(&b.app, &sid, key).await;
        assert_follows(&scenario, &r);
    }
}

#[tokio::test]
async fn scenarios_are_listed_with_their_descriptions_and_magic_iins() {
    let app = spawn_app().await;
    let (status, list) = app.get("/__admin/scenarios").await;
    assert_eq!(status, StatusCode::OK, "the scenarios are listed: {list}");
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    let expected: Vec<Value> = shipped();
    assert_eq!(names.len(), expected.len(), "{names:?}");
    for s in &expected {
        let listed = list.as_array().unwrap().iter().find(|l| l["name"] == s["name"]).expect("listed");
        assert_eq!(listed["description"], s["description"], "{}'s description is listed", s["name"]);
        assert!(!listed["description"].as_str().unwrap().is_empty(), "{} has a description", s["name"]);
        assert_eq!(
            listed["match"],
            s["match"]["iin"].as_array().cloned().map_or(json!([]), Value::Array),
            "{}'s magic IINs are listed",
            s["name"]
        );
    }
}

#[tokio::test]
async fn the_page_shows_the_scripted_outcome_and_lets_the_person_override_it() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": "900101390012"}}})).await;
    let (_, html) = b.get(&format!("/flow/{sid}?locale=en")).await;
    assert!(html.contains("failed (CALC_RESULT: Low overall prediction)"), "the script is shown: {html}");
    assert!(html.contains("<option value=\"CALC_RESULT\" selected>"), "its reason is preselected");
    // The person overrides the script: liveness passes after all.
    b.post(&format!("/flow/{sid}/LDHP"), Form::new().text("action", "passed")).await;
    let (_, html) = b.get(&format!("/flow/{sid}?locale=en")).await;
    assert_eq!(current_step(&html), "F2F", "after liveness comes Face2Face: {html}");
    assert!(html.contains("data-testid=\"scripted-outcome\">passed<"), "F2F is not scripted: {html}");
}

async fn view(app: &TestApp, sid: &str) -> Value {
    app.get(&format!("/__admin/sessions/{sid}")).await.1
}

#[tokio::test]
async fn scenario_selection_goes_admin_then_match_then_flow_then_server() {
    let dir = scratch_dir("precedence");
    let flows = dir.join("flows.json");
    let with_default = "flow-with-scenario-0123456789012345678901234567890";
    let without = "flow-without-scenario-01234567890123456789012345678";
    std::fs::write(
        &flows,
        json!([
            {"name": "A", "api_key": with_default, "technologies": ["LDHP", "F2F"], "scenario": "face-mismatch"},
            {"name": "B", "api_key": without, "technologies": ["LDHP", "F2F"]}
        ])
        .to_string(),
    )
    .unwrap();
    let config = Config { flows_file: Some(flows), default_scenario: "liveness-fails".into(), ..Config::default() };
    let app = spawn_with(config).await;
    let magic = json!({"extra": {"iin": "900101390062"}});

    let server = app.create_ok(&json!({"api_key": without})).await;
    let flow = app.create_ok(&json!({"api_key": with_default})).await;
    let matched = app.create_ok(&json!({"api_key": with_default, "metadata": magic})).await;
    let by_edoc = app
        .create_ok(&json!({"api_key": without, "metadata": {"edocument": {"iin": {"value": "900101390062"}}}}))
        .await;
    for (sid, name, source) in [
        (&server, "liveness-fails", "server"),
        (&flow, "face-mismatch", "flow"),
        (&matched, "document-unreadable", "match"),
        (&by_edoc, "document-unreadable", "match"),
    ] {
        let v = view(&app, sid).await;
        assert_eq!((v["scenario"].as_str(), v["scenario_source"].as_str()), (Some(name), Some(source)), "{sid}");
    }
    let put = app
        .client
        .put(app.url(&format!("/__admin/sessions/{matched}/scenario")))
        .json(&json!({"scenario": "happy-path"}))
        .send()
        .await
        .unwrap();
    let (status, v) = read(put).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        (v["scenario"].as_str(), v["scenario_source"].as_str()),
        (Some("happy-path"), Some("admin")),
        "the admin's choice replaces the matched one: {v}"
    );
    app.complete(&matched, None).await;
    assert_eq!(app.result(&matched, with_default).await.1["status"], "FINISHED", "the admin's choice is played");

    let (status, v) = app.complete(&flow, Some(json!({"scenario": "liveness-eyes-closed"}))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["steps"][0]["failure_reason"]["type"], "EYES_CLOSED", "complete's scenario wins over the flow's");

    let put = app
        .client
        .put(app.url(&format!("/__admin/sessions/{server}/scenario")))
        .json(&json!({"scenario": "no-such"}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(put).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an unknown scenario is refused: {body}");
    assert!(body["scenario"][0].as_str().unwrap().contains("no scenario is named \"no-such\""), "{body}");
    let (status, body) = app.complete(&server, Some(json!({"scenario": 7}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn results_stay_empty_while_the_processing_delay_runs() {
    let dir = scratch_dir("slow");
    std::fs::write(
        dir.join("slowish.json"),
        json!({"name": "slowish", "description": "a minute", "processing_ms": 60_000,
               "technologies": {"F2F": {"processing_ms": 120_000}}})
        .to_string(),
    )
    .unwrap();
    let app =
        spawn_with(Config { scenarios_dir: Some(dir), default_scenario: "slowish".into(), ..Config::default() }).await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.complete(&sid, None).await;
    let (_, r) = app.result(&sid, EVERYONE).await;
    assert_eq!(r["status"], "PROGRESS", "{r}");
    assert_eq!(r["liveness_result"], json!({}), "a result being processed is an empty object");
    assert_eq!(r["face2face_result"], json!({}), "{r}");
    assert_eq!(r["flow_session_result"], Value::Null, "{r}");
    assert_eq!(r["finished_at"], Value::Null, "{r}");
    let (_, admin) = app.get(&format!("/__admin/sessions/{sid}")).await;
    assert_eq!(admin["status"], "FINISHED", "the admin API shows the truth at once");
    // 90 virtual seconds on: the liveness result (a minute) shows, Face2Face's (two) does not yet.
    app.advance(90.0).await;
    let (_, r) = app.result(&sid, EVERYONE).await;
    assert_eq!(r["status"], "PROGRESS", "F2F's own delay is the longest: {r}");
    assert_eq!(r["liveness_result"]["result"], true, "{r}");
    assert_eq!(r["face2face_result"], json!({}), "{r}");
    app.advance(31.0).await;
    let (_, r) = app.result(&sid, EVERYONE).await;
    assert_eq!(r["status"], "FINISHED", "{r}");
    assert_eq!(r["face2face_result"]["result"], true, "{r}");
}

/// A delay too long for the clock (u64::MAX ms) means the results never appear; nothing breaks.
#[tokio::test]
async fn a_processing_delay_past_the_clocks_end_keeps_results_pending() {
    let dir = scratch_dir("forever");
    std::fs::write(
        dir.join("forever.json"),
        json!({"name": "forever", "description": "never", "processing_ms": u64::MAX}).to_string(),
    )
    .unwrap();
    let app =
        spawn_with(Config { scenarios_dir: Some(dir), default_scenario: "forever".into(), ..Config::default() }).await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    assert_eq!(
        app.complete(&sid, None).await.0,
        StatusCode::OK,
        "complete plays a scenario whose processing never ends"
    );
    let (status, r) = app.result(&sid, EVERYONE).await;
    assert_eq!((status, &r["status"]), (StatusCode::OK, &json!("PROGRESS")), "{r}");
    let (_, admin) = app.get(&format!("/__admin/sessions/{sid}")).await;
    assert_eq!(admin["status"], "FINISHED", "{admin}");
}

#[tokio::test]
async fn the_result_endpoint_answers_503_twice_then_recovers_for_each_session() {
    let app = spawn_app().await;
    for _ in 0..2 {
        let sid = app.create_ok(&json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": "900101390082"}}})).await;
        app.complete(&sid, None).await;
        for _ in 0..2 {
            let (status, body) = app.result(&sid, EVERYONE).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "the first two polls meet the scripted 503: {body}");
            assert_eq!(
                body,
                json!({"detail": "Service temporarily unavailable, try again later."}),
                "the vendor's 503 body"
            );
        }
        let (status, body) = app.result(&sid, EVERYONE).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "FINISHED", "the third poll gets the result: {body}");
    }
}

#[tokio::test]
async fn a_dropped_connection_fault_closes_the_connection_without_an_answer() {
    let dir = scratch_dir("drop");
    std::fs::write(
        dir.join("drop.json"),
        json!({"name": "drop", "faults": [{"endpoint": "result", "drop_connection": true, "times": 1}]}).to_string(),
    )
    .unwrap();
    let app =
        spawn_with(Config { scenarios_dir: Some(dir), default_scenario: "drop".into(), ..Config::default() }).await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let url = app.url(&format!("/api/v1/flows/session/result/?session_id={sid}&flow_api_key={EVERYONE}"));
    let error = app.client.get(&url).send().await.expect_err("no answer");
    assert!(!error.is_status() && !error.is_timeout(), "the connection was closed: {error:?}");
    let (status, _) = app.result(&sid, EVERYONE).await;
    assert_eq!(status, StatusCode::OK, "only the first call is dropped");
}

#[tokio::test]
async fn create_faults_and_delays_apply_to_the_calls_they_name() {
    let dir = scratch_dir("create-fault");
    std::fs::write(
        dir.join("busy.json"),
        json!({"name": "busy", "match": {"iin": ["900101490019"]},
               "faults": [{"endpoint": "create", "status": 429, "detail": "Slow down.", "times": 1},
                          {"endpoint": "result", "delay_ms": 300, "times": 1}]})
        .to_string(),
    )
    .unwrap();
    let app = spawn_with(Config { scenarios_dir: Some(dir), ..Config::default() }).await;
    let body = json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": "900101490019"}}});
    let (status, json) = read(app.create(&body).await).await;
    assert_eq!(
        (status, json),
        (StatusCode::TOO_MANY_REQUESTS, json!({"detail": "Slow down."})),
        "the first create meets the scripted 429"
    );
    let sid = app.create_ok(&body).await;
    app.create_ok(&json!({"api_key": EVERYONE})).await;
    let start = Instant::now();
    let (status, _) = app.result(&sid, EVERYONE).await;
    assert_eq!(status, StatusCode::OK, "a delay alone answers normally");
    assert!(start.elapsed() >= Duration::from_millis(300), "after the delay");
}

#[tokio::test]
async fn a_broken_scenario_file_stops_start_up_with_the_file_the_path_and_the_reason() {
    let cases = [
        (
            json!({"name": "x", "technologies": {"F2F": {"outcome": "maybe"}}}),
            "technologies.F2F.outcome",
            "unknown variant `maybe`",
        ),
        (
            json!({"name": "x", "technologies": {"LDHP": {"result": {"prediction": 0.1}}}}),
            "technologies.LDHP.result.prediction",
            "must be a string",
        ),
        (json!({"name": "x", "colour": "red"}), "colour", "unknown field `colour`"),
        (
            json!({"name": "x", "technologies": {"FACE": {}}}),
            "technologies.FACE",
            "unknown technology \"FACE\": use a code (LDHP, LDD, LDD2, LDPM, F2F, ED, DR) or a family (liveness, face2face, edocument, document_recognition)",
        ),
        (
            json!({"name": "x", "faults": [{"endpoint": "results", "status": 503}]}),
            "faults[0].endpoint",
            "unknown variant `results`",
        ),
    ];
    for (content, path, reason) in cases {
        let dir = scratch_dir("broken");
        let file = dir.join("broken.json");
        std::fs::write(&file, content.to_string()).unwrap();
        let error =
            biometric_kz_mock::Application::build(Config { port: 0, scenarios_dir: Some(dir), ..Config::default() })
                .await
                .err()
                .unwrap_or_else(|| panic!("{content} is refused"))
                .to_string();
        assert!(error.contains(&file.display().to_string()), "names the file: {error}");
        assert!(error.contains(&format!("at {path}:")), "names the path {path}: {error}");
        assert!(error.contains(reason), "says why ({reason}): {error}");
    }
}

#[tokio::test]
async fn flows_and_the_server_default_must_name_existing_scenarios() {
    let dir = scratch_dir("ref");
    let flows = dir.join("flows.json");
    std::fs::write(
        &flows,
        json!([{"name": "A", "api_key": "flow-with-scenario-0123456789012345678901234567890", "technologies": ["LDHP"], "scenario": "nope"}]).to_string(),
    )
    .unwrap();
    let e = biometric_kz_mock::Application::build(Config { port: 0, flows_file: Some(flows), ..Config::default() })
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("at [0].scenario") && e.contains("\"nope\""), "{e}");
    let e =
        biometric_kz_mock::Application::build(Config { port: 0, default_scenario: "nope".into(), ..Config::default() })
            .await
            .err()
            .unwrap()
            .to_string();
    assert!(e.contains("--scenario \"nope\""), "{e}");
}

#[tokio::test]
async fn the_wrong_otp_scenario_fails_e_document_even_with_the_right_code() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": INDIVIDUALS, "metadata": {"extra": {"iin": "900101390052"}}})).await;
    b.post(&format!("/flow/{sid}/LDHP"), Form::new().text("action", "scripted")).await;
    let form = Form::new().text("phase", "input").text("iin", "900101390052").text("phone", "77011234567");
    b.post(&format!("/flow/{sid}/ED"), form).await;
    let (_, html) = b.get(&format!("/flow/{sid}")).await;
    let form = Form::new().text("phase", "otp").text("action", "scripted").text("otp", otp_shown(&html));
    b.post(&format!("/flow/{sid}/ED"), form).await;
    let (_, r) = b.app.result(&sid, INDIVIDUALS).await;
    assert!(r["flow_session_failure_reasons"][0].as_str().unwrap().starts_with("ED: WRONG_OTP: "), "{r}");
}

/// Scenario files the loader accepts, however odd their scripted values, make sessions whose
/// result, done page and reports all answer without a 5xx. The shipped scenarios are mutated at
/// random (a third of their strings made long, hostile, non-Latin or empty, their numbers
/// extreme); those the loader still accepts each play a whole session.
#[tokio::test]
async fn odd_scripted_values_that_load_never_break_an_answer() {
    use biometric_kz_mock::config::parse_scenario_file;
    use rand::{Rng, SeedableRng};
    let dir = scratch_dir("odd");
    let shipped = shipped();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut accepted = Vec::new();
    for i in 0..120 {
        let mut scenario = shipped[rng.random_range(0..shipped.len())].clone();
        odd_leaves(&mut scenario, &mut rng);
        scenario["name"] = json!(format!("odd-{i}"));
        // Matching by IIN is not what this tests (and two files may not claim one IIN), nor
        // are scripted faults, which answer 5xx, delay or drop on purpose.
        scenario.as_object_mut().unwrap().remove("match");
        scenario.as_object_mut().unwrap().remove("faults");
        let text = scenario.to_string();
        if parse_scenario_file("odd.json", &text).is_ok() {
            std::fs::write(dir.join(format!("odd-{i}.json")), text).unwrap();
            accepted.push(scenario);
        }
    }
    assert!(accepted.len() > 40, "only {} mutated scenarios loaded", accepted.len());
    let app = spawn_with(Config { scenarios_dir: Some(dir), ..Config::default() }).await;
    for scenario in &accepted {
        let (name, key) = (scenario["name"].as_str().unwrap(), flow_for(scenario));
        let sid = app.create_ok(&json!({"api_key": key, "metadata": {"extra": {"iin": "900101300017"}}})).await;
        let (status, body) = app.complete(&sid, Some(json!({"scenario": name}))).await;
        assert!(!status.is_server_error(), "{name}: complete {status}: {body}\n{scenario}");
        let result =
            app.client.get(app.url(&format!("/api/v1/flows/session/result/?session_id={sid}&flow_api_key={key}")));
        let done = app.client.get(app.url(&format!("/flow/{sid}/done")));
        let reports = ["LDHP", "F2F"].map(|technology| {
            app.client
                .post(app.url(&format!("/api/v1/flows/session/{sid}/report/?technology={technology}")))
                .json(&json!({"api_key": key}))
        });
        for request in [result, done].into_iter().chain(reports) {
            let response = request.send().await.unwrap_or_else(|e| panic!("{name}: no answer: {e:?}\n{scenario}"));
            let (status, url) = (response.status(), response.url().clone());
            let text = response.text().await.unwrap_or_default();
            assert!(!status.is_server_error(), "{name}: {url} {status}: {text:.300}\n{scenario}");
        }
    }
}

/// Replaces about a third of the strings and numbers in `value` with odd ones.
fn odd_leaves(value: &mut Value, rng: &mut rand_chacha::ChaCha8Rng) {
    use rand::Rng;
    match value {
        Value::Object(map) => map.values_mut().for_each(|v| odd_leaves(v, rng)),
        Value::Array(items) => items.iter_mut().for_each(|v| odd_leaves(v, rng)),
        Value::String(text) if rng.random_ratio(1, 3) => {
            *text = match rng.random_range(0..6) {
                0 => String::new(),
                1 => "Қазақстан Республикасы 😀 \u{202e}ǅ".to_owned(),
                2 => "<script>bkz</script>\"'&".to_owned(),
                3 => "W".repeat(20_000),
                4 => "\u{0}\u{7}\t\r\n".to_owned(),
                _ => format!("{}{text}", "0.".repeat(3)),
            }
        }
        Value::Number(_) if rng.random_ratio(1, 3) => {
            *value = [json!(0), json!(-1), json!(u64::MAX), json!(1e300), json!(0.5)][rng.random_range(0..5)].clone();
        }
        _ => {}
    }
}
