//! `/__admin`: health, flows, sessions and `complete`; plus `--flows` and `--seed`.

use biometric_kz_mock::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, INDIVIDUALS, LEGAL, spawn_app, spawn_with};

#[tokio::test]
async fn health_is_ok() {
    let app = spawn_app().await;
    assert_eq!(app.get("/__admin/health").await, (StatusCode::OK, json!({"status": "ok"})));
}

#[tokio::test]
async fn the_three_built_in_flows_are_listed_with_fixed_long_keys() {
    let app = spawn_app().await;
    let (status, json) = app.get("/__admin/flows").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json,
        json!([
            {"name": "Flow for everyone", "api_key": EVERYONE, "technologies": ["LDHP", "F2F"], "scenario": null, "webhook_url": null, "webhook_urls": []},
            {"name": "Flow for individuals", "api_key": INDIVIDUALS, "technologies": ["LDHP", "ED", "F2F"], "scenario": null, "webhook_url": null, "webhook_urls": []},
            {"name": "Flow for legal entities", "api_key": LEGAL, "technologies": ["LDHP", "DR", "F2F"], "scenario": null, "webhook_url": null, "webhook_urls": []},
        ])
    );
    for key in [EVERYONE, INDIVIDUALS, LEGAL] {
        assert!(key.len() >= 47, "{key} has 47 or more characters");
    }
}

