// Every error the UI shows: a short title for its kind, then the message the
// Rust side wrote for people. `TITLES` must name every `AppErrorKind` (most are
// generated from the Rust `qrlogin_client::ErrorKind`): a new kind without a
// title here fails `tsc`.
import type { AppError, AppErrorKind } from "./backend";
import { h, icon, icons } from "./dom";

const TITLES: Record<AppErrorKind, string> = {
  // qrlogin_client::ErrorKind
  bad_server_url: "That server address does not look right",
  server_unreachable: "Cannot reach the login server",
  server_error: "The login server had a problem",
  invalid_credentials: "Wrong username or password",
  signed_out: "You were signed out",
  not_signed_in: "You are not signed in",
  keyring_unavailable: "The system keyring is not available",
  storage: "Could not save your sign-in on this device",
  not_a_login_code: "This is not a QR Login code",
  foreign_origin: "This code is for a different website",
  no_code_found: "No QR code found in that image",
  image: "That file is not an image we can read",
  camera: "The camera stopped working",
  expired: "This sign-in request has expired",
  already_scanned: "Someone else already scanned this code",
  not_yours: "This request belongs to another account",
  not_scanned: "This code was not scanned yet",
  already_confirmed: "This sign-in was already confirmed",
  already_consumed: "This code was already used",
  cancelled: "This sign-in request was cancelled",
  not_found: "This sign-in request no longer exists",
  qr_login_disabled: "QR sign-in is turned off for your account",
  wrong_verification_code: "The number did not match",
  verification_required: "Pick the number the page shows",
  token_revoked: "This sign-in was revoked",
  unknown_id: "Not found on your account",
  rate_limited: "Too many attempts",
  rejected: "The login server refused the request",
  // the app's own
  missing_field: "Something is missing",
  no_camera: "No camera found",
  camera_denied: "The camera is not allowed",
  no_pending_login: "There is no sign-in request to answer",
  internal: "Something went wrong",
};

export function errorTitle(err: AppError): string {
  // A kind this UI does not know yet (a newer Rust side) still gets a title.
  return TITLES[err.kind] ?? "Something went wrong";
}

/** An alert box for an error, announced to screen readers. */
export function errorBox(err: AppError): HTMLElement {
  return h(
    "div",
    { class: "alert", role: "alert", dataset: { kind: err.kind } },
    icon(icons.alert),
    h(
      "div",
      {},
      h("strong", { class: "alert-title" }, errorTitle(err)),
      h("p", { class: "alert-message" }, err.message),
    ),
  );
}
