// Screen switching and what every screen shares.
import type { Account, Backend, LoginOutcome, LoginRequest, AppError } from "./backend";

export interface Screen {
  root: HTMLElement;
  /** Element to focus when the screen appears (keyboard users start here). */
  focus?: HTMLElement;
  /** Called when the screen goes away: stop cameras, timers, listeners. */
  dispose?: () => void;
}

export type Result =
  | { outcome: LoginOutcome; request: LoginRequest }
  | { outcome: "failed"; request: LoginRequest | null; error: AppError };

export interface Nav {
  /** `notice`: something to tell the user on the sign-in screen. */
  signIn(notice?: string): void;
  /** `link`: a login code that arrived as a link, answered like a scan. */
  scanner(link?: string): void;
  confirm(request: LoginRequest): void;
  result(result: Result): void;
  settings(): void;
}

export interface Ctx {
  backend: Backend;
  nav: Nav;
  account: Account | null;
  setAccount(account: Account | null): void;
  prefs: Prefs;
}

export type Theme = "system" | "light" | "dark";

/** Small, non-secret preferences kept in the webview's storage. */
export class Prefs {
  get camera(): number | null {
    const raw = localStorage.getItem("qrlogin.camera");
    return raw === null ? null : Number(raw);
  }
  set camera(index: number | null) {
    if (index === null) localStorage.removeItem("qrlogin.camera");
    else localStorage.setItem("qrlogin.camera", String(index));
  }
  get theme(): Theme {
    const raw = localStorage.getItem("qrlogin.theme");
    return raw === "light" || raw === "dark" ? raw : "system";
  }
  set theme(theme: Theme) {
    localStorage.setItem("qrlogin.theme", theme);
    applyTheme(theme);
  }
  get lastServer(): string {
    return localStorage.getItem("qrlogin.server") ?? "";
  }
  set lastServer(url: string) {
    localStorage.setItem("qrlogin.server", url);
  }
}

export function applyTheme(theme: Theme): void {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}
