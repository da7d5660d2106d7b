// @ts-check
/**
 * The SDK's session state: one login attempt on the page, a sequence of
 * tickets until someone signs in or `stop()`. It creates tickets, follows
 * each (event stream, long-poll fallback), rotates codes before they expire,
 * exchanges a confirmed ticket and tells the view and the callbacks.
 */
import { Api, QRLoginError, ServerClock, aborted, isAbort } from "./transport.js";
import { followTicket, linkedController } from "./events.js";
import { CANCEL_REASONS, WAITING, ticketFrom, verificationCodeOf } from "./ticket.js";
import { LoginView, addStylesheet } from "./view.js";

/** @typedef {import("./wire").StatusView} StatusView */
/** @typedef {import("./wire").CancelReason} CancelReason */
/** @typedef {import("./wire").ExchangeResponse} ExchangeResponse */
/** @typedef {import("../qrlogin").StartOptions} StartOptions */
/** @typedef {import("../qrlogin").LoginState} LoginState */
/** @typedef {import("../qrlogin").LoginResult} LoginResult */
/** @typedef {import("./view.js").RenderDetail} RenderDetail */
/** @typedef {import("./ticket.js").Ticket} Ticket */

/** The SDK's entry point, one folder up: its origin is the default server, its folder holds static/. */
export const SCRIPT_URL = new URL("../qrlogin.js", import.meta.url).href;
/** @type {Readonly<{rotate: boolean, rotateForMs: number, longPollWaitSecs: number, styles: boolean | string}>} */
const DEFAULTS = Object.freeze({
  rotate: true,
  rotateForMs: 5 * 60 * 1000,
  longPollWaitSecs: 25,
  styles: true,
});
/** The longest time before the deadline at which a code is replaced. */
const ROTATE_LEAD_MS = 10_000;
/** How long past the deadline a ticket the server still calls open is trusted. */
const EXPIRY_GRACE_MS = 3000;

export const isVisible = () => typeof document === "undefined" || document.visibilityState === "visible";

/** One login attempt on the page: a sequence of tickets until someone signs in or `stop()`. */
export class QRLoginSession {
  /** @type {StartOptions & typeof DEFAULTS} */
  #options;
  #clock = new ServerClock();
  /** @type {Api} */
  #api;
  /** @type {LoginView | null} */
  #view = null;
  /** @type {Ticket | null} */
  #current = null;
  /** @type {LoginState} */
  #state = "loading";
  #stopped = false;
  #finished = false;
  /** False once streaming proved impossible here: the next tickets long-poll too. */
  #mode = { stream: true };
  #connected = true;
  #budgetStart = 0;
  #generation = 0;
  #session = new AbortController();
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #timer;
  /** @type {(result: LoginResult) => void} */
  #resolve = () => {};
  /** @type {(error: QRLoginError) => void} */
  #reject = () => {};
  #abandonedOnHide = false;

  /** @param {StartOptions} [options] */
  constructor(options = {}) {
    this.#options = { ...DEFAULTS, ...options };
    const server = this.#options.server ?? new URL(SCRIPT_URL).origin;
    this.#api = new Api(server, this.#clock);
    /** Resolves with `{access_token, token_type, expires_in, user}` once signed in; rejects only on `stop()`. */
    /** @type {Promise<LoginResult>} */
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

  /**
   * @template [R1=LoginResult]
   * @template [R2=never]
   * @param {((value: LoginResult) => R1 | PromiseLike<R1>) | null} [onFulfilled]
   * @param {((reason: unknown) => R2 | PromiseLike<R2>) | null} [onRejected]
   * @returns {Promise<R1 | R2>}
   */
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
      if (generation === this.#generation && !isAbort(error)) this.#fail(/** @type {QRLoginError} */ (error));
    }
  }

  /** Shortly before `old` expires: show a fresh code, unless `old` was scanned meanwhile. */
  /** @param {Ticket} old */
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

  /** @returns {Promise<Ticket>} */
  async #createTicket() {
    const body = await this.#api.createTicket(this.#session.signal, this.#options.authorization);
    return ticketFrom(body, this.#clock.now(), linkedController(this.#session.signal));
  }

