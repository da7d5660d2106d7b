// Debian's chromium driven by playwright-core, and what a person sees on the page.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import jsQR from "jsqr";
import { chromium } from "playwright-core";
import { PNG } from "pngjs";
import { REPO } from "./servers.mjs";

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

export const DESKTOP = { viewport: { width: 1280, height: 800 } };
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/**
 * A new page that records what went wrong in it: CSP violations, script
 * errors, every request URL (to prove the poll secret never is in one), and
 * the tickets the page created.
 */
export async function openPage(browser, options = DESKTOP) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.problems = [];
  page.urls = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/i.test(message.text())) page.problems.push(message.text());
  });
  page.on("pageerror", (error) => page.problems.push(`page error: ${error.message}`));
  page.on("request", (request) => page.urls.push(request.url()));
  // Ticket id → poll secret, as the server handed them to the page.
  page.tickets = new Map();
  page.on("response", async (response) => {
    if (response.request().method() !== "POST" || !/\/api\/v1\/qr$/.test(response.url()) || response.status() !== 201) return;
    const body = await response.json().catch(() => null);
    if (body?.id) page.tickets.set(body.id, body.poll_secret);
  });
  page.close = ((close) => async () => { await close(); await context.close(); })(page.close.bind(page));
  return page;
}

/** Decodes the QR code on screen from a screenshot of it: what a phone camera would read. */
export async function readQr(page, root = page) {
  const image = root.locator(".qrlogin-qr");
  await image.waitFor({ state: "visible" });
  await image.evaluate((node) => node.decode());
  const png = PNG.sync.read(await image.screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(code, "the QR code on screen decodes");
  return code.data;
}

/** The widget's message title (what the person reads) once it says `text`. */
export async function seeTitle(page, text, timeout = 10_000) {
  const title = page.locator(".qrlogin-title");
  await title.filter({ hasText: text }).waitFor({ state: "visible", timeout });
  return title;
}

/**
 * Saves a screenshot of a page state as web-<name>.png into
 * $QRLOGIN_SCREENSHOT_DIR (docs/screenshots to refresh the README's pictures).
 */
export async function snapshot(page, name, { fullPage = false } = {}) {
  const dir = process.env.QRLOGIN_SCREENSHOT_DIR;
  if (!dir) return;
  const target = resolve(REPO, dir);
  mkdirSync(target, { recursive: true });
  await page.screenshot({ path: join(target, `web-${name}.png`), animations: "disabled", caret: "hide", fullPage });
}

/** Makes the page report itself as hidden (a background tab) from its first script on. */
export function startHidden(page) {
  return page.addInitScript(() => {
    Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get: () => "hidden" });
    Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => true });
  });
}
