//! QR Login scanner app: a Tauri 2 shell over `qrlogin-client`.
//!
//! - [`commands`]: what the UI can invoke (sign in/out, camera, scan,
//!   confirm/cancel, devices, QR sign-ins and "Was this you?", the QR
//!   sign-in switch), each a few lines over the client crate;
//! - [`camera`]: the client's camera loop (`qrlogin_client::camera`:
//!   webcams through nokhwa, or pictures as frames with
//!   `QRLOGIN_FAKE_CAMERA`) streaming into the window, desktop only;
//! - [`state`]: the session, the request being answered, the camera.
//!
//! On Android and iOS (`cfg(mobile)`) the official barcode-scanner plugin
//! replaces the camera loop, which is not even built there.

pub mod camera;
pub mod commands;
pub mod error;
pub mod state;

use std::sync::Arc;

use qrlogin_client::{AccountFile, KeyringStore};
use tauri::Manager;

use crate::state::AppState;

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let builder = tauri::Builder::default();
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_barcode_scanner::init());
    let result = builder
        .setup(|app| {
            let dir = app.path().app_data_dir()?;
            let account_file = AccountFile::new(dir.join("account.json"));
            app.manage(AppState::new(account_file, Arc::new(KeyringStore::new())));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::account,
            commands::sign_in,
            commands::sign_out,
            commands::list_cameras,
            commands::start_camera,
            commands::stop_camera,
            commands::decode_image,
            commands::begin_login,
            commands::confirm_login,
            commands::cancel_login,
            commands::list_sessions,
            commands::revoke_session,
            commands::list_sign_ins,
            commands::revoke_sign_in,
            commands::account_settings,
            commands::set_qr_login,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("QR Login could not start: {e}");
        std::process::exit(1);
    }
}
