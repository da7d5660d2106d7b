// UI tests: the built UI in headless Chromium with Tauri IPC mocked.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { calls, emitQr, failNext, openLink, startHarness } from "./harness.mjs";

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.close();
});

const text = (page, selector) => page.locator(selector).first().innerText();
const screen = (page, name) => page.waitForSelector(`#app[data-screen="${name}"]`);
const argsOf = (page, cmd) => page.evaluate((cmd) => window.qrloginMock.calls.filter((c) => c.cmd === cmd).map((c) => c.args), cmd);

// Screenshots of the new screens: test-results/app-ui-screenshots/ by default;
// QRLOGIN_SCREENSHOTS=docs/screenshots (relative to the repository) refreshes the README's.
const REPO = new URL("../../", import.meta.url).pathname;
const SHOTS = resolve(REPO, process.env.QRLOGIN_SCREENSHOTS ?? "test-results/app-ui-screenshots");
async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function signedInAtConfirm(options = {}, browserOptions = {}) {
  const page = await harness.openApp({ signedIn: 1, ...options }, browserOptions);
  await screen(page, "scanner");
  await emitQr(page);
  await screen(page, "confirm");
  return page;
}

describe("sign in", () => {
  it("is the first screen when no account is stored, with labelled fields", async () => {
    const page = await harness.openApp();
    await screen(page, "signin");
    for (const label of ["Server", "Username", "Password"]) {
      assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, label);
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), "server");
    await page.close();
  });

  it("names the missing field instead of calling the server", async () => {
    const page = await harness.openApp();
    await screen(page, "signin");
    await page.getByLabel("Server").fill("https://login.example.com");
    await page.click("#sign-in");
    assert.match(await text(page, ".alert"), /Please fill in username/);
    assert.ok(!(await calls(page)).includes("sign_in"));
    await page.close();
  });

  it("shows a wrong password in words and keeps the form", async () => {
    const page = await harness.openApp();
    await screen(page, "signin");
    await page.getByLabel("Server").fill("https://login.example.com");
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Password").fill("nope");
    await page.click("#sign-in");
    const alert = await text(page, ".alert");
    assert.match(alert, /Wrong username or password/);
    assert.match(alert, /Check both and try again/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), "password");
    await page.close();
  });

  it("works with the keyboard alone and leads to the scanner", async () => {
    const page = await harness.openApp();
    await screen(page, "signin");
    await page.keyboard.type("https://login.example.com");
    await page.keyboard.press("Tab");
    await page.keyboard.type("alice");
    await page.keyboard.press("Tab");
    await page.keyboard.type("demo");
    await page.keyboard.press("Enter");
    await screen(page, "scanner");
    assert.match(await text(page, "#account-chip"), /Alice Example/);
    assert.deepEqual(page.jsErrors, []);
    await page.close();
  });

  it("explains a keyring that cannot be read at start", async () => {
    const page = await harness.openApp({ accountError: "keyring" });
    await screen(page, "signin");
    const alert = await text(page, ".alert");
    assert.match(alert, /The system keyring is not available/);
    assert.match(alert, /No OS keyring is available/);
    await page.close();
  });
});

