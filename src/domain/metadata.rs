//! Session metadata (`metadata` in the create-session body) and every rule the vendor documents
//! for it: the parts `face2face`, `edocument`, `general` and `extra`, their types and defaults,
//! and the `skip_input` preconditions. Parsing reports every mistake at once, each with its path.

use serde_json::{Map, Value};

use super::{FieldErrors, Iin, Phone, Photo, TechnologyCode, drf};

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

    /// Parses the `metadata` value of a create-session request. `flow` is the technologies of
    /// the session's flow when it is known; `interchangeable_tech` must name some of them.
    pub fn parse(mut value: Value, flow: Option<&[TechnologyCode]>) -> Result<Self, FieldErrors> {
        let mut p = Parser { errors: FieldErrors::new(), unknown: Vec::new(), unknown_sizes: Vec::new() };
        let mut metadata = Metadata::default();
        if let Some(root) = p.object(&value, &["metadata"]) {
            p.unknown_keys(root, &["face2face", "edocument", "general", "extra"], "metadata");
            metadata.face2face = root.get("face2face").and_then(|v| p.face2face(v));
            metadata.edocument = root.get("edocument").and_then(|v| p.edocument(v));
            metadata.general = root.get("general").and_then(|v| p.general(v, flow));
            metadata.extra = root.get("extra").and_then(|v| p.extra(v));
        }
        let Parser { mut errors, unknown, mut unknown_sizes } = p;
        metadata.unknown_keys = unknown;
        let mut photo_bytes = 0;
        if let Some(photo) = metadata.face2face.as_ref().and_then(|f| f.photo1.as_ref()) {
            photo_bytes = photo.bytes().len();
            // Replace the (possibly megabytes of) base64 in place instead of cloning it.
            if let Some(slot) = value.pointer_mut("/face2face/photo1") {
                *slot = Value::String(photo.summary());
            }
        }
        let display_bytes = json_len(&value);
        if display_bytes > MAX_METADATA_BYTES {
            unknown_sizes.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
            let largest: Vec<String> =
                unknown_sizes.iter().take(3).map(|(key, bytes)| format!("{key} ({bytes} bytes)")).collect();
            let which =
                if largest.is_empty() { String::new() } else { format!(" The largest: {}.", largest.join(", ")) };
            errors.push(
                &["metadata"],
                format!(
                    "metadata takes {display_bytes} bytes besides face2face.photo1; the mock keeps at most {MAX_METADATA_BYTES} (keys the vendor does not define are kept for webhooks, but not without end).{which}"
                ),
            );
        }
        metadata.held_bytes = display_bytes + photo_bytes;
        metadata.display = value;
        errors.into_result(metadata)
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

struct Parser {
    errors: FieldErrors,
    unknown: Vec<String>,
    /// Each unknown key's value written out, in bytes, for the size limit's message.
    unknown_sizes: Vec<(String, usize)>,
}

/// How many bytes `value` takes written out as JSON, without writing it anywhere.
fn json_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail, and a `Value` always serializes.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// The `skip_input` preconditions \[doc\], each a message of its own when unmet.
const SKIP_INPUT_NEEDS_IIN_VALUE: &str = "skip_input is true, so iin.value must be given.";
const SKIP_INPUT_NEEDS_IIN_FIXED: &str = "skip_input is true, so iin.changeable must be false.";
const SKIP_INPUT_NEEDS_PHONE_VALUE: &str = "skip_input is true, so phone.value must be given.";
const SKIP_INPUT_NEEDS_PHONE_FIXED: &str = "skip_input is true, so phone.changeable must be false.";

impl Parser {
    fn face2face(&mut self, v: &Value) -> Option<Face2Face> {
        const PATH: [&str; 2] = ["metadata", "face2face"];
        let map = self.object(v, &PATH)?;
        self.unknown_keys(map, &["photo1"], "metadata.face2face");
        let photo1 = map.get("photo1").and_then(|v| {
            let path = ["metadata", "face2face", "photo1"];
            let text = self.string(v, &path)?;
            Photo::parse_base64(text).map_err(|e| self.errors.push(&path, e.to_string())).ok()
        });
        Some(Face2Face { photo1 })
    }

    fn edocument(&mut self, v: &Value) -> Option<Edocument> {
        let map = self.object(v, &["metadata", "edocument"])?;
        self.unknown_keys(map, &["iin", "phone", "skip_input"], "metadata.edocument");
        let (iin, iin_given) = self.prefill(map.get("iin"), "iin", |s| Iin::parse(s).map_err(|e| e.to_string()));
        let (phone, phone_given) =
            self.prefill(map.get("phone"), "phone", |s| Phone::parse(s).map_err(|e| e.to_string()));
        let skip_input = map
            .get("skip_input")
            .and_then(|v| self.boolean(v, &["metadata", "edocument", "skip_input"]))
            .unwrap_or(false);
        if skip_input {
            let path = ["metadata", "edocument", "skip_input"];
            for (met, message) in [
                (iin_given.value, SKIP_INPUT_NEEDS_IIN_VALUE),
                (iin_given.fixed, SKIP_INPUT_NEEDS_IIN_FIXED),
                (phone_given.value, SKIP_INPUT_NEEDS_PHONE_VALUE),
                (phone_given.fixed, SKIP_INPUT_NEEDS_PHONE_FIXED),
            ] {
                if !met {
                    self.errors.push(&path, message);
                }
            }
        }
        Some(Edocument { iin, phone, skip_input })
    }

    /// Parses `{value, changeable}` and says which `skip_input` preconditions it meets, whether or
    /// not the value itself is valid (an invalid value has its own error).
    fn prefill<T>(
        &mut self,
        v: Option<&Value>,
        field: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> (Option<Prefill<T>>, Given) {
        let Some(v) = v else { return (None, Given::default()) };
        let Some(map) = self.object(v, &["metadata", "edocument", field]) else {
            return (None, Given::default());
        };
        self.unknown_keys(map, &["value", "changeable"], &format!("metadata.edocument.{field}"));
        let value_path = ["metadata", "edocument", field, "value"];
        let raw = map.get("value").and_then(|v| self.string(v, &value_path));
        let value = raw.and_then(|s| parse(s).map_err(|e| self.errors.push(&value_path, e)).ok());
        let changeable =
            map.get("changeable").and_then(|v| self.boolean(v, &["metadata", "edocument", field, "changeable"]));
        let given = Given { value: raw.is_some(), fixed: changeable == Some(false) };
        (Some(Prefill { value, changeable: changeable.unwrap_or(true) }), given)
    }

    fn general(&mut self, v: &Value, flow: Option<&[TechnologyCode]>) -> Option<General> {
        const PATH: [&str; 3] = ["metadata", "general", "interchangeable_tech"];
        let map = self.object(v, &["metadata", "general"])?;
        self.unknown_keys(map, &["interchangeable_tech"], "metadata.general");
        let mut codes = Vec::new();
        match map.get("interchangeable_tech") {
            None => {}
            Some(Value::Null) => self.errors.push(&PATH, drf::NULL),
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let index = i.to_string();
                    let path = ["metadata", "general", "interchangeable_tech", index.as_str()];
                    let text = match item {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    match text.parse::<TechnologyCode>() {
                        Err(()) => self.errors.push(&path, drf::not_a_choice(&text)),
                        Ok(code) if flow.is_some_and(|f| !f.contains(&code)) => self.errors.push(
                            &path,
                            format!(
                                "\"{code}\" is not a technology of this flow ({}).",
                                TechnologyCode::list(flow.unwrap_or_default())
                            ),
                        ),
                        Ok(code) if !codes.contains(&code) => codes.push(code),
                        Ok(_) => {}
                    }
                }
            }
            Some(other) => self.errors.push(&PATH, drf::not_a_list(other)),
        }
        Some(General { interchangeable_tech: codes })
    }

    fn extra(&mut self, v: &Value) -> Option<Extra> {
        let map = self.object(v, &["metadata", "extra"])?;
        self.unknown_keys(map, &["iin"], "metadata.extra");
        let path = ["metadata", "extra", "iin"];
        let iin = map
            .get("iin")
            .and_then(|v| self.string(v, &path))
            .and_then(|s| Iin::parse(s).map_err(|e| self.errors.push(&path, e.to_string())).ok());
        Some(Extra { iin })
    }

    fn object<'v>(&mut self, v: &'v Value, path: &[&str]) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(map) => Some(map),
            Value::Null => {
                self.errors.push(path, drf::NULL);
                None
            }
            other => {
                // DRF reports a nested serializer given a non-dict under `non_field_errors`.
                let mut nested = path.to_vec();
                nested.push("non_field_errors");
                self.errors.push(&nested, drf::not_a_dict(other));
                None
            }
        }
    }

    fn string<'v>(&mut self, v: &'v Value, path: &[&str]) -> Option<&'v str> {
        match v {
            Value::String(s) if s.trim().is_empty() => {
                self.errors.push(path, drf::BLANK);
                None
            }
            Value::String(s) => Some(s),
            Value::Null => {
                self.errors.push(path, drf::NULL);
                None
            }
            _ => {
                self.errors.push(path, drf::NOT_A_STRING);
                None
            }
        }
    }

    fn boolean(&mut self, v: &Value, path: &[&str]) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::Null => {
                self.errors.push(path, drf::NULL);
                None
            }
            _ => {
                self.errors.push(path, drf::NOT_A_BOOLEAN);
                None
            }
        }
    }

    fn unknown_keys(&mut self, map: &Map<String, Value>, known: &[&str], at: &str) {
        for (key, value) in map.iter().filter(|(k, _)| !known.contains(&k.as_str())) {
            let path = format!("{at}.{key}");
            self.unknown_sizes.push((path.clone(), key.len() + json_len(value)));
            self.unknown.push(path);
        }
    }
}

