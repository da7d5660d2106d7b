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

/**
 * POST /api/v1/qr/{id}/{action} (scan, confirm, cancel) as the signed-in app;
 * `body` (e.g. confirm's `{verification_code}`) is sent as JSON.
 */
export function appCall(base, token, id, action, body) {
  return appPost(base, token, `/api/v1/qr/${id}/${action}`, body);
}

/** "Was this you? — No": POST /api/v1/app/sign-ins/{ticket id}/revoke as the signed-in app. */
export function revokeSignIn(base, token, id) {
  return appPost(base, token, `/api/v1/app/sign-ins/${id}/revoke`);
}

async function appPost(base, token, path, json) {
  const headers = { authorization: `Bearer ${token}` };
  if (json !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
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
