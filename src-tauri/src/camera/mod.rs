//! Cameras as a stream of RGB frames, and the thread that decodes them.
//!
//! Every source — a webcam through nokhwa ([`NokhwaCamera`]) or pictures on
//! disk ([`FileFrames`], chosen with `QRLOGIN_FAKE_CAMERA`) — is a
//! [`FrameSource`], so tests and camera-less machines run the same path as a
//! real webcam: [`CameraThread`] pulls frames, sends a small JPEG preview to
//! the UI and decodes QR codes with `qrlogin_client::decode`.

mod file_frames;
mod thread;
#[cfg(desktop)]
mod webcam;

use std::path::PathBuf;

use serde::Serialize;

pub use file_frames::FileFrames;
pub use thread::{CameraThread, FrameSink, Started};
#[cfg(desktop)]
pub use webcam::NokhwaCamera;

/// One camera frame.
pub type Frame = image::RgbImage;

/// Environment variable naming a picture, or a folder of pictures, to play
/// as camera frames instead of a webcam.
pub const FAKE_CAMERA_ENV: &str = "QRLOGIN_FAKE_CAMERA";

/// Anything that yields camera frames.
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

/// Which frames to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraChoice {
    /// A webcam: this index, or the first one.
    Webcam(Option<u32>),
    /// Pictures played as frames (`QRLOGIN_FAKE_CAMERA`).
    Files(PathBuf),
}

impl CameraChoice {
    /// `QRLOGIN_FAKE_CAMERA` when set, else the webcam the user chose.
    pub fn from_env(webcam: Option<u32>) -> Self {
        match std::env::var_os(FAKE_CAMERA_ENV).filter(|v| !v.is_empty()) {
            Some(path) => Self::Files(path.into()),
            None => Self::Webcam(webcam),
        }
    }

    /// Opens the source. Call it on the thread that reads it: webcam handles
    /// may not move between threads.
    pub fn open(&self) -> Result<Box<dyn FrameSource>, CameraError> {
        match self {
            Self::Files(path) => Ok(Box::new(FileFrames::open(path)?)),
            #[cfg(desktop)]
            Self::Webcam(index) => Ok(Box::new(NokhwaCamera::open(*index)?)),
            #[cfg(mobile)]
            Self::Webcam(_) => Err(CameraError::NoCamera {
                detail: "on phones the app scans with the system's barcode scanner".into(),
            }),
        }
    }
}

/// The cameras this computer has (the fake camera, when set, comes alone).
pub fn list_cameras() -> Result<Vec<CameraInfo>, CameraError> {
    if let CameraChoice::Files(path) = CameraChoice::from_env(None) {
        return Ok(vec![CameraInfo {
            index: 0,
            name: format!("Fake camera ({})", path.display()),
        }]);
    }
    #[cfg(desktop)]
    return webcam::list();
    #[cfg(mobile)]
    return Ok(Vec::new());
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
}
