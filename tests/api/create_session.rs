//! `POST /api/v1/flows/session/create/`: the request shapes of the vendor's docs and the
//! errors of everything else.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, INDIVIDUALS, LEGAL, read, spawn_app, spawn_with};

fn assert_session_created(json: &Value, technologies: &[&str]) {
    let id = json["session_id"].as_str().expect("session_id is a string");
    let uuid = uuid::Uuid::parse_str(id).expect("session_id is a UUID");
    assert_eq!(uuid.get_version_num(), 4, "session_id is a UUID v4: {id}");
    assert_eq!(json["technologies"], json!(technologies), "technologies in the flow's order");
    assert_eq!(json.as_object().unwrap().len(), 2, "exactly session_id and technologies: {json}");
}

#[tokio::test]
async fn each_built_in_flow_creates_a_session_with_its_technologies() {
    let app = spawn_app().await;
    for (key, technologies) in [
        (EVERYONE, &["LDHP", "F2F"][..]),
        (INDIVIDUALS, &["LDHP", "ED", "F2F"][..]),
        (LEGAL, &["LDHP", "DR", "F2F"][..]),
    ] {
        let (status, json) = read(app.create(&json!({"api_key": key})).await).await;
        assert_eq!(status, StatusCode::OK, "{key}: {json}");
        assert_session_created(&json, technologies);
    }
}

#[tokio::test]
async fn the_docs_curl_example_body_is_accepted() {
    let app = spawn_app().await;
    // The body of the docs' curl example, byte for byte but the key.
    let body = "{\n\"api_key\": \"KEY\"\n}".replace("KEY", EVERYONE);
    let (status, json) = read(app.create_raw(body, Some("application/json")).await).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_session_created(&json, &["LDHP", "F2F"]);
}

#[tokio::test]
async fn the_docs_fetch_example_without_content_type_is_accepted() {
    let app = spawn_app().await;
    // `fetch(url, {method: 'POST', body: JSON.stringify({api_key})})` sends text/plain.
    let body = format!("{{\"api_key\":\"{EVERYONE}\"}}");
    for content_type in [None, Some("text/plain;charset=UTF-8"), Some("application/x-www-form-urlencoded")] {
        let (status, json) = read(app.create_raw(body.clone(), content_type).await).await;
        assert_eq!(status, StatusCode::OK, "Content-Type {content_type:?}: {json}");
        assert_session_created(&json, &["LDHP", "F2F"]);
    }
}

