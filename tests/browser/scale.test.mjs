// Two login servers sharing Redis behind a balancer that fails over: the
// instance serving the page dies mid-flow, the SDK reconnects through the
// balancer to the other instance and the sign-in completes.
import assert from "node:assert/strict";
import { createServer as createTcpServer, connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { appCall, signIn, ticketId } from "./lib/app.mjs";
import { launch, openPage, readQr, seeTitle } from "./lib/browser.mjs";
import { startLoginServer } from "./lib/servers.mjs";

const REDIS = process.env.QRLOGIN_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A TCP balancer with one active backend; `failOver(port)` switches it and drops open connections. */
async function startBalancer(port) {
  let backend = port;
  const sockets = new Set();
  const track = (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server = createTcpServer((client) => {
    track(client);
    const upstream = connect(backend, "127.0.0.1");
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    failOver(port) {
      backend = port;
      for (const socket of sockets) socket.destroy();
    },
    stop: () => new Promise((done) => {
      for (const socket of sockets) socket.destroy();
      server.close(done);
    }),
  };
}

let a;
let b;
let balancer;
let browser;

before(async () => {
  const shared = ["--redis-url", REDIS, "--redis-prefix", `qrlogin-browser-${process.pid}-${Date.now()}`];
  a = await startLoginServer(shared);
  b = await startLoginServer(shared);
  balancer = await startBalancer(a.port);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await balancer?.stop();
  await a?.stop();
  await b?.stop();
});

describe("several instances on Redis", () => {
  test("the page's instance dies mid-flow; the SDK reconnects to the other one and signs in", async () => {
    const page = await openPage(browser);
    await page.goto(balancer.base);
    const id = ticketId(await readQr(page));
    // The app (signed in on B; each test instance has its own user database)
    // scans while the page listens through A.
    const alice = await signIn(b.base);
    assert.equal((await appCall(b.base, alice.token, id, "scan")).status, 200);
    await seeTitle(page, "Scanned by Alice Example");

    await a.stop();
    balancer.failOver(b.port);
    assert.equal((await appCall(b.base, alice.token, id, "confirm")).status, 200);
    await seeTitle(page, "Signed in as Alice Example", 15_000);
    // Each test instance has its own --public-url, so B's avatar URL points at
    // B, not at the balancer's origin, and the page's CSP blocks that image.
    // A real deployment gives every instance the balancer's URL.
    const foreignAvatar = (problem) => problem.includes(`${b.base}/avatars/`);
    assert.deepEqual(page.problems.filter((problem) => !foreignAvatar(problem)), []);
    await page.close();
  });
});
