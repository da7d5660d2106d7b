// The mock twin of `backend.ts`: answers the same commands through Tauri's
// own `mockIPC`, so the real UI code runs unchanged in a plain browser.
// Tests steer it through `window.qrloginMock`.
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import {
  type Account,
  type AccountSettings,
  type AppError,
  type AppSession,
  type CameraInfo,
  type LoginRequest,
  type SignInRecord,
  ticketIdOf,
} from "./backend";

export interface MockState {
  account: Account | null;
  cameras: CameraInfo[];
  /** When set, `start_camera` fails with it (e.g. no camera). */
  cameraError: AppError | null;
  /** Seconds from `begin_login` until the request expires. */
  expiresIn: number;
  /** What `decode_image` finds in any image. */
  imageText: string;
  /** Errors the next call of a command fails with, by command name. */
  failures: Record<string, AppError>;
  calls: { cmd: string; args: unknown }[];
  /** Number matching (`?verification=1`): the choices offered and the page's number. */
  verificationChoices: string[] | null;
  pageCode: string;
  /** The phone's camera permission (`?cameraPermission=denied`): what the barcode plugin reports. */
  cameraPermission: "granted" | "denied" | "prompt";
  /** `?scan=cancel`: the person backs out of the system scanner. */
  scanCancelled: boolean;
  /** `?link=URL`: the link the app was opened with (tauri-plugin-deep-link). */
  openedWith: string[] | null;
  /** `?network=other`: the browser is on another network than this device. */
  sameNetwork: boolean;
  /** What `revoke_sign_in` answers for a sign-in not in the list yet (`?revokeOutcome=cancelled`). */
  revokeOutcome: "revoked" | "cancelled";
  sessions: AppSession[];
  signIns: SignInRecord[];
  /** Who the scan response says is asking. */
  site: { name: string; origin: string };
  settings: AccountSettings;
}

const SERVER = "https://login.example.com";

export const ALICE: Account = {
  server: SERVER,
  username: "alice",
  user: { id: "u-alice", username: "alice", display_name: "Alice Example", avatar_url: null },
};

