// The hosted login page at `/`: the qrlogin.js widget, plus what the site does
// once the person is signed in (here: show the token's claims, and keep
// checking that the app has not signed this browser out). The access token
// lives in this module's memory and the page only: never in storage or a URL.
import { QRLogin } from "/sdk/qrlogin.js";

const $ = (id) => document.getElementById(id);
let session = null;
let watch = null;

const SIGNED_OUT = {
  token_revoked: "This browser was signed out from the app (Was this you? → No).",
  unauthorized: "Your session has ended. Scan a new code to sign in again.",
};

/** Shows a QR code to sign in; `notice` says why, when the person was signed out. */
function begin(notice = "") {
  watch?.stop();
  watch = null;
  session?.stop();
  $("notice").textContent = notice;
  $("notice").hidden = !notice;
  $("token").textContent = "";
  $("claims").replaceChildren();
  $("account").hidden = true;
  $("steps").hidden = false;
  $("title").textContent = "Sign in with your phone";
  session = QRLogin.start({
    server: location.origin,
    element: $("login"),
    onState: (state) => { document.body.dataset.state = state; },
    onConfirmed: showAccount,
  });
}

function showAccount({ access_token: token, user }) {
  $("title").textContent = `Welcome, ${user.display_name}`;
  $("welcome").textContent = `You are signed in as @${user.username}.`;
  $("steps").hidden = true;
  $("account").hidden = false;
  $("token").textContent = token;
  $("claims").replaceChildren(...claimRows(token));
  $("sign-out").focus({ preventScroll: true });
  watch = QRLogin.watchSession({
    server: location.origin,
    accessToken: token,
    onSignedOut: (error) => begin(SIGNED_OUT[error.code] ?? SIGNED_OUT.unauthorized),
  });
}

/** Reads (does not verify) the JWT's header and claims, for display. */
function decodeJwt(token) {
  const part = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  };
  const [header, payload] = token.split(".");
  return { header: part(header), claims: part(payload) };
}

// Claims in this order first, with these labels; any others follow under their own names.
const LABELS = {
  name: "Name",
  preferred_username: "Username",
  sub: "Subject (user id)",
  iss: "Issuer",
  aud: "Audience",
  iat: "Issued at",
  nbf: "Not before",
  exp: "Expires",
  jti: "Token id",
  picture: "Picture",
};
const rank = (key) => {
  const index = Object.keys(LABELS).indexOf(key);
  return index < 0 ? Infinity : index;
};

function describe(key, value) {
  if (["iat", "exp", "nbf"].includes(key) && typeof value === "number") {
    const when = new Date(value * 1000);
    const minutes = Math.round((when - Date.now()) / 60000);
    const relative = key === "exp" && minutes > 0 ? ` (in ${minutes} min)` : "";
    return `${when.toLocaleString()}${relative}`;
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

function claimRows(token) {
  let decoded;
  try {
    decoded = decodeJwt(token);
  } catch {
    return [row("Token", "not a JWT this page can read")];
  }
  const claims = Object.entries(decoded.claims).sort(([a], [b]) => rank(a) - rank(b));
  const rows = claims.map(([key, value]) => row(LABELS[key] ?? key, describe(key, value), key));
  if (decoded.header.alg) rows.push(row("Algorithm", decoded.header.alg, "alg"));
  if (decoded.header.kid) rows.push(row("Key id", decoded.header.kid, "kid"));
  return rows;
}

function row(label, value, key) {
  const item = document.createElement("div");
  item.className = "claim";
  if (key) item.dataset.claim = key;
  const term = document.createElement("dt");
  term.textContent = label;
  const detail = document.createElement("dd");
  detail.textContent = value;
  item.append(term, detail);
  return item;
}

$("sign-out").addEventListener("click", () => begin());
begin();
