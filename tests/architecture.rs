//! The architecture as ARCHITECTURE.md draws it, checked on the source: which top-level module
//! may use which (`crate::x` in code, comments and test modules aside), no import cycles, and
//! no HTTP framework below the fronts. A new module fails here until it is given its place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and the modules it may use. The same table as
/// ARCHITECTURE.md's; lower layers first.
const MAY_USE: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("clock", &["domain"]),
    ("deadline", &[]),
    ("video", &[]),
    ("report", &[]),
    ("tls", &["domain"]),
    ("journal", &["clock", "domain"]),
    ("scenario", &["domain", "video"]),
    ("session", &["clock", "domain", "report", "scenario"]),
    ("wire", &["clock", "domain", "session"]),
    ("persist", &["clock", "domain", "session"]),
    ("config", &["domain", "scenario", "session", "video"]),
    ("state", &["clock", "domain", "journal", "persist", "report", "scenario", "session", "video"]),
    ("webhook", &["clock", "domain", "session", "wire"]),
    ("http", &["clock", "deadline", "domain", "journal", "report", "scenario", "session", "state", "wire"]),
    ("page", &["clock", "deadline", "domain", "journal", "scenario", "session", "state"]),
    ("widget", &["state"]),
    ("admin", &["clock", "domain", "http", "journal", "report", "scenario", "session", "state", "webhook", "wire"]),
    ("app", &["admin", "deadline", "http", "page", "state", "webhook", "widget"]),
    ("server", &["app", "deadline", "http", "journal"]),
    ("cli", &["config", "scenario"]),
    ("startup", &["app", "config", "domain", "persist", "server", "session", "state", "tls", "webhook"]),
    ("mock_server", &["config", "domain", "journal", "session", "startup", "state", "webhook"]),
];

/// Modules that know nothing of HTTP: the vendor's rules, the sessions and the scenarios.
const NO_HTTP: &[&str] = &["domain", "session", "scenario"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file: without its inline test module, without comment lines; `None` for a
/// file that is a test module (`tests.rs`).
fn code_of(path: &Path) -> Option<String> {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return None;
    }
    let text = std::fs::read_to_string(path).expect("a readable source file");
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    Some(text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n"))
}

/// The top-level module a file belongs to (`src/state/mod.rs` → `state`); `None` for the crate
/// root and the binary.
fn module_of(src: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src).expect("under src/");
    let first = relative.components().next()?.as_os_str().to_str()?.trim_end_matches(".rs").to_owned();
    (first != "lib" && first != "main").then_some(first)
}

/// Every `crate::x` a piece of code names.
fn used_modules(code: &str) -> BTreeSet<String> {
    code.match_indices("crate::")
        .filter(|(at, _)| !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        .map(|(at, _)| code[at + 7..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect::<String>())
        .filter(|m| !m.is_empty())
        .collect()
}

/// A top-level module: the modules it uses, and its files with their code.
#[derive(Default)]
struct Module {
    uses: BTreeSet<String>,
    files: Vec<(PathBuf, String)>,
}

fn graph() -> BTreeMap<String, Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, Module> = BTreeMap::new();
    for file in files {
        let (Some(module), Some(code)) = (module_of(&src, &file), code_of(&file)) else { continue };
        let entry = graph.entry(module.clone()).or_default();
        entry.uses.extend(used_modules(&code).into_iter().filter(|m| *m != module));
        entry.files.push((file, code));
    }
    graph
}

#[test]
fn every_module_uses_only_the_modules_below_it() {
    let allowed: BTreeMap<&str, &[&str]> = MAY_USE.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, Module { uses, .. }) in graph() {
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!("{module} is not in the table: give it its place (here and in ARCHITECTURE.md)"));
            continue;
        };
        for used in uses.iter().filter(|u| !may.contains(&u.as_str())) {
            wrong.push(format!("{module} uses {used}, which it may not"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_table_has_no_cycles_and_lists_each_module_after_what_it_uses() {
    let mut listed = BTreeSet::new();
    for (module, uses) in MAY_USE {
        for used in *uses {
            assert!(listed.contains(used), "{module} may use {used}, which comes later in the table (a cycle?)");
        }
        listed.insert(*module);
    }
}

#[test]
fn the_rules_the_sessions_and_the_scenarios_know_no_http() {
    let graph = graph();
    for module in NO_HTTP {
        let files = &graph.get(*module).unwrap_or_else(|| panic!("{module} exists")).files;
        for (file, code) in files {
            for word in ["axum", "hyper", "utoipa", "crate::http", "StatusCode"] {
                assert!(!code.contains(word), "{} names {word}", file.display());
            }
        }
    }
}

#[test]
fn the_reader_finds_the_uses_it_is_meant_to() {
    let code = "use crate::state::AppState;\nlet x = crate::clock::now();\nlet y = my_crate::http::x;";
    let found: Vec<String> = used_modules(code).into_iter().collect();
    assert_eq!(found, ["clock", "state"], "my_crate:: is not crate::");
}
