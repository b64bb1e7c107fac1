//! The vendor's rules, free of HTTP: IIN, phone, photo, technology codes, session metadata and
//! flows. Everything here is parsed ("parse, don't validate") into types that cannot hold an
//! invalid value; errors carry the path of the field so the HTTP layer can nest them as the
//! vendor (Django REST Framework) does. This module must not know about status codes or axum.

pub mod backend;
pub mod field_error;
pub mod flow;
pub mod iin;
pub mod locale;
pub mod metadata;
pub mod outcome;
pub mod paths;
pub mod phone;
pub mod photo;
pub mod scripting;
pub mod technology;

pub(crate) use field_error::drf;
pub use field_error::{FieldError, FieldErrors};
pub use flow::{ApiKey, Flow, FlowFileError};
pub use iin::{Gender, Iin, IinError};
pub use locale::Locale;
pub use metadata::Metadata;
pub use outcome::{FailedStatus, FailureReason, Outcome};
pub use phone::{Phone, PhoneError};
pub use photo::{ImageFormat, Photo, PhotoError};
pub use technology::{Family, TechnologyCode};

/// The vendor's two hosts: the API's and the end user's \[doc\].
pub const VENDOR_HOSTS: [&str; 2] = ["kyc.biometric.kz", "remote.biometric.kz"];

/// The positions of the first value that repeats an earlier one, and of that earlier one.
pub fn first_repeat<T: std::hash::Hash + Eq>(values: impl Iterator<Item = T>) -> Option<(usize, usize)> {
    let mut seen = std::collections::HashMap::new();
    values.enumerate().find_map(|(j, value)| seen.insert(value, j).map(|i| (i, j)))
}

/// Writes `value` into `out` as zero-padded decimal digits (ASCII), keeping its last
/// `out.len()` digits. Generated ids, numbers and timestamps use it on every request instead of
/// `format!`, whose padding machinery cost several times as much.
pub fn zero_padded(out: &mut [u8], value: u32) {
    let mut value = value;
    for byte in out.iter_mut().rev() {
        *byte = b"0123456789"[(value % 10) as usize];
        value /= 10;
    }
}
