//! The liveness video and the signed PDF reports, as files a client stores, plays and verifies.

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, IIN, INDIVIDUALS, TestApp, read, scratch_dir, spawn_app, spawn_with, tool};
use biometric_kz_mock::Config;

const FIXTURE: &[u8] = include_bytes!("../../fixtures/video/liveness.mp4");

async fn video(app: &TestApp, sid: &str, key: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url("/api/v1/liveness/video/download/"))
        .query(&[("session_id", sid), ("flow_api_key", key)]);
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    request.send().await.expect("request sent")
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn the_video_is_served_once_liveness_is_done_with_download_headers() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let (status, body) = read(video(&app, &sid, EVERYONE, None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no liveness yet");
    assert!(body["detail"].as_str().unwrap().contains("no liveness video"), "{body}");

    app.complete(&sid, Some(json!({"outcomes": {"liveness": "failed"}}))).await;
    let response = video(&app, &sid, EVERYONE, None).await;
    assert_eq!(response.status(), StatusCode::OK, "a failed liveness was recorded too");
    assert_eq!(header(&response, "content-type"), "video/mp4");
    assert_eq!(header(&response, "content-length"), FIXTURE.len().to_string());
    assert_eq!(header(&response, "accept-ranges"), "bytes");
    assert_eq!(header(&response, "content-disposition"), format!("attachment; filename=\"liveness-{sid}.mp4\""));
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..], FIXTURE, "the fixture's bytes");
    assert!(FIXTURE.len() < 1024 * 1024 && &FIXTURE[4..8] == b"ftyp", "a small MP4");
}

#[tokio::test]
async fn byte_ranges_are_served_as_a_video_player_asks_for_them() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.complete(&sid, None).await;
    let total = FIXTURE.len();
    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, total - 1),
        ("bytes=-10", total - 10, total - 1),
        (&format!("bytes=5-{}", total + 50) as &str, 5, total - 1),
        // RFC 9110: a suffix longer than the file is the whole file; the unit is case-insensitive.
        ("bytes=-99999999", 0, total - 1),
        ("Bytes=0-9", 0, 9),
    ] {
        let response = video(&app, &sid, EVERYONE, Some(range)).await;
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(header(&response, "content-range"), format!("bytes {start}-{end}/{total}"), "{range}");
        assert_eq!(header(&response, "content-length"), (end - start + 1).to_string(), "{range}");
        assert_eq!(&response.bytes().await.unwrap()[..], &FIXTURE[start..=end], "{range}");
    }
    for unsatisfiable in [format!("bytes={}-", total + 1), "bytes=-0".to_owned()] {
        let response = video(&app, &sid, EVERYONE, Some(&unsatisfiable)).await;
        assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{unsatisfiable}");
        assert_eq!(header(&response, "content-range"), format!("bytes */{total}"));
    }
    for ignored in ["items=0-5", "bytes=0-5,10-20", "bytes=x-y"] {
        let response = video(&app, &sid, EVERYONE, Some(ignored)).await;
        assert_eq!(response.status(), StatusCode::OK, "{ignored} is answered with the whole file");
        assert_eq!(response.bytes().await.unwrap().len(), total);
    }
}

