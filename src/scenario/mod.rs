//! Scenarios: scripted outcomes that integrators choose per test. A scenario names, per
//! technology (a code such as `LDHP` or a family such as `liveness`), the outcome, result fields
//! merged over the generated ones, the processing delay before results appear, and faults on the
//! emulated endpoints. This module is the model and the pure engine: no I/O, no clock, no HTTP.
//! Reading files is `load`'s job.

pub(crate) mod file;
pub(crate) mod load;

pub(crate) use file::ScenarioFile;

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

pub(crate) use crate::domain::scripting::Endpoint;
use crate::domain::{Family, Iin, Outcome, TechnologyCode};

/// The scenario a session plays when nothing else chooses one.
pub(crate) const DEFAULT_SCENARIO: &str = "happy-path";

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Sessions whose metadata carries one of these IINs play this scenario.
    pub match_iins: Vec<Iin>,
    technologies: Vec<(Selector, TechScript)>,
    pub processing: Duration,
    pub faults: Vec<Fault>,
    /// The liveness video of this scenario's sessions, when it has its own (`load` reads it).
    pub video: Option<crate::video::Video>,
    /// How its failed sessions end in the vendor's result.
    pub failed_status: crate::domain::FailedStatus,
}

/// What a scenario key names: one technology, or every technology of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selector {
    Code(TechnologyCode),
    Family(Family),
}

impl Selector {
    pub(crate) fn parse(key: &str) -> Option<Self> {
        key.parse()
            .ok()
            .map(Self::Code)
            .or_else(|| Family::ALL.into_iter().find(|f| f.as_str() == key).map(Self::Family))
    }
}

/// The script of one technology.
#[derive(Debug, Clone, PartialEq)]
pub struct TechScript {
    pub outcome: Outcome,
    /// Fields merged over the generated result.
    pub result: Map<String, Value>,
    pub processing: Option<Duration>,
}

/// A fault: the next `times` calls of `endpoint` are delayed, answered with an error status, or
/// have their connection dropped.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub endpoint: Endpoint,
    /// An error status (400-599) answered with `{"detail": ...}`.
    #[serde(default)]
    pub status: Option<u16>,
    /// The `detail` of that answer; a default wording per status otherwise.
    #[serde(default)]
    pub detail: Option<String>,
    /// Wait this long before answering (or dropping).
    #[serde(default)]
    pub delay_ms: u64,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop_connection: bool,
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// The longest a fault may hold a call, in milliseconds (an hour) \[mock\]: longer than any client
/// timeout worth testing, and a bound on how long a scripted delay holds a connection.
pub(crate) const MAX_FAULT_DELAY_MS: u64 = 3_600_000;

impl Fault {
    /// The problems of a fault definition, as `(field, reason)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(status) = self.status {
            if !(400..=599).contains(&status) {
                out.push(("status", format!("a fault's status is an error, 400 to 599; got {status}")));
            }
            if self.drop_connection {
                out.push(("drop_connection", "a dropped connection answers no status; give one or the other".into()));
            }
        }
        if self.status.is_none() && self.delay_ms == 0 && !self.drop_connection {
            out.push(("status", "a fault needs a status, a delay_ms or drop_connection".into()));
        }
        if self.delay_ms > MAX_FAULT_DELAY_MS {
            out.push((
                "delay_ms",
                format!("a fault's delay_ms is at most {MAX_FAULT_DELAY_MS} (an hour); got {}", self.delay_ms),
            ));
        }
        if self.times == 0 {
            out.push(("times", "times must be 1 or more".into()));
        }
        out
    }

    /// The `detail` answered with the status.
    pub fn detail_text(&self) -> String {
        self.detail.clone().unwrap_or_else(|| match self.status {
            Some(503) => "Service temporarily unavailable, try again later.".into(),
            Some(502) => "Bad gateway.".into(),
            Some(504) => "Gateway timeout.".into(),
            Some(429) => "Request was throttled.".into(),
            Some(s) => format!("Scripted fault: status {s}."),
            None => String::new(),
        })
    }
}

impl Scenario {
    /// The script for `code`: its own key first, then its family's.
    pub fn script(&self, code: TechnologyCode) -> Option<&TechScript> {
        let find = |wanted: Selector| self.technologies.iter().find(|(s, _)| *s == wanted).map(|(_, t)| t);
        find(Selector::Code(code)).or_else(|| find(Selector::Family(code.family())))
    }

