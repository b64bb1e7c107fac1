//! Wiring only: configuration → state → app → listener, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::{Config, ConfigError};
use crate::state::{AppState, StateConfig};
use crate::webhook::Webhooks;
use std::sync::Arc;

pub struct Application {
    listener: TcpListener,
    /// The HTTPS listener (`--tls-port`).
    tls: Option<TcpListener>,
    /// The TLS configuration (the HTTPS port's and the proxy's tunnels') and the hosts answered.
    secure: Option<crate::server::Secure>,
    state: AppState,
    webhooks: Arc<Webhooks>,
    limits: crate::server::Limits,
}

/// A server's requests answered in-process, as its connections would have them answered.
#[derive(Clone)]
pub struct InProcess(crate::app::App);

impl InProcess {
    /// The answer to `request`.
    pub async fn answer(&self, request: axum::http::Request<axum::body::Body>) -> axum::response::Response {
        crate::app::caught(self.0.handle(request)).await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("invalid state file: {0}")]
    State(#[from] crate::persist::StateFileError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("--public-url {0:?} is not an absolute http(s) URL")]
    PublicUrl(String),
    #[error("cannot write the state file {0} (the mock would lose every change; fix the path or its directory)")]
    StateUnwritable(crate::persist::StateFileError),
    #[error("the last save of the state file failed at shutdown: {0}")]
    FinalSave(crate::persist::StateFileError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("invalid --webhook-ca: {0}")]
    WebhookCa(String),
}

impl Application {
    /// Loads the flows, binds the listener (port 0 picks a free port) and builds the state.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let (flows, scenarios) = config.load()?;
        let backend_keys = config.load_backend_keys(&scenarios)?;
        let video = config.load_video()?;
        let restored = match &config.state_file {
            Some(path) => crate::persist::load(path)?,
            None => None,
        };
        let addr = format!("{}:{}", config.host, config.port);
        let listener =
            TcpListener::bind(&addr).await.map_err(|source| StartupError::Bind { addr: addr.clone(), source })?;
        let local = listener.local_addr().map_err(|source| StartupError::Bind { addr, source })?;
        let ca = crate::tls::TestCa::load_or_create(config.ca_dir.as_deref())?;
        let tls = match config.tls_port {
            Some(port) => {
                let addr = format!("{}:{port}", config.host);
                Some(
                    TcpListener::bind(&addr)
                        .await
                        .map_err(|source| StartupError::Bind { addr: addr.clone(), source })?,
                )
            }
            None => None,
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(ca.server_config(crate::tls::server_names(&config.tls_names))?);
        let public_url_set = config.public_url.is_some();
        let public_url = match config.public_url {
            Some(url) if crate::domain::flow::is_http_url(&url) => url.trim_end_matches('/').to_owned(),
            Some(url) => return Err(StartupError::PublicUrl(url)),
            None => format!("http://{local}"),
        };
        let public = url::Url::parse(&public_url).ok();
        let tls_local = tls.as_ref().and_then(|l| l.local_addr().ok());
        // The proxy stands in for the vendor's hosts and --tls-name's, and answers for this
        // machine on its own ports.
        let proxied = crate::server::Destinations {
            stand_ins: crate::domain::VENDOR_HOSTS
                .iter()
                .map(|h| (*h).to_owned())
                .chain(config.tls_names.clone())
                .collect(),
            machine: crate::tls::MACHINE_NAMES.map(str::to_owned).to_vec(),
            ports: std::iter::once(local.port()).chain(tls_local.map(|a| a.port())).collect(),
            public: public.as_ref().and_then(|u| {
                let host = u.host_str()?.trim_start_matches('[').trim_end_matches(']');
                Some((host.to_owned(), u.port_or_known_default()?))
            }),
        };
        let secure = crate::server::Secure { acceptor, proxied };
        // The dotted names /__admin and the dashboard answer to, beside IP addresses and names
        // without a dot: the vendor's hosts, --public-url's, --tls-name's and --allowed-host's.
        let mut own_hosts: Vec<String> = crate::domain::VENDOR_HOSTS.iter().map(|h| (*h).to_owned()).collect();
        own_hosts.extend(public.as_ref().and_then(|u| u.host_str().map(str::to_ascii_lowercase)));
        own_hosts.extend(config.tls_names.iter().chain(&config.allowed_hosts).cloned());
        let webhook_ca = match &config.webhook_ca {
            Some(path) => {
                std::fs::read(path).map_err(|e| StartupError::WebhookCa(format!("{}: {e}", path.display())))?
            }
            None => Vec::new(),
        };
        let webhooks = Webhooks::new(config.journal_limit, &webhook_ca).map_err(StartupError::WebhookCa)?;
        let state = AppState::restored(
            StateConfig {
                flows,
                backend_keys,
                scenarios: std::sync::Arc::new(scenarios),
                default_scenario: config.default_scenario,
                video,
                strict: config.strict,
                log_requests: config.log_requests,
                journal_limit: config.journal_limit,
                admin_token: config.admin_token,
                max_sessions: config.max_sessions,
                max_store_bytes: config.max_store_bytes,
                session_ttl: config.session_ttl,
                state_file: config.state_file.clone(),
                state_sync: config.state_sync,
                frame_ancestors: config.frame_ancestors.clone(),
                ca_pem: ca.pem().to_owned(),
                seed: config.seed,
                public_url,
                public_url_set,
                own_hosts,
            },
            restored,
            // Sessions' events go to the webhook sender, which the state does not know.
            Arc::clone(&webhooks) as Arc<dyn crate::session::EventSink>,
        );
        // A state file that cannot be written would lose every change in silence: find out now.
        // (Blocking, but before the server answers anything.)
        state.save(true).map_err(StartupError::StateUnwritable)?;
        let limits = crate::server::Limits {
            max_connections: config.max_connections,
            header_timeout: config.header_timeout,
            body_timeout: config.body_timeout,
            max_body: config.max_body,
            // Webhook sockets: those in flight, and as many idle.
            other_descriptors: 2 * crate::webhook::MAX_IN_FLIGHT as u64,
        };
        Ok(Self { listener, tls, secure: Some(secure), state, webhooks, limits })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The HTTPS address, with `--tls-port`.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().and_then(|listener| listener.local_addr().ok())
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub(crate) fn state(&self) -> &AppState {
        &self.state
    }

    /// This server's requests answered in-process, without a socket (the `handlers` bench).
    pub fn in_process(&self) -> InProcess {
        InProcess(crate::app::app(self.state.clone(), Arc::clone(&self.webhooks)))
    }

    /// The webhook sender and its attempts.
    pub(crate) fn webhooks(&self) -> &Arc<Webhooks> {
        &self.webhooks
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish
    /// (for at most ten seconds), then writes the state file a last time.
    /// A last save that fails is an error: the process then exits non-zero.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let state = self.state.clone();
        let saver = state.has_state_file().then(|| tokio::spawn(save_periodically(state.clone())));
        let app = crate::app::app(self.state, self.webhooks);
        let secure = self.secure.expect("built with its TLS configuration");
        crate::server::serve(self.listener, self.tls, app, secure, self.limits, shutdown).await;
        if let Some(saver) = saver {
            saver.abort();
            // The last word: everything the finished requests changed.
            let saving = state.clone();
            match tokio::task::spawn_blocking(move || saving.save(true)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(StartupError::FinalSave(e)),
                Err(e) => {
                    let reason = format!("the saving thread failed: {e}");
                    let file = state_file_name(&state);
                    return Err(StartupError::FinalSave(crate::persist::StateFileError { file, reason }));
                }
            }
        }
        Ok(())
    }
}

fn state_file_name(state: &AppState) -> String {
    state.save_status().map(|(path, _)| path.display().to_string()).unwrap_or_default()
}

/// Writes the state file a quarter of a second after anything changed, off the async threads,
/// so that even a killed process loses at most that much. (`AppState::save` logs failures and
/// keeps them for `/__admin/health`.)
async fn save_periodically(state: AppState) {
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let state = state.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || state.save(false)).await {
            tracing::error!("saving the state file failed: {e}");
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` sends). The handlers are installed when
/// this is called, not when the future is first polled: a SIGTERM that arrives right after
/// start-up (a test, an orchestrator) must stop the server gracefully, not kill it.
pub(crate) fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
            tracing::info!("shutting down");
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}
