//! The locales of the vendor's end-user page: `ru` (the default) and `en` \[doc\], `kz` \[seen\].
//! The words of each are the page's business (`page::i18n`).

/// A locale of the end-user page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    Ru,
    En,
    Kz,
}

impl Locale {
    /// The `locale` query parameter; anything else (or nothing) is Russian, the vendor's default.
    pub fn parse(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            Some("en") => Self::En,
            Some("kz") => Self::Kz,
            _ => Self::Ru,
        }
    }

    /// Whether `value` is one of the locales the page knows.
    pub fn is_known(value: &str) -> bool {
        matches!(value, "ru" | "en" | "kz")
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
            Self::Kz => "kz",
        }
    }
}
