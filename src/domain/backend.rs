//! The Backend API's organisation keys (SPEC §13): the "Backend Api Key" of the vendor's personal
//! account \[doc\], separate from flow keys, with the technologies the organisation is subscribed
//! to \[doc: each endpoint needs a subscription to its technology\]. Also the keys file format
//! (`fixtures/backend-keys.json`, `--backend-keys FILE`) and the persons' `photo_type`.

use serde::Deserialize;

use super::flow::{ApiKey, FlowSpecError};

/// What an organisation may be subscribed to: one per Backend API technology \[mock: the names
/// are ours; the docs name the technologies, not a list of subscriptions\].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// `liveness/short/`.
    Liveness,
    /// `face2face/compare/`.
    Face2Face,
    /// `document/parse/` and `v2 document/process/`.
    DocumentRecognition,
    /// `persons/`.
    Persons,
    /// `e-document/online-access/…`.
    Edocument,
}

impl Service {
    pub const ALL: [Self; 5] =
        [Self::Liveness, Self::Face2Face, Self::DocumentRecognition, Self::Persons, Self::Edocument];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Liveness => "liveness",
            Self::Face2Face => "face2face",
            Self::DocumentRecognition => "document_recognition",
            Self::Persons => "persons",
            Self::Edocument => "edocument",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// "liveness, face2face, …", for messages.
    pub fn list() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl serde::Serialize for Service {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// An organisation's Backend API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendKey {
    pub name: String,
    pub api_key: ApiKey,
    /// The technologies subscribed to; none at all is "Client does not have subscription" \[seen\].
    pub services: Vec<Service>,
    /// Whether the subscription has begun; `false` answers "Subscription has not started" \[seen\].
    pub started: bool,
    /// The scenario calls with this key play (the image endpoints; E-Document requests whose IIN
    /// no scenario matches), unless the server's `--scenario`.
    pub scenario: Option<String>,
    /// What the mock makes up for the key's calls repeats run after run with it (SPEC §16).
    pub seed: Option<u64>,
}

impl BackendKey {
    pub fn has(&self, service: Service) -> bool {
        self.services.contains(&service)
    }
}

/// One key as written in a keys file or sent to the admin API.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackendKeySpec {
    pub name: String,
    #[serde(default)]
    pub api_key: Option<String>,
    /// Subscriptions; every technology when absent.
    #[serde(default)]
    pub technologies: Option<Vec<String>>,
    #[serde(default = "yes")]
    pub subscription_started: bool,
    #[serde(default)]
    pub scenario: Option<String>,
    /// The key's own seed (SPEC §16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

fn yes() -> bool {
    true
}

impl BackendKeySpec {
    /// The spec that makes `key` again.
    pub fn of(key: &BackendKey) -> Self {
        Self {
            name: key.name.clone(),
            api_key: Some(key.api_key.as_str().to_owned()),
            technologies: Some(key.services.iter().map(|s| s.as_str().to_owned()).collect()),
            subscription_started: key.started,
            scenario: key.scenario.clone(),
            seed: key.seed,
        }
    }

    /// Validates one key; `at` is its path in the document, `generate_key` supplies a key when
    /// none is given (the admin API), or `None` to require one.
    pub fn into_key(
        self,
        at: &str,
        generate_key: Option<&mut dyn FnMut() -> ApiKey>,
    ) -> Result<BackendKey, FlowSpecError> {
        let err = |field: &str, reason: String| FlowSpecError {
            path: if at.is_empty() { field.to_owned() } else { format!("{at}.{field}") },
            reason,
        };
        super::flow::check_name(&self.name, "a backend key").map_err(|reason| err("name", reason))?;
        let api_key = match (self.api_key, generate_key) {
            (Some(key), _) => ApiKey::parse(&key).map_err(|r| err("api_key", r))?,
            (None, Some(generate)) => generate(),
            (None, None) => return Err(err("api_key", "missing field `api_key`".into())),
        };
        let mut services = Vec::new();
        for (i, text) in
            self.technologies.unwrap_or_else(|| Service::ALL.map(|s| s.as_str().to_owned()).to_vec()).iter().enumerate()
        {
            let field = format!("technologies[{i}]");
            let service = Service::parse(text).ok_or_else(|| {
                err(&field, format!("unknown technology {text:?} (expected one of {})", Service::list()))
            })?;
            if services.contains(&service) {
                return Err(err(&field, format!("technology {text} is listed twice")));
            }
            services.push(service);
        }
        Ok(BackendKey {
            name: self.name,
            api_key,
            services,
            started: self.subscription_started,
            scenario: self.scenario,
            seed: self.seed,
        })
    }
}

/// Parses a keys file: a JSON list of keys, none twice.
pub fn parse_backend_keys_file(text: &str) -> Result<Vec<BackendKey>, FlowSpecError> {
    let specs: Vec<BackendKeySpec> =
        serde_json::from_str(text).map_err(|e| FlowSpecError { path: "(root)".into(), reason: e.to_string() })?;
    let mut keys: Vec<BackendKey> = Vec::with_capacity(specs.len());
    for (i, spec) in specs.into_iter().enumerate() {
        let at = format!("[{i}]");
        let key = spec.into_key(&at, None)?;
        if let Some(j) = keys.iter().position(|k| k.api_key == key.api_key) {
            return Err(FlowSpecError {
                path: format!("{at}.api_key"),
                reason: format!("the same API key as key [{j}]"),
            });
        }
        keys.push(key);
    }
    Ok(keys)
}

/// `photo_type` of `persons/` \[doc\].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoType {
    Digital,
    Scan,
    Live,
    Other,
}

impl PhotoType {
    pub const ALL: [Self; 4] = [Self::Digital, Self::Scan, Self::Live, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Digital => "digital",
            Self::Scan => "scan",
            Self::Live => "live",
            Self::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "mock-backend-key-0123456789012345678901234567890123";

    #[test]
    fn a_keys_file_names_the_path_and_the_reason() {
        let keys = parse_backend_keys_file(&format!(r#"[{{"name":"a","api_key":"{KEY}"}}]"#)).unwrap();
        assert_eq!(keys[0].services, Service::ALL, "every technology when none is named");
        assert!(keys[0].started);
        for (text, path, reason) in [
            (
                format!(r#"[{{"name":"a","api_key":"{KEY}","technologies":["liveness","x"]}}]"#),
                "[0].technologies[1]",
                "unknown technology",
            ),
            (
                format!(r#"[{{"name":"a","api_key":"{KEY}"}},{{"name":"b","api_key":"{KEY}"}}]"#),
                "[1].api_key",
                "same API key",
            ),
            (r#"[{"name":"a","api_key":"short"}]"#.to_owned(), "[0].api_key", "47 or more"),
            (format!(r#"[{{"name":" ","api_key":"{KEY}"}}]"#), "[0].name", "needs a name"),
            (format!(r#"[{{"name":"{}","api_key":"{KEY}"}}]"#, "n".repeat(201)), "[0].name", "at most 200 characters"),
        ] {
            let e = parse_backend_keys_file(&text).expect_err(&text);
            assert_eq!(e.path, path, "{text}");
            assert!(e.reason.contains(reason), "{text}: {}", e.reason);
        }
    }
}
