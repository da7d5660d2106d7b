//! Exit codes: one per kind of outcome a script may want to branch on.

use std::process::ExitCode;

use qrlogin_client::{ClientError, ErrorKind};

pub const NO_CODE_FOUND: u8 = 1;
/// Usage errors (clap's own, and a missing --code).
pub const USAGE: u8 = 2;
pub const NOT_SIGNED_IN: u8 = 3;
pub const REFUSED_CODE: u8 = 4;
pub const LOGIN_NOT_POSSIBLE: u8 = 5;
pub const SERVER: u8 = 6;
pub const STORAGE: u8 = 7;
pub const BAD_CREDENTIALS: u8 = 8;
pub const OTHER: u8 = 9;
pub const UNKNOWN_ID: u8 = 10;

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (also: a sign-in you chose to cancel)
  1  no QR code found in the image
  2  usage error (also: number matching is on and --yes was given without --code)
  3  not signed in, or the sign-in has ended (run `qrlogin login`)
  4  the QR code was refused: not a login code, or from another server (nothing was sent)
  5  the sign-in cannot go on: the code expired, was scanned by someone else, was cancelled
     (also: the number picked did not match the page's) or already used, or QR sign-in is
     turned off for your account
  6  the server could not be reached or had a problem
  7  the OS keyring or a local file could not be used
  8  wrong user name or password
  9  anything else (unreadable image, camera)
 10  no session or sign-in with that id on your account";

pub fn for_kind(kind: ErrorKind) -> u8 {
    use ErrorKind as K;
    match kind {
        K::NoCodeFound => NO_CODE_FOUND,
        K::NotSignedIn | K::SignedOut | K::TokenRevoked => NOT_SIGNED_IN,
        K::NotALoginCode | K::ForeignOrigin => REFUSED_CODE,
        K::Expired
        | K::AlreadyScanned
        | K::NotYours
        | K::NotScanned
        | K::AlreadyConfirmed
        | K::AlreadyConsumed
        | K::Cancelled
        | K::NotFound
        | K::QrLoginDisabled
        | K::WrongVerificationCode
        | K::VerificationRequired => LOGIN_NOT_POSSIBLE,
        K::UnknownId => UNKNOWN_ID,
        K::ServerUnreachable | K::ServerError | K::RateLimited | K::Rejected | K::BadServerUrl => {
            SERVER
        }
        K::KeyringUnavailable | K::Storage => STORAGE,
        K::InvalidCredentials => BAD_CREDENTIALS,
        K::Image | K::Camera => OTHER,
    }
}

pub fn for_error(err: &anyhow::Error) -> ExitCode {
    let code = err
        .downcast_ref::<ClientError>()
        .map(|e| for_kind(e.kind()))
        .unwrap_or(OTHER);
    ExitCode::from(code)
}
