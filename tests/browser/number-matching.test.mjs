// Number matching (`--verification-code`): after the scan the page shows two
// digits, the app offers three numbers, and only the one on the page signs in.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { appCall, signIn, ticketId } from "./lib/app.mjs";
import { launch, openPage, readQr, seeTitle, snapshot } from "./lib/browser.mjs";
import { REPO, startLoginServer, startStaticServer } from "./lib/servers.mjs";

let site;
let server;
let browser;
let alice;

before(async () => {
  site = await startStaticServer({ "/": join(REPO, "tests/browser/fixtures") });
  server = await startLoginServer(["--verification-code", "--allowed-origin", site.base]);
  browser = await launch();
  alice = await signIn(server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await site?.stop();
});

/** The app scans the code: the three numbers it offers. */
async function scan(id) {
  const { status, body } = await appCall(server.base, alice.token, id, "scan");
  assert.equal(status, 200);
  const choices = body.verification_choices;
  assert.equal(choices?.length, 3, "the app is offered three numbers");
  for (const choice of choices) assert.match(choice, /^\d\d$/);
  return choices;
}

/** The number the page shows after the scan, read from the screen as the person reads it. */
async function numberOnPage(page) {
  await seeTitle(page, "Scanned by Alice Example");
  const number = page.locator(".qrlogin-number");
  await number.waitFor({ state: "visible" });
  return (await number.textContent()).trim();
}

describe("number matching", () => {
  test("the page shows the number to pick; confirming with it signs in", async () => {
    const page = await openPage(browser);
    await page.goto(server.base);
    const id = ticketId(await readQr(page));
    const choices = await scan(id);
    const code = await numberOnPage(page);
    assert.match(code, /^\d\d$/);
    assert.ok(choices.includes(code), `the page's ${code} is among the app's ${choices}`);
    assert.equal(await page.locator(".qrlogin-detail").textContent(), `Tap ${code} in the app to sign in.`);
    assert.match(await page.getByRole("status").textContent(), new RegExp(`Scanned by Alice Example\\. Tap ${code} in the app`),
      "screen readers are told the number");
    await snapshot(page, "verification-code");

    const unpicked = await appCall(server.base, alice.token, id, "confirm");
    assert.equal(unpicked.status, 400);
    assert.equal(unpicked.body.error, "verification_required");
    assert.equal((await appCall(server.base, alice.token, id, "confirm", { verification_code: code })).status, 200);
    await seeTitle(page, "Signed in as Alice Example");
    assert.equal(await page.locator("h1").textContent(), "Welcome, Alice Example");
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test("a wrong pick cancels the code, says someone may have sent it, and offers a new one", async () => {
    const page = await openPage(browser);
    await page.goto(server.base);
    const id = ticketId(await readQr(page));
    const choices = await scan(id);
    const code = await numberOnPage(page);
    const wrong = choices.find((choice) => choice !== code);
    const picked = await appCall(server.base, alice.token, id, "confirm", { verification_code: wrong });
    assert.equal(picked.status, 403);
    assert.equal(picked.body.error, "wrong_verification_code");

    await seeTitle(page, "The numbers did not match");
    assert.equal(await page.locator(".qrlogin-detail").textContent(),
      "The number picked in the app did not match. If you were not signing in yourself, someone may have sent you this code.");
    assert.equal(await page.locator(".qrlogin-number").isVisible(), false, "the old number is gone");
    await snapshot(page, "wrong-code");
    assert.notEqual((await appCall(server.base, alice.token, id, "confirm", { verification_code: code })).status, 200,
      "the cancelled code cannot be confirmed afterwards, not even with the right number");

    await page.getByRole("button", { name: "Show a new code" }).click();
    assert.notEqual(ticketId(await readQr(page)), id);
    await page.close();
  });

  test("the SDK hands the number to onScanned and the reason to onCancelled", async () => {
    const page = await openPage(browser);
    await page.goto(`${site.base}/sdk.html?server=${encodeURIComponent(server.base)}`);
    const id = ticketId(await readQr(page));
    const choices = await scan(id);
    const code = await numberOnPage(page);
    await page.waitForFunction(() => window.scans.length === 1);
    assert.deepEqual(await page.evaluate(() => window.scans[0]), {
      user: "Alice Example", verificationCode: code,
    });
    const wrong = choices.find((choice) => choice !== code);
    assert.equal((await appCall(server.base, alice.token, id, "confirm", { verification_code: wrong })).status, 403);
    await page.waitForFunction(() => window.cancels.length === 1);
    assert.deepEqual(await page.evaluate(() => window.cancels), [{ reason: "wrong_code" }]);
    await page.close();
  });
});
