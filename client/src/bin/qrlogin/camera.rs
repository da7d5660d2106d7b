//! `qrlogin scan --camera N`: runs the client's camera loop
//! ([`qrlogin_client::camera::CameraThread`], the one the desktop app runs
//! too) until it picks a login code of the signed-in server.
//! `QRLOGIN_FAKE_CAMERA` plays pictures instead of the webcam, as in the app.

use qrlogin_client::Session;

use crate::output::Output;

/// How long to look before giving up.
const LOOK_FOR: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn read_code(session: &Session, index: u32, out: &Output) -> anyhow::Result<String> {
    out.note(&format!(
        "Looking for a QR code on camera {index} for up to {} s: hold the login page's code in front of it (Ctrl-C to stop).",
        LOOK_FOR.as_secs()
    ));
    look(session, index).await
}

#[cfg(feature = "camera")]
async fn look(session: &Session, index: u32) -> anyhow::Result<String> {
    use std::sync::Mutex;
    use std::sync::mpsc;
    use std::time::Instant;

    use qrlogin_client::ClientError;
    use qrlogin_client::camera::{CameraChoice, CameraError, CameraThread, FrameSink};
    use qrlogin_client::decode::Picked;

    /// The size asked of the webcam (a code held farther away stays readable).
    const SIZE: (u32, u32) = (1280, 720);

    enum Seen {
        Code(Picked),
        Failed(CameraError),
    }

    /// Forwards what the camera thread sees; no previews (nothing shows them).
    struct Forward(Mutex<mpsc::Sender<Seen>>);

    impl FrameSink for Forward {
        fn wants_previews(&self) -> bool {
            false
        }
        fn preview(&self, _jpeg: Vec<u8>) {}
        fn code(&self, picked: Picked) {
            let _ = self.0.lock().map(|tx| tx.send(Seen::Code(picked)));
        }
        fn failed(&self, error: CameraError) {
            let _ = self.0.lock().map(|tx| tx.send(Seen::Failed(error)));
        }
    }

    let failed = move |e: CameraError| ClientError::Camera {
        detail: format!(
            "camera {index}: {} (no camera here? use --image FILE with a screenshot or photo of the code)",
            e.detail()
        ),
    };
    let choice = CameraChoice::from_env(Some(index), SIZE);
    let check = session.code_check();
    let wait = move || -> Result<String, ClientError> {
        let (tx, rx) = mpsc::channel();
        let (thread, _started) =
            CameraThread::start(choice, check, Forward(Mutex::new(tx))).map_err(failed)?;
        let deadline = Instant::now() + LOOK_FOR;
        let mut refused = None;
        let result = loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Seen::Code(Picked::Accepted(text))) => break Ok(text),
                // Keep looking, but remember why: if nothing better shows
                // up, that reason is the answer.
                Ok(Seen::Code(Picked::Refused { reason, .. })) => refused = Some(reason),
                Ok(Seen::Failed(e)) => break Err(failed(e)),
                Err(_) => break Err(refused.take().unwrap_or(ClientError::NoCodeFound)),
            }
        };
        thread.stop();
        result
    };
    tokio::task::spawn_blocking(wait)
        .await
        .map_err(|e| ClientError::Camera {
            detail: e.to_string(),
        })?
        .map_err(Into::into)
}

#[cfg(not(feature = "camera"))]
async fn look(_session: &Session, index: u32) -> anyhow::Result<String> {
    Err(qrlogin_client::ClientError::Camera {
        detail: format!(
            "camera {index}: this qrlogin was built without camera support (cargo feature `camera`); take a screenshot or photo of the code and use --image FILE"
        ),
    }
    .into())
}