    /// The outcome scripted for `code`; a technology not named passes.
    pub fn outcome(&self, code: TechnologyCode) -> Outcome {
        self.script(code).map_or(Outcome::Passed, |t| t.outcome.clone())
    }

    /// How long `code`'s result takes to appear after the user finished it.
    pub fn processing(&self, code: TechnologyCode) -> Duration {
        self.script(code).and_then(|t| t.processing).unwrap_or(self.processing)
    }

    /// Whether this scenario writes result field `key` of `code` itself (a value, or `null` to
    /// leave a field out).
    pub fn scripts_field(&self, code: TechnologyCode, key: &str) -> bool {
        self.script(code).is_some_and(|s| s.result.contains_key(key))
    }

    /// Merges the scripted result fields over a generated result.
    pub fn apply_result(&self, code: TechnologyCode, generated: &mut Value) {
        if let Some(script) = self.script(code) {
            merge(generated, &script.result);
        }
    }

    /// The fault rules of this scenario for `endpoint`, with their index (for counting calls).
    pub fn faults_for(&self, endpoint: Endpoint) -> impl Iterator<Item = (usize, &Fault)> {
        self.faults.iter().enumerate().filter(move |(_, f)| f.endpoint == endpoint)
    }

    /// The first of this scenario's fault rules for `endpoint` that has calls left, counting this
    /// call in `calls` under `key(rule index)`: the one rule "a fault hits the next N calls",
    /// whoever keeps the counts (a session, a backend session, the state for calls before any).
    pub fn take_fault<K: std::hash::Hash + Eq>(
        &self,
        endpoint: Endpoint,
        calls: &mut std::collections::HashMap<K, u32>,
        key: impl Fn(usize) -> K,
    ) -> Option<Fault> {
        for (index, fault) in self.faults_for(endpoint) {
            let count = calls.entry(key(index)).or_default();
            if *count < fault.times {
                *count += 1;
                return Some(fault.clone());
            }
        }
        None
    }

    pub fn matches(&self, iins: &[&Iin]) -> bool {
        self.match_iins.iter().any(|m| iins.contains(&m))
    }
}

/// Deep merge: objects key by key, everything else replaced.
fn merge(target: &mut Value, over: &Map<String, Value>) {
    let Value::Object(target) = target else { return };
    for (key, value) in over {
        match (target.get_mut(key), value) {
            (Some(slot @ Value::Object(_)), Value::Object(inner)) => merge(slot, inner),
            (_, value) => {
                target.insert(key.clone(), value.clone());
            }
        }
    }
}

/// The scenarios a server knows, in the order they were loaded (built-in first, by file name).
#[derive(Debug, Clone, Default)]
pub struct ScenarioSet {
    scenarios: Vec<Scenario>,
}

impl ScenarioSet {
    pub fn new(scenarios: Vec<Scenario>) -> Self {
        Self { scenarios }
    }

    pub fn get(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    /// Where scenario `name` is in the set, for `at`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.scenarios.iter().position(|s| s.name == name)
    }

    /// The scenario at `index`, a `position` of this set.
    pub fn at(&self, index: usize) -> &Scenario {
        &self.scenarios[index]
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scenario> {
        self.scenarios.iter()
    }

    pub fn names(&self) -> String {
        self.scenarios.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// The first scenario whose `match` lists one of these IINs.
    pub fn matching(&self, iins: &[&Iin]) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.matches(iins))
    }
}

#[cfg(test)]
mod tests {
    use super::file::ScenarioError;
    use super::*;
    use crate::domain::FailureReason;
    use serde_json::json;

    fn defaults(family: Family) -> Value {
        match family {
            Family::Liveness => json!({"result": true, "eye_closed": false, "prediction": "0.99", "face_center": true,
                                       "face_direction": "forward", "failure_reason": null}),
            Family::Face2Face => json!({"result": true, "prediction": "0.9", "prediction_percent": "90.00"}),
            Family::Edocument => json!({"result": true, "phone": "7", "result_json": {"common": {"docNumber": "1"}},
                                        "document_pdf": null, "document_image": null}),
            Family::DocumentRecognition => json!({"result": true, "first_name": "A"}),
        }
    }

    fn parse(value: Value) -> Result<Scenario, ScenarioError> {
        let file: ScenarioFile =
            serde_json::from_value(value).map_err(|e| ScenarioError { path: "?".into(), reason: e.to_string() })?;
        file.validate(&defaults)
    }

