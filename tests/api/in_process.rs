//! The in-process handle, `MockServer`, as a Rust team's test uses it.

use serde_json::json;

use biometric_kz_mock::{Complete, CompleteError, MockServer};

use crate::helpers::{EVERYONE, scratch_dir};

async fn create(mock: &MockServer, key: &str) -> String {
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/flows/session/create/", mock.api_url()))
        .json(&json!({"api_key": key}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["session_id"].as_str().unwrap().to_owned()
}

async fn result(mock: &MockServer, sid: &str, key: &str) -> serde_json::Value {
    reqwest::get(format!("{}/api/v1/flows/session/result/?session_id={sid}&flow_api_key={key}", mock.api_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn each_test_gets_its_own_server_on_a_free_port() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    assert_ne!(a.uri(), b.uri());
    assert!(a.uri().starts_with("http://127.0.0.1:"));
    assert_eq!(a.api_url(), a.uri());
    let sid = create(&a, EVERYONE).await;
    assert_eq!(a.page_url(&sid), format!("{}/flow/{sid}", a.uri()));
    assert_eq!(a.received_requests().len(), 1);
    assert!(b.received_requests().is_empty(), "isolated");
    assert_eq!(a.flows().len(), 3);
}

#[tokio::test]
async fn complete_session_plays_as_scripted_or_as_told() {
    let mock = MockServer::start().await;
    let passing = create(&mock, EVERYONE).await;
    mock.complete_session(&passing, Complete::as_scripted()).unwrap();
    assert_eq!(result(&mock, &passing, EVERYONE).await["status"], "FINISHED");

    let failing = create(&mock, EVERYONE).await;
    mock.complete_session(&failing, Complete::scenario("liveness-eyes-closed")).unwrap();
    let r = result(&mock, &failing, EVERYONE).await;
    assert_eq!(r["liveness_result"]["failure_reason"]["type"], "EYES_CLOSED");

    let told = create(&mock, EVERYONE).await;
    mock.complete_session(&told, Complete::as_scripted().pass("liveness").fail("F2F")).unwrap();
    let reasons = result(&mock, &told, EVERYONE).await["flow_session_failure_reasons"].clone();
    assert!(reasons[0].as_str().is_some_and(|r| r.starts_with("F2F: ")), "{reasons}");

    assert!(
        matches!(mock.complete_session(&told, Complete::as_scripted()), Err(CompleteError::Session(_))),
        "one-time"
    );
    let other = create(&mock, EVERYONE).await;
    assert!(matches!(
        mock.complete_session(&other, Complete::as_scripted().fail("DR")),
        Err(CompleteError::UnknownTechnology(_))
    ));
    assert!(matches!(mock.complete_session("nope", Complete::as_scripted()), Err(CompleteError::BadId(_))));
}

#[tokio::test]
async fn reset_and_the_builder() {
    let dir = scratch_dir("handle");
    std::fs::write(
        dir.join("mine.json"),
        json!({"name": "mine", "technologies": {"F2F": {"outcome": "failed"}}}).to_string(),
    )
    .unwrap();
    let mock = MockServer::builder().scenarios_dir(&dir).scenario("mine").seed(5).start().await.unwrap();
    let sid = create(&mock, EVERYONE).await;
    mock.complete_session(&sid, Complete::as_scripted()).unwrap();
    assert_eq!(result(&mock, &sid, EVERYONE).await["status"], "FAILED", "the builder's default scenario");
    mock.reset();
    assert!(mock.received_requests().is_empty());
    let again = MockServer::builder().seed(5).start().await.unwrap();
    let first = MockServer::builder().seed(5).start().await.unwrap();
    assert_eq!(create(&again, EVERYONE).await, create(&first, EVERYONE).await, "the same seed, the same ids");
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let mock = MockServer::start().await;
    let url = format!("{}/__admin/health", mock.uri());
    assert!(reqwest::get(&url).await.unwrap().status().is_success());
    drop(mock);
    for _ in 0..50 {
        if reqwest::get(&url).await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the server still answers after its handle was dropped");
}
