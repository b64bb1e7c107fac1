//! The client recipes in `examples/`, each run against a live server as a user would run it.

use crate::helpers::{python_with, scratch_dir, spawn_app, tool};

/// Runs `program args` with `BKZ_MOCK_URL` set; returns its output. (Every test that runs one is
/// ignored unless asked for: the program may be missing.)
async fn run_example(program: &str, package: &str, args: &[&str], check: Option<&str>, own_server: bool) -> String {
    let path = match check {
        Some(module) => python_with(&[module]),
        None => tool(&format!("BKZ_MOCK_{}", program.to_uppercase()), &[program], package),
    };
    let app = spawn_app().await;
    let out_dir = scratch_dir("example");
    let root = env!("CARGO_MANIFEST_DIR");
    let args: Vec<String> = args.iter().map(|a| a.replace("{root}", root)).collect();
    let output = tokio::process::Command::new(path)
        .args(&args)
        .current_dir(root)
        // An empty URL makes the pytest fixture start the binary itself.
        .env("BKZ_MOCK_URL", if own_server { "" } else { app.base.as_str() })
        .env("BKZ_MOCK_BIN", env!("CARGO_BIN_EXE_biometric-kz-mock"))
        .env("OUT_DIR", &out_dir)
        .output()
        .await
        .expect("the example runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{program} {args:?} failed:\n{text}");
    if out_dir.join("report.pdf").exists() {
        assert!(std::fs::read(out_dir.join("report.pdf")).unwrap().starts_with(b"%PDF-"), "a PDF was written");
        let video = std::fs::read(out_dir.join("liveness.mp4")).unwrap();
        assert_eq!(&video[4..8], b"ftyp", "an MP4 was written");
    }
    text
}

#[tokio::test]
#[ignore = "needs bash and curl"]
async fn the_curl_recipe_runs() {
    let out = run_example("bash", "bash", &["{root}/examples/curl.sh"], None, false).await;
    assert!(out.contains("status: FINISHED") && out.contains("report: "), "{out}");
}

#[tokio::test]
#[ignore = "needs python3 with requests"]
async fn the_python_requests_recipe_runs() {
    let out = run_example("python3", "python3", &["{root}/examples/python_requests.py"], Some("requests"), false).await;
    assert!(out.contains("status: FINISHED") && out.contains("refused:"), "{out}");
}

#[tokio::test]
#[ignore = "needs python3 with requests"]
async fn the_backend_api_recipe_runs() {
    let out = run_example("python3", "python3", &["{root}/examples/backend_api.py"], Some("requests"), false).await;
    assert!(out.contains("liveness: result=True") && out.contains("face2face: result=True"), "{out}");
    assert!(out.contains("e-document: ") && out.contains("IIN 900101300017"), "{out}");
    assert!(out.contains("refused: 404: Subject not found in MCDB"), "{out}");
}

#[tokio::test]
#[ignore = "needs node"]
async fn the_node_fetch_recipe_runs() {
    let out = run_example("node", "nodejs", &["{root}/examples/node_fetch.mjs"], None, false).await;
    assert!(out.contains("created with fetch's own Content-Type (text/plain;charset=UTF-8):"), "{out}");
    assert!(out.contains("status: FINISHED"), "{out}");
}

/// Issue 32: Node's own test runner, four tests at a time, each on a flow of its own, against one
/// shared mock.
#[tokio::test]
#[ignore = "needs node"]
async fn the_node_test_runner_recipe_runs_its_tests_at_once_against_one_shared_mock() {
    let out = run_example("node", "nodejs", &["--test", "{root}/examples/node-test/flows.test.mjs"], None, false).await;
    assert!(out.contains("# pass 10") && out.contains("# fail 0"), "{out}");
}

#[tokio::test]
#[ignore = "needs python3 with pytest and requests"]
async fn the_pytest_recipe_runs_against_the_binary() {
    let out = run_example(
        "python3",
        "python3",
        &["-m", "pytest", "-q", "-p", "no:cacheprovider", "{root}/examples/pytest"],
        Some("pytest"),
        true,
    )
    .await;
    assert!(out.contains("12 passed"), "{out}");
}

