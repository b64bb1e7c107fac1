//! Clients with the vendor's addresses written in, unchanged, reaching the mock only through
//! their environment (SPEC §14): each runs from a fresh temporary directory with environment
//! variables set, never a changed URL.

use std::path::{Path, PathBuf};
use std::process::Command;

use biometric_kz_mock::{Config, MockServer};
use serde_json::{Value, json};

use crate::helpers::chromium::chromium_with;
use crate::helpers::{EVERYONE, python_with, scratch_dir, tool};

/// A fresh directory holding the mock's CA as `mock-ca.pem`.
fn fresh_dir_with_ca(server: &MockServer, name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch_dir(name);
    let ca = dir.join("mock-ca.pem");
    std::fs::write(&ca, server.ca_pem()).unwrap();
    (dir, ca)
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/unmodified").join(name)
}

/// Runs `command` in `dir` with only the proxy and CA variables of ours (no inherited proxy
/// settings), and answers its output; panics with it when the command fails.
fn run_in(dir: &Path, command: &mut Command, envs: &[(&str, &str)]) -> String {
    for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY"] {
        command.env_remove(name);
    }
    let output = command.current_dir(dir).envs(envs.iter().copied()).output().expect("the client runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{command:?} failed:\n{text}");
    text
}

#[tokio::test]
#[ignore = "needs python3 with requests"]
async fn the_vendor_docs_python_code_runs_unchanged_through_https_proxy() {
    let python = python_with(&["requests"]);
    let server = MockServer::start().await;
    let (dir, ca) = fresh_dir_with_ca(&server, "unmodified-python");
    std::fs::copy(example("vendor_docs.py"), dir.join("vendor_docs.py")).unwrap();
    let proxy = server.uri();
    let out = tokio::task::spawn_blocking(move || {
        run_in(
            &dir,
            Command::new(python).arg("vendor_docs.py"),
            &[("HTTPS_PROXY", &proxy), ("REQUESTS_CA_BUNDLE", ca.to_str().unwrap())],
        )
    })
    .await
    .unwrap();
    for expected in ["status: FINISHED", "video: ", "video/mp4", "report: %PDF-"] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
    let journal: Value =
        reqwest::get(format!("{}/__admin/requests", server.uri())).await.unwrap().json().await.unwrap();
    assert!(
        journal.as_array().unwrap().iter().all(|e| e["via"] == "tunnel" && e["host"] == "kyc.biometric.kz"),
        "every call came through the proxy, as kyc.biometric.kz: {journal}"
    );
}

#[tokio::test]
#[ignore = "needs curl"]
async fn curl_reaches_the_vendors_address_through_the_proxy_and_by_resolve() {
    let curl = tool("BKZ_MOCK_CURL", &["curl"], "curl");
    let server = MockServer::builder().config(Config { tls_port: Some(0), ..Config::default() }).start().await.unwrap();
    let (dir, ca) = fresh_dir_with_ca(&server, "unmodified-curl");
    let body = json!({"api_key": EVERYONE}).to_string();
    let proxy = server.uri();
    let tls_port = server.tls_uri().unwrap().rsplit(':').next().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let ca = ca.to_str().unwrap();
        let through_proxy = run_in(
            &dir,
            Command::new(&curl)
                .args(["-sS", "--fail-with-body", "--proxy", &proxy, "--cacert", ca, "-d", &body])
                .arg("https://kyc.biometric.kz/api/v1/flows/session/create/"),
            &[],
        );
        let resolved = run_in(
            &dir,
            Command::new(&curl)
                .args([
                    "-sS",
                    "--fail-with-body",
                    "--cacert",
                    ca,
                    "--resolve",
                    &format!("kyc.biometric.kz:{tls_port}:127.0.0.1"),
                ])
                .arg(format!("https://kyc.biometric.kz:{tls_port}/api/v1/flows/session/create/"))
                .args(["-H", "Content-Type: application/json", "-d", &body]),
            &[],
        );
        let refused = Command::new(&curl)
            .args(["-sS", "--proxy", &proxy, "https://example.com/"])
            .current_dir(&dir)
            .output()
            .unwrap();
        (through_proxy, resolved, String::from_utf8_lossy(&refused.stderr).into_owned())
    })
    .await
    .unwrap();
    for created in [&out.0, &out.1] {
        let created: Value = serde_json::from_str(created).unwrap_or_else(|e| panic!("{e}: {created}"));
        assert!(created["session_id"].is_string(), "{created}");
    }
    assert!(out.2.contains("403"), "another destination is refused: {}", out.2);
}

