//! The vendor's rules, free of HTTP: IIN, phone, photo, technology codes, session metadata and
//! flows. Everything here is parsed ("parse, don't validate") into types that cannot hold an
//! invalid value; errors carry the path of the field so the HTTP layer can nest them as the
//! vendor (Django REST Framework) does. This module must not know about status codes or axum.

pub mod create;
pub mod field_error;
pub mod flow;
pub mod iin;
pub mod metadata;
pub mod phone;
pub mod photo;
pub mod technology;

pub use field_error::{FieldError, FieldErrors};
pub use flow::{ApiKey, Flow, FlowFileError};
pub use iin::{Gender, Iin, IinError};
pub use metadata::Metadata;
pub use phone::{Phone, PhoneError};
pub use photo::{ImageFormat, Photo, PhotoError};
pub use technology::{Family, TechnologyCode};
