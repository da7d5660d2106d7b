// Types of the QR Login SDK, served at /sdk/qrlogin.d.ts beside /sdk/qrlogin.js.
// The wire types (what the server sends) are generated from the Rust ones into
// ./qrlogin/wire.d.ts (/sdk/qrlogin/wire.d.ts); this file declares the SDK's API.

import type { CancelReason, ErrorCode, ExchangeResponse, PublicUser, UserProfile } from "./qrlogin/wire";

export type { CancelReason, ErrorCode, ExchangeResponse, PublicUser, UserProfile };

/** What the session resolves with once the person confirmed on their phone: the exchange's answer. */
export interface LoginResult extends ExchangeResponse {
  token_type: "Bearer";
}

export type LoginState =
  | "loading"
  | "pending"
  | "scanned"
  | "confirmed"
  | "signed_in"
  | "cancelled"
  | "expired"
  | "error"
  | "stopped";

/** More about a scan. */
export interface ScanDetail {
  /** With number matching on: the digits on screen that the person must pick in the app. */
  verificationCode: string | null;
}

/** More about a cancel. */
export interface CancelDetail {
  /** Null when the server did not say (an older server). */
  reason: CancelReason | null;
}

/** A code now on screen. */
export interface LoginCode {
  /** The text in the QR code: `https://<login server>/q/<id>`. */
  url: string;
  /** The QR code as an SVG document. */
  svg: string;
  expiresAt: Date;
}

export interface StartOptions {
  /** Origin of the login server. Default: the origin this script was loaded from. */
  server?: string;
  /** Where to draw the widget (element or CSS selector). Leave out to draw nothing and use the callbacks. */
  element?: Element | string | null;
  /** The code was scanned; the person still has to confirm on their phone. */
  onScanned?: (user: PublicUser | null, detail: ScanDetail) => void;
  /** Confirmed and exchanged: the person is signed in. */
  onConfirmed?: (result: LoginResult) => void;
  /** The code was cancelled: declined on the phone, or the wrong number was picked. */
  onCancelled?: (detail: CancelDetail) => void;
  /** The code expired (it is no longer replaced automatically). */
  onExpired?: () => void;
  /** The login server could not be reached, or refused the request. */
  onError?: (error: QRLoginError) => void;
  /** A new code is on screen (first code, rotation, or restart). */
  onCode?: (code: LoginCode) => void;
  /** Every state change, for pages that draw their own surroundings. */
  onState?: (state: LoginState, detail: {
    user?: PublicUser | UserProfile | null;
    error?: QRLoginError;
    url?: string;
    svg?: string;
    /** While "scanned", with number matching on. */
    verificationCode?: string | null;
    /** When "cancelled". */
    reason?: CancelReason | null;
  }) => void;
  /** Replace a code with a fresh one shortly before it expires while the page is visible. Default true. */
  rotate?: boolean;
  /** For how long codes are replaced without a click, in ms. Default 300000 (5 minutes). */
  rotateForMs?: number;
  /** Seconds one long-poll waits when streaming is not possible. Default 25. */
  longPollWaitSecs?: number;
  /** Add the widget's stylesheet: true (the server's /static/qrlogin.css), false, or a URL. Default true. */
  styles?: boolean | string;
  /**
   * The query string of an OpenID Connect authorization request (what the
   * server's own authorization page passes): the codes serve that request, and
   * after the confirm `onRedirect` gets the client's redirect URI with the code
   * instead of `onConfirmed` getting a token.
   */
  authorization?: string;
  /** With `authorization`: where to send the browser once confirmed. */
  onRedirect?: (url: string) => void;
}

export interface MeOptions {
  /** Origin of the login server. Default: the origin this script was loaded from. */
  server?: string;
  /** The `access_token` a login resolved with. */
  accessToken: string;
  signal?: AbortSignal;
}

export interface WatchSessionOptions extends MeOptions {
  /** How often to check while the page is visible, in ms. Default 5000. */
  intervalMs?: number;
  /** The server no longer accepts the token: `error.code` is "token_revoked" (signed out from the app) or "unauthorized" (expired). Checks stop. */
  onSignedOut?: (error: QRLoginError) => void;
  /** A check failed for another reason (network); checks carry on. */
  onError?: (error: QRLoginError) => void;
}

export interface SessionWatch {
  /** Check now. */
  check(): Promise<void>;
  /** Stop checking. */
  stop(): void;
}

/**
 * A `QRLoginError`'s code: the server's (e.g. "expired", "not_confirmed",
 * "token_revoked"), `http_<status>` for an answer that is not the API's, or the
 * SDK's own: "network" (no answer), "aborted" (stopped), "bad_response" (unreadable).
 */
export type QRLoginErrorCode = ErrorCode | "network" | "aborted" | "bad_response" | `http_${number}`;

export declare class QRLoginError extends Error {
  constructor(code: QRLoginErrorCode, message: string, options?: { status?: number; cause?: unknown });
  readonly code: QRLoginErrorCode;
  /** HTTP status, or 0 when there was no answer. */
  readonly status: number;
}

export interface QRLoginSession extends PromiseLike<LoginResult> {
  /** Resolves when signed in; rejects (code "aborted") only after `stop()`. */
  readonly result: Promise<LoginResult>;
  readonly state: LoginState;
  /** The link in the QR code now shown, or null. */
  readonly link: string | null;
  /** Give up the current code and show a new one. */
  restart(): void;
  /** Stop for good: the ticket is given up and the widget removed. */
  stop(): void;
}

export interface QRLoginApi {
  start(options?: StartOptions): QRLoginSession;
  /** The user a web access token belongs to (GET /api/v1/web/me); rejects with code "token_revoked", "unauthorized" or "network". */
  me(options: MeOptions): Promise<UserProfile>;
  /** Checks the token with `me()` periodically while the page is visible and says when it is signed out. */
  watchSession(options: WatchSessionOptions): SessionWatch;
  readonly QRLoginError: typeof QRLoginError;
  readonly version: string;
}

export declare const QRLogin: QRLoginApi;
export default QRLogin;

declare global {
  /** Set when qrlogin.js is loaded with `<script type="module">`. */
  var QRLogin: QRLoginApi;
}
