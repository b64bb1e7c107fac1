//! The E-Document result's files \[doc\]: `document_pdf` and `document_image` in the result, a
//! scenario that leaves them out, and `POST /api/v1/e-document/generate-files/` that makes them.

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, INDIVIDUALS, TestApp, read, spawn_app, tool};

/// The magic IIN of the shipped `edocument-files-missing` scenario.
const FILES_MISSING_IIN: &str = "900101390101";

async fn generate(app: &TestApp, body: Value) -> (StatusCode, Value) {
    read(app.client.post(app.url("/api/v1/e-document/generate-files/")).json(&body).send().await.unwrap()).await
}

async fn finished_individual(app: &TestApp, metadata: Value) -> String {
    let sid = app.create_ok(&json!({"api_key": INDIVIDUALS, "metadata": metadata})).await;
    let (status, _) = app.complete(&sid, None).await;
    assert_eq!(status, StatusCode::OK);
    sid
}

fn decoded(result: &Value, key: &str) -> Vec<u8> {
    let text = result["edocument_result"][key].as_str().unwrap_or_else(|| panic!("{key} is a string: {result}"));
    base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_else(|e| panic!("{key} is base64: {e}"))
}

#[tokio::test]
#[ignore = "needs poppler-utils"]
async fn a_passed_edocument_result_carries_a_readable_pdf_and_a_png_of_the_document() {
    let app = spawn_app().await;
    let sid = finished_individual(&app, json!({})).await;
    let (_, result) = app.result(&sid, INDIVIDUALS).await;
    let pdf = decoded(&result, "document_pdf");
    let image = decoded(&result, "document_image");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    assert!(image.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let pdftotext = tool("BKZ_MOCK_PDFTOTEXT", &["pdftotext"], "poppler-utils");
    let file = crate::helpers::scratch_dir("edocument").join("document.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let out = std::process::Command::new(pdftotext).arg(&file).arg("-").output().expect("pdftotext runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let owner = &result["edocument_result"]["result_json"]["common"];
    for expected in [owner["docOwner"]["iin"].as_str().unwrap(), owner["docNumber"].as_str().unwrap(), "TEST DOCUMENT"]
    {
        assert!(text.contains(expected), "the PDF reads back {expected}: {text}");
    }
}

#[tokio::test]
async fn a_scenario_leaves_the_files_out_and_generate_files_makes_them_once() {
    let app = spawn_app().await;
    let sid = finished_individual(&app, json!({"extra": {"iin": FILES_MISSING_IIN}})).await;
    let (_, before) = app.result(&sid, INDIVIDUALS).await;
    assert_eq!(before["status"], "FINISHED", "{before}");
    assert_eq!(
        (&before["edocument_result"]["document_pdf"], &before["edocument_result"]["document_image"]),
        (&Value::Null, &Value::Null),
        "the scenario left them out: {before}"
    );
    let (status, made) = generate(&app, json!({"session_id": sid, "api_key": INDIVIDUALS})).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert_eq!(made["generated"], json!(["document_pdf", "document_image"]), "{made}");
    // The final answer the result endpoint kept is answered afresh.
    let (_, after) = app.result(&sid, INDIVIDUALS).await;
    assert!(decoded(&after, "document_pdf").starts_with(b"%PDF-") && !decoded(&after, "document_image").is_empty());
    assert_eq!(
        after["edocument_result"]["result_json"], before["edocument_result"]["result_json"],
        "nothing else moved"
    );

    let (status, again) = generate(&app, json!({"session_id": sid, "api_key": INDIVIDUALS})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    assert!(again["detail"].as_str().unwrap().contains("already been generated"), "{again}");
}

#[tokio::test]
async fn generate_files_refuses_what_it_cannot_do_each_with_its_reason() {
    let app = spawn_app().await;
    let finished = finished_individual(&app, json!({})).await;
    let open = app.create_ok(&json!({"api_key": INDIVIDUALS})).await;
    let no_edocument = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.complete(&no_edocument, None).await;
    let failed = finished_individual(&app, json!({"extra": {"iin": "900101390052"}})).await; // edocument-wrong-otp
    let unknown = "3f2c1e0a-0000-4000-8000-000000000000";
    let cases = [
        (
            json!({}),
            StatusCode::BAD_REQUEST,
            json!({"session_id": ["This field is required."], "api_key": ["This field is required."]}),
        ),
        (
            json!({"session_id": null, "api_key": 7}),
            StatusCode::BAD_REQUEST,
            json!({"session_id": ["This field may not be null."], "api_key": ["Not a valid string."]}),
        ),
        (
            json!({"session_id": "x", "api_key": INDIVIDUALS}),
            StatusCode::BAD_REQUEST,
            json!({"session_id": ["Must be a valid UUID."]}),
        ),
        (json!({"session_id": finished, "api_key": "nobody-has-this-key"}), StatusCode::FORBIDDEN, Value::Null),
        (
            json!({"session_id": unknown, "api_key": INDIVIDUALS}),
            StatusCode::NOT_FOUND,
            json!({"detail": "Not found."}),
        ),
        (json!({"session_id": finished, "api_key": EVERYONE}), StatusCode::NOT_FOUND, json!({"detail": "Not found."})),
        (
            json!({"session_id": finished, "api_key": INDIVIDUALS}),
            StatusCode::BAD_REQUEST,
            json!("already been generated"),
        ),
        (
            json!({"session_id": no_edocument, "api_key": EVERYONE}),
            StatusCode::BAD_REQUEST,
            json!("no E-Document technology"),
        ),
        (json!({"session_id": open, "api_key": INDIVIDUALS}), StatusCode::BAD_REQUEST, json!("is pending, not passed")),
        (
            json!({"session_id": failed, "api_key": INDIVIDUALS}),
            StatusCode::BAD_REQUEST,
            json!("is failed, not passed"),
        ),
    ];
    for (body, status, expected) in cases {
        let (got, answer) = generate(&app, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        match &expected {
            Value::String(words) => {
                assert!(answer["detail"].as_str().unwrap().contains(words.as_str()), "{body}: {answer}");
            }
            Value::Null => assert!(answer["detail"].is_string(), "{body}: {answer}"),
            _ => assert_eq!(answer, expected, "{body}"),
        }
    }
    let (_, result) = app.result(&failed, INDIVIDUALS).await;
    assert!(result["edocument_result"]["document_pdf"].is_null(), "a failed E-Document has no document: {result}");
    let response = app.client.post(app.url("/api/v1/e-document/generate-files")).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "the path without its slash names the right one");
}

#[tokio::test]
async fn generate_files_takes_the_organisations_backend_key_as_the_docs_say() {
    let app = spawn_app().await;
    let sid = finished_individual(&app, json!({"extra": {"iin": FILES_MISSING_IIN}})).await;
    let org = "mock-backend-api-key-every-subscription-0000000000";
    let (status, made) = generate(&app, json!({"session_id": sid, "api_key": org})).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let body = json!({"name": "No E-Document", "technologies": ["liveness"]});
    let (_, key) = read(app.client.post(app.url("/__admin/backend-keys")).json(&body).send().await.unwrap()).await;
    let (status, refused) = generate(&app, json!({"session_id": sid, "api_key": key["api_key"]})).await;
    assert_eq!(
        (status, refused),
        (StatusCode::BAD_REQUEST, json!({"detail": "Client does not have access to E-Document technology"}))
    );
}
