//! Reading scenario files: the built-in ones (embedded in the binary) and a user's directory
//! (`--scenarios DIR`). Every refusal names the file, the JSON path inside it and the reason.

use std::path::Path;

use serde_json::Value;

use super::{Scenario, ScenarioFile, ScenarioSet};
use crate::domain::Family;
use crate::video::Video;

/// The shipped scenarios, by file name (a test checks that every file of `scenarios/` is here).
pub(crate) const BUILT_IN: &[(&str, &str)] = &[
    ("happy-path.json", include_str!("../../scenarios/happy-path.json")),
    ("liveness-fails.json", include_str!("../../scenarios/liveness-fails.json")),
    ("liveness-eyes-closed.json", include_str!("../../scenarios/liveness-eyes-closed.json")),
    ("face-mismatch.json", include_str!("../../scenarios/face-mismatch.json")),
    ("failed-as-finished.json", include_str!("../../scenarios/failed-as-finished.json")),
    ("edocument-subject-not-found.json", include_str!("../../scenarios/edocument-subject-not-found.json")),
    ("edocument-wrong-otp.json", include_str!("../../scenarios/edocument-wrong-otp.json")),
    ("edocument-files-missing.json", include_str!("../../scenarios/edocument-files-missing.json")),
    ("edocument-government-error.json", include_str!("../../scenarios/edocument-government-error.json")),
    ("edocument-service-unavailable.json", include_str!("../../scenarios/edocument-service-unavailable.json")),
    ("edocument-service-timeout.json", include_str!("../../scenarios/edocument-service-timeout.json")),
    ("document-unreadable.json", include_str!("../../scenarios/document-unreadable.json")),
    ("results-slow.json", include_str!("../../scenarios/results-slow.json")),
    ("result-503-twice.json", include_str!("../../scenarios/result-503-twice.json")),
    ("result-connection-dropped.json", include_str!("../../scenarios/result-connection-dropped.json")),
];

/// Why a scenario file was refused. Displays as `FILE: at PATH: REASON`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: at {path}: {reason}")]
pub struct ScenarioFileError {
    pub file: String,
    pub path: String,
    pub reason: String,
}

/// A result of a family as generated, which a scenario's overrides are checked against (given
/// by the caller: the generator is the sessions' business, not the scenarios').
pub(crate) type Samples<'a> = &'a dyn Fn(Family) -> Value;

/// Parses one scenario file.
pub(crate) fn parse_scenario_file(file: &str, text: &str, samples: Samples<'_>) -> Result<Scenario, ScenarioFileError> {
    let fail = |path: String, reason: String| ScenarioFileError { file: file.to_owned(), path, reason };
    let de = &mut serde_json::Deserializer::from_str(text);
    let parsed: ScenarioFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        fail(if path == "." { "(root)".into() } else { path }, e.into_inner().to_string())
    })?;
    let video = parsed.video.clone();
    let mut scenario = parsed.validate(samples).map_err(|e| fail(e.path.clone(), e.reason))?;
    if let Some(video) = video {
        let base = Path::new(file).parent().unwrap_or(Path::new("."));
        scenario.video = Some(Video::from_file(&base.join(video)).map_err(|e| fail("video".into(), e))?);
    }
    Ok(scenario)
}

/// The built-in scenarios, then those of `dir` (`*.json`, by file name). A user's scenario with
/// a built-in one's name replaces it; two of the user's with one name are an error.
pub(crate) fn load_scenarios(dir: Option<&Path>, samples: Samples<'_>) -> Result<ScenarioSet, ScenarioFileError> {
    let mut scenarios: Vec<Scenario> = Vec::new();
    for (file, text) in BUILT_IN {
        scenarios.push(parse_scenario_file(&format!("scenarios/{file} (built in)"), text, samples)?);
    }
    let Some(dir) = dir else { return Ok(ScenarioSet::new(scenarios)) };
    let fail =
        |path: &str, reason: String| ScenarioFileError { file: dir.display().to_string(), path: path.into(), reason };
    let entries = std::fs::read_dir(dir).map_err(|e| fail("(directory)", format!("cannot read the directory: {e}")))?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    let mut own: Vec<(String, String)> = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| ScenarioFileError {
            file: name.clone(),
            path: "(file)".into(),
            reason: format!("cannot read the file: {e}"),
        })?;
        let scenario = parse_scenario_file(&name, &text, samples)?;
        if let Some((_, other)) = own.iter().find(|(n, _)| *n == scenario.name) {
            return Err(ScenarioFileError {
                file: name,
                path: "name".into(),
                reason: format!("the scenario {:?} is also defined in {other}", scenario.name),
            });
        }
        own.push((scenario.name.clone(), name));
        scenarios.retain(|s| s.name != scenario.name);
        scenarios.push(scenario);
    }
    Ok(ScenarioSet::new(scenarios))
}
