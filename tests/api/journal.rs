//! The request journal, its lint warnings, `X-Mock-Lint` and `--strict`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, IIN, INDIVIDUALS, TestApp, photo_base64, read, spawn_app, spawn_with};
use biometric_kz_mock::Config;

async fn journal(app: &TestApp, query: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/__admin/requests{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().expect("a list").clone()
}

fn lint_codes(entry: &Value) -> Vec<String> {
    entry["lint_details"].as_array().unwrap().iter().map(|l| l["code"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn every_emulated_request_is_journaled_newest_first_with_what_it_concerned() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.complete(&sid, None).await;
    app.result(&sid, EVERYONE).await;
    app.client.get(app.url(&format!("/flow/{sid}"))).send().await.unwrap();
    let entries = journal(&app, "").await;
    let summary: Vec<(&str, &str, u64)> = entries
        .iter()
        .map(|e| (e["method"].as_str().unwrap(), e["path"].as_str().unwrap(), e["status"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("GET", format!("/flow/{sid}").as_str(), 410),
            ("GET", "/api/v1/flows/session/result/", 200),
            ("POST", "/api/v1/flows/session/create/", 200),
        ],
        "admin calls are not journaled; newest first"
    );
    for entry in &entries {
        assert_eq!(entry["session_id"], json!(sid), "{entry}");
        assert!(entry["at"].as_str().unwrap().ends_with('Z'), "a UTC timestamp: {entry}");
        assert!(entry["id"].as_u64().unwrap() > 0, "ids start at 1: {entry}");
    }
    assert_eq!(entries[1]["api_key"], EVERYONE, "the result poll's key: {}", entries[1]);
    assert_eq!(
        entries[1]["query"],
        format!("session_id={sid}&flow_api_key={EVERYONE}"),
        "the result poll's query as sent"
    );
    assert_eq!(entries[2]["api_key"], EVERYONE, "the create body's key");
}

#[tokio::test]
async fn the_journal_filters_by_path_session_key_and_limit_and_can_be_cleared() {
    let app = spawn_app().await;
    let a = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let b = app.create_ok(&json!({"api_key": INDIVIDUALS})).await;
    app.result(&a, EVERYONE).await;
    app.result(&b, INDIVIDUALS).await;
    assert_eq!(journal(&app, "?path=result").await.len(), 2, "two result polls");
    assert_eq!(journal(&app, &format!("?session_id={b}")).await.len(), 2, "session b's create and poll");
    assert_eq!(
        journal(&app, &format!("?api_key={INDIVIDUALS}")).await.len(),
        2,
        "the individuals key made one create and one poll"
    );
    let one = journal(&app, "?limit=1").await;
    assert_eq!(one.len(), 1, "?limit=1 keeps one: {one:?}");
    assert_eq!(one[0]["session_id"], json!(b), "the newest");
    assert_eq!(
        app.get("/__admin/requests?session_id=nope").await.0,
        StatusCode::BAD_REQUEST,
        "a session_id that is not a UUID is refused"
    );
    let response = app.client.delete(app.url("/__admin/requests")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "the journal is cleared");
    assert!(journal(&app, "").await.is_empty(), "nothing is left after clearing");
}

#[tokio::test]
async fn the_journal_is_bounded_by_its_limit() {
    let app = spawn_with(Config { journal_limit: 5, ..Config::default() }).await;
    for _ in 0..12 {
        app.create_ok(&json!({"api_key": EVERYONE})).await;
    }
    let entries = journal(&app, "").await;
    assert_eq!(entries.len(), 5, "the oldest are dropped");
    assert!(entries[0]["id"].as_u64() > entries[4]["id"].as_u64(), "newest first: {entries:?}");
}

#[tokio::test]
async fn accepted_requests_that_depart_from_the_docs_carry_lint_warnings() {
    let app = spawn_app().await;
    let photo = json!({"face2face": {"photo1": photo_base64("face.jpg")}});
    // (request, expected lint codes)
    let no_content_type = app.create_raw(json!({"api_key": EVERYONE}).to_string(), None).await;
    assert_eq!(no_content_type.status(), StatusCode::OK, "accepted");
    let header: Vec<String> =
        no_content_type.headers().get_all("x-mock-lint").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert_eq!(header.len(), 1, "{header:?}");
    assert!(
        header[0].starts_with("content-type: ") && header[0].contains("(vendor docs: 2. Session Creation)"),
        "{header:?}"
    );

    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"api_key": INDIVIDUALS, "metadata": photo.clone()}), vec![]),
        (
            json!({"api_key": INDIVIDUALS, "metadata": {"edocument": {"iin": {"value": IIN}}, "extra": {"colour": 1}}}),
            vec!["unknown-key"],
        ),
        (json!({"api_key": EVERYONE, "metadata": {"edocument": {"iin": {"value": IIN}}}}), vec!["ignored-edocument"]),
        (json!({"api_key": EVERYONE, "mode": "fast"}), vec!["unknown-key"]),
    ];
    for (body, codes) in cases {
        let response = app.create(&body).await;
        assert_eq!(response.status(), StatusCode::OK, "{body}");
        assert_eq!(response.headers().get_all("x-mock-lint").iter().count(), codes.len(), "{body}");
        let entry = &journal(&app, "?limit=1").await[0];
        assert_eq!(lint_codes(entry), codes, "{body}");
    }
    let url = app.url(&format!("/api/v1/flows/session/create/?api_key={EVERYONE}"));
    app.client.post(url).json(&json!({"api_key": EVERYONE})).send().await.unwrap();
    assert_eq!(lint_codes(&journal(&app, "?limit=1").await[0]), ["api-key-in-query"], "a key in the query string");
}

