// The hosted login page at `/` and the /q/{id} page, in Debian's chromium,
// while the test plays the app over HTTP.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { appCall, signIn, ticketId } from "./lib/app.mjs";
import { PHONE, launch, openPage, readQr, seeTitle, snapshot } from "./lib/browser.mjs";
import { startLoginServer, startProxy } from "./lib/servers.mjs";

let server;
let browser;
let alice;

before(async () => {
  server = await startLoginServer();
  browser = await launch();
  alice = await signIn(server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Opens the hosted page and reads its QR code, as a phone would. */
async function showCode(options) {
  const page = await openPage(browser, options);
  await page.goto(server.base);
  const link = await readQr(page);
  return { page, link, id: ticketId(link) };
}

/** The page's own status view of a ticket, read with the poll secret it received. */
async function ticketStatus(page, id) {
  const response = await fetch(`${server.base}/api/v1/qr/${id}`, {
    headers: { authorization: `Bearer ${page.tickets.get(id)}` },
  });
  return (await response.json()).status;
}

describe("hosted login page", () => {
  test("serves the page with a strict content security policy and no framing", async () => {
    const response = await fetch(server.base);
    const csp = response.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(response.headers.get("referrer-policy"), "no-referrer");
    assert.equal(response.headers.get("x-frame-options"), "DENY");
  });

  test("shows a QR code that decodes to the ticket link, with the link as its text alternative", async () => {
    const { page, link } = await showCode();
    assert.match(link, new RegExp(`^${server.base}/q/[A-Za-z0-9_-]{22}$`));
    assert.equal(await page.locator(".qrlogin-link").textContent(), link);
    assert.equal(await page.locator(".qrlogin-link").getAttribute("href"), link);
    assert.match(await page.locator(".qrlogin-qr").getAttribute("alt"), /QR code/);
    assert.match(await page.locator(".qrlogin-countdown").first().textContent(), /^Expires in [0-2]:\d\d$/);
    assert.equal(await page.evaluate(() => typeof window.QRLogin?.start), "function", "the SDK also sets the global QRLogin");
    await snapshot(page, "pending");
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test("shows who scanned within a second, then signs Alice in and shows her token's claims", async () => {
    const { page, id } = await showCode();
    const scan = await appCall(server.base, alice.token, id, "scan");
    assert.equal(scan.status, 200);
    await seeTitle(page, "Scanned by Alice Example", 1000);
    assert.match(await page.locator(".qrlogin-detail").textContent(), /Confirm on your phone/);
    const avatar = page.locator(".qrlogin-avatar");
    assert.match(await avatar.getAttribute("src"), /^data:image\/svg\+xml/, "the initials picture comes inline");
    assert.ok(await avatar.evaluate((image) => image.decode().then(() => image.naturalWidth > 0)), "the avatar loads");
    assert.ok(!page.urls.some((url) => url.includes("/avatars/") || url.includes(alice.user.id)),
      "before the confirm, the page requests nothing that names the user");
    await page.getByRole("button", { name: "Start over" }).waitFor();
    await snapshot(page, "scanned");

    assert.equal((await appCall(server.base, alice.token, id, "confirm")).status, 200);
    await seeTitle(page, "Signed in as Alice Example");
    assert.equal(await page.locator("h1").textContent(), "Welcome, Alice Example");
    assert.equal(await page.locator('[data-claim="name"] dd').textContent(), "Alice Example");
    assert.equal(await page.locator('[data-claim="sub"] dd').textContent(), alice.user.id);
    assert.equal(await page.locator('[data-claim="alg"] dd').textContent(), "EdDSA");
    await snapshot(page, "signed-in", { fullPage: true });

    assert.ok(page.urls.some((url) => url.endsWith(`/api/v1/qr/${id}/events`)), "the page listened on the event stream");
    const secret = page.tickets.get(id);
    assert.ok(secret, "the page received a poll secret");
    assert.ok(page.urls.every((url) => !url.includes(secret)), "the poll secret is never in a URL");
    assert.equal(await ticketStatus(page, id), "consumed");
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test("start over gives the scanned code up and shows a new one", async () => {
    const { page, id } = await showCode();
    assert.equal((await appCall(server.base, alice.token, id, "scan")).status, 200);
    await page.getByRole("button", { name: "Start over" }).click();
    const fresh = await readQr(page);
    assert.notEqual(ticketId(fresh), id);
    assert.equal(await ticketStatus(page, id), "cancelled");
    assert.notEqual((await appCall(server.base, alice.token, id, "confirm")).status, 200, "the old code cannot be confirmed");
    await page.close();
  });

  test("a cancel on the phone shows why, and Try again works from the keyboard", async () => {
    const { page, id } = await showCode();
    assert.equal((await appCall(server.base, alice.token, id, "scan")).status, 200);
    await seeTitle(page, "Scanned by Alice Example");
    assert.equal((await appCall(server.base, alice.token, id, "cancel")).status, 200);
    await seeTitle(page, "Sign-in cancelled");
    assert.equal(await page.locator(".qrlogin-detail").textContent(), "Cancelled in the app.");
    await snapshot(page, "cancelled");

    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Try again");
    await page.keyboard.press("Enter");
    const fresh = await readQr(page);
    assert.notEqual(ticketId(fresh), id);
    assert.equal(await page.evaluate(() => document.activeElement.className), "qrlogin-link", "focus lands on the new code's link");
    await page.close();
  });

  test("with the event stream blocked, the login completes by long-poll", async () => {
    const page = await openPage(browser);
    await page.route("**/api/v1/qr/*/events", (route) => route.abort("connectionrefused"));
    await page.goto(server.base);
    const id = ticketId(await readQr(page));
    assert.equal((await appCall(server.base, alice.token, id, "scan")).status, 200);
    await seeTitle(page, "Scanned by Alice Example");
    assert.equal((await appCall(server.base, alice.token, id, "confirm")).status, 200);
    await seeTitle(page, "Signed in as Alice Example");
    assert.ok(page.urls.some((url) => url.includes(`/api/v1/qr/${id}?after=`) && url.includes("wait=")), "it long-polled");
    await page.close();
  });

  test("a dropped event stream is reopened and still delivers the scan", async () => {
    const page = await openPage(browser);
    let streams = 0;
    let resumedAfter = null;
    let reopened;
    const reopen = new Promise((done) => { reopened = done; });
    await page.route("**/api/v1/qr/*/events", (route) => {
      streams += 1;
      if (streams > 1) {
        resumedAfter = route.request().headers()["last-event-id"];
        reopened();
        return route.continue();
      }
      // The first connection ends at once, as a restarting proxy would end it.
      return route.fulfill({ status: 200, contentType: "text/event-stream", body: ": bye\n\n" });
    });
    await page.goto(server.base);
    const id = ticketId(await readQr(page));
    await reopen;
    assert.equal((await appCall(server.base, alice.token, id, "scan")).status, 200);
    await seeTitle(page, "Scanned by Alice Example");
    assert.ok(!page.urls.some((url) => url.includes("wait=")), "it stayed on the event stream");
    assert.match(resumedAfter ?? "", /^[1-9]\d*$/, "the stream resumed after the last version seen");
    await page.close();
  });

  test("a network drop shows Reconnecting instead of a stale countdown, then carries on", async () => {
    const network = await startProxy(server.port);
    const page = await openPage(browser);
    await page.goto(network.base);
    const id = ticketId(await readQr(page));
    const countdown = page.locator(".qrlogin-code .qrlogin-countdown");
    await countdown.filter({ hasText: /^Expires in/ }).waitFor();
    network.cut();
    await countdown.filter({ hasText: "Reconnecting…" }).waitFor();
    assert.ok(await page.locator(".qrlogin.qrlogin-offline").isVisible(), "the code is dimmed while offline");
    network.restore();
    await countdown.filter({ hasText: /^Expires in [0-2]:\d\d$/ }).waitFor();
    assert.equal((await appCall(server.base, alice.token, id, "scan")).status, 200);
    await seeTitle(page, "Scanned by Alice Example");
    await page.close();
    await network.stop();
  });

  test("counts down by the server's clock when the computer's clock is 10 minutes fast", async () => {
    const page = await openPage(browser);
    await page.addInitScript(() => {
      const realNow = Date.now;
      Date.now = () => realNow() + 10 * 60 * 1000;
    });
    await page.goto(server.base);
    const first = await readQr(page);
    // The server's clock is estimated from its Date header, which has whole
    // seconds: the estimate may be up to a second behind, and the countdown
    // rounds up, so 2:01 is right too. Ten minutes fast would show ~12:00.
    assert.match(await page.locator(".qrlogin-code .qrlogin-countdown").textContent(), /^Expires in (1:[45]\d|2:0[01])$/);
    assert.equal(await page.locator(".qrlogin-link").textContent(), first, "no early replacement of the code");
    await page.close();
  });

  test("an exchange lost to the network is tried again and still signs in", async () => {
    const page = await openPage(browser);
    let exchanges = 0;
    await page.route("**/api/v1/qr/*/exchange", (route) => {
      exchanges += 1;
      return exchanges === 1 ? route.abort("connectionreset") : route.continue();
    });
    await page.goto(server.base);
    const id = ticketId(await readQr(page));
    assert.equal((await appCall(server.base, alice.token, id, "scan")).status, 200);
    assert.equal((await appCall(server.base, alice.token, id, "confirm")).status, 200);
    await seeTitle(page, "Signed in as Alice Example");
    assert.equal(exchanges, 2);
    await page.close();
  });

  test("an unreachable server is said in words, and Try again recovers", async () => {
    const page = await openPage(browser);
    await page.route("**/api/v1/qr", (route) => route.abort("connectionrefused"));
    await page.goto(server.base);
    await seeTitle(page, "Can't reach the login server");
    assert.equal(await page.locator(".qrlogin-qr").isVisible(), false);
    await snapshot(page, "unreachable");
    await page.unroute("**/api/v1/qr");
    await page.getByRole("button", { name: "Try again" }).click();
    ticketId(await readQr(page));
    await page.close();
  });

  test("leaving the page gives its code up", async () => {
    const { page, id } = await showCode();
    await page.goto("about:blank");
    let status = await ticketStatus(page, id);
    for (let tries = 0; status !== "cancelled" && tries < 50; tries += 1) {
      await new Promise((done) => setTimeout(done, 100));
      status = await ticketStatus(page, id);
    }
    assert.equal(status, "cancelled");
    await page.close();
  });

  test("fits a phone-sized window without sideways scrolling", async () => {
    const { page, link } = await showCode(PHONE);
    assert.ok(link);
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(fits, "no horizontal scroll");
    const box = await page.locator(".qrlogin-qr").boundingBox();
    assert.ok(box.width >= 180 && box.x >= 0 && box.x + box.width <= 390, "the QR is large and inside the screen");
    await snapshot(page, "phone");
    await page.close();
  });
});

describe("/q/{id} page", () => {
  test("tells a phone's camera user to scan with the app and offers its deep link", async () => {
    const { page: loginPage, link } = await showCode();
    const page = await openPage(browser, PHONE);
    await page.goto(link);
    assert.match(await page.locator("h1").textContent(), /QR Login app/);
    const open = page.getByRole("link", { name: "Open in the QR Login app" });
    assert.equal(await open.getAttribute("href"), `qrlogin://scan?u=${encodeURIComponent(link)}`);
    await snapshot(page, "q");
    assert.deepEqual(page.problems, []);
    await page.close();
    await loginPage.close();
  });
});
