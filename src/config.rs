//! The server's configuration, whatever it came from (flags, environment, a test's builder).

use std::path::PathBuf;
use std::time::Duration;

use crate::domain::Flow;
use crate::domain::backend::{BackendKey, parse_backend_keys_file};
use crate::domain::flow::{FlowFileError, parse_flows_file};
use crate::scenario::load::{ScenarioFileError, load_scenarios};
use crate::scenario::{DEFAULT_SCENARIO, ScenarioSet};
use crate::video::Video;

pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

/// The built-in flows: the three of the vendor's docs table, with fixed keys.
pub const BUILT_IN_FLOWS: &str = include_str!("../fixtures/flows.json");

/// The built-in Backend API key: one organisation with every subscription, with a fixed key.
pub const BUILT_IN_BACKEND_KEYS: &str = include_str!("../fixtures/backend-keys.json");

#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub public_url: Option<String>,
    pub flows_file: Option<PathBuf>,
    /// A JSON file of Backend API keys that replaces the built-in one.
    pub backend_keys_file: Option<PathBuf>,
    pub seed: Option<u64>,
    pub max_body: usize,
    /// A directory of the user's own scenarios, added to the built-in ones.
    pub scenarios_dir: Option<PathBuf>,
    /// The scenario of sessions nothing else chooses one for.
    pub default_scenario: String,
    /// An MP4 or WebM file served as every session's liveness video instead of the built-in one.
    pub video_file: Option<PathBuf>,
    /// Refuse (400) requests that depart from the vendor's docs instead of warning.
    pub strict: bool,
    /// Log one line per request at info level (`--log-requests`).
    pub log_requests: bool,
    /// How many requests the journal keeps (the oldest go first).
    pub journal_limit: usize,
    /// When set, `/__admin` and the dashboard need `Authorization: Bearer <token>`.
    pub admin_token: Option<String>,
    /// How many sessions are held at most; the oldest expired or finished ones make way, else
    /// the oldest.
    pub max_sessions: usize,
    /// About how many bytes the held sessions take at most; evicted the same way.
    pub max_store_bytes: usize,
    /// How long a session lives (`None`: for ever).
    pub session_ttl: Option<Duration>,
    /// How many connections are served at once; more wait to be accepted.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers (or its first byte).
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body, after its headers.
    pub body_timeout: Duration,
    /// Where flows and sessions are kept across restarts.
    pub state_file: Option<PathBuf>,
    /// Write the state file before answering each change, instead of a quarter second later.
    pub state_sync: bool,
    /// Who may frame the end-user page: the CSP `frame-ancestors` source list (`*` by default).
    pub frame_ancestors: String,
    /// Where the test CA is kept across restarts (`None`: a new one each start).
    pub ca_dir: Option<PathBuf>,
    /// The HTTPS port (`Some(0)`: a free one); `None`: no HTTPS.
    pub tls_port: Option<u16>,
    /// More names for the HTTPS certificate, beside the vendor's hosts and this machine.
    pub tls_names: Vec<String>,
    /// More dotted host names /__admin and the dashboard answer to (`--allowed-host`).
    pub allowed_hosts: Vec<String>,
    /// PEM certificates trusted for `https://` webhook receivers, beside the system's roots.
    pub webhook_ca: Option<PathBuf>,
}

pub const DEFAULT_MAX_SESSIONS: usize = 100_000;
pub const DEFAULT_MAX_STORE_BYTES: usize = 512 * 1024 * 1024;
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

pub const DEFAULT_JOURNAL_LIMIT: usize = 1000;

/// Any origin may frame the end-user page (SPEC §12): the widget and WebViews of every host.
pub const DEFAULT_FRAME_ANCESTORS: &str = "*";

/// Checks a `--frame-ancestors` value: a CSP source list (`*`, `'self'`, `'none'`, schemes such as
/// `https:`, hosts such as `https://*.example.com:8443`), separated by spaces. Whatever could end
/// the directive or the header (`;`, `,`, quotes other than the keywords', control characters)
/// is refused, so the value cannot add a directive of its own.
pub fn parse_frame_ancestors(text: &str) -> Result<String, String> {
    let sources: Vec<&str> = text.split_ascii_whitespace().collect();
    if sources.is_empty() {
        return Err(
            "give at least one source, e.g. * or 'self' or https://app.example.com ('none' forbids framing)".into()
        );
    }
    for source in &sources {
        let keyword = matches!(*source, "'self'" | "'none'");
        let plain = source.chars().all(|c| c.is_ascii_alphanumeric() || "*.:/-_[]%".contains(c));
        if !(keyword || plain) {
            return Err(format!(
                "{source:?} is not a frame-ancestors source: use *, 'self', 'none', a scheme (https:) or an origin (https://app.example.com)"
            ));
        }
    }
    if sources.len() > 1 && sources.contains(&"'none'") {
        return Err("'none' stands alone: it forbids every frame".into());
    }
    Ok(sources.join(" "))
}

/// Parses one scenario file as the server would load it (its overrides checked against the
/// generated results).
pub fn parse_scenario_file(file: &str, text: &str) -> Result<crate::scenario::Scenario, ScenarioFileError> {
    crate::scenario::load::parse_scenario_file(file, text, &crate::session::generate::sample_result)
}

