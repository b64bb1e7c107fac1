//! Bad input of every shape gets a 4xx in the vendor's error shape, never a 5xx, and the server
//! keeps serving.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, INDIVIDUALS, LEGAL, spawn_app};

async fn assert_handled(app: &crate::helpers::TestApp, body: Vec<u8>, what: &str) {
    let response = app.create_raw(body, Some("application/json")).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(!status.is_server_error(), "{what}: a server error {status}: {text}");
    if status != StatusCode::OK {
        assert!(status.is_client_error(), "{what}: {status}");
        let json: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"));
        assert!(json.is_object(), "{what}: an object: {json}");
    }
}

#[tokio::test]
async fn malformed_and_hostile_bodies_never_give_a_5xx() {
    let app = spawn_app().await;
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_metadata =
        format!("{{\"api_key\":\"{EVERYONE}\",\"metadata\":{}1{}}}", "{\"a\":".repeat(120), "}".repeat(120));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("invalid UTF-8", b"{\"api_key\": \"\xff\xfe\"}".to_vec()),
        ("NUL bytes", b"{\"api_key\": \"\0\0\"}\0".to_vec()),
        ("deep array", deep_array.into_bytes()),
        ("deep metadata", deep_metadata.into_bytes()),
        ("huge number", format!("{{\"api_key\": 1{}}}", "0".repeat(5000)).into_bytes()),
        ("huge float", b"{\"api_key\": 1e999999}".to_vec()),
        ("duplicate keys", format!("{{\"api_key\":\"x\",\"api_key\":\"{EVERYONE}\"}}").into_bytes()),
        ("trailing garbage", format!("{{\"api_key\":\"{EVERYONE}\"}} garbage").into_bytes()),
        ("two documents", format!("{{\"api_key\":\"{EVERYONE}\"}}{{}}").into_bytes()),
        ("script in key", b"{\"api_key\": \"<script>alert(1)</script>\"}".to_vec()),
        ("long key", format!("{{\"api_key\": \"{}\"}}", "k".repeat(1_000_000)).into_bytes()),
        ("unicode escapes", b"{\"api_key\": \"\\ud800\"}".to_vec()),
        ("control characters", b"{\"api_key\": \"a\x01b\"}".to_vec()),
        (
            "photo of zeros",
            format!("{{\"api_key\":\"{EVERYONE}\",\"metadata\":{{\"face2face\":{{\"photo1\":\"AAAA\"}}}}}}")
                .into_bytes(),
        ),
        (
            "photo of padding",
            format!("{{\"api_key\":\"{EVERYONE}\",\"metadata\":{{\"face2face\":{{\"photo1\":\"====\"}}}}}}")
                .into_bytes(),
        ),
        (
            "emoji IIN",
            format!(
                "{{\"api_key\":\"{INDIVIDUALS}\",\"metadata\":{{\"edocument\":{{\"iin\":{{\"value\":\"😀😀😀\"}}}}}}}}"
            )
            .into_bytes(),
        ),
        (
            "IIN of 12 non-ASCII digits",
            format!("{{\"api_key\":\"{INDIVIDUALS}\",\"metadata\":{{\"extra\":{{\"iin\":\"٩٠٠١٠١٣٠٠٠١٧\"}}}}}}")
                .into_bytes(),
        ),
    ];
    for (what, body) in cases {
        assert_handled(&app, body, what).await;
    }
    assert_eq!(app.get("/__admin/health").await.0, StatusCode::OK, "still serving");
}

/// Random JSON documents built around the real request shape, mutated at every level.
#[tokio::test]
async fn random_bodies_around_the_real_shape_never_give_a_5xx() {
    let app = spawn_app().await;
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    for i in 0..400 {
        let body = random_request(&mut rng);
        let bytes = serde_json::to_vec(&body).unwrap();
        assert_handled(&app, bytes, &format!("case {i}: {body}")).await;
    }
}

fn random_request(rng: &mut ChaCha8Rng) -> Value {
    let template = json!({
        "api_key": INDIVIDUALS,
        "metadata": {
            "face2face": {"photo1": "/9j/4AAQ"},
            "edocument": {"iin": {"value": "900101300017", "changeable": false}, "phone": {"value": "77011234567", "changeable": false}, "skip_input": true},
            "general": {"interchangeable_tech": ["LDHP", "ED"]},
            "extra": {"iin": "900101300017"}
        }
    });
    mutate(template, rng, 0)
}

