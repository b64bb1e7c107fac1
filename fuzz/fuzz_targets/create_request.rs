//! Fuzzes the create-session body: any bytes go through the same parsing as
//! `POST /api/v1/flows/session/create/` (api_key, every metadata rule). It must never panic, and a
//! refused body must say why.
#![no_main]

use std::sync::LazyLock;

use biometric_kz_mock::domain::Flow;
use biometric_kz_mock::domain::flow::parse_flows_file;
use biometric_kz_mock::fuzzing::{CreateError, parse_create_request};
use libfuzzer_sys::fuzz_target;

static FLOWS: LazyLock<Vec<Flow>> =
    LazyLock::new(|| parse_flows_file("built in", biometric_kz_mock::config::BUILT_IN_FLOWS).expect("valid flows"));

fn find(key: &str) -> Option<Flow> {
    FLOWS.iter().find(|f| f.api_key.as_str() == key).cloned()
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Err(CreateError::Invalid(errors)) = parse_create_request(body, find) {
        assert!(!errors.is_empty(), "a refusal names its reasons");
        for e in errors.iter() {
            assert!(!e.path.is_empty() && !e.message.is_empty(), "{e:?}");
        }
    }
});
