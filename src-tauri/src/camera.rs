//! The camera as the app uses it.
//!
//! On desktop: the client's camera loop ([`qrlogin_client::camera`], the
//! one `qrlogin scan --camera` runs too), with JPEG previews sent into the
//! window over a channel and picked codes emitted as events. On phones the
//! UI scans with the barcode-scanner plugin (the system's camera UI), so
//! nothing of the desktop loop is built: listing cameras finds none and
//! starting one says why.

use qrlogin_client::camera::{CameraError, CameraInfo, Started};
use qrlogin_client::decode::CodeCheck;
use tauri::AppHandle;
use tauri::ipc::Channel;

#[cfg(desktop)]
pub use qrlogin_client::camera::CameraThread;

/// On phones no camera thread can exist (the type has no values).
#[cfg(mobile)]
pub enum CameraThread {}

#[cfg(mobile)]
impl CameraThread {
    pub fn stop(self) {
        match self {}
    }
}

/// Event sent when the camera thread decodes a QR code; payload: its text
/// (the code to act on; a refused one too, so the UI can say why).
pub const QR_FOUND: &str = "qr-found";
/// Event sent when the camera stops working; payload: an `AppError`.
pub const CAMERA_FAILED: &str = "camera-failed";

/// The cameras this computer has (the fake camera, when set, comes alone).
#[cfg(desktop)]
pub fn list() -> Result<Vec<CameraInfo>, CameraError> {
    qrlogin_client::camera::list_cameras()
}

#[cfg(mobile)]
pub fn list() -> Result<Vec<CameraInfo>, CameraError> {
    Ok(Vec::new())
}

/// Opens webcam `index` (or the first; `QRLOGIN_FAKE_CAMERA` when set) and
/// streams it into the window.
#[cfg(desktop)]
pub fn start(
    index: Option<u32>,
    check: CodeCheck,
    app: AppHandle,
    preview: Channel,
) -> Result<(CameraThread, Started), CameraError> {
    use qrlogin_client::camera::CameraChoice;
    /// The preview is shown small; decoding 640×480 leaves time for it.
    const SIZE: (u32, u32) = (640, 480);
    CameraThread::start(
        CameraChoice::from_env(index, SIZE),
        check,
        window::WindowSink { app, preview },
    )
}

#[cfg(mobile)]
pub fn start(
    _index: Option<u32>,
    _check: CodeCheck,
    _app: AppHandle,
    _preview: Channel,
) -> Result<(CameraThread, Started), CameraError> {
    Err(CameraError::NoCamera {
        detail: "on phones the app scans with the system's barcode scanner".into(),
    })
}

#[cfg(desktop)]
mod window {
    use qrlogin_client::camera::{CameraError, FrameSink};
    use qrlogin_client::decode::Picked;
    use tauri::ipc::{Channel, InvokeResponseBody};
    use tauri::{AppHandle, Emitter};

    use crate::error::AppError;

    /// Camera output into the window: previews over the command's channel,
    /// codes and failures as events.
    pub struct WindowSink {
        pub app: AppHandle,
        pub preview: Channel,
    }

    impl FrameSink for WindowSink {
        fn preview(&self, jpeg: Vec<u8>) {
            let _ = self.preview.send(InvokeResponseBody::Raw(jpeg));
        }

        fn code(&self, picked: Picked) {
            let _ = self.app.emit(super::QR_FOUND, picked.into_text());
        }

        fn failed(&self, error: CameraError) {
            let payload = serde_json::to_value(AppError::from(error)).unwrap_or_default();
            let _ = self.app.emit(super::CAMERA_FAILED, payload);
        }
    }
}