#[tokio::test]
async fn api_key_errors_use_drf_wordings() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), json!({"api_key": ["This field is required."]})),
        (json!({"api_key": null}), json!({"api_key": ["This field may not be null."]})),
        (json!({"api_key": ""}), json!({"api_key": ["This field may not be blank."]})),
        (json!({"api_key": "   "}), json!({"api_key": ["This field may not be blank."]})),
        (json!({"api_key": true}), json!({"api_key": ["Not a valid string."]})),
        (json!({"api_key": [EVERYONE]}), json!({"api_key": ["Not a valid string."]})),
        (json!({"api_key": {"key": EVERYONE}}), json!({"api_key": ["Not a valid string."]})),
    ];
    for (body, expected) in cases {
        let (status, json) = read(app.create(&body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(json, expected, "{body}");
    }
}

#[tokio::test]
async fn an_unknown_api_key_is_forbidden_with_a_detail() {
    let app = spawn_app().await;
    for key in [json!("no-such-key"), json!(12345), json!(EVERYONE.to_lowercase())] {
        let (status, json) = read(app.create(&json!({"api_key": key})).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{key}");
        let detail = json["detail"].as_str().expect("a detail");
        assert!(detail.contains("api_key"), "the detail names the field: {detail}");
    }
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_refused_in_drf_words() {
    let app = spawn_app().await;
    // A known key in an array too: it is still a list, not the body the vendor documents.
    let key_in_a_list = format!("[\"{EVERYONE}\"]");
    for (body, got) in [
        ("[]", "list"),
        (key_in_a_list.as_str(), "list"),
        ("\"x\"", "str"),
        ("42", "int"),
        ("4.5", "float"),
        ("true", "bool"),
        ("null", "NoneType"),
    ] {
        let (status, json) = read(app.create_raw(body.to_owned(), Some("application/json")).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            json,
            json!({"non_field_errors": [format!("Invalid data. Expected a dictionary, but got {got}.")]}),
            "{body}"
        );
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_parse_error() {
    let app = spawn_app().await;
    for body in ["{", "{bad", "{\"api_key\": }", "{'api_key': 'x'}", "{\"a\":1,}", "\u{feff}{}", "nul"] {
        let (status, json) = read(app.create_raw(body, Some("application/json")).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
        let detail = json["detail"].as_str().unwrap_or_default();
        assert!(detail.starts_with("JSON parse error - "), "{body:?}: {json}");
    }
}

/// Issue 16: `curl -d "api_key=..."` (as a public Android client tried) sends a form-encoded
/// body; the parse error says plainly that the body must be JSON and that this one is not.
#[tokio::test]
async fn a_form_encoded_body_is_told_it_must_be_json() {
    let app = spawn_app().await;
    for (body, content_type) in [
        (format!("api_key={EVERYONE}"), Some("application/x-www-form-urlencoded")),
        (format!("api_key={EVERYONE}&metadata=x"), None),
    ] {
        let (status, json) = read(app.create_raw(body.clone(), content_type).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let detail = json["detail"].as_str().unwrap();
        assert!(detail.starts_with("JSON parse error - the body must be JSON"), "{detail}");
        assert!(detail.contains("looks form-encoded"), "{detail}");
    }
    let (_, json) = read(app.create_raw("{bad", None).await).await;
    assert!(!json["detail"].as_str().unwrap().contains("form-encoded"), "broken JSON is not called a form: {json}");
}

#[tokio::test]
async fn an_empty_body_reads_as_an_empty_object() {
    let app = spawn_app().await;
    for body in ["", "  \n"] {
        let (status, json) = read(app.create_raw(body, None).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(json, json!({"api_key": ["This field is required."]}));
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_with_a_detail() {
    let app = spawn_with(biometric_kz_mock::Config { max_body: 1024, ..Default::default() }).await;
    let body = json!({"api_key": EVERYONE, "metadata": {"pad": "x".repeat(2000)}});
    let (status, json) = read(app.create(&body).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{json}");
    assert!(json["detail"].as_str().unwrap().contains("1024 bytes"), "{json}");
    // Just under the limit still works.
    let body = json!({"api_key": EVERYONE, "metadata": {"pad": "x".repeat(800)}});
    assert_eq!(app.create(&body).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_default_limit_takes_a_large_photo_and_refuses_over_16_mib() {
    let app = spawn_app().await;
    let big = "A".repeat(17 * 1024 * 1024);
    let (status, json) =
        read(app.create_raw(format!("{{\"api_key\":\"{EVERYONE}\",\"x\":\"{big}\"}}"), None).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{json}");
}

#[tokio::test]
async fn other_methods_get_a_405_in_drf_words_with_allow() {
    let app = spawn_app().await;
    for method in [reqwest::Method::GET, reqwest::Method::PUT, reqwest::Method::DELETE, reqwest::Method::PATCH] {
        let response =
            app.client.request(method.clone(), app.url("/api/v1/flows/session/create/")).send().await.unwrap();
        assert_eq!(response.headers()["allow"], "POST", "{method}");
        let (status, json) = read(response).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(json, json!({"detail": format!("Method \"{method}\" not allowed.")}));
    }
    let (status, json) = read(app.client.post(app.url("/api/v1/flows/session/result/")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json, json!({"detail": "Method \"POST\" not allowed."}));
}

#[tokio::test]
async fn unknown_paths_are_json_404s() {
    let app = spawn_app().await;
    for path in ["/nothing", "/api/v1/", "/api/v1/flows/session/nothing/", "/flow"] {
        let (status, json) = app.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(json, json!({"detail": "Not found."}), "{path}");
    }
}

#[tokio::test]
async fn a_vendor_path_without_its_trailing_slash_is_a_404_naming_the_right_path() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/flows/session/create"))
        .json(&json!({"api_key": EVERYONE}))
        .send()
        .await
        .unwrap();
    let (status, json) = read(response).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(json["detail"].as_str().unwrap().contains("/api/v1/flows/session/create/"), "{json}");
    let (status, json) = app.get("/api/v1/flows/session/result?session_id=x&flow_api_key=y").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(json["detail"].as_str().unwrap().contains("/api/v1/flows/session/result/"), "{json}");
}

#[tokio::test]
async fn unknown_top_level_keys_are_ignored() {
    let app = spawn_app().await;
    let (status, json) = read(app.create(&json!({"api_key": EVERYONE, "flow": "x", "locale": "ru"})).await).await;
    assert_eq!(status, StatusCode::OK, "{json}");
}