#[tokio::test]
async fn face2face_metadata_in_a_flow_where_it_does_nothing_is_a_warning() {
    let key = "f2f-first-0123456789012345678901234567890123456789";
    let app = crate::helpers::spawn_with_flow("F2F first", key, &["F2F", "LDHP"]).await;
    let body = json!({"api_key": key, "metadata": {"face2face": {"photo1": photo_base64("face.png")}}});
    assert_eq!(app.create(&body).await.status(), StatusCode::OK, "the create is accepted with its warning");
    let entry = &journal(&app, "?limit=1").await[0];
    assert_eq!(lint_codes(entry), ["ignored-face2face"], "{entry}");
    assert_eq!(
        entry["lint_details"][0]["doc"], "3.1. Metadata for Face2Face",
        "the lint cites the vendor's section: {entry}"
    );
}

#[tokio::test]
async fn result_polling_before_the_end_and_too_often_is_a_warning() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.result(&sid, EVERYONE).await;
    assert_eq!(
        lint_codes(&journal(&app, "?limit=1").await[0]),
        ["result-before-finish"],
        "the first poll is before the end"
    );
    app.result(&sid, EVERYONE).await;
    assert_eq!(
        lint_codes(&journal(&app, "?limit=1").await[0]),
        ["polling-too-fast", "result-before-finish"],
        "a second poll at once is too fast"
    );
    app.complete(&sid, None).await;
    app.advance(1.05).await;
    app.result(&sid, EVERYONE).await;
    assert!(lint_codes(&journal(&app, "?limit=1").await[0]).is_empty(), "a finished session polled slowly is fine");
}

