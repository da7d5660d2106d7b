/**
 * QR Login SDK: sign a person in on this page by letting them scan a QR code
 * with the QR Login app and tap Confirm.
 *
 * Plain JavaScript, no dependencies, no build step. Either import it:
 *
 *     import { QRLogin } from "https://login.example/sdk/qrlogin.js";
 *     const { access_token, user } = await QRLogin.start({ element: "#login" });
 *
 * or load it with `<script type="module" src="https://login.example/sdk/qrlogin.js">`
 * and use the global `QRLogin`. Types: `/sdk/qrlogin.d.ts`.
 *
 * What it does: creates a ticket (POST /api/v1/qr), shows its QR code with a
 * countdown, follows the ticket's changes over Server-Sent Events read with
 * `fetch` (the poll secret travels in the Authorization header, never in a
 * URL), falls back to long-polling when streaming is not possible, reconnects
 * with the last seen version after a dropped connection, swaps in a fresh code
 * shortly before the current one expires while the page is visible (for about
 * five minutes, then it asks for a click), exchanges the confirmed ticket for
 * an access token and resolves with it. `stop()` (and leaving the page) gives
 * the ticket up.
 *
 * With number matching on (`--verification-code`), the widget shows the two
 * digits the person must pick in the app; a wrong pick cancels the code and
 * says so. `QRLogin.me()` and `QRLogin.watchSession()` check a signed-in
 * session later (GET /api/v1/web/me), e.g. to notice that the person signed
 * this browser out from the app ("Was this you? — No").
 */

const SCRIPT_URL = import.meta.url;
const FINAL = new Set(["consumed", "cancelled", "expired"]);
const WAITING = new Set(["pending", "scanned"]);
const DEFAULTS = Object.freeze({
  rotate: true,
  rotateForMs: 5 * 60 * 1000,
  longPollWaitSecs: 25,
  styles: true,
});
/** A stream that says nothing (not even a keep-alive comment) this long is dead. */
const STREAM_IDLE_MS = 45_000;
/** The longest time before the deadline at which a code is replaced. */
const ROTATE_LEAD_MS = 10_000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
/** How long past the deadline a ticket the server still calls open is trusted. */
const EXPIRY_GRACE_MS = 3000;
/** Why a code was cancelled, as the server says it (`StatusView.reason`). */
const CANCEL_REASONS = new Set(["declined", "aborted", "wrong_code"]);
/** How often `watchSession` asks the server whether the session still holds. */
const SESSION_CHECK_MS = 5000;

/** An error the SDK reports: `code` is the server's error code, or "network" / "aborted". */
export class QRLoginError extends Error {
  constructor(code, message, { status = 0, cause } = {}) {
    super(message, { cause });
    this.name = "QRLoginError";
    this.code = code;
    this.status = status;
  }
}

/** Streaming is not possible here (blocked, buffered, or not served): use long-poll. */
class StreamUnavailable extends Error {}

const aborted = () => new QRLoginError("aborted", "The login was stopped.");
const isAbort = (error) => error?.code === "aborted" || error?.name === "AbortError";

/** The server's clock, estimated from the `Date` header of its responses. */
class ServerClock {
  #offsetMs = 0;

  observe(response) {
    const serverMs = Date.parse(response.headers.get("date") ?? "");
    if (Number.isNaN(serverMs)) return;
    // `Date` has whole seconds: the server read its clock somewhere in [serverMs, serverMs + 1 s).
    this.#offsetMs = serverMs + 500 - Date.now();
  }

  now() {
    return Date.now() + this.#offsetMs;
  }
}

/** The web-side calls of the HTTP API (v1). */
class Api {
  constructor(server, clock) {
    this.server = String(server).replace(/\/+$/, "");
    this.clock = clock;
  }

