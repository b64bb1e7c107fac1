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
        assert!(entry["at"].as_str().unwrap().ends_with('Z'));
        assert!(entry["id"].as_u64().unwrap() > 0);
    }
    assert_eq!(entries[1]["api_key"], EVERYONE);
    assert_eq!(entries[1]["query"], format!("session_id={sid}&flow_api_key={EVERYONE}"));
    assert_eq!(entries[2]["api_key"], EVERYONE, "the create body's key");
}

#[tokio::test]
async fn the_journal_filters_by_path_session_key_and_limit_and_can_be_cleared() {
    let app = spawn_app().await;
    let a = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let b = app.create_ok(&json!({"api_key": INDIVIDUALS})).await;
    app.result(&a, EVERYONE).await;
    app.result(&b, INDIVIDUALS).await;
    assert_eq!(journal(&app, "?path=result").await.len(), 2);
    assert_eq!(journal(&app, &format!("?session_id={b}")).await.len(), 2);
    assert_eq!(journal(&app, &format!("?api_key={INDIVIDUALS}")).await.len(), 2);
    let one = journal(&app, "?limit=1").await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["session_id"], json!(b), "the newest");
    assert_eq!(app.get("/__admin/requests?session_id=nope").await.0, StatusCode::BAD_REQUEST);
    let response = app.client.delete(app.url("/__admin/requests")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(journal(&app, "").await.is_empty());
}

#[tokio::test]
async fn the_journal_is_bounded_by_its_limit() {
    let app = spawn_with(Config { journal_limit: 5, ..Config::default() }).await;
    for _ in 0..12 {
        app.create_ok(&json!({"api_key": EVERYONE})).await;
    }
    let entries = journal(&app, "").await;
    assert_eq!(entries.len(), 5, "the oldest are dropped");
    assert!(entries[0]["id"].as_u64() > entries[4]["id"].as_u64());
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
    assert_eq!(lint_codes(&journal(&app, "?limit=1").await[0]), ["api-key-in-query"]);
}

#[tokio::test]
async fn face2face_metadata_in_a_flow_where_it_does_nothing_is_a_warning() {
    let key = "f2f-first-0123456789012345678901234567890123456789";
    let app = crate::helpers::spawn_with_flow("F2F first", key, &["F2F", "LDHP"]).await;
    let body = json!({"api_key": key, "metadata": {"face2face": {"photo1": photo_base64("face.png")}}});
    assert_eq!(app.create(&body).await.status(), StatusCode::OK);
    let entry = &journal(&app, "?limit=1").await[0];
    assert_eq!(lint_codes(entry), ["ignored-face2face"]);
    assert_eq!(entry["lint_details"][0]["doc"], "3.1. Metadata for Face2Face");
}

#[tokio::test]
async fn result_polling_before_the_end_and_too_often_is_a_warning() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.result(&sid, EVERYONE).await;
    assert_eq!(lint_codes(&journal(&app, "?limit=1").await[0]), ["result-before-finish"]);
    app.result(&sid, EVERYONE).await;
    assert_eq!(lint_codes(&journal(&app, "?limit=1").await[0]), ["polling-too-fast", "result-before-finish"]);
    app.complete(&sid, None).await;
    tokio::time::sleep(std::time::Duration::from_millis(1050)).await;
    app.result(&sid, EVERYONE).await;
    assert!(lint_codes(&journal(&app, "?limit=1").await[0]).is_empty(), "a finished session polled slowly is fine");
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
    assert_eq!(status, StatusCode::NOT_FOUND);
    let entry = &journal(&app, "?limit=1").await[0];
    assert_eq!(lint_codes(entry), ["trailing-slash"], "why it was refused");
    assert_eq!(entry["status"], 404);
}

#[tokio::test]
async fn strict_mode_refuses_what_would_only_be_warned_about() {
    let app = spawn_with(Config { strict: true, ..Config::default() }).await;
    let response = app.create_raw(json!({"api_key": EVERYONE}).to_string(), None).await;
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().starts_with("Refused by --strict: content-type: "), "{body}");
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
