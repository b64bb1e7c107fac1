//! `--state-file`: flows and sessions kept across restarts. The file is JSON, written atomically
//! (a temporary file beside it, fsync, rename, fsync of the directory), so a crash at any moment
//! leaves either the previous file or the new one, never half of one; a write that fails leaves
//! no temporary file behind. A symbolic link is written through, to its target. A file that does
//! not load stops start-up with its path and the reason; it is never silently replaced.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::domain::FailureReason;
use crate::domain::backend::{BackendKey, BackendKeySpec};
use crate::domain::flow::FlowSpec;
use crate::domain::scripting::{Endpoint, Source};
use crate::domain::{ApiKey, Flow, Iin, Phone, TechnologyCode};
use crate::session::backend::{BackendSession, Person};
use crate::session::{Event, Parts, RecordedEvent, Session, Step, StepState, Subject};

const FORMAT: &str = "biometric-kz-mock state";
const VERSION: u32 = 1;

/// Why a state file cannot be used. Displays as `FILE: REASON`.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct StateFileError {
    pub file: String,
    pub reason: String,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    format: String,
    version: u32,
    saved_at: String,
    flows: Vec<FlowSpec>,
    sessions: Vec<SessionRecord>,
    /// The Backend API's keys; absent in files written before it (the start-up keys then).
    #[serde(default)]
    backend_keys: Option<Vec<BackendKeySpec>>,
    #[serde(default)]
    backend_sessions: Vec<BackendSession>,
    #[serde(default)]
    persons: Vec<Person>,
}

#[derive(Serialize, Deserialize)]
struct SessionRecord {
    id: Uuid,
    flow_name: String,
    api_key: String,
    technologies: Vec<String>,
    /// The metadata as sent (with `photo1` as its base64).
    metadata: Value,
    subject: SubjectRecord,
    created_at: String,
    steps: Vec<StepRecord>,
    otp: Option<String>,
    otp_wrong: u8,
    uses_photo1: bool,
    scenario: String,
    scenario_source: String,
    fault_calls: Vec<(Endpoint, usize, u32)>,
    last_result_poll: Option<String>,
    /// Files written before flows had several webhook URLs have this one only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    webhook_url: Option<String>,
    #[serde(default)]
    webhook_urls: Vec<String>,
    /// Where links to the page go, for a session made through the vendor's hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    link_base: Option<String>,
    events: Vec<EventRecord>,
}

#[derive(Serialize, Deserialize)]
struct SubjectRecord {
    first_name: String,
    last_name: String,
    middle_name: String,
    iin: String,
    phone: String,
    doc_number: String,
    doc_issued: String,
    doc_expires: String,
}

#[derive(Serialize, Deserialize)]
struct StepRecord {
    code: String,
    state: String,
    started_at: Option<String>,
    ended_at: Option<String>,
    result: Option<Box<Value>>,
    visible_at: Option<String>,
    failure_reason: Option<Box<FailureReason>>,
}

#[derive(Serialize, Deserialize)]
struct EventRecord {
    at: String,
    event: String,
    technology: Option<String>,
    success: Option<bool>,
}

fn time_text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn date_text(d: Date) -> String {
    format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| format!("{text:?} is not a time: {e}"))
}

fn parse_date(text: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, format).map_err(|e| format!("{text:?} is not a date: {e}"))
}

fn parse_code(text: &str) -> Result<TechnologyCode, String> {
    text.parse().map_err(|()| format!("{text:?} is not a technology code"))
}

