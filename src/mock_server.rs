//! The in-process handle for Rust tests, in the manner of wiremock-rs: each test starts its own
//! server on a free port, drives the code under test against it, finishes sessions as a person
//! would, and reads the request journal. Dropping the handle stops the server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::sync::oneshot;
use uuid::Uuid;

use crate::config::Config;
use crate::domain::Flow;
use crate::domain::backend::BackendKey;
use crate::domain::technology::selects_any;
use crate::journal::{Entry, Filter};
use crate::session::{Choice, Command};
use crate::startup::{Application, StartupError};
use crate::state::{AppState, SessionError};

/// A running mock server, alive as long as this handle.
///
/// ```
/// use biometric_kz_mock::{Complete, MockServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mock = MockServer::start().await;
/// let key = mock.flows()[0].api_key.to_string(); // "Flow for everyone": LDHP, F2F
///
/// // The code under test creates a session at mock.api_url() instead of kyc.biometric.kz ...
/// let created: serde_json::Value = reqwest::Client::new()
///     .post(format!("{}/api/v1/flows/session/create/", mock.api_url()))
///     .json(&serde_json::json!({"api_key": key}))
///     .send().await.unwrap()
///     .json().await.unwrap();
/// let session_id = created["session_id"].as_str().unwrap();
/// assert_eq!(mock.page_url(session_id), format!("{}/flow/{session_id}", mock.uri()));
///
/// // ... the "user" fails the face match, and the code under test reads the result.
/// mock.complete_session(session_id, Complete::as_scripted().fail("F2F")).unwrap();
/// let result: serde_json::Value = reqwest::get(format!(
///     "{}/api/v1/flows/session/result/?session_id={session_id}&flow_api_key={key}",
///     mock.api_url()
/// )).await.unwrap().json().await.unwrap();
/// assert_eq!(result["status"], "FAILED");
///
/// // What did the code under test send?
/// let requests = mock.received_requests();
/// assert_eq!(requests[0].path, "/api/v1/flows/session/create/"); // oldest first
/// # }
/// ```
pub struct MockServer {
    addr: SocketAddr,
    /// The HTTPS address, when the configuration asked for one (`tls_port`).
    tls_addr: Option<SocketAddr>,
    state: AppState,
    webhooks: std::sync::Arc<crate::webhook::Webhooks>,
    stop: Option<oneshot::Sender<()>>,
}

/// Chooses flows, scenarios and the seed of a [`MockServer`].
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    config: Config,
}

/// How [`MockServer::complete_session`] plays the remaining steps.
#[derive(Debug, Clone, Default)]
pub struct Complete {
    scenario: Option<String>,
    outcomes: HashMap<String, Choice<'static>>,
}

impl Complete {
    /// Every remaining technology as the session's scenario scripts it.
    pub fn as_scripted() -> Self {
        Self::default()
    }

    /// As `scenario` scripts it (the session plays that scenario from now on).
    pub fn scenario(name: &str) -> Self {
        Self { scenario: Some(name.to_owned()), ..Self::default() }
    }

    /// This technology (a code such as `F2F`, or a family such as `liveness`) passes.
    #[must_use]
    pub fn pass(mut self, technology: &str) -> Self {
        self.outcomes.insert(technology.to_owned(), Choice::Pass);
        self
    }

    /// This technology fails (with the scenario's reason, or the family's usual one).
    #[must_use]
    pub fn fail(mut self, technology: &str) -> Self {
        self.outcomes.insert(technology.to_owned(), Choice::Fail(None));
        self
    }
}

/// Why [`MockServer::complete_session`] could not finish a session.
#[derive(Debug, thiserror::Error)]
pub enum CompleteError {
    #[error("{0:?} is not a session id")]
    BadId(String),
    #[error("{0:?} names no technology of this session")]
    UnknownTechnology(String),
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// Why [`MockServer::new_flow`] could not add a flow: the field and the reason, as the admin
/// API's 400 says them.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FlowError(String);

/// An E-Document backend session, as `MockServer::backend_sessions` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendSessionInfo {
    pub backend_session_id: Uuid,
    pub iin: String,
    pub phone: String,
    /// The SMS code "from 1414".
    pub otp: String,
    /// `awaiting_code`, `received` or `failed`.
    pub state: String,
}

impl MockServer {
    /// Starts a server with the built-in flows and scenarios on a free port.
    pub async fn start() -> Self {
        Self::builder().start().await.expect("the mock server starts with its built-in configuration")
    }

    pub fn builder() -> MockServerBuilder {
        MockServerBuilder { config: Config { host: "127.0.0.1".into(), port: 0, ..Config::default() } }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `https://127.0.0.1:PORT` with `Config::tls_port`; the certificate is the test CA's
    /// (`ca_pem`), for 127.0.0.1, localhost and the vendor's hosts.
    pub fn tls_uri(&self) -> Option<String> {
        self.tls_addr.map(|addr| format!("https://{addr}"))
    }

    /// The test CA's certificate, PEM, for a client to trust.
    pub fn ca_pem(&self) -> String {
        self.state.ca_pem().to_owned()
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL that replaces `https://kyc.biometric.kz` (the API paths go after it).
    pub fn api_url(&self) -> String {
        self.uri()
    }

    /// The end-user page of a session, which replaces `https://remote.biometric.kz/flow/<id>`.
    pub fn page_url(&self, session_id: &str) -> String {
        format!("{}{}", self.uri(), crate::domain::paths::page(session_id))
    }

    /// The flows as they are now.
    pub fn flows(&self) -> Vec<Flow> {
        self.state.flows()
    }

    /// Finishes a session as a person finishing the page would (results, webhooks, journal).
    #[expect(
        clippy::needless_pass_by_value,
        reason = "callers build `how` inline: `Complete::as_scripted().fail(\"F2F\")`"
    )]
    pub fn complete_session(&self, session_id: &str, how: Complete) -> Result<(), CompleteError> {
        let id = Uuid::parse_str(session_id).map_err(|_| CompleteError::BadId(session_id.to_owned()))?;
        let technologies = self.state.with_session(&id, |s| s.technologies().to_vec()).ok_or(SessionError::NotFound)?;
        if let Some(key) = how.outcomes.keys().find(|k| !selects_any(k, &technologies)) {
            return Err(CompleteError::UnknownTechnology(key.clone()));
        }
        self.state.apply(&id, Command::Complete { scenario: how.scenario.as_deref(), outcomes: &how.outcomes })?;
        Ok(())
    }

