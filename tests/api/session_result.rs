//! `GET /api/v1/flows/session/result/`: the shapes of SPEC section 5, before and after a session
//! is finished, and the errors.

use regex_lite::Regex;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, IIN, INDIVIDUALS, LEGAL, PHONE, spawn_app, with_metadata};

const RESULT_FIELDS: [&str; 4] =
    ["liveness_result", "face2face_result", "edocument_result", "document_recognition_result"];

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap()
}

fn assert_str_matches(value: &Value, pattern: &str, what: &str) {
    let text = value.as_str().unwrap_or_else(|| panic!("{what} should be a string, got {value}"));
    assert!(re(pattern).is_match(text), "{what} = {text:?} should match {pattern}");
}

#[tokio::test]
async fn both_parameters_are_required() {
    let app = spawn_app().await;
    let (status, json) = app.get("/api/v1/flows/session/result/").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json, json!({"session_id": ["This field is required."], "flow_api_key": ["This field is required."]}));
    let (status, json) = app.get("/api/v1/flows/session/result/?session_id=&flow_api_key=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json, json!({"session_id": ["This field is required."]}));
}

#[tokio::test]
async fn a_session_id_that_is_not_a_uuid_is_refused_in_drf_words() {
    let app = spawn_app().await;
    let (status, json) = app.result("not-a-uuid", EVERYONE).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json, json!({"session_id": ["Must be a valid UUID."]}));
}

#[tokio::test]
async fn unknown_sessions_and_other_flows_sessions_are_not_found() {
    let app = spawn_app().await;
    let id = app.create_ok(&json!({"api_key": EVERYONE})).await;
    for (session, key) in
        [("3fa85f64-5717-4562-b3fc-2c963f66afa6", EVERYONE), (id.as_str(), INDIVIDUALS), (id.as_str(), "not-a-key")]
    {
        let (status, json) = app.result(session, key).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{session} with {key}");
        assert_eq!(json, json!({"detail": "Not found."}));
    }
}

#[tokio::test]
async fn a_new_session_is_in_progress_with_ordered_technologies_and_no_results() {
    let app = spawn_app().await;
    let id = app.create_ok(&json!({"api_key": LEGAL})).await;
    let (status, json) = app.result(&id, LEGAL).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["id"], json!(id));
    assert_eq!(json["status"], "PROGRESS");
    assert_eq!(
        json["technologies"],
        json!([
            {"code": "LDHP", "name": "Liveness Head Position", "description": "Detect liveness by photo and head position"},
            {"code": "DR", "name": "Document Recognition", "description": "Parse document data from image"},
            {"code": "F2F", "name": "Face2Face", "description": "Determining the similarity of two faces from a photo"},
        ])
    );
    assert_eq!(json["flow_session_result"], Value::Null);
    assert_eq!(json["flow_session_failure_reasons"], json!([]));
    assert_eq!(json["finished_at"], Value::Null);
    for field in RESULT_FIELDS {
        assert!(json.get(field).is_none(), "{field} is absent until the technology is passed: {json}");
    }
}

