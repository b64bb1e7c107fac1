//! Webhooks: a flow's receiver gets the vendor's events, in order, retried when it fails.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, read, spawn_app, spawn_with};

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Value>>>,
    /// Answer 500 to this many requests first.
    failures: Arc<Mutex<u32>>,
    delay: Duration,
}

async fn receive(State(r): State<Receiver>, Json(body): Json<Value>) -> AxumStatus {
    tokio::time::sleep(r.delay).await;
    {
        let mut failures = r.failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return AxumStatus::INTERNAL_SERVER_ERROR;
        }
    }
    r.received.lock().unwrap().push(body);
    AxumStatus::NO_CONTENT
}

async fn start_receiver(failures: u32, delay: Duration) -> (String, Receiver) {
    let receiver = Receiver { failures: Arc::new(Mutex::new(failures)), delay, ..Receiver::default() };
    let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, receiver)
}

async fn flow_with_webhook(app: &TestApp, url: &str) -> String {
    let body = json!({"name": "Hooked", "technologies": ["LDHP", "F2F"], "webhook_url": url});
    let (status, flow) = read(app.client.post(app.url("/__admin/flows")).json(&body).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{flow}");
    flow["api_key"].as_str().unwrap().to_owned()
}

async fn wait_for(receiver: &Receiver, count: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let got = receiver.received.lock().unwrap().clone();
        if got.len() >= count {
            return got;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{count} webhooks arrive; got {got:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits up to 10 s until the mock has recorded `count` delivery attempts to `url`, and returns
/// them, newest first, as `/__admin/webhooks` lists them.
async fn attempts_to(app: &TestApp, url: &str, count: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let (_, attempts) = app.get("/__admin/webhooks").await;
        let to_url: Vec<Value> =
            attempts.as_array().unwrap().iter().filter(|a| a["url"] == json!(url)).cloned().collect();
        if to_url.len() >= count {
            return to_url;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{count} attempts to {url}: {attempts}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_finished_session_sends_every_event_in_order_with_the_vendors_envelope() {
    let app = spawn_app().await;
    let (url, receiver) = start_receiver(0, Duration::ZERO).await;
    let key = flow_with_webhook(&app, &url).await;
    let sid = app.create_ok(&json!({"api_key": key, "metadata": {"extra": {"iin": "900101300017"}}})).await;
    app.complete(&sid, Some(json!({"outcomes": {"F2F": "failed"}}))).await;
    let got = wait_for(&receiver, 6).await;
    let events: Vec<(&str, Value, &Value)> = got
        .iter()
        .map(|e| (e["event"].as_str().unwrap(), e["data"]["technology_code"].clone(), &e["success"]))
        .collect();
    assert_eq!(
        events,
        vec![
            ("flow.start", Value::Null, &json!(true)),
            ("technology.start", json!("LDHP"), &json!(true)),
            ("technology.end", json!("LDHP"), &json!(true)),
            ("technology.start", json!("F2F"), &json!(true)),
            ("technology.end", json!("F2F"), &json!(false)),
            ("flow.end", Value::Null, &json!(false)),
        ]
    );
    for envelope in &got {
        let keys: Vec<&str> = envelope.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "event", "session_id", "created", "success", "flow_name", "metadata", "data"]);
        assert_eq!(envelope["session_id"], json!(sid));
        assert_eq!(envelope["flow_name"], "Hooked");
        assert_eq!(envelope["metadata"], json!({"extra": {"iin": "900101300017"}}));
        assert!(envelope["created"].as_i64().unwrap() > 1_700_000_000, "unix seconds");
    }
    assert_eq!(got[0]["data"], json!({"technologies": ["LDHP", "F2F"]}));
    assert_eq!(got[1]["data"]["technology_name"], "Liveness Head Position");
    assert_eq!(got[2]["data"]["result"]["result"], true);
    assert!(got[2]["data"]["result"]["prediction"].is_string());
    assert_eq!(got[5]["data"]["session_result"]["status"], "FAILED");
    let ids: std::collections::HashSet<&str> = got.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 6, "each event has its own id");
}

#[tokio::test]
async fn a_seeded_run_sends_the_same_envelope_ids() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let app = spawn_with(biometric_kz_mock::Config { seed: Some(7), ..Default::default() }).await;
        let (url, receiver) = start_receiver(0, Duration::ZERO).await;
        let key = flow_with_webhook(&app, &url).await;
        let sid = app.create_ok(&json!({"api_key": key})).await;
        app.complete(&sid, None).await;
        let ids: Vec<String> =
            wait_for(&receiver, 6).await.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
        runs.push((sid, ids));
    }
    assert_eq!(runs[0], runs[1], "the same seed, the same session and envelope ids");
}

#[tokio::test]
async fn failed_deliveries_are_retried_and_every_attempt_is_listed() {
    let app = spawn_app().await;
    let (url, receiver) = start_receiver(2, Duration::ZERO).await;
    let key = flow_with_webhook(&app, &url).await;
    let sid = app.create_ok(&json!({"api_key": key})).await;
    app.complete(&sid, None).await;
    let got = wait_for(&receiver, 6).await;
    assert_eq!(got[0]["event"], "flow.start", "the failed event is delivered first, then the rest in order");
    assert_eq!(got.iter().map(|e| e["event"].as_str().unwrap()).collect::<Vec<_>>().last(), Some(&"flow.end"));
    let (_, attempts) = app.get("/__admin/webhooks").await;
    let first: Vec<(u64, Value, bool)> = attempts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["event"] == "flow.start")
        .map(|a| (a["attempt"].as_u64().unwrap(), a["status"].clone(), a["delivered"].as_bool().unwrap()))
        .collect();
    assert_eq!(first, vec![(1, json!(500), false), (2, json!(500), false), (3, json!(204), true)]);
    assert_eq!(attempts[0]["url"], url);
}

