//! Request bodies as the fronts read them: their media type (compared as RFC 9110 says), their
//! limits (`limits.rs`, `--max-body` and `--body-timeout`) and forms (`form.rs`, the one reader of multipart
//! and URL-encoded bodies). Knows bodies, not the vendor's shapes.

pub(crate) mod form;
pub(crate) mod limits;

/// Whether a `Content-Type` is JSON's media type, compared as RFC 9110 says (and Django and DRF
/// do): case-insensitive, parameters aside.
pub(crate) fn is_json(content_type: Option<&str>) -> bool {
    media_type(content_type).eq_ignore_ascii_case("application/json")
}

/// Whether a `Content-Type` is `multipart/form-data`, compared as RFC 9110 says.
pub(crate) fn is_multipart(content_type: Option<&str>) -> bool {
    media_type(content_type).eq_ignore_ascii_case("multipart/form-data")
}

/// The media type of a `Content-Type` value, without its parameters or spaces.
fn media_type(content_type: Option<&str>) -> &str {
    content_type.unwrap_or_default().split(';').next().unwrap_or_default().trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_compare_as_rfc_9110_says() {
        for json in
            ["application/json", "Application/json", "APPLICATION/JSON; charset=UTF-8", " application/json ;x=1"]
        {
            assert!(is_json(Some(json)), "{json}");
        }
        for other in ["", "text/plain", "application/jsonx", "application/json-patch+json"] {
            assert!(!is_json(Some(other)), "{other}");
        }
        assert!(!is_json(None));
        for multipart in
            ["multipart/form-data; boundary=x", "Multipart/Form-Data; boundary=x", "MULTIPART/FORM-DATA; BOUNDARY=x"]
        {
            assert!(is_multipart(Some(multipart)), "{multipart}");
        }
        assert!(!is_multipart(Some("multipart/mixed")));
    }
}
