//! Photos: `metadata.face2face.photo1` (a base64-encoded JPEG or PNG) and the images the Backend
//! API and the page take, read as Django's `ImageField` reads them (Pillow): the format by its
//! first bytes, then the header and dimensions by a maintained decoder (the `image` crate, limits
//! on, no pixel decoded), so that a test sending a file path, a cut-off file or a broken string
//! learns it here and not in production.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
}

/// A decoded photo. The bytes are shared, never copied: a photo may be megabytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Photo {
    format: ImageFormat,
    bytes: Arc<[u8]>,
}

/// Why a base64 photo was refused. Displays for `metadata.face2face.photo1`;
/// [`PhotoError::message`] names another field (the Backend API's `image_b64`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("{}", self.message("photo1"))]
    DataUrl,
    #[error("{}", self.message("photo1"))]
    InvalidBase64(String),
    #[error("{}", self.message("photo1"))]
    NotAnImage(String),
    #[error("{}", self.message("photo1"))]
    Unreadable(String),
}

impl PhotoError {
    /// The message, naming the field the photo came in.
    pub fn message(&self, field: &str) -> String {
        match self {
            Self::DataUrl => {
                format!("{field} must be plain base64 of the image bytes, without a \"data:...;base64,\" prefix.")
            }
            Self::InvalidBase64(why) => format!("{field} is not valid base64: {why}."),
            Self::NotAnImage(start) => {
                format!("{field} must be a JPEG or PNG image; the decoded bytes start with {start} instead.")
            }
            Self::Unreadable(why) => format!("{field} is not a valid image: {why}."),
        }
    }
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = b"\xff\xd8\xff";

/// Standard alphabet; padding optional, because clients that strip it are common and harmless.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl Photo {
    pub fn parse_base64(text: &str) -> Result<Self, PhotoError> {
        if text.trim_start().starts_with("data:") {
            return Err(PhotoError::DataUrl);
        }
        // Line-wrapped base64 (as `base64` the command writes it) is common; the breaks are not data.
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = LENIENT.decode(compact.as_bytes()).map_err(|e| PhotoError::InvalidBase64(explain(&e)))?;
        Self::from_bytes(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, PhotoError> {
        let format = ImageFormat::read(&bytes)?;
        Ok(Self { format, bytes: bytes.into() })
    }

    pub fn format(&self) -> ImageFormat {
        self.format
    }

    pub fn bytes(&self) -> &Arc<[u8]> {
        &self.bytes
    }

    /// A short description for logs and the admin API, which never echo the image itself.
    pub fn summary(&self) -> String {
        format!("<{} image, {} bytes>", self.format.as_str(), self.bytes.len())
    }
}

/// The decoder's error in words a client can act on.
fn explain(e: &base64::DecodeError) -> String {
    use base64::DecodeError::{InvalidByte, InvalidLastSymbol, InvalidLength, InvalidPadding};
    match e {
        InvalidByte(_, b) | InvalidLastSymbol(_, b) if !b.is_ascii_graphic() => {
            format!("it contains the byte 0x{b:02x}, which is not in the base64 alphabet (A-Z a-z 0-9 + /)")
        }
        InvalidByte(_, b) => {
            format!("it contains {:?}, which is not in the base64 alphabet (A-Z a-z 0-9 + /)", char::from(*b))
        }
        InvalidLength(n) => format!("{n} base64 characters cannot encode whole bytes; is it cut short?"),
        InvalidLastSymbol(_, _) => "its last character does not end the data cleanly; is it cut short?".to_owned(),
        InvalidPadding => "its '=' padding is wrong".to_owned(),
    }
}

/// The most pixels an image may have: past twice its `MAX_IMAGE_PIXELS` (89,478,485) Pillow raises
/// `DecompressionBombError`, which Django's `ImageField` answers as an invalid image.
pub const MAX_PIXELS: u64 = 2 * 89_478_485;

impl ImageFormat {
    /// A JPEG or PNG as Pillow opens and verifies it: told by its first bytes, its header read
    /// (without decoding a pixel), at least one pixel wide and high, at most `MAX_PIXELS`, and for
    /// a PNG whole (its last chunk `IEND`, as Pillow's `verify` walks the chunks to it).
    pub fn read(bytes: &[u8]) -> Result<Self, PhotoError> {
        let format = Self::sniff(bytes)?;
        let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes));
        reader.set_format(match format {
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Png => image::ImageFormat::Png,
        });
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(16 * 1024 * 1024);
        reader.limits(limits);
        let (width, height) = reader.into_dimensions().map_err(|e| PhotoError::Unreadable(e.to_string()))?;
        if width == 0 || height == 0 {
            return Err(PhotoError::Unreadable(format!("it is {width}x{height} pixels")));
        }
        if u64::from(width) * u64::from(height) > MAX_PIXELS {
            return Err(PhotoError::Unreadable(format!(
                "it says it is {width}x{height} pixels, more than the {MAX_PIXELS} Pillow opens"
            )));
        }
        if format == Self::Png && !bytes.ends_with(b"IEND\xae\x42\x60\x82") {
            return Err(PhotoError::Unreadable("it is cut short (no IEND chunk at its end)".to_owned()));
        }
        Ok(format)
    }

