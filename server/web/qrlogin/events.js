// @ts-check
/**
 * The SDK's event stream: a ticket's status changes, followed over
 * Server-Sent Events read with `fetch` streaming (the poll secret travels in
 * the Authorization header, never in a URL), with long-polling when streaming
 * is not possible and reconnects with the last seen version.
 */
import { BACKOFF_MS, QRLoginError, aborted, isAbort, sleep } from "./transport.js";

/** @typedef {import("./transport.js").Api} Api */
/** @typedef {import("./transport.js").TicketRef} TicketRef */
/** @typedef {import("./wire").StatusView} StatusView */

/** A stream that says nothing (not even a keep-alive comment) this long is dead. */
const STREAM_IDLE_MS = 45_000;

/** Streaming is not possible here (blocked, buffered, or not served): use long-poll. */
export class StreamUnavailable extends Error {}

/**
 * A controller that aborts when `parent` does (and may abort on its own).
 * @param {AbortSignal} parent
 */
export function linkedController(parent) {
  const controller = new AbortController();
  if (parent.aborted) controller.abort();
  else parent.addEventListener("abort", () => controller.abort(), { once: true });
  return controller;
}

/**
 * Yields the `data` of each Server-Sent Event in a response body; `onBytes` runs on every chunk.
 * @param {ReadableStream<Uint8Array>} body
 * @param {() => void} onBytes
 * @returns {AsyncGenerator<string, void, void>}
 */
export async function* sseData(body, onBytes) {
  // (TypeScript's DOM types let TextDecoderStream take any BufferSource, which a pipe of bytes cannot.)
  const decoder = /** @type {ReadableWritablePair<string, Uint8Array>} */ (/** @type {unknown} */ (new TextDecoderStream()));
  const reader = body.pipeThrough(decoder).getReader();
  let buffer = "";
  /** @type {string[]} */
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

/**
 * One SSE connection to `ticket`'s events; true if it delivered anything.
 * Throws StreamUnavailable if it cannot stream, a QRLoginError otherwise.
 * @param {Api} api
 * @param {TicketRef} ticket
 * @param {AbortSignal} signal Ends the connection (the ticket is no longer followed).
 * @param {{onOpen: () => void, onView: (view: StatusView) => boolean}} handlers
 *   `onOpen` when the stream is open; `onView` per status, false to stop listening.
 * @returns {Promise<boolean>}
 */
export async function followEvents(api, ticket, signal, { onOpen, onView }) {
  const stream = linkedController(signal);
  let response;
  try {
    response = await api.openEvents(ticket, stream.signal);
  } catch (error) {
    const status = /** @type {{status?: number}} */ (error).status;
    if (isAbort(error) || status === 401 || status === 410) throw error;
    throw new StreamUnavailable(/** @type {Error} */ (error).message, { cause: error });
  }
  if (!response.body || !(response.headers.get("content-type") ?? "").includes("text/event-stream")) {
    stream.abort();
    throw new StreamUnavailable("the events URL did not answer with a stream");
  }
  onOpen();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let idle;
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
        view = /** @type {StatusView} */ (JSON.parse(data));
      } catch {
        continue;
      }
      heard = true;
      if (!onView(view)) break;
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

/**
 * What the session does with what the server says about a ticket.
 * @typedef {object} Follower
 * @property {() => boolean} waiting The ticket is still pending or scanned.
 * @property {(view: StatusView) => void} onView A status from the server.
 * @property {(connected: boolean) => void} onConnected
 * @property {() => void} onGone 410 (past its deadline) or 404 (the server no longer knows it).
 * @property {(error: QRLoginError) => void} onFailed Refused for good (another 4xx).
 * @property {{stream: boolean}} mode Shared by the session's tickets: false once streaming proved impossible.
 * @property {number} longPollWaitSecs
 */

/**
 * Follows `ticket` until it leaves pending/scanned or `signal` aborts: SSE
 * first, long-poll when streaming fails; backs off after failures and after
 * connections that end at once with nothing new.
 * @param {Api} api
 * @param {TicketRef} ticket Its `version` is the last one seen (updated by `onView`).
 * @param {AbortSignal} signal
 * @param {Follower} follower
 * @returns {Promise<void>}
 */
export async function followTicket(api, ticket, signal, follower) {
  let failures = 0;
  while (!signal.aborted && follower.waiting()) {
    const began = performance.now();
    try {
      const heard = follower.mode.stream ? await stream(api, ticket, signal, follower) : await longPoll(api, ticket, signal, follower);
      follower.onConnected(true);
      // A connection that ends at once with nothing new must not turn into a busy loop.
      const quiet = !heard && performance.now() - began < 1000;
      failures = quiet ? failures + 1 : 0;
      if (quiet) await sleep(BACKOFF_MS[Math.min(failures, BACKOFF_MS.length) - 1], signal);
    } catch (caught) {
      if (signal.aborted || isAbort(caught)) return;
      if (caught instanceof StreamUnavailable) {
        follower.mode.stream = false;
        continue;
      }
      const error = /** @type {QRLoginError} */ (caught);
      // 410: past its deadline; 404: the server no longer knows it (restarted, say).
      if (error.status === 410 || error.status === 404) return follower.onGone();
      if (error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429) {
        return follower.onFailed(error);
      }
      failures += 1;
      follower.onConnected(false);
      await sleep(BACKOFF_MS[Math.min(failures, BACKOFF_MS.length) - 1], signal);
    }
  }
}

/**
 * One SSE connection; true if it delivered anything.
 * @param {Api} api
 * @param {TicketRef} ticket
 * @param {AbortSignal} signal
 * @param {Follower} follower
 */
function stream(api, ticket, signal, follower) {
  return followEvents(api, ticket, signal, {
    onOpen: () => follower.onConnected(true),
    onView: (view) => {
      follower.onView(view);
      return follower.waiting();
    },
  });
}

/**
 * One long-poll; true if the ticket changed.
 * @param {Api} api
 * @param {TicketRef} ticket
 * @param {AbortSignal} signal
 * @param {Follower} follower
 */
async function longPoll(api, ticket, signal, follower) {
  const before = ticket.version;
  const view = await api.status(ticket, { after: ticket.version, wait: follower.longPollWaitSecs, signal });
  follower.onView(view);
  return ticket.version !== before || !follower.waiting();
}
