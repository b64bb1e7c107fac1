//! IIN — Kazakhstan's 12-digit individual identification number: `YYMMDD` birth date, a century
//! and gender digit (1–6), four serial digits and a check digit.

use std::fmt;

use time::{Date, Month};

/// A valid IIN: 12 ASCII digits, a real birth date and a matching check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iin(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IinError {
    #[error("IIN must be exactly 12 digits, got {0:?}.")]
    NotTwelveDigits(String),
    #[error(
        "IIN digit 7 (century and gender) must be 1 to 6, got {0}: 1/2 = born in the 1800s, 3/4 = 1900s, 5/6 = 2000s."
    )]
    BadCentury(char),
    #[error("IIN digits 1-6 must be a birth date YYMMDD; {0} is not a date.")]
    BadBirthDate(String),
    #[error("IIN is invalid: no check digit exists for its first 11 digits.")]
    NoCheckDigit,
    #[error("IIN check digit is wrong: the last digit should be {expected}, got {found}.")]
    CheckDigitMismatch { expected: u8, found: u8 },
}

/// The weights of the first and, when that gives 10, second pass of the check-digit algorithm.
const WEIGHTS_1: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const WEIGHTS_2: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// The check digit for the first 11 digits (each 0–9), or `None` when the algorithm gives 10
/// twice: such numbers are never issued.
pub fn check_digit(first11: &[u8; 11]) -> Option<u8> {
    let weighted = |weights: &[u32; 11]| first11.iter().zip(weights).map(|(d, w)| u32::from(*d) * w).sum::<u32>() % 11;
    let first = weighted(&WEIGHTS_1);
    let sum = if first == 10 { weighted(&WEIGHTS_2) } else { first };
    // `sum` < 11, so the cast cannot truncate.
    (sum != 10).then(|| u8::try_from(sum).expect("a remainder of 11 fits in u8"))
}

