//! The architecture as ARCHITECTURE.md draws it, checked on the source: which top-level module
//! may use which (`crate::x` in code, comments and test modules aside), no import cycles between
//! modules nor between the files of one module's folder, and no HTTP below the fronts. A new
//! module fails here until it is given its place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and the modules it may use. The same table as
/// ARCHITECTURE.md's; lower layers first.
const MAY_USE: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("clock", &["domain"]),
    ("body", &[]),
    ("video", &[]),
    ("report", &[]),
    ("tls", &["domain"]),
    ("journal", &["clock", "domain"]),
    ("scenario", &["domain", "video"]),
    ("session", &["clock", "domain", "report", "scenario"]),
    ("wire", &["clock", "domain", "session"]),
    ("persist", &["clock", "domain", "session", "wire"]),
    ("config", &["domain", "scenario", "session", "video"]),
    ("state", &["clock", "domain", "journal", "persist", "report", "scenario", "session", "video"]),
    ("webhook", &["clock", "domain", "session", "wire"]),
    ("http", &["body", "clock", "domain", "journal", "report", "scenario", "session", "state", "wire"]),
    ("page", &["body", "clock", "domain", "journal", "scenario", "session", "state"]),
    ("widget", &["domain"]),
    ("admin", &["clock", "domain", "http", "journal", "report", "scenario", "session", "state", "webhook", "wire"]),
    ("app", &["admin", "body", "domain", "http", "journal", "page", "state", "webhook", "widget"]),
    ("server", &["app", "body", "http", "journal"]),
    ("cli", &["config", "scenario"]),
    ("startup", &["app", "config", "domain", "persist", "server", "session", "state", "tls", "webhook"]),
    ("mock_server", &["config", "domain", "journal", "session", "startup", "state", "webhook"]),
];

/// Modules that know nothing of HTTP: the vendor's rules, the sessions and the scenarios.
const NO_HTTP: &[&str] = &["domain", "session", "scenario"];

/// What they must not name: the HTTP crates, their types, and HTTP bytes.
const HTTP_WORDS: &[&str] = &["axum", "hyper", "utoipa", "crate::http", "StatusCode", "http::", "bytes::"];

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
            for word in HTTP_WORDS {
                assert!(!code.contains(word), "{} names {word}", file.display());
            }
        }
    }
}

/// The sibling modules a file of a module's folder uses: `super::x` and `crate::<folder>::x`,
/// grouped imports (`super::{x, y::z}`) included, where `x` is a file or folder beside it.
fn sibling_uses(code: &str, folder: &str, siblings: &BTreeSet<String>) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for prefix in ["super::".to_owned(), format!("crate::{folder}::")] {
        for (at, _) in code.match_indices(&prefix) {
            if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[at + prefix.len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => {
                    // The group's top-level names: `{a, b::{c, d}, e}` gives a, b and e.
                    let (mut depth, mut start, mut names) = (0, 0, Vec::new());
                    for (i, c) in group.char_indices() {
                        match c {
                            '{' => depth += 1,
                            '}' if depth == 0 => {
                                names.push(&group[start..i]);
                                break;
                            }
                            '}' => depth -= 1,
                            ',' if depth == 0 => {
                                names.push(&group[start..i]);
                                start = i + 1;
                            }
                            _ => {}
                        }
                    }
                    names
                }
                None => vec![rest],
            };
            for name in names {
                let first: String =
                    name.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if siblings.contains(&first) {
                    used.insert(first);
                }
            }
        }
    }
    used
}

/// Each folder of `src/` (by its path from `src/`, such as `http` or `http/backend`) and, for each
/// file or subfolder in it but `mod.rs`, the siblings it uses.
fn folder_graphs() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut folders = BTreeMap::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        let mut members: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).expect("a readable folder") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path.clone());
                let mut files = Vec::new();
                rust_files(&path, &mut files);
                members.insert(path.file_name().unwrap().to_string_lossy().into_owned(), files);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("mod.rs") && dir != src {
                members.insert(path.file_stem().unwrap().to_string_lossy().into_owned(), vec![path]);
            }
        }
        if dir == src {
            continue;
        }
        let folder = dir.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let siblings: BTreeSet<String> = members.keys().cloned().collect();
        let graph = members
            .iter()
            .map(|(name, files)| {
                let uses = files
                    .iter()
                    // A file of a subfolder names its own siblings with `super::`: only its
                    // `crate::folder::x` uses reach this folder's members.
                    .filter_map(|file| Some((file, code_of(file)?)))
                    .flat_map(|(file, code)| {
                        let own = file.parent() == Some(dir.as_path());
                        let code = if own { code } else { code.replace("super::", "") };
                        sibling_uses(&code, &folder.replace('/', "::"), &siblings)
                    })
                    .filter(|used| used != name)
                    .collect();
                (name.clone(), uses)
            })
            .collect();
        folders.insert(folder, graph);
    }
    folders
}

#[test]
fn the_files_of_a_module_folder_use_each_other_without_cycles() {
    let mut cycles = Vec::new();
    for (folder, graph) in folder_graphs() {
        // Depth-first search for a path back to where it started.
        for start in graph.keys() {
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            while let Some((at, path)) = stack.pop() {
                for next in graph.get(&at).into_iter().flatten() {
                    if next == start {
                        cycles.push(format!("{folder}: {} -> {start}", path.join(" -> ")));
                    } else if !path.contains(next) {
                        stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
                    }
                }
            }
        }
    }
    assert!(cycles.is_empty(), "files that use each other round in a circle:\n{}", cycles.join("\n"));
}

#[test]
fn the_sibling_reader_finds_grouped_and_full_paths() {
    let siblings: BTreeSet<String> = ["api", "lint", "extract", "fault"].map(str::to_owned).into();
    let code =
        "use super::{ApiError, api::x, lint::{doc, y}};\nlet q = crate::http::extract::Q;\nsuper::fault::meet();";
    let found: Vec<String> = sibling_uses(code, "http", &siblings).into_iter().collect();
    assert_eq!(found, ["api", "extract", "fault", "lint"]);
}

#[test]
fn the_reader_finds_the_uses_it_is_meant_to() {
    let code = "use crate::state::AppState;\nlet x = crate::clock::now();\nlet y = my_crate::http::x;";
    let found: Vec<String> = used_modules(code).into_iter().collect();
    assert_eq!(found, ["clock", "state"], "my_crate:: is not crate::");
}
