//! A field of a request body as Django REST Framework reads one: absent, `null`, a value of the
//! field's type, or a value of another. A body's struct of such fields always deserializes, so
//! that every mistake in it can be told at once, each against its own field, as DRF does.

use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde_json::Value;

use crate::domain::{FieldErrors, drf};

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Field<T> {
    #[default]
    Absent,
    Null,
    Given(T),
    /// A value of another type, as it came.
    Wrong(Value),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Self::Null,
            value => match T::deserialize(&value) {
                Ok(given) => Self::Given(given),
                Err(_) => Self::Wrong(value),
            },
        })
    }
}

impl<T> Field<T> {
    /// The value, if one of the field's type was given.
    pub(crate) fn given(&self) -> Option<&T> {
        match self {
            Self::Given(value) => Some(value),
            _ => None,
        }
    }
}

impl Field<String> {
    /// A string that is not blank, else the error of a required one at `path`: missing, null,
    /// blank or not a string.
    pub(crate) fn required_text(&self, path: &[&str], errors: &mut FieldErrors) -> Option<String> {
        if *self == Self::Absent {
            errors.push(path, drf::REQUIRED);
            return None;
        }
        self.text(path, errors).map(str::to_owned)
    }

    /// As `required_text`, but a number is taken as its text, as DRF's `CharField` takes it.
    pub(crate) fn char_field(&self, path: &[&str], errors: &mut FieldErrors) -> Option<String> {
        match self {
            Self::Wrong(Value::Number(n)) => Some(n.to_string()),
            other => other.required_text(path, errors),
        }
    }

    /// A string that may be absent, else not blank, at `path`.
    pub(crate) fn text(&self, path: &[&str], errors: &mut FieldErrors) -> Option<&str> {
        match self {
            Self::Absent => {}
            Self::Given(text) if !text.trim().is_empty() => return Some(text),
            Self::Given(_) => errors.push(path, drf::BLANK),
            Self::Null => errors.push(path, drf::NULL),
            Self::Wrong(_) => errors.push(path, drf::NOT_A_STRING),
        }
        None
    }
}

impl Field<bool> {
    /// A boolean that may be absent, else a boolean, at `path`.
    pub(crate) fn optional_bool(&self, path: &[&str], errors: &mut FieldErrors) -> Option<bool> {
        match self {
            Self::Absent => None,
            Self::Given(b) => Some(*b),
            Self::Null => {
                errors.push(path, drf::NULL);
                None
            }
            Self::Wrong(_) => {
                errors.push(path, drf::NOT_A_BOOLEAN);
                None
            }
        }
    }
}

/// A nested object's field (`Field` of a struct, which takes any object): null, or not an object.
pub(crate) fn object<T>(field: &Field<T>, path: &[&str], errors: &mut FieldErrors) -> Option<()> {
    match field {
        Field::Absent => None,
        Field::Given(_) => Some(()),
        Field::Null => {
            errors.push(path, drf::NULL);
            None
        }
        Field::Wrong(value) => {
            // DRF reports a nested serializer given a non-dict under `non_field_errors`.
            let mut nested = path.to_vec();
            nested.push("non_field_errors");
            errors.push(&nested, drf::not_a_dict(value));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_field_is_absent_null_given_or_wrong() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default)]
            a: Field<String>,
        }
        let read = |v: Value| serde_json::from_value::<Body>(v).unwrap().a;
        assert_eq!(read(json!({})), Field::Absent);
        assert_eq!(read(json!({"a": null})), Field::Null);
        assert_eq!(read(json!({"a": "x"})), Field::Given("x".into()));
        assert_eq!(read(json!({"a": [1]})), Field::Wrong(json!([1])));
        let mut errors = FieldErrors::new();
        assert_eq!(Field::Wrong(json!(12)).char_field(&["a"], &mut errors), Some("12".into()), "as CharField");
        for field in [Field::Absent, Field::Null, Field::Given(" ".into()), Field::Wrong(json!(true))] {
            assert_eq!(field.char_field(&["a"], &mut errors), None);
        }
        assert_eq!(Field::Absent.text(&["a"], &mut errors), None, "an optional one may be absent");
        let messages: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
        assert_eq!(messages, [drf::REQUIRED, drf::NULL, drf::BLANK, drf::NOT_A_STRING]);
    }
}
