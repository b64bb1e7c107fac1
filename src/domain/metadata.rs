//! Session metadata (`metadata` in the create-session body) as the vendor documents it: the parts
//! `face2face`, `edocument`, `general` and `extra`, their types and defaults, and the
//! `skip_input` preconditions. The body itself is read in `wire::create`.

use serde_json::{Map, Value};

use super::{Iin, Phone, Photo, TechnologyCode};

/// Validated session metadata. Absent parts are `None`; defaults of the docs are applied.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub face2face: Option<Face2Face>,
    pub edocument: Option<Edocument>,
    pub general: Option<General>,
    pub extra: Option<Extra>,
    /// Dotted paths of keys the docs do not define; they are ignored, as the vendor does.
    pub unknown_keys: Vec<String>,
    /// The metadata as sent, with `photo1` replaced by a short summary: what the admin API shows.
    pub display: Value,
    /// About how many bytes a session holds for this metadata: `display` written out, and the
    /// photo's bytes (`Session::held_bytes`).
    pub held_bytes: usize,
}

/// The most a session keeps of its metadata besides `face2face.photo1`, written out as JSON
/// \[mock\]. The vendor's own keys take a few hundred bytes at most; the rest is keys the vendor
/// does not define (integrators' own ids, which webhooks carry back), kept but not without end.
pub const MAX_METADATA_BYTES: usize = 64 * 1024;

impl Default for Metadata {
    /// No metadata: the flow runs by default \[doc\].
    fn default() -> Self {
        Self {
            face2face: None,
            edocument: None,
            general: None,
            extra: None,
            unknown_keys: Vec::new(),
            display: Value::Object(Map::new()),
            held_bytes: 0,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Face2Face {
    pub photo1: Option<Photo>,
}

#[derive(Debug, Clone, Default)]
pub struct Edocument {
    pub iin: Option<Prefill<Iin>>,
    pub phone: Option<Prefill<Phone>>,
    /// Defaults to false \[doc\].
    pub skip_input: bool,
}

/// A value the page shows in its input field; `changeable` defaults to true \[doc\].
#[derive(Debug, Clone)]
pub struct Prefill<T> {
    pub value: Option<T>,
    pub changeable: bool,
}

#[derive(Debug, Clone, Default)]
pub struct General {
    pub interchangeable_tech: Vec<TechnologyCode>,
}

#[derive(Debug, Clone, Default)]
pub struct Extra {
    pub iin: Option<Iin>,
}

impl Metadata {
    /// Whether this is no metadata at all, as `Metadata::default()` is.
    pub fn is_none(&self) -> bool {
        self.face2face.is_none()
            && self.edocument.is_none()
            && self.general.is_none()
            && self.extra.is_none()
            && self.unknown_keys.is_empty()
            && self.display.as_object().is_some_and(Map::is_empty)
    }

    /// The IIN values found in the metadata (`extra.iin`, `edocument.iin.value`), for matching.
    pub fn iins(&self) -> impl Iterator<Item = &Iin> {
        let extra = self.extra.as_ref().and_then(|e| e.iin.as_ref());
        let edoc = self.edocument.as_ref().and_then(|e| e.iin.as_ref()).and_then(|p| p.value.as_ref());
        extra.into_iter().chain(edoc)
    }

    pub fn photo1(&self) -> Option<&Photo> {
        self.face2face.as_ref().and_then(|f| f.photo1.as_ref())
    }

    pub fn interchangeable(&self) -> &[TechnologyCode] {
        self.general.as_ref().map_or(&[], |g| g.interchangeable_tech.as_slice())
    }
}

/// The `skip_input` preconditions \[doc\], each a message of its own when unmet.
pub(crate) const SKIP_INPUT_NEEDS_IIN_VALUE: &str = "skip_input is true, so iin.value must be given.";
pub(crate) const SKIP_INPUT_NEEDS_IIN_FIXED: &str = "skip_input is true, so iin.changeable must be false.";
pub(crate) const SKIP_INPUT_NEEDS_PHONE_VALUE: &str = "skip_input is true, so phone.value must be given.";
pub(crate) const SKIP_INPUT_NEEDS_PHONE_FIXED: &str = "skip_input is true, so phone.changeable must be false.";

/// The `skip_input` preconditions \[doc\] that `iin` and `phone` leave unmet, each given as
/// (its value given, its `changeable` false): `skip_input: true` is accepted only when both values
/// are given and neither may be changed.
pub(crate) fn skip_input_unmet(iin: (bool, bool), phone: (bool, bool)) -> Vec<&'static str> {
    [
        (iin.0, SKIP_INPUT_NEEDS_IIN_VALUE),
        (iin.1, SKIP_INPUT_NEEDS_IIN_FIXED),
        (phone.0, SKIP_INPUT_NEEDS_PHONE_VALUE),
        (phone.1, SKIP_INPUT_NEEDS_PHONE_FIXED),
    ]
    .into_iter()
    .filter_map(|(met, message)| (!met).then_some(message))
    .collect()
}