describe("scanner", () => {
  it("shows the live preview inside a viewfinder", async () => {
    const page = await harness.openApp({ signedIn: 1 });
    await screen(page, "scanner");
    await page.waitForSelector('#viewport[data-state="live"]');
    assert.match(await page.getAttribute("#preview", "src"), /^blob:/);
    assert.equal(await page.locator(".viewfinder .corner").count(), 4);
    assert.match(await text(page, "#scan-status"), /Point the camera/);
    await page.close();
  });

  it("opens the confirm screen when the camera finds a code", async () => {
    const page = await signedInAtConfirm();
    const log = await calls(page);
    assert.ok(log.includes("begin_login"));
    assert.ok(log.includes("stop_camera"), "leaving the scanner stops the camera");
    await page.close();
  });

  it("says clearly when there is no camera, and still scans an image file", async () => {
    const page = await harness.openApp({ signedIn: 1, camera: "none" });
    await screen(page, "scanner");
    const off = await text(page, "#camera-off");
    assert.match(off, /No camera found/);
    assert.match(off, /this computer reports no camera/);
    assert.match(off, /scan a QR code from an image file/);
    const chooser = page.waitForEvent("filechooser");
    await page.click("#scan-file");
    await (await chooser).setFiles({ name: "qr.png", mimeType: "image/png", buffer: Buffer.from([137, 80, 78, 71]) });
    await screen(page, "confirm");
    assert.ok((await calls(page)).includes("decode_image"));
    await page.close();
  });

  it("says so when the camera stops working", async () => {
    const page = await harness.openApp({ signedIn: 1 });
    await page.waitForSelector('#viewport[data-state="live"]');
    await page.evaluate(() =>
      window.qrloginEmitCameraFailed({ kind: "camera", message: "The camera could not be used: device unplugged." }),
    );
    const off = await text(page, "#camera-off");
    assert.match(off, /The camera stopped working[\s\S]*device unplugged/);
    await page.close();
  });

  it("on a phone, scans with the system scanner instead of the desktop camera", async () => {
    const android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
    const page = await harness.openApp({ signedIn: 1 }, { userAgent: android });
    await screen(page, "scanner");
    await page.click("#system-scan");
    await screen(page, "confirm");
    const log = await calls(page);
    assert.ok(log.includes("plugin:barcode-scanner|scan"));
    assert.ok(!log.includes("start_camera"));
    await page.close();
  });

  it("explains an image without a QR code", async () => {
    const page = await harness.openApp({ signedIn: 1, camera: "none" });
    await screen(page, "scanner");
    await failNext(page, "decode_image", "no_code_found", "No QR code was found in the image.");
    const chooser = page.waitForEvent("filechooser");
    await page.click("#scan-file");
    await (await chooser).setFiles({ name: "cat.png", mimeType: "image/png", buffer: Buffer.from([1, 2, 3]) });
    assert.match(await text(page, ".alert"), /No QR code found in that image[\s\S]*No QR code was found in the image/);
    await page.close();
  });

  it("refuses a code for another server with a message", async () => {
    const page = await harness.openApp({ signedIn: 1 });
    await screen(page, "scanner");
    await emitQr(page, "https://evil.example/q/AAAAAAAAAAAAAAAAAAAAAA");
    const alert = await text(page, ".alert");
    assert.match(alert, /This code is for a different website/);
    assert.match(alert, /evil\.example[\s\S]*Nothing was sent/);
    assert.equal(await page.getAttribute("#app", "data-screen"), "scanner");
    await page.close();
  });

  it("shows every scan error kind in words", async () => {
    const kinds = {
      not_a_login_code: "This is not a QR Login code",
      expired: "This sign-in request has expired",
      already_scanned: "Someone else already scanned this code",
      already_consumed: "This code was already used",
      not_found: "This sign-in request no longer exists",
      qr_login_disabled: "QR sign-in is turned off for your account",
      rate_limited: "Too many attempts",
      rejected: "The login server refused the request",
      server_unreachable: "Cannot reach the login server",
      server_error: "The login server had a problem",
      signed_out: "You were signed out",
      not_signed_in: "You are not signed in",
      something_new: "Something went wrong",
    };
    const page = await harness.openApp({ signedIn: 1 });
    await screen(page, "scanner");
    for (const [kind, title] of Object.entries(kinds)) {
      await failNext(page, "begin_login", kind, `message for ${kind}`);
      await emitQr(page);
      await page.waitForSelector(`.alert[data-kind="${kind}"]`);
      const alert = await text(page, ".alert");
      assert.match(alert, new RegExp(title), kind);
      assert.match(alert, new RegExp(`message for ${kind}`), kind);
    }
    await page.close();
  });
});

