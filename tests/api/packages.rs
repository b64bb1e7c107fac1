//! The Python and npm packages' helpers (packages/), from the repository's sources against the
//! debug binary: the suites in examples/packages run as their users run them. `.ci/run` also
//! builds the packages (scripts/package.sh) and runs the same suites from the built files.

use crate::helpers::{python_with, scratch_dir, spawn_app, tool};
use std::path::{Path, PathBuf};
use std::process::Output;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BINARY: &str = env!("CARGO_BIN_EXE_biometric-kz-mock");

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// PATH with the binary's folder first (as the wheel's scripts folder would be), or without it.
fn path_with(dir: Option<&Path>) -> std::ffi::OsString {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let kept = std::env::split_paths(&inherited).filter(|d| !d.join("biometric-kz-mock").is_file());
    std::env::join_paths(dir.map(Path::to_path_buf).into_iter().chain(kept)).expect("a PATH")
}

fn python_package(python: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(python);
    command.current_dir(ROOT).env("PYTHONPATH", format!("{ROOT}/packages/python/python")).env_remove("BKZ_MOCK_URL");
    command
}

async fn pytest_suite(shared: Option<&str>) -> String {
    let python = python_with(&["pytest", "xdist"]);
    let mut command = python_package(&python);
    command
        .args(["-m", "pytest", "-q", "-n", "4", "-p", "no:cacheprovider", "-p", "biometric_kz_mock.pytest_plugin"])
        .arg(format!("{ROOT}/examples/packages/python/test_helpers.py"))
        .env("BKZ_MOCK_BIN", BINARY)
        .env("PATH", path_with(Path::new(BINARY).parent()));
    if let Some(url) = shared {
        command.env("BKZ_MOCK_URL", url);
    }
    let output = command.output().await.expect("pytest runs");
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    out
}

#[tokio::test]
#[ignore = "needs python3 with pytest and pytest-xdist"]
async fn the_python_packages_suite_runs_in_four_workers_each_with_its_own_server() {
    let out = pytest_suite(None).await;
    assert!(out.contains("19 passed"), "{out}");
}

#[tokio::test]
#[ignore = "needs python3 with pytest and pytest-xdist"]
async fn the_python_packages_suite_runs_in_four_workers_against_one_shared_mock() {
    let app = spawn_app().await;
    let out = pytest_suite(Some(&app.base)).await;
    assert!(out.contains("19 passed"), "{out}");
}

/// The ini option `bkz_mock_args` reaches the plugin's own server: here its default scenario.
#[tokio::test]
#[ignore = "needs python3 with pytest"]
async fn the_pytest_plugins_server_takes_its_flags_from_the_ini_option() {
    let python = python_with(&["pytest"]);
    let dir = scratch_dir("pytest-ini");
    std::fs::write(
        dir.join("test_flags.py"),
        "def test_the_default_scenario_is_the_ini_options(bkz_flow):\n    \
             session_id = bkz_flow.create_session()['session_id']\n    \
             bkz_flow.complete(session_id)\n    \
             assert bkz_flow.result(session_id)['status'] == 'FAILED'\n",
    )
    .expect("a test file");
    let output = python_package(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "biometric_kz_mock.pytest_plugin"])
        .args(["-o", "bkz_mock_args=--scenario liveness-fails --strict"])
        .arg(dir.join("test_flags.py"))
        .env("BKZ_MOCK_BIN", BINARY)
        .output()
        .await
        .expect("pytest runs");
    let out = text(&output);
    assert!(output.status.success() && out.contains("1 passed"), "{out}");
}

#[tokio::test]
#[ignore = "needs python3"]
async fn the_python_package_without_an_executable_says_how_to_build_one() {
    let python = python_with(&[]);
    let output = python_package(&python)
        .args(["-c", "import biometric_kz_mock\ntry:\n    biometric_kz_mock.start()\nexcept biometric_kz_mock.ExecutableNotFound as e:\n    print(e)\n"])
        .env_remove("BKZ_MOCK_BIN")
        .env("PATH", path_with(None))
        .output()
        .await
        .expect("python runs");
    let out = text(&output);
    assert!(out.contains("No biometric-kz-mock executable was found"), "{out}");
    assert!(out.contains("Linux x86-64 with glibc 2.34 or later"), "{out}");
    assert!(out.contains("cargo install --locked --path ."), "{out}");
    let output = python_package(&python)
        .args(["-c", "import biometric_kz_mock\ntry:\n    biometric_kz_mock.start()\nexcept biometric_kz_mock.ExecutableNotFound as e:\n    print(e)\n"])
        .env("BKZ_MOCK_BIN", "/nonexistent/biometric-kz-mock")
        .output()
        .await
        .expect("python runs");
    assert!(
        text(&output).contains("BKZ_MOCK_BIN=/nonexistent/biometric-kz-mock is not an executable file"),
        "{}",
        text(&output)
    );
}

