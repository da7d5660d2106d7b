// @ts-check
/**
 * One ticket as the SDK follows it: made from the create response, moved on
 * by the statuses the server sends.
 */

/** @typedef {import("./wire").TicketStatus} TicketStatus */
/** @typedef {import("./wire").StatusView} StatusView */
/** @typedef {import("./wire").PublicUser} PublicUser */
/** @typedef {import("./wire").CreateTicketResponse} CreateTicketResponse */

/**
 * A ticket on screen (or being replaced), as the session follows it.
 * @typedef {object} Ticket
 * @property {string} id
 * @property {string} secret The poll secret.
 * @property {string} url The text in the QR code.
 * @property {string} svg
 * @property {TicketStatus} status
 * @property {number} version
 * @property {number} expiresAt Deadline, in ms of the server's clock.
 * @property {number} lifetimeMs
 * @property {PublicUser | null} user
 * @property {string | null} verificationCode
 * @property {AbortController} controller Aborts everything done for this ticket.
 * @property {boolean} rotating
 * @property {boolean} exchanging
 * @property {number} nextExpiryCheck `performance.now()` of the next status check past the deadline.
 */

/** The statuses in which a ticket is still followed. @type {ReadonlySet<string>} */
export const WAITING = new Set(["pending", "scanned"]);

/** Why a code was cancelled, as the server says it (`StatusView.reason`). @type {ReadonlySet<unknown>} */
export const CANCEL_REASONS = new Set(["declined", "aborted", "wrong_code"]);

/**
 * A new ticket on screen.
 * @param {CreateTicketResponse} body `POST /api/v1/qr`'s answer.
 * @param {number} now The server's time, estimated (ms).
 * @param {AbortController} controller Aborts everything done for this ticket.
 * @returns {Ticket}
 */
export function ticketFrom(body, now, controller) {
  const expiresAt = Date.parse(body.expires_at);
  return {
    id: body.id,
    secret: body.poll_secret,
    url: body.qr_url,
    svg: body.qr_svg,
    status: body.status ?? "pending",
    version: body.version ?? 0,
    expiresAt,
    lifetimeMs: expiresAt - now,
    user: null,
    verificationCode: null,
    controller,
    rotating: false,
    exchanging: false,
    nextExpiryCheck: 0,
  };
}

/** The digits to pick in the app, when the status carries them (number matching on). */
/** @param {StatusView} view */
export function verificationCodeOf(view) {
  const code = view.verification_code;
  return typeof code === "string" && /^\d{1,8}$/.test(code) ? code : null;
}