/// Which `skip_input` preconditions one prefill part meets.
#[derive(Default)]
struct Given {
    value: bool,
    fixed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FLOW: &[TechnologyCode] = &[TechnologyCode::Ldhp, TechnologyCode::Ed, TechnologyCode::F2f];

    fn messages(value: Value) -> Vec<(String, String)> {
        Metadata::parse(value, Some(FLOW))
            .expect_err("should be refused")
            .iter()
            .map(|e| (e.path.join("."), e.message.clone()))
            .collect()
    }

    #[test]
    fn defaults_apply_when_parts_are_absent() {
        let m = Metadata::parse(json!({"edocument": {"iin": {"value": "900101300017"}}}), Some(FLOW)).unwrap();
        let edoc = m.edocument.unwrap();
        assert!(!edoc.skip_input, "skip_input defaults to false");
        assert!(edoc.iin.unwrap().changeable, "changeable defaults to true");
        assert!(edoc.phone.is_none());
    }

    #[test]
    fn unknown_keys_are_collected_not_refused() {
        let m = Metadata::parse(json!({"foo": 1, "extra": {"iin": "900101300017", "bar": true}}), Some(FLOW)).unwrap();
        assert_eq!(m.unknown_keys, vec!["metadata.foo", "metadata.extra.bar"]);
    }

