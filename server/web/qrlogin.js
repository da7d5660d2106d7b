// @ts-check
/**
 * QR Login SDK: sign a person in on this page by letting them scan a QR code
 * with the QR Login app and tap Confirm.
 *
 * Plain JavaScript, no dependencies, no build step. Either import it:
 *
 *     import { QRLogin } from "https://login.example/sdk/qrlogin.js";
 *     const { access_token, user } = await QRLogin.start({ element: "#login" });
 *
 * or load it with `<script type="module" src="https://login.example/sdk/qrlogin.js">`
 * and use the global `QRLogin`. Types: `/sdk/qrlogin.d.ts`.
 *
 * The code is in ES modules beside this file, loaded by it: `qrlogin/transport.js`
 * (HTTP client), `qrlogin/events.js` (event stream), `qrlogin/session.js`
 * (session state) and `qrlogin/view.js` (the widget). The wire types come from
 * the Rust ones (`qrlogin/wire.d.ts`, generated).
 *
 * What it does: creates a ticket (POST /api/v1/qr), shows its QR code with a
 * countdown, follows the ticket's changes over Server-Sent Events read with
 * `fetch` (the poll secret travels in the Authorization header, never in a
 * URL), falls back to long-polling when streaming is not possible, reconnects
 * with the last seen version after a dropped connection, swaps in a fresh code
 * shortly before the current one expires while the page is visible (for about
 * five minutes, then it asks for a click), exchanges the confirmed ticket for
 * an access token and resolves with it. `stop()` (and leaving the page) gives
 * the ticket up.
 *
 * With number matching on (`--verification-code`), the widget shows the two
 * digits the person must pick in the app; a wrong pick cancels the code and
 * says so. `QRLogin.me()` and `QRLogin.watchSession()` check a signed-in
 * session later (GET /api/v1/web/me), e.g. to notice that the person signed
 * this browser out from the app ("Was this you? — No").
 */

import { Api, QRLoginError, ServerClock, isAbort } from "./qrlogin/transport.js";
import { QRLoginSession, SCRIPT_URL, isVisible } from "./qrlogin/session.js";
import { VERSION } from "./qrlogin/version.js";

/** @typedef {import("./qrlogin").QRLoginApi} QRLoginApi */
/** @typedef {import("./qrlogin").StartOptions} StartOptions */
/** @typedef {import("./qrlogin").MeOptions} MeOptions */
/** @typedef {import("./qrlogin").WatchSessionOptions} WatchSessionOptions */
/** @typedef {import("./qrlogin").SessionWatch} SessionWatch */

export { QRLoginError };

/** How often `watchSession` asks the server whether the session still holds. */
const SESSION_CHECK_MS = 5000;

/**
 * Starts a login in `options.element` (an element or a CSS selector; leave it out
 * to draw nothing and use the callbacks). Returns the session: await it (or its
 * `result`) for `{access_token, token_type, expires_in, user}`.
 *
 * @param {StartOptions} [options]
 * @returns {QRLoginSession}
 */
function start(options) {
  return new QRLoginSession(options);
}

/** @param {string | undefined} server */
const apiFor = (server) => new Api(server ?? new URL(SCRIPT_URL).origin, new ServerClock());

/**
 * Who a web access token belongs to: resolves with the user's profile, or
 * rejects with a QRLoginError whose `code` is "token_revoked" (signed out
 * from the app), "unauthorized" (expired or not a token of this server) or
 * "network".
 *
 * @param {Partial<MeOptions>} [options]
 * @returns {ReturnType<QRLoginApi["me"]>}
 */
function me({ server, accessToken, signal } = {}) {
  if (!accessToken) return Promise.reject(new QRLoginError("unauthorized", "There is no access token to check.", { status: 401 }));
  return apiFor(server).me(accessToken, signal);
}

/**
 * Keeps checking a signed-in session with `me()`: every `intervalMs` while
 * the page is visible, and at once when it becomes visible again. When the
 * server no longer accepts the token (401: "token_revoked" or
 * "unauthorized"), it stops and calls `onSignedOut(error)`. Network trouble
 * only goes to `onError` and the checks carry on. Returns `{check, stop}`.
 *
 * @param {Partial<WatchSessionOptions>} [options]
 * @returns {SessionWatch}
 */
function watchSession({ server, accessToken, intervalMs = SESSION_CHECK_MS, onSignedOut, onError } = {}) {
  const api = apiFor(server);
  const controller = new AbortController();
  /** @type {Promise<void> | null} */
  let running = null;
  const check = () => {
    if (controller.signal.aborted) return Promise.resolve();
    running ??= api.me(/** @type {string} */ (accessToken), controller.signal).then(
      () => undefined,
      (error) => {
        if (controller.signal.aborted || isAbort(error)) return;
        if (error.status === 401) {
          stop();
          onSignedOut?.(error);
        } else {
          onError?.(error);
        }
      },
    ).finally(() => { running = null; });
    return running;
  };
  const onVisibility = () => { if (isVisible()) check(); };
  const timer = setInterval(onVisibility, intervalMs);
  document.addEventListener("visibilitychange", onVisibility);
  function stop() {
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisibility);
    controller.abort();
  }
  return { check, stop };
}

/** @type {QRLoginApi} */
export const QRLogin = Object.freeze({ start, me, watchSession, QRLoginError, version: VERSION });
export default QRLogin;
globalThis.QRLogin ??= QRLogin;
