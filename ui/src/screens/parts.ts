// Pieces shared by several screens.
import type { Ctx } from "../app";
import type { Account } from "../backend";
import { h, icon, icons } from "../dom";

export function topBar(ctx: Ctx, title: string, titleId: string, back?: () => void): HTMLElement {
  return h(
    "header",
    { class: "topbar" },
    back
      ? h("button", { type: "button", class: "icon-button", id: "back", "aria-label": "Back", onclick: back }, icon(icons.back))
      : h("span", { class: "icon-spacer" }),
    h("h1", { id: titleId }, title),
    back
      ? h("span", { class: "icon-spacer" })
      : h(
          "button",
          { type: "button", class: "icon-button", id: "open-settings", "aria-label": "Settings", onclick: () => ctx.nav.settings() },
          icon(icons.gear),
        ),
  );
}

export function avatar(account: Account, size = "small"): HTMLElement {
  const initials = account.user.display_name
    .split(/\s+/)
    .map((part) => part[0] ?? "")
    .join("")
    .slice(0, 2)
    .toUpperCase();
  return h("span", { class: `avatar ${size}`, "aria-hidden": "true" }, initials || "?");
}

export function accountChip(account: Account): HTMLElement {
  return h(
    "p",
    { class: "account-chip", id: "account-chip" },
    avatar(account),
    h("span", {}, "Signed in as ", h("strong", {}, account.user.display_name), ` on ${hostOf(account.server)}`),
  );
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