    #[test]
    fn a_code_key_wins_over_its_family_and_unnamed_technologies_pass() {
        let s = parse(json!({"name": "x", "technologies": {
            "liveness": {"outcome": "failed"},
            "LDD": {"outcome": "passed", "result": {"prediction": "0.5"}}}}))
        .unwrap();
        assert_eq!(s.outcome(TechnologyCode::Ldhp), Outcome::Failed(FailureReason::default_for(Family::Liveness)));
        assert_eq!(s.outcome(TechnologyCode::Ldd), Outcome::Passed);
        assert_eq!(s.outcome(TechnologyCode::F2f), Outcome::Passed);
        let mut generated = defaults(Family::Liveness);
        s.apply_result(TechnologyCode::Ldd, &mut generated);
        assert_eq!(generated["prediction"], "0.5");
        assert_eq!(generated["face_direction"], "forward", "other fields are kept");
    }

    #[test]
    fn nested_result_fields_merge_deeply() {
        let s = parse(
            json!({"name": "x", "technologies": {"ED": {"result": {"result_json": {"common": {"docNumber": "N1"}}}}}}),
        )
        .unwrap();
        let mut generated =
            json!({"result": true, "phone": "7", "result_json": {"common": {"docNumber": "1", "other": 2}}});
        s.apply_result(TechnologyCode::Ed, &mut generated);
        assert_eq!(generated["result_json"]["common"], json!({"docNumber": "N1", "other": 2}));
    }

    #[test]
    fn mistakes_are_refused_with_their_path() {
        let cases = [
            (json!({"name": "bad name!"}), "name"),
            (json!({"name": "x", "match": {"iin": ["900101300018"]}}), "match.iin[0]"),
            (json!({"name": "x", "technologies": {"FACE": {}}}), "technologies.FACE"),
            (
                json!({"name": "x", "technologies": {"F2F": {"failure_reason": {"type": "A", "detail": "b"}}}}),
                "technologies.F2F.failure_reason",
            ),
            (
                json!({"name": "x", "technologies": {"F2F": {"result": {"prediction": 0.5}}}}),
                "technologies.F2F.result.prediction",
            ),
            (
                json!({"name": "x", "technologies": {"F2F": {"result": {"predicton": "0.5"}}}}),
                "technologies.F2F.result.predicton",
            ),
            (
                json!({"name": "x", "technologies": {"F2F": {"result": {"result": false}}}}),
                "technologies.F2F.result.result",
            ),
            (
                json!({"name": "x", "technologies": {"ED": {"result": {"document_pdf": 1}}}}),
                "technologies.ED.result.document_pdf",
            ),
            (
                json!({"name": "x", "technologies": {"edocument": {"result": {"document_pdf": "aGVsbG8="}}}}),
                "technologies.edocument.result.document_pdf",
            ),
            (
                json!({"name": "x", "technologies": {"ED": {"result": {"document_image": "not base64!"}}}}),
                "technologies.ED.result.document_image",
            ),
            (json!({"name": "x", "faults": [{"endpoint": "result", "status": 200}]}), "faults[0].status"),
            (json!({"name": "x", "faults": [{"endpoint": "result"}]}), "faults[0].status"),
            (json!({"name": "x", "faults": [{"endpoint": "result", "status": 503, "times": 0}]}), "faults[0].times"),
            (
                json!({"name": "x", "faults": [{"endpoint": "result", "status": 503, "drop_connection": true}]}),
                "faults[0].drop_connection",
            ),
        ];
        for (value, path) in cases {
            let e = parse(value.clone()).expect_err(&value.to_string());
            assert_eq!(e.path, path, "{value}: {}", e.reason);
        }
    }

    #[test]
    fn document_files_may_be_left_out_or_given_as_base64_of_the_right_kind() {
        let pdf = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4 tiny");
        let s = parse(
            json!({"name": "x", "technologies": {"ED": {"result": {"document_pdf": pdf, "document_image": null}}}}),
        );
        let s = s.expect("a PDF's base64 and a null are both fine");
        assert!(s.scripts_field(TechnologyCode::Ed, "document_image"), "a null is the scenario's own value");
        assert!(!s.scripts_field(TechnologyCode::Ed, "gender"));
    }

    #[test]
    fn document_recognition_results_may_add_fields() {
        let s = parse(json!({"name": "x", "technologies": {"DR": {"result": {"nationality": "KAZ"}}}})).unwrap();
        let mut generated = defaults(Family::DocumentRecognition);
        s.apply_result(TechnologyCode::Dr, &mut generated);
        assert_eq!(generated["nationality"], "KAZ");
    }
}
