import type { Ctx, Screen } from "../app";
import { type LoginRequest, toAppError } from "../backend";
import { h, icon, icons } from "../dom";
import { formatCountdown, formatWhen } from "../time";
import { avatar, hostOf } from "./parts";

export function confirmScreen(ctx: Ctx, request: LoginRequest): Screen {
  const deadline = new Date(request.expires_at).getTime();
  const total = Math.max(1, deadline - Date.now());
  const remaining = h("strong", { id: "countdown" }, formatCountdown(deadline - Date.now()));
  const bar = h("span", { class: "bar" });
  const timer = h(
    "div",
    { class: "countdown", role: "timer", "aria-live": "off" },
    h("span", {}, "Expires in ", remaining),
    h("span", { class: "track", "aria-hidden": "true" }, bar),
  );
  const choices = request.verification_choices;
  const question = h("p", { class: "choice-question", id: "choice-question", tabindex: "-1" }, "Which number does the page show?");
  const choiceButtons = (choices ?? []).map((code) =>
    h("button", { type: "button", class: "choice", id: `choice-${code}`, dataset: { code }, "aria-describedby": "choice-question" }, code),
  );
  const confirm = h("button", { type: "button", class: "primary confirm big", id: "confirm" }, icon(icons.check), "Confirm sign-in");
  /** What the user answers with: the Confirm button, or the three numbers. */
  const confirmers = choices ? choiceButtons : [confirm];
  const cancel = h("button", { type: "button", class: "danger big", id: "cancel" }, icon(icons.x), "Cancel");
  const expiredNote = h("p", { class: "expired-note", id: "expired-note", role: "alert", hidden: true });
  let answered = false;

  function tick() {
    const left = deadline - Date.now();
    remaining.textContent = formatCountdown(left);
    bar.style.width = `${Math.max(0, Math.min(100, (left / total) * 100))}%`;
    timer.classList.toggle("urgent", left <= 10_000);
    if (left <= 0) expire();
  }

  function expire() {
    window.clearInterval(interval);
    for (const button of confirmers) button.disabled = true;
    timer.classList.add("over");
    expiredNote.hidden = false;
    expiredNote.replaceChildren(
      "This request expired before it was confirmed. Nobody was signed in. ",
      h("button", { type: "button", class: "link", id: "scan-again", onclick: () => ctx.nav.scanner() }, "Scan the code again"),
    );
    cancel.textContent = "Back to scanner";
    cancel.onclick = () => ctx.nav.scanner();
  }

  /** `code`: the number picked (number matching), or null for the Confirm button. */
  async function answer(kind: "confirm" | "cancel", code: string | null = null, pressed: HTMLElement = cancel) {
    if (answered) return;
    answered = true;
    for (const button of [...confirmers, cancel]) button.disabled = true;
    pressed.classList.add("busy");
    try {
      const outcome = kind === "confirm" ? await ctx.backend.confirmLogin(code) : await ctx.backend.cancelLogin();
      ctx.nav.result({ outcome, request });
    } catch (err) {
      ctx.nav.result({ outcome: "failed", request, error: toAppError(err) });
    }
  }

  confirm.addEventListener("click", () => void answer("confirm", null, confirm));
  for (const button of choiceButtons) {
    button.addEventListener("click", () => void answer("confirm", button.dataset.code ?? null, button));
  }
  cancel.onclick = () => void answer("cancel");
  const onKey = (event: KeyboardEvent) => {
    if (event.key === "Escape" && !answered && !confirmers[0]?.disabled) void answer("cancel");
  };
  document.addEventListener("keydown", onKey);
  const interval = window.setInterval(tick, 250);

  const account = ctx.account;
  const root = h(
    "main",
    { class: "screen confirm", "aria-labelledby": "confirm-title" },
    h(
      "header",
      { class: "confirm-head" },
      h("p", { class: "eyebrow" }, "Sign-in request"),
      h("h1", { id: "confirm-title" }, `Sign in to ${request.site_name || hostOf(request.site)}?`),
      h("p", { class: "origin", id: "confirm-origin" }, request.site),
      h("p", { class: "lead" }, "Only confirm if you are signing in on that computer yourself, right now."),
    ),
    // `=== false`: a server that predates the check sends nothing, and no warning.
    request.same_network === false ? networkWarning(request) : null,
    h(
      "section",
      { class: "card", "aria-labelledby": "who-title" },
      h("h2", { id: "who-title" }, "Who is asking"),
      h(
        "dl",
        { class: "facts" },
        fact(icons.monitor, "Browser", `${request.requester.browser} on ${request.requester.os}`, "requester-browser"),
        fact(icons.pin, "IP address", request.requester.ip, "requester-ip"),
        fact(icons.clock, "Requested", formatWhen(request.requester.created_at), "requester-when"),
        fact(icons.globe, "Website", hostOf(request.site), "requester-server"),
      ),
    ),
    account
      ? h(
          "section",
          { class: "card account-card", "aria-label": "Account" },
          avatar(account, "medium"),
          h(
            "div",
            {},
            h("span", { class: "muted" }, "You will be signed in as"),
            h("strong", { id: "confirm-account" }, account.user.display_name),
            h("span", { class: "muted" }, `@${account.user.username}`),
          ),
        )
      : null,
    timer,
    expiredNote,
    choices
      ? h(
          "div",
          { class: "actions", role: "group", "aria-labelledby": "choice-question" },
          question,
          h("div", { class: "choices" }, ...choiceButtons),
          h("p", { class: "hint choice-hint" }, "Pick the number shown on the sign-in page. A wrong number cancels the sign-in."),
          cancel,
        )
      : h("div", { class: "actions" }, confirm, cancel),
    h("p", { class: "footnote" }, "Esc cancels."),
  );
  tick();

  return {
    root,
    // Cancel holds the focus, so a stray Enter never signs anyone in; with
    // number matching the question does (Enter must not pick a number unread).
    focus: choices && !confirmers[0]?.disabled ? question : cancel,
    dispose() {
      window.clearInterval(interval);
      document.removeEventListener("keydown", onKey);
    },
  };
}

/** "This sign-in request comes from a different network", with both addresses. */
function networkWarning(request: LoginRequest): HTMLElement {
  return h(
    "div",
    { class: "warning", id: "network-warning", role: "alert" },
    icon(icons.alert),
    h(
      "div",
      {},
      h("strong", { class: "warning-title" }, "This sign-in request comes from a different network"),
      h(
        "p",
        {},
        "The browser asking is at ",
        h("strong", { id: "warning-requester-ip" }, request.requester.ip),
        ", this device is at ",
        h("strong", { id: "warning-scanner-ip" }, request.scanner_ip),
        ". If you did not just open this sign-in page yourself, cancel: someone may be trying to sign in as you.",
      ),
    ),
  );
}

function fact(path: string, label: string, value: string, id: string): HTMLElement {
  return h("div", { class: "fact" }, icon(path), h("dt", {}, label), h("dd", { id }, value));
}
