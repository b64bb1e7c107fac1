//! Field errors with the path of the offending field, as a list, and DRF's own wordings for
//! them. The HTTP layer nests them like the input
//! (`{"metadata": {"edocument": {"iin": {"value": ["..."]}}}}`).

/// One message about one field, addressed by its path from the request body's root.
/// List indices are written as strings (`"0"`), as Django REST Framework does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: Vec<String>,
    pub message: String,
}

/// Every field error found in one request: parsing goes on after the first one so that a
/// client sees all of its mistakes at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, path: &[&str], message: impl Into<String>) {
        self.0.push(FieldError { path: path.iter().map(|s| (*s).to_owned()).collect(), message: message.into() });
    }

    pub fn extend(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }

    /// `Ok(value)` when nothing was pushed, the errors otherwise.
    /// `push`, for a field whose value is then missing: `None` of the value's type.
    pub fn push_none<T>(&mut self, path: &[&str], message: impl Into<String>) -> Option<T> {
        self.push(path, message);
        None
    }

    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() { Ok(value) } else { Err(self) }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}

/// DRF's own wordings, kept where DRF has one so that messages read like the vendor's.
pub(crate) mod drf {
    pub(crate) const REQUIRED: &str = "This field is required.";
    pub(crate) const NULL: &str = "This field may not be null.";
    pub(crate) const BLANK: &str = "This field may not be blank.";
    pub(crate) const NOT_A_STRING: &str = "Not a valid string.";
    pub(crate) const NOT_A_BOOLEAN: &str = "Must be a valid boolean.";

    pub(crate) fn not_a_dict(got: &serde_json::Value) -> String {
        format!("Invalid data. Expected a dictionary, but got {}.", python_type(got))
    }

    pub(crate) fn not_a_list(got: &serde_json::Value) -> String {
        format!("Expected a list of items but got type \"{}\".", python_type(got))
    }

    pub(crate) fn not_a_choice(got: &str) -> String {
        format!("\"{got}\" is not a valid choice.")
    }

    /// The Python type name DRF puts in its messages for a JSON value.
    pub(crate) fn python_type(v: &serde_json::Value) -> &'static str {
        use serde_json::Value;
        match v {
            Value::Null => "NoneType",
            Value::Bool(_) => "bool",
            Value::Number(n) if n.is_f64() => "float",
            Value::Number(_) => "int",
            Value::String(_) => "str",
            Value::Array(_) => "list",
            Value::Object(_) => "dict",
        }
    }
}
