//! Cameras as a stream of RGB frames, and the one loop that reads them,
//! used by both the `qrlogin scan --camera N` command and the desktop app.
//!
//! Every source — a webcam through nokhwa ([`NokhwaCamera`]) or pictures on
//! disk ([`FileFrames`], chosen with `QRLOGIN_FAKE_CAMERA`) — is a
//! [`FrameSource`], so tests and camera-less machines run the same path as a
//! real webcam: [`CameraThread`] pulls frames, hands a small JPEG preview to
//! its [`FrameSink`] (when the sink wants one), decodes QR codes with
//! [`crate::decode::FrameDecoder`] and picks the code to act on with the one
//! policy of [`crate::decode::pick_code`].
//!
//! Only [`CameraError`] and [`CameraInfo`] exist without the `camera`
//! feature (desktop only: nokhwa supports neither Android nor iOS), so a
//! front end can name camera errors on every platform.

#[cfg(feature = "camera")]
mod file_frames;
#[cfg(feature = "camera")]
mod thread;
#[cfg(feature = "camera")]
mod webcam;

#[cfg(feature = "camera")]
use std::path::PathBuf;

use serde::Serialize;

#[cfg(feature = "camera")]
pub use file_frames::FileFrames;
#[cfg(feature = "camera")]
pub use thread::{CameraThread, FrameSink, preview_jpeg};
#[cfg(feature = "camera")]
pub use webcam::NokhwaCamera;

/// One camera frame.
#[cfg(feature = "camera")]
pub type Frame = image::RgbImage;

/// Environment variable naming a picture, or a folder of pictures, to play
/// as camera frames instead of a webcam.
pub const FAKE_CAMERA_ENV: &str = "QRLOGIN_FAKE_CAMERA";

/// Anything that yields camera frames.
#[cfg(feature = "camera")]
pub trait FrameSource {
    /// A name for people ("Integrated Camera", "fake camera: qr.png").
    fn name(&self) -> String;
    /// Blocks until the next frame is there.
    fn next_frame(&mut self) -> Result<Frame, CameraError>;
}

/// A camera the UI can offer in its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CameraInfo {
    pub index: u32,
    pub name: String,
}

/// A camera that was opened.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    /// For people ("Integrated Camera", "Fake camera (qr.png)").
    pub name: String,
}

/// Which frames to read.
#[cfg(feature = "camera")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraChoice {
    /// A webcam: this index, or the first one, at the size closest to
    /// `size` (width, height) that it offers.
    Webcam {
        index: Option<u32>,
        size: (u32, u32),
    },
    /// Pictures played as frames (`QRLOGIN_FAKE_CAMERA`).
    Files(PathBuf),
}

#[cfg(feature = "camera")]
impl CameraChoice {
    /// `QRLOGIN_FAKE_CAMERA` when set, else the webcam the user chose.
    pub fn from_env(index: Option<u32>, size: (u32, u32)) -> Self {
        match std::env::var_os(FAKE_CAMERA_ENV).filter(|v| !v.is_empty()) {
            Some(path) => Self::Files(path.into()),
            None => Self::Webcam { index, size },
        }
    }

    /// Opens the source. Call it on the thread that reads it: webcam handles
    /// may not move between threads.
    pub fn open(&self) -> Result<Box<dyn FrameSource>, CameraError> {
        match self {
            Self::Files(path) => Ok(Box::new(FileFrames::open(path)?)),
            Self::Webcam { index, size } => Ok(Box::new(NokhwaCamera::open(*index, *size)?)),
        }
    }
}

/// The cameras this computer has (the fake camera, when set, comes alone).
#[cfg(feature = "camera")]
pub fn list_cameras() -> Result<Vec<CameraInfo>, CameraError> {
    if let CameraChoice::Files(path) = CameraChoice::from_env(None, (0, 0)) {
        return Ok(vec![CameraInfo {
            index: 0,
            name: format!("Fake camera ({})", path.display()),
        }]);
    }
    webcam::list()
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum CameraError {
    #[error("No camera was found ({detail}).")]
    NoCamera { detail: String },
    #[error("The camera could not be used: {detail}.")]
    Failed { detail: String },
    #[error("The fake camera ({FAKE_CAMERA_ENV}={path}) has no picture to play: {detail}.")]
    FakeCamera { path: String, detail: String },
}

impl CameraError {
    /// The error kind the UI branches on.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoCamera { .. } => "no_camera",
            Self::Failed { .. } | Self::FakeCamera { .. } => "camera",
        }
    }

    /// What went wrong, without the leading sentence (for a message that
    /// says "camera" itself).
    pub fn detail(&self) -> String {
        match self {
            Self::NoCamera { detail } | Self::Failed { detail } => detail.clone(),
            Self::FakeCamera { .. } => self.to_string(),
        }
    }
}
