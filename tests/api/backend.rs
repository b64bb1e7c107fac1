//! The Backend API (SPEC §13) over real HTTP: every endpoint's success and refusals, the
//! organisation keys and their subscriptions, the E-Document state machine, scenarios and faults,
//! the journal, reset and the admin API.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, IIN, PHONE, TestApp, read, spawn_app, spawn_with};

/// The built-in organisation key (`fixtures/backend-keys.json`), subscribed to everything.
const ORG: &str = "mock-backend-api-key-every-subscription-0000000000";
const LIVENESS: &str = "/api/v1/backend/liveness/short/";
const COMPARE: &str = "/api/v1/backend/face2face/compare/";
const PARSE: &str = "/api/v1/backend/document/parse/";
const PROCESS: &str = "/api/v2/backend/document/process/";
const PERSONS: &str = "/api/v1/backend/persons/";
const REQUEST: &str = "/api/v1/backend/e-document/online-access/request/identity_card/";
const APPROVE: &str = "/api/v1/backend/e-document/online-access/approve/";

fn photo(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/photos/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn file(name: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name(name.to_owned())
}

async fn post_form(app: &TestApp, path: &str, form: Form) -> (StatusCode, Value) {
    read(app.client.post(app.url(path)).multipart(form).send().await.unwrap()).await
}

async fn post_json(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    read(app.client.post(app.url(path)).json(&body).send().await.unwrap()).await
}

async fn add_key(app: &TestApp, body: Value) -> String {
    let (status, key) = post_json(app, "/__admin/backend-keys", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}: {key}");
    key["api_key"].as_str().unwrap().to_owned()
}

async fn set_key_scenario(app: &TestApp, key: &str, scenario: Value) {
    let url = app.url(&format!("/__admin/backend-keys/{key}/scenario"));
    let (status, body) = read(app.client.put(url).json(&json!({"scenario": scenario})).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// An E-Document request, and the SMS code the admin API shows for it.
async fn requested(app: &TestApp, key: &str, iin: &str) -> (String, String) {
    let (status, body) = post_json(app, REQUEST, json!({"api_key": key, "iin": iin, "phone": PHONE})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["backend_session_id"].as_str().expect("a backend_session_id").to_owned();
    let (_, session) = app.get(&format!("/__admin/backend-sessions/{id}")).await;
    (id, session["otp"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn every_image_endpoint_answers_for_a_subscribed_organisation() {
    let app = spawn_app().await;
    let form = Form::new().text("api_key", ORG).part("image", file("face.jpg", photo("face.jpg")));
    let (status, liveness) = post_form(&app, LIVENESS, form).await;
    assert_eq!(status, StatusCode::OK, "{liveness}");
    assert_eq!(liveness["result"], true);
    assert!(liveness["prediction"].is_string() && liveness["failure_reason"].is_null(), "{liveness}");

    let form = Form::new()
        .text("api_key", ORG)
        .part("img_1", file("a.jpg", photo("face.jpg")))
        .part("img_2", file("b.png", photo("face.png")));
    let (status, compare) = post_form(&app, COMPARE, form).await;
    assert_eq!(status, StatusCode::OK, "{compare}");
    assert!(compare["prediction"].is_string() && compare["prediction_percent"].is_string(), "{compare}");

    let form = Form::new()
        .text("api_key", ORG)
        .text("country_code", "kz")
        .part("backside_image", file("b.png", photo("face.png")));
    let (status, parsed) = post_form(&app, PARSE, form).await;
    assert_eq!(status, StatusCode::OK, "{parsed}");
    assert_eq!(
        (&parsed["country_code"], &parsed["sides"]),
        (&json!("kz"), &json!({"frontside": false, "backside": true}))
    );
    assert!(parsed["document_number"].is_string() && parsed["date_of_birth"].is_string(), "{parsed}");

    let form = Form::new()
        .text("api_key", ORG)
        .part("file", file("one.jpg", photo("face.jpg")))
        .part("file", file("two.png", photo("face.png")));
    let (status, processed) = post_form(&app, PROCESS, form).await;
    assert_eq!(status, StatusCode::OK, "{processed}");
    let names: Vec<&Value> = processed["documents"].as_array().unwrap().iter().map(|d| &d["file_name"]).collect();
    assert_eq!(names, [&json!("one.jpg"), &json!("two.png")], "one document per file: {processed}");

    let image_b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, photo("face.png"));
    let body = json!({"api_key": ORG, "image_b64": image_b64, "photo_type": "live", "is_verified": true, "aliases": [IIN, "crm-7"]});
    let (status, person) = post_json(&app, PERSONS, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{person}");
    assert!(person["person_id"].is_string() && person["aliases"] == json!([IIN, "crm-7"]), "{person}");
    let (status, again) = post_json(&app, PERSONS, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an alias prevents a duplicate: {again}");
    assert!(again["aliases"][0].as_str().unwrap().contains(person["person_id"].as_str().unwrap()), "{again}");
    let (_, persons) = app.get("/__admin/persons").await;
    assert_eq!(persons.as_array().unwrap().len(), 1, "{persons}");
}

#[tokio::test]
async fn multipart_endpoints_refuse_missing_and_bad_files_in_djangos_words() {
    let app = spawn_app().await;
    let text_file = file("notes.txt", b"not an image".to_vec());
    let cases: Vec<(&str, Form, Value)> = vec![
        (LIVENESS, Form::new(), json!({"api_key": ["This field is required."], "image": ["No file was submitted."]})),
        (
            LIVENESS,
            Form::new().text("api_key", ORG).part("image", text_file),
            json!({"image": ["Upload a valid image. The file you uploaded was either not an image or a corrupted image."]}),
        ),
        (
            LIVENESS,
            Form::new().text("api_key", ORG).part("image", file("e.jpg", Vec::new())),
            json!({"image": ["The submitted file is empty."]}),
        ),
        (
            LIVENESS,
            Form::new().text("api_key", ORG).text("image", "face.jpg"),
            json!({"image": ["The submitted data was not a file. Check the encoding type on the form."]}),
        ),
        (
            COMPARE,
            Form::new().text("api_key", ORG).part("img_1", file("a.jpg", photo("face.jpg"))),
            json!({"img_2": ["No file was submitted."]}),
        ),
        (
            PARSE,
            Form::new().text("api_key", ORG),
            json!({"non_field_errors": ["One of frontside_image or backside_image must be passed."]}),
        ),
        (
            PARSE,
            Form::new()
                .text("api_key", ORG)
                .text("country_code", "k z!")
                .part("frontside_image", file("a.jpg", photo("face.jpg"))),
            json!({"country_code": ["A country code is two or three letters, such as kz."]}),
        ),
        (PROCESS, Form::new().text("api_key", ORG), json!({"file": ["No file was submitted."]})),
        (
            PROCESS,
            Form::new()
                .text("api_key", ORG)
                .part("file", file("a.jpg", photo("face.jpg")))
                .part("file", file("b.txt", b"x".to_vec())),
            json!({"file": {"1": ["Upload a document image (JPEG or PNG) or a PDF."]}}),
        ),
    ];
    for (path, form, expected) in cases {
        let (status, body) = post_form(&app, path, form).await;
        assert_eq!((status, &body), (StatusCode::BAD_REQUEST, &expected), "{path}");
    }
    // JSON where the docs say multipart: DRF's 415, and a warning.
    let response =
        app.client.post(app.url(LIVENESS)).json(&json!({"api_key": ORG, "image": "x"})).send().await.unwrap();
    let lint = response.headers().get("x-mock-lint").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        read(response).await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"detail": "Unsupported media type \"application/json\" in request."})
        )
    );
    assert!(lint.is_some_and(|l| l.starts_with("multipart-required")), "warned");
}

#[tokio::test]
async fn keys_and_subscriptions_answer_the_vendors_errors() {
    let app = spawn_app().await;
    let none = add_key(&app, json!({"name": "No subscription", "technologies": []})).await;
    let faces = add_key(&app, json!({"name": "Faces only", "technologies": ["face2face"]})).await;
    let later = add_key(&app, json!({"name": "Starts later", "subscription_started": false})).await;
    let liveness =
        |key: &str| Form::new().text("api_key", key.to_owned()).part("image", file("a.jpg", photo("face.jpg")));
    for (key, status, detail) in [
        (none.as_str(), StatusCode::BAD_REQUEST, "Client does not have subscription"),
        (faces.as_str(), StatusCode::BAD_REQUEST, "No active or future subscription for technology"),
        (later.as_str(), StatusCode::BAD_REQUEST, "Subscription has not started"),
        ("no-such-organisation-key", StatusCode::FORBIDDEN, "No organisation has this api_key"),
    ] {
        let (got, body) = post_form(&app, LIVENESS, liveness(key)).await;
        assert_eq!(got, status, "{key}: {body}");
        assert!(body["detail"].as_str().unwrap().starts_with(detail), "{key}: {body}");
    }
    let (status, body) = post_json(&app, REQUEST, json!({"api_key": faces, "iin": IIN, "phone": PHONE})).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"detail": "Client does not have access to E-Document technology"}))
    );
    // A flow's key is told apart, and warned about in the journal.
    let (status, body) = post_form(&app, LIVENESS, liveness(EVERYONE)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("a flow's key"), "{body}");
    let (_, journal) = app.get(&format!("/__admin/requests?api_key={EVERYONE}")).await;
    assert!(journal[0]["lint"][0].as_str().unwrap().starts_with("flow-key-on-backend"), "{journal}");
    // And the other way round: an organisation key where a flow's is expected.
    let response = app.create(&json!({"api_key": ORG})).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers()["x-mock-lint"].to_str().unwrap().starts_with("backend-key-on-flow"));
}

