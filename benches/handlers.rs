//! The request path without sockets (`cargo bench --bench handlers`): `InProcess::answer`, the
//! front every request passes (routing, the journal and lint, the handler), called in a loop on
//! one thread. It prices our own code apart from hyper, the kernel and the load generator,
//! which `--bench load` measures together; BENCHMARKS.md has both.
//!
//! `BKZ_BENCH_ONLY=create|result|health` runs one row, `BKZ_BENCH_ROUNDS=N` times (200,000 by
//! default) after as many to warm up: under callgrind, two runs with different N give the
//! instructions of one request of our code alone.

use std::time::Instant;

use axum::body::Body;
use biometric_kz_mock::InProcess;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEY: &str = "TTpme201NiUMBA_mock-flow-for-everyone-0000000000";
/// Requests per row, measured, unless `BKZ_BENCH_ROUNDS` says otherwise.
const ROUNDS: u32 = 200_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let config = biometric_kz_mock::Config {
            port: 0,
            max_sessions: 10_000_000,
            max_store_bytes: usize::MAX,
            ..Default::default()
        };
        let application = biometric_kz_mock::Application::build(config).await.expect("the server builds");
        let app = application.in_process();

        let created = answer(&app, create()).await;
        let created: serde_json::Value = serde_json::from_slice(&created).expect("JSON");
        let id = created["session_id"].as_str().expect("a session id").to_owned();
        let complete = axum::http::Request::post(format!("/__admin/sessions/{id}/complete")).body(Body::empty());
        answer(&app, complete.expect("a request")).await;
        let result = format!("/api/v1/flows/session/result/?session_id={id}&flow_api_key={KEY}");

        let only = std::env::var("BKZ_BENCH_ONLY").ok();
        let runs = |row: &str| only.as_deref().is_none_or(|only| only == row);
        if runs("create") {
            time(&app, "session create, no metadata", create).await;
        }
        if runs("result") {
            time(&app, "result polling (a finished session)", || get(&result)).await;
        }
        if runs("health") {
            time(&app, "health (the generic stack alone)", || get("/__admin/health")).await;
        }
    });
}

fn create() -> axum::http::Request<Body> {
    axum::http::Request::post("/api/v1/flows/session/create/")
        .header("content-type", "application/json")
        .body(Body::from(format!(r#"{{"api_key":"{KEY}"}}"#)))
        .expect("a request")
}

fn get(uri: &str) -> axum::http::Request<Body> {
    axum::http::Request::get(uri).body(Body::empty()).expect("a request")
}

async fn answer(app: &InProcess, request: axum::http::Request<Body>) -> axum::body::Bytes {
    let response = app.answer(request).await;
    assert!(response.status().is_success(), "{}", response.status());
    axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("a body")
}

async fn time(app: &InProcess, name: &str, request: impl Fn() -> axum::http::Request<Body>) {
    let rounds = std::env::var("BKZ_BENCH_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(ROUNDS);
    // A first round to warm up, then the measured one.
    for round in 0..2 {
        let start = Instant::now();
        for _ in 0..rounds {
            answer(app, request()).await;
        }
        if round == 1 {
            let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
            println!("{name:<40} {us:>6.2} us per request ({rounds} requests)");
        }
    }
}