describe("confirm", () => {
  it("shows who is asking, the account, and big Confirm and Cancel buttons", async () => {
    const page = await signedInAtConfirm();
    assert.equal(await text(page, "#requester-browser"), "Firefox 133 on Windows 10");
    assert.equal(await text(page, "#requester-ip"), "203.0.113.7");
    assert.match(await text(page, "#requester-when"), /just now/);
    assert.equal(await text(page, "#requester-server"), "login.example.com");
    assert.equal(await text(page, "#confirm-account"), "Alice Example");
    assert.equal(await text(page, "#confirm-title"), "Sign in to Example Shop?");
    assert.equal(await text(page, "#confirm-origin"), "https://login.example.com");
    const box = await page.locator("#confirm").boundingBox();
    assert.ok(box.height >= 56 && box.width >= 300, `confirm button is big: ${JSON.stringify(box)}`);
    // Cancel, not Confirm, has the focus: a stray Enter signs nobody in.
    assert.equal(await page.evaluate(() => document.activeElement?.id), "cancel");
    await page.close();
  });

  it("counts down to expiry, then refuses to confirm", async () => {
    const page = await signedInAtConfirm({ expiresIn: 30 }, { clock: true });
    assert.equal(await text(page, "#countdown"), "0:30");
    await page.clock.runFor(12_000);
    assert.equal(await text(page, "#countdown"), "0:18");
    assert.equal(await page.locator(".countdown.urgent").count(), 0);
    await page.clock.runFor(10_000);
    assert.equal(await text(page, "#countdown"), "0:08");
    assert.equal(await page.locator(".countdown.urgent").count(), 1);
    await page.clock.runFor(9_000);
    assert.equal(await text(page, "#countdown"), "0:00");
    assert.ok(await page.locator("#confirm").isDisabled());
    assert.match(await text(page, "#expired-note"), /expired before it was confirmed/);
    await page.click("#scan-again");
    await screen(page, "scanner");
    assert.ok(!(await calls(page)).includes("confirm_login"));
    await page.close();
  });

  it("Confirm leads to the success screen", async () => {
    const page = await signedInAtConfirm();
    await page.click("#confirm");
    await screen(page, "result");
    assert.equal(await page.getAttribute(".result", "data-outcome"), "confirmed");
    assert.match(await text(page, "#result-title"), /Signed in/);
    assert.match(await text(page, "#result-text"), /Firefox 133 on Windows 10 is now signed in to Example Shop as Alice Example/);
    await page.keyboard.press("Enter");
    await screen(page, "scanner");
    await page.close();
  });

  it("Cancel (and Esc) tell the user nobody was signed in", async () => {
    for (const how of ["click", "escape"]) {
      const page = await signedInAtConfirm();
      if (how === "click") await page.click("#cancel");
      else await page.keyboard.press("Escape");
      await screen(page, "result");
      assert.equal(await page.getAttribute(".result", "data-outcome"), "cancelled", how);
      assert.match(await text(page, "#result-text"), /Nobody was signed in/);
      assert.ok((await calls(page)).includes("cancel_login"));
      await page.close();
    }
  });

  it("a failed Confirm shows the reason on the result screen", async () => {
    const cases = {
      expired: "This sign-in request has expired",
      cancelled: "This sign-in request was cancelled",
      not_yours: "This request belongs to another account",
      no_pending_login: "There is no sign-in request to answer",
    };
    for (const [kind, title] of Object.entries(cases)) {
      const page = await signedInAtConfirm();
      await failNext(page, "confirm_login", kind, `because ${kind}`);
      await page.click("#confirm");
      await screen(page, "result");
      assert.equal(await page.getAttribute(".result", "data-outcome"), "failed");
      assert.equal(await text(page, "#result-title"), title);
      assert.equal(await text(page, "#result-text"), `because ${kind}`);
      await page.close();
    }
  });
});