#[tokio::test]
async fn a_slow_receiver_never_holds_up_the_session() {
    let app = spawn_app().await;
    let (url, receiver) = start_receiver(0, Duration::from_secs(2)).await;
    let key = flow_with_webhook(&app, &url).await;
    let sid = app.create_ok(&json!({"api_key": key})).await;
    let start = Instant::now();
    let (status, _) = app.complete(&sid, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "complete did not wait for the receiver: {:?}",
        start.elapsed()
    );
    assert!(receiver.received.lock().unwrap().is_empty(), "nothing delivered yet");
    wait_for(&receiver, 1).await;
}

#[tokio::test]
async fn an_unreachable_receiver_is_recorded_not_fatal() {
    let app = spawn_app().await;
    // A port held bound but not listening refuses connections, and no other socket of the suite
    // can take it meanwhile (a listener dropped at once could have been reused).
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = closed.local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/gone");
    let key = flow_with_webhook(&app, &url).await;
    let sid = app.create_ok(&json!({"api_key": key})).await;
    app.complete(&sid, None).await;
    let a = &attempts_to(&app, &url, 1).await[0];
    assert_eq!(a["status"], Value::Null);
    assert!(a["error"].as_str().unwrap().contains("request failed"), "{a}");
    assert_eq!(app.result(&sid, &key).await.1["status"], "FINISHED");
}

/// A receiver that answers each request and then closes the connection without saying so (no
/// `Connection: close`), as some servers do with idle keep-alive connections.
async fn start_closing_receiver() -> (String, Arc<Mutex<usize>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(0));
    let count = Arc::clone(&received);
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head and the body its Content-Length announces.
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                            })
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                }
                *count.lock().unwrap() += 1;
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
                // Closed a moment later, with nothing said, as an idle keep-alive timeout does.
                tokio::time::sleep(Duration::from_millis(50)).await;
            });
        }
    });
    (url, received)
}

