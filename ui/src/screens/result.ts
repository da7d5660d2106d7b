import type { Ctx, Result, Screen } from "../app";
import { type LoginRequest, ticketIdOf, toAppError } from "../backend";
import { h, icon, icons } from "../dom";
import { errorBox, errorTitle } from "../errors";
import { hostOf } from "./parts";

export function resultScreen(ctx: Ctx, result: Result): Screen {
  const again = h("button", { type: "button", class: "primary big", id: "scan-another" }, "Scan another code");
  again.addEventListener("click", () => ctx.nav.scanner());
  const where = result.request ? `${result.request.requester.browser} on ${result.request.requester.os}` : "The other computer";
  const site = result.request ? result.request.site_name || hostOf(result.request.site) : "the website";

  let badge: SVGSVGElement;
  let title: string;
  let text: string;
  let reason: string | undefined;
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
      if (result.error.kind === "wrong_verification_code") {
        reason = "wrong_code";
        title = "Sign-in cancelled: the number did not match";
        text =
          "The number you picked is not the one the sign-in page showed, so the sign-in was cancelled and nobody was signed in. " +
          "If you were not signing in yourself, someone may have sent you this code to get into your account: do not scan codes that others send you.";
      } else {
        title = errorTitle(result.error);
        text = result.error.message;
      }
      again.textContent = "Scan again";
      break;
  }

  const root = h(
    "main",
    {
      class: `screen result ${result.outcome}`,
      "aria-labelledby": "result-title",
      dataset: reason ? { outcome: result.outcome, reason } : { outcome: result.outcome },
    },
    h(
      "div",
      { class: "result-body", role: result.outcome === "failed" ? "alert" : "status" },
      h("div", { class: "badge" }, badge),
      h("h1", { id: "result-title" }, title),
      h("p", { class: "lead", id: "result-text" }, text),
    ),
    result.outcome === "confirmed" ? wasThisYou(ctx, result.request, where) : null,
    again,
  );
  return { root, focus: again };
}

/** "Was this you?" with a one-tap sign-out of the browser that was just signed in. */
function wasThisYou(ctx: Ctx, request: LoginRequest, where: string): HTMLElement {
  const errors = h("div", { class: "errors" });
  const status = h("p", { class: "muted", id: "was-this-you-text" }, `If you did not just sign in on ${where}, sign that browser out now.`);
  const heading = h("h2", { id: "was-this-you-title" }, "Was this you?");
  const notMe = h("button", { type: "button", class: "danger big", id: "not-me" }, icon(icons.x), "No, sign that browser out");
  const card = h(
    "section",
    { class: "card was-this-you", id: "was-this-you", "aria-labelledby": "was-this-you-title" },
    heading,
    status,
    errors,
    notMe,
  );
  notMe.addEventListener("click", async () => {
    errors.replaceChildren();
    notMe.disabled = true;
    notMe.classList.add("busy");
    try {
      const outcome = await ctx.backend.revokeSignIn(ticketIdOf(request.qr));
      card.dataset.outcome = outcome;
      heading.textContent = "Signed out";
      status.setAttribute("role", "status");
      status.textContent =
        outcome === "revoked"
          ? `${where} was signed out: its session was ended on the server.`
          : `${where} was stopped before it finished signing in. Nobody is signed in there.`;
      notMe.remove();
    } catch (err) {
      errors.append(errorBox(toAppError(err)));
      notMe.disabled = false;
      notMe.classList.remove("busy");
    }
  });
  return card;
}
