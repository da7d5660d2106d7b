//! [`AppError`]: what a command fails with. It crosses the IPC boundary as
//! `{"kind": "<snake_case>", "message": "<sentence for people>"}`; the UI
//! branches on `kind` and shows `message`.

use qrlogin_client::ClientError;
use qrlogin_client::camera::CameraError;
use serde::{Serialize, Serializer};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Camera(#[from] CameraError),
    #[error("There is no sign-in request waiting for an answer. Scan a code first.")]
    NoPendingLogin,
    #[error("Internal error: {0}.")]
    Internal(String),
}

impl AppError {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Client(e) => e.kind().as_str(),
            Self::Camera(e) => e.kind(),
            Self::NoPendingLogin => "no_pending_login",
            Self::Internal(_) => "internal",
        }
    }
}

/// A background task (`spawn_blocking`) that panicked or was cancelled.
impl From<tauri::Error> for AppError {
    fn from(e: tauri::Error) -> Self {
        Self::Internal(format!("a background task failed: {e}"))
    }
}

impl Serialize for AppError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("AppError", 2)?;
        st.serialize_field("kind", self.kind())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crosses_ipc_as_kind_and_message() {
        let cases = [
            (AppError::Client(ClientError::Expired), "expired"),
            (
                AppError::Client(ClientError::InvalidCredentials),
                "invalid_credentials",
            ),
            (
                AppError::Camera(CameraError::NoCamera {
                    detail: "none".into(),
                }),
                "no_camera",
            ),
            (AppError::NoPendingLogin, "no_pending_login"),
        ];
        for (err, kind) in cases {
            let json = serde_json::to_value(&err).unwrap();
            assert_eq!(json["kind"], kind);
            assert_eq!(json["message"], err.to_string());
            assert_eq!(json.as_object().unwrap().len(), 2);
        }
    }
}
