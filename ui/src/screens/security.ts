// The account's security part of Settings: the QR sign-in switch, the
// signed-in devices, and the history of sign-ins by QR code.
import type { Ctx } from "../app";
import { type AppSession, type SignInRecord, toAppError } from "../backend";
import { h } from "../dom";
import { errorBox } from "../errors";
import type { SignInStatus } from "../generated/wire";
import { formatAgo, formatDateTime } from "../time";

/** "Allow QR sign-in for this account" (`settings` / `set_qr_login`). */
export function qrLoginCard(ctx: Ctx): HTMLElement {
  const errors = h("div", { class: "errors" });
  const toggle = h("input", { type: "checkbox", id: "qr-login-toggle", role: "switch", disabled: true });
  const hint = h("small", { class: "hint", id: "qr-login-hint" }, "Loading…");
  const describe = () => {
    hint.textContent = toggle.checked
      ? "Scanning a sign-in code with this account signs that browser in after you confirm."
      : "QR sign-in is off: codes scanned with this account are refused, on every device.";
  };
  ctx.backend
    .accountSettings()
    .then((settings) => {
      toggle.checked = settings.qr_login_enabled;
      toggle.disabled = false;
      describe();
    })
    .catch((err) => {
      hint.textContent = "";
      errors.append(errorBox(toAppError(err)));
    });
  toggle.addEventListener("change", async () => {
    errors.replaceChildren();
    const wanted = toggle.checked;
    toggle.disabled = true;
    try {
      toggle.checked = (await ctx.backend.setQrLogin(wanted)).qr_login_enabled;
    } catch (err) {
      toggle.checked = !wanted;
      errors.append(errorBox(toAppError(err)));
    }
    toggle.disabled = false;
    describe();
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "qr-login-title" },
    h("h2", { id: "qr-login-title" }, "QR sign-in"),
    h(
      "label",
      { class: "switch-row", for: "qr-login-toggle" },
      h("span", {}, "Allow QR sign-in for this account"),
      toggle,
    ),
    hint,
    errors,
  );
}

/** The user's signed-in apps; Revoke for each but this one (that is Sign out). */
export function devicesCard(ctx: Ctx): HTMLElement {
  const list = h("ul", { class: "rows", id: "sessions", "aria-busy": "true" });
  const errors = h("div", { class: "errors" });

  function row(session: AppSession): HTMLElement {
    const item = h(
      "li",
      { class: "row", dataset: { id: session.id, current: String(session.current) } },
      h(
        "div",
        { class: "row-main" },
        h("strong", { class: "row-title" }, session.device_name, session.current ? h("span", { class: "chip this-device" }, "This device") : null),
        h(
          "span",
          { class: "row-detail" },
          `Signed in ${formatDateTime(session.created_at)} · last used ${formatAgo(session.last_used_at)}`,
        ),
      ),
    );
    if (!session.current) {
      const revoke = h("button", { type: "button", class: "danger small revoke", "aria-label": `Revoke ${session.device_name}` }, "Revoke");
      revoke.addEventListener("click", async () => {
        errors.replaceChildren();
        revoke.disabled = true;
        try {
          await ctx.backend.revokeSession(session.id);
          item.remove();
        } catch (err) {
          errors.append(errorBox(toAppError(err)));
          revoke.disabled = false;
        }
      });
      item.append(revoke);
    }
    return item;
  }

  ctx.backend
    .listSessions()
    .then((sessions) => list.replaceChildren(...sessions.map(row)))
    .catch((err) => errors.append(errorBox(toAppError(err))))
    .finally(() => list.removeAttribute("aria-busy"));

  return h(
    "section",
    { class: "card", "aria-labelledby": "sessions-title" },
    h("h2", { id: "sessions-title" }, "Signed-in devices"),
    list,
    errors,
    h("small", { class: "hint" }, "Revoke signs that device out. To sign out this device, use Sign out below."),
  );
}

/** `qrlogin_core::SignInStatus`; the rule is `SignInRecord::status_at`. */
type SignInState = SignInStatus;

function stateOf(record: SignInRecord, now = Date.now()): SignInState {
  if (record.revoked_at) return "revoked";
  return new Date(record.expires_at).getTime() <= now ? "expired" : "active";
}

const STATE_LABEL: Record<SignInState, string> = { active: "Active", revoked: "Signed out", expired: "Expired" };

/** Web sign-ins made by QR code: when, which browser, from where, by which device. */
export function signInHistoryCard(ctx: Ctx): HTMLElement {
  const list = h("ul", { class: "rows", id: "sign-ins", "aria-busy": "true" });
  const errors = h("div", { class: "errors" });

  function row(record: SignInRecord): HTMLElement {
    const chip = h("span", { class: "chip state" });
    const item = h(
      "li",
      { class: "row", dataset: { id: record.id } },
      h(
        "div",
        { class: "row-main" },
        h(
          "strong",
          { class: "row-title" },
          // An OpenID Connect sign-in names its site (the client's registered name).
          record.client_name ? `${record.client_name} · ` : "",
          `${record.requester.browser} on ${record.requester.os}`,
          chip,
        ),
        h("span", { class: "row-detail" }, `${formatDateTime(record.signed_in_at)} · ${record.requester.ip}`),
        h("span", { class: "row-detail" }, `Confirmed with ${record.device_name}`),
      ),
    );
    const show = (state: SignInState) => {
      item.dataset.state = state;
      chip.dataset.state = state;
      chip.textContent = STATE_LABEL[state];
    };
    const state = stateOf(record);
    show(state);
    if (state === "active") {
      const revoke = h(
        "button",
        { type: "button", class: "danger small revoke", "aria-label": `Sign out ${record.requester.browser} on ${record.requester.os}` },
        "Revoke",
      );
      revoke.addEventListener("click", async () => {
        errors.replaceChildren();
        revoke.disabled = true;
        try {
          await ctx.backend.revokeSignIn(record.id);
          show("revoked");
          revoke.remove();
        } catch (err) {
          errors.append(errorBox(toAppError(err)));
          revoke.disabled = false;
        }
      });
      item.append(revoke);
    }
    return item;
  }

  ctx.backend
    .listSignIns()
    .then((records) =>
      list.replaceChildren(
        ...(records.length ? records.map(row) : [h("li", { class: "row empty", id: "no-sign-ins" }, "No sign-ins by QR code yet.")]),
      ),
    )
    .catch((err) => errors.append(errorBox(toAppError(err))))
    .finally(() => list.removeAttribute("aria-busy"));

  return h(
    "section",
    { class: "card", "aria-labelledby": "sign-ins-title" },
    h("h2", { id: "sign-ins-title" }, "Sign-ins by QR code"),
    list,
    errors,
  );
}