describe("number matching", () => {
  it("asks which number the page shows with three big buttons instead of Confirm, none preselected", async () => {
    const page = await signedInAtConfirm({ verification: 1 });
    assert.equal(await page.locator("#confirm").count(), 0);
    assert.equal(await text(page, "#choice-question"), "Which number does the page show?");
    assert.deepEqual(await page.locator("button.choice").allInnerTexts(), ["42", "17", "80"]);
    for (const box of await Promise.all((await page.locator("button.choice").all()).map((b) => b.boundingBox()))) {
      assert.ok(box.height >= 64 && box.width >= 90, `number buttons are big: ${JSON.stringify(box)}`);
    }
    assert.ok(await page.locator("#cancel").isVisible());
    assert.equal(await page.evaluate(() => document.activeElement?.id), "choice-question");
    await page.keyboard.press("Enter");
    assert.ok(!(await calls(page)).includes("confirm_login"), "Enter alone picks no number");
    await shot(page, "app-verification");
    await page.close();
  });

  it("picking the page's number confirms with that number", async () => {
    const page = await signedInAtConfirm({ verification: 1 });
    await page.click("#choice-17");
    await screen(page, "result");
    assert.equal(await page.getAttribute(".result", "data-outcome"), "confirmed");
    assert.deepEqual(await argsOf(page, "confirm_login"), [{ code: "17" }]);
    await page.close();
  });

  it("a wrong number cancels the sign-in and says someone may have sent the code", async () => {
    const page = await signedInAtConfirm({ verification: 1 });
    await page.click("#choice-42");
    await screen(page, "result");
    assert.deepEqual(await argsOf(page, "confirm_login"), [{ code: "42" }]);
    assert.equal(await page.getAttribute(".result", "data-outcome"), "failed");
    assert.equal(await page.getAttribute(".result", "data-reason"), "wrong_code");
    assert.match(await text(page, "#result-title"), /cancelled: the number did not match/);
    const explained = await text(page, "#result-text");
    assert.match(explained, /sign-in was cancelled and nobody was signed in/);
    assert.match(explained, /If you were not signing in yourself, someone may have sent you this code/);
    assert.equal(await page.locator("#was-this-you").count(), 0);
    await page.close();
  });

  it("without number matching, Confirm sends no number", async () => {
    const page = await signedInAtConfirm();
    assert.equal(await page.locator("button.choice").count(), 0);
    await page.click("#confirm");
    await screen(page, "result");
    assert.deepEqual(await argsOf(page, "confirm_login"), [{ code: null }]);
    await page.close();
  });
});

describe("different network", () => {
  it("warns prominently with both addresses when the browser is on another network", async () => {
    const page = await signedInAtConfirm({ network: "other" });
    const warning = page.locator("#network-warning");
    assert.equal(await warning.getAttribute("role"), "alert");
    const said = await warning.innerText();
    assert.match(said, /This sign-in request comes from a different network/);
    assert.match(said, /If you did not just open this sign-in page yourself, cancel/);
    assert.equal(await text(page, "#warning-requester-ip"), "203.0.113.7");
    assert.equal(await text(page, "#warning-scanner-ip"), "198.51.100.23");
    const [head, box] = await Promise.all([page.locator(".confirm-head").boundingBox(), warning.boundingBox()]);
    assert.ok(box.y < 300 && box.y > head.y, `the warning sits right under the title: ${JSON.stringify(box)}`);
    await shot(page, "app-network-warning");
    await page.close();
  });

  it("says nothing about networks when both are on the same one", async () => {
    const page = await signedInAtConfirm();
    assert.equal(await page.locator("#network-warning").count(), 0);
    assert.doesNotMatch(await page.locator("main").innerText(), /different network/);
    await page.close();
  });
});

describe("an OpenID Connect client asks", () => {
  it("the confirm screen names the client and its site's origin", async () => {
    const page = await signedInAtConfirm({ siteName: "Grafana", siteOrigin: "https://grafana.example.com" });
    assert.equal(await text(page, "#confirm-title"), "Sign in to Grafana?");
    assert.equal(await text(page, "#confirm-origin"), "https://grafana.example.com");
    await shot(page, "app-confirm-oidc-client");
    await page.close();
  });
});

