//! What a request departs from the vendor's docs by (a `Lint`), and the sections of the docs each
//! one cites. No HTTP here: the front writes lints into `X-Mock-Lint` headers.

use serde::Serialize;

/// One way a request departs from the vendor's docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Lint {
    /// A stable identifier (`content-type`, `trailing-slash`, ...).
    pub code: &'static str,
    pub message: String,
    /// The section of the vendor's Flow Remote page it refers to.
    pub doc: &'static str,
}

/// At most this many bytes of a warning's message are kept: a value it quotes from a request (a
/// metadata key, a redirect, a flow's name) can make neither a header line no client reads nor a
/// journal entry of megabytes.
pub(crate) const MAX_LINT_MESSAGE: usize = 1000;

impl Lint {
    pub fn new(code: &'static str, doc: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: cut(message.into()), doc }
    }

    /// `code: message (vendor docs: section)`, as the journal and the header show it.
    pub fn text(&self) -> String {
        [self.code, ": ", &self.message, " (vendor docs: ", self.doc, ")"].concat()
    }
}

/// Sections of the vendor's pages that lints refer to.
pub(crate) mod doc {
    pub(crate) const SESSION_CREATION: &str = "2. Session Creation";
    pub(crate) const METADATA: &str = "3. Session Metadata";
    pub(crate) const FACE2FACE: &str = "3.1. Metadata for Face2Face";
    pub(crate) const EDOCUMENT: &str = "3.2. Metadata for E-Document";
    pub(crate) const REDIRECTION: &str = "4. End user redirection";
    pub(crate) const RESULT: &str = "5. Getting the result";
    pub(crate) const VIDEO: &str = "6. Getting liveness video";
    pub(crate) const REPORT: &str = "7. Getting PDF Report";
    /// Not on the Flow Remote page: the vendor's E-Document "generate files" page.
    pub(crate) const GENERATE_FILES: &str = "E-Document: generating files";
    /// Not on the Flow Remote page: the vendor's Backend API pages.
    pub(crate) const BACKEND: &str = "Backend API";
    /// Not on the Flow Remote page: the vendor's Flow Widget page.
    pub(crate) const WIDGET: &str = "Flow Widget";
}

/// `message`, or its first `MAX_LINT_MESSAGE` bytes and how long it was.
fn cut(mut message: String) -> String {
    if message.len() <= MAX_LINT_MESSAGE {
        return message;
    }
    let whole = message.len();
    let mut end = MAX_LINT_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.truncate(end);
    format!("{message}... (cut: {whole} bytes in all)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_is_cut_at_a_character_boundary_saying_how_long_it_was() {
        let short = Lint::new("unknown-key", "3. Session Metadata", "unknown key metadata.a is ignored");
        assert_eq!(short.message, "unknown key metadata.a is ignored");
        // "é" is two bytes: the cut falls inside one at byte 1,000 and moves back before it.
        let long = format!("k{}", "é".repeat(2000));
        let lint = Lint::new("unknown-key", "3. Session Metadata", long.clone());
        assert!(lint.message.len() <= MAX_LINT_MESSAGE + 40, "{}", lint.message.len());
        assert!(lint.message.starts_with(&long[..999]), "the beginning is kept");
        assert!(lint.message.ends_with("... (cut: 4001 bytes in all)"), "{}", &lint.message[990..]);
    }

    #[test]
    fn a_lint_reads_as_code_message_and_section() {
        let lint = Lint::new("polling-too-fast", doc::RESULT, "polled again after 3 ms");
        assert_eq!(lint.text(), "polling-too-fast: polled again after 3 ms (vendor docs: 5. Getting the result)");
    }
}
