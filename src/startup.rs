//! Wiring only: configuration → state → router → listener, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::domain::FlowFileError;
use crate::state::{AppState, StateConfig};

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("invalid flows file: {0}")]
    Flows(#[from] FlowFileError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("--public-url {0:?} is not an absolute http(s) URL")]
    PublicUrl(String),
}

impl Application {
    /// Loads the flows, binds the listener (port 0 picks a free port) and builds the state.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let flows = config.load_flows()?;
        let addr = format!("{}:{}", config.host, config.port);
        let listener =
            TcpListener::bind(&addr).await.map_err(|source| StartupError::Bind { addr: addr.clone(), source })?;
        let local = listener.local_addr().map_err(|source| StartupError::Bind { addr, source })?;
        let public_url = match config.public_url {
            Some(url) if crate::domain::flow::is_http_url(&url) => url.trim_end_matches('/').to_owned(),
            Some(url) => return Err(StartupError::PublicUrl(url)),
            None => format!("http://{local}"),
        };
        let state = AppState::new(StateConfig { flows, seed: config.seed, max_body: config.max_body, public_url });
        Ok(Self { listener, state })
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

    /// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let router = crate::http::router(self.state);
        axum::serve(self.listener, router).with_graceful_shutdown(shutdown).await
    }
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` sends).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