describe("was this you", () => {
  async function confirmed(options = {}) {
    const page = await signedInAtConfirm(options);
    await page.click("#confirm");
    await screen(page, "result");
    return page;
  }

  it("after a sign-in, one tap signs that browser out", async () => {
    const page = await confirmed();
    assert.equal(await text(page, "#was-this-you-title"), "Was this you?");
    await page.click("#not-me");
    await page.waitForSelector('#was-this-you[data-outcome="revoked"]');
    assert.equal(await text(page, "#was-this-you-title"), "Signed out");
    assert.match(await text(page, "#was-this-you-text"), /Firefox 133 on Windows 10 was signed out/);
    assert.deepEqual(await argsOf(page, "revoke_sign_in"), [{ id: "AAAAAAAAAAAAAAAAAAAAAA" }]);
    assert.equal(await page.locator("#not-me").count(), 0);
    assert.equal(
      await page.evaluate(() => window.qrloginMock.signIns.find((r) => r.id === "AAAAAAAAAAAAAAAAAAAAAA").revoked_at !== null),
      true,
    );
    await page.close();
  });

  it("counts a sign-in stopped before the page got its token as signed out too", async () => {
    const page = await confirmed({ revokeOutcome: "cancelled" });
    await page.click("#not-me");
    await page.waitForSelector('#was-this-you[data-outcome="cancelled"]');
    assert.equal(await text(page, "#was-this-you-title"), "Signed out");
    assert.match(await text(page, "#was-this-you-text"), /stopped before it finished signing in/);
    await page.close();
  });

  it("a failed sign-out says why and can be tried again", async () => {
    const page = await confirmed();
    await failNext(page, "revoke_sign_in", "server_unreachable", "Could not reach https://login.example.com.");
    await page.click("#not-me");
    assert.match(await text(page, "#was-this-you .alert"), /Cannot reach the login server[\s\S]*Could not reach/);
    assert.equal(await text(page, "#was-this-you-title"), "Was this you?");
    await page.click("#not-me");
    await page.waitForSelector('#was-this-you[data-outcome="revoked"]');
    await page.close();
  });

  it("is not offered after a cancel", async () => {
    const page = await signedInAtConfirm();
    await page.click("#cancel");
    await screen(page, "result");
    assert.equal(await page.locator("#was-this-you").count(), 0);
    await page.close();
  });
});

