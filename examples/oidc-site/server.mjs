// A tiny relying party: a site that signs people in with QR Login as its
// OpenID Provider, through openid-client (authorization code flow + PKCE).
//
//   QRLOGIN_ISSUER=http://127.0.0.1:8080 PORT=3000 node server.mjs
//
// It uses the public client `demo` that `qrlogin-server --demo` seeds (PKCE
// S256, redirect URIs http://127.0.0.1/callback on any port). Sessions live
// in memory, keyed by a random cookie.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import * as client from "openid-client";

const issuer = process.env.QRLOGIN_ISSUER;
if (!issuer) {
  console.error("set QRLOGIN_ISSUER to the QR Login server's public URL");
  process.exit(2);
}
const clientId = process.env.QRLOGIN_CLIENT_ID ?? "demo";

// openid-client v6 refuses http:// issuers; allowInsecureRequests lifts that.
// Only for this loopback example/test: a real site talks to an https:// issuer
// and must not pass it.
const insecure = new URL(issuer).protocol === "http:" ? { execute: [client.allowInsecureRequests] } : undefined;
const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), insecure);

/** session id → { login?: {verifier, state, nonce}, user?: userinfo, error? } */
const sessions = new Map();

function session(request, response) {
  const match = /(?:^|;\s*)sid=([A-Za-z0-9_-]+)/.exec(request.headers.cookie ?? "");
  if (match && sessions.has(match[1])) return sessions.get(match[1]);
  const id = randomBytes(24).toString("base64url");
  const fresh = {};
  sessions.set(id, fresh);
  response.setHeader("set-cookie", `sid=${id}; Path=/; HttpOnly; SameSite=Lax`);
  return fresh;
}

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(response, status, body) {
  response.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>OIDC example site</title></head>
<body><h1>OIDC example site</h1>${body}</body></html>`);
}

let redirectUri;

const server = createServer(async (request, response) => {
  try {
    const url = new URL(request.url, redirectUri);
    const state = session(request, response);
    if (url.pathname === "/") {
      if (state.user) {
        return page(response, 200, `<p id="user">Signed in as ${escape(state.user.name ?? state.user.sub)}</p>
<p id="email">${escape(state.user.email ?? "")}</p><p><a href="/logout">Sign out</a></p>`);
      }
      const error = state.error ? `<p id="error" role="alert">Sign-in failed: ${escape(state.error)}</p>` : "";
      return page(response, 200, `${error}<p><a id="sign-in" href="/login">Sign in</a></p>`);
    }
    if (url.pathname === "/login") {
      const verifier = client.randomPKCECodeVerifier();
      const login = { verifier, state: client.randomState(), nonce: client.randomNonce() };
      state.login = login;
      state.error = undefined;
      const target = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: "openid profile email",
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state: login.state,
        nonce: login.nonce,
      });
      response.writeHead(302, { location: target.href });
      return response.end();
    }
    if (url.pathname === "/callback") {
      const login = state.login;
      state.login = undefined;
      if (url.searchParams.has("error")) {
        state.error = url.searchParams.get("error");
        return page(response, 200, `<p id="error" role="alert">Sign-in failed: ${escape(state.error)}</p><p><a href="/">Back</a></p>`);
      }
      if (!login) return page(response, 400, `<p id="error" role="alert">No sign-in in progress</p>`);
      const tokens = await client.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: login.verifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      state.user = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      response.writeHead(303, { location: "/" });
      return response.end();
    }
    if (url.pathname === "/logout") {
      state.user = undefined;
      response.writeHead(303, { location: "/" });
      return response.end();
    }
    page(response, 404, "<p>Not found</p>");
  } catch (error) {
    console.error(error);
    page(response, 500, `<p id="error" role="alert">Sign-in failed: ${escape(error.code ?? error.message)}</p>`);
  }
});

server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  const { port } = server.address();
  redirectUri = `http://127.0.0.1:${port}/callback`;
  console.log(`listening on http://127.0.0.1:${port}/`);
});
