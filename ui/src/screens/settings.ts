import type { Ctx, Screen, Theme } from "../app";
import { type CameraInfo, toAppError } from "../backend";
import { h } from "../dom";
import { errorBox } from "../errors";
import { avatar, topBar } from "./parts";
import { devicesCard, qrLoginCard, signInHistoryCard } from "./security";

export function settingsScreen(ctx: Ctx): Screen {
  const account = ctx.account;
  const errors = h("div", { class: "errors" });

  const camera = h("select", { id: "camera" }, h("option", { value: "" }, "First camera (default)"));
  const cameraNote = h("small", { class: "hint", id: "camera-note" }, "Looking for cameras…");
  ctx.backend
    .listCameras()
    .then((cameras: CameraInfo[]) => {
      for (const cam of cameras) camera.append(h("option", { value: String(cam.index) }, cam.name));
      camera.value = ctx.prefs.camera === null ? "" : String(ctx.prefs.camera);
      cameraNote.textContent =
        cameras.length === 0
          ? "No camera found. You can still scan QR codes from image files."
          : `${cameras.length} camera${cameras.length === 1 ? "" : "s"} found.`;
    })
    .catch((err) => {
      cameraNote.textContent = "";
      errors.append(errorBox(toAppError(err)));
    });
  camera.addEventListener("change", () => {
    ctx.prefs.camera = camera.value === "" ? null : Number(camera.value);
  });

  const theme = h(
    "select",
    { id: "theme" },
    h("option", { value: "system" }, "Same as the system"),
    h("option", { value: "light" }, "Light"),
    h("option", { value: "dark" }, "Dark"),
  );
  theme.value = ctx.prefs.theme;
  theme.addEventListener("change", () => {
    ctx.prefs.theme = theme.value as Theme;
  });

  const signOut = h("button", { type: "button", class: "danger big", id: "sign-out" }, "Sign out");
  signOut.addEventListener("click", async () => {
    errors.replaceChildren();
    signOut.disabled = true;
    signOut.textContent = "Signing out…";
    try {
      const outcome = await ctx.backend.signOut();
      ctx.setAccount(null);
      ctx.nav.signIn(outcome.revoked_on_server ? undefined : outcome.note ?? undefined);
    } catch (err) {
      errors.append(errorBox(toAppError(err)));
      signOut.disabled = false;
      signOut.textContent = "Sign out";
    }
  });

  const root = h(
    "main",
    { class: "screen settings", "aria-labelledby": "settings-title" },
    topBar(ctx, "Settings", "settings-title", () => ctx.nav.scanner()),
    account
      ? h(
          "section",
          { class: "card account-card", "aria-label": "Account" },
          avatar(account, "medium"),
          h(
            "div",
            {},
            h("strong", { id: "settings-name" }, account.user.display_name),
            h("span", { class: "muted", id: "settings-username" }, `@${account.user.username}`),
          ),
        )
      : null,
    account ? qrLoginCard(ctx) : null,
    account ? devicesCard(ctx) : null,
    account ? signInHistoryCard(ctx) : null,
    h(
      "section",
      { class: "card form" },
      h(
        "div",
        { class: "field" },
        h("span", { class: "label" }, "Server"),
        h("code", { id: "settings-server", class: "value" }, account?.server ?? "—"),
      ),
      h("div", { class: "field" }, h("label", { for: "camera" }, "Camera"), camera, cameraNote),
      h("div", { class: "field" }, h("label", { for: "theme" }, "Appearance"), theme),
    ),
    errors,
    signOut,
    h("p", { class: "footnote" }, "Signing out ends this device's session on the server and removes its key from the system keyring."),
  );
  return { root, focus: root.querySelector<HTMLElement>("#back") ?? camera };
}