describe("settings: devices, sign-in history, QR sign-in", () => {
  async function openSettings(options = {}) {
    const page = await harness.openApp({ signedIn: 1, ...options });
    await screen(page, "scanner");
    await page.click("#open-settings");
    await screen(page, "settings");
    await page.waitForSelector("#sessions:not([aria-busy])");
    await page.waitForSelector("#sign-ins:not([aria-busy])");
    return page;
  }
  const rows = (page, list) =>
    page.$$eval(`#${list} > li`, (items) =>
      items.map((li) => ({
        id: li.dataset.id,
        title: li.querySelector(".row-title")?.innerText,
        detail: [...li.querySelectorAll(".row-detail")].map((d) => d.innerText).join(" | "),
        state: li.dataset.state,
        revoke: li.querySelector("button.revoke") !== null,
      })),
    );

  it("lists the signed-in devices, marks this one, and offers Revoke for the others only", async () => {
    const page = await openSettings();
    const devices = await rows(page, "sessions");
    assert.deepEqual(
      devices.map((d) => [d.id, d.revoke]),
      [
        ["s-laptop", false],
        ["s-phone", true],
        ["s-cli", true],
      ],
    );
    assert.match(devices[0].title, /QR Login app on alice-laptop[\s\S]*This device/i);
    assert.match(devices[0].detail, /Signed in .* · last used just now/);
    assert.match(devices[1].detail, /last used 2 hours ago/);
    assert.match(devices[2].detail, /last used 6 days ago/);
    await shot(page, "app-settings-sessions");
    await page.close();
  });

  it("Revoke signs another device out and removes it from the list", async () => {
    const page = await openSettings();
    await page.click('#sessions li[data-id="s-phone"] button.revoke');
    await page.waitForSelector('#sessions li[data-id="s-phone"]', { state: "detached" });
    assert.deepEqual(await argsOf(page, "revoke_session"), [{ id: "s-phone" }]);
    assert.deepEqual((await rows(page, "sessions")).map((d) => d.id), ["s-laptop", "s-cli"]);
    await failNext(page, "revoke_session", "unknown_id", 'There is no session "s-cli" on your account.');
    await page.click('#sessions li[data-id="s-cli"] button.revoke');
    assert.match(await text(page, "#sessions ~ .errors .alert"), /Not found on your account[\s\S]*no session "s-cli"/);
    assert.ok(await page.locator('#sessions li[data-id="s-cli"] button.revoke').isEnabled());
    await page.close();
  });

  it("shows the QR sign-in history with state, and Revoke for active ones only", async () => {
    const page = await openSettings();
    const history = await rows(page, "sign-ins");
    assert.deepEqual(
      history.map((r) => [r.state, r.revoke]),
      [
        ["active", true],
        ["revoked", false],
        ["expired", false],
      ],
    );
    assert.match(history[0].title, /Grafana · Chrome 131 on macOS[\s\S]*Active/i, "an OpenID Connect sign-in names its client");
    assert.doesNotMatch(history[1].title, /·/, "an SDK sign-in has no client name");
    assert.match(history[0].detail, /203\.0\.113\.50 \| Confirmed with QR Login app on alice-laptop/);
    assert.match(history[1].title, /Signed out/i);
    assert.match(history[2].title, /Expired/i);
    await page.click('#sign-ins li[data-state="active"] button.revoke');
    await page.waitForSelector('#sign-ins li[data-id="BBBBBBBBBBBBBBBBBBBBBB"][data-state="revoked"]');
    assert.deepEqual(await argsOf(page, "revoke_sign_in"), [{ id: "BBBBBBBBBBBBBBBBBBBBBB" }]);
    assert.equal(await page.locator("#sign-ins button.revoke").count(), 0);
    await page.close();
  });

  it("says when there are no QR sign-ins yet, and a list that fails to load in words", async () => {
    const page = await openSettings({ history: "empty" });
    assert.equal(await text(page, "#no-sign-ins"), "No sign-ins by QR code yet.");
    await page.close();

    const failing = await harness.openApp({ signedIn: 1 });
    await screen(failing, "scanner");
    await failNext(failing, "list_sessions", "server_unreachable", "Could not reach https://login.example.com.");
    await failing.click("#open-settings");
    assert.match(await text(failing, "#sessions ~ .errors .alert"), /Cannot reach the login server/);
    await failing.close();
  });

  it("turns QR sign-in off for the account, after which scanning is refused", async () => {
    const page = await openSettings();
    const toggle = page.getByLabel("Allow QR sign-in for this account");
    await page.waitForSelector("#qr-login-toggle:not([disabled])");
    assert.ok(await toggle.isChecked());
    await toggle.click();
    await page.waitForSelector("#qr-login-toggle:not([disabled])");
    assert.ok(!(await toggle.isChecked()));
    assert.deepEqual(await argsOf(page, "set_qr_login"), [{ enabled: false }]);
    assert.match(await text(page, "#qr-login-hint"), /QR sign-in is off/);
    await page.click("#back");
    await screen(page, "scanner");
    await emitQr(page);
    assert.match(await text(page, ".alert"), /QR sign-in is turned off for your account/);
    await page.click("#open-settings");
    await page.waitForSelector("#qr-login-toggle:not([disabled])");
    assert.ok(!(await page.getByLabel("Allow QR sign-in for this account").isChecked()), "the server's setting is shown");
    await page.close();
  });

  it("a failed switch goes back and says why", async () => {
    const page = await openSettings();
    await page.waitForSelector("#qr-login-toggle:not([disabled])");
    await failNext(page, "set_qr_login", "server_unreachable", "Could not reach https://login.example.com.");
    await page.click("#qr-login-toggle");
    await page.waitForSelector("#qr-login-toggle:not([disabled])");
    assert.ok(await page.locator("#qr-login-toggle").isChecked());
    assert.match(await text(page, "#qr-login-toggle ~ .errors .alert, section:has(#qr-login-toggle) .alert"), /Cannot reach the login server/);
    await page.close();
  });
});

