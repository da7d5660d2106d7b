// "Was this you? — No": the app revokes the web session a QR sign-in created,
// and the page (which keeps checking GET /api/v1/web/me) notices.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { appCall, revokeSignIn, signIn, ticketId } from "./lib/app.mjs";
import { launch, openPage, readQr, seeTitle, snapshot } from "./lib/browser.mjs";
import { REPO, startLoginServer, startStaticServer } from "./lib/servers.mjs";

/** The hosted page's interval between session checks. */
const CHECK_INTERVAL_MS = 5000;
const SIGNED_OUT_TEXT = "This browser was signed out from the app (Was this you? → No).";

let site;
let server;
let browser;
let alice;

before(async () => {
  site = await startStaticServer({ "/": join(REPO, "tests/browser/fixtures") });
  server = await startLoginServer(["--allowed-origin", site.base]);
  browser = await launch();
  alice = await signIn(server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await site?.stop();
});

/** Signs Alice in on the hosted page: the page, its ticket id and the access token it holds. */
async function signInOnPage(page) {
  await page.goto(server.base);
  const id = ticketId(await readQr(page));
  assert.equal((await appCall(server.base, alice.token, id, "scan")).status, 200);
  assert.equal((await appCall(server.base, alice.token, id, "confirm")).status, 200);
  await seeTitle(page, "Signed in as Alice Example");
  const token = await page.locator("#token").textContent();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, "the page holds a JWT");
  return { id, token };
}

