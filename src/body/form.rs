//! The one reader of forms: a request body as `multipart/form-data` (the Backend API's uploads,
//! the end-user page's) or, where a front takes it, URL-encoded (the page's forms without
//! files): text fields, and files by field with their names. It knows the body's limits, not the
//! vendor's shapes: a body it cannot read is a `FormError`, which each front answers its own way.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;

/// A form as read.
#[derive(Debug, Default)]
pub(crate) struct Form {
    /// Text fields; a repeated one keeps its last value.
    pub fields: HashMap<String, String>,
    /// Files by field, in the order they came (several per field allowed), with their names.
    pub files: HashMap<String, Vec<(String, Bytes)>>,
}

/// Why a body could not be read as a form.
#[derive(Debug)]
pub(crate) enum FormError {
    /// Not `multipart/form-data` (nor URL-encoded, where that is taken): the `Content-Type` sent.
    NotAForm(String),
    /// Over `--max-body`, or past `--body-timeout`.
    Exceeded(super::limits::Exceeded),
    /// Not a form that parses: why.
    Broken(String),
}

/// Which forms a front takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accepts {
    Multipart,
    /// Multipart, or URL-encoded (any other body is read as URL-encoded, as browsers send it).
    MultipartOrUrlEncoded,
}

impl Form {
    /// Reads `request`'s body as a form.
    pub(crate) async fn read(request: Request, accepts: Accepts) -> Result<Self, FormError> {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut form = Self::default();
        if !super::is_multipart(Some(content_type)) {
            if accepts == Accepts::Multipart {
                return Err(FormError::NotAForm(content_type.to_owned()));
            }
            let bytes = Bytes::from_request(request, &()).await.map_err(|e| refused(&e, e.body_text()))?;
            form.fields = url::form_urlencoded::parse(&bytes).into_owned().collect();
            return Ok(form);
        }
        // An empty body is an empty form, as Django reads it: no fields.
        if http_body::Body::is_end_stream(request.body()) {
            return Ok(form);
        }
        let mut multipart = Multipart::from_request(request, &()).await.map_err(|e| refused(&e, e.body_text()))?;
        while let Some(field) = multipart.next_field().await.map_err(|e| refused(&e, e.body_text()))? {
            let name = field.name().unwrap_or_default().to_owned();
            // A part is a file when its Content-Disposition names one, as Django reads it: in
            // `filename*=` (RFC 2231) and in bytes that are not UTF-8 too.
            let file_name = field.file_name().map(str::to_owned).or_else(|| {
                let disposition = field.headers().get(header::CONTENT_DISPOSITION)?.as_bytes();
                disposition.windows(8).any(|w| w.eq_ignore_ascii_case(b"filename")).then(|| "file".to_owned())
            });
            let bytes = field.bytes().await.map_err(|e| refused(&e, e.body_text()))?;
            match file_name {
                Some(file_name) => form.files.entry(name).or_default().push((file_name, bytes)),
                None => {
                    form.fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        }
        Ok(form)
    }

    /// The first file of field `name`, when it has bytes (a file input left empty still sends a
    /// part, with none).
    pub(crate) fn file(&self, name: &str) -> Option<&Bytes> {
        self.files.get(name).and_then(|files| files.first()).map(|(_, bytes)| bytes).filter(|b| !b.is_empty())
    }

    /// Text field `name`, or nothing.
    pub(crate) fn text(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

/// Why the framework could not read the body: too slow, too large, or broken.
fn refused(error: &(dyn std::error::Error + 'static), text: String) -> FormError {
    match super::limits::exceeded(error) {
        Some(exceeded) => FormError::Exceeded(exceeded),
        None => FormError::Broken(text),
    }
}