describe("settings", () => {
  it("shows server, account and cameras, and remembers the chosen camera", async () => {
    const page = await harness.openApp({ signedIn: 1 });
    await screen(page, "scanner");
    await page.click("#open-settings");
    await screen(page, "settings");
    assert.equal(await text(page, "#settings-server"), "https://login.example.com");
    assert.equal(await text(page, "#settings-name"), "Alice Example");
    assert.equal(await text(page, "#settings-username"), "@alice");
    await page.waitForSelector('#camera option[value="1"]', { state: "attached" });
    await page.selectOption("#camera", "1");
    await page.click("#back");
    await screen(page, "scanner");
    const start = await page.evaluate(() => window.qrloginMock.calls.filter((c) => c.cmd === "start_camera").at(-1).args.camera);
    assert.equal(start, 1);
    await page.close();
  });

  it("says when no camera exists", async () => {
    const page = await harness.openApp({ signedIn: 1, camera: "none" });
    await screen(page, "scanner");
    await page.click("#open-settings");
    await page.waitForFunction(() => document.querySelector("#camera-note")?.textContent?.includes("No camera found"));
    await page.close();
  });

  it("sign out returns to the sign-in screen; a failed sign-out says why", async () => {
    const page = await harness.openApp({ signedIn: 1 });
    await screen(page, "scanner");
    await page.click("#open-settings");
    await failNext(page, "sign_out", "storage", "Could not delete the token (permission denied).");
    await page.click("#sign-out");
    assert.match(await text(page, ".alert"), /Could not save your sign-in on this device[\s\S]*permission denied/);
    await page.click("#sign-out");
    await screen(page, "signin");
    assert.equal(await page.locator("#notice").count(), 0);
    assert.equal(await page.evaluate(() => window.qrloginMock.account), null);
    await page.close();
  });

  it("says so when the server could not revoke the session", async () => {
    const page = await harness.openApp({ signedIn: 1, signOut: "offline" });
    await screen(page, "scanner");
    await page.click("#open-settings");
    await page.click("#sign-out");
    await screen(page, "signin");
    assert.match(await text(page, "#notice"), /Signed out on this device only[\s\S]*Could not reach the login server/);
    await page.close();
  });

  it("switches between light and dark themes, both readable", async () => {
    const page = await harness.openApp({ signedIn: 1 }, { colorScheme: "light" });
    await screen(page, "scanner");
    const colors = () =>
      page.evaluate(() => {
        const style = getComputedStyle(document.body);
        return { bg: style.backgroundColor, fg: style.color };
      });
    const light = await colors();
    await page.click("#open-settings");
    await page.selectOption("#theme", "dark");
    const dark = await colors();
    assert.notDeepEqual(dark, light);
    assert.ok(luminance(light.bg) > 0.8 && luminance(light.fg) < 0.2, JSON.stringify(light));
    assert.ok(luminance(dark.bg) < 0.2 && luminance(dark.fg) > 0.8, JSON.stringify(dark));
    await page.close();

    const system = await harness.openApp({ signedIn: 1 }, { colorScheme: "dark" });
    await screen(system, "scanner");
    const followed = await system.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.ok(luminance(followed) < 0.2, "follows the system's dark preference");
    await system.close();
  });
});