export function installMockBackend(options: URLSearchParams): MockState {
  const state: MockState = {
    account: options.get("signedIn") === "1" ? ALICE : null,
    cameras:
      options.get("camera") === "none"
        ? []
        : [
            { index: 0, name: "Integrated Webcam" },
            { index: 1, name: "USB Camera" },
          ],
    cameraError:
      options.get("camera") === "none"
        ? { kind: "no_camera", message: "No camera was found (this computer reports no camera)." }
        : null,
    expiresIn: Number(options.get("expiresIn") ?? "60"),
    imageText: `${SERVER}/q/AAAAAAAAAAAAAAAAAAAAAA`,
    failures: {},
    calls: [],
    verificationChoices: options.get("verification") === "1" ? ["42", "17", "80"] : null,
    pageCode: "17",
    sameNetwork: options.get("network") !== "other",
    cameraPermission: options.get("cameraPermission") === "denied" ? "denied" : "prompt",
    scanCancelled: options.get("scan") === "cancel",
    openedWith: options.get("link") ? [String(options.get("link"))] : null,
    revokeOutcome: options.get("revokeOutcome") === "cancelled" ? "cancelled" : "revoked",
    sessions: exampleSessions(),
    signIns: options.get("history") === "empty" ? [] : exampleSignIns(),
    // `?siteName=Grafana&siteOrigin=https://grafana.example.com`: an OpenID Connect client asks.
    site: { name: options.get("siteName") ?? "Example Shop", origin: options.get("siteOrigin") ?? SERVER },
    settings: { qr_login_enabled: options.get("qrLogin") !== "off" },
  };
  let pending: LoginRequest | null = null;
  let frameTimer: number | undefined;

  const handlers: Record<string, (args: Record<string, unknown>) => unknown> = {
    account: () => {
      if (options.get("accountError") === "keyring") {
        throw { kind: "keyring_unavailable", message: "No OS keyring is available to keep your sign-in token safe." };
      }
      return state.account;
    },
    sign_in: (args) => {
      if (args.password !== "demo") {
        throw { kind: "invalid_credentials", message: "Wrong user name or password. Check both and try again." };
      }
      const username = String(args.username);
      state.account = { server: String(args.serverUrl).replace(/\/$/, ""), username, user: { ...ALICE.user, username } };
      return state.account;
    },
    sign_out: () => {
      state.account = null;
      const offline = options.get("signOut") === "offline";
      return {
        revoked_on_server: !offline,
        note: offline ? "Could not reach the login server. The token was deleted from this device." : null,
      };
    },
    list_cameras: () => state.cameras,
    start_camera: (args) => {
      if (state.cameraError) throw state.cameraError;
      const channel = args.preview as { onmessage: (data: ArrayBuffer) => void };
      window.clearInterval(frameTimer);
      frameTimer = window.setInterval(async () => channel.onmessage(await fakeFrame()), 66);
      return { name: state.cameras[0]?.name ?? "Camera" };
    },
    stop_camera: () => {
      window.clearInterval(frameTimer);
      return null;
    },
    decode_image: () => state.imageText,
    begin_login: (args) => {
      const text = String(args.text);
      if (!text.startsWith(`${SERVER}/q/`)) {
        throw {
          kind: "foreign_origin",
          message: `This code is for ${new URL(text).origin}, but you are signed in to ${SERVER}. Nothing was sent.`,
        };
      }
      if (!state.settings.qr_login_enabled) {
        throw {
          kind: "qr_login_disabled",
          message: "Signing in with a QR code is turned off for this account, so the sign-in was refused.",
        };
      }
      const now = Date.now();
      const request: LoginRequest = {
        qr: text,
        site: state.site.origin,
        site_name: state.site.name,
        requester: {
          browser: "Firefox 133",
          os: "Windows 10",
          ip: "203.0.113.7",
          user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
          created_at: new Date(now - 4000).toISOString(),
        },
        expires_at: new Date(now + state.expiresIn * 1000).toISOString(),
        scanner_ip: state.sameNetwork ? "203.0.113.7" : "198.51.100.23",
        same_network: state.sameNetwork,
        verification_choices: state.verificationChoices,
      };
      pending = request;
      return request;
    },
    // tauri-plugin-barcode-scanner: a permission prompt the person answers
    // (granted unless `?cameraPermission=denied`), then the scan or a cancel.
    "plugin:barcode-scanner|check_permissions": () => ({ camera: state.cameraPermission }),
    "plugin:barcode-scanner|request_permissions": () => {
      if (state.cameraPermission === "prompt") state.cameraPermission = "granted";
      return { camera: state.cameraPermission };
    },
    "plugin:barcode-scanner|scan": () => {
      if (state.cameraPermission !== "granted") {
        throw "No permission to use camera. Did you request it yet?";
      }
      if (state.scanCancelled) throw "cancelled";
      return { content: state.imageText, format: "QR_CODE" };
    },
    // tauri-plugin-deep-link
    "plugin:deep-link|get_current": () => state.openedWith,
    confirm_login: (args) => {
      const request = takePending();
      const code = (args.code as string | null | undefined) ?? null;
      if (request.verification_choices && code === null) {
        throw { kind: "verification_required", message: "This sign-in needs the number shown on the sign-in page." };
      }
      if (request.verification_choices && code !== state.pageCode) {
        throw {
          kind: "wrong_verification_code",
          message: "The number you picked is not the one the sign-in page shows, so the sign-in was cancelled.",
        };
      }
      const now = Date.now();
      state.signIns.unshift({
        id: ticketIdOf(request.qr),
        requester: request.requester,
        device_name: state.sessions.find((s) => s.current)?.device_name ?? "QR Login app",
        signed_in_at: new Date(now).toISOString(),
        expires_at: new Date(now + 3600_000).toISOString(),
        revoked_at: null,
      });
      return "confirmed";
    },
    cancel_login: () => {
      takePending();
      return "cancelled";
    },
    list_sessions: () => state.sessions,
    revoke_session: (args) => {
      const target = state.sessions.find((s) => s.id === args.id && !s.current);
      if (!target) {
        throw { kind: "unknown_id", message: `There is no session "${String(args.id)}" on your account.` };
      }
      state.sessions = state.sessions.filter((s) => s !== target);
      return null;
    },
    list_sign_ins: () => state.signIns,
    revoke_sign_in: (args) => {
      const record = state.signIns.find((r) => r.id === args.id);
      if (!record) {
        throw { kind: "unknown_id", message: `There is no sign-in "${String(args.id)}" on your account.` };
      }
      if (state.revokeOutcome === "cancelled") {
        state.signIns = state.signIns.filter((r) => r !== record);
        return "cancelled";
      }
      record.revoked_at = new Date().toISOString();
      return "revoked";
    },
    account_settings: () => state.settings,
    set_qr_login: (args) => {
      state.settings = { qr_login_enabled: Boolean(args.enabled) };
      return state.settings;
    },
  };

  function takePending(): LoginRequest {
    if (!pending) {
      throw { kind: "no_pending_login", message: "There is no sign-in request waiting for an answer. Scan a code first." };
    }
    const request = pending;
    pending = null;
    return request;
  }

  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      state.calls.push({ cmd, args: payload instanceof Uint8Array ? { bytes: payload.length } : payload });
      const failure = state.failures[cmd];
      if (failure) {
        delete state.failures[cmd];
        throw failure;
      }
      const handler = handlers[cmd];
      if (!handler) throw { kind: "internal", message: `mock: unknown command ${cmd}` };
      return handler(args);
    },
    { shouldMockEvents: true },
  );
  return state;
}