    /// The Backend API's organisation keys as they are now.
    pub fn backend_keys(&self) -> Vec<BackendKey> {
        self.state.backend_keys()
    }

    /// The Backend API's E-Document sessions, oldest first, with their SMS codes: a test reads
    /// the code to approve with, as a person reads the SMS.
    pub fn backend_sessions(&self) -> Vec<BackendSessionInfo> {
        self.state
            .backend_sessions(None)
            .into_iter()
            .map(|s| BackendSessionInfo {
                backend_session_id: s.id,
                iin: s.iin,
                phone: s.phone,
                otp: s.otp,
                state: s.state.as_str().to_owned(),
            })
            .collect()
    }

    /// Every request the code under test sent to the emulated API and the page, oldest first,
    /// with its lint warnings.
    pub fn received_requests(&self) -> Vec<Entry> {
        let (mut entries, _) = self.state.journal().list(&Filter::default(), 0, usize::MAX);
        entries.reverse();
        entries
    }

    /// Back to the start: no sessions, no journal, no faults, the start-up flows.
    pub fn reset(&self) {
        self.state.reset();
        self.webhooks.clear();
    }

    /// A flow of its own for one test, with a new key (SPEC §16): tests that share one server
    /// and each use only their own flow's key see nothing of each other. `technologies` are the
    /// vendor's codes (`"LDHP"`, `"F2F"`, ...); `seed` makes what the mock invents for the
    /// flow's sessions repeat run after run (its key too).
    pub fn new_flow(&self, name: &str, technologies: &[&str], seed: Option<u64>) -> Result<Flow, FlowError> {
        let spec = crate::domain::flow::FlowSpec {
            name: name.to_owned(),
            api_key: None,
            technologies: technologies.iter().map(|c| (*c).to_owned()).collect(),
            scenario: None,
            webhook_url: None,
            webhook_urls: None,
            seed,
        };
        let mut generate = || self.state.generate_api_key(seed, name);
        let flow =
            spec.into_flow("", Some(&mut generate)).map_err(|e| FlowError(format!("{}: {}", e.path, e.reason)))?;
        self.state.add_flow(flow).map_err(|e| FlowError(e.to_string()))
    }

    /// What the code under test sent with `api_key`, or about its sessions, oldest first.
    pub fn received_requests_for(&self, api_key: &str) -> Vec<Entry> {
        let filter = Filter { api_key: Some(api_key.to_owned()), ..Filter::default() };
        let (mut entries, _) = self.state.journal().list(&filter, 0, usize::MAX);
        entries.reverse();
        entries
    }

    /// Everything `api_key` owns gone — its sessions, journal entries, webhook attempts, fault
    /// rules, backend sessions and persons — and its clock and seed back to their start; the key
    /// and everyone else's stay.
    pub fn reset_key(&self, api_key: &str) {
        self.state.reset_key(api_key);
    }

    /// The flow with `api_key` deleted, and everything its key owned with it. False when there
    /// was no such flow.
    pub fn purge_flow(&self, api_key: &str) -> bool {
        if !self.state.delete_flow(api_key) {
            return false;
        }
        self.state.purge_key(api_key);
        true
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The server may have stopped already; nothing to do then.
            let _ = stop.send(());
        }
    }
}

impl MockServerBuilder {
    /// Everything at once, as the command line would set it (the port is still a free one).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = Config { host: "127.0.0.1".into(), port: 0, ..config };
        self
    }

    /// A JSON flows file that replaces the built-in flows.
    #[must_use]
    pub fn flows_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.flows_file = Some(path.into());
        self
    }

    /// A JSON file of Backend API keys that replaces the built-in one.
    #[must_use]
    pub fn backend_keys_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.backend_keys_file = Some(path.into());
        self
    }

    /// A directory of scenario files added to the built-in ones.
    #[must_use]
    pub fn scenarios_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.scenarios_dir = Some(path.into());
        self
    }

    /// The scenario of sessions nothing else chooses one for.
    #[must_use]
    pub fn scenario(mut self, name: &str) -> Self {
        name.clone_into(&mut self.config.default_scenario);
        self
    }

    /// Makes ids, names, scores and codes repeat run after run.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = Some(seed);
        self
    }

    /// Refuse requests that would only get lint warnings.
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.config.strict = strict;
        self
    }

    /// Starts the server on a free port, in the current tokio runtime.
    pub async fn start(mut self) -> Result<MockServer, StartupError> {
        // The configuration's HTTPS port, if any, is a free one too.
        if self.config.tls_port.is_some() {
            self.config.tls_port = Some(0);
        }
        let app = Application::build(self.config).await?;
        let addr = app.local_addr();
        let tls_addr = app.tls_addr();
        let state = app.state().clone();
        let webhooks = std::sync::Arc::clone(app.webhooks());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Ok(MockServer { addr, tls_addr, state, webhooks, stop: Some(stop) })
    }
}
