//! Wiring only: configuration → state → app → listener, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::{Config, ConfigError};
use crate::http::DropConnection;
use crate::state::{AppState, StateConfig};

pub struct Application {
    listener: TcpListener,
    state: AppState,
    max_connections: usize,
    header_timeout: Duration,
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
}

impl Application {
    /// Loads the flows, binds the listener (port 0 picks a free port) and builds the state.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let (flows, scenarios) = config.load()?;
        let video = config.load_video()?;
        let restored = match &config.state_file {
            Some(path) => crate::persist::load(path)?,
            None => None,
        };
        let addr = format!("{}:{}", config.host, config.port);
        let listener =
            TcpListener::bind(&addr).await.map_err(|source| StartupError::Bind { addr: addr.clone(), source })?;
        let local = listener.local_addr().map_err(|source| StartupError::Bind { addr, source })?;
        let public_url = match config.public_url {
            Some(url) if crate::domain::flow::is_http_url(&url) => url.trim_end_matches('/').to_owned(),
            Some(url) => return Err(StartupError::PublicUrl(url)),
            None => format!("http://{local}"),
        };
        let state = AppState::restored(
            StateConfig {
                flows,
                scenarios: std::sync::Arc::new(scenarios),
                default_scenario: config.default_scenario,
                video,
                strict: config.strict,
                journal_limit: config.journal_limit,
                admin_token: config.admin_token,
                max_sessions: config.max_sessions,
                max_store_bytes: config.max_store_bytes,
                session_ttl: config.session_ttl,
                state_file: config.state_file.clone(),
                seed: config.seed,
                max_body: config.max_body,
                public_url,
            },
            restored,
        );
        Ok(Self { listener, state, max_connections: config.max_connections, header_timeout: config.header_timeout })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish
    /// (for at most ten seconds).
    ///
    /// The accept loop is our own rather than `axum::serve` so that a scripted fault can drop a
    /// connection without answering: a response marked `DropConnection` turns into a service
    /// error, and hyper closes the connection instead of writing it.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        use hyper_util::rt::{TokioExecutor, TokioIo};

        let state = self.state.clone();
        let saver = state.has_state_file().then(|| tokio::spawn(save_periodically(state.clone())));
        let app = crate::http::app(self.state);
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        // A client that never finishes its headers gives up its connection after this long.
        builder.http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(self.header_timeout);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        // At most this many connections at once; the next waits to be accepted, so slow or
        // idle clients cannot take every file descriptor.
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(self.max_connections));
        tokio::pin!(shutdown);
        loop {
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                () = &mut shutdown => break,
            };
            let stream = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            stream.set_nodelay(true).ok();
            // One handle per connection, cloned for each of its requests: its count is written
            // by the core serving the connection only, where cloning the shared `App` on every
            // request had both cores write the same counters.
            let app = std::sync::Arc::new(app.clone());
            let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let app = std::sync::Arc::clone(&app);
                async move {
                    let answer = app.handle(request.map(axum::body::Body::new));
                    let response = crate::http::answer_even_if_panicking(answer).await;
                    if response.extensions().get::<DropConnection>().is_some() {
                        return Err(DroppedByFault);
                    }
                    Ok(response)
                }
            });
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!("connection ended: {e}");
                }
                drop(slot);
            });
        }
        drop(self.listener);
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("in-flight requests did not finish in 10 s"),
        }
        if let Some(saver) = saver {
            saver.abort();
            // The last word: everything the finished requests changed.
            match tokio::task::spawn_blocking(move || state.save(true)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("cannot save the state file: {e}"),
                Err(e) => tracing::error!("saving the state file failed: {e}"),
            }
        }
        Ok(())
    }
}

/// Writes the state file a quarter of a second after anything changed, off the async threads,
/// so that even a killed process loses at most that much.
async fn save_periodically(state: AppState) {
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let state = state.clone();
        match tokio::task::spawn_blocking(move || state.save(false)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("cannot save the state file: {e}"),
            Err(e) => tracing::error!("saving the state file failed: {e}"),
        }
    }
}

/// The service error that makes hyper close a connection without answering.
#[derive(Debug)]
struct DroppedByFault;

impl std::fmt::Display for DroppedByFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a scripted fault")
    }
}

impl std::error::Error for DroppedByFault {}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` sends). The handlers are installed when
/// this is called, not when the future is first polled: a SIGTERM that arrives right after
/// start-up (a test, an orchestrator) must stop the server gracefully, not kill it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
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