impl SessionRecord {
    fn of(s: &Session) -> Self {
        let mut metadata = s.metadata().display.clone();
        if let (Some(photo), Some(slot)) = (s.metadata().photo1(), metadata.pointer_mut("/face2face/photo1")) {
            *slot = Value::String(base64::engine::general_purpose::STANDARD.encode(&**photo.bytes()));
        }
        Self {
            id: s.id(),
            flow_name: s.flow_name().to_owned(),
            api_key: s.api_key().as_str().to_owned(),
            technologies: s.technologies().iter().map(|c| c.as_str().to_owned()).collect(),
            metadata,
            subject: SubjectRecord {
                first_name: s.subject().first_name.clone(),
                last_name: s.subject().last_name.clone(),
                middle_name: s.subject().middle_name.clone(),
                iin: s.subject().iin.as_str().to_owned(),
                phone: s.subject().phone.as_str().to_owned(),
                doc_number: s.subject().doc_number.clone(),
                doc_issued: date_text(s.subject().doc_issued),
                doc_expires: date_text(s.subject().doc_expires),
            },
            created_at: time_text(s.created_at()),
            steps: s
                .steps()
                .iter()
                .map(|st| StepRecord {
                    code: st.code.as_str().to_owned(),
                    state: st.state.as_str().to_owned(),
                    started_at: st.started_at.map(time_text),
                    ended_at: st.ended_at.map(time_text),
                    result: st.result.clone(),
                    visible_at: st.visible_at.map(time_text),
                    failure_reason: st.failure_reason.clone(),
                })
                .collect(),
            otp: s.otp().map(str::to_owned),
            otp_wrong: s.otp_wrong(),
            uses_photo1: s.uses_photo1(),
            scenario: s.scenario().to_owned(),
            scenario_source: s.scenario_source().as_str().to_owned(),
            fault_calls: s.fault_calls().iter().map(|((e, i), n)| (*e, *i, *n)).collect(),
            last_result_poll: s.last_result_poll().map(time_text),
            webhook_url: None,
            webhook_urls: s.webhook_urls().to_vec(),
            link_base: s.link_base().map(str::to_owned),
            events: s
                .events()
                .iter()
                .map(|e| {
                    let (event, technology, success) = e.event.parts();
                    EventRecord {
                        at: time_text(e.at),
                        event: event.to_owned(),
                        technology: technology.map(|c| c.as_str().to_owned()),
                        success,
                    }
                })
                .collect(),
        }
    }

