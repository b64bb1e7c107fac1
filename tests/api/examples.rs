//! The client recipes in `examples/`, each run against a live server as a user would run it.

use crate::helpers::{python_with, scratch_dir, spawn_app, tool};

/// Runs `program args` with `BKZ_MOCK_URL` set; returns its output, or `None` when the tool is
/// missing (and not required).
async fn run_example(
    program: &str,
    package: &str,
    args: &[&str],
    check: Option<&str>,
    own_server: bool,
) -> Option<String> {
    let path = match check {
        Some(module) => python_with(&[module])?,
        None => tool(&format!("BKZ_MOCK_{}", program.to_uppercase()), &[program], package)?,
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
    Some(text)
}

#[tokio::test]
async fn the_curl_recipe_runs() {
    let Some(out) = run_example("bash", "bash", &["{root}/examples/curl.sh"], None, false).await else { return };
    assert!(out.contains("status: FINISHED") && out.contains("report: "), "{out}");
}

#[tokio::test]
async fn the_python_requests_recipe_runs() {
    let Some(out) =
        run_example("python3", "python3", &["{root}/examples/python_requests.py"], Some("requests"), false).await
    else {
        return;
    };
    assert!(out.contains("status: FINISHED") && out.contains("refused:"), "{out}");
}

#[tokio::test]
async fn the_node_fetch_recipe_runs() {
    let Some(out) = run_example("node", "nodejs", &["{root}/examples/node_fetch.mjs"], None, false).await else {
        return;
    };
    assert!(out.contains("created without Content-Type:") && out.contains("status: FINISHED"), "{out}");
}

#[tokio::test]
async fn the_pytest_recipe_runs_against_the_binary() {
    let Some(out) = run_example(
        "python3",
        "python3",
        &["-m", "pytest", "-q", "-p", "no:cacheprovider", "{root}/examples/pytest"],
        Some("pytest"),
        true,
    )
    .await
    else {
        return;
    };
    assert!(out.contains("3 passed"), "{out}");
}