/// Issue 16: a client that treats only FINISHED as final polls a FAILED session until it gives
/// up. From the third poll of a final result on, the journal says why that is a mistake.
#[tokio::test]
async fn polling_a_session_that_has_been_final_for_a_while_is_a_warning() {
    let app = spawn_app().await;
    for (outcome, status) in [("failed", "FAILED"), ("passed", "FINISHED")] {
        let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
        app.complete(&sid, Some(json!({"outcomes": {"LDHP": outcome}}))).await;
        for poll in 1..=4 {
            app.advance(2.0).await;
            let (_, result) = app.result(&sid, EVERYONE).await;
            assert_eq!(result["status"], status, "poll {poll}");
            let entry = &journal(&app, "?limit=1").await[0];
            if poll <= 2 {
                assert!(lint_codes(entry).is_empty(), "{status}, poll {poll}: {entry}");
            } else {
                assert_eq!(lint_codes(entry), ["polled-after-final"], "{status}, poll {poll}");
                let message = entry["lint_details"][0]["message"].as_str().unwrap();
                assert!(message.contains(&format!("has been {status} for {} earlier polls", poll - 1)), "{message}");
                assert!(message.contains("a client that waits for FINISHED alone polls for ever"), "{message}");
                assert_eq!(
                    entry["lint_details"][0]["doc"], "5. Getting the result",
                    "the lint cites the vendor's section: {entry}"
                );
            }
        }
    }
}

/// The two warnings of a tight polling loop are kept as the numbers they are written from, not
/// as text (BENCHMARKS.md): the header a client reads and the journal's line say the same.
#[tokio::test]
async fn a_polling_loops_warnings_read_the_same_in_the_header_and_the_journal() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.complete(&sid, None).await;
    let mut header = Vec::new();
    for _ in 0..3 {
        let response = app.result_response(&sid, EVERYONE).await;
        assert_eq!(response.status(), StatusCode::OK);
        header = response.headers().get_all("x-mock-lint").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    }
    let entry = &journal(&app, "?limit=1").await[0];
    assert_eq!(lint_codes(entry), ["polled-after-final", "polling-too-fast"], "{entry}");
    let lines: Vec<String> = entry["lint"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned()).collect();
    assert_eq!(header, lines, "the header's lines are the journal's");
    assert!(
        lines[0].starts_with("polled-after-final: this session has been FINISHED for 2 earlier polls; "),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("polling-too-fast: this session's result was polled again after "), "{lines:?}");
    assert!(lines[1].ends_with(" ms; poll at most once a second (vendor docs: 5. Getting the result)"), "{lines:?}");
    for (line, detail) in lines.iter().zip(entry["lint_details"].as_array().unwrap()) {
        let message = detail["message"].as_str().unwrap();
        assert!(line.contains(message), "the structured message is the line's: {line} / {message}");
    }
}

/// Issue 16: a poll with another flow's key gets the vendor's plain 404, and the journal says
/// the session exists under another flow.
#[tokio::test]
async fn a_result_poll_with_another_flows_key_is_a_warning_that_names_the_owner() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let (status, body) = app.result(&sid, INDIVIDUALS).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})), "as the vendor answers");
    let entry = &journal(&app, "?limit=1").await[0];
    assert_eq!(lint_codes(entry), ["other-flow-key"], "{entry}");
    assert!(
        entry["lint_details"][0]["message"].as_str().unwrap().contains("belongs to flow \"Flow for everyone\""),
        "the owner is named: {entry}"
    );
    app.result("3fa85f64-5717-4562-b3fc-2c963f66afa6", INDIVIDUALS).await;
    assert!(lint_codes(&journal(&app, "?limit=1").await[0]).is_empty(), "an unknown session: nothing to hint");
}

