//! What the app keeps between commands: the signed-in session, the login
//! request being answered, and the running camera.

use std::sync::{Arc, Mutex, MutexGuard};

use qrlogin_client::decode::CodeCheck;
use qrlogin_client::{AccountFile, ClientError, LoginRequest, Session, TokenStore};

use crate::camera::CameraThread;
use crate::error::AppError;

pub struct AppState {
    /// The non-secret account file, in the app's data directory.
    pub account_file: AccountFile,
    /// Where the session token lives: the OS keyring.
    pub tokens: Arc<dyn TokenStore>,
    session: Mutex<Option<Session>>,
    pending: Mutex<Option<LoginRequest>>,
    camera: Mutex<Option<CameraThread>>,
}

impl AppState {
    pub fn new(account_file: AccountFile, tokens: Arc<dyn TokenStore>) -> Self {
        Self {
            account_file,
            tokens,
            session: Mutex::new(None),
            pending: Mutex::new(None),
            camera: Mutex::new(None),
        }
    }

    /// The signed-in session (a cheap clone), or `NotSignedIn`.
    pub fn session(&self) -> Result<Session, AppError> {
        lock(&self.session)
            .clone()
            .ok_or(AppError::Client(ClientError::NotSignedIn))
    }

    /// Which scanned codes to act on: the signed-in server's login codes,
    /// or any login code before sign-in.
    pub fn code_check(&self) -> CodeCheck {
        lock(&self.session)
            .as_ref()
            .map_or(CodeCheck::AnyLoginCode, Session::code_check)
    }

    pub fn set_session(&self, session: Option<Session>) {
        *lock(&self.session) = session;
    }

    pub fn take_session(&self) -> Option<Session> {
        lock(&self.session).take()
    }

    pub fn set_pending(&self, request: LoginRequest) {
        *lock(&self.pending) = Some(request);
    }

    /// The request being answered; answering consumes it.
    pub fn take_pending(&self) -> Result<LoginRequest, AppError> {
        lock(&self.pending).take().ok_or(AppError::NoPendingLogin)
    }

    /// Replaces the running camera; returns the old one, to be stopped off
    /// the async threads (stopping joins the camera thread).
    pub fn replace_camera(&self, camera: Option<CameraThread>) -> Option<CameraThread> {
        std::mem::replace(&mut *lock(&self.camera), camera)
    }
}

/// Locks a mutex, recovering from poisoning: every value kept here stays
/// valid even if a holder panicked (they are only ever replaced whole).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
