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

use std::path::Path;
use std::sync::Arc;

use qrlogin_client::{AccountFile, TokenStore};
use tauri::{AppHandle, Manager};

use crate::state::AppState;

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    // Links that open the app: https://<server>/q/<id> on phones (App Links,
    // host in tauri.conf.json), qrlogin:<login code> on desktop. The UI reads
    // them (get_current, the deep-link://new-url event) and answers them
    // like a scan.
    let builder = tauri::Builder::default();
    // Desktop: a second launch (how Linux and Windows deliver a clicked
    // link) hands its arguments to this app, whose deep-link plugin then
    // emits the link, and brings the window forward. Registered first, as
    // the plugin requires.
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.set_focus();
        }
    }));
    let builder = builder.plugin(tauri_plugin_deep_link::init());
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_barcode_scanner::init());
    let result = builder
        .setup(|app| {
            let dir = app.path().app_data_dir()?;
            let account_file = AccountFile::new(dir.join("account.json"));
            let tokens = token_store(app.handle(), &dir);
            app.manage(AppState::new(account_file, tokens));
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

/// Where the session token is kept: the OS keyring on desktop and iOS (the
/// Keychain there); on Android, which the keyring crate does not cover, a
/// file in the app's private directory sealed under an Android Keystore key.
#[cfg(not(target_os = "android"))]
fn token_store(_app: &AppHandle, _dir: &Path) -> Arc<dyn TokenStore> {
    Arc::new(qrlogin_client::KeyringStore::new())
}

#[cfg(target_os = "android")]
fn token_store(app: &AppHandle, dir: &Path) -> Arc<dyn TokenStore> {
    use qrlogin_client::SealedTokenStore;
    use qrlogin_client::store::android::KeystoreCipher;
    let app = app.clone();
    let cipher = KeystoreCipher::new(move || java_vm(&app));
    Arc::new(SealedTokenStore::new(
        dir.join("session-token.sealed"),
        cipher,
    ))
}

/// The app's Java VM, from Tauri's JNI handle of the main window. Runs on a
/// blocking thread (token-store calls always do): it waits for the UI
/// thread to run the JNI closure.
#[cfg(target_os = "android")]
fn java_vm(app: &AppHandle) -> Result<qrlogin_client::store::android::JavaVM, String> {
    let window = app
        .get_webview_window("main")
        .ok_or("the main window is not open")?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    window
        .with_webview(move |webview| {
            webview.jni_handle().exec(move |env, _activity, _webview| {
                let _ = tx.send(env.get_java_vm().map_err(|e| e.to_string()));
            });
        })
        .map_err(|e| e.to_string())?;
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .map_err(|_| "the app's window did not hand over the Java VM".to_string())?
}