  /** @param {Ticket} ticket */
  #activate(ticket) {
    this.#current = ticket;
    this.#setConnected(true);
    this.#setState("pending", { url: ticket.url, svg: ticket.svg });
    this.#options.onCode?.({ url: ticket.url, svg: ticket.svg, expiresAt: new Date(ticket.expiresAt) });
    this.#tick();
    this.#watch(ticket);
  }

  /**
   * The ticket is no longer shown: stop following it and, if still open, give it up.
   * @param {Ticket} ticket
   * @param {{keepalive?: boolean}} [options]
   */
  #retire(ticket, { keepalive = false } = {}) {
    ticket.controller.abort();
    if (WAITING.has(ticket.status) && !ticket.exchanging) {
      ticket.status = "cancelled";
      this.#api.abandon(ticket, { keepalive });
    }
  }

  /**
   * Follows the ticket until it leaves pending/scanned: SSE first, long-poll when streaming fails.
   * @param {Ticket} ticket
   */
  #watch(ticket) {
    return followTicket(this.#api, ticket, ticket.controller.signal, {
      waiting: () => WAITING.has(ticket.status),
      onView: (view) => this.#apply(ticket, view),
      onConnected: (connected) => this.#setConnected(connected),
      onGone: () => this.#expire(ticket),
      onFailed: (error) => this.#fail(error),
      mode: this.#mode,
      longPollWaitSecs: this.#options.longPollWaitSecs,
    });
  }

  /**
   * A status from the server: move on if it is newer than what we know.
   * @param {Ticket} ticket
   * @param {StatusView} view
   */
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

  /**
   * @param {Ticket} ticket
   * @param {StatusView} view
   */
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
        this.#cancelled(ticket, CANCEL_REASONS.has(view.reason) ? /** @type {CancelReason} */ (view.reason) : null);
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

  /**
   * @param {Ticket} ticket
   * @param {CancelReason | null} reason
   */
  #cancelled(ticket, reason) {
    ticket.status = "cancelled";
    ticket.controller.abort();
    this.#setState("cancelled", { reason });
    this.#options.onCancelled?.({ reason });
  }

  /** @param {Ticket} ticket */
  #expire(ticket) {
    if (ticket !== this.#current) return;
    ticket.status = "expired";
    ticket.controller.abort();
    this.#setState("expired");
    this.#options.onExpired?.();
  }

  /** @param {Ticket} ticket */
  async #exchange(ticket) {
    if (ticket.exchanging) return;
    ticket.exchanging = true;
    let result;
    try {
      // The server's token_type is always "Bearer".
      result = /** @type {LoginResult} */ (await this.#api.exchangeRetrying(ticket, this.#session.signal));
    } catch (caught) {
      const error = /** @type {QRLoginError} */ (caught);
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
    const redirect = /** @type {{redirect_to?: unknown}} */ (/** @type {unknown} */ (result)).redirect_to;
    if (typeof redirect === "string") {
      // An OpenID Connect sign-in: the browser goes back to the client with its code.
      this.#setState("signed_in", { user: ticket.user });
      this.#options.onRedirect?.(redirect);
      return;
    }
    this.#setState("signed_in", { user: result.user });
    this.#options.onConfirmed?.(result);
    this.#resolve(result);
  }

  /** @param {QRLoginError} error */
  #fail(error) {
    if (this.#current) this.#retire(this.#current);
    this.#setState("error", { error });
    this.#options.onError?.(error);
  }

  #tick = () => {
    const ticket = this.#current;
    if (!ticket || this.#stopped || this.#finished || !WAITING.has(ticket.status)) return;
    const left = ticket.expiresAt - this.#clock.now();
    this.#view?.countdown(/** @type {"pending" | "scanned"} */ (ticket.status), left, this.#connected);
    if (ticket.status === "pending" && this.#shouldRotate(ticket, left)) this.#rotate(ticket);
    if (left <= 0 && performance.now() >= ticket.nextExpiryCheck) this.#checkExpiry(ticket, left);
  };

  /**
   * @param {Ticket} ticket
   * @param {number} left ms to the deadline
   */
  #shouldRotate(ticket, left) {
    if (!this.#options.rotate || ticket.rotating || !isVisible()) return false;
    if (left > Math.min(ROTATE_LEAD_MS, ticket.lifetimeMs * 0.2)) return false;
    return performance.now() - this.#budgetStart < this.#options.rotateForMs;
  }

  /**
   * Past the deadline: ask the server rather than trust our estimate of its clock.
   * @param {Ticket} ticket
   * @param {number} left ms to the deadline (negative)
   */
  async #checkExpiry(ticket, left) {
    ticket.nextExpiryCheck = performance.now() + 1000;
    if (left < -EXPIRY_GRACE_MS && this.#connected) return this.#expire(ticket);
    try {
      this.#apply(ticket, await this.#api.status(ticket, { signal: ticket.controller.signal }));
      this.#setConnected(true);
    } catch (caught) {
      const error = /** @type {QRLoginError} */ (caught);
      if (isAbort(error) || ticket !== this.#current) return;
      if (error.status === 410 || error.status === 404) return this.#expire(ticket);
      if (error.code === "network") return this.#fail(error);
    }
  }

  /** @param {boolean} connected */
  #setConnected(connected) {
    if (this.#connected === connected) return;
    this.#connected = connected;
    this.#tick();
  }

  /**
   * @param {LoginState} state
   * @param {RenderDetail} [detail]
   */
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

  /** @param {PageTransitionEvent} event */
  #onPageShow = (event) => {
    // Back from the back/forward cache: the ticket was given up on the way out.
    if (event.persisted && this.#abandonedOnHide) {
      this.#abandonedOnHide = false;
      this.restart();
    }
  };
}
