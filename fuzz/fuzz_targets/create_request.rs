//! Fuzzes the create-session body: any bytes that are JSON go through the same parsing as
//! `POST /api/v1/flows/session/create/` (api_key, every metadata rule). It must never panic,
//! and a refused body must say why.
#![no_main]

use biometric_kz_mock::domain::create::{CreateError, parse_create_request};
use biometric_kz_mock::domain::flow::parse_flows_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let flows = parse_flows_file("built in", biometric_kz_mock::config::BUILT_IN_FLOWS).expect("valid flows");
    let result = parse_create_request(body, |key| flows.iter().find(|f| f.api_key.as_str() == key).cloned());
    if let Err(CreateError::Invalid(errors)) = result {
        assert!(!errors.is_empty(), "a refusal names its reasons");
        for e in errors.iter() {
            assert!(!e.path.is_empty() && !e.message.is_empty(), "{e:?}");
        }
    }
});
