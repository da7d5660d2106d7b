//! The commands the UI invokes. Each one is a few lines over
//! `qrlogin-client` or the camera thread; errors are [`AppError`]s.

use qrlogin_client::camera::{CameraInfo, Started};
use qrlogin_client::decode::{Decoder, pick_code};
use qrlogin_client::{
    Account, AccountSettings, AppSessionInfo, ClientError, LoginRequest, RevokeOutcome, Session,
    SignInRecord, SignOutOutcome, TokenStorage,
};
use tauri::async_runtime::spawn_blocking;
use tauri::ipc::{Channel, InvokeBody, Request};
use tauri::{AppHandle, State};

use crate::camera;
use crate::error::AppError;
use crate::state::AppState;

type Result<T> = std::result::Result<T, AppError>;

/// The saved account (from the account file and the OS keyring), if any.
#[tauri::command]
pub async fn account(state: State<'_, AppState>) -> Result<Option<Account>> {
    let session = Session::restore(state.account_file.clone(), state.tokens.clone()).await?;
    let account = session.as_ref().map(|s| s.account().clone());
    state.set_session(session);
    Ok(account)
}

#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    server_url: String,
    username: String,
    password: String,
) -> Result<Account> {
    let session = Session::sign_in(
        &server_url,
        &username,
        &password,
        &device_name(),
        state.tokens.clone(),
        TokenStorage::Keyring,
        state.account_file.clone(),
    )
    .await?;
    let account = session.account().clone();
    state.set_session(Some(session));
    Ok(account)
}

/// Revokes the token on the server and deletes it from the keyring.
#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<SignOutOutcome> {
    let session = state.take_session().ok_or(ClientError::NotSignedIn)?;
    Ok(session.sign_out().await?)
}

#[tauri::command]
pub async fn list_cameras() -> Result<Vec<CameraInfo>> {
    Ok(spawn_blocking(camera::list).await??)
}

/// Starts the camera thread: JPEG previews go to `preview`, picked codes
/// are emitted as [`camera::QR_FOUND`].
#[tauri::command]
pub async fn start_camera(
    app: AppHandle,
    state: State<'_, AppState>,
    camera: Option<u32>,
    preview: Channel,
) -> Result<Started> {
    let old = state.replace_camera(None);
    let check = state.code_check();
    let (thread, started) = spawn_blocking(move || {
        if let Some(old) = old {
            old.stop();
        }
        camera::start(camera, check, app, preview)
    })
    .await??;
    if let Some(raced) = state.replace_camera(Some(thread)) {
        spawn_blocking(move || raced.stop());
    }
    Ok(started)
}

#[tauri::command]
pub async fn stop_camera(state: State<'_, AppState>) -> Result<()> {
    if let Some(thread) = state.replace_camera(None) {
        spawn_blocking(move || thread.stop()).await?;
    }
    Ok(())
}

/// Decodes a picked image file (sent as the raw request body); returns the
/// QR text to act on ([`pick_code`]: a login code of the signed-in server
/// if there is one).
#[tauri::command]
pub async fn decode_image(state: State<'_, AppState>, request: Request<'_>) -> Result<String> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(AppError::Internal(
            "decode_image expects the image bytes".into(),
        ));
    };
    let bytes = bytes.clone();
    let check = state.code_check();
    spawn_blocking(move || {
        let image = image::load_from_memory(&bytes).map_err(|e| ClientError::Image {
            path: "you picked".into(),
            detail: e.to_string(),
        })?;
        let texts: Vec<String> = Decoder::default()
            .until_login_code()
            .decode(&image.into_luma8())
            .into_iter()
            .map(|f| f.text)
            .collect();
        let picked = pick_code(&texts, &check).ok_or(ClientError::NoCodeFound)?;
        Ok(picked.into_text())
    })
    .await?
}

/// Checks the scanned text and tells the server; returns who is asking.
#[tauri::command]
pub async fn begin_login(state: State<'_, AppState>, text: String) -> Result<LoginRequest> {
    let request = state.session()?.begin_login(&text).await?;
    state.set_pending(request.clone());
    Ok(request)
}

/// `code`: with number matching on, the number the user picked among the
/// request's `verification_choices`.
#[tauri::command]
pub async fn confirm_login(
    state: State<'_, AppState>,
    code: Option<String>,
) -> Result<&'static str> {
    let request = state.take_pending()?;
    let result = state.session()?.confirm(&request, code.as_deref()).await;
    if let Err(ClientError::VerificationRequired) = result {
        // Nothing was sent: the request can still be answered with a number.
        state.set_pending(request);
    }
    result?;
    Ok("confirmed")
}

#[tauri::command]
pub async fn cancel_login(state: State<'_, AppState>) -> Result<&'static str> {
    let request = state.take_pending()?;
    state.session()?.cancel(&request).await?;
    Ok("cancelled")
}

/// The user's signed-in apps, newest first (this one has `current`).
#[tauri::command]
pub async fn list_sessions(state: State<'_, AppState>) -> Result<Vec<AppSessionInfo>> {
    Ok(state.session()?.list_sessions().await?)
}

/// Signs another app of the user out (this one signs out with `sign_out`).
#[tauri::command]
pub async fn revoke_session(state: State<'_, AppState>, id: String) -> Result<()> {
    Ok(state.session()?.revoke_session(&id).await?)
}

/// The user's web sign-ins by QR code, newest first.
#[tauri::command]
pub async fn list_sign_ins(state: State<'_, AppState>) -> Result<Vec<SignInRecord>> {
    Ok(state.session()?.list_sign_ins().await?)
}

/// "Was this you? — No": signs out the browser of the sign-in with this
/// ticket id, or stops it if the page has not collected its token yet.
#[tauri::command]
pub async fn revoke_sign_in(state: State<'_, AppState>, id: String) -> Result<RevokeOutcome> {
    Ok(state.session()?.revoke_sign_in(&id).await?)
}

#[tauri::command]
pub async fn account_settings(state: State<'_, AppState>) -> Result<AccountSettings> {
    Ok(state.session()?.settings().await?)
}

/// Turns QR sign-in on or off for the account; returns the server's settings.
#[tauri::command]
pub async fn set_qr_login(state: State<'_, AppState>, enabled: bool) -> Result<AccountSettings> {
    Ok(state.session()?.set_qr_login(enabled).await?)
}

/// How this device appears in the user's session list on the server.
fn device_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match host {
        Some(host) => format!("QR Login app on {host}"),
        None => format!("QR Login app ({})", std::env::consts::OS),
    }
}
