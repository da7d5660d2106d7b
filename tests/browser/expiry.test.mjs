// Codes that run out: a server with 3-second lifetimes, the hosted page and
// the SDK on a second origin.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { appCall, signIn, ticketId } from "./lib/app.mjs";
import { launch, openPage, readQr, seeTitle, snapshot, startHidden } from "./lib/browser.mjs";
import { REPO, startLoginServer, startStaticServer } from "./lib/servers.mjs";

let site;
let server;
let browser;
let alice;

before(async () => {
  site = await startStaticServer({ "/": join(REPO, "tests/browser/fixtures") });
  server = await startLoginServer(["--pending-lifetime", "3", "--scanned-lifetime", "3", "--allowed-origin", site.base]);
  browser = await launch();
  alice = await signIn(server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await site?.stop();
});

describe("expiry", () => {
  test("a code in a background tab expires, and Show a new code brings a fresh one", async () => {
    const page = await openPage(browser);
    await startHidden(page);
    await page.goto(server.base);
    const first = await readQr(page);
    await seeTitle(page, "This code has expired");
    assert.match(await page.locator(".qrlogin-detail").textContent(), /short time/);
    assert.equal(await page.locator(".qrlogin-qr").isVisible(), false, "the expired code is no longer shown");
    await snapshot(page, "expired");
    await page.getByRole("button", { name: "Show a new code" }).click();
    const second = await readQr(page);
    assert.notEqual(second, first);
    await page.close();
  });

  test("a visible page swaps in a fresh code before the old one expires, without reloading", async () => {
    const page = await openPage(browser);
    await page.goto(server.base);
    const first = await readQr(page);
    await page.evaluate(() => { window.sameDocument = true; });
    await page.locator(".qrlogin-link").filter({ hasNotText: first }).waitFor({ timeout: 10_000 });
    const second = await readQr(page);
    assert.notEqual(second, first);
    assert.equal(await page.evaluate(() => window.sameDocument), true, "no reload");
    assert.notEqual(await page.evaluate(() => document.body.dataset.state), "expired");
    const old = await appCall(server.base, alice.token, ticketId(first), "scan");
    assert.notEqual(old.status, 200, "the replaced code was given up");
    const scan = await appCall(server.base, alice.token, ticketId(second), "scan");
    assert.equal(scan.status, 200);
    await seeTitle(page, "Scanned by Alice Example");
    await page.close();
  });

  test("after its rotation time the SDK stops replacing codes and asks for a click", async () => {
    const page = await openPage(browser);
    await page.goto(`${site.base}/sdk.html?server=${encodeURIComponent(server.base)}&rotateForMs=4000`);
    await seeTitle(page, "This code has expired", 15_000);
    const codes = await page.evaluate(() => window.codes);
    assert.equal(codes.length, 2, "the first code and one replacement within 4 s");
    await page.getByRole("button", { name: "Show a new code" }).click();
    const fresh = await readQr(page);
    assert.ok(!codes.includes(fresh), "a new code after the click");
    await page.close();
  });

  test("a scanned code that is not confirmed in time expires", async () => {
    const page = await openPage(browser);
    await page.goto(server.base);
    const id = ticketId(await readQr(page));
    assert.equal((await appCall(server.base, alice.token, id, "scan")).status, 200);
    await seeTitle(page, "Scanned by Alice Example");
    assert.match(await page.locator(".qrlogin-message .qrlogin-countdown").textContent(), /Waiting for confirmation/);
    await seeTitle(page, "This code has expired");
    assert.notEqual((await appCall(server.base, alice.token, id, "confirm")).status, 200);
    await page.close();
  });
});