const MINUTE = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const ahead = (ms: number) => new Date(Date.now() + ms).toISOString();

function exampleSessions(): AppSession[] {
  return [
    { id: "s-laptop", device_name: "QR Login app on alice-laptop", created_at: ago(3 * 24 * 60 * MINUTE), last_used_at: ago(10_000), current: true },
    { id: "s-phone", device_name: "QR Login app on Pixel 8", created_at: ago(9 * 24 * 60 * MINUTE), last_used_at: ago(2 * 60 * MINUTE), current: false },
    { id: "s-cli", device_name: "qrlogin CLI on build-box", created_at: ago(30 * 24 * 60 * MINUTE), last_used_at: ago(6 * 24 * 60 * MINUTE), current: false },
  ];
}

function exampleSignIns(): SignInRecord[] {
  const requester = (browser: string, os: string, ip: string, at: number) => ({
    browser,
    os,
    ip,
    user_agent: `Mozilla/5.0 (${os}) ${browser}`,
    created_at: ago(at + MINUTE),
  });
  return [
    {
      id: "BBBBBBBBBBBBBBBBBBBBBB",
      requester: requester("Chrome 131", "macOS", "203.0.113.50", 25 * MINUTE),
      device_name: "QR Login app on alice-laptop",
      signed_in_at: ago(25 * MINUTE),
      expires_at: ahead(35 * MINUTE),
      revoked_at: null,
      client_name: "Grafana",
    },
    {
      id: "CCCCCCCCCCCCCCCCCCCCCC",
      requester: requester("Firefox 133", "Linux", "198.51.100.4", 3 * 60 * MINUTE),
      device_name: "QR Login app on Pixel 8",
      signed_in_at: ago(3 * 60 * MINUTE),
      expires_at: ahead(21 * 60 * MINUTE),
      revoked_at: ago(2 * 60 * MINUTE),
    },
    {
      id: "DDDDDDDDDDDDDDDDDDDDDD",
      requester: requester("Safari 18", "iOS 18", "192.0.2.77", 3 * 24 * 60 * MINUTE),
      device_name: "QR Login app on alice-laptop",
      signed_in_at: ago(3 * 24 * 60 * MINUTE),
      expires_at: ago(2 * 24 * 60 * MINUTE),
      revoked_at: null,
    },
  ];
}

/** Pretends the camera stopped working. */
export function emitCameraFailed(error: AppError): Promise<void> {
  return emit("camera-failed", error);
}

/** Pretends a link opened the running app (tauri-plugin-deep-link's event). */
export function emitLinkOpened(url: string): Promise<void> {
  return emit("deep-link://new-url", [url]);
}

/** Pretends the camera thread decoded `text`. */
export function emitQrFound(text: string): Promise<void> {
  return emit("qr-found", text);
}

let frameCounter = 0;
async function fakeFrame(): Promise<ArrayBuffer> {
  const canvas = document.createElement("canvas");
  canvas.width = 320;
  canvas.height = 240;
  const g = canvas.getContext("2d") as CanvasRenderingContext2D;
  const shade = 90 + ((frameCounter += 3) % 40);
  g.fillStyle = `rgb(${shade}, ${shade + 10}, ${shade + 25})`;
  g.fillRect(0, 0, 320, 240);
  g.fillStyle = "#f5f5f0";
  g.fillRect(110, 70, 100, 100);
  const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b as Blob), "image/jpeg", 0.7));
  return blob.arrayBuffer();
}
