//! Generates the Tauri context (config, icons, ACL) and one permission per
//! app command, so `capabilities/` can grant exactly the commands the UI uses.

const COMMANDS: &[&str] = &[
    "account",
    "sign_in",
    "sign_out",
    "list_cameras",
    "start_camera",
    "stop_camera",
    "decode_image",
    "begin_login",
    "confirm_login",
    "cancel_login",
    "list_sessions",
    "revoke_session",
    "list_sign_ins",
    "revoke_sign_in",
    "account_settings",
    "set_qr_login",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script failed: check tauri.conf.json and capabilities/");
}
