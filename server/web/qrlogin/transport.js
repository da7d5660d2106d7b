// @ts-check
/**
 * The SDK's HTTP client: the web-side calls of the HTTP API (v1), the SDK's
 * error type, and the server's clock as estimated from its `Date` headers.
 */

/** @typedef {import("./wire").CreateTicketResponse} CreateTicketResponse */
/** @typedef {import("./wire").StatusView} StatusView */
/** @typedef {import("./wire").ExchangeResponse} ExchangeResponse */
/** @typedef {import("./wire").UserProfile} UserProfile */
/** @typedef {import("../qrlogin").QRLoginErrorCode} QRLoginErrorCode */

/**
 * What the SDK needs of a ticket to call the API about it.
 * @typedef {{id: string, secret: string, version: number}} TicketRef
 */

/** An error the SDK reports: `code` is the server's error code, or "network" / "aborted". */
export class QRLoginError extends Error {
  /**
   * @param {QRLoginErrorCode} code
   * @param {string} message
   * @param {{status?: number, cause?: unknown}} [options]
   */
  constructor(code, message, { status = 0, cause } = {}) {
    super(message, { cause });
    this.name = "QRLoginError";
    /** @type {QRLoginErrorCode} */
    this.code = code;
    /** @type {number} */
    this.status = status;
  }
}

/** Waits between retries: the n-th retry waits BACKOFF_MS[n - 1] (the last one from then on). */
export const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

/**
 * Resolves after `ms`, or at once when `signal` aborts.
 * @param {number} ms
 * @param {AbortSignal} signal
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
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

export const aborted = () => new QRLoginError("aborted", "The login was stopped.");

/** @param {unknown} error */
export const isAbort = (error) => {
  const e = /** @type {{code?: unknown, name?: unknown} | null | undefined} */ (error);
  return e?.code === "aborted" || e?.name === "AbortError";
};

/** The server's clock, estimated from the `Date` header of its responses. */
export class ServerClock {
  #offsetMs = 0;

  /** @param {Response} response */
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

/**
 * @typedef {object} SendOptions
 * @property {string} [secret] Sent as `Authorization: Bearer <secret>`.
 * @property {AbortSignal} [signal]
 * @property {boolean} [keepalive]
 * @property {string} [accept]
 * @property {Record<string, string>} [headers]
 * @property {string} [body]
 */

/** The web-side calls of the HTTP API (v1). */
export class Api {
  /**
   * @param {string} server The login server's origin.
   * @param {ServerClock} clock Observes every response.
   */
  constructor(server, clock) {
    this.server = String(server).replace(/\/+$/, "");
    this.clock = clock;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {SendOptions} [options]
   * @returns {Promise<Response>} an ok response; otherwise throws a QRLoginError.
   */
  async send(method, path, { secret, signal, keepalive = false, accept = "application/json", headers: extra, body } = {}) {
    /** @type {Record<string, string>} */
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

  /**
   * @template T
   * @param {string} method
   * @param {string} path
   * @param {SendOptions} [options]
   * @returns {Promise<T>} the parsed JSON body (trusted to be a `T`: the server speaks the generated types).
   */
  async json(method, path, options) {
    const response = await this.send(method, path, options);
    try {
      return await response.json();
    } catch (error) {
      if (options?.signal?.aborted) throw aborted();
      throw new QRLoginError("bad_response", "The login server sent a reply the page cannot read.", { cause: error });
    }
  }

  /**
   * @param {AbortSignal} signal
   * @param {string} [authorization] The query of an OpenID Connect authorization request the code serves.
   * @returns {Promise<CreateTicketResponse>}
   */
  createTicket(signal, authorization) {
    // A JSON body makes a cross-origin call preflighted: a page on an origin the
    // server does not allow is refused before any ticket is made for it.
    const body = JSON.stringify(authorization ? { authorization } : {});
    return this.json("POST", "/api/v1/qr", { signal, headers: { "Content-Type": "application/json" }, body });
  }

  /**
   * @param {TicketRef} ticket
   * @param {{after?: number, wait?: number, signal?: AbortSignal}} [options]
   * @returns {Promise<StatusView>}
   */
  status(ticket, { after, wait, signal } = {}) {
    const query = new URLSearchParams();
    if (after !== undefined) query.set("after", String(after));
    if (wait !== undefined) query.set("wait", String(wait));
    const suffix = query.toString() ? `?${query}` : "";
    return this.json("GET", `/api/v1/qr/${ticket.id}${suffix}`, { secret: ticket.secret, signal });
  }

  /**
   * The ticket's event stream, resuming after the last version seen.
   * @param {TicketRef} ticket
   * @param {AbortSignal} signal
   */
  openEvents(ticket, signal) {
    return this.send("GET", `/api/v1/qr/${ticket.id}/events`, {
      secret: ticket.secret, signal, accept: "text/event-stream",
      headers: { "Last-Event-ID": String(ticket.version) },
    });
  }

  /**
   * The signed-in user of a web access token (`GET /api/v1/web/me`).
   * @param {string} accessToken
   * @param {AbortSignal} [signal]
   * @returns {Promise<UserProfile>}
   */
  me(accessToken, signal) {
    return this.json("GET", "/api/v1/web/me", { secret: accessToken, signal });
  }

  /**
   * @param {TicketRef} ticket
   * @param {AbortSignal} signal
   * @returns {Promise<ExchangeResponse>}
   */
  exchange(ticket, signal) {
    return this.json("POST", `/api/v1/qr/${ticket.id}/exchange`, { secret: ticket.secret, signal });
  }

  /**
   * The exchange, tried again after network errors until the confirmed ticket's deadline.
   * @param {TicketRef & {expiresAt: number}} ticket `expiresAt` in ms of the server's clock.
   * @param {AbortSignal} signal
   * @returns {Promise<ExchangeResponse>}
   */
  async exchangeRetrying(ticket, signal) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.exchange(ticket, signal);
      } catch (error) {
        if (/** @type {QRLoginError} */ (error).code !== "network" || ticket.expiresAt <= this.clock.now()) throw error;
        await sleep(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)], signal);
        if (signal.aborted) throw aborted();
      }
    }
  }

  /**
   * Gives the ticket up; best effort, never throws.
   * @param {TicketRef} ticket
   * @param {{keepalive?: boolean}} [options]
   * @returns {Promise<void>}
   */
  abandon(ticket, { keepalive = false } = {}) {
    return this.send("DELETE", `/api/v1/qr/${ticket.id}`, { secret: ticket.secret, keepalive })
      .then(() => undefined, () => undefined);
  }
}

/**
 * @param {Response} response a non-ok response
 * @returns {Promise<QRLoginError>}
 */
async function errorFrom(response) {
  /** @type {Partial<import("./wire").ApiError> | null} */
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not a JSON error body (a proxy's page, say): describe it by its status.
  }
  /** @type {QRLoginErrorCode} */
  const code = typeof body?.error === "string" ? body.error : `http_${response.status}`;
  const message = typeof body?.message === "string" ? body.message : `The login server answered ${response.status}.`;
  return new QRLoginError(code, message, { status: response.status });
}