#[tokio::test]
async fn a_flows_file_replaces_the_built_in_flows() {
    let path = std::env::temp_dir().join(format!("bkz-admin-flows-{}.json", std::process::id()));
    let key = "my-own-flow-key-000000000000000000000000000000000";
    std::fs::write(&path, format!(r#"[{{"name": "Mine", "api_key": "{key}", "technologies": ["LD", "ED"]}}]"#))
        .unwrap();
    let app = spawn_with(Config { flows_file: Some(path.clone()), ..Default::default() }).await;
    std::fs::remove_file(&path).ok();
    let (_, flows) = app.get("/__admin/flows").await;
    assert_eq!(
        flows,
        json!([{"name": "Mine", "api_key": key, "technologies": ["LDHP", "ED"], "scenario": null, "webhook_url": null, "webhook_urls": []}])
    );
    let (status, json) = crate::helpers::read(app.create(&json!({"api_key": key})).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["technologies"], json!(["LDHP", "ED"]));
    assert_eq!(app.create(&json!({"api_key": EVERYONE})).await.status(), StatusCode::FORBIDDEN, "built-ins are gone");
}

#[tokio::test]
async fn a_bad_flows_file_stops_start_up_with_the_file_the_path_and_the_reason() {
    let path = std::env::temp_dir().join(format!("bkz-bad-flows-{}.json", std::process::id()));
    std::fs::write(&path, r#"[{"name": "x", "api_key": "short", "technologies": ["LDHP"]}]"#).unwrap();
    let error =
        biometric_kz_mock::Application::build(Config { port: 0, flows_file: Some(path.clone()), ..Default::default() })
            .await
            .err()
            .expect("start-up refuses the file");
    std::fs::remove_file(&path).ok();
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "names the file: {message}");
    assert!(message.contains("[0].api_key"), "names the path: {message}");
    assert!(message.contains("47 or more characters"), "says why: {message}");
}

#[tokio::test]
async fn a_session_is_shown_with_its_steps_metadata_and_events() {
    let app = spawn_app().await;
    let id = app.create_ok(&json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": "900101300017"}}})).await;
    let (status, view) = app.get(&format!("/__admin/sessions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["session_id"], json!(id));
    assert_eq!(view["flow_name"], "Flow for everyone");
    assert_eq!(view["api_key"], EVERYONE);
    assert_eq!(view["technologies"], json!(["LDHP", "F2F"]));
    assert_eq!(view["status"], "CREATED");
    assert_eq!(view["scenario"], "happy-path", "nothing chose one: the server's default");
    assert_eq!(view["scenario_source"], "server");
    assert_eq!(
        view["steps"],
        json!([
            {"code": "LDHP", "state": "pending", "failure_reason": null},
            {"code": "F2F", "state": "pending", "failure_reason": null}
        ])
    );
    assert_eq!(view["otp"], Value::Null);
    assert_eq!(view["metadata"], json!({"extra": {"iin": "900101300017"}}));
    assert!(view["created_at"].is_string());
    assert_eq!(view["page_url"], json!(format!("{}/flow/{id}", app.base)));
    assert_eq!(view["events"], json!([]));

    let (status, done) = app.complete(&id, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["status"], "FINISHED");
    assert_eq!(done["steps"][0]["state"], "passed");
    assert_eq!(done["steps"][1]["state"], "passed");
    let events: Vec<(&str, &Value)> =
        done["events"].as_array().unwrap().iter().map(|e| (e["event"].as_str().unwrap(), &e["technology"])).collect();
    assert_eq!(
        events,
        vec![
            ("flow.start", &Value::Null),
            ("technology.start", &json!("LDHP")),
            ("technology.end", &json!("LDHP")),
            ("technology.start", &json!("F2F")),
            ("technology.end", &json!("F2F")),
            ("flow.end", &Value::Null),
        ]
    );
    assert_eq!(app.get(&format!("/__admin/sessions/{id}")).await.1, done, "GET shows what complete returned");
}

#[tokio::test]
async fn sessions_are_listed_newest_first() {
    let app = spawn_app().await;
    let first = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let second = app.create_ok(&json!({"api_key": LEGAL})).await;
    let (_, list) = app.get("/__admin/sessions").await;
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![second.as_str(), first.as_str()]);
}

/// Lists answer a page at a time, with the total and a link to the next page.
#[tokio::test]
async fn admin_lists_answer_pages_with_the_total_and_a_link_to_the_next() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for _ in 0..105 {
        ids.push(app.create_ok(&json!({"api_key": EVERYONE})).await);
    }
    ids.reverse();
    let page = |query: &'static str| {
        let app = &app;
        async move {
            let response = app.client.get(app.url(&format!("/__admin/sessions{query}"))).send().await.unwrap();
            let total = response.headers()["x-total-count"].to_str().unwrap().to_owned();
            let link = response.headers().get("link").map(|l| l.to_str().unwrap().to_owned());
            let list: Vec<String> = response
                .json::<Value>()
                .await
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["session_id"].as_str().unwrap().to_owned())
                .collect();
            (list, total, link)
        }
    };
    let (first, total, link) = page("").await;
    assert_eq!((first.len(), total.as_str()), (100, "105"), "a default page of 100, newest first");
    assert_eq!(first, ids[..100]);
    assert_eq!(link.as_deref(), Some("</__admin/sessions?limit=100&offset=100>; rel=\"next\""));
    let (rest, _, link) = page("?limit=100&offset=100").await;
    assert_eq!((rest, link), (ids[100..].to_vec(), None), "the last page has no next");
    let (two, _, link) = page("?limit=2&offset=3").await;
    assert_eq!(two, ids[3..5]);
    assert_eq!(link.as_deref(), Some("</__admin/sessions?limit=2&offset=5>; rel=\"next\""));
    for bad in ["?limit=-1", "?limit=x", "?offset=1.5", "?limit=10001"] {
        let (status, body) = app.get(&format!("/__admin/sessions{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }

    let response = app.client.get(app.url("/__admin/requests?limit=3&offset=1&path=/create/")).send().await.unwrap();
    assert_eq!(response.headers()["x-total-count"], "105");
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert_eq!(link, "</__admin/requests?path=%2Fcreate%2F&limit=3&offset=4>; rel=\"next\"");
    let entries: Value = response.json().await.unwrap();
    let sessions: Vec<&str> = entries.as_array().unwrap().iter().map(|e| e["session_id"].as_str().unwrap()).collect();
    assert_eq!(sessions, ids[1..4], "the journal pages newest first too");
}

#[tokio::test]
async fn a_session_is_one_time_completing_it_twice_is_a_conflict() {
    let app = spawn_app().await;
    let id = app.create_ok(&json!({"api_key": EVERYONE})).await;
    assert_eq!(app.complete(&id, None).await.0, StatusCode::OK);
    let (status, json) = app.complete(&id, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(json["detail"].as_str().unwrap().contains("already finished"), "{json}");
}

#[tokio::test]
async fn complete_refuses_unknown_sessions_and_bad_outcomes() {
    let app = spawn_app().await;
    for id in ["3fa85f64-5717-4562-b3fc-2c963f66afa6", "not-a-uuid"] {
        let (status, json) = app.complete(id, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        assert!(json["detail"].is_string());
    }
    let id = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let cases = [
        (json!({"outcomes": {"DR": "failed"}}), "outcomes"),
        (json!({"outcomes": {"LDHP": "maybe"}}), "outcomes"),
        (json!({"outcomes": ["LDHP"]}), "outcomes"),
        (json!({"outcome": {}}), "outcome"),
        (json!([]), "non_field_errors"),
    ];
    for (body, field) in cases {
        let (status, json) = app.complete(&id, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(json.get(field).is_some(), "{body}: error under {field}: {json}");
    }
    let (_, view) = app.get(&format!("/__admin/sessions/{id}")).await;
    assert_eq!(view["status"], "CREATED", "refused calls change nothing");
}

#[tokio::test]
async fn completed_sessions_describe_one_consistent_person() {
    let app = spawn_app().await;
    let key = "all-documents-0000000000000000000000000000000000000";
    let app2 = crate::helpers::spawn_with_flow("All", key, &["LDHP", "ED", "DR", "F2F"]).await;
    drop(app);
    let id = app2.create_ok(&json!({"api_key": key})).await;
    app2.complete(&id, None).await;
    let (_, json) = app2.result(&id, key).await;
    let owner = &json["edocument_result"]["result_json"]["common"]["docOwner"];
    let dr = &json["document_recognition_result"];
    assert_eq!(owner["firstName"], dr["first_name"]);
    assert_eq!(owner["lastName"], dr["last_name"]);
    assert_eq!(owner["middleName"], dr["patronymic"]);
    assert_eq!(owner["iin"], dr["personal_number"]);
    assert_eq!(json["edocument_result"]["result_json"]["common"]["docNumber"], dr["document_number"]);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_ids_and_values_twice() {
    async fn run(seed: u64) -> (Vec<String>, Value) {
        let app = spawn_with(Config { seed: Some(seed), ..Default::default() }).await;
        let mut ids = Vec::new();
        for key in [EVERYONE, INDIVIDUALS, LEGAL] {
            ids.push(app.create_ok(&json!({"api_key": key})).await);
        }
        app.complete(&ids[1], None).await;
        let (_, mut result) = app.result(&ids[1], INDIVIDUALS).await;
        for field in ["finished_at", "validated_at"] {
            result[field] = Value::Null; // wall-clock times differ between runs
        }
        // An SMS code, generated when the page reaches E-Document.
        let metadata = json!({"edocument": {"iin": {"value": "900101300017", "changeable": false},
            "phone": {"value": "77011234567", "changeable": false}, "skip_input": true}});
        let sid = app.create_ok(&json!({"api_key": INDIVIDUALS, "metadata": metadata})).await;
        let form = reqwest::multipart::Form::new().text("action", "passed");
        app.client.post(app.url(&format!("/flow/{sid}/LDHP"))).multipart(form).send().await.unwrap();
        let (_, view) = app.get(&format!("/__admin/sessions/{sid}")).await;
        assert!(view["otp"].is_string(), "the page sent a code: {view}");
        result["otp"] = view["otp"].clone();
        (ids, result)
    }
    let (ids_a, result_a) = run(7).await;
    let (ids_b, result_b) = run(7).await;
    assert_eq!(ids_a, ids_b, "same seed, same session ids");
    assert_eq!(result_a, result_b, "same seed, same generated results");
    let (ids_c, _) = run(8).await;
    assert_ne!(ids_a, ids_c, "another seed, other ids");
}