#[tokio::test]
async fn a_completed_session_reports_every_result_with_the_documented_types() {
    let app = spawn_app().await;
    let metadata = json!({"edocument": {"iin": {"value": IIN}, "phone": {"value": PHONE}}});
    let id = app.create_ok(&with_metadata(INDIVIDUALS, metadata)).await;
    let (status, _) = app.complete(&id, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, json) = app.result(&id, INDIVIDUALS).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["status"], "FINISHED");
    assert_eq!(json["flow_session_result"], true);
    let timestamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$";
    assert_str_matches(&json["finished_at"], timestamp, "finished_at");
    assert_str_matches(&json["validated_at"], timestamp, "validated_at");

    let live = &json["liveness_result"];
    assert_eq!(live["result"], true);
    assert_eq!(live["eye_closed"], false);
    assert_eq!(live["face_center"], true);
    assert_eq!(live["face_direction"], "forward");
    assert_eq!(live["failure_reason"], Value::Null);
    assert_str_matches(&live["prediction"], r"^0\.9[5-9]\d\d$", "liveness prediction");

    let f2f = &json["face2face_result"];
    assert_eq!(f2f["result"], true);
    assert_str_matches(&f2f["prediction"], r"^0\.\d{4}$", "face2face prediction");
    assert_str_matches(&f2f["prediction_percent"], r"^\d{2}\.\d{2}$", "face2face prediction_percent");

    let edoc = &json["edocument_result"];
    assert_eq!(edoc["result"], true);
    assert_eq!(edoc["phone"], PHONE, "the phone of the metadata");
    let owner = &edoc["result_json"]["common"]["docOwner"];
    assert_eq!(owner["iin"], IIN, "the IIN of the metadata");
    for name in ["firstName", "lastName", "middleName"] {
        assert_str_matches(&owner[name], r"^[А-ЯЁӘҒҚҢӨҰҮҺІ]+$", name);
    }
    assert_str_matches(&edoc["result_json"]["common"]["docNumber"], r"^\d{9}$", "docNumber");
    for lang in ["nameRu", "nameEn", "nameKk"] {
        assert!(edoc["result_json"]["common"]["docIssuer"][lang].is_string(), "docIssuer.{lang}");
    }
    assert_eq!(edoc["extra"]["date_of_birth"], "1990-01-01", "from the IIN's first six digits");
    assert_eq!(edoc["gender"], "MALE", "from the IIN's seventh digit");
    assert!(json.get("document_recognition_result").is_none(), "DR is not in this flow");
}

#[tokio::test]
async fn document_recognition_results_use_the_docs_field_names_and_date_format() {
    let app = spawn_app().await;
    let id = app.create_ok(&with_metadata(LEGAL, json!({"extra": {"iin": IIN}}))).await;
    app.complete(&id, None).await;
    let (_, json) = app.result(&id, LEGAL).await;
    let dr = &json["document_recognition_result"];
    assert_eq!(dr["result"], true);
    for field in ["first_name", "last_name", "patronymic", "document_number", "authority"] {
        assert!(dr[field].as_str().is_some_and(|s| !s.is_empty()), "{field} in {dr}");
    }
    assert_eq!(dr["personal_number"], IIN);
    assert_eq!(dr["date_of_birth"], "01.01.1990", "dd.mm.yyyy as in the docs");
}

#[tokio::test]
async fn a_failed_technology_fails_the_session_and_later_ones_have_no_result() {
    let app = spawn_app().await;
    let id = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let (status, _) = app.complete(&id, Some(json!({"outcomes": {"LDHP": "failed"}}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, json) = app.result(&id, EVERYONE).await;
    assert_eq!(json["status"], "FAILED");
    assert_eq!(json["flow_session_result"], false);
    let live = &json["liveness_result"];
    assert_eq!(live["result"], false);
    assert_eq!(live["failure_reason"], json!({"type": "CALC_RESULT", "detail": "Low overall prediction"}));
    assert_str_matches(&live["prediction"], r"^0\.[0-4]\d{3}$", "a low prediction");
    assert_eq!(
        json["flow_session_failure_reasons"],
        json!(["LDHP: CALC_RESULT: Low overall prediction"]),
        "one string per failed technology, as real clients join them"
    );
    let (_, view) = app.get(&format!("/__admin/sessions/{id}")).await;
    assert_eq!(
        view["failure_reasons"],
        json!([{"technology": "LDHP", "type": "CALC_RESULT", "detail": "Low overall prediction"}]),
        "the admin API keeps them structured"
    );
    assert!(json.get("face2face_result").is_none(), "F2F never ran: {json}");
}

#[tokio::test]
async fn a_failed_face_match_is_reported_with_a_low_score() {
    let app = spawn_app().await;
    let id = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.complete(&id, Some(json!({"outcomes": {"face2face": "failed"}}))).await;
    let (_, json) = app.result(&id, EVERYONE).await;
    assert_eq!(json["status"], "FAILED");
    assert_eq!(json["liveness_result"]["result"], true);
    assert_eq!(json["face2face_result"]["result"], false);
    let p: f64 = json["face2face_result"]["prediction"].as_str().unwrap().parse().unwrap();
    assert!(p < 0.6, "a mismatch scores low: {p}");
}
