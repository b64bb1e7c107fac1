//! Issue 31: without `--admin-token` (the default), no web page the developer visits can drive the
//! mock: cross-site requests and DNS-rebound ones are refused, while curl, test code and
//! containers go on as before.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, read, spawn_app, spawn_with};
use biometric_kz_mock::Config;

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (StatusCode, String) {
    let mut request = app.client.request(method.parse().unwrap(), app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_cross_site_page_cannot_drive_the_admin_api_or_the_dashboard() {
    let app = spawn_app().await;
    let flow = r#"{"name": "Evil", "technologies": ["LDHP"], "webhook_url": "https://evil.example/hook"}"#;
    // What a page on another site can send without asking: text/plain, its own Origin.
    let (status, body) = send(&app, "POST", "/__admin/flows", &[("content-type", "text/plain")], Some(flow)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("application/json") && body.contains("text/plain"), "says why: {body}");
    let evil = [("origin", "https://evil.example"), ("content-type", "application/json")];
    for (method, path) in [("POST", "/__admin/reset"), ("POST", "/__admin/flows"), ("GET", "/__admin/flows")] {
        let (status, body) = send(&app, method, path, &evil, (method == "POST").then_some(flow)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        assert!(body.contains("https://evil.example") && body.contains("Origin"), "{body}");
    }
    let key = app.get("/__admin/flows").await.1[0]["api_key"].as_str().unwrap().to_owned();
    let (status, body) = send(&app, "POST", &format!("/dashboard/flows/{key}/delete"), &evil[..1], None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the dashboard's delete form: {body}");
    let origin = app.base.clone();
    let (status, body) =
        send(&app, "POST", &format!("/dashboard/flows/{key}/delete"), &[("origin", &origin)], None).await;
    assert_eq!(status, StatusCode::OK, "the dashboard's own page (303, followed, to the dashboard): {body}");
    // curl and test code send no Origin and JSON (or nothing).
    let created =
        app.client.post(app.url("/__admin/flows")).json(&serde_json::from_str::<serde_json::Value>(flow).unwrap());
    assert_eq!(created.send().await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(send(&app, "POST", "/__admin/reset", &[], None).await.0, StatusCode::NO_CONTENT);
    // The vendor's API stays open, as the vendor's is.
    let (status, _) = send(&app, "GET", "/api/v1/flows/session/result/", &evil[..1], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a vendor route answers a page too");
}

#[tokio::test]
async fn a_dns_rebinding_page_cannot_read_the_admin_api() {
    let app = spawn_with(Config { allowed_hosts: vec!["mock.internal".into()], ..Config::default() }).await;
    for host in ["evil.example", "evil.example:8080", "localhost.evil.example.", "attacker.com"] {
        let (status, body) = send(&app, "GET", "/__admin/flows", &[("host", host)], None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{host}: {body}");
        assert!(body.contains("--allowed-host"), "says how to allow it: {body}");
        let (status, _) = send(&app, "GET", "/", &[("host", host)], None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "the dashboard too: {host}");
    }
    let hosts = [
        "127.0.0.1:8080",
        "localhost",
        "localhost:8080",
        "bkz-mock:8080",
        "[::1]:8080",
        "192.168.1.5",
        "kyc.biometric.kz",
        "remote.biometric.kz.",
        "mock.internal:9000",
    ];
    for host in hosts {
        let (status, body) = send(&app, "GET", "/__admin/flows", &[("host", host)], None).await;
        assert_eq!(status, StatusCode::OK, "{host}: {body}");
    }
    let (status, _) = send(&app, "GET", "/__admin/health", &[("host", "evil.example")], None).await;
    assert_eq!(status, StatusCode::OK, "health checks stay open");
}

#[tokio::test]
async fn a_flow_cannot_send_its_webhooks_to_the_mocks_own_admin_api() {
    let app = spawn_app().await;
    let own = format!("{}/__admin/reset", app.base);
    for url in [own.as_str(), "http://localhost:8080/__admin/flows", "http://bkz-mock/__admin/reset"] {
        let body = json!({"name": "Loop", "technologies": ["LDHP"], "webhook_url": url});
        let (status, answer) = read(app.client.post(app.url("/__admin/flows")).json(&body).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {answer}");
        assert!(answer["webhook_urls"][0].as_str().unwrap().contains("/__admin"), "{answer}");
    }
    let body = json!({"name": "Fine", "technologies": ["LDHP"], "webhook_url": "http://localhost:9000/hooks/__admin"});
    let (status, answer) = read(app.client.post(app.url("/__admin/flows")).json(&body).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "a receiver's own path may say __admin: {answer}");
}

#[tokio::test]
async fn the_token_stays_out_of_the_dashboards_links_and_any_bearer_case_is_taken() {
    let app = spawn_with(Config { admin_token: Some("s3cret;token".into()), ..Config::default() }).await;
    let response = app.client.get(app.url("/?token=s3cret%3Btoken")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let html = response.text().await.unwrap();
    assert!(!html.contains("token="), "no link or form carries the token");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let key = app.get("/__admin/flows").await;
    assert_eq!(key.0, StatusCode::UNAUTHORIZED, "the API still needs the token");
    let flows = app.client.get(app.url("/__admin/flows")).header("cookie", &pair).send().await.unwrap();
    assert_eq!(flows.status(), StatusCode::OK, "the dashboard's cookie opens its links");
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response =
            app.client.get(app.url("/__admin/flows")).header("authorization", format!("{scheme} s3cret;token")).send();
        assert_eq!(response.await.unwrap().status(), StatusCode::OK, "{scheme}");
    }
    let page = app.client.get(app.url("/flow/not-a-session")).send().await.unwrap();
    assert_eq!(page.headers()["referrer-policy"], "no-referrer", "the end-user page too");
}