fn mutate(value: Value, rng: &mut ChaCha8Rng, depth: u32) -> Value {
    if rng.random_ratio(1, 6) {
        return random_scalar(rng, depth);
    }
    match value {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                if !rng.random_ratio(1, 8) {
                    out.insert(k, mutate(v, rng, depth + 1));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|v| mutate(v, rng, depth + 1)).collect()),
        other => other,
    }
}

fn random_scalar(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    match rng.random_range(0..9) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random::<i64>()),
        3 => json!(rng.random::<f64>() * 1e12),
        4 => json!(String::new()),
        5 => json!((0..rng.random_range(0..20)).map(|_| rng.random::<char>()).collect::<String>()),
        6 => json!(format!("{:012}", rng.random_range(0..1_000_000_000_000_u64))),
        7 if depth < 6 => json!([random_scalar(rng, depth + 1), random_scalar(rng, depth + 1)]),
        _ if depth < 6 => json!({"x": random_scalar(rng, depth + 1)}),
        _ => json!("<script>alert(1)</script>"),
    }
}

/// What a hostile string becomes if a page writes it without escaping.
const MARKER: &str = "<script>bkz</script>";

/// Random requests to every route the OpenAPI document lists: path parameters, queries, bodies
/// and content types, real values mixed with hostile ones, the listed method or another. None may
/// get a 5xx or go unanswered, and no HTML answer may carry a hostile string unescaped.
#[tokio::test]
async fn random_requests_to_every_route_never_give_a_5xx() {
    let app = spawn_app().await;
    let routes = listed_routes(&app).await;
    assert!(routes.len() > 20, "{routes:?}");
    let hostile = format!("\"'>{MARKER}\u{202e}%00\\../..;\r\n\u{0}😀");
    let mut values: Vec<String> = vec![
        String::new(),
        uuid::Uuid::new_v4().to_string(),
        EVERYONE.to_owned(),
        INDIVIDUALS.to_owned(),
        LEGAL.to_owned(),
        hostile,
        String::new(),
        "LDHP".into(),
        "F2F".into(),
        "ED".into(),
        "DR".into(),
        "ldhp".into(),
        "-1".into(),
        "18446744073709551616".into(),
        "1e309".into(),
        "en".into(),
        "kz".into(),
        "http://example.com/back".into(),
        "k".repeat(5_000),
    ];
    let keys =
        ["session_id", "flow_api_key", "api_key", "technology", "locale", "redirect", "limit", "path", "seconds", "x"];
    // Redirects (the page's `redirect`) are answers here, not places to go.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(26);
    let (mut key, mut escaped) = (EVERYONE, 0);
    for i in 0..3_000 {
        if i % 25 == 0 {
            (values[0], key) = fresh_session(&app, &mut rng).await;
        }
        let (listed, template) = &routes[rng.random_range(0..routes.len())];
        let method = if rng.random_ratio(1, 8) {
            ["GET", "POST", "PUT", "DELETE", "PATCH"][rng.random_range(0..5)]
        } else {
            listed.as_str()
        };
        let path = filled(template, &mut rng, &values);
        let mut query: Vec<String> = Vec::new();
        if rng.random_ratio(2, 5) {
            query.push(format!("session_id={}&flow_api_key={key}", values[0]));
        }
        for _ in 0..rng.random_range(0..3) {
            let key = keys[rng.random_range(0..keys.len())];
            query.push(format!("{key}={}", percent_encoded(&any(&mut rng, &values))));
        }
        let (content_type, body) = if template.ends_with("/report/") && rng.random() {
            // The report's real shape half the time: it needs both the query and the body.
            query.push(format!("technology={}", ["LDHP", "F2F", "ED", "DR"][rng.random_range(0..4)]));
            (Some("application/json"), json!({"api_key": key}).to_string().into_bytes())
        } else {
            random_body(&mut rng, &values)
        };
        let url = if query.is_empty() { app.url(&path) } else { app.url(&format!("{path}?{}", query.join("&"))) };
        let mut request =
            client.request(method.parse().unwrap(), &url).body(body.clone()).header("accept", "text/html");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let what = format!("case {i}: {method} {url} ({content_type:?}) {}", String::from_utf8_lossy(&body));
        let response = request.send().await.unwrap_or_else(|e| panic!("{what}: no answer: {e:?}"));
        let status = response.status();
        let is_html = response.headers().get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
        let text = response.text().await.unwrap_or_default();
        assert!(!status.is_server_error(), "{what}: {status}: {text}");
        assert!(!(is_html && text.contains(MARKER)), "{what}: the page carries the hostile string unescaped");
        escaped += usize::from(is_html && text.contains("bkz"));
    }
    assert!(escaped > 20, "hostile strings reached the pages, escaped, only {escaped} times");
    assert_eq!(app.get("/__admin/health").await.0, StatusCode::OK, "still serving");
}

