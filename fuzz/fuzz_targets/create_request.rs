//! Fuzzes the create-session body: any bytes go through the same parsing as
//! `POST /api/v1/flows/session/create/` (api_key, every metadata rule). It must never panic, a
//! refused body must say why, and the short way the server takes for the usual
//! `{"api_key": "..."}` body must make of any body it takes what the general parser makes of it.
#![no_main]

use std::sync::LazyLock;

use biometric_kz_mock::domain::Flow;
use biometric_kz_mock::domain::create::{CreateError, parse_create_request, parse_plain_create_request};
use biometric_kz_mock::domain::flow::parse_flows_file;
use libfuzzer_sys::fuzz_target;

static FLOWS: LazyLock<Vec<Flow>> =
    LazyLock::new(|| parse_flows_file("built in", biometric_kz_mock::config::BUILT_IN_FLOWS).expect("valid flows"));

fn find(key: &str) -> Option<Flow> {
    FLOWS.iter().find(|f| f.api_key.as_str() == key).cloned()
}

fuzz_target!(|data: &[u8]| {
    let short = parse_plain_create_request(data, find);
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        assert!(short.is_none(), "the short way took a body that is not JSON");
        return;
    };
    let key = body.get("api_key").and_then(|k| k.as_str()).map(str::to_owned);
    let result = parse_create_request(body, find);
    if let Some((short_key, short_result)) = short {
        assert_eq!(Some(short_key), key.as_deref(), "the short way read another key");
        assert_eq!(format!("{short_result:?}"), format!("{result:?}"), "the two ways disagree");
    }
    if let Err(CreateError::Invalid(errors)) = result {
        assert!(!errors.is_empty(), "a refusal names its reasons");
        for e in errors.iter() {
            assert!(!e.path.is_empty() && !e.message.is_empty(), "{e:?}");
        }
    }
});
