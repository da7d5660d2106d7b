// The one place the UI talks to the Rust side. Every `invoke`, `listen` and
// channel goes through here; `mock-backend.ts` is its twin for browser tests.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type {
  AccountSettings,
  AppSessionInfo,
  ClientErrorKind,
  RequesterInfo,
  RevokeOutcome,
  SignInRecord,
  UserProfile,
} from "./generated/wire";

// The wire types are generated from the Rust ones (`cargo run -p qrlogin-typegen`).
export type { AccountSettings, RevokeOutcome, SignInRecord };
export type User = UserProfile;
/** The browser that shows the code, as the server recorded it. */
export type Requester = RequesterInfo;
/** `qrlogin_core::AppSessionInfo`: one signed-in app of the user. */
export type AppSession = AppSessionInfo;

/**
 * Every `kind` a command fails with: `qrlogin_client::ErrorKind` (generated),
 * the app shell's own (src-tauri: camera, no pending login, internal), and the
 * UI's own (a form field left empty, the phone's camera not allowed).
 * `errors.ts` has a title for each.
 */
export type AppErrorKind =
  | ClientErrorKind
  | "no_camera"
  | "no_pending_login"
  | "internal"
  | "missing_field"
  | "camera_denied";

/** Every command error: `kind` to branch on, `message` for people. */
export interface AppError {
  kind: AppErrorKind;
  message: string;
}

/** `qrlogin_client::Account`: who is signed in, where. */
export interface Account {
  /** The login server's origin, e.g. `https://login.example.com`. */
  server: string;
  username: string;
  user: User;
}

/** `qrlogin_client::LoginRequest`: a scanned code the server accepted. */
export interface LoginRequest {
  /** The scanned code's text: `<origin>/q/<ticket id>`. */
  qr: string;
  /** The site being signed in to (an origin, as the server names it: the page's, or an OpenID client's). */
  site: string;
  /** The site's name, e.g. "Example Shop" (the host when the server names none). */
  site_name: string;
  requester: Requester;
  /** RFC 3339: Confirm or Cancel before this. */
  expires_at: string;
  /** This device's address as the server sees it. */
  scanner_ip: string;
  /** False when the browser is on another network than this device: warn. */
  same_network: boolean;
  /** Number matching on: three numbers, one of them on the page; confirm with the picked one. */
  verification_choices: string[] | null;
}

/** `qrlogin_client::SignOutOutcome` */
export interface SignOutOutcome {
  revoked_on_server: boolean;
  /** Why it was not revoked, in words. */
  note: string | null;
}

export type LoginOutcome = "confirmed" | "cancelled";

export interface CameraInfo {
  index: number;
  name: string;
}

export interface CameraStarted {
  name: string;
}

export function isAppError(value: unknown): value is AppError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as AppError).kind === "string" &&
    typeof (value as AppError).message === "string"
  );
}

/** Turns anything a command rejected with into an `AppError`. */
export function toAppError(value: unknown): AppError {
  if (isAppError(value)) return value;
  return { kind: "internal", message: String(value) };
}

async function call<T>(cmd: string, args?: Record<string, unknown> | Uint8Array): Promise<T> {
  try {
    return await invoke<T>(cmd, args as Record<string, unknown>);
  } catch (err) {
    throw toAppError(err);
  }
}