    #[test]
    fn metadata_besides_the_photo_is_kept_up_to_64_kib_and_refused_past_it() {
        let near = "x".repeat(MAX_METADATA_BYTES - 100);
        let kept = Metadata::parse(json!({"extra": {"iin": "900101300017"}, "my_id": near}), Some(FLOW)).unwrap();
        assert!(kept.held_bytes > MAX_METADATA_BYTES - 100 && kept.held_bytes <= MAX_METADATA_BYTES);
        let got = messages(json!({"a": "x".repeat(40_000), "b": {"c": "y".repeat(30_000)}, "d": 1}));
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "metadata");
        assert!(
            got[0].1.starts_with("metadata takes 70")
                && got[0].1.contains("at most 65536")
                && got[0]
                    .1
                    .contains("The largest: metadata.a (40003 bytes), metadata.b (30009 bytes), metadata.d (2 bytes)."),
            "{}",
            got[0].1
        );
        let png = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            [b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0; 100_000]].concat(),
        );
        let photo = Metadata::parse(json!({"face2face": {"photo1": png}}), Some(FLOW)).unwrap();
        assert!(photo.held_bytes > 100_000, "the photo is counted in what is held, not in the limit");
    }

    #[test]
    fn skip_input_lists_every_unmet_precondition() {
        let got = messages(json!({"edocument": {"skip_input": true}}));
        let path = "metadata.edocument.skip_input".to_owned();
        assert_eq!(
            got,
            vec![
                (path.clone(), SKIP_INPUT_NEEDS_IIN_VALUE.to_owned()),
                (path.clone(), SKIP_INPUT_NEEDS_IIN_FIXED.to_owned()),
                (path.clone(), SKIP_INPUT_NEEDS_PHONE_VALUE.to_owned()),
                (path, SKIP_INPUT_NEEDS_PHONE_FIXED.to_owned()),
            ]
        );
    }

    #[test]
    fn interchangeable_tech_must_name_technologies_of_the_flow() {
        let got = messages(json!({"general": {"interchangeable_tech": ["ED", "DR", "XX", 5]}}));
        assert_eq!(
            got,
            vec![
                (
                    "metadata.general.interchangeable_tech.1".to_owned(),
                    "\"DR\" is not a technology of this flow (LDHP, ED, F2F).".to_owned()
                ),
                ("metadata.general.interchangeable_tech.2".to_owned(), "\"XX\" is not a valid choice.".to_owned()),
                ("metadata.general.interchangeable_tech.3".to_owned(), "\"5\" is not a valid choice.".to_owned()),
            ]
        );
    }

    #[test]
    fn display_replaces_the_photo_with_a_summary() {
        let png = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"\x89PNG\r\n\x1a\nxxxx");
        let m = Metadata::parse(json!({"face2face": {"photo1": png}}), Some(FLOW)).unwrap();
        assert_eq!(m.display, json!({"face2face": {"photo1": "<png image, 12 bytes>"}}));
    }
}