/// Every byte but letters, digits and '-' as `%XX`.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// One of `values`, at random.
fn any(rng: &mut ChaCha8Rng, values: &[String]) -> String {
    values[rng.random_range(0..values.len())].clone()
}

/// A body and its content type: none, JSON near the real shapes or mutated, a form, or bytes.
fn random_body(rng: &mut ChaCha8Rng, values: &[String]) -> (Option<&'static str>, Vec<u8>) {
    let json = match rng.random_range(0..8) {
        0 => return (None, Vec::new()),
        1 => json!({"api_key": any(rng, values)}),
        2 if rng.random() => json!({"seconds": rng.random_range(0.0..1e13)}),
        2 => json!({"seconds": random_scalar(rng, 0)}),
        3 => json!({"scenario": any(rng, values), "outcome": any(rng, values), "technologies": [any(rng, values)]}),
        4 => json!({"name": any(rng, values), "technologies": [any(rng, values)], "webhook_url": any(rng, values)}),
        5 => {
            let form: Vec<String> =
                form_fields(rng, values).iter().map(|(k, v)| format!("{k}={}", percent_encoded(v))).collect();
            return (Some("application/x-www-form-urlencoded"), form.join("&").into_bytes());
        }
        6 => return (Some("multipart/form-data; boundary=bkz-boundary"), multipart(rng, values)),
        _ => random_request(rng),
    };
    let mut bytes = serde_json::to_vec(&json).unwrap();
    if rng.random_ratio(1, 10) {
        bytes.truncate(rng.random_range(0..=bytes.len()));
    }
    let content_type = if rng.random_ratio(7, 10) {
        "application/json"
    } else {
        ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1"][rng.random_range(0..3)]
    };
    (Some(content_type), bytes)
}

/// The page's and the dashboard's form fields, each there half the time, real or hostile.
fn form_fields(rng: &mut ChaCha8Rng, values: &[String]) -> Vec<(&'static str, String)> {
    let mut choices: Vec<(&'static str, Vec<String>)> = vec![
        ("action", vec!["passed".into(), "failed".into(), "scripted".into()]),
        ("reason", vec!["FACE_NOT_FOUND".into(), "eyes_closed".into()]),
        ("phase", vec!["input".into(), "otp".into()]),
        ("iin", vec!["900101300017".into(), "900101300018".into()]),
        ("phone", vec!["77011234567".into(), "+7 701 123 45 67".into()]),
        ("otp", vec!["1234".into(), "000000".into()]),
        ("name", vec!["Mine".into()]),
        ("technologies", vec!["F2F".into(), "LDHP".into()]),
        ("scenario", vec!["happy-path".into()]),
    ];
    choices.retain(|_| rng.random());
    choices
        .into_iter()
        .map(|(name, mut real)| {
            real.push(any(rng, values));
            (name, real.swap_remove(rng.random_range(0..real.len())))
        })
        .collect()
}

