// Northwind Books' own script: load the SDK from the login server and start it.
const server = new URLSearchParams(location.search).get("server") ?? "http://127.0.0.1:8080";
const $ = (id) => document.getElementById(id);

try {
  const { QRLogin } = await import(`${server}/sdk/qrlogin.js`);
  const { access_token: token, user } = await QRLogin.start({ server, element: "#qr-login" });
  // A real site sends the token to its backend, which verifies it with
  // `${server}/.well-known/jwks.json` and starts its own session.
  $("signin-hint").hidden = true;
  $("signed-in").hidden = false;
  $("signed-in").textContent = `Hello ${user.display_name}! Your token (${token.length} characters) is ready for the shop's backend.`;
} catch (error) {
  $("load-error").hidden = false;
  $("load-error").textContent = `Sign-in is not available right now (${error.message}).`;
}