    /// JPEG or PNG, told by the first bytes.
    pub fn sniff(bytes: &[u8]) -> Result<Self, PhotoError> {
        if bytes.starts_with(JPEG_MAGIC) {
            Ok(Self::Jpeg)
        } else if bytes.starts_with(PNG_MAGIC) {
            Ok(Self::Png)
        } else {
            let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
            let head = if head.is_empty() { "nothing (empty)".to_owned() } else { head.join(" ") };
            Err(PhotoError::NotAnImage(head))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
        }
    }
}

impl fmt::Debug for Photo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    const JPEG: &[u8] = include_bytes!("../../fixtures/photos/face.jpg");
    const PNG: &[u8] = include_bytes!("../../fixtures/photos/face.png");

    #[test]
    fn decodes_jpeg_and_png_with_or_without_padding_and_line_breaks() {
        for (bytes, format) in [(JPEG.to_vec(), ImageFormat::Jpeg), (PNG.to_vec(), ImageFormat::Png)] {
            let b64 = STANDARD.encode(&bytes);
            let wrapped = format!("{}\n{}", &b64[..8], &b64[8..]);
            for text in [b64.clone(), b64.trim_end_matches('=').to_owned(), wrapped] {
                let photo = Photo::parse_base64(&text).expect("valid image");
                assert_eq!(photo.format(), format);
                assert_eq!(&**photo.bytes(), &bytes[..]);
            }
        }
    }

    #[test]
    fn refuses_what_is_not_a_base64_image_with_a_reason() {
        let gif = STANDARD.encode(b"GIF89a....");
        assert!(matches!(Photo::parse_base64(&gif), Err(PhotoError::NotAnImage(_))));
        assert!(matches!(Photo::parse_base64("not base64!"), Err(PhotoError::InvalidBase64(_))));
        assert!(matches!(Photo::parse_base64("data:image/jpeg;base64,/9j/"), Err(PhotoError::DataUrl)));
        assert!(matches!(Photo::parse_base64("   "), Err(PhotoError::NotAnImage(_))));
    }

    #[test]
    fn an_image_is_refused_as_pillow_refuses_it() {
        assert_eq!(ImageFormat::read(JPEG), Ok(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::read(PNG), Ok(ImageFormat::Png));
        for (what, bytes) in [
            ("a JPEG's head alone", &JPEG[..14]),
            ("a PNG cut short", &PNG[..PNG.len() - 12]),
            ("magic bytes alone", PNG_MAGIC),
        ] {
            assert!(matches!(ImageFormat::read(bytes), Err(PhotoError::Unreadable(_))), "{what}");
        }
    }
}