/// Issue 32: the pytest recipe's tests, four pytest-xdist workers at once, against one shared
/// mock (`BKZ_MOCK_URL`): each test on a flow of its own, none disturbs another.
#[tokio::test]
#[ignore = "needs python3 with pytest, pytest-xdist and requests"]
async fn the_pytest_recipe_runs_in_four_workers_against_one_shared_mock() {
    python_with(&["xdist"]);
    let out = run_example(
        "python3",
        "python3",
        &["-m", "pytest", "-q", "-n", "4", "-p", "no:cacheprovider", "{root}/examples/pytest"],
        Some("pytest"),
        false,
    )
    .await;
    assert!(out.contains("12 passed"), "{out}");
}

/// The widget recipe (examples/widget): its backend and page on their own origin, driven in
/// Chromium by its Selenium test, as an integrator would copy it.
#[tokio::test]
#[ignore = "needs chromium and python3 with selenium and pytest"]
async fn the_widget_recipe_runs_in_chromium() {
    tool("BKZ_MOCK_CHROMEDRIVER", &["chromedriver"], "chromium-driver");
    tool("BKZ_MOCK_CHROMIUM", &["chromium", "chromium-browser"], "chromium");
    let _turn = crate::helpers::chromium::browser_turn().await;
    let out = run_example(
        "python3",
        "python3",
        &["-m", "pytest", "-q", "-p", "no:cacheprovider", "{root}/examples/widget"],
        Some("selenium"),
        false,
    )
    .await;
    assert!(out.contains("2 passed"), "{out}");
}

/// Issue 16: from a fresh clone the pytest recipe failed with `FileNotFoundError:
/// 'biometric-kz-mock'`. Without the binary, the fixture says how to get it.
#[tokio::test]
#[ignore = "needs python3 with pytest and requests"]
async fn the_pytest_recipe_says_how_to_get_the_binary_when_it_is_missing() {
    let python = python_with(&["pytest", "requests"]);
    let root = env!("CARGO_MANIFEST_DIR");
    for (name, value) in [("BKZ_MOCK_BIN", "/nonexistent/biometric-kz-mock"), ("PATH", "/usr/bin:/bin")] {
        let mut command = tokio::process::Command::new(&python);
        command.args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "examples/pytest"]).current_dir(root);
        command.env_remove("BKZ_MOCK_URL").env_remove("BKZ_MOCK_BIN").env(name, value);
        let output = command.output().await.unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name}: the suite fails: {text}");
        assert!(
            text.contains("biometric-kz-mock was not found")
                && text.contains("cargo install --path .")
                && text.contains("BKZ_MOCK_URL"),
            "{name}: the failure says how to get the binary: {text}"
        );
        assert!(!text.contains("FileNotFoundError"), "{name}: {text}");
    }
}

/// Issue 16: the README's quick start could not be pasted (`<session_id>` in a URL is refused
/// before any handler). Its block runs as it is, with only the server's address changed, and
/// prints what the README says it prints.
#[tokio::test]
#[ignore = "needs bash, curl and sed"]
async fn the_readme_quick_start_pastes_as_it_is() {
    let bash = tool("BKZ_MOCK_BASH", &["bash"], "bash");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("```sh\nKEY=").expect("the quick start's block") + "```sh\n".len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let app = spawn_app().await;
    let script = block.replace("http://127.0.0.1:8080", &app.base);
    let output = tokio::process::Command::new(bash).args(["-euo", "pipefail", "-c", &script]).output().await.unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{text}{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "three lines, as the README shows: {text}");
    assert!(uuid::Uuid::parse_str(lines[0]).is_ok(), "the session id: {}", lines[0]);
    let done: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(done["status"], "FINISHED", "{done}");
    let result: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!((result["id"].as_str(), result["status"].as_str()), (Some(lines[0]), Some("FINISHED")), "{result}");
}