/// Why the flows and scenarios cannot be used: the same message from `check` and `serve`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid flows file: {0}")]
    Flows(#[from] FlowFileError),
    #[error("invalid scenario file: {0}")]
    Scenarios(#[from] ScenarioFileError),
    #[error("{0}")]
    Reference(String),
    #[error("invalid --video: {0}")]
    Video(String),
    #[error("invalid backend keys file: {0}")]
    BackendKeys(String),
}

impl Default for Config {
    /// What `serve` does with no flags: 127.0.0.1:8080 and the built-in flows.
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            public_url: None,
            flows_file: None,
            backend_keys_file: None,
            seed: None,
            max_body: DEFAULT_MAX_BODY,
            scenarios_dir: None,
            default_scenario: DEFAULT_SCENARIO.to_owned(),
            video_file: None,
            strict: false,
            log_requests: false,
            journal_limit: DEFAULT_JOURNAL_LIMIT,
            admin_token: None,
            max_sessions: DEFAULT_MAX_SESSIONS,
            max_store_bytes: DEFAULT_MAX_STORE_BYTES,
            session_ttl: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            state_file: None,
            state_sync: false,
            frame_ancestors: DEFAULT_FRAME_ANCESTORS.to_owned(),
            ca_dir: None,
            tls_port: None,
            tls_names: Vec::new(),
            allowed_hosts: Vec::new(),
            webhook_ca: None,
        }
    }
}

impl Config {
    /// Loads and cross-checks the flows and the scenarios: every scenario a flow or `--scenario`
    /// names must exist.
    pub fn load(&self) -> Result<(Vec<Flow>, ScenarioSet), ConfigError> {
        let flows = self.load_flows()?;
        let scenarios = load_scenarios(self.scenarios_dir.as_deref(), &crate::session::generate::sample_result)?;
        if scenarios.get(&self.default_scenario).is_none() {
            return Err(ConfigError::Reference(format!(
                "--scenario {:?} names no scenario; the scenarios are {}",
                self.default_scenario,
                scenarios.names()
            )));
        }
        for (i, flow) in flows.iter().enumerate() {
            if let Some(name) = flow.scenario.as_deref().filter(|n| scenarios.get(n).is_none()) {
                let file = self
                    .flows_file
                    .as_ref()
                    .map_or("fixtures/flows.json (built in)".into(), |p| p.display().to_string());
                return Err(ConfigError::Reference(format!(
                    "invalid flows file: {file}: at [{i}].scenario: no scenario is named {name:?}; the scenarios are {}",
                    scenarios.names()
                )));
            }
        }
        Ok((flows, scenarios))
    }

    /// The Backend API's keys: `--backend-keys`' file, or the built-in one; every scenario a key
    /// names must be in `scenarios`.
    pub fn load_backend_keys(&self, scenarios: &ScenarioSet) -> Result<Vec<BackendKey>, ConfigError> {
        let (name, text) = match &self.backend_keys_file {
            None => ("fixtures/backend-keys.json (built in)".to_owned(), BUILT_IN_BACKEND_KEYS.to_owned()),
            Some(path) => {
                let name = path.display().to_string();
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::BackendKeys(format!("{name}: cannot read the file: {e}")))?;
                (name, text)
            }
        };
        let keys = parse_backend_keys_file(&text)
            .map_err(|e| ConfigError::BackendKeys(format!("{name}: at {}: {}", e.path, e.reason)))?;
        for (i, key) in keys.iter().enumerate() {
            if let Some(scenario) = key.scenario.as_deref().filter(|n| scenarios.get(n).is_none()) {
                return Err(ConfigError::BackendKeys(format!(
                    "{name}: at [{i}].scenario: no scenario is named {scenario:?}; the scenarios are {}",
                    scenarios.names()
                )));
            }
        }
        Ok(keys)
    }

    /// The liveness video: `--video`'s file, or the built-in test pattern.
    pub fn load_video(&self) -> Result<Video, ConfigError> {
        match &self.video_file {
            Some(path) => Video::from_file(path).map_err(ConfigError::Video),
            None => Ok(Video::built_in()),
        }
    }

    /// The flows to start with: the file's when one is given, the built-in ones otherwise.
    pub fn load_flows(&self) -> Result<Vec<Flow>, FlowFileError> {
        match &self.flows_file {
            None => parse_flows_file("fixtures/flows.json (built in)", BUILT_IN_FLOWS),
            Some(path) => {
                let name = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|e| FlowFileError {
                    file: name.clone(),
                    path: "(file)".into(),
                    reason: format!("cannot read the file: {e}"),
                })?;
                parse_flows_file(&name, &text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::load::{BUILT_IN, load_scenarios};
    use std::path::Path;

    #[test]
    fn every_file_in_the_scenarios_directory_is_built_in_and_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> = BUILT_IN.iter().map(|(f, _)| (*f).to_owned()).collect();
        built_in.sort();
        assert_eq!(on_disk, built_in, "scenarios/ and BUILT_IN list the same files");
        let set =
            load_scenarios(None, &crate::session::generate::sample_result).expect("the shipped scenarios are valid");
        for (file, _) in BUILT_IN {
            let name = file.trim_end_matches(".json");
            assert!(set.get(name).is_some(), "{file} is named after its scenario");
        }
    }

    #[test]
    fn magic_iins_are_unique() {
        let set = load_scenarios(None, &crate::session::generate::sample_result).unwrap();
        let mut iins: Vec<&str> =
            set.iter().flat_map(|s| s.match_iins.iter().map(crate::domain::Iin::as_str)).collect();
        let count = iins.len();
        iins.sort_unstable();
        iins.dedup();
        assert_eq!(iins.len(), count, "no IIN selects two scenarios");
    }
}