#[tokio::test]
async fn the_video_checks_its_parameters_as_the_result_endpoint_does() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.complete(&sid, None).await;
    let (status, body) = app.get("/api/v1/liveness/video/download/").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"session_id": ["This field is required."], "flow_api_key": ["This field is required."]}));
    assert_eq!(
        read(video(&app, "nope", EVERYONE, None).await).await.1,
        json!({"session_id": ["Must be a valid UUID."]})
    );
    assert_eq!(
        read(video(&app, &sid, INDIVIDUALS, None).await).await,
        (StatusCode::NOT_FOUND, json!({"detail": "Not found."}))
    );
    let (status, body) =
        app.get(&format!("/api/v1/liveness/video/download?session_id={sid}&flow_api_key={EVERYONE}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["detail"].as_str().unwrap().contains("/api/v1/liveness/video/download/"), "{body}");
}

/// A tiny WebM header: enough for the mock, which checks the first bytes.
const WEBM: &[u8] = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm-test-bytes";

#[tokio::test]
async fn the_video_can_be_replaced_by_a_flag_or_per_scenario() {
    let dir = scratch_dir("video");
    std::fs::write(dir.join("clip.webm"), WEBM).unwrap();
    std::fs::write(dir.join("own.json"), json!({"name": "own-video", "video": "clip.webm"}).to_string()).unwrap();
    let mut other = FIXTURE.to_vec();
    other.extend_from_slice(b"-with-a-tail");
    std::fs::write(dir.join("other.mp4"), &other).unwrap();
    let app = spawn_with(Config {
        scenarios_dir: Some(dir.clone()),
        video_file: Some(dir.join("other.mp4")),
        ..Config::default()
    })
    .await;
    let plain = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.complete(&plain, None).await;
    let response = video(&app, &plain, EVERYONE, None).await;
    assert_eq!(&response.bytes().await.unwrap()[..], &other[..], "--video replaces the built-in video");
    let own = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.complete(&own, Some(json!({"scenario": "own-video"}))).await;
    let response = video(&app, &own, EVERYONE, None).await;
    assert_eq!(header(&response, "content-type"), "video/webm");
    assert!(header(&response, "content-disposition").ends_with(".webm\""));
    assert_eq!(&response.bytes().await.unwrap()[..], WEBM, "the scenario's own video");

    std::fs::write(dir.join("not-a-video.mp4"), b"hello").unwrap();
    let e = biometric_kz_mock::Application::build(Config {
        port: 0,
        video_file: Some(dir.join("not-a-video.mp4")),
        ..Config::default()
    })
    .await
    .err()
    .expect("refused")
    .to_string();
    assert!(e.contains("not-a-video.mp4") && e.contains("not an MP4 or WebM"), "{e}");
}

async fn report(app: &TestApp, sid: &str, technology: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut url = app.url(&format!("/api/v1/flows/session/{sid}/report/"));
    if let Some(t) = technology {
        url = format!("{url}?technology={t}");
    }
    read(app.client.post(url).json(&body).send().await.expect("request sent")).await
}

#[tokio::test]
async fn each_report_precondition_has_its_own_clear_400() {
    let app = spawn_app().await;
    let key = json!({"api_key": EVERYONE});
    let with_iin = app.create_ok(&json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": IIN}}})).await;
    let without_iin = app.create_ok(&key).await;
    app.complete(&without_iin, None).await;

    let cases: Vec<(&str, Option<&str>, Value, StatusCode, Value)> = vec![
        (&with_iin, None, key.clone(), StatusCode::BAD_REQUEST, json!({"technology": ["This field is required."]})),
        (
            &with_iin,
            Some("XYZ"),
            key.clone(),
            StatusCode::BAD_REQUEST,
            json!({"technology": ["\"XYZ\" is not a valid choice."]}),
        ),
        (
            &with_iin,
            Some("ED"),
            key.clone(),
            StatusCode::BAD_REQUEST,
            json!({"technology": ["\"ED\" is not a valid choice."]}),
        ),
        (&with_iin, Some("LDHP"), json!({}), StatusCode::BAD_REQUEST, json!({"api_key": ["This field is required."]})),
        (
            &with_iin,
            Some("LDHP"),
            json!([EVERYONE]),
            StatusCode::BAD_REQUEST,
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ),
        (&with_iin, Some("LDHP"), json!({"api_key": "x".repeat(48)}), StatusCode::FORBIDDEN, Value::Null),
        (
            &with_iin,
            Some("LDHP"),
            json!({"api_key": INDIVIDUALS}),
            StatusCode::NOT_FOUND,
            json!({"detail": "Not found."}),
        ),
        (
            "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            Some("LDHP"),
            key.clone(),
            StatusCode::NOT_FOUND,
            json!({"detail": "Not found."}),
        ),
        ("not-a-uuid", Some("LDHP"), key.clone(), StatusCode::NOT_FOUND, json!({"detail": "Not found."})),
        // A non-UUID id is a route Django would not match: 404 before the key or anything else.
        (
            "not-a-uuid",
            Some("LDHP"),
            json!({"api_key": "x".repeat(48)}),
            StatusCode::NOT_FOUND,
            json!({"detail": "Not found."}),
        ),
        ("not-a-uuid", None, json!([1]), StatusCode::NOT_FOUND, json!({"detail": "Not found."})),
        (
            &with_iin,
            Some("LDD"),
            key.clone(),
            StatusCode::BAD_REQUEST,
            json!({"technology": ["LDD is not a technology of this session (LDHP, F2F)."]}),
        ),
    ];
    for (sid, technology, body, status, expected) in cases {
        let (got_status, got) = report(&app, sid, technology, body.clone()).await;
        assert_eq!(got_status, status, "{technology:?} {body}: {got}");
        if expected != Value::Null {
            assert_eq!(got, expected, "{technology:?} {body}");
        }
    }
    let (status, body) = report(&app, &with_iin, Some("LDHP"), key.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().contains("not finished (it is pending)"), "{body}");
    let (status, body) = report(&app, &without_iin, Some("LDHP"), key.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().contains("metadata.extra.iin"), "{body}");
}

fn decode_pdf(body: &Value) -> Vec<u8> {
    let pdf =
        base64::engine::general_purpose::STANDARD.decode(body["pdf"].as_str().expect("a pdf field")).expect("base64");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    pdf
}

/// Runs a poppler tool on the PDF (tests that do are ignored unless asked for).
fn poppler(tool_name: &str, pdf: &[u8]) -> String {
    let program = tool(&format!("BKZ_MOCK_{}", tool_name.to_uppercase()), &[tool_name], "poppler-utils");
    let file = scratch_dir("pdf").join("report.pdf");
    std::fs::write(&file, pdf).unwrap();
    let mut command = std::process::Command::new(program);
    if tool_name == "pdftotext" {
        command.args(["-layout", file.to_str().unwrap(), "-"]);
    } else {
        command.arg(file.to_str().unwrap());
    }
    let out = command.output().expect("the tool runs");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[tokio::test]
#[ignore = "needs poppler-utils"]
async fn a_liveness_report_prints_every_value_in_russian_and_english_and_is_signed() {
    let app = spawn_app().await;
    let metadata = json!({"extra": {"iin": "900101390012"}});
    let sid = app.create_ok(&json!({"api_key": EVERYONE, "metadata": metadata})).await;
    let (_, session) = app.complete(&sid, None).await;
    let (_, result) = app.result(&sid, EVERYONE).await;
    let (status, body) = report(&app, &sid, Some("LDHP"), json!({"api_key": EVERYONE})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1, "only pdf");
    let pdf = decode_pdf(&body);
    let text = poppler("pdftotext", &pdf);
    for value in [
        sid.as_str(),
        "Flow for everyone",
        "900101390012",
        "LDHP — Liveness Head Position",
        "Отчёт о проверке живости",
        "Liveness check report",
        "не пройдено / failed",
        result["liveness_result"]["prediction"].as_str().unwrap(),
        "CALC_RESULT: Low overall prediction",
        session["created_at"].as_str().unwrap(),
        session["finished_at"].as_str().unwrap(),
        "ТЕСТОВЫЙ ДОКУМЕНТ",
        "TEST DOCUMENT",
    ] {
        assert!(text.contains(value), "{value:?} in the PDF's text:\n{text}");
    }
    let verdict = poppler("pdfsig", &pdf);
    assert!(verdict.contains("Signature is Valid."), "{verdict}");
    assert!(verdict.contains("adbe.pkcs7.detached"), "{verdict}");
    assert!(verdict.contains("Total document signed"), "{verdict}");

    let (status, pem) = {
        let response = app.client.get(app.url("/__admin/signing-certificate")).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    };
    assert_eq!(status, StatusCode::OK);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(verdict.contains("biometric-kz-mock TEST signer"), "signed by the published test certificate: {verdict}");
}

#[tokio::test]
#[ignore = "needs poppler-utils"]
async fn a_face_comparison_report_has_its_own_title_and_the_percentage() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": IIN}}})).await;
    app.complete(&sid, None).await;
    let (_, result) = app.result(&sid, EVERYONE).await;
    let (status, body) = report(&app, &sid, Some("F2F"), json!({"api_key": EVERYONE})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let text = poppler("pdftotext", &decode_pdf(&body));
    let f2f = &result["face2face_result"];
    for value in [
        "Отчёт о сравнении лиц".to_owned(),
        "Face comparison report".to_owned(),
        "F2F — Face2Face".to_owned(),
        "пройдено / passed".to_owned(),
        format!("{} ({}%)", f2f["prediction"].as_str().unwrap(), f2f["prediction_percent"].as_str().unwrap()),
    ] {
        assert!(text.contains(&value), "{value:?} in:\n{text}");
    }
}

#[tokio::test]
#[ignore = "needs poppler-utils"]
async fn a_tampered_report_fails_pdfsig() {
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": IIN}}})).await;
    app.complete(&sid, None).await;
    let (_, body) = report(&app, &sid, Some("LDHP"), json!({"api_key": EVERYONE})).await;
    let mut pdf = decode_pdf(&body);
    let at = pdf.windows(IIN.len()).position(|w| w == IIN.as_bytes());
    // The IIN is in a compressed stream; change a byte of the document's metadata instead when
    // it is not found as text.
    let at = at.unwrap_or_else(|| pdf.windows(5).position(|w| w == b"/Type").unwrap() + 1);
    pdf[at] ^= 0x01;
    let verdict = poppler("pdfsig", &pdf);
    assert!(!verdict.contains("Signature is Valid."), "a changed byte breaks the signature: {verdict}");
}

#[tokio::test]
async fn reports_wait_for_a_processing_delay() {
    let app = spawn_app().await;
    // results-slow's magic IIN as extra.iin, so the report's IIN precondition holds too.
    let sid = app.create_ok(&json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": "900101390072"}}})).await;
    app.complete(&sid, None).await;
    let (status, body) = report(&app, &sid, Some("LDHP"), json!({"api_key": EVERYONE})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().contains("still being processed"), "{body}");
}

#[tokio::test]
async fn many_reports_at_once_all_arrive_and_the_api_keeps_answering() {
    // Reports take turns (one core fewer than the machine has); the rest wait, none fails.
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": IIN}}})).await;
    app.complete(&sid, None).await;
    let url = app.url(&format!("/api/v1/flows/session/{sid}/report/?technology=F2F"));
    let mut reports = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let request = app.client.post(&url).json(&json!({"api_key": EVERYONE}));
        reports.spawn(async move { read(request.send().await.expect("request sent")).await });
    }
    let (status, body) = app.result(&sid, EVERYONE).await;
    assert_eq!(status, StatusCode::OK, "the result endpoint answers while reports are drawn: {body}");
    let mut arrived = 0;
    while let Some(answer) = reports.join_next().await {
        let (status, body) = answer.expect("the request task ran");
        assert_eq!(status, StatusCode::OK, "{body}");
        decode_pdf(&body);
        arrived += 1;
    }
    assert_eq!(arrived, 12);
}
