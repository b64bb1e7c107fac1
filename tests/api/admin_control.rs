//! The admin API's controls: flows at run time, reset, fault rules, the admin token, the
//! dashboard.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, TestApp, read, spawn_app, spawn_with};
use biometric_kz_mock::Config;

async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    read(app.client.post(app.url(path)).json(&body).send().await.unwrap()).await
}

#[tokio::test]
async fn flows_are_created_listed_and_deleted_at_run_time() {
    let app = spawn_app().await;
    let (status, flow) = post(
        &app,
        "/__admin/flows",
        json!({"name": "Mine", "technologies": ["LD", "F2F"], "scenario": "face-mismatch"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{flow}");
    let key = flow["api_key"].as_str().unwrap().to_owned();
    assert!(key.len() >= 47 && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{key}");
    assert_eq!(
        flow,
        json!({"name": "Mine", "api_key": key, "technologies": ["LDHP", "F2F"], "scenario": "face-mismatch", "webhook_url": null, "webhook_urls": []})
    );
    let (_, flows) = app.get("/__admin/flows").await;
    assert_eq!(flows.as_array().unwrap().len(), 4);
    let sid = app.create_ok(&json!({"api_key": key})).await;
    let (_, view) = app.get(&format!("/__admin/sessions/{sid}")).await;
    assert_eq!((view["scenario"].as_str(), view["scenario_source"].as_str()), (Some("face-mismatch"), Some("flow")));

    let (status, _) =
        post(&app, "/__admin/flows", json!({"name": "Again", "technologies": ["F2F"], "api_key": key})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "keys are unique");
    for (body, field) in [
        (json!({"name": "X", "technologies": ["FACE"]}), "technologies"),
        (json!({"name": "X", "technologies": []}), "technologies"),
        (json!({"name": "", "technologies": ["F2F"]}), "name"),
        // A name is quoted in webhooks, warnings and the dashboard: 200 characters at most.
        (json!({"name": "N".repeat(201), "technologies": ["F2F"]}), "name"),
        (json!({"name": "X", "technologies": ["F2F"], "api_key": "short"}), "api_key"),
        (json!({"name": "X", "technologies": ["F2F"], "scenario": "nope"}), "scenario"),
        (json!({"name": "X", "technologies": ["F2F"], "webhook_url": "ftp://x"}), "webhook_url"),
        // An unknown key, and a wrong type, are told against their own name.
        (json!({"name": "X", "technologies": ["F2F"], "colour": 1}), "colour"),
        (json!({"name": "X", "technologies": "F2F"}), "technologies"),
        (json!([1]), "non_field_errors"),
        (json!(["X", null, ["F2F"]]), "non_field_errors"),
    ] {
        let (status, errors) = post(&app, "/__admin/flows", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(errors[field].is_array(), "{body}: {errors}");
    }

    let response = app.client.delete(app.url(&format!("/__admin/flows/{key}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app.client.delete(app.url(&format!("/__admin/flows/{key}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(read(app.create(&json!({"api_key": key})).await).await.0, StatusCode::FORBIDDEN, "the key is gone");
    assert_eq!(app.get(&format!("/__admin/sessions/{sid}")).await.0, StatusCode::OK, "its sessions stay");
    assert_eq!(app.result(&sid, &key).await.0, StatusCode::NOT_FOUND, "no key reaches a deleted flow's sessions");

    // The same key again is another flow: the first one's sessions stay out of its reach.
    let (status, _) =
        post(&app, "/__admin/flows", json!({"name": "Reborn", "technologies": ["F2F"], "api_key": key})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app.result(&sid, &key).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})), "the old session is not its");
    let report = app.client.post(app.url(&format!("/api/v1/flows/session/{sid}/report/?technology=LDHP")));
    let status = report.json(&json!({"api_key": key})).send().await.unwrap().status();
    assert_eq!(status, StatusCode::NOT_FOUND, "nor its report");
    let new = app.create_ok(&json!({"api_key": key})).await;
    assert_eq!(app.result(&new, &key).await.0, StatusCode::OK, "its own sessions are");
}

#[tokio::test]
async fn reset_clears_sessions_journal_and_faults_and_restores_the_flows() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    post(&app, "/__admin/flows", json!({"name": "Extra", "technologies": ["F2F"]})).await;
    post(&app, "/__admin/faults", json!({"endpoint": "result", "status": 502, "times": 5})).await;
    let response = app.client.post(app.url("/__admin/reset")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/__admin/sessions").await.1, json!([]));
    assert_eq!(app.get("/__admin/requests").await.1, json!([]));
    assert_eq!(app.get("/__admin/faults").await.1, json!([]));
    assert_eq!(app.get("/__admin/flows").await.1.as_array().unwrap().len(), 3);
    assert_eq!(app.get(&format!("/__admin/sessions/{sid}")).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_fault_rules_hit_any_session_for_the_next_n_calls() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let (status, fault) = post(&app, "/__admin/faults", json!({"endpoint": "result", "status": 502, "times": 2})).await;
    assert_eq!(status, StatusCode::CREATED, "{fault}");
    assert_eq!(app.result(&sid, EVERYONE).await, (StatusCode::BAD_GATEWAY, json!({"detail": "Bad gateway."})));
    assert_eq!(app.result(&sid, EVERYONE).await.0, StatusCode::BAD_GATEWAY);
    assert_eq!(app.result(&sid, EVERYONE).await.0, StatusCode::OK);
    assert_eq!(app.get("/__admin/faults").await.1[0]["calls"], 2);
    // A rule sent as a list, its fields by position, is refused like any list body.
    let (status, refusal) = post(&app, "/__admin/faults", json!(["create", 503, null, null, null, null])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refusal}");
    assert_eq!(refusal, json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}));
    post(&app, "/__admin/faults", json!({"endpoint": "create", "status": 503})).await;
    assert_eq!(read(app.create(&json!({"api_key": EVERYONE})).await).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(read(app.create(&json!({"api_key": EVERYONE})).await).await.0, StatusCode::OK, "times defaults to 1");
    // A delay alone: the create waits, then makes its session, created when the delay is over
    // (here a virtual day later: the clock is moved on while the create waits).
    let (status, fault) = post(&app, "/__admin/faults", json!({"endpoint": "create", "delay_ms": 300})).await;
    assert_eq!(status, StatusCode::CREATED, "{fault}");
    let before = app.get(&format!("/__admin/sessions/{sid}")).await.1["created_at"].as_str().unwrap().to_owned();
    let start = std::time::Instant::now();
    let body = json!({"api_key": EVERYONE});
    let waiting = app.create(&body);
    let advance = async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        post(&app, "/__admin/clock/advance", json!({"seconds": 86_400})).await
    };
    let (created, (advanced, _)) = tokio::join!(waiting, advance);
    assert_eq!(advanced, StatusCode::OK);
    let (status, created) = read(created).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert!(start.elapsed() >= std::time::Duration::from_millis(300), "after the delay");
    let delayed = created["session_id"].as_str().unwrap();
    assert_eq!(app.result(delayed, EVERYONE).await.0, StatusCode::OK, "the delayed create made its session");
    let created_at =
        app.get(&format!("/__admin/sessions/{delayed}")).await.1["created_at"].as_str().unwrap().to_owned();
    assert!(created_at[..10] > before[..10], "created after the delay: {created_at} vs {before}");
    for (body, field) in [
        (json!({"endpoint": "nope", "status": 500}), "endpoint"),
        (json!({"endpoint": "result", "status": 200}), "status"),
        (json!({"endpoint": "result"}), "status"),
        (json!({"endpoint": "video", "status": 500, "times": 0}), "times"),
        (json!({"endpoint": "video", "delay_ms": u64::MAX}), "delay_ms"),
        (json!({"endpoint": "video", "delay_ms": 3_600_001}), "delay_ms"),
        (json!({"status": 500}), "non_field_errors"),
    ] {
        let (status, errors) = post(&app, "/__admin/faults", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(errors[field].is_array(), "{body}: {errors}");
    }
}

#[tokio::test]
async fn an_admin_token_protects_the_admin_api_and_the_dashboard_but_not_the_vendor_api() {
    let app = spawn_with(Config { admin_token: Some("s3cret".into()), ..Config::default() }).await;
    let (status, body) = app.get("/__admin/sessions").await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "Authentication credentials were not provided."}))
    );
    let response = app.client.get(app.url("/__admin/flows")).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_eq!(read(response).await, (StatusCode::UNAUTHORIZED, json!({"detail": "Invalid token."})));
    let response = app.client.get(app.url("/__admin/flows")).bearer_auth("s3cret").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.client.get(app.url("/")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.client.get(app.url("/?token=s3cret")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.get("/__admin/health").await.0, StatusCode::OK, "health checks need no token");
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    assert_eq!(app.result(&sid, EVERYONE).await.0, StatusCode::OK, "the emulated API stays open");
    let page = app.client.get(app.url(&format!("/flow/{sid}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "so does the end-user page");
}

#[tokio::test]
async fn the_dashboard_lists_flows_and_sessions_and_manages_flows() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let html = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(EVERYONE) && html.contains("Flow for individuals"), "flows with keys");
    assert!(html.contains(&sid) && html.contains(&format!("href=\"/flow/{sid}\"")), "sessions with links");
    assert!(html.contains("900101390012"), "the scenarios' magic IINs");

    // Two webhook URLs, one per line of the textarea.
    let form = "name=%3Cb%3EDashboard+flow%3C%2Fb%3E&technologies=LDHP&technologies=F2F&scenario=liveness-fails\
        &webhook_urls=http%3A%2F%2F127.0.0.1%3A9%2Fa%0D%0A%0D%0Ahttp%3A%2F%2F127.0.0.1%3A9%2Fb%0D%0A";
    let response = client
        .post(app.url("/dashboard/flows"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, flows) = app.get("/__admin/flows").await;
    let added = flows.as_array().unwrap().iter().find(|f| f["name"] == "<b>Dashboard flow</b>").expect("added").clone();
    assert_eq!(added["technologies"], json!(["LDHP", "F2F"]));
    assert_eq!(added["webhook_urls"], json!(["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]), "blank lines skipped");
    let html = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"flow-webhook\"").count(), 2, "both URLs listed");
    assert!(!html.contains("<b>Dashboard flow</b>") && html.contains("&#60;b&#62;Dashboard flow"), "names are escaped");

    let response = client
        .post(app.url("/dashboard/flows"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=No+technologies")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("data-testid=\"form-error\""));

    // The name fields say the limit the server keeps; past it, the form's error names it.
    assert_eq!(html.matches("name=\"name\" maxlength=\"200\"").count(), 2, "flow and backend key names");
    let response = client
        .post(app.url("/dashboard/flows"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name={}&technologies=LDHP", "N".repeat(201)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("at most 200 characters; this one has 201"));

    let key = added["api_key"].as_str().unwrap();
    let response = client.post(app.url(&format!("/dashboard/flows/{key}/delete"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/__admin/flows").await.1.as_array().unwrap().len(), 3);
    let (_, journal) = app.get("/__admin/requests").await;
    let paths: Vec<&str> = journal.as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/api/v1/flows/session/create/"], "the dashboard is not journaled, as admin calls are not");
}
