// @ts-check
// The OpenID Connect authorization page (/oauth2/authorize?…): the SDK's
// widget with codes bound to this authorization request. Once confirmed in
// the app, the browser goes back to the client with a single-use code; after
// a cancel or an expiry it goes back with error=access_denied.
import { QRLogin } from "/sdk/qrlogin.js";

const request = location.search.slice(1);
const cancelUrl = `/oauth2/authorize/cancel?${request}`;
const cancel = /** @type {HTMLAnchorElement} */ (document.getElementById("cancel"));
cancel.href = cancelUrl;

/** @param {string} url */
const leave = (url) => {
  document.body.dataset.state = "redirecting";
  location.replace(url);
};

QRLogin.start({
  server: location.origin,
  element: "#login",
  authorization: request,
  onState: (state) => {
    document.body.dataset.state = state;
  },
  onRedirect: leave,
  onCancelled: () => leave(cancelUrl),
  onExpired: () => leave(cancelUrl),
  onError: (error) => {
    const notice = /** @type {HTMLElement} */ (document.getElementById("notice"));
    notice.textContent = error.message;
    notice.hidden = false;
  },
});
