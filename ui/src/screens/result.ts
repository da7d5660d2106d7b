import type { Ctx, Result, Screen } from "../app";
import { h, icon, icons } from "../dom";
import { errorTitle } from "../errors";
import { hostOf } from "./parts";

export function resultScreen(ctx: Ctx, result: Result): Screen {
  const again = h("button", { type: "button", class: "primary big", id: "scan-another" }, "Scan another code");
  again.addEventListener("click", () => ctx.nav.scanner());
  const where = result.request ? `${result.request.requester.browser} on ${result.request.requester.os}` : "The other computer";
  const site = result.request ? hostOf(result.request.site) : "the website";

  let badge: SVGSVGElement;
  let title: string;
  let text: string;
  switch (result.outcome) {
    case "confirmed":
      badge = icon(icons.check);
      title = "Signed in";
      text = `${where} is now signed in to ${site} as ${ctx.account?.user.display_name ?? "you"}.`;
      break;
    case "cancelled":
      badge = icon(icons.x);
      title = "Sign-in cancelled";
      text = `Nobody was signed in. ${where} was told that you declined.`;
      break;
    case "failed":
      badge = icon(icons.alert);
      title = errorTitle(result.error);
      text = result.error.message;
      again.textContent = "Scan again";
      break;
  }

  const root = h(
    "main",
    { class: `screen result ${result.outcome}`, "aria-labelledby": "result-title", dataset: { outcome: result.outcome } },
    h(
      "div",
      { class: "result-body", role: result.outcome === "failed" ? "alert" : "status" },
      h("div", { class: "badge" }, badge),
      h("h1", { id: "result-title" }, title),
      h("p", { class: "lead", id: "result-text" }, text),
    ),
    again,
  );
  return { root, focus: again };
}
