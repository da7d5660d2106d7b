// @ts-check
/**
 * The SDK's widget: what the person sees inside `element` — the code with
 * its countdown, or a message with an action.
 */

/** @typedef {import("./wire").PublicUser} PublicUser */
/** @typedef {import("./wire").UserProfile} UserProfile */
/** @typedef {import("./wire").CancelReason} CancelReason */
/** @typedef {import("../qrlogin").LoginState} LoginState */
/** @typedef {import("./transport.js").QRLoginError} QRLoginError */

/**
 * What a state shows: the QR code's text and picture ("pending"), who
 * scanned or signed in, why it failed or was cancelled.
 * @typedef {object} RenderDetail
 * @property {string} [url]
 * @property {string} [svg]
 * @property {PublicUser | UserProfile | null} [user]
 * @property {QRLoginError} [error]
 * @property {string | null} [verificationCode]
 * @property {CancelReason | null} [reason]
 */

/**
 * @typedef {object} Message
 * @property {string} title
 * @property {boolean} [avatar] Show who it is about instead of an icon.
 * @property {IconName} [icon]
 * @property {string} [number] The number to pick in the app, big.
 * @property {string} [detail]
 * @property {string} [action] The button's label ("Try again", ...).
 */

/**
 * Adds a stylesheet to the page once.
 * @param {string} href
 */
export function addStylesheet(href) {
  const present = [...document.querySelectorAll('link[rel="stylesheet"]')].some((link) => /** @type {HTMLLinkElement} */ (link).href === href);
  if (present) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.append(link);
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
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
/** @typedef {keyof typeof ICONS} IconName */

/** @param {IconName} name */
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

/**
 * "1:05" for 65 s. Rounded up, as the app's countdown is: it reads 0:00 only
 * once the deadline has passed.
 * @param {number} ms
 */
export function formatLeft(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** @param {PublicUser | UserProfile | null | undefined} user */
const nameOf = (user) => user?.display_name || "someone";

/** What the person sees inside `element`: the code, or a message with an action. */
export class LoginView {
  /**
   * @param {Element} element Replaced by the widget.
   * @param {() => void} onRestart The action button ("Try again", "Show a new code", "Start over").
   */
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

  /**
   * @param {LoginState} state
   * @param {RenderDetail} [detail]
   */
  render(state, { url, svg, user, error, verificationCode, reason } = {}) {
    const hadFocus = this.root.contains(document.activeElement);
    this.root.dataset.state = state;
    if (state === "pending" && svg) {
      this.qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
      this.link.href = /** @type {string} */ (url);
      this.link.textContent = /** @type {string} */ (url);
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

  /**
   * @param {"pending" | "scanned"} status
   * @param {number} leftMs
   * @param {boolean} connected
   */
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

/**
 * @param {LoginState} state
 * @param {RenderDetail} detail
 * @returns {Message}
 */
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

/**
 * @param {CancelReason | null | undefined} reason
 * @returns {Message}
 */
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
/**
 * @param {unknown} url
 * @returns {url is string}
 */
const isPictureUrl = (url) => typeof url === "string" && /^(https?:\/\/|data:image\/)/i.test(url);

/** @param {PublicUser | UserProfile | null | undefined} user */
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

/** @param {PublicUser | UserProfile | null | undefined} user */
function initialsBadge(user) {
  const initials = nameOf(user).split(/\s+/).map((word) => word[0] ?? "").join("").slice(0, 2).toUpperCase();
  const badge = make("span", "qrlogin-avatar qrlogin-initials", initials);
  badge.setAttribute("aria-hidden", "true");
  return badge;
}