/// The npm packages' committed versions are the crate's (scripts/package.sh sets them again when it
/// packs; the wheel takes the crate's through maturin).
#[test]
fn the_npm_packages_versions_are_the_crates() {
    let read = |package: &str| -> serde_json::Value {
        let file = Path::new(ROOT).join("packages/npm").join(package).join("package.json");
        serde_json::from_str(&std::fs::read_to_string(file).expect("package.json")).expect("JSON")
    };
    let crate_version = env!("CARGO_PKG_VERSION");
    let main = read("biometric-kz-mock");
    assert_eq!(main["version"], crate_version);
    assert_eq!(main["optionalDependencies"]["biometric-kz-mock-linux-x64"], crate_version);
    assert_eq!(read("biometric-kz-mock-linux-x64")["version"], crate_version);
}

/// A folder where `require('biometric-kz-mock')` and `npx biometric-kz-mock` find the package's
/// sources, as npm would install them (without the platform package: BKZ_MOCK_BIN stands in).
fn node_project() -> PathBuf {
    let dir = scratch_dir("npm");
    let modules = dir.join("node_modules");
    std::fs::create_dir_all(modules.join(".bin")).expect("node_modules");
    let package = Path::new(ROOT).join("packages/npm/biometric-kz-mock");
    std::os::unix::fs::symlink(&package, modules.join("biometric-kz-mock")).expect("a link");
    std::os::unix::fs::symlink(package.join("bin/biometric-kz-mock.cjs"), modules.join(".bin/biometric-kz-mock"))
        .expect("a link");
    std::fs::write(dir.join("package.json"), r#"{"name": "recipes", "private": true}"#).expect("package.json");
    let suite = "require.test.cjs";
    std::fs::copy(Path::new(ROOT).join("examples/packages/node").join(suite), dir.join(suite)).expect("a copy");
    dir
}

#[tokio::test]
#[ignore = "needs node"]
async fn the_npm_packages_commonjs_suite_runs_from_source() {
    let node = tool("BKZ_MOCK_NODE", &["node"], "nodejs");
    let dir = node_project();
    let output = tokio::process::Command::new(&node)
        .args(["--test", "require.test.cjs"])
        .current_dir(&dir)
        .env("BKZ_MOCK_BIN", BINARY)
        .env_remove("BKZ_MOCK_URL")
        .output()
        .await
        .expect("node runs");
    let out = text(&output);
    assert!(output.status.success() && out.contains("# pass 6") && out.contains("# fail 0"), "{out}");
}

#[tokio::test]
#[ignore = "needs node"]
async fn the_npm_package_without_its_platform_package_says_what_to_install() {
    let node = tool("BKZ_MOCK_NODE", &["node"], "nodejs");
    let dir = node_project();
    let script = "import('biometric-kz-mock').then((m) => m.startMock()).then(() => console.log('started'), (e) => console.log(e.name + ': ' + e.message))";
    let output = tokio::process::Command::new(&node)
        .args(["-e", script])
        .current_dir(&dir)
        .env_remove("BKZ_MOCK_BIN")
        .output()
        .await
        .expect("node runs");
    let out = text(&output);
    assert!(out.contains("ExecutableNotFound: The package biometric-kz-mock-linux-x64, which carries the executable, is not installed"), "{out}");
    let output = tokio::process::Command::new(&node)
        .args(["node_modules/.bin/biometric-kz-mock", "serve"])
        .current_dir(&dir)
        .env("BKZ_MOCK_BIN", "/nonexistent/biometric-kz-mock")
        .output()
        .await
        .expect("node runs");
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("is not an executable file") && out.contains("cargo install --locked --path ."), "{out}");
}
