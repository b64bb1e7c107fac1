//! The server's configuration, whatever it came from (flags, environment, a test's builder).

use std::path::PathBuf;

use crate::domain::Flow;
use crate::domain::flow::{FlowFileError, parse_flows_file};

pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

/// The built-in flows: the three of the vendor's docs table, with fixed keys.
pub const BUILT_IN_FLOWS: &str = include_str!("../fixtures/flows.json");

#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub public_url: Option<String>,
    pub flows_file: Option<PathBuf>,
    pub seed: Option<u64>,
    pub max_body: usize,
}

impl Default for Config {
    /// What `serve` does with no flags: 127.0.0.1:8080 and the built-in flows.
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            public_url: None,
            flows_file: None,
            seed: None,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

impl Config {
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
