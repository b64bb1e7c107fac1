//! The create-session body \[doc\] as it comes — `api_key` and `metadata` with its parts
//! `face2face`, `edocument`, `general` and `extra` — in serde structs of DRF-like fields (the
//! OpenAPI document describes the same structs), and how they become a `CreateRequest` of the
//! vendor's types: every mistake told at once with its path, the `skip_input` preconditions
//! (`domain::metadata`) checked, unknown keys kept for the lint. The state file reads its
//! sessions' metadata back the same way.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::field::{Field, object};
use crate::domain::metadata::{Edocument, Extra, Face2Face, General, MAX_METADATA_BYTES, Prefill, skip_input_unmet};
use crate::domain::{FieldErrors, Flow, Iin, Metadata, Phone, Photo, TechnologyCode, drf};

/// The create-session body \[doc\].
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateSessionBody {
    /// The flow's API KEY (47 or more characters).
    #[serde(default)]
    #[schema(value_type = String)]
    pub api_key: Field<String>,
    /// Session metadata \[doc\]: without it the flow runs by default.
    #[serde(default)]
    #[schema(value_type = Option<MetadataBody>)]
    pub metadata: Field<Value>,
    /// Keys the vendor does not define: ignored, with a lint warning.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: Map<String, Value>,
}