/** GET /api/v1/web/me with a web access token, as a relying party's backend would call it. */
async function me(token) {
  const response = await fetch(`${server.base}/api/v1/web/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

/** Lets the test switch the page between a visible and a background tab. */
function controlVisibility(page) {
  return page.addInitScript(() => {
    let hidden = false;
    Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
    Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => hidden });
    window.setHidden = (value) => {
      hidden = value;
      document.dispatchEvent(new Event("visibilitychange"));
    };
  });
}

describe("signed out from the app", () => {
  test("the page notices a revoked sign-in within its check interval and shows a new code", async () => {
    const page = await openPage(browser);
    const { id, token } = await signInOnPage(page);
    assert.equal((await me(token)).status, 200);
    assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0, "the token is not in storage");
    assert.deepEqual(await page.context().cookies(), [], "nor in a cookie");
    assert.ok(page.urls.every((url) => !url.includes(token)), "nor in any URL");

    const revoked = await revokeSignIn(server.base, alice.token, id);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.outcome, "revoked");
    const since = Date.now();
    const notice = page.locator("#notice");
    await notice.filter({ hasText: SIGNED_OUT_TEXT }).waitFor({ timeout: CHECK_INTERVAL_MS + 3000 });
    const noticedAfterMs = Date.now() - since;
    assert.ok(noticedAfterMs <= CHECK_INTERVAL_MS + 1500, `noticed after ${noticedAfterMs} ms`);
    assert.equal(await notice.getAttribute("role"), "alert");

    assert.notEqual(ticketId(await readQr(page)), id, "a new code is shown");
    assert.equal(await page.locator("h1").textContent(), "Sign in with your phone");
    assert.equal(await page.locator("#account").isVisible(), false);
    assert.equal(await page.locator("#token").textContent(), "", "the page let go of the token");
    assert.ok(page.urls.some((url) => url.endsWith("/api/v1/web/me")), "the page checked /api/v1/web/me");
    await snapshot(page, "revoked");
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test("a background tab does not check; it checks at once when it comes back to the front", async () => {
    const page = await openPage(browser);
    await controlVisibility(page);
    const { id } = await signInOnPage(page);
    await page.evaluate(() => window.setHidden(true));
    const checksBefore = page.urls.filter((url) => url.endsWith("/api/v1/web/me")).length;
    assert.equal((await revokeSignIn(server.base, alice.token, id)).body.outcome, "revoked");
    await page.waitForTimeout(CHECK_INTERVAL_MS + 1000);
    assert.equal(page.urls.filter((url) => url.endsWith("/api/v1/web/me")).length, checksBefore, "no checks while hidden");
    assert.equal(await page.locator("#notice").isVisible(), false);

    await page.evaluate(() => window.setHidden(false));
    await page.locator("#notice").filter({ hasText: SIGNED_OUT_TEXT }).waitFor({ timeout: 1500 });
    await page.close();
  });

  test("QRLogin.me resolves a live token's profile and rejects a revoked one with token_revoked", async () => {
    const page = await openPage(browser);
    const { id, token } = await signInOnPage(page);
    const ask = (accessToken) => page.evaluate((accessToken) => QRLogin.me({ accessToken }).then(
      (profile) => ({ profile }),
      (error) => ({ code: error.code, status: error.status, isQRLoginError: error instanceof QRLogin.QRLoginError }),
    ), accessToken);

    const live = await ask(token);
    assert.deepEqual(live.profile, alice.user);
    assert.deepEqual(await ask(`${token.slice(0, -4)}AAAA`), { code: "unauthorized", status: 401, isQRLoginError: true });

    assert.equal((await revokeSignIn(server.base, alice.token, id)).status, 200);
    assert.deepEqual(await ask(token), { code: "token_revoked", status: 401, isQRLoginError: true });
    const listed = await (await fetch(`${server.base}/api/v1/web/revoked`)).json();
    const { jti } = JSON.parse(Buffer.from(token.split(".")[1], "base64url"));
    assert.ok(listed.revoked.some((entry) => entry.jti === jti), "relying parties can see the revoked token id");
    await page.close();
  });

  test("a site on another origin checks its session with QRLogin.me", async () => {
    const page = await openPage(browser);
    await page.goto(`${site.base}/sdk.html?server=${encodeURIComponent(server.base)}`);
    const id = ticketId(await readQr(page));
    assert.equal((await appCall(server.base, alice.token, id, "scan")).status, 200);
    assert.equal((await appCall(server.base, alice.token, id, "confirm")).status, 200);
    const check = () => page.evaluate((server) => window.session.result
      .then(({ access_token: accessToken }) => QRLogin.me({ server, accessToken }))
      .then((profile) => profile.username, (error) => error.code), server.base);
    assert.equal(await check(), "alice");
    assert.equal((await revokeSignIn(server.base, alice.token, id)).status, 200);
    assert.equal(await check(), "token_revoked");
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test("revoking while the page is still exchanging the confirmed code cancels it, and the page says so", async () => {
    const page = await openPage(browser);
    let release;
    const held = new Promise((done) => { release = done; });
    let exchangeSeen;
    const exchanging = new Promise((done) => { exchangeSeen = done; });
    await page.route("**/api/v1/qr/*/exchange", async (route) => {
      exchangeSeen();
      await held;
      await route.continue();
    });
    await page.goto(server.base);
    const id = ticketId(await readQr(page));
    assert.equal((await appCall(server.base, alice.token, id, "scan")).status, 200);
    assert.equal((await appCall(server.base, alice.token, id, "confirm")).status, 200);
    await exchanging;
    const revoked = await revokeSignIn(server.base, alice.token, id);
    assert.equal(revoked.body.outcome, "cancelled", "not exchanged yet: the code is cancelled");
    release();
    await seeTitle(page, "Sign-in cancelled");
    assert.equal(await page.locator(".qrlogin-detail").textContent(), "Cancelled in the app.");
    assert.equal(await page.locator("#account").isVisible(), false, "never signed in");
    await page.close();
  });

  test("revoking a scanned code cancels it, and the page says it was cancelled in the app", async () => {
    const page = await openPage(browser);
    await page.goto(server.base);
    const id = ticketId(await readQr(page));
    assert.equal((await appCall(server.base, alice.token, id, "scan")).status, 200);
    await seeTitle(page, "Scanned by Alice Example");
    const revoked = await revokeSignIn(server.base, alice.token, id);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.outcome, "cancelled");
    await seeTitle(page, "Sign-in cancelled");
    assert.equal(await page.locator(".qrlogin-detail").textContent(), "Cancelled in the app.");
    await page.close();
  });
});
