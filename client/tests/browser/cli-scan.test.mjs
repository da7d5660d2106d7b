// "Try it without a phone" end to end: the hosted login page in Debian's
// chromium, a screenshot of the whole window, `qrlogin scan --image` on it —
// and the page signs in (or shows the cancel). Uses the browser-test helpers
// and node_modules of tests/browser; run by scripts/test.d/35-cli-scan-screenshot.sh.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { launch, openPage, seeTitle } from "../../../tests/browser/lib/browser.mjs";
import { startLoginServer } from "../../../tests/browser/lib/servers.mjs";

const QRLOGIN = process.env.QRLOGIN_BIN;
assert.ok(QRLOGIN, "set QRLOGIN_BIN to the qrlogin binary");

let server;
let browser;
let dir;

function qrlogin(args, input = "") {
  const run = spawnSync(QRLOGIN, ["--insecure-storage", ...args], {
    input,
    encoding: "utf8",
    env: { ...process.env, QRLOGIN_CONFIG_DIR: join(dir, "config") },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "qrlogin-cli-"));
  server = await startLoginServer();
  browser = await launch();
  const login = qrlogin(["login", "--server", server.base, "--username", "alice", "--password-stdin"], "demo\n");
  assert.equal(login.code, 0, login.stderr);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Opens the hosted page and takes a screenshot of the whole window, as a person would. */
async function screenshotOfThePage(name) {
  const page = await openPage(browser);
  await page.goto(server.base);
  const qr = page.locator(".qrlogin-qr");
  await qr.waitFor({ state: "visible" });
  await qr.evaluate((node) => node.decode());
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path });
  return { page, path };
}

test("a screenshot scanned with qrlogin --yes signs the page in", async () => {
  const { page, path } = await screenshotOfThePage("confirm");
  const scan = qrlogin(["--json", "scan", "--image", path, "--yes"]);
  assert.equal(scan.code, 0, scan.stdout + scan.stderr);
  const out = JSON.parse(scan.stdout);
  assert.equal(out.answer, "confirmed");
  assert.equal(out.request.site, server.base);
  assert.match(out.request.requester.browser, /Chrom/);
  await seeTitle(page, "Signed in as Alice Example");
  await page.close();
});

test("a screenshot scanned with qrlogin --cancel shows the cancel on the page", async () => {
  const { page, path } = await screenshotOfThePage("cancel");
  const scan = qrlogin(["scan", "--image", path, "--cancel"]);
  assert.equal(scan.code, 0, scan.stdout + scan.stderr);
  assert.match(scan.stdout, /Sign in to 127\.0\.0\.1 \(http:\/\/127\.0\.0\.1:\d+\)\?\n  as: +Alice Example/);
  await seeTitle(page, "Sign-in cancelled");
  await page.close();
});

test("qrlogin decode prints the page's login link", async () => {
  const { page, path } = await screenshotOfThePage("decode");
  const link = execFileSync(QRLOGIN, ["decode", path], { encoding: "utf8" }).trim();
  assert.match(link, new RegExp(`^${server.base.replace(/[.]/g, "\\.")}/q/[A-Za-z0-9_-]{22}$`));
  await page.close();
});
