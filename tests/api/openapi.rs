//! `GET /__admin/openapi.json`: a valid OpenAPI 3.1 document that lists exactly what is served.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{python_with, scratch_dir, spawn_app};

async fn document() -> Value {
    let app = spawn_app().await;
    let (status, doc) = app.get("/__admin/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    doc
}

#[tokio::test]
#[ignore = "needs python3 with openapi-spec-validator"]
async fn the_document_is_valid_openapi_3_1() {
    let doc = document().await;
    assert_eq!(doc["openapi"], "3.1.0");
    let python = python_with(&["openapi_spec_validator"]);
    let file = scratch_dir("openapi").join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = std::process::Command::new(python).args(["-m", "openapi_spec_validator"]).arg(&file).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && report.contains(": OK"), "openapi-spec-validator: {report}");
}

#[tokio::test]
async fn every_route_of_the_product_is_documented() {
    let doc = document().await;
    let expected = [
        ("post", "/api/v1/flows/session/create/"),
        ("get", "/api/v1/flows/session/result/"),
        ("get", "/api/v1/liveness/video/download/"),
        ("post", "/api/v1/flows/session/{session_id}/report/"),
        ("post", "/api/v1/e-document/generate-files/"),
        ("post", "/api/v1/backend/liveness/short/"),
        ("post", "/api/v1/backend/face2face/compare/"),
        ("post", "/api/v1/backend/document/parse/"),
        ("post", "/api/v2/backend/document/process/"),
        ("post", "/api/v1/backend/persons/"),
        ("post", "/api/v1/backend/e-document/online-access/request/identity_card/"),
        ("post", "/api/v1/backend/e-document/online-access/approve/"),
        ("get", "/flow/{id}"),
        ("get", "/flow/{id}/finished"),
        ("get", "/flow/{id}/done"),
        ("post", "/flow/{id}/{code}"),
        ("get", "/widget/flow-widget.umd.js"),
        ("get", "/widget/frame.js"),
        ("get", "/"),
        ("post", "/dashboard/flows"),
        ("post", "/dashboard/flows/{api_key}/delete"),
        ("post", "/dashboard/backend-keys"),
        ("post", "/dashboard/backend-keys/{api_key}/delete"),
        ("get", "/__admin/backend-keys"),
        ("post", "/__admin/backend-keys"),
        ("delete", "/__admin/backend-keys/{api_key}"),
        ("put", "/__admin/backend-keys/{api_key}/scenario"),
        ("get", "/__admin/backend-sessions"),
        ("get", "/__admin/backend-sessions/{backend_session_id}"),
        ("get", "/__admin/persons"),
        ("get", "/__admin/health"),
        ("get", "/__admin/flows"),
        ("post", "/__admin/flows"),
        ("delete", "/__admin/flows/{api_key}"),
        ("get", "/__admin/sessions"),
        ("get", "/__admin/sessions/{id}"),
        ("post", "/__admin/sessions/{id}/complete"),
        ("put", "/__admin/sessions/{id}/scenario"),
        ("get", "/__admin/scenarios"),
        ("get", "/__admin/signing-certificate"),
        ("get", "/__admin/ca.pem"),
        ("get", "/__admin/requests"),
        ("delete", "/__admin/requests"),
        ("post", "/__admin/reset"),
        ("get", "/__admin/faults"),
        ("post", "/__admin/faults"),
        ("get", "/__admin/webhooks"),
        ("get", "/__admin/openapi.json"),
        ("get", "/__admin/clock"),
        ("post", "/__admin/clock/advance"),
    ];
    let documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
        .collect();
    for (method, path) in expected {
        assert!(documented.contains(&(method.to_owned(), path.to_owned())), "{method} {path} is documented");
    }
    assert_eq!(documented.len(), expected.len(), "nothing else is documented: {documented:?}");
}

#[tokio::test]
async fn every_documented_route_is_served_and_with_no_other_method() {
    let app = spawn_app().await;
    let (_, doc) = app.get("/__admin/openapi.json").await;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", "3fa85f64-5717-4562-b3fc-2c963f66afa6")
            .replace("{session_id}", "3fa85f64-5717-4562-b3fc-2c963f66afa6")
            .replace("{code}", "LDHP")
            .replace("{api_key}", "no-such-key");
        for method in ops.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app.client.request(method.clone(), app.url(&concrete)).send().await.unwrap();
            assert_ne!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is routed");
        }
        let response = app.client.request(Method::PATCH, app.url(&concrete)).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{path} is a served path (PATCH is not allowed on it)"
        );
    }
}

/// Routes enter the router only through utoipa-axum's `routes!`, which documents them; a plain
/// `.route(` would serve an undocumented path.
#[test]
fn no_route_bypasses_the_documented_router() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(!text.contains(".route("), "{} adds a route outside routes!", path.display());
            }
        }
    }
}