/// A multipart form like the page's: some fields, and a photo or document whose bytes are an
/// image's start, random bytes, or nothing.
fn multipart(rng: &mut ChaCha8Rng, values: &[String]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in form_fields(rng, values) {
        body.extend_from_slice(
            format!("--bkz-boundary\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    if rng.random() {
        let field = ["photo", "document"][rng.random_range(0..2)];
        let mut bytes: Vec<u8> = match rng.random_range(0..3) {
            0 => b"\x89PNG\r\n\x1a\n".to_vec(),
            1 => vec![0xFF, 0xD8, 0xFF, 0xE0],
            _ => Vec::new(),
        };
        bytes.extend((0..rng.random_range(0..64)).map(|_| rng.random::<u8>()));
        let file_name = percent_encoded(&any(rng, values));
        body.extend_from_slice(
            format!("--bkz-boundary\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(&bytes);
        body.extend_from_slice(b"\r\n");
    }
    if rng.random_ratio(9, 10) {
        body.extend_from_slice(b"--bkz-boundary--\r\n");
    }
    body
}

/// Every route and method the OpenAPI document lists, but adding fault rules (they script 5xx
/// answers on purpose; their own tests cover them).
async fn listed_routes(app: &crate::helpers::TestApp) -> Vec<(String, String)> {
    let (_, spec) = app.get("/__admin/openapi.json").await;
    let mut routes = Vec::new();
    for (path, methods) in spec["paths"].as_object().expect("paths") {
        for method in methods.as_object().expect("methods").keys() {
            if path != "/__admin/faults" || method == "get" {
                routes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

/// A fresh start, since random calls reset the state and delete flows: a flow named with the
/// hostile marker, a new session of a built-in flow and its key, with the client's IIN half the time (reports need it), finished
/// half the time (so that results and reports exist).
async fn fresh_session(app: &crate::helpers::TestApp, rng: &mut ChaCha8Rng) -> (String, &'static str) {
    let reset = app.client.post(app.url("/__admin/reset")).send().await.unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let key = [EVERYONE, INDIVIDUALS, LEGAL][rng.random_range(0..3)];
    let body = if rng.random() {
        json!({"api_key": key, "metadata": {"extra": {"iin": "900101300017"}}})
    } else {
        json!({"api_key": key})
    };
    let session = app.create_ok(&body).await;
    // A flow whose name the dashboard must escape.
    let name = percent_encoded(&format!("{MARKER} flow"));
    let added = app.client.post(app.url("/dashboard/flows")).body(format!("name={name}&technologies=F2F"));
    let added = added.header("content-type", "application/x-www-form-urlencoded").send().await.unwrap();
    assert!(added.status().is_success() || added.status().is_redirection(), "{}", added.status());
    if rng.random() {
        assert_eq!(app.complete(&session, None).await.0, StatusCode::OK);
    }
    (session, key)
}

/// `template` with each `{parameter}` filled: the live session (`values[0]`) half the time, so
/// that the handlers behind the lookup run; the page's `{code}` a technology code half the time.
fn filled(template: &str, rng: &mut ChaCha8Rng, values: &[String]) -> String {
    let mut path = String::new();
    for part in template.split_inclusive(['{', '}']) {
        if part.ends_with('}') {
            let value = match (part, rng.random_range(0..4)) {
                ("code}", 0..=1) => ["LDHP", "F2F", "ED", "DR"][rng.random_range(0..4)].to_owned(),
                (_, 0..=1) => values[0].clone(),
                _ => any(rng, values),
            };
            path.push_str(&percent_encoded(&value));
        } else {
            path.push_str(part.trim_end_matches('{'));
        }
    }
    path
}

/// Requests hyper refuses before any handler runs (a raw `<` or a byte over 0x7F in the path,
/// over 100 headers, a header line without a colon) once got empty bodies; every refusal of
/// ours answers the vendor's JSON shape.
#[tokio::test]
async fn requests_that_are_not_valid_http_get_a_json_detail_too() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let addr = app.addr().to_owned();
    let many_headers = "X-Many: y\r\n".repeat(120);
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "a raw < in the path (a pasted <session_id>)",
            b"POST /__admin/sessions/<session_id>/complete HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "400",
        ),
        ("a byte over 0x7F in the path", b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), "400"),
        ("120 headers", format!("GET / HTTP/1.1\r\n{many_headers}\r\n").into_bytes(), "431"),
        ("a header of 500 KB", format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(500_000)).into_bytes(), "431"),
        ("a header line without a colon", b"GET / HTTP/1.1\r\nBad Header\r\n\r\n".to_vec(), "400"),
    ];
    for (what, request, status) in cases {
        let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
        socket.write_all(&request).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(std::time::Duration::from_secs(3), socket.read_to_end(&mut answer))
            .await
            .unwrap()
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{what}: {answer}");
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
        assert!(head.contains("content-type: application/json"), "{what}: {head}");
        let json: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: {e}: {body:?}"));
        assert!(json["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}: {json}");
    }
}
