// Plays the scanner app over HTTP, as the QR Login app does after decoding a QR.
import assert from "node:assert/strict";

/** Signs in as the app does: `{token, user}`. */
export async function signIn(base, username = "alice", password = "demo") {
  const response = await fetch(`${base}/api/v1/app/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password, device_name: "browser test" }),
  });
  assert.equal(response.status, 201, `sign in as ${username}`);
  return response.json();
}

/** POST /api/v1/qr/{id}/{action} (scan, confirm, cancel) as the signed-in app. */
export async function appCall(base, token, id, action) {
  const response = await fetch(`${base}/api/v1/qr/${id}/${action}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Some answers have no body.
  }
  return { status: response.status, body };
}

/** The ticket id in a QR link `https://<origin>/q/<id>`. */
export function ticketId(link) {
  const match = /\/q\/([A-Za-z0-9_-]{22})$/.exec(link);
  assert.ok(match, `${link} is a QR Login link`);
  return match[1];
}
