//! `qrlogin scan --camera N`: reads frames from a webcam (nokhwa) until a
//! login code of the signed-in server shows up.

use std::time::Duration;

use qrlogin_client::{ClientError, Session};

use crate::output::Output;

/// How long to look before giving up.
const LOOK_FOR: Duration = Duration::from_secs(60);

pub async fn read_code(session: &Session, index: u32, out: &Output) -> anyhow::Result<String> {
    out.note(&format!(
        "Looking for a QR code on camera {index} for up to {} s: hold the login page's code in front of it (Ctrl-C to stop).",
        LOOK_FOR.as_secs()
    ));
    let session = session.clone();
    let found = tokio::task::spawn_blocking(move || look(&session, index))
        .await
        .map_err(|e| ClientError::Camera {
            detail: e.to_string(),
        })??;
    Ok(found)
}

#[cfg(feature = "camera")]
fn look(session: &Session, index: u32) -> Result<String, ClientError> {
    use nokhwa::Camera;
    use nokhwa::pixel_format::RgbFormat;
    use nokhwa::utils::{
        CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
    };
    use qrlogin_client::decode::{FrameDecoder, rgb_to_gray};
    use std::time::Instant;

    let failed = |e: nokhwa::NokhwaError| ClientError::Camera {
        detail: format!(
            "camera {index}: {e} (no camera here? use --image FILE with a screenshot or photo of the code)"
        ),
    };
    let wanted = CameraFormat::new(Resolution::new(1280, 720), FrameFormat::MJPEG, 30);
    let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(wanted));
    let mut camera = Camera::new(CameraIndex::Index(index), format).map_err(failed)?;
    camera.open_stream().map_err(failed)?;
    let mut decoder = FrameDecoder::new();
    let mut refused: Option<ClientError> = None;
    let start = Instant::now();
    let result = loop {
        if start.elapsed() > LOOK_FOR {
            break Err(refused.take().unwrap_or(ClientError::NoCodeFound));
        }
        let frame = match camera.frame().and_then(|f| f.decode_image::<RgbFormat>()) {
            Ok(frame) => frame,
            Err(e) => break Err(failed(e)),
        };
        for found in decoder.decode(&rgb_to_gray(&frame)) {
            match session.check_code(&found.text) {
                Ok(_) => {
                    let _ = camera.stop_stream();
                    return Ok(found.text);
                }
                // Keep looking, but remember why: if nothing better shows
                // up, that reason is the answer.
                Err(e) => refused = Some(e),
            }
        }
    };
    let _ = camera.stop_stream();
    result
}

#[cfg(not(feature = "camera"))]
fn look(_session: &Session, index: u32) -> Result<String, ClientError> {
    Err(ClientError::Camera {
        detail: format!(
            "camera {index}: this qrlogin was built without camera support (cargo feature `camera`); take a screenshot or photo of the code and use --image FILE"
        ),
    })
}