/// Warnings quote what the request sent, and a request can earn hundreds of them (one per unknown
/// metadata key): the answer keeps to what every common client reads (hyper's and Python's stop
/// at 100 headers, Node's at 16 KiB of them), and the journal has every warning.
#[tokio::test]
async fn hundreds_of_warnings_or_a_huge_one_leave_the_answer_readable() {
    let app = spawn_app().await;
    let mut extra: serde_json::Map<String, Value> = (0..300).map(|i| (format!("own_id_{i}"), json!(i))).collect();
    extra.insert("K".repeat(30_000), json!(1));
    // Without the bounds the client itself refuses this answer (over 100 headers).
    let response = app.create(&json!({"api_key": EVERYONE, "metadata": {"extra": extra}})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let lines: Vec<String> =
        response.headers().get_all("x-mock-lint").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert_eq!(lines.len(), 8, "{lines:?}");
    assert!(
        lines[7].starts_with("more-warnings: 294 more warnings than the 7 above; the journal"),
        "the last says how many more: {}",
        lines[7]
    );
    let header_bytes: usize =
        response.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    assert!(header_bytes < 16 * 1024, "Node reads at most 16 KiB of headers: {header_bytes}");
    assert!(
        lines.iter().all(|line| line.len() < 1200),
        "each line is short: {:?}",
        lines.iter().map(String::len).collect::<Vec<_>>()
    );

    let entry = &journal(&app, "?limit=1").await[0];
    let kept = entry["lint_details"].as_array().unwrap();
    assert_eq!(kept.len(), 301, "the journal has every warning");
    let huge = kept.iter().map(|l| l["message"].as_str().unwrap()).find(|m| m.contains("KKKK")).unwrap();
    assert!(huge.ends_with("... (cut: 30038 bytes in all)"), "the huge one is cut, saying so: {}", &huge[980..]);
    assert!(huge.len() < 1100, "{}", huge.len());
}

/// Issue 16: every warning cites the section of the vendor's page that documents what it is
/// about (the trailing-slash warning once cited "2. Session Creation" for every path).
#[tokio::test]
async fn every_lint_cites_the_section_of_the_docs_it_is_about() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": IIN}}})).await;
    let result = format!("session_id={sid}&flow_api_key={EVERYONE}");
    let cases: Vec<(&str, String, Option<Value>, &str, &str)> = vec![
        (
            "POST",
            "/api/v1/flows/session/create".into(),
            Some(json!({"api_key": EVERYONE})),
            "trailing-slash",
            "2. Session Creation",
        ),
        ("GET", format!("/api/v1/flows/session/result?{result}"), None, "trailing-slash", "5. Getting the result"),
        (
            "GET",
            format!("/api/v1/liveness/video/download?{result}"),
            None,
            "trailing-slash",
            "6. Getting liveness video",
        ),
        (
            "POST",
            format!("/api/v1/flows/session/{sid}/report?technology=LDHP"),
            Some(json!({"api_key": EVERYONE})),
            "trailing-slash",
            "7. Getting PDF Report",
        ),
        (
            "POST",
            format!("/api/v1/flows/session/create/?api_key={EVERYONE}"),
            Some(json!({"api_key": EVERYONE})),
            "api-key-in-query",
            "2. Session Creation",
        ),
        (
            "POST",
            "/api/v1/flows/session/create/".into(),
            Some(json!({"api_key": EVERYONE, "x": 1})),
            "unknown-key",
            "2. Session Creation",
        ),
        (
            "POST",
            "/api/v1/flows/session/create/".into(),
            Some(json!({"api_key": EVERYONE, "metadata": {"x": 1}})),
            "unknown-key",
            "3. Session Metadata",
        ),
        (
            "POST",
            "/api/v1/flows/session/create/".into(),
            Some(json!({"api_key": EVERYONE, "metadata": {"edocument": {}}})),
            "ignored-edocument",
            "3.2. Metadata for E-Document",
        ),
        (
            "GET",
            format!("/api/v1/flows/session/result/?{result}"),
            None,
            "result-before-finish",
            "5. Getting the result",
        ),
        ("GET", format!("/flow/{sid}?locale=de"), None, "locale", "4. End user redirection"),
        ("GET", format!("/flow/{sid}?redirect=x"), None, "redirect", "4. End user redirection"),
        (
            "GET",
            format!("/flow/{sid}?redirect=http://x.example/"),
            None,
            "redirect-not-https",
            "4. End user redirection",
        ),
    ];
    for (method, path, body, code, section) in cases {
        let mut request = app.client.request(method.parse().unwrap(), app.url(&path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap();
        let entry = &journal(&app, "?limit=1").await[0];
        let lint = entry["lint_details"].as_array().unwrap().iter().find(|l| l["code"] == code);
        let lint = lint.unwrap_or_else(|| panic!("{method} {path}: {code} in {entry}"));
        assert_eq!(lint["doc"], section, "{method} {path}: {code}");
    }
}

#[tokio::test]
async fn page_parameters_and_missing_slashes_are_warnings() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    for (query, codes) in [
        ("?locale=de", vec!["locale"]),
        ("?redirect=http://integrator.example/back", vec!["redirect-not-https"]),
        ("?redirect=javascript:alert(1)", vec!["redirect"]),
        ("?redirect=https://integrator.example/back&locale=kz", vec![]),
    ] {
        let response = app.client.get(app.url(&format!("/flow/{sid}{query}"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{query}");
        assert_eq!(lint_codes(&journal(&app, "?limit=1").await[0]), codes, "{query}");
    }
    let (status, _) = app.get(&format!("/api/v1/flows/session/result?session_id={sid}&flow_api_key={EVERYONE}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "without the trailing slash the route is not found");
    let entry = &journal(&app, "?limit=1").await[0];
    assert_eq!(lint_codes(entry), ["trailing-slash"], "why it was refused");
    assert_eq!(entry["status"], 404, "the journal records the 404: {entry}");
}

#[tokio::test]
async fn strict_mode_refuses_what_would_only_be_warned_about() {
    let app = spawn_with(Config { strict: true, ..Config::default() }).await;
    // No Content-Type (curl without -H), and what Node's fetch sends for a string body.
    for content_type in [None, Some("text/plain;charset=UTF-8")] {
        let response = app.create_raw(json!({"api_key": EVERYONE}).to_string(), content_type).await;
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{content_type:?}");
        assert!(body["detail"].as_str().unwrap().starts_with("Refused by --strict: content-type: "), "{body}");
    }
    let (status, body) = read(app.create(&json!({"api_key": EVERYONE, "metadata": {"edocument": {}}})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, sessions) = app.get("/__admin/sessions").await;
    assert_eq!(sessions, json!([]), "a refused create makes no session");
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let (status, body) = app.result(&sid, EVERYONE).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "polling before the end is refused too: {body}");
    let (status, body) = app.get(&format!("/flow/{sid}?locale=de")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("locale"), "{body}");
}

#[tokio::test]
async fn a_repeated_session_id_is_read_as_its_last_value_by_the_answer_and_the_journal_alike() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let result = |query: String| format!("/api/v1/flows/session/result/?{query}");
    let (status, body) = app.get(&result(format!("session_id=nope&session_id={sid}&flow_api_key={EVERYONE}"))).await;
    assert_eq!(status, StatusCode::OK, "the last one is a session: {body}");
    let (status, body) = app.get(&result(format!("session_id={sid}&session_id=nope&flow_api_key={EVERYONE}"))).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"session_id": ["Must be a valid UUID."]})));
    let (status, body) = app.get(&result(format!("session_id={sid}&flow_api_key=%20"))).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"flow_api_key": ["This field is required."]})));
    let entries = journal(&app, "").await;
    let noted: Vec<(&Value, u64)> =
        entries[..3].iter().map(|e| (&e["session_id"], e["status"].as_u64().unwrap())).collect();
    assert_eq!(
        noted,
        [(&json!(sid), 400), (&Value::Null, 400), (&json!(sid), 200)],
        "the journal notes the session the answer read, and none where it read none"
    );
    // White space around an id is allowed; a key of nothing but white space (Unicode's too) is blank.
    let (status, body) = app.get(&result(format!("session_id=%20{sid}%0A&flow_api_key={EVERYONE}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(journal(&app, "").await[0]["session_id"], json!(sid), "and the journal reads it so too");
    let (status, body) = app.get(&result(format!("session_id={sid}&flow_api_key=%E2%80%83%09"))).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"flow_api_key": ["This field is required."]})));
}
