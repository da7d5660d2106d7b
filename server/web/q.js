// /q/{id}: a phone's ordinary camera opened a sign-in link. Offer the app's
// deep link, which carries the whole link so the app can check its origin.
const link = `${location.origin}${location.pathname}`;
document.getElementById("open-app").href = `qrlogin://scan?u=${encodeURIComponent(link)}`;
document.getElementById("link").textContent = link;
