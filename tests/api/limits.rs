//! Bounded resources and the virtual clock: session expiry, the session cap, slow clients.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{EVERYONE, TestApp, read, spawn_app, spawn_with};
use biometric_kz_mock::Config;

#[tokio::test]
async fn the_virtual_clock_moves_timestamps_and_processing_delays() {
    let app = spawn_app().await;
    let (_, before) = app.get("/__admin/clock").await;
    assert_eq!(before["offset_seconds"], 0.0, "a fresh server's clock is the real time: {before}");
    // results-slow: results appear 5 s after the user finished; the clock skips the wait.
    let sid = app.create_ok(&json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": "900101390072"}}})).await;
    app.complete(&sid, None).await;
    assert_eq!(app.result(&sid, EVERYONE).await.1["status"], "PROGRESS", "results-slow is still processing");
    let after = app.advance(6.0).await;
    assert_eq!(after["offset_seconds"], 6.0, "the offset grows by what was asked: {after}");
    assert_eq!(app.result(&sid, EVERYONE).await.1["status"], "FINISHED", "six virtual seconds later the results show");
    let (_, view) = app.get(&format!("/__admin/sessions/{sid}")).await;
    assert!(
        view["created_at"].as_str().unwrap() < after["now"].as_str().unwrap(),
        "the session was made before the clock moved: {view} {after}"
    );
    for bad in [json!({}), json!({"seconds": -1}), json!({"seconds": "x"})] {
        let response = app.client.post(app.url("/__admin/clock/advance")).json(&bad).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    app.client.post(app.url("/__admin/reset")).send().await.unwrap();
    assert_eq!(app.get("/__admin/clock").await.1["offset_seconds"], 0.0, "reset puts the clock back");
}

#[tokio::test]
async fn expired_sessions_answer_404_saying_so_on_the_api_and_the_page() {
    let app = spawn_with(Config { session_ttl: Some(Duration::from_secs(600)), ..Config::default() }).await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let (_, view) = app.get(&format!("/__admin/sessions/{sid}")).await;
    assert!(view["expires_at"].is_string(), "a session with a lifetime says when it ends: {view}");
    assert_eq!(app.result(&sid, EVERYONE).await.0, StatusCode::OK, "within its lifetime the session answers");
    app.advance(601.0).await;
    let (status, body) = app.result(&sid, EVERYONE).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an expired session is not found: {body}");
    assert!(body["detail"].as_str().unwrap().contains("expired at"), "{body}");
    let page = app.client.get(app.url(&format!("/flow/{sid}?locale=en"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::GONE, "the page says the session expired");
    let html = page.text().await.unwrap();
    assert!(html.contains("data-reason=\"expired\"") && html.contains("Session expired"), "{html}");
    let (status, _) = app.complete(&sid, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "an expired session cannot be completed");
    let other = app.create_ok(&json!({"api_key": EVERYONE})).await;
    assert_eq!(app.result(&other, EVERYONE).await.0, StatusCode::OK, "new sessions live");
}

#[tokio::test]
async fn the_session_cap_lets_the_oldest_finished_session_go_first() {
    let app = spawn_with(Config { max_sessions: 3, ..Config::default() }).await;
    let ids: Vec<String> = futures_ids(&app, 3).await;
    app.complete(&ids[1], None).await;
    let fourth = app.create_ok(&json!({"api_key": EVERYONE})).await;
    assert_eq!(
        app.get(&format!("/__admin/sessions/{}", ids[1])).await.0,
        StatusCode::NOT_FOUND,
        "the finished one went"
    );
    for id in [&ids[0], &ids[2], &fourth] {
        assert_eq!(app.get(&format!("/__admin/sessions/{id}")).await.0, StatusCode::OK, "unfinished sessions stay");
    }
}

/// SPEC section 15: a store full of sessions nobody finished still creates (200), letting the
/// oldest go; every front then says that session was evicted and why.
#[tokio::test]
async fn a_full_store_of_unfinished_sessions_still_creates_and_says_the_oldest_was_evicted() {
    let app = spawn_with(Config { max_sessions: 3, ..Config::default() }).await;
    let with_iin = json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": "900101300017"}}});
    let oldest = app.create_ok(&with_iin).await;
    assert_eq!(app.complete(&oldest, None).await.0, StatusCode::OK, "the oldest session is finished");
    // The finished one goes first; then the store holds three unfinished ones.
    let ids = futures_ids(&app, 3).await;
    let (status, body) = app.get(&format!("/__admin/sessions/{oldest}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    for _ in 0..5 {
        let response = app.create(&json!({"api_key": EVERYONE})).await;
        assert_eq!(response.status(), StatusCode::OK, "a full store never refuses a create");
    }
    // Five more creates: the three unfinished ones went, oldest first, and two of the new ones.
    for id in &ids {
        let (status, body) = app.get(&format!("/__admin/sessions/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let detail = body["detail"].as_str().expect("a detail");
        assert!(
            detail.contains("was evicted at") && detail.contains("newest 3 sessions (--max-sessions)"),
            "the admin API says why: {detail}"
        );
    }
    let (_, sessions) = app.get("/__admin/sessions").await;
    assert_eq!(sessions.as_array().map(Vec::len), Some(3), "{sessions}");

    // The emulated API: result, video and report all say so, to the flow's key only.
    let (status, body) = app.result(&oldest, EVERYONE).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the result of an evicted session: {body}");
    assert!(body["detail"].as_str().unwrap().starts_with("Not found. This session was evicted at"), "{body}");
    let (status, body) = app.result(&oldest, crate::helpers::INDIVIDUALS).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})), "another key learns nothing");
    let video = app
        .client
        .get(app.url("/api/v1/liveness/video/download/"))
        .query(&[("session_id", oldest.as_str()), ("flow_api_key", EVERYONE)])
        .send()
        .await
        .unwrap();
    let (status, body) = read(video).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the video of an evicted session: {body}");
    assert!(body["detail"].as_str().unwrap().contains("was evicted"), "{body}");
    let report = app.client.post(app.url(&format!("/api/v1/flows/session/{oldest}/report/?technology=LDHP")));
    let (status, body) = read(report.json(&json!({"api_key": EVERYONE})).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the report of an evicted session: {body}");
    assert!(body["detail"].as_str().unwrap().contains("was evicted"), "{body}");
    let (status, body) = app.complete(&ids[0], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an evicted session cannot be completed: {body}");
    assert!(body["detail"].as_str().unwrap().contains("was evicted"), "{body}");

    // The page shows a clear screen.
    let page = app.client.get(app.url(&format!("/flow/{}?locale=en", ids[0]))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND, "the page of an evicted session");
    let html = page.text().await.unwrap();
    assert!(html.contains("data-reason=\"evicted\"") && html.contains("Session removed"), "{html}");

    // The journal names what each create evicted.
    let (_, journal) = app.get("/__admin/requests?path=/create/").await;
    let evicted: Vec<String> = journal
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["evicted"].as_array().cloned().unwrap_or_default())
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    for id in ids.iter().chain([&oldest]) {
        assert!(evicted.contains(id), "the journal records the eviction of {id}: {journal}");
    }
}

async fn futures_ids(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(app.create_ok(&json!({"api_key": EVERYONE})).await);
    }
    ids
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off_and_blocks_nobody() {
    let app = spawn_with(Config { header_timeout: Duration::from_millis(300), ..Config::default() }).await;
    let addr = app.addr().to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    assert_eq!(app.get("/__admin/health").await.0, StatusCode::OK, "others are served meanwhile");
    let mut rest = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(3), tokio::io::AsyncReadExt::read_to_end(&mut slow, &mut rest)).await;
    assert!(read.is_ok(), "the server closed the slow connection");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_instead_of_failing() {
    let app = spawn_with(Config { max_connections: 2, ..Config::default() }).await;
    let addr = app.addr().to_owned();
    // Two requests being answered (their bodies still coming): a connection that is not being
    // answered would give way.
    let busy = b"POST /api/v1/flows/session/create/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{";
    let held = hold_sockets(&addr, 2, busy).await;
    let waiting =
        tokio::time::timeout(Duration::from_millis(300), app.client.get(app.url("/__admin/health")).send()).await;
    assert!(waiting.is_err(), "a third connection waits while two are busy");
    drop(held);
    let (status, _) = app.get("/__admin/health").await;
    assert_eq!(status, StatusCode::OK, "and is served once one is free");
}

/// Issue 31: 1,100 sockets trickling their heads (slowloris), or 1,100 half-sent TLS
/// ClientHellos, held every newcomer for the header timeout: at the cap, the connection with the
/// least progress toward a request gives way, on both ports.
#[tokio::test]
async fn eleven_hundred_trickling_heads_or_half_tls_handshakes_cannot_lock_anyone_out() {
    let config = Config { tls_port: Some(0), header_timeout: Duration::from_secs(20), ..Config::default() };
    let server = biometric_kz_mock::MockServer::builder().config(config).start().await.unwrap();
    let (plain, tls) =
        (server.address().to_string(), server.tls_uri().unwrap().trim_start_matches("https://").to_owned());
    let ca = reqwest::Certificate::from_pem(server.ca_pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder().add_root_certificate(ca).no_proxy().build().unwrap();
    let healthy = async |base: &str| {
        let started = std::time::Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(5), client.get(format!("{base}/__admin/health")).send());
        let status = answer.await.expect("health answered before the header timeout").expect("answered").status();
        assert_eq!(status, StatusCode::OK);
        started.elapsed()
    };

    let mut heads = hold_sockets(&plain, 1100, b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
    let trickle = tokio::spawn(async move {
        loop {
            for socket in &mut heads {
                let _ = socket.write_all(b"a").await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    for base in [server.uri(), server.tls_uri().unwrap()] {
        let took = healthy(&base).await;
        assert!(took < Duration::from_secs(3), "{base} past 1,100 trickling heads: {took:?}");
    }
    trickle.abort();

    // A TLS record header announcing a 512-byte ClientHello, and 40 of its bytes.
    let mut hello = vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];
    hello.resize(51, 0x2a);
    let _half = hold_sockets(&tls, 1100, &hello).await;
    for base in [server.uri(), server.tls_uri().unwrap()] {
        let took = healthy(&base).await;
        assert!(took < Duration::from_secs(3), "{base} past 1,100 half TLS handshakes: {took:?}");
    }
}

/// Issue 31: a Content-Length over --max-body was answered only after reading the body (or after
/// `100 Continue` invited 16 MiB of it). Now the head alone is answered 413, on every kind of
/// endpoint, before a byte of the body is sent and without a 100 Continue.
#[tokio::test]
async fn a_content_length_over_the_limit_is_answered_413_from_the_head_alone() {
    let app = spawn_with(Config { max_body: 1024, ..Config::default() }).await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let page = format!("/flow/{sid}/LDHP");
    let endpoints = [
        ("/api/v1/flows/session/create/", "application/json"),
        (page.as_str(), "multipart/form-data; boundary=b"),
        ("/__admin/flows", "application/json"),
        ("/api/v1/backend/liveness/short/", "multipart/form-data; boundary=b"),
    ];
    for (path, media) in endpoints {
        for expect in ["", "Expect: 100-continue\r\n"] {
            let mut socket = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {media}\r\nContent-Length: 16777216\r\n{expect}\r\n"
            );
            socket.write_all(head.as_bytes()).await.unwrap();
            // The answer, and the connection closed (the body will not be read).
            let mut answer = Vec::new();
            tokio::time::timeout(Duration::from_secs(2), socket.read_to_end(&mut answer))
                .await
                .unwrap_or_else(|_| panic!("{path} {expect:?}: answered without the body"))
                .unwrap();
            let answer = String::from_utf8_lossy(&answer);
            assert!(answer.starts_with("HTTP/1.1 413"), "{path} {expect:?}: {answer}");
            assert!(answer.contains("--max-body"), "the answer (JSON or the page) names the flag: {answer}");
        }
    }
}

/// The clock stops at the year 9000 (clock::LATEST): a jump past it is refused, a TTL or a
/// processing delay that would end later means "never", and at the very end of time sessions
/// still play through, results, pages and reports included.
#[tokio::test]
async fn the_clock_stops_at_the_year_9000_and_everything_still_works_there() {
    let app = spawn_with(Config { session_ttl: Some(Duration::from_secs(u64::MAX)), ..Config::default() }).await;
    let early = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let (_, view) = app.get(&format!("/__admin/sessions/{early}")).await;
    assert_eq!(view["expires_at"], "9000-01-01T00:00:00.000000Z", "{view}");

    for too_far in [json!({"seconds": 400_000_000_000_u64}), json!({"seconds": 1e300})] {
        let response = app.client.post(app.url("/__admin/clock/advance")).json(&too_far).send().await.unwrap();
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["seconds"][0].as_str().unwrap();
        assert!(message.contains("Too far: the clock cannot go past 9000-01-01T00:00:00.000000Z"), "{too_far}: {body}");
    }
    assert_eq!(app.get("/__admin/clock").await.1["offset_seconds"], 0.0, "the clock did not move");
    // As close to the end as 100-second steps get: each step size until it is refused.
    for step in [1e11, 1e10, 1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2] {
        loop {
            let response = app.client.post(app.url("/__admin/clock/advance")).json(&json!({"seconds": step}));
            if response.send().await.unwrap().status() != StatusCode::OK {
                break;
            }
        }
    }
    let (_, clock) = app.get("/__admin/clock").await;
    assert!(clock["now"].as_str().unwrap().starts_with("8999-12-31T23:5"), "{clock}");

    let late = app.create_ok(&json!({"api_key": EVERYONE, "metadata": {"extra": {"iin": "900101300017"}}})).await;
    for sid in [&early, &late] {
        assert_eq!(app.complete(sid, None).await.0, StatusCode::OK, "{sid} completes at the clock's end");
        let (status, result) = app.result(sid, EVERYONE).await;
        assert_eq!((status, &result["status"]), (StatusCode::OK, &json!("FINISHED")), "{result}");
        let done = app.client.get(app.url(&format!("/flow/{sid}/done"))).send().await.unwrap();
        assert_eq!(done.status(), StatusCode::OK, "the done screen opens at the clock's end");
    }
    let report = app.client.post(app.url(&format!("/api/v1/flows/session/{late}/report/?technology=F2F")));
    let (status, body) = read(report.json(&json!({"api_key": EVERYONE})).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Opens `n` sockets to `addr`, each sending `first` (nothing when empty), and keeps them open.
async fn hold_sockets(addr: &str, n: usize, first: &[u8]) -> Vec<tokio::net::TcpStream> {
    // Each socket is two descriptors in this process (ours and the server's end).
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut socket = tokio::net::TcpStream::connect(addr).await.expect("the backlog takes it");
        if !first.is_empty() {
            socket.write_all(first).await.unwrap();
        }
        held.push(socket);
    }
    held
}

async fn health_within(app: &TestApp, within: Duration) -> Duration {
    let start = std::time::Instant::now();
    let answer = tokio::time::timeout(within, app.client.get(app.url("/__admin/health")).send()).await;
    let status = answer.expect("health answered in time").expect("health answered").status();
    assert_eq!(status, StatusCode::OK, "health answers while the sockets are held");
    start.elapsed()
}

/// Issue 15: 1,200 sockets that connect and send nothing (more than the 1,024-connection cap
/// and the listener's backlog) once locked everyone out. Now the one silent longest gives way
/// to each newcomer, and all of them are closed after the header timeout.
#[tokio::test]
async fn twelve_hundred_silent_sockets_cannot_lock_anyone_out() {
    let app = spawn_with(Config { header_timeout: Duration::from_secs(2), ..Config::default() }).await;
    let addr = app.addr().to_owned();
    let mut silent = hold_sockets(&addr, 1200, b"").await;
    let took = health_within(&app, Duration::from_secs(3)).await;
    assert!(took < Duration::from_secs(1), "a silent socket gave way at once: {took:?}");
    // And each silent socket is closed by the header timeout (2 s; all of them within 5).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut closed = 0;
    for socket in &mut silent {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout_at(deadline, socket.read(&mut byte)).await {
            closed += 1;
        }
    }
    assert_eq!(closed, silent.len(), "every silent socket is closed");
}

/// Issue 15: 1,200 clients that send headers announcing a body and then nothing more hold their
/// connections only until the body timeout; the cap's newcomers are served after that.
#[tokio::test]
async fn twelve_hundred_slow_bodies_are_cut_off_by_the_body_timeout() {
    let timeouts =
        Config { header_timeout: Duration::from_secs(2), body_timeout: Duration::from_secs(2), ..Config::default() };
    let app = spawn_with(timeouts).await;
    let addr = app.addr().to_owned();
    let head = b"POST /api/v1/flows/session/create/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{";
    let mut slow = hold_sockets(&addr, 1200, head).await;
    health_within(&app, Duration::from_secs(3)).await;
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(3), slow[0].read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("--body-timeout"), "the detail names the flag: {answer}");
}

#[tokio::test]
async fn a_slow_page_upload_is_answered_408_and_an_oversized_one_413() {
    let config = Config { body_timeout: Duration::from_millis(300), max_body: 1024, ..Config::default() };
    let app = spawn_with(config).await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let addr = app.addr().to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /flow/{sid}/LDHP HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 500\r\n\r\n--b\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(3), socket.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("data-testid=\"error\""), "the page's own error screen: {answer}");

    let big = reqwest::multipart::Form::new().text("action", "passed").text("pad", "x".repeat(4096));
    let response = app.client.post(app.url(&format!("/flow/{sid}/LDHP"))).multipart(big).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "a page form over the page's body limit");
    let form = [("action", "passed"), ("pad", &"x".repeat(4096))];
    let response = app.client.post(app.url(&format!("/flow/{sid}/LDHP"))).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "URL-encoded too");
}

/// The header timeout limits the wait between requests, not the answer or the body: a request
/// whose answer takes longer (a scripted delay) still gets it, its connection is reused
/// afterwards, and a body that arrives within the body timeout is read whole.
#[tokio::test]
async fn an_answer_slower_than_the_header_timeout_still_arrives() {
    let app = spawn_with(Config { header_timeout: Duration::from_millis(500), ..Config::default() }).await;
    let addr = app.addr().to_owned();
    let (status, _) = read(
        app.client
            .post(app.url("/__admin/faults"))
            .json(&json!({"endpoint": "create", "delay_ms": 1500}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let body = json!({"api_key": EVERYONE}).to_string();
    let create = format!(
        "POST /api/v1/flows/session/create/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let started = std::time::Instant::now();
    for round in 0..2 {
        socket.write_all(create.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut answer)).await.unwrap().unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 200"), "round {round}: {answer}");
    }
    assert!(started.elapsed() >= Duration::from_millis(1500), "the first answer waited for its delay");
    // A body that takes longer than the header timeout (but not the body timeout) is read whole.
    let (head, rest) = create.split_at(create.len() - 5);
    socket.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    socket.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 200"), "a slow body: {answer}");
}

/// A kept-alive connection that sends no next request is closed after the header timeout, and
/// a head that trickles in a byte at a time is cut off though bytes keep coming.
#[tokio::test]
async fn idle_and_trickling_connections_are_closed_by_the_header_timeout() {
    let app = spawn_with(Config { header_timeout: Duration::from_millis(500), ..Config::default() }).await;
    let addr = app.addr().to_owned();
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = idle.read(&mut answer).await.unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(3), idle.read_to_end(&mut rest)).await.expect("closed").unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400), "kept until the timeout: {:?}", started.elapsed());

    let mut trickle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let started = std::time::Instant::now();
    let mut cut = false;
    for byte in head {
        if trickle.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut probe = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(1), trickle.read(&mut probe)).await {
            cut = true;
            break;
        }
    }
    assert!(cut, "a head that takes {:?} is cut off", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(2), "within the timeout and a little: {:?}", started.elapsed());
}
