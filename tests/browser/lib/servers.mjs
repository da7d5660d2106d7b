// Starts the real qrlogin-server (and a plain static server for a second
// origin) for the browser tests, and stops everything it started.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { connect, createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

const running = new Set();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function serverBinary() {
  if (process.env.QRLOGIN_SERVER_BIN) return resolve(process.env.QRLOGIN_SERVER_BIN);
  const target = process.env.CARGO_TARGET_DIR ? resolve(REPO, process.env.CARGO_TARGET_DIR) : join(REPO, "target");
  return join(target, "debug", "qrlogin-server");
}

/** A port nobody listens on right now (the kernel's pick for port 0). */
export async function freePort() {
  const probe = createServer();
  await new Promise((done) => probe.listen(0, "127.0.0.1", done));
  const { port } = probe.address();
  await new Promise((done) => probe.close(done));
  return port;
}

/**
 * Starts `qrlogin-server --demo` on a free loopback port in a fresh temporary
 * directory. `args` adds flags (lifetimes, --allowed-origin …).
 */
export async function startLoginServer(args = []) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), "qrlogin-browser-"));
  const child = spawn(serverBinary(), [
    "--listen", `127.0.0.1:${port}`,
    "--public-url", base,
    "--database-url", `sqlite://${join(dir, "qrlogin.db")}`,
    "--demo",
    ...args,
  ], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" } });
  running.add(child);
  let output = "";
  let spawnError = null;
  child.on("error", (error) => { spawnError = error; });
  child.stdout.on("data", (chunk) => { output += chunk; });
  child.stderr.on("data", (chunk) => { output += chunk; });
  const exited = new Promise((done) => {
    child.once("exit", (code, signal) => done({ code, signal }));
    child.once("error", () => done({ code: null, signal: null }));
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (spawnError) {
      running.delete(child);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`cannot start ${serverBinary()} (${spawnError.message}); build it with: cargo build -p qrlogin-server`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`qrlogin-server exited before it was ready:\n${output}`);
    }
    try {
      const response = await fetch(`${base}/healthz`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`qrlogin-server did not answer /healthz within 30 s:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return { base, port, stop, output: () => output };
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png" };

/** Serves files from `roots` (URL prefix → directory) on a free loopback port: a second origin. */
export async function startStaticServer(roots) {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    for (const [prefix, dir] of Object.entries(roots)) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(dir, path.slice(prefix.length)));
      if (!file.startsWith(dir)) break;
      try {
        if (!statSync(file).isFile()) break;
        response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
        response.end(readFileSync(file));
        return;
      } catch {
        break;
      }
    }
    response.writeHead(404, { "content-type": "text/plain" });
    response.end("not found");
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address();
  return {
    base: `http://127.0.0.1:${port}`,
    stop: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }),
  };
}

/**
 * A TCP proxy in front of `port` whose connections the test can cut, like a
 * network hiccup: `cut()` drops every open connection and refuses new ones
 * until `restore()`.
 */
export async function startProxy(port) {
  const sockets = new Set();
  let down = false;
  const track = (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const proxy = createTcpServer((client) => {
    track(client);
    if (down) return client.destroy();
    const upstream = connect(port, "127.0.0.1");
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise((done) => proxy.listen(0, "127.0.0.1", done));
  return {
    base: `http://127.0.0.1:${proxy.address().port}`,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      down = false;
    },
    stop: () => new Promise((done) => {
      for (const socket of sockets) socket.destroy();
      proxy.close(done);
    }),
  };
}