export const backend = {
  /** Android/iOS build: scanning goes through the system scanner plugin. */
  isMobile: /Android|iPhone|iPad/i.test(navigator.userAgent),
  /**
   * Mobile only: opens tauri-plugin-barcode-scanner's full-screen scanner,
   * asking for the camera permission first when it is not granted yet.
   * Resolves with the code's text, or `null` when the person cancelled.
   */
  async scanWithSystemScanner(): Promise<string | null> {
    let permission = await call<CameraPermission>("plugin:barcode-scanner|check_permissions");
    if (permission.camera !== "granted") {
      permission = await call<CameraPermission>("plugin:barcode-scanner|request_permissions");
    }
    if (permission.camera !== "granted") {
      throw {
        kind: "camera_denied",
        message:
          "QR Login may not use the camera. Allow it in the system settings (Apps → QR Login → Permissions → Camera), then tap Scan with camera again — or scan a screenshot of the code from an image file.",
      } satisfies AppError;
    }
    try {
      const scanned = await call<{ content: string }>("plugin:barcode-scanner|scan", {
        windowed: false,
        formats: ["QR_CODE"],
      });
      return scanned.content;
    } catch (err) {
      // The plugin rejects with "cancelled" when the person backs out.
      if (toAppError(err).message === "cancelled") return null;
      throw err;
    }
  },

  /**
   * The links the app was opened with (tauri-plugin-deep-link): on phones
   * `https://<server>/q/<id>` (App Links), on desktop `qrlogin:<login code>`.
   */
  openedWithLinks: () => call<string[] | null>("plugin:deep-link|get_current").then((urls) => urls ?? []),
  /** Fires when a link opens the running app. */
  onLinkOpened(handler: (urls: string[]) => void): Promise<UnlistenFn> {
    return listen<string[]>("deep-link://new-url", (event) => handler(event.payload));
  },

  /** The signed-in account restored from disk and the OS keyring, if any. */
  account: () => call<Account | null>("account"),
  signIn: (serverUrl: string, username: string, password: string) =>
    call<Account>("sign_in", { serverUrl, username, password }),
  /** Revokes the token on the server and deletes it from the keyring. */
  signOut: () => call<SignOutOutcome>("sign_out"),

  listCameras: () => call<CameraInfo[]>("list_cameras"),
  /** Starts the camera thread; `onFrame` gets JPEG preview frames. */
  startCamera(camera: number | null, onFrame: (jpeg: ArrayBuffer) => void) {
    const preview = new Channel<ArrayBuffer>(onFrame);
    return call<CameraStarted>("start_camera", { camera, preview });
  },
  stopCamera: () => call<void>("stop_camera"),
  /** Fires once per QR code the camera thread decodes. */
  onQrFound(handler: (text: string) => void): Promise<UnlistenFn> {
    return listen<string>("qr-found", (event) => handler(event.payload));
  },
  /** Fires when a running camera stops working. */
  onCameraFailed(handler: (err: AppError) => void): Promise<UnlistenFn> {
    return listen<AppError>("camera-failed", (event) => handler(toAppError(event.payload)));
  },
  /** Decodes a picked image file; resolves with the QR's text. */
  decodeImage: (bytes: Uint8Array) => call<string>("decode_image", bytes),

  beginLogin: (text: string) => call<LoginRequest>("begin_login", { text }),
  /** `code`: with number matching on, the number the user picked. */
  confirmLogin: (code: string | null = null) => call<LoginOutcome>("confirm_login", { code }),
  cancelLogin: () => call<LoginOutcome>("cancel_login"),

  /** The user's signed-in apps, newest first (this one has `current`). */
  listSessions: () => call<AppSession[]>("list_sessions"),
  /** Signs another app of the user out. */
  revokeSession: (id: string) => call<void>("revoke_session", { id }),
  /** The user's web sign-ins by QR code, newest first. */
  listSignIns: () => call<SignInRecord[]>("list_sign_ins"),
  /** "Was this you? — No": signs the browser of that sign-in (a ticket id) out. */
  revokeSignIn: (id: string) => call<RevokeOutcome>("revoke_sign_in", { id }),
  accountSettings: () => call<AccountSettings>("account_settings"),
  /** Turns QR sign-in on or off for the account. */
  setQrLogin: (enabled: boolean) => call<AccountSettings>("set_qr_login", { enabled }),
};

/** The barcode-scanner plugin's permission state. */
interface CameraPermission {
  camera: "granted" | "denied" | "prompt" | "prompt-with-rationale";
}

/** The desktop link scheme: `qrlogin:https://login.example.com/q/<id>`. */
const LINK_SCHEME = "qrlogin:";

/**
 * The scanned text an opened link stands for: the login code itself
 * (`https://<server>/q/<id>`, an App Link), or what follows `qrlogin:`.
 * It then takes the path of a scanned code (`beginLogin`: the same origin
 * check, the same confirm screen).
 */
export function codeOfLink(url: string): string {
  const text = url.trim();
  if (!text.toLowerCase().startsWith(LINK_SCHEME)) return text;
  return text.slice(LINK_SCHEME.length).replace(/^\/\/(?=https?:)/i, "");
}

/** The ticket id in a login code's text (`<origin>/q/<id>`). */
export function ticketIdOf(qr: string): string {
  try {
    return new URL(qr).pathname.split("/").filter(Boolean).at(-1) ?? "";
  } catch {
    return qr.split("/").at(-1) ?? "";
  }
}

export type Backend = typeof backend;
