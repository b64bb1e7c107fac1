//! The subject's phone number for E-Document: `77` followed by 9 digits \[doc\].

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Phone must be 11 digits in the format 77XXXXXXXXX (no +, spaces or dashes), got {0:?}.")]
pub struct PhoneError(pub String);

impl Phone {
    /// ```
    /// use biometric_kz_mock::domain::Phone;
    ///
    /// assert!(Phone::parse("77011234567").is_ok());
    /// assert!(Phone::parse("+77011234567").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, PhoneError> {
        let ok = s.len() == 11 && s.starts_with("77") && s.bytes().all(|b| b.is_ascii_digit());
        if ok { Ok(Self(s.to_owned())) } else { Err(PhoneError(s.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_77_and_nine_digits_only() {
        assert!(Phone::parse("77011234567").is_ok());
        for bad in ["+77011234567", "87011234567", "7701123456", "770112345678", "7701123456a", "7 701 123 45 67", ""] {
            assert!(Phone::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
