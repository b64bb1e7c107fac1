//! Parse the command line, set up logging, run.

use std::process::ExitCode;

use clap::Parser;

use biometric_kz_mock::cli::{Cli, Command};

// glibc's malloc spent a quarter of the request path's user time (fastbin consolidation under
// many small short-lived allocations); mimalloc's thread-local pages cut that (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = match cli.command {
        Some(Command::Serve(args)) => *args,
        Some(Command::Healthcheck(args)) => {
            args.run()?;
            println!("ok");
            return Ok(());
        }
        Some(Command::Ca(args)) => {
            let pem = biometric_kz_mock::test_ca_pem(&args.ca_dir)?;
            match &args.out {
                Some(file) => std::fs::write(file, pem)?,
                None => print!("{pem}"),
            }
            return Ok(());
        }
        Some(Command::Check(args)) => {
            let config = args.into_config();
            let (flows, scenarios) = config.load()?;
            let keys = config.load_backend_keys(&scenarios)?;
            println!(
                "ok: {} flows, {} scenarios ({}), {} backend keys",
                flows.len(),
                scenarios.iter().count(),
                scenarios.names(),
                keys.len()
            );
            return Ok(());
        }
        None => cli.serve,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(biometric_kz_mock::serve(args.into_config()))?;
    Ok(())
}
