//! What scripts name: the emulated endpoints a fault can hit, and why a session plays the
//! scenario it plays. Shared by the scenarios and the sessions.

/// An emulated endpoint a fault can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    Create,
    Result,
    Video,
    Report,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Result => "result",
            Self::Video => "video",
            Self::Report => "report",
        }
    }
}

/// Why a session plays its scenario, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `PUT /__admin/sessions/{id}/scenario` or the `complete` call.
    Admin,
    /// A `match` lists an IIN of the session's metadata.
    Match,
    /// The flow's default scenario.
    Flow,
    /// The server's `--scenario`.
    Server,
}

impl Source {
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Admin, Self::Match, Self::Flow, Self::Server].into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Match => "match",
            Self::Flow => "flow",
            Self::Server => "server",
        }
    }
}
