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
    /// Every endpoint, in the order of the variants (the admin API's schema lists them so).
    pub const ALL: [Self; 12] = [
        Self::Create,
        Self::Result,
        Self::Video,
        Self::Report,
        Self::GenerateFiles,
        Self::LivenessShort,
        Self::Face2faceCompare,
        Self::DocumentParse,
        Self::DocumentProcess,
        Self::Persons,
        Self::EdocumentRequest,
        Self::EdocumentApprove,
    ];

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

#[cfg(test)]
mod tests {
    use super::Endpoint;

    #[test]
    fn all_lists_every_endpoint_once_by_its_serde_name() {
        for (i, endpoint) in Endpoint::ALL.into_iter().enumerate() {
            // No wildcard: a new endpoint does not compile here until it has its place in `ALL`.
            let place = match endpoint {
                Endpoint::Create => 0,
                Endpoint::Result => 1,
                Endpoint::Video => 2,
                Endpoint::Report => 3,
                Endpoint::GenerateFiles => 4,
                Endpoint::LivenessShort => 5,
                Endpoint::Face2faceCompare => 6,
                Endpoint::DocumentParse => 7,
                Endpoint::DocumentProcess => 8,
                Endpoint::Persons => 9,
                Endpoint::EdocumentRequest => 10,
                Endpoint::EdocumentApprove => 11,
            };
            assert_eq!(place, i, "{endpoint:?}");
            assert_eq!(serde_json::to_value(endpoint).unwrap(), endpoint.as_str(), "as_str is the name in JSON");
        }
    }
}