function luminance(rgb) {
  const [r, g, b] = rgb.match(/\d+/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

const ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
const LOGIN_LINK = "https://login.example.com/q/AAAAAAAAAAAAAAAAAAAAAA";

describe("links that open the app (tauri-plugin-deep-link mocked)", () => {
  it("opened by a login link, it goes through begin_login to the confirm screen, like a scan", async () => {
    const page = await harness.openApp({ signedIn: 1, link: LOGIN_LINK }, { userAgent: ANDROID });
    await screen(page, "confirm");
    assert.deepEqual(await argsOf(page, "begin_login"), [{ text: LOGIN_LINK }]);
    assert.ok((await calls(page)).includes("plugin:deep-link|get_current"));
    assert.match(await text(page, "main"), /Example Shop/);
    await page.close();
  });

  it("a link to another server is refused like a scanned code, nothing confirmed", async () => {
    const page = await harness.openApp({ signedIn: 1 });
    await screen(page, "scanner");
    await openLink(page, "https://evil.example/q/AAAAAAAAAAAAAAAAAAAAAA");
    const alert = await text(page, ".alert");
    assert.match(alert, /This code is for a different website/);
    assert.match(alert, /evil\.example[\s\S]*Nothing was sent/);
    assert.equal(await page.getAttribute("#app", "data-screen"), "scanner");
    assert.ok(!(await calls(page)).includes("confirm_login"));
    await page.close();
  });

  it("a desktop qrlogin: link arriving on another screen is answered from the scanner", async () => {
    const page = await harness.openApp({ signedIn: 1 });
    await screen(page, "scanner");
    await page.click("#open-settings");
    await screen(page, "settings");
    await openLink(page, `qrlogin:${LOGIN_LINK}`);
    await screen(page, "confirm");
    assert.deepEqual(await argsOf(page, "begin_login"), [{ text: LOGIN_LINK }]);
    await page.click("#cancel");
    await screen(page, "result");
    assert.ok((await calls(page)).includes("cancel_login"));
    await page.close();
  });

  it("when signed out, a link asks to sign in first and sends nothing", async () => {
    const page = await harness.openApp({ link: LOGIN_LINK });
    await screen(page, "signin");
    assert.match(await text(page, "main"), /Sign in first, then open the sign-in link again/);
    assert.ok(!(await calls(page)).includes("begin_login"));
    await page.close();
  });
});

describe("phone screens (tauri-plugin-barcode-scanner mocked)", () => {
  /** No sideways scrolling: nothing wider than the phone's screen. */
  const fitsWidth = (page) =>
    page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

  for (const [width, height] of [
    [360, 800],
    [390, 844],
  ]) {
    it(`scanner, confirm and settings fit ${width}×${height}; a scan result opens the confirm screen`, async () => {
      const page = await harness.openApp({ signedIn: 1 }, { userAgent: ANDROID, viewport: { width, height } });
      await screen(page, "scanner");
      assert.ok(await fitsWidth(page), "scanner");
      await shot(page, `app-phone-${width}-scanner`);
      await page.click("#system-scan");
      await screen(page, "confirm");
      const log = await calls(page);
      assert.ok(log.includes("plugin:barcode-scanner|request_permissions"), log.join());
      assert.ok(log.includes("plugin:barcode-scanner|scan"), log.join());
      assert.ok(!log.includes("start_camera"), log.join());
      assert.ok(await fitsWidth(page), "confirm");
      await shot(page, `app-phone-${width}-confirm`);
      await page.click("#cancel");
      await screen(page, "result");
      await page.click("#scan-another");
      await screen(page, "scanner");
      await page.click("#open-settings");
      await screen(page, "settings");
      await page.waitForSelector('#sessions[aria-busy="false"], #sessions li');
      assert.ok(await fitsWidth(page), "settings");
      await shot(page, `app-phone-${width}-settings`);
      assert.deepEqual(page.jsErrors, []);
      await page.close();
    });
  }

  it("a denied camera permission says how to allow it and does not scan", async () => {
    const page = await harness.openApp(
      { signedIn: 1, cameraPermission: "denied" },
      { userAgent: ANDROID, viewport: { width: 360, height: 800 } },
    );
    await screen(page, "scanner");
    await page.click("#system-scan");
    const alert = await text(page, ".alert");
    assert.match(alert, /The camera is not allowed[\s\S]*Permissions → Camera/);
    assert.equal(await page.getAttribute(".alert", "data-kind"), "camera_denied");
    assert.ok(!(await calls(page)).includes("plugin:barcode-scanner|scan"));
    await shot(page, "app-phone-360-camera-denied");
    await page.close();
  });

  it("cancelling the system scanner stays on the scanner without an error", async () => {
    const page = await harness.openApp(
      { signedIn: 1, scan: "cancel" },
      { userAgent: ANDROID, viewport: { width: 390, height: 844 } },
    );
    await screen(page, "scanner");
    await page.click("#system-scan");
    await page.waitForFunction(() => document.querySelector("#scan-status")?.textContent?.includes("Scan cancelled"));
    assert.equal(await page.locator(".alert").count(), 0);
    assert.equal(await page.getAttribute("#app", "data-screen"), "scanner");
    assert.ok(!(await calls(page)).includes("begin_login"));
    await page.close();
  });
});
