import "./style.css";
import { type Ctx, type Nav, Prefs, type Screen, applyTheme } from "./app";
import { type Account, type AppError, backend, codeOfLink, toAppError } from "./backend";
import { confirmScreen } from "./screens/confirm";
import { resultScreen } from "./screens/result";
import { scannerScreen } from "./screens/scanner";
import { settingsScreen } from "./screens/settings";
import { signInScreen } from "./screens/signin";

const mount = document.getElementById("app") as HTMLElement;
let current: Screen | null = null;

function show(screen: Screen) {
  current?.dispose?.();
  current = screen;
  mount.replaceChildren(screen.root);
  mount.dataset.screen = screen.root.classList[1] ?? "";
  (screen.focus ?? screen.root).focus();
}

const nav: Nav = {
  signIn: (notice) => show(signInScreen(ctx, undefined, notice)),
  scanner: (link) => (ctx.account ? show(scannerScreen(ctx, link)) : nav.signIn()),
  confirm: (request) => show(confirmScreen(ctx, request)),
  result: (result) => show(resultScreen(ctx, result)),
  settings: () => show(settingsScreen(ctx)),
};

const ctx: Ctx = {
  backend,
  nav,
  account: null,
  setAccount(account: Account | null) {
    ctx.account = account;
  },
  prefs: new Prefs(),
};

/**
 * A link opened the app (a phone's camera app scanned the login QR, or a
 * `qrlogin:` link on desktop): answered like a scan of that code, from the
 * scanner screen, whatever screen was showing.
 */
function openLink(urls: string[]) {
  const url = urls.at(-1);
  if (url === undefined) return;
  if (ctx.account) nav.scanner(codeOfLink(url));
  else nav.signIn("Sign in first, then open the sign-in link again.");
}

async function boot() {
  applyTheme(ctx.prefs.theme);
  let restoreError: AppError | undefined;
  try {
    ctx.account = await backend.account();
  } catch (err) {
    restoreError = toAppError(err);
  }
  const opened = await backend.openedWithLinks().catch(() => []);
  backend.onLinkOpened(openLink).catch(() => undefined);
  if (opened.length > 0 && !restoreError) openLink(opened);
  else if (ctx.account) nav.scanner();
  else show(signInScreen(ctx, restoreError));
}

void boot();
