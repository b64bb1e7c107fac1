//! # biometric-kz-mock
//!
//! An offline, standalone fake of the biometric.kz **Flow Remote** integration: the API host
//! `kyc.biometric.kz` (session create, result, liveness video, signed PDF reports) and the
//! end-user page of `remote.biometric.kz` (`/flow/{session_id}`). It follows the vendor's
//! documented request shapes and metadata rules (IIN check digits, the `77XXXXXXXXX` phone, the
//! `skip_input` preconditions), answers errors in Django REST Framework's shapes, keeps sessions
//! in memory with a state machine, plays scripted scenarios, journals requests with lint
//! warnings, and sends webhooks. What it assumes where the vendor's docs are silent is listed in
//! the README's Fidelity table. It fakes no real biometrics: outcomes are scripted, images are
//! only checked to be JPEG or PNG, and reports are signed with a published test key.
//!
//! For Rust tests, [`MockServer`] runs an isolated server in-process. The public surface is
//! what an outside user needs: [`MockServer`] and its builder, [`Config`], [`Application`] (the
//! server, for embedding, and [`InProcess`], its requests answered without a socket), `cli` (the
//! binary's command line), and the modules the benches and the fuzz target reach into (`domain`,
//! `report`). Everything else is the crate's own.
//!
//! Layout (ARCHITECTURE.md has what each layer may import): `domain` (the vendor's rules, no
//! HTTP), `scenario` (scripted outcomes, pure), `session` (the state machine and generated
//! values), `state` (the store: commands applied under one lock), `http` (the emulated API),
//! `page` (the end-user page and the dashboard), `admin` (`/__admin`), `app` (the router and
//! the front every request passes), `server` (connections), `startup` (wiring); beside them
//! `report`, `journal`, `webhook`, `wire`, `video`, `persist`, `clock`, `deadline`.

mod admin;
mod app;
mod body;
pub mod cli;
mod clock;
pub mod config;
pub mod domain;
mod http;
mod journal;
mod mock_server;
mod page;
mod persist;
pub mod report;
mod scenario;
mod server;
mod session;
mod startup;
mod state;
pub(crate) mod tls;
mod video;
mod webhook;
mod widget;
mod wire;

pub use config::Config;
pub use journal::{Entry, Lint};
pub use mock_server::{BackendSessionInfo, Complete, CompleteError, FlowError, MockServer, MockServerBuilder};
pub use persist::StateFileError;
pub use startup::{Application, InProcess, StartupError};
pub use tls::TlsError;

/// What the fuzz target (`fuzz/`) reaches: the create-session body's parser.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::wire::create::{CreateError, CreateRequest, parse_create_request};
}

/// The test CA kept in `dir` (made there when there is none), PEM: `biometric-kz-mock ca`.
pub fn test_ca_pem(dir: &std::path::Path) -> Result<String, tls::TlsError> {
    tls::TestCa::load_or_create(Some(dir)).map(|ca| ca.pem().to_owned())
}

/// Runs the server until Ctrl-C or SIGTERM, printing `listening on http://ADDR` once bound.
pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let app = Application::build(config).await?;
    let stop = startup::shutdown_signal();
    // Scripts and tests wait for the first line (with --port 0 it is the only way to learn the
    // port). One write: a reader that stops after the first line must not make the second fail.
    let mut lines = format!("listening on http://{}\n", app.local_addr());
    if let Some(tls) = app.tls_addr() {
        use std::fmt::Write as _;
        let _ = writeln!(lines, "listening on https://{tls} (the test CA: GET /__admin/ca.pem)");
    }
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        out.write_all(lines.as_bytes())?;
        out.flush()?;
    }
    app.run_until_stopped(stop).await?;
    Ok(())
}
