import type { Ctx, Screen } from "../app";
import { type AppError, toAppError } from "../backend";
import { h, icon, icons } from "../dom";
import { errorBox, errorTitle } from "../errors";
import { accountChip, topBar } from "./parts";

/** `link`: the login code of an opened link, handled as if just scanned. */
export function scannerScreen(ctx: Ctx, link?: string): Screen {
  const preview = h("img", { class: "preview", id: "preview", alt: "" });
  const viewport = h(
    "div",
    { class: "viewport", id: "viewport", dataset: { state: "starting", fps: "0" } },
    preview,
    h(
      "div",
      { class: "viewfinder", "aria-hidden": "true" },
      h("span", { class: "corner tl" }),
      h("span", { class: "corner tr" }),
      h("span", { class: "corner bl" }),
      h("span", { class: "corner br" }),
      h("span", { class: "scanline" }),
    ),
  );
  const status = h("p", { class: "status", id: "scan-status", role: "status" }, "Starting the camera…");
  const errors = h("div", { class: "errors" });
  const fileInput = h("input", { type: "file", accept: "image/*", id: "image-file", class: "visually-hidden", tabindex: "-1" });
  const fileButton = h(
    "button",
    { type: "button", class: "secondary big", id: "scan-file" },
    icon(icons.image),
    "Scan from image file",
  );
  fileButton.addEventListener("click", () => fileInput.click());

  let disposed = false;
  let busy = false;
  let frameUrl: string | null = null;
  let frames = 0;
  const unlisteners: (() => void)[] = [];

  const fpsTimer = window.setInterval(() => {
    viewport.dataset.fps = String(frames);
    frames = 0;
  }, 1000);

  function showFrame(jpeg: ArrayBuffer) {
    if (disposed) return;
    const next = URL.createObjectURL(new Blob([jpeg], { type: "image/jpeg" }));
    preview.src = next;
    if (frameUrl) URL.revokeObjectURL(frameUrl);
    frameUrl = next;
    frames += 1;
    if (viewport.dataset.state !== "live") {
      viewport.dataset.state = "live";
      status.textContent = "Point the camera at the QR code on the sign-in page.";
    }
  }

  function showCameraOff(err: AppError) {
    viewport.dataset.state = "off";
    viewport.querySelector("#camera-off")?.remove();
    viewport.append(
      h(
        "div",
        { class: "camera-off", id: "camera-off", role: "alert", dataset: { kind: err.kind } },
        icon(icons.camOff),
        h("strong", {}, errorTitle(err)),
        h("p", {}, err.message),
        h("p", {}, "You can still scan a QR code from an image file."),
      ),
    );
    status.textContent = "";
  }

  async function handleText(text: string) {
    if (busy || disposed) return;
    busy = true;
    errors.replaceChildren();
    status.textContent = "Checking the code…";
    try {
      const request = await ctx.backend.beginLogin(text);
      if (!disposed) ctx.nav.confirm(request);
    } catch (err) {
      showError(toAppError(err));
    } finally {
      busy = false;
    }
  }

  function showError(err: AppError) {
    if (disposed) return;
    errors.replaceChildren(errorBox(err));
    status.textContent =
      viewport.dataset.state === "live" ? "Point the camera at the QR code on the sign-in page." : "";
  }

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files?.[0];
    fileInput.value = "";
    if (!file) return;
    errors.replaceChildren();
    status.textContent = "Reading the image…";
    try {
      const text = await ctx.backend.decodeImage(new Uint8Array(await file.arrayBuffer()));
      await handleText(text);
    } catch (err) {
      showError(toAppError(err));
    }
  });

  const keep = (off: () => void) => (disposed ? off() : unlisteners.push(off));
  ctx.backend
    .onQrFound((text) => void handleText(text))
    .then(keep)
    .catch((err) => showError(toAppError(err)));
  ctx.backend
    .onCameraFailed((err) => showCameraOff(err))
    .then(keep)
    .catch((err) => showError(toAppError(err)));

  const systemScan = h("button", { type: "button", class: "primary big", id: "system-scan" }, "Scan with camera");
  systemScan.addEventListener("click", async () => {
    errors.replaceChildren();
    try {
      const text = await ctx.backend.scanWithSystemScanner();
      if (text === null) {
        status.textContent = "Scan cancelled. Tap Scan with camera to try again.";
        return;
      }
      await handleText(text);
    } catch (err) {
      showError(toAppError(err));
    }
  });

  if (ctx.backend.isMobile) {
    viewport.dataset.state = "off";
    status.textContent = "Tap Scan with camera, then point it at the QR code.";
  } else {
    ctx.backend
      .startCamera(ctx.prefs.camera, showFrame)
      .then((camera) => {
        viewport.dataset.camera = camera.name;
      })
      .catch((err) => {
        if (!disposed) showCameraOff(toAppError(err));
      });
  }

  if (link !== undefined) void handleText(link);

  const root = h(
    "main",
    { class: "screen scanner", "aria-labelledby": "scanner-title" },
    topBar(ctx, "Scan to sign in", "scanner-title"),
    ctx.account ? accountChip(ctx.account) : null,
    viewport,
    status,
    errors,
    ctx.backend.isMobile ? systemScan : null,
    fileButton,
    fileInput,
  );

  return {
    root,
    focus: ctx.backend.isMobile ? systemScan : fileButton,
    dispose() {
      disposed = true;
      window.clearInterval(fpsTimer);
      for (const off of unlisteners) off();
      if (frameUrl) URL.revokeObjectURL(frameUrl);
      ctx.backend.stopCamera().catch(() => undefined);
    },
  };
}
