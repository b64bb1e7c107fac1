//! What scripts name: the emulated endpoints a fault can hit, and why a session plays the
//! scenario it plays. Shared by the scenarios and the sessions.

/// An emulated endpoint a fault can hit: the flows' and the Backend API's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Create,
    Result,
    Video,
    Report,
    GenerateFiles,
    LivenessShort,
    Face2faceCompare,
    DocumentParse,
    DocumentProcess,
    Persons,
    EdocumentRequest,
    EdocumentApprove,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Result => "result",
            Self::Video => "video",
            Self::Report => "report",
            Self::GenerateFiles => "generate_files",
            Self::LivenessShort => "liveness_short",
            Self::Face2faceCompare => "face2face_compare",
            Self::DocumentParse => "document_parse",
            Self::DocumentProcess => "document_process",
            Self::Persons => "persons",
            Self::EdocumentRequest => "edocument_request",
            Self::EdocumentApprove => "edocument_approve",
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
