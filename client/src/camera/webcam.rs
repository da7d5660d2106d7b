//! [`NokhwaCamera`]: a desktop webcam through nokhwa (V4L2 on Linux,
//! AVFoundation on macOS, Media Foundation on Windows).

use nokhwa::Camera;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};

use super::{CameraError, CameraInfo, Frame, FrameSource};

pub struct NokhwaCamera {
    camera: Camera,
    name: String,
}

pub(super) fn list() -> Result<Vec<CameraInfo>, CameraError> {
    let cameras = nokhwa::query(ApiBackend::Auto).map_err(|e| CameraError::Failed {
        detail: format!("cannot list cameras: {e}"),
    })?;
    Ok(cameras
        .iter()
        .enumerate()
        .map(|(n, info)| CameraInfo {
            index: match info.index() {
                CameraIndex::Index(i) => *i,
                CameraIndex::String(_) => n as u32,
            },
            name: info.human_name(),
        })
        .collect())
}

impl NokhwaCamera {
    /// Opens camera `index`, or the first camera, asking for `size` (width,
    /// height) in MJPEG at 30 fps, or the closest the camera offers.
    pub fn open(index: Option<u32>, size: (u32, u32)) -> Result<Self, CameraError> {
        let index = match index {
            Some(index) => index,
            None => {
                list()?
                    .first()
                    .ok_or_else(|| CameraError::NoCamera {
                        detail: "this computer reports no camera".into(),
                    })?
                    .index
            }
        };
        let wanted = CameraFormat::new(Resolution::new(size.0, size.1), FrameFormat::MJPEG, 30);
        let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(wanted));
        let mut camera =
            Camera::new(CameraIndex::Index(index), format).map_err(|e| CameraError::NoCamera {
                detail: format!("camera {index} cannot be opened: {e}"),
            })?;
        camera.open_stream().map_err(|e| CameraError::Failed {
            detail: format!("camera {index} does not start streaming: {e}"),
        })?;
        let name = camera.info().human_name();
        Ok(Self { camera, name })
    }
}

impl FrameSource for NokhwaCamera {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let failed = |e: nokhwa::NokhwaError| CameraError::Failed {
            detail: e.to_string(),
        };
        self.camera
            .frame()
            .map_err(failed)?
            .decode_image::<RgbFormat>()
            .map_err(failed)
    }
}

impl Drop for NokhwaCamera {
    fn drop(&mut self) {
        let _ = self.camera.stop_stream();
    }
}
