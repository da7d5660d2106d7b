// examples/embed.html: a third-party site on another origin embeds the SDK.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { appCall, signIn, ticketId } from "./lib/app.mjs";
import { launch, openPage, readQr, seeTitle, snapshot } from "./lib/browser.mjs";
import { REPO, startLoginServer, startStaticServer } from "./lib/servers.mjs";

let site;
let allowing;
let refusing;
let browser;

before(async () => {
  site = await startStaticServer({ "/": join(REPO, "examples") });
  allowing = await startLoginServer(["--allowed-origin", site.base]);
  refusing = await startLoginServer(["--allowed-origin", "http://127.0.0.1:9"]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await allowing?.stop();
  await refusing?.stop();
  await site?.stop();
});

/** Tickets the server made (each starts pending), from its Prometheus metrics. */
async function ticketsCreated(server) {
  const text = await (await fetch(`${server.base}/metrics`)).text();
  const line = text.split("\n").find((row) => row.startsWith('qrlogin_tickets_total{state="pending"}'));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("embedding on another origin", () => {
  test("signs in on a site whose origin the server allows", async () => {
    const alice = await signIn(allowing.base);
    const page = await openPage(browser);
    await page.goto(`${site.base}/embed.html?server=${encodeURIComponent(allowing.base)}`);
    const id = ticketId(await readQr(page));
    assert.equal((await appCall(allowing.base, alice.token, id, "scan")).status, 200);
    await seeTitle(page, "Scanned by Alice Example");
    await snapshot(page, "embed");
    assert.equal((await appCall(allowing.base, alice.token, id, "confirm")).status, 200);
    await page.locator("#signed-in").filter({ hasText: "Hello Alice Example!" }).waitFor();
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test("is refused on a site whose origin the server does not allow", async () => {
    const page = await openPage(browser);
    await page.goto(`${site.base}/embed.html?server=${encodeURIComponent(refusing.base)}`);
    await seeTitle(page, "Can't reach the login server");
    assert.equal(await page.locator(".qrlogin-qr").isVisible(), false, "no code is shown");
    assert.equal(page.tickets.size, 0, "the page got no ticket");
    assert.equal(await ticketsCreated(refusing), 0, "the refused origin made no ticket on the server");
    await page.close();
  });
});