/// Issue 15: after a receiver closed its connection without saying so, the next delivery's
/// first attempt failed on the stale pooled connection and succeeded only 200 ms later. Now it
/// is sent again at once on a fresh connection, and not counted as an attempt.
#[tokio::test]
async fn a_delivery_on_a_connection_the_receiver_closed_is_sent_again_at_once() {
    let app = spawn_app().await;
    let (url, received) = start_closing_receiver().await;
    let key = flow_with_webhook(&app, &url).await;
    for _ in 0..3 {
        let sid = app.create_ok(&json!({"api_key": key})).await;
        app.complete(&sid, None).await;
        // Let the receiver's close arrive before the next session's events.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let start = Instant::now();
    while *received.lock().unwrap() < 18 {
        assert!(start.elapsed() < Duration::from_secs(10), "18 events arrive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, attempts) = app.get("/__admin/webhooks").await;
    let failed: Vec<(&Value, &Value)> = attempts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["delivered"] != true)
        .map(|a| (&a["event"], &a["error"]))
        .collect();
    assert!(failed.is_empty(), "no attempt failed: {failed:?}");
    assert_eq!(attempts.as_array().unwrap().len(), 18, "one attempt per event");
}

#[tokio::test]
async fn up_to_five_receivers_each_get_every_event_in_order_and_a_failing_one_holds_up_no_other() {
    let app = spawn_app().await;
    let mut receivers = Vec::new();
    for i in 0..5 {
        // The third answers 500 three times (retried with backoff); the others at once.
        receivers.push(start_receiver(if i == 2 { 3 } else { 0 }, Duration::ZERO).await);
    }
    let urls: Vec<&str> = receivers.iter().map(|(url, _)| url.as_str()).collect();
    let body = json!({"name": "Five", "technologies": ["LDHP", "F2F"], "webhook_url": urls[0], "webhook_urls": urls});
    let (status, flow) = read(app.client.post(app.url("/__admin/flows")).json(&body).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{flow}");
    assert_eq!(flow["webhook_urls"], json!(urls), "all five, in order: {flow}");
    assert_eq!(flow["webhook_url"], json!(urls[0]), "the single-URL field shows the first: {flow}");
    let key = flow["api_key"].as_str().unwrap();
    let sid = app.create_ok(&json!({"api_key": key})).await;
    app.complete(&sid, None).await;
    let mut seen = Vec::new();
    for (i, (_, receiver)) in receivers.iter().enumerate() {
        let got = wait_for(receiver, 6).await;
        let events: Vec<&str> = got.iter().map(|e| e["event"].as_str().unwrap()).collect();
        assert_eq!(
            events,
            ["flow.start", "technology.start", "technology.end", "technology.start", "technology.end", "flow.end"],
            "receiver {i} gets every event in order"
        );
        assert_eq!(got[0]["metadata"], Value::Null, "no metadata: null, as the vendor's example shows");
        seen.push(got.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>());
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "every receiver gets the same event ids: {seen:?}");
    let (_, attempts) = app.get("/__admin/webhooks").await;
    let failed = attempts.as_array().unwrap().iter().filter(|a| a["url"] == urls[2] && a["delivered"] == false).count();
    assert_eq!(failed, 3, "the failing receiver's attempts are recorded against its URL: {attempts}");
    // The healthy receivers did not wait for the failing one's retries (0.2 + 0.4 + 0.8 s).
    let ended_at = |url: &str| {
        attempts
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|a| a["url"] == url && a["event"] == "flow.end" && a["delivered"] == true)
            .unwrap()["at"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        ended_at(urls[0]) < ended_at(urls[2]),
        "the first receiver had every event before the third, retried, had its last"
    );
}

#[tokio::test]
async fn a_sixth_webhook_url_or_a_repeated_one_is_refused_with_the_field_named() {
    let app = spawn_app().await;
    let urls: Vec<String> = (0..6).map(|i| format!("http://127.0.0.1:9/hook{i}")).collect();
    for (body, field, words) in [
        (json!({"name": "Six", "technologies": ["LDHP"], "webhook_urls": urls}), "webhook_urls", "at most 5"),
        (
            json!({"name": "Five+1", "technologies": ["LDHP"], "webhook_url": urls[5], "webhook_urls": urls[..5]}),
            "webhook_urls",
            "at most 5",
        ),
        (
            json!({"name": "Twice", "technologies": ["LDHP"], "webhook_urls": [urls[0], urls[0]]}),
            "webhook_urls",
            "listed twice (webhook_urls[1])",
        ),
        (
            json!({"name": "Ftp", "technologies": ["LDHP"], "webhook_urls": [urls[0], "ftp://x"]}),
            "webhook_urls",
            "http(s) URL (webhook_urls[1])",
        ),
        (
            json!({"name": "Type", "technologies": ["LDHP"], "webhook_urls": "http://x"}),
            "webhook_urls",
            "expected a sequence",
        ),
    ] {
        let (status, error) = read(app.client.post(app.url("/__admin/flows")).json(&body).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        let message = error[field].to_string();
        assert!(error.get(field).is_some() && message.contains(words), "{body}: {error}");
    }
}

#[tokio::test]
async fn metadata_given_is_carried_and_none_is_null() {
    let app = spawn_app().await;
    let (url, receiver) = start_receiver(0, Duration::ZERO).await;
    let key = flow_with_webhook(&app, &url).await;
    for body in
        [json!({"api_key": key}), json!({"api_key": key, "metadata": {"extra": {"iin": "900101300017"}, "crm_id": 7}})]
    {
        let sid = app.create_ok(&body).await;
        app.complete(&sid, None).await;
    }
    let got = wait_for(&receiver, 12).await;
    let metadata: Vec<&Value> = got.iter().map(|e| &e["metadata"]).collect();
    assert!(metadata.contains(&&Value::Null), "a session without metadata: null: {metadata:?}");
    assert!(
        metadata.contains(&&json!({"extra": {"iin": "900101300017"}, "crm_id": 7})),
        "metadata as sent, the integrator's own keys too: {metadata:?}"
    );
}

/// An `https://` receiver with a certificate of its own test CA (a self-signed one for
/// localhost), which records every body it gets; its certificate's PEM.
async fn tls_receiver() -> (String, Arc<Mutex<Vec<Value>>>, String) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    serve_tls(cert, signing_key).await
}

/// The same with what `openssl req -x509` makes: a self-signed certificate marked CA:TRUE.
async fn tls_receiver_with_a_ca_certificate() -> (String, Arc<Mutex<Vec<Value>>>, String) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let signing_key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&signing_key).unwrap();
    serve_tls(cert, signing_key).await
}

async fn serve_tls(cert: rcgen::Certificate, signing_key: rcgen::KeyPair) -> (String, Arc<Mutex<Vec<Value>>>, String) {
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}/hook", listener.local_addr().unwrap().port());
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&received);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            let kept = Arc::clone(&kept);
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let kept = Arc::clone(&kept);
                    async move {
                        let bytes = http_body_util::BodyExt::collect(request.into_body()).await.unwrap().to_bytes();
                        kept.lock().unwrap().push(serde_json::from_slice::<Value>(&bytes).unwrap());
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Empty::<bytes::Bytes>::new(),
                        ))
                    }
                });
                let io = hyper_util::rt::TokioIo::new(tls);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    (url, received, cert.pem())
}