#[tokio::test]
async fn the_edocument_request_and_approval_walk_their_state_machine() {
    let app = spawn_app().await;
    let (id, otp) = requested(&app, ORG, IIN).await;
    let (status, again) = post_json(&app, REQUEST, json!({"api_key": ORG, "iin": IIN, "phone": PHONE})).await;
    assert_eq!(
        (status, again),
        (StatusCode::BAD_REQUEST, json!({"detail": "You have already requested a document for this session"}))
    );
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let (status, body) = post_json(&app, APPROVE, json!({"backend_session_id": id, "code": wrong})).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"detail": "Invalid code. Attempts left: 2"})));
    let (status, document) =
        post_json(&app, APPROVE, json!({"backend_session_id": id, "code": otp, "file": true, "file_type": "pdf"}))
            .await;
    assert_eq!(status, StatusCode::OK, "{document}");
    assert_eq!(document["result_json"]["common"]["docOwner"]["iin"], IIN, "the requested citizen's document");
    for key in ["firstName", "lastName", "middleName"] {
        assert!(document["result_json"]["common"]["docOwner"][key].is_string(), "{key}: {document}");
    }
    for key in ["date_of_birth", "date_of_issue", "date_of_expire"] {
        assert!(document["extra"][key].is_string(), "{key}");
    }
    let decoded = |key: &str| {
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, document[key].as_str().unwrap()).unwrap()
    };
    assert!(decoded("document_pdf").starts_with(b"%PDF-"), "a PDF");
    assert!(decoded("document_image").starts_with(b"\x89PNG"), "a PNG");
    assert!(decoded("face_photo").starts_with(b"\xff\xd8\xff"), "a JPEG");
    let (status, body) = post_json(&app, APPROVE, json!({"backend_session_id": id, "code": otp})).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"detail": "EDocument for this session has already been received"}))
    );
    let (_, view) = app.get(&format!("/__admin/backend-sessions/{id}")).await;
    assert_eq!(view["state"], "received", "{view}");

    // Three wrong codes end a request: a new one is needed.
    let (id, otp) = requested(&app, ORG, "880315400010").await;
    for left in ["2", "1", "0"] {
        let (_, body) = post_json(&app, APPROVE, json!({"backend_session_id": id, "code": "999999"})).await;
        assert!(body["detail"].as_str().unwrap().ends_with(left), "{body}");
    }
    let (status, body) = post_json(&app, APPROVE, json!({"backend_session_id": id, "code": otp})).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"detail": "You have not sent a request for access to an e-document"}))
    );
    let (status, body) =
        post_json(&app, APPROVE, json!({"backend_session_id": uuid::Uuid::new_v4(), "code": "123456"})).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"detail": "You have not sent a request for access to an e-document"})),
        "an approval without a request"
    );
    let (_, listed) = app.get("/__admin/backend-sessions").await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(listed[0]["state"], "failed", "newest first: {listed}");
}