impl Iin {
    /// Parses and checks an IIN.
    ///
    /// ```
    /// use biometric_kz_mock::domain::{Gender, Iin, IinError};
    ///
    /// let iin = Iin::parse("900101300017").unwrap();
    /// assert_eq!(iin.gender(), Gender::Male);
    /// assert_eq!(iin.birth_date().year(), 1990);
    /// assert_eq!(
    ///     Iin::parse("900101300018"),
    ///     Err(IinError::CheckDigitMismatch { expected: 7, found: 8 })
    /// );
    /// ```
    pub fn parse(s: &str) -> Result<Self, IinError> {
        let bytes = s.as_bytes();
        if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(IinError::NotTwelveDigits(s.to_owned()));
        }
        let digits: Vec<u8> = bytes.iter().map(|b| b - b'0').collect();
        birth_date(&digits)?;
        let first11: [u8; 11] = digits[..11].try_into().expect("12 digits checked above");
        let expected = check_digit(&first11).ok_or(IinError::NoCheckDigit)?;
        if expected != digits[11] {
            return Err(IinError::CheckDigitMismatch { expected, found: digits[11] });
        }
        Ok(Self(s.to_owned()))
    }

    /// Builds a valid IIN for a birth date and gender, taking serial numbers from `serials`
    /// until one has a check digit (about 1 in 11 has none). Used for generated test subjects.
    pub fn generate(birth: Date, gender: Gender, mut serials: impl Iterator<Item = u16>) -> Option<Self> {
        let century_digit = match (birth.year() / 100, gender) {
            (18, Gender::Male) => 1,
            (18, Gender::Female) => 2,
            (19, Gender::Male) => 3,
            (19, Gender::Female) => 4,
            (20, Gender::Male) => 5,
            (20, Gender::Female) => 6,
            _ => return None,
        };
        // Digit by digit rather than through `format!`: one IIN is made for every session created.
        let mut text = *b"000000000000";
        super::zero_padded(&mut text[0..2], u32::try_from(birth.year() % 100).ok()?);
        super::zero_padded(&mut text[2..4], u32::from(u8::from(birth.month())));
        super::zero_padded(&mut text[4..6], u32::from(birth.day()));
        text[6] = b'0' + century_digit;
        serials.find_map(|serial| {
            super::zero_padded(&mut text[7..11], u32::from(serial % 10_000));
            let mut first11 = [0u8; 11];
            for (digit, byte) in first11.iter_mut().zip(&text) {
                *digit = byte - b'0';
            }
            text[11] = b'0' + check_digit(&first11)?;
            Some(Self(text.iter().map(|b| char::from(*b)).collect()))
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Date {
        let digits: Vec<u8> = self.0.bytes().map(|b| b - b'0').collect();
        birth_date(&digits).expect("checked when the IIN was parsed")
    }

    pub fn gender(&self) -> Gender {
        // Odd century digits are men, even ones women.
        if (self.0.as_bytes()[6] - b'0') % 2 == 1 { Gender::Male } else { Gender::Female }
    }
}

fn birth_date(digits: &[u8]) -> Result<Date, IinError> {
    let century = match digits[6] {
        1 | 2 => 1800,
        3 | 4 => 1900,
        5 | 6 => 2000,
        other => return Err(IinError::BadCentury(char::from(b'0' + other))),
    };
    let two = |i: usize| i32::from(digits[i]) * 10 + i32::from(digits[i + 1]);
    let (yy, mm, dd) = (two(0), two(2), two(4));
    let date_text = || format!("{yy:02}{mm:02}{dd:02}");
    let month = u8::try_from(mm)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| IinError::BadBirthDate(date_text()))?;
    let day = u8::try_from(dd).map_err(|_| IinError::BadBirthDate(date_text()))?;
    Date::from_calendar_date(century + yy, month, day).map_err(|_| IinError::BadBirthDate(date_text()))
}

impl fmt::Display for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn accepts_known_valid_iins() {
        for (iin, birth, gender) in [
            ("900101300017", date!(1990 - 01 - 01), Gender::Male),
            ("880315400010", date!(1988 - 03 - 15), Gender::Female),
            ("950505350019", date!(1995 - 05 - 05), Gender::Male),
            ("000101500011", date!(2000 - 01 - 01), Gender::Male),
        ] {
            let parsed = Iin::parse(iin).unwrap_or_else(|e| panic!("{iin} should be valid: {e}"));
            assert_eq!(parsed.birth_date(), birth, "birth date of {iin}");
            assert_eq!(parsed.gender(), gender, "gender of {iin}");
        }
    }

    #[test]
    fn rejects_each_kind_of_invalid_iin_with_its_own_reason() {
        let cases: [(&str, IinError); 7] = [
            ("90010130001", IinError::NotTwelveDigits("90010130001".into())),
            ("9001013000171", IinError::NotTwelveDigits("9001013000171".into())),
            ("90010130001a", IinError::NotTwelveDigits("90010130001a".into())),
            ("900101700017", IinError::BadCentury('7')),
            ("901301300017", IinError::BadBirthDate("901301".into())),
            ("900230300017", IinError::BadBirthDate("900230".into())),
            ("900101300018", IinError::CheckDigitMismatch { expected: 7, found: 8 }),
        ];
        for (iin, expected) in cases {
            assert_eq!(Iin::parse(iin), Err(expected), "{iin}");
        }
    }

    #[test]
    fn the_second_weight_pass_is_used_when_the_first_gives_ten() {
        // 1..11 weights on 00000000001 give 11 % 11 = 0; find a prefix that gives 10 instead.
        let first11 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        // first pass: 10*1 = 10 -> second pass: 1*1 = 1 (weights_2[9] = 1)
        assert_eq!(check_digit(&first11), Some(1));
    }

    #[test]
    fn a_number_whose_second_pass_gives_ten_has_no_check_digit() {
        // Search the space for one such prefix and make sure parse refuses every completion.
        let prefix = (0..100_000u32)
            .map(|n| {
                let s = format!("9001013{n:04}");
                let d: [u8; 11] = s.bytes().map(|b| b - b'0').collect::<Vec<_>>().try_into().unwrap();
                (s, d)
            })
            .find(|(_, d)| check_digit(d).is_none())
            .expect("some serial has no check digit");
        for last in 0..=9 {
            let iin = format!("{}{last}", prefix.0);
            assert_eq!(Iin::parse(&iin), Err(IinError::NoCheckDigit), "{iin}");
        }
    }

    fn any_birth() -> impl Strategy<Value = (Date, Gender)> {
        (1850i32..2099, 1u8..=12, 1u8..=31, any::<bool>()).prop_filter_map("a real date", |(y, m, d, male)| {
            let date = Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()?;
            Some((date, if male { Gender::Male } else { Gender::Female }))
        })
    }

    proptest! {
        #[test]
        fn generated_iins_parse_and_keep_their_birth_date_and_gender(
            (birth, gender) in any_birth(), start in 0u16..10_000
        ) {
            let iin = Iin::generate(birth, gender, (start..10_000).chain(0..start))
                .expect("some serial has a check digit");
            let parsed = Iin::parse(iin.as_str()).expect("generated IINs are valid");
            prop_assert_eq!(parsed.birth_date(), birth);
            prop_assert_eq!(parsed.gender(), gender);
        }

        #[test]
        fn changing_the_check_digit_of_a_valid_iin_makes_it_invalid(
            (birth, gender) in any_birth(), start in 0u16..10_000, delta in 1u8..10
        ) {
            let iin = Iin::generate(birth, gender, (start..10_000).chain(0..start)).unwrap();
            let mut bytes = iin.as_str().as_bytes().to_vec();
            bytes[11] = b'0' + (bytes[11] - b'0' + delta) % 10;
            let tampered = String::from_utf8(bytes).unwrap();
            let is_mismatch = matches!(Iin::parse(&tampered), Err(IinError::CheckDigitMismatch { .. }));
            prop_assert!(is_mismatch, "{} should fail its check digit", tampered);
        }

        #[test]
        fn parse_never_panics_on_any_string(s in ".{0,20}") {
            let _ = Iin::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_any_twelve_digits(s in "[0-9]{12}") {
            let _ = Iin::parse(&s);
        }
    }
}