/// Waits up to 10 s until the receiver has a whole session's six events; a failure shows what the
/// mock attempted.
async fn every_event_arrives(app: &TestApp, received: &Mutex<Vec<Value>>) {
    let start = Instant::now();
    while received.lock().unwrap().len() < 6 {
        let (_, attempts) = app.get("/__admin/webhooks").await;
        assert!(start.elapsed() < Duration::from_secs(10), "the receiver gets every event: {attempts}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn https_receivers_are_reached_with_the_webhook_ca_and_an_untrusted_one_is_told_why() {
    let (url, received, pem) = tls_receiver().await;
    let ca = crate::helpers::scratch_dir("webhook-ca").join("receiver.pem");
    std::fs::write(&ca, &pem).unwrap();
    let app = spawn_with(biometric_kz_mock::Config { webhook_ca: Some(ca), ..Default::default() }).await;
    let key = flow_with_webhook(&app, &url).await;
    let sid = app.create_ok(&json!({"api_key": key})).await;
    app.complete(&sid, None).await;
    every_event_arrives(&app, &received).await;
    assert_eq!(received.lock().unwrap()[5]["event"], "flow.end");

    // Without the receiver's CA, the certificate is not trusted: one attempt, with the reason.
    let (url, received, _) = tls_receiver().await;
    let app = spawn_app().await;
    let key = flow_with_webhook(&app, &url).await;
    let sid = app.create_ok(&json!({"api_key": key})).await;
    app.complete(&sid, None).await;
    let attempts = attempts_to(&app, &url, 6).await;
    let first = &attempts[0];
    assert_eq!(first["delivered"], false, "{first}");
    assert!(first["error"].as_str().unwrap().contains("certificate"), "the reason: {first}");
    assert!(attempts.iter().all(|a| a["attempt"] == 1), "not retried: {attempts:?}");
    assert!(received.lock().unwrap().is_empty());
}

/// Issue 31: a receiver whose certificate is self-signed and marked CA:TRUE (what `openssl req
/// -x509` makes) and named by `--webhook-ca` is reached, as curl, Python and Node reach it when
/// told to trust that file; another such receiver, whose certificate is not in the file, is not.
#[tokio::test]
async fn a_receiver_presenting_exactly_a_webhook_ca_certificate_is_trusted_and_no_other() {
    let (url, received, pem) = tls_receiver_with_a_ca_certificate().await;
    let ca = crate::helpers::scratch_dir("webhook-ca").join("self-signed-ca.pem");
    std::fs::write(&ca, &pem).unwrap();
    let app = spawn_with(biometric_kz_mock::Config { webhook_ca: Some(ca), ..Default::default() }).await;
    let key = flow_with_webhook(&app, &url).await;
    let sid = app.create_ok(&json!({"api_key": key})).await;
    app.complete(&sid, None).await;
    every_event_arrives(&app, &received).await;
    let (other, nothing, _) = tls_receiver_with_a_ca_certificate().await;
    let key = flow_with_webhook(&app, &other).await;
    let sid = app.create_ok(&json!({"api_key": key})).await;
    app.complete(&sid, None).await;
    let refused = attempts_to(&app, &other, 6).await;
    assert!(refused.iter().all(|a| a["delivered"] == false), "{refused:?}");
    assert!(refused[0]["error"].as_str().unwrap().contains("certificate"), "{:?}", refused[0]);
    assert!(nothing.lock().unwrap().is_empty());
}

/// Issue 31: a failed verification ends `FAILED` [doc], or, as a scenario chooses,
/// `FINISHED` with `flow_session_result: false` [seen: a NestJS client]: the result and the
/// flow.end webhook's `session_result` say the same, and the default stays FAILED.
#[tokio::test]
async fn a_failed_session_ends_failed_or_finished_as_its_scenario_chooses_in_the_result_and_the_webhook() {
    let app = spawn_app().await;
    let (url, receiver) = start_receiver(0, Duration::ZERO).await;
    let key = flow_with_webhook(&app, &url).await;
    for (iin, status) in [("900101390032", "FAILED"), ("900101390141", "FINISHED")] {
        let sid = app.create_ok(&json!({"api_key": key, "metadata": {"extra": {"iin": iin}}})).await;
        app.complete(&sid, None).await;
        let (_, result) = app.result(&sid, &key).await;
        assert_eq!((&result["status"], &result["flow_session_result"]), (&json!(status), &json!(false)), "{result}");
        assert_eq!(
            result["flow_session_failure_reasons"][0],
            "F2F: FACES_MISMATCH: The faces on the photos do not match"
        );
        let events = wait_for(&receiver, if status == "FAILED" { 6 } else { 12 }).await;
        let end = events.iter().rev().find(|e| e["event"] == "flow.end" && e["session_id"] == json!(sid)).unwrap();
        assert_eq!(end["success"], false, "{end}");
        assert_eq!(end["data"]["session_result"]["status"], status, "the webhook says what the result says: {end}");
        assert_eq!(end["data"]["session_result"]["flow_session_result"], false, "{end}");
    }
}
