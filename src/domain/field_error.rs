//! Field errors with the path of the offending field, as a list. The HTTP layer nests them
//! like the input (`{"metadata": {"edocument": {"iin": {"value": ["..."]}}}}`).

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
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() { Ok(value) } else { Err(self) }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}
