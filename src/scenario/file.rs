//! The scenario file format as users write it (keep these names), and the checks that turn a
//! parsed file into a `Scenario`: names, keys, IINs, overrides that keep the generated result's
//! fields and types, faults. No I/O: `load` reads the files.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Fault, Scenario, Selector, TechScript};
use crate::domain::{FailedStatus, FailureReason, Family, Iin, Outcome};

/// Why a scenario was refused: the JSON path inside the file and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScenarioError {
    pub path: String,
    pub reason: String,
}

/// The file format (users write these; keep these names).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, rename = "match")]
    pub matcher: MatchFile,
    #[serde(default)]
    pub technologies: BTreeMap<String, TechFile>,
    #[serde(default)]
    pub processing_ms: u64,
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// An MP4 or WebM file, relative to the scenario file, served as the liveness video.
    #[serde(default)]
    pub video: Option<String>,
    /// How a failed verification ends: `"FAILED"` (default) or `"FINISHED"` with
    /// `flow_session_result: false`.
    #[serde(default)]
    pub failed_status: FailedStatus,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatchFile {
    #[serde(default)]
    pub iin: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TechFile {
    #[serde(default)]
    pub outcome: OutcomeFile,
    #[serde(default)]
    pub failure_reason: Option<FailureReason>,
    #[serde(default)]
    pub result: Map<String, Value>,
    #[serde(default)]
    pub processing_ms: Option<u64>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OutcomeFile {
    #[default]
    Passed,
    Failed,
}

impl ScenarioFile {
    /// Checks everything serde could not: names, keys, IINs, result fields and their types, faults.
    /// `defaults` gives the generated result of each family, to check overrides against.
    /// (`video` is left to the loader, which reads files.)
    pub(crate) fn validate(self, defaults: &dyn Fn(Family) -> Value) -> Result<Scenario, ScenarioError> {
        let err = |path: String, reason: String| ScenarioError { path, reason };
        if self.name.trim().is_empty() || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(err(
                "name".into(),
                format!("a name of letters, digits, - and _ is needed, got {:?}", self.name),
            ));
        }
        let mut match_iins = Vec::new();
        for (i, text) in self.matcher.iin.iter().enumerate() {
            let iin = Iin::parse(text).map_err(|e| err(format!("match.iin[{i}]"), e.to_string()))?;
            match_iins.push(iin);
        }
        let mut technologies = Vec::new();
        for (key, tech) in self.technologies {
            let at = format!("technologies.{key}");
            let selector = Selector::parse(&key).ok_or_else(|| {
                err(
                    at.clone(),
                    format!("unknown technology {key:?}: use {}", crate::domain::technology::selector_help()),
                )
            })?;
            let family = match selector {
                Selector::Code(c) => c.family(),
                Selector::Family(f) => f,
            };
            let outcome = match (tech.outcome, tech.failure_reason) {
                (OutcomeFile::Passed, None) => Outcome::Passed,
                (OutcomeFile::Passed, Some(_)) => {
                    return Err(err(
                        format!("{at}.failure_reason"),
                        "a failure_reason needs \"outcome\": \"failed\"".into(),
                    ));
                }
                (OutcomeFile::Failed, reason) => {
                    Outcome::Failed(reason.unwrap_or_else(|| FailureReason::default_for(family)))
                }
            };
            if tech.result.contains_key("result") {
                return Err(err(
                    format!("{at}.result.result"),
                    "\"result\" follows the outcome; script \"outcome\": \"failed\" instead".into(),
                ));
            }
            if tech.result.contains_key("failure_reason") {
                return Err(err(
                    format!("{at}.result.failure_reason"),
                    "give failure_reason next to outcome, not inside result".into(),
                ));
            }
            if family == Family::Edocument {
                check_document_files(&tech.result, &format!("{at}.result"))
                    .map_err(|(path, reason)| err(path, reason))?;
            }
            let open = family == Family::DocumentRecognition;
            check_overrides(&tech.result, &defaults(family), &format!("{at}.result"), open)
                .map_err(|(path, reason)| err(path, reason))?;
            technologies.push((
                selector,
                TechScript { outcome, result: tech.result, processing: tech.processing_ms.map(Duration::from_millis) },
            ));
        }
        for (i, fault) in self.faults.iter().enumerate() {
            if let Some((field, reason)) = fault.problems().into_iter().next() {
                return Err(err(format!("faults[{i}].{field}"), reason));
            }
        }
        Ok(Scenario {
            name: self.name,
            description: self.description,
            match_iins,
            technologies,
            processing: Duration::from_millis(self.processing_ms),
            faults: self.faults,
            video: None,
            failed_status: self.failed_status,
        })
    }
}

/// Each override must name a field of the generated result and keep its JSON type, so that a
/// scenario cannot make the mock answer shapes the vendor does not. `open` objects take new keys
/// (the docs' `document_recognition_result` example ends with "...").
fn check_overrides(given: &Map<String, Value>, default: &Value, at: &str, open: bool) -> Result<(), (String, String)> {
    let Value::Object(default) = default else { return Ok(()) };
    for (key, value) in given {
        let path = format!("{at}.{key}");
        let Some(expected) = default.get(key) else {
            if open {
                continue;
            }
            let known: Vec<&str> = default.keys().map(String::as_str).collect();
            return Err((path, format!("not a field of this result; the fields are {}", known.join(", "))));
        };
        match (expected, value) {
            (Value::Object(_), Value::Object(inner)) => check_overrides(inner, expected, &path, false)?,
            (Value::String(_), Value::String(_))
            | (Value::Bool(_), Value::Bool(_))
            | (Value::Number(_), Value::Number(_))
            | (Value::Null, _) => {}
            (expected, _) => {
                return Err((path, format!("must be {} like the generated {expected}", json_type(expected))));
            }
        }
    }
    Ok(())
}

/// `document_pdf` and `document_image` \[doc\]: `null` leaves the file out (the vendor failed to
/// make it), a string must be base64 of a PDF, or of a JPEG or PNG.
fn check_document_files(given: &Map<String, Value>, at: &str) -> Result<(), (String, String)> {
    use base64::Engine as _;
    for (key, kind) in [("document_pdf", "a PDF"), ("document_image", "a JPEG or PNG image")] {
        let path = format!("{at}.{key}");
        match given.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map_err(|e| (path.clone(), format!("must be base64 of {kind}: {e}")))?;
                let fits = match key {
                    "document_pdf" => bytes.starts_with(b"%PDF-"),
                    _ => crate::domain::ImageFormat::sniff(&bytes).is_ok(),
                };
                if !fits {
                    return Err((path, format!("must be base64 of {kind}; these bytes are not one")));
                }
            }
            Some(other) => {
                return Err((
                    path,
                    format!("must be null (leave the file out) or base64 of {kind}, not {}", json_type(other)),
                ));
            }
        }
    }
    Ok(())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