  async send(method, path, { secret, signal, keepalive = false, accept = "application/json", headers: extra, body } = {}) {
    const headers = { Accept: accept, ...extra };
    if (secret) headers.Authorization = `Bearer ${secret}`;
    let response;
    try {
      response = await fetch(this.server + path, {
        method, headers, body, signal, keepalive, credentials: "omit", cache: "no-store",
      });
    } catch (error) {
      if (signal?.aborted) throw aborted();
      throw new QRLoginError("network", "Can't reach the login server.", { cause: error });
    }
    this.clock.observe(response);
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  async json(method, path, options) {
    const response = await this.send(method, path, options);
    try {
      return await response.json();
    } catch (error) {
      if (options?.signal?.aborted) throw aborted();
      throw new QRLoginError("bad_response", "The login server sent a reply the page cannot read.", { cause: error });
    }
  }

  createTicket(signal) {
    // A JSON body makes a cross-origin call preflighted: a page on an origin the
    // server does not allow is refused before any ticket is made for it.
    return this.json("POST", "/api/v1/qr", { signal, headers: { "Content-Type": "application/json" }, body: "{}" });
  }

  status(ticket, { after, wait, signal } = {}) {
    const query = new URLSearchParams();
    if (after !== undefined) query.set("after", String(after));
    if (wait !== undefined) query.set("wait", String(wait));
    const suffix = query.toString() ? `?${query}` : "";
    return this.json("GET", `/api/v1/qr/${ticket.id}${suffix}`, { secret: ticket.secret, signal });
  }

  /** The ticket's event stream, resuming after the last version seen. */
  openEvents(ticket, signal) {
    return this.send("GET", `/api/v1/qr/${ticket.id}/events`, {
      secret: ticket.secret, signal, accept: "text/event-stream",
      headers: { "Last-Event-ID": String(ticket.version) },
    });
  }

  /** The signed-in user of a web access token (`GET /api/v1/web/me`). */
  me(accessToken, signal) {
    return this.json("GET", "/api/v1/web/me", { secret: accessToken, signal });
  }

  exchange(ticket, signal) {
    return this.json("POST", `/api/v1/qr/${ticket.id}/exchange`, { secret: ticket.secret, signal });
  }

  /** Gives the ticket up; best effort, never throws. */
  abandon(ticket, { keepalive = false } = {}) {
    return this.send("DELETE", `/api/v1/qr/${ticket.id}`, { secret: ticket.secret, keepalive })
      .then(() => undefined, () => undefined);
  }
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not a JSON error body (a proxy's page, say): describe it by its status.
  }
  const code = typeof body?.error === "string" ? body.error : `http_${response.status}`;
  const message = typeof body?.message === "string" ? body.message : `The login server answered ${response.status}.`;
  return new QRLoginError(code, message, { status: response.status });
}

/** Yields the `data` of each Server-Sent Event in a response body; `onBytes` runs on every chunk. */
async function* sseData(body, onBytes) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onBytes();
      buffer += value;
      let end;
      while ((end = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
        if (line === "") {
          if (data.length) yield data.join("\n");
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        }
        // Comments (keep-alives), `event:`, `id:` and `retry:` lines carry nothing we need.
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function linkedController(parent) {
  const controller = new AbortController();
  if (parent.aborted) controller.abort();
  else parent.addEventListener("abort", () => controller.abort(), { once: true });
  return controller;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener("abort", wake, { once: true });
  });
}

const isVisible = () => typeof document === "undefined" || document.visibilityState === "visible";

/** One login attempt on the page: a sequence of tickets until someone signs in or `stop()`. */
class QRLoginSession {
  #options;
  #clock = new ServerClock();
  #api;
  #view = null;
  #current = null;
  #state = "loading";
  #stopped = false;
  #finished = false;
  #useStream = true;
  #connected = true;
  #budgetStart = 0;
  #generation = 0;
  #session = new AbortController();
  #timer = 0;
  #resolve;
  #reject;
  #abandonedOnHide = false;

