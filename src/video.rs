//! The liveness video a session's recording is served as: the built-in test pattern
//! (`fixtures/video/liveness.mp4`, drawn by `scripts/make-video.sh`), or a file the user gives
//! (`--video`, or a scenario's `video`), checked to be MP4 or WebM by its first bytes.

use std::path::Path;

use bytes::Bytes;

/// A video held in memory, shared between every answer that serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Video {
    pub bytes: Bytes,
    pub content_type: &'static str,
    pub extension: &'static str,
}

impl Video {
    /// The built-in 3-second, 16 KB test pattern of a face turning its head.
    pub fn built_in() -> Self {
        Self::from_bytes(Bytes::from_static(include_bytes!("../fixtures/video/liveness.mp4")))
            .expect("the built-in video is an MP4")
    }

    pub fn from_bytes(bytes: Bytes) -> Result<Self, String> {
        let (content_type, extension) = if bytes.get(4..8) == Some(b"ftyp") {
            ("video/mp4", "mp4")
        } else if bytes.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
            ("video/webm", "webm")
        } else {
            return Err("not an MP4 or WebM video (checked by its first bytes)".into());
        };
        Ok(Self { bytes, content_type, extension })
    }

    pub fn from_file(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_bytes(bytes.into()).map_err(|e| format!("{}: {e}", path.display()))
    }
}
