//! The binary as users run it: flags, environment variables, start-up errors, signals.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use predicates::str::contains;

const BIN: &str = env!("CARGO_BIN_EXE_biometric-kz-mock");

/// The binary, run to its end by `assert_cmd` (the tests of a server that keeps running use
/// `start`).
fn run(args: &[&str]) -> assert_cmd::assert::Assert {
    cargo_bin_cmd!().args(args).assert()
}

/// Starts the server and returns it with the address it printed.
fn start(args: &[&str], envs: &[(&str, &str)]) -> (Child, String) {
    listening(Command::new(BIN).args(args).envs(envs.iter().copied()).stderr(Stdio::null()))
}

/// Starts the server `command` runs (its stderr as the caller set it) and returns it with the
/// address it printed.
fn listening(command: &mut Command) -> (Child, String) {
    let mut child = command.stdout(Stdio::piped()).spawn().expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("a first line");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the first line announces the address: {line:?}"))
        .to_owned();
    (child, addr)
}

/// A minimal blocking HTTP GET, so that these tests need no async runtime.
fn http_get(base: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let host = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(host).expect("connects");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn terminate(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill -TERM sent");
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < within, "the server did not stop within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn help_lists_every_flag_and_its_environment_variable() {
    let out = run(&["serve", "--help"]).success();
    let help = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for (flag, env) in [
        ("--host", "BKZ_MOCK_HOST"),
        ("--port", "BKZ_MOCK_PORT"),
        ("--public-url", "BKZ_MOCK_PUBLIC_URL"),
        ("--flows", "BKZ_MOCK_FLOWS"),
        ("--seed", "BKZ_MOCK_SEED"),
        ("--max-body", "BKZ_MOCK_MAX_BODY"),
        ("--scenarios", "BKZ_MOCK_SCENARIOS"),
        ("--scenario", "BKZ_MOCK_SCENARIO"),
        ("--video", "BKZ_MOCK_VIDEO"),
        ("--strict", "BKZ_MOCK_STRICT"),
        ("--journal-limit", "BKZ_MOCK_JOURNAL_LIMIT"),
        ("--admin-token", "BKZ_MOCK_ADMIN_TOKEN"),
        ("--max-sessions", "BKZ_MOCK_MAX_SESSIONS"),
        ("--session-ttl", "BKZ_MOCK_SESSION_TTL"),
        ("--max-connections", "BKZ_MOCK_MAX_CONNECTIONS"),
        ("--header-timeout", "BKZ_MOCK_HEADER_TIMEOUT"),
        ("--state-file", "BKZ_MOCK_STATE_FILE"),
    ] {
        assert!(help.contains(flag), "{flag} in help:\n{help}");
        assert!(help.contains(env), "{env} in help:\n{help}");
    }
}

#[test]
fn version_prints_the_crate_version() {
    run(&["--version"]).success().stdout(format!("biometric-kz-mock {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn serve_on_port_0_prints_the_bound_address_and_stops_on_sigterm() {
    let (mut child, addr) = start(&["serve", "--port", "0"], &[]);
    assert!(addr.starts_with("http://127.0.0.1:"), "{addr}");
    let response = http_get(&addr, "/__admin/health");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(r#"{"status":"ok"}"#), "{response}");
    terminate(&child);
    let status = wait_exit(&mut child, Duration::from_secs(5));
    assert!(status.success(), "a graceful stop exits 0: {status:?}");
}

#[test]
fn flags_come_from_environment_variables_too() {
    let (mut child, addr) =
        start(&[], &[("BKZ_MOCK_PORT", "0"), ("BKZ_MOCK_PUBLIC_URL", "https://remote.example.test/")]);
    let response = http_get(&addr, "/__admin/flows");
    assert!(response.starts_with("HTTP/1.1 200"), "no subcommand means serve: {response}");
    terminate(&child);
    wait_exit(&mut child, Duration::from_secs(5));
}

#[test]
fn a_bad_flows_file_stops_start_up_with_file_path_and_reason() {
    let path = std::env::temp_dir().join(format!("bkz-cli-bad-flows-{}.json", std::process::id()));
    std::fs::write(&path, r#"[{"name": "x", "api_key": "0123456789012345678901234567890123456789012345678", "technologies": ["LDHP", "FACE"]}]"#).unwrap();
    let out = run(&["serve", "--port", "0", "--flows", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    // The file, the path in it, and why.
    out.failure().stderr(
        contains(path.to_str().unwrap())
            .and(contains("[0].technologies[1]"))
            .and(contains("unknown technology code \"FACE\"")),
    );
}

#[test]
fn a_missing_flows_file_and_bad_flag_values_are_clear_errors() {
    run(&["serve", "--port", "0", "--flows", "/nonexistent/flows.json"])
        .failure()
        .stderr(contains("/nonexistent/flows.json").and(contains("cannot read")));
    // Usage errors: exit code 2, the flag named.
    for args in [
        ["--max-body", "lots"],
        ["--port", "99999"],
        ["--seed", "-1"],
        ["--session-ttl", "soon"],
        ["--tls-name", "bad name!"],
        // A value that would add a directive of its own to the page's Content-Security-Policy.
        ["--frame-ancestors", "*; script-src *"],
        ["--frame-ancestors", "'none' https://a.example"],
        ["--frame-ancestors", " "],
    ] {
        run(&[&["serve"][..], &args[..]].concat()).code(2).stderr(contains(args[0]));
    }
    run(&["serve", "--port", "0", "--public-url", "ftp://x"]).failure().stderr(contains("--public-url"));
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    run(&["serve", "--port", &port]).failure().stderr(contains(format!("cannot listen on 127.0.0.1:{port}")));
}

#[test]
fn check_accepts_the_built_in_flows_and_scenarios() {
    run(&["check"]).success().stdout(predicate::str::starts_with("ok: 3 flows, 15 scenarios"));
}

#[test]
fn check_and_serve_refuse_a_broken_scenario_with_the_same_message() {
    let dir = std::env::temp_dir().join(format!("bkz-cli-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.json");
    std::fs::write(
        &file,
        r#"{"name": "broken", "technologies": {"liveness": {"outcome": "failed", "result": {"eye_closed": "yes"}}}}"#,
    )
    .unwrap();
    let check = run(&["check", "--scenarios", dir.to_str().unwrap()]);
    let serve = run(&["serve", "--port", "0", "--scenarios", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    // The file, the path in it, and why; serve says the same.
    let check = check.failure().stderr(
        contains(file.to_str().unwrap())
            .and(contains("at technologies.liveness.result.eye_closed:"))
            .and(contains("must be a boolean")),
    );
    serve.failure().stderr(check.get_output().stderr.clone());
}

#[test]
fn healthcheck_succeeds_against_a_running_server_and_fails_without_one() {
    let (mut child, addr) = start(&["serve", "--port", "0"], &[]);
    let port = addr.rsplit(':').next().unwrap();
    run(&["healthcheck", "--port", port]).success();
    terminate(&child);
    wait_exit(&mut child, Duration::from_secs(5));
    // Nothing listens any more.
    run(&["healthcheck", "--port", port, "--timeout-ms", "300"]).failure();
}

fn http_post(base: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let host = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(host).expect("connects");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn body_of(response: &str) -> serde_json::Value {
    serde_json::from_str(response.split_once("\r\n\r\n").expect("a body").1).expect("JSON")
}

const EVERYONE: &str = "TTpme201NiUMBA_mock-flow-for-everyone-0000000000";
const INDIVIDUALS: &str = "Efy202XKbVAWRu_mock-flow-for-individuals-0000000";

fn scratch_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bkz-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let _ = std::fs::remove_file(&file);
    file
}

#[test]
fn a_restart_with_a_state_file_keeps_every_flow_and_session() {
    let file = scratch_file("restart");
    let args = ["serve", "--port", "0", "--state-file", file.to_str().unwrap()];
    let (mut first, addr) = start(&args, &[]);
    let flow = body_of(&http_post(
        &addr,
        "/__admin/flows",
        r#"{"name": "Kept", "technologies": ["LDHP", "ED"], "webhook_urls": ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]}"#,
    ));
    let mut ids = Vec::new();
    for metadata in [
        "{}",
        r#"{"edocument": {"iin": {"value": "900101300017", "changeable": false}, "phone": {"value": "77011234567", "changeable": false}, "skip_input": true}}"#,
        r#"{"extra": {"iin": "900101390012"}}"#,
    ] {
        let created = body_of(&http_post(
            &addr,
            "/api/v1/flows/session/create/",
            &format!(r#"{{"api_key": "{EVERYONE}", "metadata": {metadata}}}"#),
        ));
        ids.push(created["session_id"].as_str().unwrap().to_owned());
    }
    http_post(&addr, &format!("/__admin/sessions/{}/complete", ids[0]), "");
    http_post(&addr, &format!("/__admin/sessions/{}/complete", ids[2]), "");
    let result_path = format!("/api/v1/flows/session/result/?session_id={}&flow_api_key={EVERYONE}", ids[0]);
    let before_result = body_of(&http_get(&addr, &result_path));
    let before_sessions = body_of(&http_get(&addr, "/__admin/sessions"));
    // The Backend API's keys, E-Document sessions and persons are kept too.
    let org =
        body_of(&http_post(&addr, "/__admin/backend-keys", r#"{"name": "Kept org", "technologies": ["edocument"]}"#));
    let org_key = org["api_key"].as_str().unwrap().to_owned();
    let backend = body_of(&http_post(
        &addr,
        "/api/v1/backend/e-document/online-access/request/identity_card/",
        &format!(r#"{{"api_key": "{org_key}", "iin": "900101300017", "phone": "77011234567"}}"#),
    ));
    let backend_id = backend["backend_session_id"].as_str().unwrap().to_owned();
    let before_backend = body_of(&http_get(&addr, &format!("/__admin/backend-sessions/{backend_id}")));
    terminate(&first);
    assert!(wait_exit(&mut first, Duration::from_secs(5)).success());
    let first_addr = addr;

    let (mut second, addr) = start(&args, &[]);
    // Page URLs carry each run's own port; everything else is the same.
    assert_eq!(
        body_of(&http_get(&addr, "/__admin/sessions")).to_string().replace(&addr, "BASE"),
        before_sessions.to_string().replace(&first_addr, "BASE"),
        "the same sessions, steps, results, events"
    );
    assert_eq!(body_of(&http_get(&addr, &result_path)), before_result, "the same result");
    let flows = body_of(&http_get(&addr, "/__admin/flows"));
    let kept =
        flows.as_array().unwrap().iter().find(|f| f["api_key"] == flow["api_key"]).expect("the run-time flow is kept");
    assert_eq!(
        kept["webhook_urls"],
        serde_json::json!(["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]),
        "with its webhook URLs"
    );
    let view = body_of(&http_get(&addr, &format!("/__admin/sessions/{}", ids[2])));
    assert_eq!(view["scenario"], "liveness-fails", "with the scenario it played");
    let keys = body_of(&http_get(&addr, "/__admin/backend-keys"));
    assert!(
        keys.as_array().unwrap().iter().any(|k| k["api_key"] == org_key.as_str()),
        "the run-time backend key: {keys}"
    );
    let after_backend = body_of(&http_get(&addr, &format!("/__admin/backend-sessions/{backend_id}")));
    assert_eq!(after_backend, before_backend, "the E-Document backend session, its code included");
    terminate(&second);
    wait_exit(&mut second, Duration::from_secs(5));
}

#[test]
fn a_state_file_that_does_not_load_stops_start_up() {
    let file = scratch_file("corrupt");
    let broken = r#"{"format": "biometric-kz-mock state", "version": 1, "sessions": "#;
    std::fs::write(&file, broken).unwrap();
    run(&["serve", "--port", "0", "--state-file", file.to_str().unwrap()])
        .failure()
        .stderr(contains("invalid state file").and(contains(file.to_str().unwrap())));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken, "the file is left as it was");
}

#[test]
fn a_process_killed_while_saving_leaves_a_file_that_loads() {
    let file = scratch_file("sigkill");
    let args = ["serve", "--port", "0", "--state-file", file.to_str().unwrap()];
    let photo = base64_photo();
    let body = format!(r#"{{"api_key": "{EVERYONE}", "metadata": {{"face2face": {{"photo1": "{photo}"}}}}}}"#);
    let mut loaded = 0;
    for round in 0..5u64 {
        // Each start loads what the last completed save wrote, never less.
        let (mut child, addr) = start(&args, &[]);
        let sessions = body_of(&http_get(&addr, "/__admin/sessions")).as_array().unwrap().len();
        assert!(sessions >= loaded, "round {round}: {sessions} sessions loaded, {loaded} before");
        loaded = sessions;
        // Keep the server saving (about 8 KB a session, every quarter second) and kill it mid-way.
        let deadline = Instant::now() + Duration::from_millis(500 + 170 * round);
        while Instant::now() < deadline {
            assert!(http_post(&addr, "/api/v1/flows/session/create/", &body).starts_with("HTTP/1.1 200"));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let (mut child, addr) = start(&args, &[]);
    let sessions = body_of(&http_get(&addr, "/__admin/sessions")).as_array().unwrap().len();
    assert!(sessions > 0 && sessions >= loaded, "the last file loads: {sessions} sessions");
    terminate(&child);
    wait_exit(&mut child, Duration::from_secs(5));
}

/// Issue 31: a process killed while saving leaves `state.json.tmp-XXXXXX` (the size of the
/// state); the next start removes those of ours and nothing else.
#[test]
fn start_up_removes_the_temporary_files_a_killed_save_left() {
    let file = scratch_file("leftovers");
    let dir = file.parent().unwrap();
    let ours = ["state.json.tmp-a1B2c3", "state.json.tmp-ZZZZZZ"];
    let not_ours = ["state.json.tmp-short", "state.json.tmp-toolong7", "other.json.tmp-a1B2c3", "state.json.bak"];
    for name in ours.iter().chain(&not_ours) {
        std::fs::write(dir.join(name), "{\"half\": ").unwrap();
    }
    let (mut child, _) = start(&["serve", "--port", "0", "--state-file", file.to_str().unwrap()], &[]);
    for name in ours {
        assert!(!dir.join(name).exists(), "{name} is removed");
    }
    for name in not_ours {
        assert!(dir.join(name).exists(), "{name} is not ours and stays");
    }
    assert!(file.exists(), "the state file is written");
    terminate(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(5)).success());
}

/// Issue 31: five receivers that never answer, 300 sessions and `ulimit -n 256` once took every
/// file descriptor ("accept failed: Too many open files", health in seconds). Deliveries in
/// flight are bounded (8 per receiver, 64 in all) and their descriptors kept aside.
#[test]
fn hanging_webhook_receivers_cannot_take_every_file_descriptor() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut urls = Vec::new();
    let mut accepted = Vec::new();
    for _ in 0..5 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        urls.push(format!("http://{}/hook", listener.local_addr().unwrap()));
        let count = Arc::new(AtomicUsize::new(0));
        accepted.push(Arc::clone(&count));
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
    }
    let log = scratch_file("hanging").with_file_name("stderr.log");
    let (mut child, addr) = listening(
        Command::new("sh")
            .args(["-c", "ulimit -n 256 && exec \"$0\" \"$@\"", BIN, "serve", "--port", "0"])
            .stderr(std::fs::File::create(&log).unwrap()),
    );
    let flow = serde_json::json!({"name": "Hanging", "technologies": ["LDHP"], "webhook_urls": urls});
    let flow = body_of(&http_post(&addr, "/__admin/flows", &flow.to_string()));
    let key = flow["api_key"].as_str().unwrap();
    let started = Instant::now();
    for _ in 0..300 {
        let created =
            body_of(&http_post(&addr, "/api/v1/flows/session/create/", &format!(r#"{{"api_key": "{key}"}}"#)));
        let id = created["session_id"].as_str().unwrap();
        assert!(http_post(&addr, &format!("/__admin/sessions/{id}/complete"), "{}").starts_with("HTTP/1.1 200"));
    }
    let mut slowest = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(4) {
        let asked = Instant::now();
        assert!(http_get(&addr, "/__admin/health").starts_with("HTTP/1.1 200"));
        slowest = slowest.max(asked.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    // Within the client's 5 s timeout, no attempt has ended: what was accepted is what is in flight.
    let in_flight: Vec<usize> = accepted.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    assert!(slowest < Duration::from_millis(500), "health answered at once throughout: {slowest:?}");
    assert!(in_flight.iter().all(|n| (1..=8).contains(n)), "at most 8 in flight to each receiver: {in_flight:?}");
    let attempts = http_get(&addr, "/__admin/webhooks?limit=10000");
    assert!(!attempts.contains("open files"), "no delivery ran out of descriptors");
    terminate(&child);
    wait_exit(&mut child, Duration::from_secs(15));
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(!stderr.contains("Too many open files") && !stderr.contains("accept failed"), "{stderr}");
}

fn base64_photo() -> String {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/photos/face.jpg")).unwrap();
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

/// Resident memory of a process, in MiB (Linux).
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    kib / 1024
}

/// Issue 15: huge metadata is refused, and sessions with large photos are held only up to
/// `--max-store-bytes`, so a stream of large creates cannot grow the server without end; nor
/// can the lists that show them.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "needs /proc to read resident memory")]
fn memory_stays_bounded_under_huge_metadata_and_large_photos() {
    let (mut child, addr) = start(&["--port", "0", "--max-store-bytes", "64MiB"], &[]);
    let pad = "x".repeat(15 * 1024 * 1024);
    let huge = format!(r#"{{"api_key":"{EVERYONE}","metadata":{{"extra":{{"pad":"{pad}"}}}}}}"#);
    for _ in 0..10 {
        let response = http_post(&addr, "/api/v1/flows/session/create/", &huge);
        assert!(response.starts_with("HTTP/1.1 400"), "{}", &response[..response.len().min(300)]);
        let detail = body_of(&response)["metadata"][0].as_str().unwrap().to_owned();
        assert!(detail.contains("at most 65536") && detail.contains("metadata.extra.pad"), "{detail}");
    }
    drop(pad);
    // A 10 MB "photo": a real JPEG, then filler after its end (the mock reads its header only).
    let mut photo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/photos/face.jpg")).unwrap();
    photo.resize(10 * 1024 * 1024, 0x55);
    let photo = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &photo);
    let create = format!(r#"{{"api_key":"{INDIVIDUALS}","metadata":{{"face2face":{{"photo1":"{photo}"}}}}}}"#);
    let mut ids = Vec::new();
    for _ in 0..30 {
        let response = http_post(&addr, "/api/v1/flows/session/create/", &create);
        assert!(response.starts_with("HTTP/1.1 200"), "{}", &response[..response.len().min(300)]);
        ids.push(body_of(&response)["session_id"].as_str().unwrap().to_owned());
    }
    let rss = rss_mib(child.id());
    let listed = http_get(&addr, "/__admin/sessions?limit=10000");
    let held = body_of(&listed).as_array().unwrap().len();
    assert!((4..=7).contains(&held), "about 64 MiB of 10 MiB photos are held: {held}");
    assert!(listed.len() < 1024 * 1024, "the list shows photos as summaries: {} bytes", listed.len());
    let evicted = http_get(&addr, &format!("/__admin/sessions/{}", ids[0]));
    assert!(evicted.contains("--max-store-bytes"), "{evicted}");
    eprintln!("resident memory after 30 creates of 10 MiB photos: {rss} MiB");
    // 30 sessions of 10 MiB held in full would be over 300 MiB, beside what parsing them takes.
    assert!(rss < 250, "resident memory stays bounded: {rss} MiB");
    terminate(&child);
    wait_exit(&mut child, Duration::from_secs(5));
}

/// Issue 15: a client that sends a whole create and then shuts its side down
/// (`shutdown(SHUT_WR)`) got no answer about half the time, and no session was made. Against the
/// binary: in-process, the race did not show.
#[test]
fn a_client_that_half_closes_after_its_request_still_gets_the_answer() {
    use std::io::{Read, Write};
    let (mut child, addr) = start(&["--port", "0"], &[]);
    let host = addr.strip_prefix("http://").unwrap();
    let body = format!(r#"{{"api_key":"{EVERYONE}"}}"#);
    let mut answered = 0;
    for _ in 0..40 {
        let mut socket = std::net::TcpStream::connect(host).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let request = format!(
            "POST /api/v1/flows/session/create/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(request.as_bytes()).unwrap();
        socket.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = String::new();
        let _ = socket.read_to_string(&mut answer);
        answered += usize::from(answer.starts_with("HTTP/1.1 200"));
    }
    let listed = http_get(&addr, "/__admin/sessions?limit=1");
    terminate(&child);
    wait_exit(&mut child, Duration::from_secs(5));
    assert_eq!(answered, 40, "every half-closed client got its answer");
    assert!(listed.to_ascii_lowercase().contains("x-total-count: 40"), "every create made its session: {listed}");
}

/// Issue 15: a state file that cannot be written is refused at start-up, with the reason,
/// instead of answering every create while losing it.
#[test]
fn a_state_file_that_cannot_be_written_stops_start_up() {
    let dir = scratch_file("unwritable").parent().unwrap().to_path_buf();
    let missing_dir = dir.join("no-such-directory").join("state.json");
    let a_directory = dir.join("a-directory");
    std::fs::create_dir_all(&a_directory).unwrap();
    for (path, why) in [(missing_dir, "cannot write the state file"), (a_directory, "Is a directory")] {
        run(&["serve", "--port", "0", "--state-file", path.to_str().unwrap()])
            .failure()
            .stderr(contains(why).and(contains(path.to_str().unwrap())));
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(leftovers.iter().all(|n| !n.to_string_lossy().contains(".tmp-")), "no temporary file left: {leftovers:?}");
}

/// Issue 15: when writes start failing while the server runs, the health check and the
/// dashboard say so, the server keeps answering, and a shutdown whose last save fails exits
/// non-zero.
#[test]
fn failing_saves_are_reported_and_a_failed_last_save_exits_non_zero() {
    let dir = scratch_file("vanishing").parent().unwrap().join("vanishing-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let (mut child, addr) = listening(
        Command::new(BIN).args(["serve", "--port", "0", "--state-file", file.to_str().unwrap()]).stderr(Stdio::piped()),
    );
    let health = body_of(&http_get(&addr, "/__admin/health"));
    assert_eq!(health["status"], "ok");
    assert_eq!(health["state_file"]["ok"], true, "{health}");
    assert!(health["state_file"]["last_saved"].is_string(), "written at start-up: {health}");

    std::fs::remove_dir_all(&dir).unwrap();
    http_post(&addr, "/api/v1/flows/session/create/", &format!(r#"{{"api_key": "{EVERYONE}"}}"#));
    let start = Instant::now();
    let health = loop {
        let health = body_of(&http_get(&addr, "/__admin/health"));
        if health["state_file"]["ok"] == false {
            break health;
        }
        assert!(start.elapsed() < Duration::from_secs(3), "the failure shows on the health check: {health}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(health["status"], "ok", "the server itself is fine");
    assert!(health["state_file"]["error"].as_str().unwrap().contains("cannot create the temporary file"), "{health}");
    assert!(http_get(&addr, "/").contains("data-testid=\"state-file-error\""), "the dashboard says so");

    terminate(&child);
    let status = wait_exit(&mut child, Duration::from_secs(5));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "a failed last save is a failure: {stderr}");
    assert!(stderr.contains("the last save of the state file failed at shutdown"), "{stderr}");
    let errors = stderr.matches("cannot save the state file").count();
    assert_eq!(errors, 1, "the failure is logged once, not every quarter second: {stderr}");
}

/// `--state-sync`: a change is in the file before its answer arrives.
#[test]
fn with_state_sync_a_change_is_written_before_it_is_answered() {
    let file = scratch_file("sync");
    let (mut child, addr) = start(&["--port", "0", "--state-file", file.to_str().unwrap(), "--state-sync"], &[]);
    for _ in 0..5 {
        let created =
            body_of(&http_post(&addr, "/api/v1/flows/session/create/", &format!(r#"{{"api_key": "{EVERYONE}"}}"#)));
        let id = created["session_id"].as_str().unwrap();
        assert!(std::fs::read_to_string(&file).unwrap().contains(id), "{id} is in the file already");
        // A poll, answered without a future of its own, still passes the wait for the file.
        let polled = http_get(&addr, &format!("/api/v1/flows/session/result/?session_id={id}&flow_api_key={EVERYONE}"));
        assert!(polled.starts_with("HTTP/1.1 200"), "{polled}");
        assert_eq!(body_of(&polled)["status"], "PROGRESS", "{polled}");
    }
    terminate(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(5)).success());
    // --state-sync needs --state-file.
    run(&["serve", "--state-sync"]).code(2).stderr(contains("--state-file"));
}

/// Issue 31: with `--state-sync` and a disk that fails, only a request that changed something is
/// answered 503; reads, polls and the health check answer as always, and the failure is logged
/// once when it starts and once when writes work again.
#[test]
fn with_state_sync_only_changes_fail_when_the_disk_does() {
    let dir = scratch_file("sync-failing").parent().unwrap().join("sync-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let args = ["serve", "--port", "0", "--state-file", file.to_str().unwrap(), "--state-sync"];
    let (mut child, addr) = listening(Command::new(BIN).args(args).stderr(Stdio::piped()));
    let create = format!(r#"{{"api_key": "{EVERYONE}"}}"#);
    let id =
        body_of(&http_post(&addr, "/api/v1/flows/session/create/", &create))["session_id"].as_str().unwrap().to_owned();
    let poll = format!("/api/v1/flows/session/result/?session_id={id}&flow_api_key={EVERYONE}");

    std::fs::remove_dir_all(&dir).unwrap();
    let mut since = None;
    for _ in 0..3 {
        let refused = http_post(&addr, "/api/v1/flows/session/create/", &create);
        assert!(refused.starts_with("HTTP/1.1 503"), "a change that cannot be written: {refused}");
        assert!(body_of(&refused)["detail"].as_str().unwrap().contains("could not write it"), "{refused}");
        for read in [poll.as_str(), "/__admin/sessions", "/__admin/flows", "/"] {
            let answered = http_get(&addr, read);
            assert!(answered.starts_with("HTTP/1.1 200"), "{read} changes nothing: {answered}");
        }
        let health = http_get(&addr, "/__admin/health");
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        let health = body_of(&health);
        assert_eq!(health["state_file"]["ok"], false, "{health}");
        let failing_since = health["state_file"]["failing_since"].clone();
        assert!(failing_since.is_string(), "{health}");
        assert_eq!(*since.get_or_insert(failing_since.clone()), failing_since, "since the first failure");
    }

    std::fs::create_dir_all(&dir).unwrap();
    let created = http_post(&addr, "/api/v1/flows/session/create/", &create);
    assert!(created.starts_with("HTTP/1.1 200"), "writes work again: {created}");
    let health = body_of(&http_get(&addr, "/__admin/health"));
    assert_eq!(health["state_file"]["ok"], true, "{health}");
    let saved = std::fs::read_to_string(&file).unwrap();
    let sessions = body_of(&http_get(&addr, "/__admin/sessions"));
    for session in sessions.as_array().unwrap() {
        let id = session["session_id"].as_str().or(session["id"].as_str()).unwrap();
        assert!(saved.contains(id), "every session made, also those answered 503, is in the file: {id}");
    }

    terminate(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(5)).success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(stderr.matches("cannot save the state file").count(), 1, "logged when it starts: {stderr}");
    assert_eq!(stderr.matches("the state file is written again").count(), 1, "and when it ends: {stderr}");
}

/// Issue 16: the server logged nothing per request. With `--log-requests` it logs one line each:
/// method, path, status, time and lint codes; without it, none (it costs throughput).
#[test]
fn log_requests_logs_a_line_per_request_with_its_lint_codes() {
    for logging in [true, false] {
        let mut command = Command::new(BIN);
        command.args(["serve", "--port", "0"]).env_remove("RUST_LOG");
        if logging {
            command.arg("--log-requests");
        }
        let (mut child, addr) = listening(command.stderr(Stdio::piped()));
        http_get(&addr, "/__admin/health");
        http_get(&addr, "/api/v1/flows/session/result?session_id=x&flow_api_key=y");
        // Result polling, which is answered at once, is logged as the rest.
        http_get(&addr, "/api/v1/flows/session/result/?session_id=3fa85f64-5717-4562-b3fc-2c963f66afa6&flow_api_key=y");
        terminate(&child);
        wait_exit(&mut child, Duration::from_secs(5));
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        let health = stderr.lines().find(|l| l.contains("GET /__admin/health 200 "));
        let refused = stderr.lines().find(|l| l.contains("GET /api/v1/flows/session/result 404 "));
        let polled = stderr.lines().find(|l| l.contains("GET /api/v1/flows/session/result/ 404 "));
        if logging {
            assert!(health.is_some_and(|l| l.contains(" ms")), "{stderr}");
            assert!(refused.is_some_and(|l| l.ends_with("lint: trailing-slash")), "{stderr}");
            assert!(polled.is_some_and(|l| l.ends_with(" ms")), "{stderr}");
        } else {
            assert!(health.is_none() && refused.is_none() && polled.is_none(), "off by default: {stderr}");
        }
    }
}

/// Issue 31: `--ca-dir` was made as the umask said (0777 under `umask 000`); it is its owner's
/// only whatever the umask, and a CA key others can read is warned about with the fix.
#[test]
fn the_ca_directory_is_the_owners_only_and_a_readable_key_is_warned_about() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = scratch_file("ca-umask").parent().unwrap().join("made").join("ca");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    let dir_text = dir.to_str().unwrap();
    let made = Command::new("sh")
        .args(["-c", "umask 000 && exec \"$0\" \"$@\"", BIN, "ca", "--ca-dir", dir_text])
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let mode_of = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode_of(&dir), 0o700, "the directory is the owner's only");
    let key = dir.join("biometric-kz-mock-ca-key.pem");
    assert_eq!(mode_of(&key), 0o600, "the key too");
    assert!(!String::from_utf8_lossy(&made.stderr).contains("can be read by other users"));

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let warned = Command::new(BIN).args(["ca", "--ca-dir", dir_text]).output().unwrap();
    assert!(warned.status.success(), "a warning, not a refusal: {warned:?}");
    let stderr = String::from_utf8_lossy(&warned.stderr);
    assert!(stderr.contains("can be read by other users (mode 644)"), "{stderr}");
    assert!(stderr.contains(&format!("chmod 600 {}", key.display())), "the fix is named: {stderr}");
}

/// Issue 20: `ca` prints the CA that `serve --ca-dir` serves and keeps across restarts.
#[test]
fn the_ca_command_prints_the_ca_the_server_keeps_in_its_directory() {
    let dir = scratch_file("ca").parent().unwrap().join("ca");
    let _ = std::fs::remove_dir_all(&dir);
    let dir_text = dir.to_str().unwrap();
    let printed = run(&["ca", "--ca-dir", dir_text]).success().get_output().stdout.clone();
    let printed = String::from_utf8(printed).unwrap();
    assert!(printed.starts_with("-----BEGIN CERTIFICATE-----"), "{printed}");
    let args = ["serve", "--port", "0", "--tls-port", "0", "--ca-dir", dir_text];
    let (mut server, addr) = start(&args, &[]);
    let published = http_get(&addr, "/__admin/ca.pem");
    assert!(published.ends_with(&printed), "the server uses the same CA: {published}");
    terminate(&server);
    wait_exit(&mut server, Duration::from_secs(5));
    let out = dir.join("ca.pem");
    run(&["ca", "--ca-dir", dir_text, "--out", out.to_str().unwrap()]).success();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), printed, "--out writes the same certificate");
    let key = std::fs::metadata(dir.join("biometric-kz-mock-ca-key.pem")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&key.permissions()) & 0o777,
        0o600,
        "the key is the owner's only"
    );
    run(&["ca"]).code(2).stderr(contains("--ca-dir"));
}
