//! Command-line definitions. Every flag of `serve` is also an environment variable `BKZ_MOCK_*`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "biometric-kz-mock",
    version,
    about = "An offline fake of the biometric.kz Flow Remote API (kyc.biometric.kz) and end-user page (remote.biometric.kz)",
    long_about = "An offline fake of the biometric.kz Flow Remote integration for integration tests, \
                  local development and CI. `serve` (the default) starts the server with three built-in \
                  flows; no configuration is needed.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve`'s flags, so that `biometric-kz-mock --port 0` works too.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the mock server (the default).
    Serve(Box<ServeArgs>),
    /// Validate the flows file and the scenarios, then exit (non-zero with the file, the path
    /// inside it and the reason when one is invalid).
    Check(CheckArgs),
    /// Ask a running server's /__admin/health; exit 0 when it answers 200 (the Docker image's
    /// HEALTHCHECK, so that the image needs no curl).
    Healthcheck(HealthcheckArgs),
    /// Print the mock's test CA certificate (PEM), made in --ca-dir at its first use, or write
    /// it to --out: the certificate clients trust to reach the mock's HTTPS as the vendor's hosts.
    Ca(CaArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CaArgs {
    /// Where the CA is kept: the same directory as `serve --ca-dir`.
    #[arg(long, env = "BKZ_MOCK_CA_DIR", value_name = "DIR", required = true)]
    pub ca_dir: PathBuf,
    /// Write the certificate to this file instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// The server's address (not BKZ_MOCK_HOST: a server bound to 0.0.0.0 answers on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The server's port.
    #[arg(long, env = "BKZ_MOCK_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Give up after this many milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub timeout_ms: u64,
}

impl HealthcheckArgs {
    /// One `GET /__admin/health` over a plain socket: `Ok` on a 200.
    pub fn run(&self) -> Result<(), String> {
        use std::io::{Read, Write};
        use std::net::ToSocketAddrs;
        let timeout = std::time::Duration::from_millis(self.timeout_ms);
        let addr = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("{}:{}: {e}", self.host, self.port))?
            .next()
            .ok_or_else(|| format!("{}:{} has no address", self.host, self.port))?;
        let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{addr}: {e}"))?;
        stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        write!(stream, "GET /__admin/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
            .map_err(|e| e.to_string())?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).map_err(|e| format!("{addr}: {e}"))?;
        if head.starts_with(b"HTTP/1.1 200") {
            Ok(())
        } else {
            Err(format!("{addr} answered {:?}", String::from_utf8_lossy(&head)))
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// JSON file of flows to check (default: the built-in flows).
    #[arg(long, env = "BKZ_MOCK_FLOWS", value_name = "FILE")]
    pub flows: Option<PathBuf>,
    /// JSON file of Backend API keys to check (default: the built-in one).
    #[arg(long, env = "BKZ_MOCK_BACKEND_KEYS", value_name = "FILE")]
    pub backend_keys: Option<PathBuf>,
    /// Directory of scenario files to check with the built-in ones.
    #[arg(long, env = "BKZ_MOCK_SCENARIOS", value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// The default scenario to check exists.
    #[arg(long, env = "BKZ_MOCK_SCENARIO", value_name = "NAME", default_value = crate::scenario::DEFAULT_SCENARIO)]
    pub scenario: String,
}

impl CheckArgs {
    pub fn into_config(self) -> Config {
        Config {
            flows_file: self.flows,
            backend_keys_file: self.backend_keys,
            scenarios_dir: self.scenarios,
            default_scenario: self.scenario,
            ..Config::default()
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; 0.0.0.0 in containers.
    #[arg(long, env = "BKZ_MOCK_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on; 0 picks a free one (the bound address is printed).
    #[arg(long, env = "BKZ_MOCK_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Base URL written into the links the mock generates (default: the bound address).
    #[arg(long, env = "BKZ_MOCK_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// JSON file of flows that replaces the three built-in ones.
    #[arg(long, env = "BKZ_MOCK_FLOWS", value_name = "FILE")]
    pub flows: Option<PathBuf>,
    /// JSON file of Backend API (organisation) keys that replaces the built-in one.
    #[arg(long, env = "BKZ_MOCK_BACKEND_KEYS", value_name = "FILE")]
    pub backend_keys: Option<PathBuf>,
    /// Make every generated value (ids, names, scores, codes) repeat run after run.
    #[arg(long, env = "BKZ_MOCK_SEED", value_name = "N", allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Largest request body accepted: bytes, or with a KiB/MiB/GiB suffix.
    #[arg(long, env = "BKZ_MOCK_MAX_BODY", value_name = "SIZE", default_value = "16MiB", value_parser = parse_size)]
    pub max_body: usize,
    /// Directory of your own scenario files (*.json), added to the built-in ones.
    #[arg(long, env = "BKZ_MOCK_SCENARIOS", value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// The scenario of sessions that nothing else chooses one for.
    #[arg(long, env = "BKZ_MOCK_SCENARIO", value_name = "NAME", default_value = crate::scenario::DEFAULT_SCENARIO)]
    pub scenario: String,
    /// An MP4 or WebM file served as the liveness video instead of the built-in test pattern.
    #[arg(long, env = "BKZ_MOCK_VIDEO", value_name = "FILE")]
    pub video: Option<PathBuf>,
    /// Refuse (400) requests that depart from the vendor's docs, instead of warning in the
    /// journal and the X-Mock-Lint header.
    #[arg(long, env = "BKZ_MOCK_STRICT")]
    pub strict: bool,
    /// Log a line per request at info level: method, path, status, time, lint codes. Off by
    /// default: it costs 15-30 % of the throughput (BENCHMARKS.md).
    #[arg(long, env = "BKZ_MOCK_LOG_REQUESTS")]
    pub log_requests: bool,
    /// How many requests the journal keeps; the oldest go first.
    #[arg(long, env = "BKZ_MOCK_JOURNAL_LIMIT", value_name = "N", default_value_t = crate::config::DEFAULT_JOURNAL_LIMIT)]
    pub journal_limit: usize,
    /// Protect /__admin and the dashboard: they then need `Authorization: Bearer <TOKEN>`.
    #[arg(long, env = "BKZ_MOCK_ADMIN_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// How many sessions are held at most; when a new one needs room, the oldest expired or
    /// finished one goes, else the oldest (a create is never refused).
    #[arg(long, env = "BKZ_MOCK_MAX_SESSIONS", value_name = "N", default_value_t = crate::config::DEFAULT_MAX_SESSIONS)]
    pub max_sessions: usize,
    /// About how much memory the held sessions take at most (photos included); evicted the
    /// same way: bytes, or with a KiB/MiB/GiB suffix.
    #[arg(long, env = "BKZ_MOCK_MAX_STORE_BYTES", value_name = "SIZE", default_value = "512MiB", value_parser = parse_size)]
    pub max_store_bytes: usize,
    /// How long a session lives, e.g. 30m or 24h (0: for ever); expired ones answer 404.
    #[arg(long, env = "BKZ_MOCK_SESSION_TTL", value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub session_ttl: std::time::Duration,
    /// How many connections are served at once; more wait to be accepted.
    #[arg(long, env = "BKZ_MOCK_MAX_CONNECTIONS", value_name = "N", default_value_t = crate::config::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, e.g. 10s; a connection that
    /// sends nothing for this long is closed.
    #[arg(long, env = "BKZ_MOCK_HEADER_TIMEOUT", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: std::time::Duration,
    /// How long a client may take to send a request's body once its headers are in, e.g. 10s;
    /// later, the request is answered 408.
    #[arg(long, env = "BKZ_MOCK_BODY_TIMEOUT", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub body_timeout: std::time::Duration,
    /// Keep flows and sessions in this JSON file across restarts (written atomically, loaded at
    /// start-up; a file that does not load stops start-up).
    #[arg(long, env = "BKZ_MOCK_STATE_FILE", value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// With --state-file: write the file before answering each change (slower; nothing is lost
    /// even in a crash), instead of a quarter second after it.
    #[arg(long, env = "BKZ_MOCK_STATE_SYNC", requires = "state_file")]
    pub state_sync: bool,
    /// Who may frame the end-user page (the widget's iframe, WebViews): a CSP frame-ancestors
    /// source list, e.g. `'self' https://app.example.com`; 'none' forbids framing.
    #[arg(long, env = "BKZ_MOCK_FRAME_ANCESTORS", value_name = "SOURCES", default_value = crate::config::DEFAULT_FRAME_ANCESTORS, value_parser = crate::config::parse_frame_ancestors)]
    pub frame_ancestors: String,
    /// Serve HTTPS on this port too (0 picks a free one), with a certificate from the mock's
    /// test CA for kyc.biometric.kz, remote.biometric.kz, localhost and 127.0.0.1.
    #[arg(long, env = "BKZ_MOCK_TLS_PORT", value_name = "PORT")]
    pub tls_port: Option<u16>,
    /// Another name for the HTTPS certificate (repeat for more), e.g. mock.internal.
    #[arg(long = "tls-name", env = "BKZ_MOCK_TLS_NAMES", value_name = "NAME", value_delimiter = ',', value_parser = parse_tls_name)]
    pub tls_names: Vec<String>,
    /// Keep the test CA in this directory, so that clients trust it once (made there at the
    /// first start; a new CA each start without it).
    #[arg(long, env = "BKZ_MOCK_CA_DIR", value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
    /// A PEM file of certificates to trust for https:// webhook receivers, beside the system's
    /// roots (a receiver's own test CA).
    #[arg(long, env = "BKZ_MOCK_WEBHOOK_CA", value_name = "FILE")]
    pub webhook_ca: Option<PathBuf>,
    /// Another dotted host name /__admin and the dashboard answer to (repeat for more), e.g.
    /// mock.internal. IP addresses, localhost, single-label names (compose services), the
    /// vendor's hosts, --public-url's and --tls-name's are always answered.
    #[arg(long = "allowed-host", env = "BKZ_MOCK_ALLOWED_HOSTS", value_name = "NAME", value_delimiter = ',', value_parser = parse_tls_name)]
    pub allowed_hosts: Vec<String>,
}

/// A DNS name or an IP address for the HTTPS certificate.
fn parse_tls_name(text: &str) -> Result<String, String> {
    let name = text.trim().to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 253
        && (name.parse::<std::net::IpAddr>().is_ok()
            || name.split('.').all(|l| {
                !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*')
            }));
    if ok { Ok(name) } else { Err(format!("{text:?} is not a DNS name or an IP address")) }
}

/// `90`, `90s`, `15m`, `24h`, `500ms`, `1h 30m` (humantime's units; a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|e| format!("{text:?} is not a duration ({e}): write e.g. 90s, 15m or 24h"))
}

impl ServeArgs {
    pub fn into_config(self) -> Config {
        Config {
            host: self.host,
            port: self.port,
            public_url: self.public_url,
            flows_file: self.flows,
            backend_keys_file: self.backend_keys,
            seed: self.seed,
            max_body: self.max_body,
            scenarios_dir: self.scenarios,
            default_scenario: self.scenario,
            video_file: self.video,
            strict: self.strict,
            log_requests: self.log_requests,
            journal_limit: self.journal_limit,
            admin_token: self.admin_token.filter(|t| !t.is_empty()),
            max_sessions: self.max_sessions.max(1),
            max_store_bytes: self.max_store_bytes,
            session_ttl: Some(self.session_ttl).filter(|ttl| !ttl.is_zero()),
            max_connections: self.max_connections.max(1),
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            state_file: self.state_file,
            state_sync: self.state_sync,
            frame_ancestors: self.frame_ancestors,
            ca_dir: self.ca_dir,
            tls_port: self.tls_port,
            tls_names: self.tls_names,
            allowed_hosts: self.allowed_hosts,
            webhook_ca: self.webhook_ca,
        }
    }
}

/// `1048576`, `512KiB`, `16MiB`, `1GiB` (case-insensitive, optional space).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: usize =
        digits.parse().map_err(|_| format!("{text:?} is not a size: write bytes, or a number with KiB, MiB or GiB"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?}: use KiB, MiB or GiB")),
    };
    number.checked_mul(factor).ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_MAX_BODY;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse_with_and_without_units() {
        use std::time::Duration;
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(" 2d "), Ok(Duration::from_secs(172_800)));
        for bad in ["soon", "5 fortnights", "-5s", "99999999999999999999999h", ""] {
            let error = parse_duration(bad).expect_err(bad);
            assert!(error.contains("is not a duration") && error.contains("90s"), "{bad}: {error}");
        }
    }

    #[test]
    fn sizes_parse_with_and_without_units() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("16MiB"), Ok(16 * 1024 * 1024));
        assert_eq!(parse_size("512 kib"), Ok(512 * 1024));
        assert!(parse_size("16MB").is_err());
        assert!(parse_size("lots").is_err());
        assert_eq!(DEFAULT_MAX_BODY, 16 * 1024 * 1024);
    }
}