/// Session metadata \[doc\]; unknown keys are ignored with a lint warning.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct MetadataBody {
    #[serde(default)]
    #[schema(value_type = Option<Face2FaceBody>)]
    face2face: Field<Face2FaceBody>,
    #[serde(default)]
    #[schema(value_type = Option<EdocumentBody>)]
    edocument: Field<EdocumentBody>,
    #[serde(default)]
    #[schema(value_type = Option<GeneralBody>)]
    general: Field<GeneralBody>,
    #[serde(default)]
    #[schema(value_type = Option<ExtraBody>)]
    extra: Field<ExtraBody>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct Face2FaceBody {
    /// Base64 of a JPEG or PNG photo.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    photo1: Field<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct EdocumentBody {
    #[serde(default)]
    #[schema(value_type = Option<PrefillBody>)]
    iin: Field<PrefillBody>,
    #[serde(default)]
    #[schema(value_type = Option<PrefillBody>)]
    phone: Field<PrefillBody>,
    /// True only with both values given and both not changeable.
    #[serde(default)]
    #[schema(value_type = Option<bool>, default = false)]
    skip_input: Field<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct PrefillBody {
    /// An IIN (12 digits, valid check digit and birth date) or a phone (77 and 9 digits).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    value: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<bool>, default = true)]
    changeable: Field<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct GeneralBody {
    #[serde(default)]
    #[schema(value_type = Option<Vec<super::Code>>)]
    interchangeable_tech: Field<Vec<Value>>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct ExtraBody {
    /// The client's IIN; reports need it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    iin: Field<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Map<String, Value>,
}

/// Why a create-session body makes no session.
#[derive(Debug)]
pub enum CreateError {
    /// Field errors, nested like the input.
    Invalid(FieldErrors),
    /// A well-formed key that no flow has.
    UnknownApiKey,
}

/// A create-session request that passed every rule; `F` is how the flow is held (the server's
/// are shared, `Arc<Flow>`).
#[derive(Debug)]
pub struct CreateRequest<F = Flow> {
    pub flow: F,
    pub metadata: Metadata,
}

/// Reads a create-session body, a JSON value. `find_flow` looks a key up among the flows. Errors in
/// `api_key` and in `metadata` are reported together; an unknown key is reported alone, before
/// the metadata is looked at (the vendor authenticates before it validates).
pub fn parse_create_request<F: std::borrow::Borrow<Flow>>(
    body: Value,
    find_flow: impl FnOnce(&str) -> Option<F>,
) -> Result<CreateRequest<F>, CreateError> {
    let mut errors = FieldErrors::new();
    if !body.is_object() {
        errors.push(&["non_field_errors"], drf::not_a_dict(&body));
        return Err(CreateError::Invalid(errors));
    }
    // An object always reads: every field takes whatever came.
    let body = CreateSessionBody::deserialize(body).unwrap_or_default();
    let flow = match body.api_key.char_field(&["api_key"], &mut errors) {
        Some(key) => Some(find_flow(&key).ok_or(CreateError::UnknownApiKey)?),
        None => None,
    };
    let technologies = flow.as_ref().map(|f| f.borrow().technologies.as_slice());
    let metadata = match body.metadata {
        Field::Absent => Some(Metadata::default()),
        Field::Null => parse_metadata(Value::Null, technologies).map_err(|e| errors.extend(e)).ok(),
        Field::Given(value) | Field::Wrong(value) => {
            parse_metadata(value, technologies).map_err(|e| errors.extend(e)).ok()
        }
    };
    let (Some(flow), Some(mut metadata)) = (flow, metadata) else {
        return Err(CreateError::Invalid(errors));
    };
    metadata.unknown_keys.extend(body.unknown.into_iter().map(|(key, _)| key));
    Ok(CreateRequest { flow, metadata })
}

/// Reads the `metadata` of a create-session body. `flow` is the technologies of the session's
/// flow when it is known; `interchangeable_tech` must name some of them. Every mistake is told
/// at once, each with its path.
pub(crate) fn parse_metadata(mut value: Value, flow: Option<&[TechnologyCode]>) -> Result<Metadata, FieldErrors> {
    let mut p = Parser::default();
    let mut metadata = Metadata::default();
    let root = Field::<MetadataBody>::deserialize(&value).unwrap_or_default();
    if object(&root, &["metadata"], &mut p.errors).is_some()
        && let Field::Given(root) = &root
    {
        p.unknown_keys(&root.unknown, "metadata");
        metadata.face2face = p.face2face(&root.face2face);
        metadata.edocument = p.edocument(&root.edocument);
        metadata.general = p.general(&root.general, flow);
        metadata.extra = p.extra(&root.extra);
    }
    let Parser { mut errors, unknown, mut unknown_sizes } = p;
    metadata.unknown_keys = unknown;
    let mut photo_bytes = 0;
    if let Some(photo) = metadata.photo1() {
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
        let which = if largest.is_empty() { String::new() } else { format!(" The largest: {}.", largest.join(", ")) };
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

/// The mistakes and unknown keys found so far.
#[derive(Default)]
struct Parser {
    errors: FieldErrors,
    unknown: Vec<String>,
    /// Each unknown key's value written out, in bytes, for the size limit's message.
    unknown_sizes: Vec<(String, usize)>,
}

impl Parser {
    fn unknown_keys(&mut self, unknown: &Map<String, Value>, at: &str) {
        for (key, value) in unknown {
            let path = format!("{at}.{key}");
            self.unknown_sizes.push((path.clone(), key.len() + json_len(value)));
            self.unknown.push(path);
        }
    }

    fn face2face(&mut self, field: &Field<Face2FaceBody>) -> Option<Face2Face> {
        object(field, &["metadata", "face2face"], &mut self.errors)?;
        let body = field.given()?;
        self.unknown_keys(&body.unknown, "metadata.face2face");
        let path = ["metadata", "face2face", "photo1"];
        let photo1 = body
            .photo1
            .text(&path, &mut self.errors)
            .and_then(|text| Photo::parse_base64(text).map_err(|e| self.errors.push(&path, e.to_string())).ok());
        Some(Face2Face { photo1 })
    }

    fn edocument(&mut self, field: &Field<EdocumentBody>) -> Option<Edocument> {
        object(field, &["metadata", "edocument"], &mut self.errors)?;
        let body = field.given()?;
        self.unknown_keys(&body.unknown, "metadata.edocument");
        let iin = self.prefill(&body.iin, "iin", |s| Iin::parse(s).map_err(|e| e.to_string()));
        let phone = self.prefill(&body.phone, "phone", |s| Phone::parse(s).map_err(|e| e.to_string()));
        let path = ["metadata", "edocument", "skip_input"];
        let skip_input = body.skip_input.optional_bool(&path, &mut self.errors).unwrap_or(false);
        if skip_input {
            for message in skip_input_unmet(iin.1, phone.1) {
                self.errors.push(&path, message);
            }
        }
        Some(Edocument { iin: iin.0, phone: phone.0, skip_input })
    }

    /// `{value, changeable}`, and which `skip_input` preconditions it meets (its value given,
    /// not changeable), whether or not the value itself is valid (an invalid one has its own
    /// error).
    fn prefill<T>(
        &mut self,
        field: &Field<PrefillBody>,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> (Option<Prefill<T>>, (bool, bool)) {
        if object(field, &["metadata", "edocument", name], &mut self.errors).is_none() {
            return (None, (false, false));
        }
        let Some(body) = field.given() else { return (None, (false, false)) };
        self.unknown_keys(&body.unknown, &format!("metadata.edocument.{name}"));
        let value_path = ["metadata", "edocument", name, "value"];
        let raw = body.value.text(&value_path, &mut self.errors);
        let value = raw.and_then(|s| parse(s).map_err(|e| self.errors.push(&value_path, e)).ok());
        let changeable =
            body.changeable.optional_bool(&["metadata", "edocument", name, "changeable"], &mut self.errors);
        let met = (raw.is_some(), changeable == Some(false));
        (Some(Prefill { value, changeable: changeable.unwrap_or(true) }), met)
    }

    fn general(&mut self, field: &Field<GeneralBody>, flow: Option<&[TechnologyCode]>) -> Option<General> {
        const PATH: [&str; 3] = ["metadata", "general", "interchangeable_tech"];
        object(field, &["metadata", "general"], &mut self.errors)?;
        let body = field.given()?;
        self.unknown_keys(&body.unknown, "metadata.general");
        let mut codes = Vec::new();
        match &body.interchangeable_tech {
            Field::Absent => {}
            Field::Null => self.errors.push(&PATH, drf::NULL),
            Field::Given(items) => {
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
            Field::Wrong(other) => self.errors.push(&PATH, drf::not_a_list(other)),
        }
        Some(General { interchangeable_tech: codes })
    }

    fn extra(&mut self, field: &Field<ExtraBody>) -> Option<Extra> {
        object(field, &["metadata", "extra"], &mut self.errors)?;
        let body = field.given()?;
        self.unknown_keys(&body.unknown, "metadata.extra");
        let path = ["metadata", "extra", "iin"];
        let iin = body
            .iin
            .text(&path, &mut self.errors)
            .and_then(|s| Iin::parse(s).map_err(|e| self.errors.push(&path, e.to_string())).ok());
        Some(Extra { iin })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::metadata::{
        SKIP_INPUT_NEEDS_IIN_FIXED, SKIP_INPUT_NEEDS_IIN_VALUE, SKIP_INPUT_NEEDS_PHONE_FIXED,
        SKIP_INPUT_NEEDS_PHONE_VALUE,
    };
    use serde_json::json;

    const FLOW: &[TechnologyCode] = &[TechnologyCode::Ldhp, TechnologyCode::Ed, TechnologyCode::F2f];

    fn messages(value: Value) -> Vec<(String, String)> {
        parse_metadata(value, Some(FLOW))
            .expect_err("should be refused")
            .iter()
            .map(|e| (e.path.join("."), e.message.clone()))
            .collect()
    }

    #[test]
    fn defaults_apply_when_parts_are_absent() {
        let m = parse_metadata(json!({"edocument": {"iin": {"value": "900101300017"}}}), Some(FLOW)).unwrap();
        let edoc = m.edocument.unwrap();
        assert!(!edoc.skip_input, "skip_input defaults to false");
        assert!(edoc.iin.unwrap().changeable, "changeable defaults to true");
        assert!(edoc.phone.is_none());
    }

    #[test]
    fn unknown_keys_are_collected_not_refused() {
        let m = parse_metadata(json!({"foo": 1, "extra": {"iin": "900101300017", "bar": true}}), Some(FLOW)).unwrap();
        assert_eq!(m.unknown_keys, vec!["metadata.foo", "metadata.extra.bar"]);
    }

    #[test]
    fn metadata_besides_the_photo_is_kept_up_to_64_kib_and_refused_past_it() {
        let near = "x".repeat(MAX_METADATA_BYTES - 100);
        let kept = parse_metadata(json!({"extra": {"iin": "900101300017"}, "my_id": near}), Some(FLOW)).unwrap();
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
        // A JPEG with 100 KB after its image: the header is what is read.
        let jpeg = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            [include_bytes!("../../fixtures/photos/face.jpg").as_slice(), &vec![0; 100_000]].concat(),
        );
        let photo = parse_metadata(json!({"face2face": {"photo1": jpeg}}), Some(FLOW)).unwrap();
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
        let png = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            include_bytes!("../../fixtures/photos/face.png"),
        );
        let m = parse_metadata(json!({"face2face": {"photo1": png}}), Some(FLOW)).unwrap();
        assert_eq!(m.display, json!({"face2face": {"photo1": "<png image, 1772 bytes>"}}));
    }
}
