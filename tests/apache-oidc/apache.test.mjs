// An unmodified, widely deployed relying party in front of QR Login: Debian's
// Apache httpd with mod_auth_openidc protects /protected, configured only with
// our discovery URL and a client registered with `qrlogin-server clients add`.
// Debian's chromium (playwright-core) opens the protected page, lands on our
// hosted QR page, the test reads the QR off the screen and plays the app
// (sign in as alice, scan, confirm), and chromium ends on the protected page,
// which shows Alice's claims as mod_auth_openidc passed them to Apache.
//
// Run: QRLOGIN_SERVER_BIN=target/debug/qrlogin-server \
//        node --test tests/apache-oidc/apache.test.mjs
// (scripts/test.d/32-apache-oidc.sh). Needs apache2 and
// libapache2-mod-auth-openidc (scripts/setup) and tests/browser's node_modules.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { appCall, signIn, ticketId } from "../browser/lib/app.mjs";
import { launch, openPage, readQr } from "../browser/lib/browser.mjs";
import { REPO, freePort } from "../browser/lib/servers.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const APACHE = process.env.APACHE2 ?? "/usr/sbin/apache2";
const SERVER_BIN = process.env.QRLOGIN_SERVER_BIN
  ? resolve(process.env.QRLOGIN_SERVER_BIN)
  : join(process.env.CARGO_TARGET_DIR ? resolve(REPO, process.env.CARGO_TARGET_DIR) : join(REPO, "target"), "debug", "qrlogin-server");

const children = new Set();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** Spawns a process that the test stops (SIGTERM, then SIGKILL) at the end; collects its output. */
function start(command, args, options) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  children.add(child);
  child.output = "";
  child.stdout.on("data", (chunk) => { child.output += chunk; });
  child.stderr.on("data", (chunk) => { child.output += chunk; });
  child.on("error", (error) => { child.output += `spawn error: ${error.message}\n`; });
  child.exited = new Promise((done) => child.once("close", done));
  child.stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await child.exited;
      clearTimeout(timer);
    }
    children.delete(child);
  };
  return child;
}

async function waitFor(url, child, what, log = () => "") {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited before it was ready:\n${child.output}${log()}`);
    }
    try {
      await fetch(url, { redirect: "manual" });
      return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within 30 s:\n${child.output}${log()}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

let dir;
let server;
let apache;
let browser;
let issuer;
let apacheBase;

const errorLog = () => {
  try {
    return `\n--- Apache error.log ---\n${readFileSync(join(dir, "apache", "error.log"), "utf8")}`;
  } catch {
    return "";
  }
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "qrlogin-apache-"));
  const serverPort = await freePort();
  const apachePort = await freePort();
  issuer = `http://127.0.0.1:${serverPort}`;
  apacheBase = `http://127.0.0.1:${apachePort}`;
  const databaseUrl = `sqlite://${join(dir, "qrlogin.db")}`;

  // The relying party, registered as an operator would.
  const { stdout } = await promisify(execFile)(SERVER_BIN, [
    "clients", "add", "--name", "Apache Example", "--redirect-uri", `${apacheBase}/protected/redirect_uri`,
  ], { cwd: dir, env: { ...process.env, QRLOGIN_DATABASE_URL: databaseUrl } });
  const client = JSON.parse(stdout.trim().split("\n").pop());
  assert.ok(client.client_id && client.client_secret, `clients add printed ${stdout}`);

  server = start(SERVER_BIN, [
    "--listen", `127.0.0.1:${serverPort}`, "--public-url", issuer, "--database-url", databaseUrl,
    "--jwt-key", join(dir, "jwt.pem"), "--demo",
  ], { cwd: dir, env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" } });
  await waitFor(`${issuer}/healthz`, server, "qrlogin-server");

  // Apache's own ServerRoot; readable by the user it drops to when started as root.
  const root = join(dir, "apache");
  mkdirSync(join(root, "htdocs", "protected"), { recursive: true });
  writeFileSync(join(root, "htdocs", "protected", "index.shtml"), readFileSync(join(HERE, "index.shtml")));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) for (const path of [dir, root, join(root, "htdocs"), join(root, "htdocs", "protected")]) chmodSync(path, 0o755);
  const config = readFileSync(join(HERE, "httpd.conf.in"), "utf8")
    .replaceAll("@DIR@", root)
    .replaceAll("@PORT@", String(apachePort))
    .replaceAll("@USER@", asRoot ? "User www-data\nGroup www-data" : "")
    .replaceAll("@ISSUER@", issuer)
    .replaceAll("@CLIENT_ID@", client.client_id)
    .replaceAll("@CLIENT_SECRET@", client.client_secret)
    .replaceAll("@PASSPHRASE@", randomBytes(24).toString("hex"));
  writeFileSync(join(root, "httpd.conf"), config);
  assert.ok(existsSync(APACHE), `${APACHE} is installed (apt-get install apache2 libapache2-mod-auth-openidc)`);
  apache = start(APACHE, ["-X", "-f", join(root, "httpd.conf")], { cwd: root, env: { ...process.env, LANG: "C" } });
  await waitFor(`${apacheBase}/`, apache, "apache2", errorLog);

  browser = await launch();
});

after(async () => {
  await browser?.close();
  await apache?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("mod_auth_openidc signs Alice in through QR Login and passes her claims to the protected page", async () => {
  const page = await openPage(browser);
  try {
    await page.goto(`${apacheBase}/protected/`);
    // mod_auth_openidc sent the browser to our /oauth2/authorize: the hosted QR page.
    assert.ok(page.url().startsWith(`${issuer}/oauth2/authorize`), `on the provider's page: ${page.url()}`);
    const link = await readQr(page);
    assert.ok(link.startsWith(`${issuer}/q/`), link);
    const id = ticketId(link);

    const alice = await signIn(issuer);
    assert.equal((await appCall(issuer, alice.token, id, "scan")).status, 200, "scan");
    assert.equal((await appCall(issuer, alice.token, id, "confirm")).status, 200, "confirm");

    // The page sends the browser to Apache's redirect_uri; Apache redeems the
    // code, checks the id_token and sends it on to the protected page.
    try {
      await page.locator("#name").filter({ hasText: "Alice Example" }).waitFor({ timeout: 15_000 });
    } catch (error) {
      throw new Error(`did not reach the protected page (at ${page.url()}): ${error.message}\n${(await page.content()).slice(0, 2000)}${errorLog()}`);
    }
    assert.equal(new URL(page.url()).pathname, "/protected/");
    assert.equal(await page.locator("#email").textContent(), "alice@example.com");
    assert.equal(await page.locator("#sub").textContent(), alice.user.id);
    assert.equal(await page.locator("#iss").textContent(), issuer);
    assert.equal(await page.locator("#user").textContent(), "alice");

    // The session cookie mod_auth_openidc set keeps her signed in.
    await page.goto(`${apacheBase}/protected/`);
    assert.equal(await page.locator("#name").textContent(), "Alice Example");
    assert.deepEqual(page.problems, []);
  } finally {
    await page.close();
  }
});