    /// The session's parts, and its flow as the record names it (numbered by the state).
    fn into_parts(self) -> Result<(Parts, Flow), String> {
        let technologies = self.technologies.iter().map(|c| parse_code(c)).collect::<Result<Vec<_>, _>>()?;
        let metadata = crate::wire::create::parse_metadata(self.metadata, Some(&technologies)).map_err(|e| {
            let first = e.iter().next().map(|e| format!("{}: {}", e.path.join("."), e.message)).unwrap_or_default();
            format!("its metadata no longer passes the rules ({first})")
        })?;
        let iin = Iin::parse(&self.subject.iin).map_err(|e| e.to_string())?;
        let subject = Subject {
            first_name: self.subject.first_name,
            last_name: self.subject.last_name,
            middle_name: self.subject.middle_name,
            gender: iin.gender(),
            phone: Phone::parse(&self.subject.phone).map_err(|e| e.to_string())?,
            iin,
            doc_number: self.subject.doc_number,
            doc_issued: parse_date(&self.subject.doc_issued)?,
            doc_expires: parse_date(&self.subject.doc_expires)?,
        };
        let optional_time = |t: Option<String>| t.as_deref().map(parse_time).transpose();
        let steps = self
            .steps
            .into_iter()
            .map(|st| {
                Ok(Step {
                    code: parse_code(&st.code)?,
                    state: StepState::parse(&st.state).ok_or_else(|| format!("{:?} is not a step state", st.state))?,
                    started_at: optional_time(st.started_at)?,
                    ended_at: optional_time(st.ended_at)?,
                    result: st.result,
                    visible_at: optional_time(st.visible_at)?,
                    failure_reason: st.failure_reason,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let events = self
            .events
            .into_iter()
            .map(|e| {
                let code = e.technology.as_deref().map(parse_code).transpose()?;
                let event = match (e.event.as_str(), code, e.success) {
                    ("flow.start", None, _) => Event::FlowStarted,
                    ("technology.start", Some(code), _) => Event::TechnologyStarted(code),
                    ("technology.end", Some(code), Some(success)) => Event::TechnologyEnded { code, success },
                    ("flow.end", None, Some(success)) => Event::FlowEnded { success },
                    (other, ..) => return Err(format!("{other:?} is not a well-formed event")),
                };
                Ok(RecordedEvent { at: parse_time(&e.at)?, event })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let flow = Flow {
            // The state numbers it when it takes the session in (by the flow with its key).
            id: 0,
            name: self.flow_name,
            api_key: ApiKey::parse(&self.api_key)?,
            technologies,
            scenario: None,
            webhook_urls: if self.webhook_urls.is_empty() {
                self.webhook_url.into_iter().collect()
            } else {
                self.webhook_urls
            },
            seed: None,
        };
        let parts = Parts {
            id: self.id,
            metadata,
            subject,
            created_at: parse_time(&self.created_at)?,
            steps,
            otp: self.otp,
            otp_wrong: self.otp_wrong,
            uses_photo1: self.uses_photo1,
            scenario: self.scenario,
            scenario_source: Source::parse(&self.scenario_source)
                .ok_or_else(|| format!("{:?} is not a scenario source", self.scenario_source))?,
            fault_calls: self.fault_calls.into_iter().map(|(e, i, n)| ((e, i), n)).collect::<HashMap<_, _>>(),
            last_result_poll: optional_time(self.last_result_poll)?,
            events,
            link_base: self.link_base.map(std::sync::Arc::from),
        };
        Ok((parts, flow))
    }
}

/// What a state file holds, ready to use: the flows, and each session with its own flow as the
/// file names it (which the state matches to the live flow with that key).
pub(crate) struct Loaded {
    pub flows: Vec<Flow>,
    pub sessions: Vec<(Parts, Flow)>,
    pub backend_keys: Option<Vec<BackendKey>>,
    pub backend_sessions: Vec<BackendSession>,
    pub persons: Vec<Person>,
}

/// Reads a state file; `Ok(None)` when there is none yet. Temporary files that a killed
/// process left beside it are removed first.
pub(crate) fn load(path: &Path) -> Result<Option<Loaded>, StateFileError> {
    remove_leftovers(path);
    let fail = |reason: String| StateFileError { file: path.display().to_string(), reason };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(format!("cannot read the file: {e}"))),
    };
    let de = &mut serde_json::Deserializer::from_str(&text);
    let file: StateFile = serde_path_to_error::deserialize(de).map_err(|e| {
        fail(format!("not a state file of this mock (at {}: {}); move it away to start afresh", e.path(), e.inner()))
    })?;
    if file.format != FORMAT || file.version != VERSION {
        return Err(fail(format!(
            "format {:?} version {}, expected {FORMAT:?} version {VERSION}",
            file.format, file.version
        )));
    }
    let flows = file
        .flows
        .into_iter()
        .enumerate()
        .map(|(i, spec)| {
            spec.into_flow(&format!("flows[{i}]"), None).map_err(|e| fail(format!("at {}: {}", e.path, e.reason)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sessions = file
        .sessions
        .into_iter()
        .enumerate()
        .map(|(i, record)| record.into_parts().map_err(|reason| fail(format!("at sessions[{i}]: {reason}"))))
        .collect::<Result<Vec<_>, _>>()?;
    // Twice the same session or flow key would be held twice, or one silently dropped.
    if let Some((i, j)) = crate::domain::first_repeat(sessions.iter().map(|(s, _)| s.id)) {
        return Err(fail(format!("at sessions[{j}]: the same id as sessions[{i}]")));
    }
    if let Some((i, j)) = crate::domain::flow::repeated_api_key(&flows) {
        return Err(fail(format!("at flows[{j}].api_key: the same API key as flows[{i}]")));
    }
    let backend_keys = match file.backend_keys {
        None => None,
        Some(specs) => Some(
            specs
                .into_iter()
                .enumerate()
                .map(|(i, spec)| {
                    spec.into_key(&format!("backend_keys[{i}]"), None)
                        .map_err(|e| fail(format!("at {}: {}", e.path, e.reason)))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(Some(Loaded { flows, sessions, backend_keys, backend_sessions: file.backend_sessions, persons: file.persons }))
}

/// The flows and sessions, as the file will hold them (built under the state's lock).
pub(crate) struct Snapshot(StateFile);

impl Snapshot {
    pub(crate) fn of<'a>(flows: impl Iterator<Item = &'a Flow>, sessions: impl Iterator<Item = &'a Session>) -> Self {
        Self(StateFile {
            format: FORMAT.to_owned(),
            version: VERSION,
            saved_at: time_text(OffsetDateTime::now_utc()),
            flows: flows.map(FlowSpec::of).collect(),
            sessions: sessions.map(SessionRecord::of).collect(),
            backend_keys: None,
            backend_sessions: Vec::new(),
            persons: Vec::new(),
        })
    }

    /// The Backend API's keys, sessions and persons, oldest first.
    pub(crate) fn with_backend<'a>(
        mut self,
        keys: &[BackendKey],
        sessions: impl Iterator<Item = &'a BackendSession>,
        persons: impl Iterator<Item = &'a Person>,
    ) -> Self {
        self.0.backend_keys = Some(keys.iter().map(BackendKeySpec::of).collect());
        self.0.backend_sessions = sessions.cloned().collect();
        self.0.persons = persons.cloned().collect();
        self
    }

    /// Writes the snapshot atomically: a temporary file beside the target, fsync, rename, fsync
    /// of the directory. The temporary file goes whatever fails (a full disk, a read-only
    /// directory). A symbolic link is followed, so the link stays and its target is replaced.
    pub(crate) fn write(&self, path: &Path) -> Result<(), StateFileError> {
        let fail = |what: &str, e: std::io::Error| StateFileError {
            file: path.display().to_string(),
            reason: format!("cannot {what}: {e}"),
        };
        let target = through_links(path).map_err(|e| fail("follow the symbolic link", e))?;
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let bytes = serde_json::to_vec(&self.0).map_err(|e| fail("serialize", std::io::Error::other(e)))?;
        let mut file = tempfile::Builder::new()
            .prefix(&temporary_prefix(&target))
            .rand_bytes(TEMPORARY_SUFFIX)
            .tempfile_in(&dir)
            .map_err(|e| fail("create the temporary file", plain(e)))?;
        file.write_all(&bytes).map_err(|e| fail("write the temporary file", e))?;
        file.as_file().sync_all().map_err(|e| fail("sync the temporary file", e))?;
        file.persist(&target).map_err(|e| fail("rename the temporary file", plain(e.error)))?;
        // The rename itself is durable only once the directory is.
        if let Ok(dir) = std::fs::File::open(&dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// A temporary file is named `{state file}.tmp-` and this many random letters and digits.
const TEMPORARY_SUFFIX: usize = 6;

fn temporary_prefix(target: &Path) -> std::ffi::OsString {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp-");
    name
}

/// Removes the temporary files of ours that a process killed while writing left beside the
/// state file (each the size of the state). Only names exactly as `write` makes them go.
fn remove_leftovers(path: &Path) {
    let Ok(target) = through_links(path) else { return };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = temporary_prefix(&target);
    let Some(prefix) = prefix.to_str() else { return };
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name.to_str().and_then(|n| n.strip_prefix(prefix)).is_some_and(|random| {
            random.len() == TEMPORARY_SUFFIX && random.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!("removed {}, left by a process stopped while saving", entry.path().display()),
                Err(e) => tracing::warn!(
                    "cannot remove {}, left by a process stopped while saving: {e}",
                    entry.path().display()
                ),
            }
        }
    }
}

/// The system's error without the temporary file's random name that `tempfile` adds, so that
/// the same failure reads the same each time (it is logged once, not on every try).
fn plain(e: std::io::Error) -> std::io::Error {
    let text = e.to_string();
    match text.split_once(" at path \"") {
        Some((plain, _)) => std::io::Error::new(e.kind(), plain.to_owned()),
        None => e,
    }
}

/// `path` with its symbolic links followed (a link to a file not yet there is followed too).
fn through_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot::of(std::iter::empty(), std::iter::empty())
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: the final rename fails.
        let path = dir.path().join("state.json");
        std::fs::create_dir(&path).unwrap();
        let error = snapshot().write(&path).unwrap_err();
        assert!(error.reason.starts_with("cannot rename the temporary file"), "{error}");
        assert_eq!(files_in(dir.path()), ["state.json"], "no temporary file is left");
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_written_through_to_its_target() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        let target = dir.path().join("real/state.json");
        let link = dir.path().join("state.json");
        std::os::unix::fs::symlink("real/state.json", &link).unwrap();
        snapshot().write(&link).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert!(std::fs::read_to_string(&target).unwrap().contains(FORMAT), "its target holds the state");
        snapshot().write(&link).unwrap();
        assert_eq!(files_in(&dir.path().join("real")), ["state.json"]);
    }
}
