//! Bad input of every shape gets a 4xx in the vendor's error shape, never a 5xx, and the server
//! keeps serving.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, INDIVIDUALS, spawn_app};

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