  constructor(options = {}) {
    this.#options = { ...DEFAULTS, ...options };
    const server = this.#options.server ?? new URL(SCRIPT_URL).origin;
    this.#api = new Api(server, this.#clock);
    /** Resolves with `{access_token, token_type, expires_in, user}` once signed in; rejects only on `stop()`. */
    this.result = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller that only uses the callbacks must not see an unhandled rejection after stop().
    this.result.catch(() => {});
    const element = typeof options.element === "string" ? document.querySelector(options.element) : options.element;
    if (element) {
      if (this.#options.styles) addStylesheet(this.#options.styles === true ? new URL("../static/qrlogin.css", SCRIPT_URL).href : this.#options.styles);
      this.#view = new LoginView(element, () => this.restart());
    }
    addEventListener("pagehide", this.#onPageHide);
    addEventListener("pageshow", this.#onPageShow);
    document.addEventListener("visibilitychange", this.#tick);
    this.#timer = setInterval(this.#tick, 250);
    this.restart();
  }

  /** "loading" | "pending" | "scanned" | "confirmed" | "signed_in" | "cancelled" | "expired" | "error" | "stopped" */
  get state() {
    return this.#state;
  }

  /** The link in the QR code now shown, or null. */
  get link() {
    return this.#current?.url ?? null;
  }

  then(onFulfilled, onRejected) {
    return this.result.then(onFulfilled, onRejected);
  }

  /** Gives up the current code and shows a new one (also what "Start over" and "Try again" do). */
  restart() {
    if (this.#stopped || this.#finished) return;
    this.#budgetStart = performance.now();
    this.#replaceTicket();
  }

  /** Stops for good: gives the ticket up, clears the element, rejects `result` with code "aborted". */
  stop() {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#shutDown();
    if (this.#current) this.#retire(this.#current);
    this.#view?.clear();
    this.#state = "stopped";
    this.#reject(aborted());
  }

  #shutDown() {
    clearInterval(this.#timer);
    this.#session.abort();
    removeEventListener("pagehide", this.#onPageHide);
    removeEventListener("pageshow", this.#onPageShow);
    document.removeEventListener("visibilitychange", this.#tick);
  }

  async #replaceTicket() {
    const generation = ++this.#generation;
    if (this.#current) this.#retire(this.#current);
    this.#current = null;
    this.#setState("loading");
    try {
      const ticket = await this.#createTicket();
      if (generation !== this.#generation || this.#stopped) {
        this.#retire(ticket);
        return;
      }
      this.#activate(ticket);
    } catch (error) {
      if (generation === this.#generation && !isAbort(error)) this.#fail(error);
    }
  }

  /** Shortly before `old` expires: show a fresh code, unless `old` was scanned meanwhile. */
  async #rotate(old) {
    old.rotating = true;
    const generation = this.#generation;
    let fresh;
    try {
      fresh = await this.#createTicket();
    } catch {
      return; // The old code stays until it expires; the expiry check says what went wrong.
    }
    if (generation !== this.#generation || this.#current !== old || old.status !== "pending") {
      this.#retire(fresh);
      return;
    }
    this.#retire(old);
    this.#activate(fresh);
  }

  async #createTicket() {
    const body = await this.#api.createTicket(this.#session.signal);
    const expiresAt = Date.parse(body.expires_at);
    return {
      id: body.id,
      secret: body.poll_secret,
      url: body.qr_url,
      svg: body.qr_svg,
      status: body.status ?? "pending",
      version: body.version ?? 0,
      expiresAt,
      lifetimeMs: expiresAt - this.#clock.now(),
      user: null,
      verificationCode: null,
      controller: linkedController(this.#session.signal),
      rotating: false,
      exchanging: false,
      nextExpiryCheck: 0,
    };
  }

  #activate(ticket) {
    this.#current = ticket;
    this.#setConnected(true);
    this.#setState("pending", { url: ticket.url, svg: ticket.svg });
    this.#options.onCode?.({ url: ticket.url, svg: ticket.svg, expiresAt: new Date(ticket.expiresAt) });
    this.#tick();
    this.#watch(ticket);
  }

  /** The ticket is no longer shown: stop following it and, if still open, give it up. */
  #retire(ticket, { keepalive = false } = {}) {
    ticket.controller.abort();
    if (WAITING.has(ticket.status) && !ticket.exchanging) {
      ticket.status = "cancelled";
      this.#api.abandon(ticket, { keepalive });
    }
  }

  /** Follows the ticket until it leaves pending/scanned: SSE first, long-poll when streaming fails. */
  async #watch(ticket) {
    const signal = ticket.controller.signal;
    let failures = 0;
    while (!signal.aborted && WAITING.has(ticket.status)) {
      const began = performance.now();
      try {
        const heard = this.#useStream ? await this.#follow(ticket) : await this.#longPoll(ticket);
        this.#setConnected(true);
        // A connection that ends at once with nothing new must not turn into a busy loop.
        const quiet = !heard && performance.now() - began < 1000;
        failures = quiet ? failures + 1 : 0;
        if (quiet) await sleep(BACKOFF_MS[Math.min(failures, BACKOFF_MS.length) - 1], signal);
      } catch (error) {
        if (signal.aborted || isAbort(error)) return;
        if (error instanceof StreamUnavailable) {
          this.#useStream = false;
          continue;
        }
        // 410: past its deadline; 404: the server no longer knows it (restarted, say).
        if (error.status === 410 || error.status === 404) return this.#expire(ticket);
        if (error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429) {
          return this.#fail(error);
        }
        failures += 1;
        this.#setConnected(false);
        await sleep(BACKOFF_MS[Math.min(failures, BACKOFF_MS.length) - 1], signal);
      }
    }
  }

  /** One SSE connection; true if it delivered anything. Throws StreamUnavailable if it cannot stream. */
  async #follow(ticket) {
    const signal = ticket.controller.signal;
    const stream = linkedController(signal);
    let response;
    try {
      response = await this.#api.openEvents(ticket, stream.signal);
    } catch (error) {
      if (isAbort(error) || error.status === 401 || error.status === 410) throw error;
      throw new StreamUnavailable(error.message, { cause: error });
    }
    if (!response.body || !(response.headers.get("content-type") ?? "").includes("text/event-stream")) {
      stream.abort();
      throw new StreamUnavailable("the events URL did not answer with a stream");
    }
    this.#setConnected(true);
    let idle = 0;
    const alive = () => {
      clearTimeout(idle);
      idle = setTimeout(() => stream.abort(), STREAM_IDLE_MS);
    };
    alive();
    let heard = false;
    try {
      for await (const data of sseData(response.body, alive)) {
        let view;
        try {
          view = JSON.parse(data);
        } catch {
          continue;
        }
        heard = true;
        this.#apply(ticket, view);
        if (!WAITING.has(ticket.status)) break;
      }
    } catch (error) {
      if (signal.aborted) throw aborted();
      throw new QRLoginError("network", "The connection to the login server dropped.", { cause: error });
    } finally {
      clearTimeout(idle);
      stream.abort();
    }
    return heard;
  }

  /** One long-poll; true if the ticket changed. */
  async #longPoll(ticket) {
    const before = ticket.version;
    const view = await this.#api.status(ticket, {
      after: ticket.version, wait: this.#options.longPollWaitSecs, signal: ticket.controller.signal,
    });
    this.#apply(ticket, view);
    return ticket.version !== before || !WAITING.has(ticket.status);
  }

  /** A status from the server: move on if it is newer than what we know. */
  #apply(ticket, view) {
    if (ticket !== this.#current || !WAITING.has(ticket.status)) return;
    if (typeof view.version === "number") {
      if (view.version < ticket.version) return;
      if (view.version === ticket.version && view.status === ticket.status) return;
      ticket.version = view.version;
    }
    const expiresAt = Date.parse(view.expires_at);
    if (!Number.isNaN(expiresAt)) ticket.expiresAt = expiresAt;
    if (view.status !== ticket.status) this.#enter(ticket, view);
  }

  #enter(ticket, view) {
    if (ticket !== this.#current || !WAITING.has(ticket.status)) return;
    const status = view.status;
    ticket.status = status;
    const options = this.#options;
    switch (status) {
      case "scanned": {
        ticket.user = view.user ?? null;
        ticket.verificationCode = verificationCodeOf(view);
        const verificationCode = ticket.verificationCode;
        this.#setState("scanned", { user: ticket.user, verificationCode });
        options.onScanned?.(ticket.user, { verificationCode });
        break;
      }
      case "confirmed":
        this.#setState("confirmed", { user: ticket.user });
        this.#exchange(ticket);
        break;
      case "cancelled":
        this.#cancelled(ticket, CANCEL_REASONS.has(view.reason) ? view.reason : null);
        break;
      case "expired":
        this.#expire(ticket);
        break;
      case "consumed":
        this.#fail(new QRLoginError("already_consumed", "This code was already used to sign in."));
        break;
      default:
        this.#setState(status);
    }
  }

  #cancelled(ticket, reason) {
    ticket.status = "cancelled";
    ticket.controller.abort();
    this.#setState("cancelled", { reason });
    this.#options.onCancelled?.({ reason });
  }

  #expire(ticket) {
    if (ticket !== this.#current) return;
    ticket.status = "expired";
    ticket.controller.abort();
    this.#setState("expired");
    this.#options.onExpired?.();
  }

  async #exchange(ticket) {
    if (ticket.exchanging) return;
    ticket.exchanging = true;
    let result;
    try {
      result = await this.#exchangeRetrying(ticket);
    } catch (error) {
      if (isAbort(error)) return;
      if (error.status === 410) return this.#expire(ticket);
      // After a confirm only the person can cancel: Cancel, or "Was this you? — No" in the app.
      if (error.code === "cancelled") return this.#cancelled(ticket, "declined");
      return this.#fail(error);
    }
    ticket.status = "consumed";
    ticket.controller.abort();
    this.#finished = true;
    this.#shutDown();
    this.#setState("signed_in", { user: result.user });
    this.#options.onConfirmed?.(result);
    this.#resolve(result);
  }

