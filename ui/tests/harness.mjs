// Serves dist-test/ on 127.0.0.1 and drives Debian's chromium with
// playwright-core. `openApp(query)` loads mock.html: the real UI over the
// mocked Tauri IPC. (Playwright gives each launch a fresh temporary profile.)
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const ROOT = new URL("../dist-test/", import.meta.url).pathname;
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };

export async function startHarness() {
  if (!existsSync(join(ROOT, "mock.html"))) throw new Error("run `npm run build:test` first");
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    const file = join(ROOT, path === "/" ? "mock.html" : path);
    if (!file.startsWith(ROOT) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });

  return {
    /** Opens the app with mock options, e.g. `{ signedIn: 1, camera: "none" }`. */
    async openApp(options = {}, { colorScheme = "light", clock = false, userAgent, viewport = { width: 440, height: 780 } } = {}) {
      const context = await browser.newContext({ colorScheme, userAgent, viewport, hasTouch: userAgent?.includes("Mobile") });
      const page = await context.newPage();
      const errors = [];
      page.on("pageerror", (err) => errors.push(err));
      if (clock) await page.clock.install();
      const query = new URLSearchParams(Object.entries(options).map(([k, v]) => [k, String(v)]));
      await page.goto(`${base}/mock.html?${query}`);
      page.jsErrors = errors;
      return page;
    },
    async close() {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The commands the UI invoked so far, in order. */
export function calls(page) {
  return page.evaluate(() => window.qrloginMock.calls.map((c) => c.cmd));
}

/** Makes the next call of `cmd` fail with `{kind, message}`. */
export function failNext(page, cmd, kind, message) {
  return page.evaluate(([cmd, kind, message]) => {
    window.qrloginMock.failures[cmd] = { kind, message };
  }, [cmd, kind, message]);
}

/** Pretends a link opened the running app (tauri-plugin-deep-link's event). */
export function openLink(page, url) {
  return page.evaluate((url) => window.qrloginOpenLink(url), url);
}

export function emitQr(page, text = "https://login.example.com/q/AAAAAAAAAAAAAAAAAAAAAA") {
  return page.evaluate((text) => window.qrloginEmitQr(text), text);
}