#[tokio::test]
#[ignore = "needs node and npm"]
async fn node_reaches_the_vendors_address_with_undici_and_node_extra_ca_certs() {
    let node = tool("BKZ_MOCK_NODE", &["node", "nodejs"], "nodejs");
    if !example("node_modules/undici").exists() {
        // .ci/run installs it (npm ci --prefix examples/unmodified); elsewhere, the same command.
        let npm = tool("BKZ_MOCK_NPM", &["npm"], "npm");
        let installed = Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(example(""))
            .status()
            .unwrap();
        assert!(installed.success(), "npm ci in examples/unmodified");
    }
    let server = MockServer::start().await;
    let (dir, ca) = fresh_dir_with_ca(&server, "unmodified-node");
    let proxy = server.uri();
    let first = node.clone();
    let out = tokio::task::spawn_blocking(move || {
        let node = first;
        run_in(
            &dir,
            Command::new(&node).arg(example("fetch.mjs")),
            &[("HTTPS_PROXY", &proxy), ("NODE_EXTRA_CA_CERTS", ca.to_str().unwrap())],
        )
    })
    .await
    .unwrap();
    assert!(out.contains("session: ") && out.contains("widget: 200 text/javascript"), "{out}");

    // Issue 31: code that uses Node's global fetch, not undici's, runs unchanged with the preload.
    let (dir, ca) = fresh_dir_with_ca(&server, "unmodified-node-global");
    let proxy = server.uri();
    let out = tokio::task::spawn_blocking(move || {
        run_in(
            &dir,
            Command::new(node).arg("--import").arg(example("proxy-preload.mjs")).arg(example("global_fetch.mjs")),
            &[("HTTPS_PROXY", &proxy), ("NODE_EXTRA_CA_CERTS", ca.to_str().unwrap())],
        )
    })
    .await
    .unwrap();
    assert!(out.contains("session: ") && out.contains("(LDHP, F2F)"), "{out}");
}

/// Real Chromium with `--proxy-server`: the page at its vendor address, walked to the end, and a
/// host page that loads the widget from `https://remote.biometric.kz` unchanged. (Chromium keeps
/// its own trust store; the test passes `--ignore-certificate-errors`, as Playwright's
/// `ignoreHTTPSErrors` does — the README shows how to trust the CA instead.)
#[tokio::test]
#[ignore = "needs chromium"]
async fn chromium_through_the_proxy_opens_the_vendors_page_and_widget_unchanged() {
    let server = MockServer::start().await;
    let proxy = format!("--proxy-server={}", server.uri());
    let b = chromium_with(&[&proxy, "--ignore-certificate-errors"]).await;
    let client = reqwest::Client::new();
    let create = |body: Value| client.post(format!("{}/api/v1/flows/session/create/", server.uri())).json(&body).send();
    let created: Value = create(json!({"api_key": EVERYONE})).await.unwrap().json().await.unwrap();
    let sid = created["session_id"].as_str().unwrap().to_owned();
    b.client.goto(&format!("https://remote.biometric.kz/flow/{sid}?locale=en")).await.unwrap();
    b.wait_for("step-LDHP").await;
    b.click("submit").await;
    let photo = format!("{}/fixtures/photos/face.jpg", env!("CARGO_MANIFEST_DIR"));
    b.type_into("photo-input", &photo).await;
    b.click("submit").await;
    b.wait_for("done").await;
    let again = server.complete_session(&sid, biometric_kz_mock::Complete::as_scripted());
    assert!(again.is_err(), "the person finished it through the proxy already: {again:?}");

    // A host page on this machine (not proxied) that loads the widget from the vendor's address.
    let created: Value = create(json!({"api_key": EVERYONE})).await.unwrap().json().await.unwrap();
    let sid = created["session_id"].as_str().unwrap().to_owned();
    let page = format!(
        r#"<!doctype html><div id="flow-widget" style="width:400px;height:700px"></div>
<script src="https://remote.biometric.kz/widget/flow-widget.umd.js"></script>
<script>window.finished = null; window.addEventListener('finish', function (e) {{ window.finished = e.detail; }});
FlowWidget.startSession({{id: '{sid}', selector: '#flow-widget', locale: 'en'}});</script>"#
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move || {
        let page = page.clone();
        async move { axum::response::Html(page) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    b.client.goto(&host).await.unwrap();
    let src = b.client.execute("return document.querySelector('#flow-widget iframe').src", vec![]).await.unwrap();
    assert!(src.as_str().unwrap().starts_with(&format!("https://remote.biometric.kz/flow/{sid}?")), "{src}");
    b.client.enter_frame(0).await.unwrap();
    b.wait_for("step-LDHP").await;
    b.click("submit").await;
    b.type_into("photo-input", &photo).await;
    b.click("submit").await;
    b.wait_for("done").await;
    b.client.enter_parent_frame().await.unwrap();
    let mut finished = Value::Null;
    for _ in 0..100 {
        finished = b.client.execute("return window.finished", vec![]).await.unwrap();
        if !finished.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(finished, json!({"session_id": sid, "status": "FINISHED", "success": true}));
    b.close().await;
}