  /** The exchange, tried again after network errors until the confirmed ticket's deadline. */
  async #exchangeRetrying(ticket) {
    const signal = this.#session.signal;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#api.exchange(ticket, signal);
      } catch (error) {
        if (error.code !== "network" || ticket.expiresAt <= this.#clock.now()) throw error;
        await sleep(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)], signal);
        if (signal.aborted) throw aborted();
      }
    }
  }

  #fail(error) {
    if (this.#current) this.#retire(this.#current);
    this.#setState("error", { error });
    this.#options.onError?.(error);
  }

  #tick = () => {
    const ticket = this.#current;
    if (!ticket || this.#stopped || this.#finished || !WAITING.has(ticket.status)) return;
    const left = ticket.expiresAt - this.#clock.now();
    this.#view?.countdown(ticket.status, left, this.#connected);
    if (ticket.status === "pending" && this.#shouldRotate(ticket, left)) this.#rotate(ticket);
    if (left <= 0 && performance.now() >= ticket.nextExpiryCheck) this.#checkExpiry(ticket, left);
  };

  #shouldRotate(ticket, left) {
    if (!this.#options.rotate || ticket.rotating || !isVisible()) return false;
    if (left > Math.min(ROTATE_LEAD_MS, ticket.lifetimeMs * 0.2)) return false;
    return performance.now() - this.#budgetStart < this.#options.rotateForMs;
  }

  /** Past the deadline: ask the server rather than trust our estimate of its clock. */
  async #checkExpiry(ticket, left) {
    ticket.nextExpiryCheck = performance.now() + 1000;
    if (left < -EXPIRY_GRACE_MS && this.#connected) return this.#expire(ticket);
    try {
      this.#apply(ticket, await this.#api.status(ticket, { signal: ticket.controller.signal }));
      this.#setConnected(true);
    } catch (error) {
      if (isAbort(error) || ticket !== this.#current) return;
      if (error.status === 410 || error.status === 404) return this.#expire(ticket);
      if (error.code === "network") return this.#fail(error);
    }
  }

  #setConnected(connected) {
    if (this.#connected === connected) return;
    this.#connected = connected;
    this.#tick();
  }

  #setState(state, detail = {}) {
    this.#state = state;
    this.#view?.render(state, detail);
    this.#tick();
    this.#options.onState?.(state, detail);
  }

  #onPageHide = () => {
    const ticket = this.#current;
    if (!ticket || !WAITING.has(ticket.status)) return;
    this.#retire(ticket, { keepalive: true });
    this.#abandonedOnHide = true;
  };

  #onPageShow = (event) => {
    // Back from the back/forward cache: the ticket was given up on the way out.
    if (event.persisted && this.#abandonedOnHide) {
      this.#abandonedOnHide = false;
      this.restart();
    }
  };
}

