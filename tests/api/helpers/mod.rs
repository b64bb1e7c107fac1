//! Spawns an isolated server per test and talks to it over real HTTP.

pub(crate) mod chromium;
pub(crate) mod forms;

use base64::Engine as _;
use biometric_kz_mock::{Config, MockServer};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

pub(crate) const EVERYONE: &str = "TTpme201NiUMBA_mock-flow-for-everyone-0000000000";
pub(crate) const INDIVIDUALS: &str = "Efy202XKbVAWRu_mock-flow-for-individuals-0000000";
pub(crate) const LEGAL: &str = "UuuH4V1XC-M9je_mock-flow-for-legal-entities-0000";

/// Valid IINs (check digit and birth date) and a valid phone.
pub(crate) const IIN: &str = "900101300017";
pub(crate) const IIN_2: &str = "880315400010";
pub(crate) const PHONE: &str = "77011234567";

pub(crate) struct TestApp {
    pub base: String,
    pub client: Client,
    /// The in-process server, held for its `Drop`: the server stops with the test.
    #[expect(dead_code, reason = "held for its `Drop`, never read")]
    pub server: MockServer,
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_with(Config::default()).await
}

pub(crate) async fn spawn_with(config: Config) -> TestApp {
    let server = MockServer::builder().config(config).start().await.expect("the server starts");
    TestApp { base: server.uri(), client: client(), server }
}

/// The tests' HTTP client. The server closes a keep-alive connection that sends nothing for
/// `--header-timeout` (10 s by default); reqwest keeps idle ones for 90 s, so a connection it took
/// from its pool at the moment the server closed it failed with IncompleteMessage (seen once, in a
/// loaded full run). Idle ones are dropped well before the server would.
pub(crate) fn client() -> Client {
    Client::builder().pool_idle_timeout(std::time::Duration::from_secs(5)).build().expect("a client")
}

impl TestApp {
    /// The server's `host:port`, for a raw socket.
    pub(crate) fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs `body` as JSON with `Content-Type: application/json`.
    pub(crate) async fn create(&self, body: &Value) -> Response {
        self.client.post(self.url("/api/v1/flows/session/create/")).json(body).send().await.expect("request sent")
    }

    /// POSTs raw bytes with an optional Content-Type.
    pub(crate) async fn create_raw(&self, body: impl Into<reqwest::Body>, content_type: Option<&str>) -> Response {
        let mut request = self.client.post(self.url("/api/v1/flows/session/create/")).body(body);
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        request.send().await.expect("request sent")
    }

    /// Creates a session and returns its id; panics unless the mock answered 200.
    pub(crate) async fn create_ok(&self, body: &Value) -> String {
        let (status, json) = read(self.create(body).await).await;
        assert_eq!(status, StatusCode::OK, "create should succeed for {body}: {json}");
        json["session_id"].as_str().expect("session_id is a string").to_owned()
    }

    pub(crate) async fn result(&self, session_id: &str, key: &str) -> (StatusCode, Value) {
        read(self.result_response(session_id, key).await).await
    }

    /// `result` as it came, headers and all.
    pub(crate) async fn result_response(&self, session_id: &str, key: &str) -> reqwest::Response {
        self.client
            .get(self.url("/api/v1/flows/session/result/"))
            .query(&[("session_id", session_id), ("flow_api_key", key)])
            .send()
            .await
            .expect("request sent")
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        read(self.client.get(self.url(path)).send().await.expect("request sent")).await
    }

    /// Moves the virtual clock on, so that delays and polling gaps pass without sleeping;
    /// answers the clock as the admin API shows it.
    pub(crate) async fn advance(&self, seconds: f64) -> Value {
        let body = json!({"seconds": seconds});
        let response = self.client.post(self.url("/__admin/clock/advance")).json(&body).send().await;
        let (status, clock) = read(response.expect("request sent")).await;
        assert_eq!(status, StatusCode::OK, "the clock moves by {seconds} s: {clock}");
        clock
    }

    pub(crate) async fn complete(&self, session_id: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.client.post(self.url(&format!("/__admin/sessions/{session_id}/complete")));
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.expect("request sent")).await
    }
}

/// The status and the JSON body; panics with the raw text when the body is not JSON.
pub(crate) async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body read");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the body of a {status} answer is not JSON ({e}): {text:?}"));
    (status, json)
}

pub(crate) fn photo_base64(file: &str) -> String {
    let bytes = std::fs::read(format!("{}/fixtures/photos/{file}", env!("CARGO_MANIFEST_DIR"))).expect("fixture");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn with_metadata(key: &str, metadata: Value) -> Value {
    json!({"api_key": key, "metadata": metadata})
}

/// A fresh directory for one test's files (flows, scenarios), removed by nobody: it is small.
pub(crate) fn scratch_dir(name: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("bkz-{name}-{}-{n}", std::process::id()));
    // An earlier run whose process had the same id may have left one: start empty.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// An external program a test needs (chromium, pdftotext, ...): `env` names a variable that may
/// give its path, else it is looked up on PATH. A test that needs one is `#[ignore = "needs ..."]`
/// (`.ci/run` installs them and runs it with `--include-ignored`): asked for where the program is
/// missing, it fails saying what to install, never passes without having run.
pub(crate) fn tool(env: &str, names: &[&str], package: &str) -> std::path::PathBuf {
    if let Ok(path) = std::env::var(env) {
        return path.into();
    }
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&dirs).flat_map(|d| names.iter().map(move |n| d.join(n))).find(|p| p.is_file());
    found.unwrap_or_else(|| panic!("this test needs {} (apt-get install {package}, or set {env})", names[0]))
}

/// `python3`, when it can import every module of `modules`; a test that needs it is ignored unless
/// asked for, and fails saying what to install when a module is missing.
pub(crate) fn python_with(modules: &[&str]) -> std::path::PathBuf {
    let python = tool("BKZ_MOCK_PYTHON", &["python3"], "python3");
    for module in modules {
        let ok = std::process::Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "this test needs the Python module {module} (pip install {module})");
    }
    python
}

/// A server whose only flow is `name` with `technologies`, under `key`.
pub(crate) async fn spawn_with_flow(name: &str, key: &str, technologies: &[&str]) -> TestApp {
    let file = scratch_dir("flows").join("flows.json");
    std::fs::write(&file, json!([{"name": name, "api_key": key, "technologies": technologies}]).to_string())
        .expect("a flows file");
    spawn_with(Config { flows_file: Some(file), ..Config::default() }).await
}
