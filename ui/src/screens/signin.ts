import type { Ctx, Screen } from "../app";
import { type AppError, toAppError } from "../backend";
import { h, icon, icons } from "../dom";
import { errorBox } from "../errors";

export function signInScreen(ctx: Ctx, initialError?: AppError, notice?: string): Screen {
  const server = h("input", {
    id: "server",
    name: "server",
    type: "url",
    required: true,
    autocomplete: "url",
    placeholder: "https://login.example.com",
    spellcheck: "false",
  });
  server.value = ctx.prefs.lastServer;
  const username = h("input", {
    id: "username",
    name: "username",
    required: true,
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
  });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    required: true,
    autocomplete: "current-password",
  });
  const submit = h("button", { type: "submit", class: "primary big", id: "sign-in" }, "Sign in");
  const errors = h("div", { class: "errors", "aria-live": "polite" });
  if (initialError) errors.append(errorBox(initialError));
  const noticeBox = notice
    ? h("div", { class: "notice", role: "status", id: "notice" }, h("strong", {}, "Signed out on this device only"), h("p", {}, notice))
    : null;

  const form = h(
    "form",
    { class: "card form", novalidate: true },
    field("Server", server, "The address of your organisation's login server."),
    field("Username", username),
    field("Password", password),
    errors,
    submit,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    const missing = [server, username, password].find((input) => input.value.trim() === "");
    if (missing) {
      errors.append(
        errorBox({ kind: "missing_field", message: `Please fill in ${labelOf(missing)}.` }),
      );
      missing.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      const account = await ctx.backend.signIn(server.value.trim(), username.value.trim(), password.value);
      ctx.prefs.lastServer = account.server;
      ctx.setAccount(account);
      ctx.nav.scanner();
    } catch (err) {
      errors.append(errorBox(toAppError(err)));
      password.select();
      password.focus();
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  });

  const root = h(
    "main",
    { class: "screen signin", "aria-labelledby": "signin-title" },
    h(
      "header",
      { class: "hero" },
      h("img", { class: "logo", src: "/icon.svg", alt: "" }),
      h("h1", { id: "signin-title" }, "QR Login"),
      h("p", { class: "lead" }, "Sign in once here, then approve sign-ins on any computer by scanning its QR code."),
    ),
    noticeBox,
    form,
    h("p", { class: "footnote" }, icon(icons.lock), "Your session key is kept in the system keyring, never in a file."),
  );
  return { root, focus: server.value ? username : server };
}

function field(label: string, input: HTMLInputElement, hint?: string): HTMLElement {
  return h(
    "div",
    { class: "field" },
    h("label", { for: input.id }, label),
    input,
    hint ? h("small", { class: "hint" }, hint) : null,
  );
}

function labelOf(input: HTMLInputElement): string {
  return document.querySelector(`label[for="${input.id}"]`)?.textContent?.toLowerCase() ?? input.name;
}