/** The digits to pick in the app, when the status carries them (number matching on). */
function verificationCodeOf(view) {
  const code = view.verification_code;
  return typeof code === "string" && /^\d{1,8}$/.test(code) ? code : null;
}

function addStylesheet(href) {
  const present = [...document.querySelectorAll('link[rel="stylesheet"]')].some((link) => link.href === href);
  if (present) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.append(link);
}

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const ICONS = {
  cancelled: "M7 7l10 10M17 7L7 17",
  expired: "M12 7v5l3 2M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z",
  error: "M12 7v6M12 16.5v.5M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z",
  confirmed: "M5 12.5l4.5 4.5L19 7.5",
};

function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `qrlogin-icon qrlogin-icon-${name}`);
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

function formatLeft(ms) {
  // Rounded down: never promise more time than there is.
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

const nameOf = (user) => user?.display_name || "someone";

/** What the person sees inside `element`: the code, or a message with an action. */
class LoginView {
  constructor(element, onRestart) {
    this.root = make("div", "qrlogin");
    this.root.setAttribute("role", "group");
    this.root.setAttribute("aria-label", "Sign in with a QR code");

    this.code = make("div", "qrlogin-code");
    const frame = make("div", "qrlogin-frame");
    this.qr = make("img", "qrlogin-qr");
    this.qr.alt = "QR code to sign in. Scan it with the QR Login app, or use the link below.";
    this.qr.width = 240;
    this.qr.height = 240;
    frame.append(this.qr);
    this.timer = make("p", "qrlogin-countdown");
    this.timer.setAttribute("role", "timer");
    const alt = make("p", "qrlogin-alt", "Can't scan it? Open ");
    this.link = make("a", "qrlogin-link");
    this.link.rel = "noopener noreferrer";
    alt.append(this.link, " on your phone.");
    this.code.append(frame, this.timer, alt);

    this.message = make("div", "qrlogin-message");
    this.badge = make("div", "qrlogin-badge");
    this.title = make("p", "qrlogin-title");
    this.title.tabIndex = -1;
    // The number to pick, big; screen readers hear it in the detail line and the announcement.
    this.number = make("p", "qrlogin-number");
    this.number.setAttribute("aria-hidden", "true");
    this.detail = make("p", "qrlogin-detail");
    this.wait = make("p", "qrlogin-countdown");
    this.action = make("button", "qrlogin-button");
    this.action.type = "button";
    this.action.addEventListener("click", onRestart);
    this.message.append(this.badge, this.title, this.number, this.detail, this.wait, this.action);

    // Always present (never hidden), so that assistive technology announces each change.
    this.announcer = make("p", "qrlogin-announce");
    this.announcer.setAttribute("role", "status");
    this.announcer.setAttribute("aria-atomic", "true");

    this.root.append(this.code, this.message, this.announcer);
    element.replaceChildren(this.root);
  }

  render(state, { url, svg, user, error, verificationCode, reason } = {}) {
    const hadFocus = this.root.contains(document.activeElement);
    this.root.dataset.state = state;
    if (state === "pending" && svg) {
      this.qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
      this.link.href = url;
      this.link.textContent = url;
    }
    this.code.hidden = state !== "pending";
    this.message.hidden = state === "pending";
    this.badge.replaceChildren();
    this.wait.hidden = state !== "scanned";
    const text = messageFor(state, { user, error, verificationCode, reason });
    this.root.dataset.reason = reason ?? "";
    if (text.avatar) this.badge.append(avatar(user));
    else if (text.icon) this.badge.append(icon(text.icon));
    else this.badge.append(make("span", "qrlogin-spinner"));
    this.title.textContent = text.title;
    this.number.textContent = text.number ?? "";
    this.number.hidden = !text.number;
    this.detail.textContent = text.detail ?? "";
    this.detail.hidden = !text.detail;
    this.announcer.textContent = state === "pending" || state === "loading" ? "" : [text.title, text.detail].filter(Boolean).join(". ");
    this.action.textContent = text.action ?? "";
    this.action.hidden = !text.action;
    if (hadFocus) (text.action ? this.action : state === "pending" ? this.link : this.title).focus();
  }

  countdown(status, leftMs, connected) {
    const node = status === "scanned" ? this.wait : this.timer;
    this.root.classList.toggle("qrlogin-offline", !connected);
    node.classList.toggle("qrlogin-urgent", connected && leftMs < 10_000);
    if (!connected) node.textContent = "Reconnecting…";
    else if (status === "scanned") node.textContent = `Waiting for confirmation · ${formatLeft(leftMs)}`;
    else node.textContent = `Expires in ${formatLeft(leftMs)}`;
  }

  clear() {
    this.root.remove();
  }
}

function messageFor(state, { user, error, verificationCode, reason }) {
  switch (state) {
    case "scanned":
      return verificationCode
        ? { avatar: true, title: `Scanned by ${nameOf(user)}`, number: verificationCode, detail: `Tap ${verificationCode} in the app to sign in.`, action: "Start over" }
        : { avatar: true, title: `Scanned by ${nameOf(user)}`, detail: "Confirm on your phone to sign in.", action: "Start over" };
    case "confirmed":
      return { icon: "confirmed", title: "Confirmed", detail: "Signing you in…" };
    case "signed_in":
      return { avatar: true, title: `Signed in as ${nameOf(user)}` };
    case "cancelled":
      return cancelledMessage(reason);
    case "expired":
      return { icon: "expired", title: "This code has expired", detail: "Codes work for a short time only, so nobody else can use an old one.", action: "Show a new code" };
    case "error":
      return error?.code === "network"
        ? { icon: "error", title: "Can't reach the login server", detail: "Check your connection, then try again.", action: "Try again" }
        : { icon: "error", title: "Sign-in failed", detail: error?.message ?? "Something went wrong.", action: "Try again" };
    default:
      return { title: "Getting a code…" };
  }
}

function cancelledMessage(reason) {
  switch (reason) {
    case "wrong_code":
      return {
        icon: "cancelled",
        title: "The numbers did not match",
        detail: "The number picked in the app did not match. If you were not signing in yourself, someone may have sent you this code.",
        action: "Show a new code",
      };
    case "declined":
      return { icon: "cancelled", title: "Sign-in cancelled", detail: "Cancelled in the app.", action: "Try again" };
    default:
      return { icon: "cancelled", title: "Sign-in cancelled", detail: "The request was declined on the phone.", action: "Try again" };
  }
}

/** A picture the widget may show: the server's (http/https) or an inline image (the initials avatar). */
const isPictureUrl = (url) => typeof url === "string" && /^(https?:\/\/|data:image\/)/i.test(url);

function avatar(user) {
  const url = user?.avatar_url;
  if (!isPictureUrl(url)) return initialsBadge(user);
  const image = make("img", "qrlogin-avatar");
  image.alt = "";
  // A site whose Content-Security-Policy refuses the picture still gets a badge.
  image.addEventListener("error", () => image.replaceWith(initialsBadge(user)), { once: true });
  image.src = url;
  return image;
}

function initialsBadge(user) {
  const initials = nameOf(user).split(/\s+/).map((word) => word[0] ?? "").join("").slice(0, 2).toUpperCase();
  const badge = make("span", "qrlogin-avatar qrlogin-initials", initials);
  badge.setAttribute("aria-hidden", "true");
  return badge;
}

/**
 * Starts a login in `options.element` (an element or a CSS selector; leave it out
 * to draw nothing and use the callbacks). Returns the session: await it (or its
 * `result`) for `{access_token, token_type, expires_in, user}`.
 */
function start(options) {
  return new QRLoginSession(options);
}

const apiFor = (server) => new Api(server ?? new URL(SCRIPT_URL).origin, new ServerClock());

/**
 * Who a web access token belongs to: resolves with the user's profile, or
 * rejects with a QRLoginError whose `code` is "token_revoked" (signed out
 * from the app), "unauthorized" (expired or not a token of this server) or
 * "network".
 */
function me({ server, accessToken, signal } = {}) {
  if (!accessToken) return Promise.reject(new QRLoginError("unauthorized", "There is no access token to check.", { status: 401 }));
  return apiFor(server).me(accessToken, signal);
}

/**
 * Keeps checking a signed-in session with `me()`: every `intervalMs` while
 * the page is visible, and at once when it becomes visible again. When the
 * server no longer accepts the token (401: "token_revoked" or
 * "unauthorized"), it stops and calls `onSignedOut(error)`. Network trouble
 * only goes to `onError` and the checks carry on. Returns `{check, stop}`.
 */
function watchSession({ server, accessToken, intervalMs = SESSION_CHECK_MS, onSignedOut, onError } = {}) {
  const api = apiFor(server);
  const controller = new AbortController();
  let running = null;
  const check = () => {
    if (controller.signal.aborted) return Promise.resolve();
    running ??= api.me(accessToken, controller.signal).then(
      () => undefined,
      (error) => {
        if (controller.signal.aborted || isAbort(error)) return;
        if (error.status === 401) {
          stop();
          onSignedOut?.(error);
        } else {
          onError?.(error);
        }
      },
    ).finally(() => { running = null; });
    return running;
  };
  const onVisibility = () => { if (isVisible()) check(); };
  const timer = setInterval(onVisibility, intervalMs);
  document.addEventListener("visibilitychange", onVisibility);
  function stop() {
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisibility);
    controller.abort();
  }
  return { check, stop };
}

export const QRLogin = Object.freeze({ start, me, watchSession, QRLoginError, version: "0.2.0" });
export default QRLogin;
globalThis.QRLogin ??= QRLogin;
