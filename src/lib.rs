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
//! server, for embedding), `cli` (the binary's command line), and the modules the benches and the
//! fuzz target reach into (`app`, `domain`, `report`). Everything else is the crate's own.
//!
//! Layout (ARCHITECTURE.md has what each layer may import): `domain` (the vendor's rules, no
//! HTTP), `scenario` (scripted outcomes, pure), `session` (the state machine and generated
//! values), `state` (the store: commands applied under one lock), `http` (the emulated API),
//! `page` (the end-user page and the dashboard), `admin` (`/__admin`), `app` (the router and
//! the front every request passes), `server` (connections), `startup` (wiring); beside them
//! `report`, `journal`, `webhook`, `wire`, `video`, `persist`, `clock`, `deadline`.

mod admin;
pub mod app;
pub mod cli;
mod clock;
pub mod config;
mod deadline;
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
mod video;
mod webhook;
mod widget;
mod wire;

pub use config::Config;
pub use journal::{Entry, Lint};
pub use mock_server::{BackendSessionInfo, Complete, CompleteError, MockServer, MockServerBuilder};
pub use persist::StateFileError;
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
