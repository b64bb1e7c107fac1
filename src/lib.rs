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
//! For Rust tests, [`MockServer`] runs an isolated server in-process.
//!
//! Layout: `domain` (the vendor's rules, no HTTP), `session` (the state machine and generated
//! values), `scenario` (scripted outcomes, pure), `state` (the shared state and its operations),
//! `http` (the emulated API, error shapes, lint, OpenAPI), `page` (the end-user page and the
//! dashboard), `admin` (`/__admin`), `report` (PDF and signature), `journal`, `webhook`, `video`,
//! `startup` (wiring).

// Comments tag facts as [doc], [seen] or [mock] (the README's Fidelity sources), not links.
#![allow(rustdoc::broken_intra_doc_links)]

pub mod admin;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod deadline;
pub mod domain;
pub mod http;
pub mod journal;
mod mock_server;
pub mod page;
pub mod persist;
pub mod report;
pub mod scenario;
pub mod server;
pub mod session;
pub mod startup;
pub mod state;
pub mod video;
pub mod webhook;
pub mod wire;

pub use config::Config;
pub use mock_server::{Complete, CompleteError, MockServer, MockServerBuilder};
pub use startup::{Application, StartupError};

/// Runs the server until Ctrl-C or SIGTERM, printing `listening on http://ADDR` once bound.
pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let app = Application::build(config).await?;
    let stop = startup::shutdown_signal();
    // Scripts and tests wait for this line (with --port 0 it is the only way to learn the port).
    println!("listening on http://{}", app.local_addr());
    {
        use std::io::Write as _;
        std::io::stdout().flush()?;
    }
    app.run_until_stopped(stop).await?;
    Ok(())
}