#[tokio::test]
async fn edocument_fields_are_checked_with_the_vendors_words() {
    let app = spawn_app().await;
    for (path, body, status, expected) in [
        (
            REQUEST,
            json!({}),
            StatusCode::BAD_REQUEST,
            json!({"api_key": ["This field is required."], "iin": ["This field is required."], "phone": ["This field is required."]}),
        ),
        (
            REQUEST,
            json!({"api_key": ORG, "iin": "900101300018", "phone": PHONE}),
            StatusCode::BAD_REQUEST,
            json!({"detail": "Invalid IIN"}),
        ),
        (
            APPROVE,
            // Issue 31: an integer code is its text, as DRF's CharField reads it; a list is not.
            json!({"code": 123_456}),
            StatusCode::BAD_REQUEST,
            json!({"backend_session_id": ["This field is required."]}),
        ),
        (
            APPROVE,
            json!({"code": [123_456]}),
            StatusCode::BAD_REQUEST,
            json!({"backend_session_id": ["This field is required."], "code": ["Not a valid string."]}),
        ),
        (
            APPROVE,
            json!({"backend_session_id": "x", "code": "12", "file": "yes", "file_type": "docx"}),
            StatusCode::BAD_REQUEST,
            json!({"backend_session_id": ["Must be a valid UUID."], "code": ["The code has 6 digits."], "file": ["Must be a valid boolean."], "file_type": ["\"docx\" is not a valid choice."]}),
        ),
        (
            PERSONS,
            json!({"api_key": ORG, "image_b64": "aGVsbG8=", "photo_type": "selfie", "aliases": "crm-7"}),
            StatusCode::BAD_REQUEST,
            Value::Null,
        ),
    ] {
        let (got, answer) = post_json(&app, path, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        if expected.is_null() {
            for field in ["image_b64", "photo_type", "is_verified", "aliases"] {
                assert!(answer[field].is_array(), "{field} is named: {answer}");
            }
        } else {
            assert_eq!(answer, expected, "{body}");
        }
    }
    let (status, body) = post_json(&app, REQUEST, json!({"api_key": ORG, "iin": IIN, "phone": "87011234567"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["phone"][0].as_str().unwrap().contains("77"), "{body}");
}

#[tokio::test]
async fn scenarios_decide_the_outcomes_and_the_government_errors() {
    let app = spawn_app().await;
    let key = add_key(&app, json!({"name": "Scripted"})).await;
    let liveness = || Form::new().text("api_key", key.clone()).part("image", file("a.jpg", photo("face.jpg")));
    set_key_scenario(&app, &key, json!("liveness-fails")).await;
    let (_, body) = post_form(&app, LIVENESS, liveness()).await;
    assert_eq!(
        (&body["result"], &body["failure_reason"]["type"], &body["prediction"]),
        (&json!(false), &json!("CALC_RESULT"), &json!("0.1200")),
        "{body}"
    );
    set_key_scenario(&app, &key, json!("face-mismatch")).await;
    let form = Form::new()
        .text("api_key", key.clone())
        .part("img_1", file("a.jpg", photo("face.jpg")))
        .part("img_2", file("b.jpg", photo("face.jpg")));
    let (_, body) = post_form(&app, COMPARE, form).await;
    assert_eq!((&body["result"], &body["prediction"]), (&json!(false), &json!("0.3120")), "{body}");
    set_key_scenario(&app, &key, json!("document-unreadable")).await;
    let form = Form::new().text("api_key", key.clone()).part("frontside_image", file("a.jpg", photo("face.jpg")));
    let (_, body) = post_form(&app, PARSE, form).await;
    assert_eq!(body["result"], false, "{body}");
    set_key_scenario(&app, &key, Value::Null).await;
    let (_, body) = post_form(&app, LIVENESS, liveness()).await;
    assert_eq!(body["result"], true, "back to the server's scenario");

    // E-Document by magic IIN, as for flows.
    for (iin, status, detail) in [
        ("900101390042", StatusCode::NOT_FOUND, "Subject not found in MCDB"),
        ("900101390111", StatusCode::FAILED_DEPENDENCY, "Government service error"),
        ("900101390121", StatusCode::SERVICE_UNAVAILABLE, "EDocument service is not available now"),
    ] {
        let (got, body) = post_json(&app, REQUEST, json!({"api_key": key, "iin": iin, "phone": PHONE})).await;
        assert_eq!((got, body), (status, json!({"detail": detail})), "{iin}");
    }
    let (id, otp) = requested(&app, &key, "900101390052").await; // edocument-wrong-otp
    let (status, body) = post_json(&app, APPROVE, json!({"backend_session_id": id, "code": otp})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "WRONG_OTP refuses even the right code: {body}");
}

#[tokio::test]
async fn admin_faults_hit_backend_endpoints_and_reset_clears_them_all() {
    let app = spawn_app().await;
    let fault = json!({"endpoint": "liveness_short", "status": 503, "times": 1});
    assert_eq!(post_json(&app, "/__admin/faults", fault).await.0, StatusCode::CREATED);
    let form = || Form::new().text("api_key", ORG).part("image", file("a.jpg", photo("face.jpg")));
    assert_eq!(post_form(&app, LIVENESS, form()).await.0, StatusCode::SERVICE_UNAVAILABLE, "the fault");
    assert_eq!(post_form(&app, LIVENESS, form()).await.0, StatusCode::OK, "then fine");
    let fault = json!({"endpoint": "edocument_approve", "status": 504, "detail": "Could not send request to e-document service", "times": 1});
    post_json(&app, "/__admin/faults", fault).await;
    let (id, otp) = requested(&app, ORG, IIN).await;
    let (status, _) = post_json(&app, APPROVE, json!({"backend_session_id": id, "code": otp})).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    let (status, _) = post_json(&app, APPROVE, json!({"backend_session_id": id, "code": otp})).await;
    assert_eq!(status, StatusCode::OK, "the code still works after the fault");

    add_key(&app, json!({"name": "Run-time"})).await;
    let response = app.client.post(app.url("/__admin/reset")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/__admin/backend-sessions").await.1, json!([]), "backend sessions cleared");
    let (_, keys) = app.get("/__admin/backend-keys").await;
    assert_eq!(keys.as_array().unwrap().len(), 1, "the start-up key only: {keys}");
}

#[tokio::test]
async fn backend_keys_are_managed_through_the_admin_api() {
    let app = spawn_app().await;
    let (_, keys) = app.get("/__admin/backend-keys").await;
    assert_eq!(
        keys,
        json!([{"name": "Mock organisation", "api_key": ORG, "technologies": ["liveness", "face2face", "document_recognition", "persons", "edocument"], "subscription_started": true, "scenario": null}])
    );
    for (body, field) in [
        (json!({"name": "X", "technologies": ["palm"]}), "technologies"),
        (json!({"name": "X", "api_key": ORG}), "api_key"),
        (json!({"name": "X", "scenario": "nope"}), "scenario"),
        (json!({"name": ""}), "name"),
        (json!({"name": "X", "technologies": "liveness"}), "technologies"),
    ] {
        let (status, errors) = post_json(&app, "/__admin/backend-keys", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {errors}");
        assert!(errors[field].is_array(), "{body}: {errors}");
    }
    let key = add_key(&app, json!({"name": "Mine", "technologies": ["persons"]})).await;
    let delete = |k: String| app.client.delete(app.url(&format!("/__admin/backend-keys/{k}"))).send();
    assert_eq!(delete(key.clone()).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(delete(key).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/__admin/backend-sessions/nope").await.0, StatusCode::NOT_FOUND);
    let html = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(ORG) && html.contains("data-testid=\"backend\""), "the dashboard lists the keys");
}

#[tokio::test]
async fn strict_mode_refuses_what_it_warns_about() {
    let app = spawn_with(biometric_kz_mock::Config { strict: true, ..Default::default() }).await;
    let body = json!({"api_key": ORG, "iin": IIN, "phone": PHONE}).to_string();
    let response =
        app.client.post(app.url(REQUEST)).header("content-type", "text/plain").body(body).send().await.unwrap();
    let (status, answer) = read(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["detail"].as_str().unwrap().starts_with("Refused by --strict: content-type"), "{answer}");
    assert_eq!(app.get("/__admin/backend-sessions").await.1, json!([]), "nothing was requested");
}

/// Random multipart and JSON bodies around the real shapes, on every backend endpoint: never a
/// 5xx, never unanswered.
#[tokio::test]
async fn random_bodies_on_every_backend_endpoint_never_give_a_5xx() {
    let app = spawn_app().await;
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let fields = [
        "api_key",
        "image",
        "img_1",
        "img_2",
        "frontside_image",
        "backside_image",
        "country_code",
        "file",
        "image_b64",
        "photo_type",
        "is_verified",
        "aliases",
        "iin",
        "phone",
        "backend_session_id",
        "code",
        "file_type",
    ];
    let values: Vec<Value> = vec![
        json!(ORG),
        json!(EVERYONE),
        json!(""),
        json!(null),
        json!(true),
        json!(7),
        json!([]),
        json!({}),
        json!(IIN),
        json!(PHONE),
        json!("live"),
        json!("pdf"),
        json!("123456"),
        json!(uuid::Uuid::new_v4()),
        json!("\"'><script>\u{0}😀"),
        json!(["a", 1, null]),
        json!("k".repeat(3000)),
    ];
    let files: Vec<Vec<u8>> = vec![
        photo("face.jpg"),
        photo("face.png"),
        Vec::new(),
        b"%PDF-1.4".to_vec(),
        vec![0xff; 40],
        b"\x89PNG".to_vec(),
    ];
    for i in 0..400 {
        let path = [LIVENESS, COMPARE, PARSE, PROCESS, PERSONS, REQUEST, APPROVE][rng.random_range(0..7)];
        let request = if rng.random_ratio(1, 2) {
            let mut form = Form::new();
            for _ in 0..rng.random_range(0..6) {
                let name = fields[rng.random_range(0..fields.len())];
                form = if rng.random() {
                    form.part(name, file("f.bin", files[rng.random_range(0..files.len())].clone()))
                } else {
                    form.text(name, values[rng.random_range(0..values.len())].to_string())
                };
            }
            app.client.post(app.url(path)).multipart(form)
        } else {
            let mut body = serde_json::Map::new();
            for _ in 0..rng.random_range(0..6) {
                body.insert(
                    fields[rng.random_range(0..fields.len())].to_owned(),
                    values[rng.random_range(0..values.len())].clone(),
                );
            }
            app.client.post(app.url(path)).json(&body)
        };
        let response = request.send().await.unwrap_or_else(|e| panic!("case {i} {path}: no answer: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(!status.is_server_error(), "case {i} {path}: {status}: {text}");
        assert!(serde_json::from_str::<Value>(&text).is_ok(), "case {i} {path}: a JSON answer: {text}");
    }
}

#[tokio::test]
async fn backend_sessions_and_persons_are_bounded_and_bodies_by_max_body() {
    let app =
        spawn_with(biometric_kz_mock::Config { max_sessions: 2, max_body: 64 * 1024, ..Default::default() }).await;
    let mut ids = Vec::new();
    for iin in [IIN, "880315400010", "900101390012"] {
        ids.push(requested(&app, ORG, iin).await.0);
    }
    let (_, held) = app.get("/__admin/backend-sessions").await;
    let held: Vec<&str> = held.as_array().unwrap().iter().map(|s| s["backend_session_id"].as_str().unwrap()).collect();
    assert_eq!(held.len(), 2, "--max-sessions bounds them: {held:?}");
    assert!(!held.contains(&ids[0].as_str()), "the oldest went first");
    let image_b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, photo("face.png"));
    for alias in ["a", "b", "c"] {
        let body = json!({"api_key": ORG, "image_b64": image_b64, "photo_type": "scan", "is_verified": false, "aliases": [alias]});
        assert_eq!(post_json(&app, PERSONS, body).await.0, StatusCode::OK);
    }
    assert_eq!(app.get("/__admin/persons").await.1.as_array().unwrap().len(), 2, "persons too");
    let again =
        json!({"api_key": ORG, "image_b64": image_b64, "photo_type": "scan", "is_verified": false, "aliases": ["a"]});
    assert_eq!(post_json(&app, PERSONS, again).await.0, StatusCode::OK, "an evicted person's alias is free again");
    let many: Vec<String> = (0..101).map(|i| format!("alias-{i}")).collect();
    let body =
        json!({"api_key": ORG, "image_b64": image_b64, "photo_type": "scan", "is_verified": false, "aliases": many});
    let (status, refused) = post_json(&app, PERSONS, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused["aliases"][0].as_str().unwrap().contains("at most 100"), "{refused}");
    let big = Form::new().text("api_key", ORG).part("image", file("big.jpg", vec![0xff; 200 * 1024]));
    let (status, body) = post_form(&app, LIVENESS, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("--max-body"), "{body}");
}

#[tokio::test]
async fn the_in_process_handle_shows_backend_sessions_with_their_codes() {
    let server = biometric_kz_mock::MockServer::start().await;
    let client = reqwest::Client::new();
    let body = json!({"api_key": ORG, "iin": IIN, "phone": PHONE});
    let created: Value =
        client.post(format!("{}{REQUEST}", server.uri())).json(&body).send().await.unwrap().json().await.unwrap();
    let sessions = server.backend_sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].backend_session_id.to_string(), created["backend_session_id"].as_str().unwrap());
    assert_eq!((sessions[0].iin.as_str(), sessions[0].state.as_str()), (IIN, "awaiting_code"));
    let approve = json!({"backend_session_id": sessions[0].backend_session_id, "code": sessions[0].otp});
    let response = client.post(format!("{}{APPROVE}", server.uri())).json(&approve).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(server.backend_sessions()[0].state, "received");
    assert_eq!(server.backend_keys()[0].api_key.as_str(), ORG);
}

#[tokio::test]
async fn the_dashboard_adds_and_deletes_keys_and_shows_the_sms_codes() {
    let app = spawn_app().await;
    let (_, otp) = requested(&app, ORG, IIN).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(app.url("/dashboard/backend-keys"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Shop&technologies=edocument&technologies=persons")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, keys) = app.get("/__admin/backend-keys").await;
    let added = keys.as_array().unwrap().iter().find(|k| k["name"] == "Shop").expect("added").clone();
    assert_eq!(added["technologies"], json!(["edocument", "persons"]));
    let html = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("data-testid=\"backend-otp\">{otp}<")), "the SMS code is on the dashboard");
    let key = added["api_key"].as_str().unwrap();
    let response = client.post(app.url(&format!("/dashboard/backend-keys/{key}/delete"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/__admin/backend-keys").await.1.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_dropped_connection_and_a_delay_are_played_on_backend_endpoints() {
    let app = spawn_app().await;
    let image_b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, photo("face.png"));
    let person = json!({"api_key": ORG, "image_b64": image_b64, "photo_type": "digital", "is_verified": true});
    post_json(&app, "/__admin/faults", json!({"endpoint": "persons", "drop_connection": true, "times": 1})).await;
    let dropped = app.client.post(app.url(PERSONS)).json(&person).send().await;
    assert!(dropped.is_err(), "the connection is dropped without an answer: {dropped:?}");
    assert_eq!(app.get("/__admin/persons").await.1, json!([]), "nothing was registered");
    post_json(&app, "/__admin/faults", json!({"endpoint": "edocument_request", "delay_ms": 300, "times": 1})).await;
    let started = std::time::Instant::now();
    let (id, _) = requested(&app, ORG, IIN).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "delayed, then answered: {id}");
    assert_eq!(post_json(&app, PERSONS, person).await.0, StatusCode::OK, "the rule was used up");
}
