// The mock twin of `backend.ts`: answers the same commands through Tauri's
// own `mockIPC`, so the real UI code runs unchanged in a plain browser.
// Tests steer it through `window.qrloginMock`.
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { Account, AppError, CameraInfo, LoginRequest } from "./backend";

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
  };
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
      const now = Date.now();
      const request: LoginRequest = {
        qr: text,
        site: SERVER,
        requester: {
          browser: "Firefox 133",
          os: "Windows 10",
          ip: "203.0.113.7",
          user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
          created_at: new Date(now - 4000).toISOString(),
        },
        expires_at: new Date(now + state.expiresIn * 1000).toISOString(),
      };
      return request;
    },
    "plugin:barcode-scanner|scan": () => ({ content: state.imageText, format: "QR_CODE" }),
    confirm_login: () => "confirmed",
    cancel_login: () => "cancelled",
  };

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

/** Pretends the camera stopped working. */
export function emitCameraFailed(error: AppError): Promise<void> {
  return emit("camera-failed", error);
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
