//! Technology codes of the vendor's flows and the families their results are reported in.

use std::fmt;
use std::str::FromStr;

/// A technology a flow can run. Codes, names and descriptions follow the vendor's docs where
/// they give them; the rest are marked \[mock\] in the README's Fidelity table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TechnologyCode {
    Ldhp,
    Ldd,
    Ldd2,
    Ldpm,
    F2f,
    Ed,
    Dr,
}

/// The result field a technology reports into (`liveness_result`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Liveness,
    Face2Face,
    Edocument,
    DocumentRecognition,
}

impl TechnologyCode {
    pub const ALL: [TechnologyCode; 7] = [Self::Ldhp, Self::Ldd, Self::Ldd2, Self::Ldpm, Self::F2f, Self::Ed, Self::Dr];

    /// The technologies a PDF report can be requested for \[doc\].
    pub const REPORTABLE: [TechnologyCode; 5] = [Self::Ldhp, Self::Ldd2, Self::Ldd, Self::Ldpm, Self::F2f];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ldhp => "LDHP",
            Self::Ldd => "LDD",
            Self::Ldd2 => "LDD2",
            Self::Ldpm => "LDPM",
            Self::F2f => "F2F",
            Self::Ed => "ED",
            Self::Dr => "DR",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Ldhp => "Liveness Head Position",
            Self::Ldd => "Liveness Distance",
            Self::Ldd2 => "Liveness Distance 2",
            Self::Ldpm => "Liveness Passive Mode",
            Self::F2f => "Face2Face",
            Self::Ed => "E-Document",
            Self::Dr => "Document Recognition",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Ldhp => "Detect liveness by photo and head position",
            Self::Ldd => "Detect liveness by the change of distance to the camera",
            Self::Ldd2 => "Detect liveness by the change of distance to the camera, version 2",
            Self::Ldpm => "Detect liveness passively from a single video",
            Self::F2f => "Determining the similarity of two faces from a photo",
            Self::Ed => "Get the subject's document data from the state database by IIN and SMS code",
            Self::Dr => "Parse document data from image",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Self::Ldhp | Self::Ldd | Self::Ldd2 | Self::Ldpm => Family::Liveness,
            Self::F2f => Family::Face2Face,
            Self::Ed => Family::Edocument,
            Self::Dr => Family::DocumentRecognition,
        }
    }

    /// Parses a code as flow files may write it: the API's codes, plus the docs' generic "LD"
    /// label of its flows table, which stands for LDHP \[mock\].
    pub fn parse_flow_code(s: &str) -> Option<Self> {
        if s == "LD" { Some(Self::Ldhp) } else { s.parse().ok() }
    }

    /// The codes as a comma-separated list, for error messages.
    pub fn list(codes: &[TechnologyCode]) -> String {
        codes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl FromStr for TechnologyCode {
    type Err = ();

    /// Parses an API code exactly (case-sensitive, as the vendor's choices are).
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|c| c.as_str() == s).ok_or(())
    }
}

impl fmt::Display for TechnologyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for TechnologyCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Family {
    pub const ALL: [Family; 4] = [Self::Liveness, Self::Face2Face, Self::Edocument, Self::DocumentRecognition];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Liveness => "liveness",
            Self::Face2Face => "face2face",
            Self::Edocument => "edocument",
            Self::DocumentRecognition => "document_recognition",
        }
    }
}

/// Whether `key` names a technology (`LDHP`) or a family (`liveness`) present in `codes`.
pub fn selects_any(key: &str, codes: &[TechnologyCode]) -> bool {
    codes.iter().any(|c| c.as_str() == key || c.family().as_str() == key)
}

/// The families and codes a selector may name, for error messages.
pub fn selector_help() -> String {
    let families: Vec<&str> = Family::ALL.iter().map(|f| f.as_str()).collect();
    format!("a code ({}) or a family ({})", TechnologyCode::list(&TechnologyCode::ALL), families.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_string() {
        for code in TechnologyCode::ALL {
            assert_eq!(code.as_str().parse::<TechnologyCode>(), Ok(code), "{code}");
        }
    }

    #[test]
    fn flow_files_may_say_ld_for_ldhp_but_the_api_may_not() {
        assert_eq!(TechnologyCode::parse_flow_code("LD"), Some(TechnologyCode::Ldhp));
        assert!("LD".parse::<TechnologyCode>().is_err());
        assert!("ldhp".parse::<TechnologyCode>().is_err(), "codes are case-sensitive");
    }
}
