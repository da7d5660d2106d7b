// examples/oidc-site: a relying party built on openid-client (panva) signs in
// through qrlogin-server as its OpenID Provider — discovery, the hosted QR
// authorization page, the code + PKCE exchange at the token endpoint and
// userinfo — in Debian's chromium, while the test plays the app over HTTP.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { appCall, signIn, ticketId } from "./lib/app.mjs";
import { launch, openPage, readQr } from "./lib/browser.mjs";
import { REPO, startLoginServer } from "./lib/servers.mjs";

const SITE_DIR = join(REPO, "examples", "oidc-site");
const CLIENT_NAME = "QR Login demo client";

let server;
let site;
let browser;
let alice;

/** Starts examples/oidc-site on a free port against `issuer`; resolves once it prints its URL. */
async function startSite(issuer) {
  if (!existsSync(join(SITE_DIR, "node_modules", "openid-client"))) {
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: SITE_DIR, stdio: ["ignore", "pipe", "pipe"] });
  }
  const child = spawn(process.execPath, ["server.mjs"], {
    cwd: SITE_DIR,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, QRLOGIN_ISSUER: issuer, PORT: "0" },
  });
  let output = "";
  const exited = new Promise((done) => child.once("exit", done));
  child.stderr.on("data", (chunk) => { output += chunk; });
  const base = await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the example site did not start:\n${output}`)), 15_000);
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (match) { clearTimeout(timer); done(match[1]); }
    });
    child.once("exit", (code) => { clearTimeout(timer); fail(new Error(`the example site exited (${code}):\n${output}`)); });
  });
  return {
    base,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

/** Saves the authorization page as oidc-authorize.png into $QRLOGIN_SCREENSHOT_DIR. */
async function screenshot(page) {
  const dir = process.env.QRLOGIN_SCREENSHOT_DIR;
  if (!dir) return;
  const target = resolve(REPO, dir);
  mkdirSync(target, { recursive: true });
  await page.screenshot({ path: join(target, "oidc-authorize.png"), animations: "disabled", caret: "hide" });
}

before(async () => {
  server = await startLoginServer();
  site = await startSite(server.base);
  browser = await launch();
  alice = await signIn(server.base);
});

after(async () => {
  await browser?.close();
  await site?.stop();
  await server?.stop();
});

/** From the site's home page through "Sign in" to the provider's QR page; the ticket id on screen. */
async function toAuthorizePage(page) {
  await page.goto(site.base);
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.waitForURL(`${server.base}/oauth2/authorize?**`);
  assert.equal(await page.locator("#client-name").textContent(), CLIENT_NAME);
  const link = await readQr(page);
  assert.match(link, new RegExp(`^${server.base}/q/[A-Za-z0-9_-]{22}$`));
  return ticketId(link);
}

describe("openid-client relying party (examples/oidc-site)", () => {
  test("signs Alice in: QR page names the client, the app confirms, the site shows her userinfo", async () => {
    const page = await openPage(browser);
    const id = await toAuthorizePage(page);
    await screenshot(page);

    const scan = await appCall(server.base, alice.token, id, "scan");
    assert.equal(scan.status, 200, JSON.stringify(scan.body));
    assert.equal(scan.body.site.name, CLIENT_NAME, "the app names the client it signs in to");
    const confirm = await appCall(server.base, alice.token, id, "confirm");
    assert.equal(confirm.status, 200, JSON.stringify(confirm.body));

    await page.waitForURL(`${site.base}/`, { timeout: 15_000 });
    await page.locator("#user").filter({ hasText: "Signed in as Alice Example" }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator("#email").textContent(), "alice@example.com");
    const callback = new URL(page.urls.find((url) => url.startsWith(`${site.base}/callback?`)));
    assert.ok(callback.searchParams.get("code"), "the provider sent a code");
    assert.ok(callback.searchParams.get("state"), "and the site's state back");
    assert.equal(callback.searchParams.get("iss"), server.base, "and its issuer (RFC 9207)");
    assert.doesNotMatch(site.output(), /Error/, "the site logged no error");
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test("a cancel in the app sends the browser back with error=access_denied", async () => {
    const page = await openPage(browser);
    const id = await toAuthorizePage(page);
    const scan = await appCall(server.base, alice.token, id, "scan");
    assert.equal(scan.status, 200, JSON.stringify(scan.body));
    const cancel = await appCall(server.base, alice.token, id, "cancel");
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));

    await page.waitForURL((url) => url.href.startsWith(`${site.base}/callback?`), { timeout: 15_000 });
    const back = new URL(page.url());
    assert.equal(back.searchParams.get("error"), "access_denied");
    await page.locator("#error").filter({ hasText: "access_denied" }).waitFor();
    await page.goto(site.base);
    await page.getByRole("link", { name: "Sign in" }).waitFor();
    assert.equal(await page.locator("#user").count(), 0, "nobody is signed in");
    await page.close();
  });
});
