//! The deployment recipes: the Dockerfile's promises, `compose.yaml` and the GitHub Actions
//! example validated, and the README's snippets in step with the files. (The image itself is
//! built and run by `scripts/container-ci.sh`, which `.ci/run` calls.)

use std::process::Command;

use crate::helpers::python_with;

fn file(name: &str) -> String {
    std::fs::read_to_string(format!("{}/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Runs a Python snippet that needs `modules` (tests that do are ignored unless asked for).
fn python(code: &str, modules: &[&str]) -> String {
    let python = python_with(modules);
    let out = Command::new(&python).args(["-c", code]).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn the_dockerfile_keeps_its_promises() {
    let df = file("Dockerfile");
    assert!(!df.lines().any(|l| l.starts_with("# syntax=")), "no syntax line: it would fetch a frontend image");
    let froms: Vec<&str> = df.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "multi-stage: {froms:?}");
    assert!(
        froms[0].starts_with("FROM rust:1.") && froms[0].contains(" AS build"),
        "a pinned rust build stage: {}",
        froms[0]
    );
    assert_eq!(froms[1], "FROM debian:bookworm-slim");
    assert!(df.contains("cargo build --release --locked"));
    assert!(df.contains("EXPOSE 8080") && df.contains("BKZ_MOCK_HOST=0.0.0.0"));
    assert!(df.contains("HEALTHCHECK ") && df.contains(r#"CMD ["biometric-kz-mock", "healthcheck"]"#));
    let user = df.lines().find(|l| l.starts_with("USER ")).expect("a USER line");
    assert_ne!(user, "USER root");
    assert!(df.contains(r#"ENTRYPOINT ["biometric-kz-mock"]"#), "exec form: the binary is PID 1 and gets SIGTERM");
    assert!(file(".dockerignore").lines().any(|l| l == "target"), ".dockerignore keeps target/ out");
    // Cargo parses every [[bench]] even to build dependencies: their sources must be there first.
    let benches_at = df.find("COPY benches").expect("the benches are copied");
    let first_build = df.find("cargo build").expect("a build");
    assert!(benches_at < first_build, "the bench sources come before the first cargo build");
    // Every folder the binary compiles in (include_str!/include_bytes!) is copied into the build.
    for dir in compiled_in_folders() {
        assert!(df.contains(&format!("COPY {dir} ./{dir}")), "the Dockerfile copies {dir}/, which src/ compiles in");
    }
}

/// The repository's top-level folders that `src/` reads with `include_str!` or `include_bytes!`.
fn compiled_in_folders() -> std::collections::BTreeSet<String> {
    let mut folders = std::collections::BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(format!("{}/src", env!("CARGO_MANIFEST_DIR")))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices("include_") {
                let rest = &text[at..];
                let Some(start) = rest.find("!(\"").map(|i| i + 3) else { continue };
                let Some(end) = rest[start..].find('"') else { continue };
                let first = rest[start..start + end].split('/').find(|part| *part != "..").unwrap_or_default();
                folders.insert(first.to_owned());
            }
        }
    }
    assert!(folders.contains("fixtures") && folders.contains("widget"), "{folders:?}");
    folders
}

#[test]
#[ignore = "needs python3 with PyYAML and compose-spec"]
fn compose_yaml_is_a_valid_compose_file_that_uses_the_image_health_check() {
    let code = r#"
import yaml
from compose_spec import PyCompose
text = open("compose.yaml").read()
PyCompose.from_yaml(text)
service = yaml.safe_load(text)["services"]["biometric-kz-mock"]
assert service["healthcheck"]["test"] == ["CMD", "biometric-kz-mock", "healthcheck"], service
assert "8080:8080" in service["ports"], service
print("compose ok")
"#;
    let out = python(code, &["yaml", "compose_spec"]);
    assert!(out.contains("compose ok"), "{out}");
}

/// Issue 20: the mock as the vendor's hosts on a compose network, with TLS on 443 and the CA
/// shared with the app through a volume.
#[test]
#[ignore = "needs python3 with PyYAML and compose-spec"]
fn the_vendor_hosts_compose_recipe_is_valid_and_shares_the_ca() {
    let code = r#"
import yaml
from compose_spec import PyCompose
text = open("examples/compose-vendor-hosts.yaml").read()
PyCompose.from_yaml(text)
doc = yaml.safe_load(text)
mock, app = doc["services"]["biometric-kz-mock"], doc["services"]["app"]
assert set(mock["networks"]["default"]["aliases"]) == {"kyc.biometric.kz", "remote.biometric.kz"}, mock
assert mock["command"][-2:] == ["--tls-port", "443"], mock
assert "mock-ca:/var/lib/biometric-kz-mock/ca" in mock["volumes"], mock
assert "mock-ca:/mock-ca:ro" in app["volumes"], app
assert app["environment"]["REQUESTS_CA_BUNDLE"] == "/mock-ca/biometric-kz-mock-ca.pem", app
print("compose ok")
"#;
    let out = python(code, &["yaml", "compose_spec"]);
    assert!(out.contains("compose ok"), "{out}");
    let dockerfile = file("Dockerfile");
    assert!(
        dockerfile.contains("BKZ_MOCK_CA_DIR=/var/lib/biometric-kz-mock/ca"),
        "the image keeps its CA where the recipe mounts it"
    );
}

#[test]
#[ignore = "needs python3 with PyYAML"]
fn the_github_actions_example_is_valid() {
    let code = r#"
import yaml
doc = yaml.safe_load(open("examples/github-actions.yml"))
service = doc["jobs"]["test"]["services"]["biometric-kz-mock"]
assert service["ports"] == ["8080:8080"], service
assert '--health-cmd "biometric-kz-mock healthcheck"' in service["options"], service
print("actions ok")
"#;
    let out = python(code, &["yaml"]);
    assert!(out.contains("actions ok"), "{out}");
}

#[test]
fn the_readme_shows_the_github_actions_examples_health_check() {
    let readme = file("README.md");
    for line in file("examples/github-actions.yml").lines().filter(|l| l.trim_start().starts_with("--health")) {
        assert!(readme.contains(line.trim()), "the README shows {line:?}");
    }
}

#[test]
fn every_example_file_is_mentioned_in_the_readme() {
    let readme = file("README.md");
    for name in [
        "examples/curl.sh",
        "examples/python_requests.py",
        "examples/node_fetch.mjs",
        "examples/pytest/conftest.py",
        "examples/testcontainers/test_container.py",
        "examples/github-actions.yml",
        "examples/backend_api.py",
        "examples/unmodified/vendor_docs.py",
        "examples/unmodified/fetch.mjs",
        "examples/compose-vendor-hosts.yaml",
        "examples/widget/index.html",
        "examples/widget/backend.py",
        "examples/widget/test_widget.py",
        "compose.yaml",
        "examples/packages/python/test_container.py",
        "examples/packages/node/container.test.mjs",
        "packages/python/README.md",
        "packages/npm/biometric-kz-mock/README.md",
        "scripts/package.sh",
        "scripts/packages-ci.sh",
    ] {
        assert!(readme.contains(name), "README mentions {name}");
    }
}
