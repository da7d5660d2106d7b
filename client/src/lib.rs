//! QR Login's app side: everything the scanner app and the `qrlogin` command
//! line do, except drawing pixels. The Tauri app (`src-tauri`) is a thin
//! shell over this crate; so is the `qrlogin` binary.
//!
//! # Public API
//!
//! - [`Session`] — the high-level API both front ends use:
//!   - [`Session::sign_in`]`(server_url, username, password, device_name,
//!     store, storage, account_file)` signs in, keeps the token in a
//!     [`TokenStore`] and writes the (non-secret) [`AccountFile`];
//!   - [`Session::restore`]`(account_file, store)` picks the saved session up
//!     again in a new process (`None` when signed out);
//!   - [`Session::user`], [`Session::server`], [`Session::me`];
//!   - [`Session::begin_login`]`(scanned_text)` parses the scanned text,
//!     refuses any code that is not a login code of the signed-in server
//!     **before any request**, then tells the server and returns a
//!     [`LoginRequest`] (who is asking: browser, OS, IP, time; the deadline);
//!     The request also carries the site's name, whether the browser is on
//!     the same network as this device (with the warning text,
//!     [`LoginRequest::different_network_warning`]) and, with number
//!     matching on, the three `verification_choices`;
//!   - [`Session::confirm`]`(request, picked_number)` / [`Session::cancel`]
//!     answer it;
//!   - [`Session::list_sessions`] / [`Session::revoke_session`] (the user's
//!     signed-in apps), [`Session::list_sign_ins`] /
//!     [`Session::revoke_sign_in`] (web sign-ins by QR, "Was this you?"),
//!     [`Session::settings`] / [`Session::set_qr_login`];
//!   - [`Session::sign_out`] revokes the token on the server and deletes it
//!     and the account file here (locally even when the server is
//!     unreachable; the [`SignOutOutcome`] says so).
//! - [`ApiClient`] — the typed HTTP calls (sign in/out, me, scan, confirm,
//!   cancel, sessions, sign-ins, settings) of one server; reqwest with
//!   rustls, no redirects, timeouts.
//! - [`ClientError`] — every failure, with [`ClientError::kind`] (an
//!   [`ErrorKind`] the UI branches on) and a `Display` message for people;
//!   serializes as `{"kind": …, "message": …}` so a Tauri command can return
//!   it directly.
//! - [`TokenStore`] with [`KeyringStore`] (the OS keyring), [`FileTokenStore`]
//!   (0600 file, only on explicit opt-in), [`SealedTokenStore`] (encrypted
//!   under a platform key: the Android Keystore, `store::android`) and
//!   [`MemoryTokenStore`] (tests).
//! - [`decode`] — camera frames and images (`image::GrayImage`, RGB, YUYV) →
//!   QR texts, preferring login codes, with two decoders (rxing, then rqrr)
//!   and the preprocessing real photos need; [`decode::FrameDecoder`] for
//!   live camera streams (per-frame budget); [`decode::pick_code`], the one
//!   policy for which code of a picture to act on (the first one a
//!   [`decode::CodeCheck`] accepts, else the first one with the reason it
//!   was refused). Decoding is CPU work: from async code, run it in
//!   `tokio::task::spawn_blocking`.
//! - [`camera`] — with the `camera` feature (desktop): the one camera loop,
//!   [`camera::CameraThread`] over a [`camera::FrameSource`] (a webcam
//!   through nokhwa, or pictures named by `QRLOGIN_FAKE_CAMERA`), used by
//!   `qrlogin scan --camera N` and the desktop app. Without it only the
//!   camera error and info types.
//!
//! All async functions need a tokio runtime. Token-store calls block (D-Bus
//! or OS APIs); [`Session`] runs them through `spawn_blocking`.

pub mod account;
pub mod api;
pub mod camera;
pub mod decode;
pub mod error;
pub mod session;
pub mod store;

pub use account::{Account, AccountFile, CONFIG_DIR_ENV, TokenStorage};
pub use api::ApiClient;
pub use error::{ClientError, ErrorKind};
pub use session::{LoginRequest, Session, SignOutOutcome};
pub use store::{FileTokenStore, KeyringStore, MemoryTokenStore, SealedTokenStore, TokenStore};

pub use qrlogin_core::{
    AccountSettings, AppSessionInfo, LoginQr, Origin, RequesterInfo, RevokeOutcome, SignInRecord,
    UserProfile,
};
