#!/usr/bin/env python3
"""The real app, end to end, in a real window (run by scripts/test.d/50-app-e2e.sh).

Starts `qrlogin-server --demo`, creates tickets over HTTP as a browser would,
turns their QR codes into camera-like pictures, and drives the app binary
through WebDriver (tauri-driver + WebKitWebDriver) under Xvfb:

1. fake camera (QRLOGIN_FAKE_CAMERA) on a picture without a code: sign in as
   alice, see the live preview; then a picture with the ticket's QR: the
   confirm screen shows the requester; Confirm → the ticket is `confirmed`
   over HTTP.
   Then the app started with a `qrlogin:<login code>` link as its argument
   (a desktop deep link): the confirm screen straight away; Cancel → the
   ticket is `cancelled`; then a second launch with another ticket's link,
   which the running app receives (single instance): confirm screen, Cancel.
2. the app again, without a camera: alice is still signed in (token from the
   OS keyring), the scanner says there is no camera, "Scan from image file"
   reads a second ticket's QR; Cancel → the ticket is `cancelled`; sign out.

Takes a screenshot of each screen (into --shots).
Needs DISPLAY (xvfb-run) and a Secret Service (scripts/with-keyring).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.file_detector import UselessFileDetector
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def log(msg):
    print(f"e2e: {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, token=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read().decode()
        return json.loads(text) if text else None


def wait_until(what, check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Processes:
    """Every child process, stopped politely (SIGTERM) in reverse order."""

    def __init__(self):
        self.procs = []

    def start(self, name, args, **kw):
        log(f"starting {name}: {' '.join(map(str, args))}")
        proc = subprocess.Popen(args, start_new_session=True, **kw)
        self.procs.append((name, proc))
        return proc

    def stop(self, proc):
        if proc.poll() is None:
            # SIGTERM, never SIGKILL first: tauri-driver must take WebKitWebDriver down with it.
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self):
        for _, proc in reversed(self.procs):
            self.stop(proc)


class Server:
    def __init__(self, binary, procs, workdir):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(workdir, "server.log"), "w")
        procs.start(
            "qrlogin-server",
            [binary, "--demo", "--listen", f"127.0.0.1:{self.port}",
             "--database-url", f"sqlite://{workdir}/qrlogin.db"],
            cwd=workdir, stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_until("the server's /healthz", self.healthy)

    def healthy(self):
        try:
            urllib.request.urlopen(f"{self.base}/healthz", timeout=1).read()
            return True
        except OSError:
            return False

    def create_ticket(self):
        """What the login page does: POST /api/v1/qr from a browser."""
        return http("POST", f"{self.base}/api/v1/qr", {}, headers={"user-agent": FIREFOX_ON_WINDOWS})

    def status(self, ticket):
        return http("GET", f"{self.base}/api/v1/qr/{ticket['id']}", token=ticket["poll_secret"])["status"]


def camera_picture(ticket, path, workdir):
    """The ticket's QR (from its SVG) on a 640×480 grey 'camera' background."""
    svg = os.path.join(workdir, "qr.svg")
    with open(svg, "w") as f:
        f.write(ticket["qr_svg"])
    subprocess.run(
        ["convert", "-size", "640x480", "xc:#8d939c", "(", "-density", "96", svg, "-resize", "300x300", ")",
         "-gravity", "center", "-composite", path],
        check=True,
    )


def blank_picture(path):
    subprocess.run(["convert", "-size", "640x480", "gradient:#9aa3ad-#5d636b", path], check=True)


class App:
    """The app binary in a WebDriver session (its own tauri-driver)."""

    def __init__(self, binary, procs, env, workdir, name, app_args=()):
        self.procs = procs
        port = free_port()
        self.driver_log = open(os.path.join(workdir, f"tauri-driver-{name}.log"), "w")
        self.tauri_driver = procs.start(
            "tauri-driver", ["tauri-driver", "--port", str(port), "--native-port", str(free_port())],
            env=env, stdout=self.driver_log, stderr=subprocess.STDOUT,
        )
        options = ArgOptions()
        options.set_capability("browserName", "wry")
        options.set_capability("tauri:options", {"application": binary, "args": list(app_args)})
        self.driver = wait_until(
            "a WebDriver session",
            lambda: self._connect(f"http://127.0.0.1:{port}", options),
            timeout=60,
        )
        self.wait = WebDriverWait(self.driver, 30)

    def _connect(self, url, options):
        try:
            return webdriver.Remote(command_executor=url, options=options)
        except Exception as e:  # the driver is still starting
            log(f"waiting for tauri-driver ({type(e).__name__})")
            time.sleep(0.5)
            return None

    def screen(self, name):
        try:
            self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#app[data-screen="{name}"]')))
        except Exception:
            raise AssertionError(f"expected the {name} screen; the page is:\n{self.driver.page_source[:3000]}")

    def find(self, css):
        return self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def click(self, css):
        self.wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, css))).click()

    def text(self, css):
        return self.find(css).text

    def quit(self):
        try:
            self.driver.quit()
        finally:
            self.procs.stop(self.tauri_driver)


_last_shot = [b""]
WINDOW = "440x780+0+0"  # src-tauri/tauri.conf.json


def screenshot(shots, name):
    """The app window as X shows it (not the webview's own rendering).

    The window repaints a little after the DOM changes (software rendering
    under Xvfb), so capture until the picture is neither blank nor the
    previous screen's, then once more after it settled.
    """
    path = os.path.join(shots, f"app-{name}.png")

    def capture():
        # The whole screen, cut to the window (440×780 at 0,0: Xvfb has no
        # window manager). `import -window NAME` can pick a stale window.
        subprocess.run(["import", "-window", "root", "-crop", WINDOW, "+repage", path], check=True)
        with open(path, "rb") as f:
            return f.read()

    def blank():
        out = subprocess.run(["convert", path, "-format", "%[fx:standard_deviation]", "info:"],
                             capture_output=True, text=True, check=True).stdout
        return float(out or 0) < 0.01

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if capture() != _last_shot[0] and not blank():
            break
        time.sleep(0.25)
    time.sleep(0.5)  # for people, not an assertion: let transitions finish
    _last_shot[0] = capture()
    log(f"screenshot {path}")


def run(args, procs, workdir):
    server = Server(args.server, procs, workdir)
    frames = os.path.join(workdir, "camera")
    os.makedirs(frames)
    frame = os.path.join(frames, "frame.png")
    blank_picture(frame)
    env = dict(os.environ, QRLOGIN_FAKE_CAMERA=frames, HOME=os.path.join(workdir, "home"))

    # 1. Fake camera: sign in, live preview, scan, confirm.
    app = App(args.app, procs, env, workdir, "camera")
    app.screen("signin")
    screenshot(args.shots, "sign-in")
    app.find("#server").send_keys(server.base)
    app.find("#username").send_keys("alice")
    app.find("#password").send_keys("demo")
    app.click("#sign-in")
    app.screen("scanner")
    app.find('#viewport[data-state="live"]')
    fps = wait_until("a second of preview frames", lambda: int(app.find("#viewport").get_attribute("data-fps")), 10)
    time.sleep(2)  # measure a steady second, not the first one
    fps = int(app.find("#viewport").get_attribute("data-fps"))
    log(f"preview: {fps} frames/s of 640x480 (fake camera plays 30/s)")
    assert "Alice Example" in app.text("#account-chip")
    screenshot(args.shots, "scanner")

    ticket = server.create_ticket()
    camera_picture(ticket, frame, workdir)
    # Reopen the camera (settings and back), which reloads the fake camera's pictures.
    app.click("#open-settings")
    app.screen("settings")
    app.click("#back")
    app.screen("confirm")
    requester = app.text("#requester-browser")
    assert requester.startswith("Firefox 133 on Windows"), requester
    assert app.text("#requester-ip") == "127.0.0.1", app.text("#requester-ip")
    assert app.text("#confirm-account") == "Alice Example"
    assert server.status(ticket) == "scanned"
    screenshot(args.shots, "confirm")
    app.click("#confirm")
    app.screen("result")
    assert "Signed in" in app.text("#result-title")
    status = server.status(ticket)
    assert status == "confirmed", status
    log(f"ticket {ticket['id']} is {status} on the server")
    screenshot(args.shots, "result")
    app.click("#scan-another")
    app.screen("scanner")
    app.click("#open-settings")
    app.screen("settings")
    assert app.text("#settings-server") == server.base
    screenshot(args.shots, "settings")
    app.quit()

    # 1b. A link opens the app: started with `qrlogin:<login code>` as its only
    # argument (how Linux and Windows hand an app a clicked link), it goes
    # through begin_login, the same path as a scan, to the confirm screen.
    blank_picture(frame)  # the camera must not be the one that finds the code
    ticket = server.create_ticket()
    app = App(args.app, procs, env, workdir, "link", app_args=[f"qrlogin:{ticket['qr_url']}"])
    app.screen("confirm")
    assert server.status(ticket) == "scanned", server.status(ticket)
    assert app.text("#confirm-account") == "Alice Example"
    app.click("#cancel")
    app.screen("result")
    status = server.status(ticket)
    assert status == "cancelled", status
    log(f"ticket {ticket['id']} opened by a qrlogin: link is {status} on the server")

    # 1c. A link handed to the running app: a second launch with the link
    # (single-instance forwards it and exits) → the running window shows the
    # confirm screen for it.
    ticket = server.create_ticket()
    second = subprocess.run(
        [args.app, f"qrlogin:{ticket['qr_url']}"], env=env, timeout=60,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    log(f"second launch exited with {second.returncode}")
    app.screen("confirm")
    assert server.status(ticket) == "scanned", server.status(ticket)
    app.click("#cancel")
    app.screen("result")
    status = server.status(ticket)
    assert status == "cancelled", status
    log(f"ticket {ticket['id']} handed to the running app as a link is {status} on the server")
    app.quit()

    # 2. No camera: still signed in (keyring), scan from an image file, cancel, sign out.
    env.pop("QRLOGIN_FAKE_CAMERA")
    app = App(args.app, procs, env, workdir, "no-camera")
    app.screen("scanner")
    assert "Alice Example" in app.text("#account-chip"), "the session was restored from the keyring"
    assert "No camera found" in app.text("#camera-off")
    screenshot(args.shots, "no-camera")
    app.click("#open-settings")
    Select(app.find("#theme")).select_by_value("dark")
    app.click("#back")
    app.screen("scanner")
    ticket = server.create_ticket()
    picture = os.path.join(workdir, "picked.png")
    camera_picture(ticket, picture, workdir)
    # Same machine: type the path into the file input (no Selenium upload).
    app.driver.file_detector = UselessFileDetector()
    app.driver.find_element(By.CSS_SELECTOR, "#image-file").send_keys(picture)
    app.screen("confirm")
    screenshot(args.shots, "confirm-dark")
    app.click("#cancel")
    app.screen("result")
    status = server.status(ticket)
    assert status == "cancelled", status
    log(f"ticket {ticket['id']} is {status} on the server")
    app.click("#scan-another")
    app.screen("scanner")
    app.click("#open-settings")
    app.click("#sign-out")
    app.screen("signin")
    app.quit()

    # 3. Signed out means signed out: a new start asks to sign in again.
    app = App(args.app, procs, env, workdir, "signed-out")
    app.screen("signin")
    app.quit()
    log("all steps passed")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--shots", required=True)
    args = parser.parse_args()
    os.makedirs(args.shots, exist_ok=True)
    procs = Processes()
    workdir = tempfile.mkdtemp(prefix="qrlogin-app-e2e-")
    try:
        run(args, procs, workdir)
    except BaseException:
        for name in os.listdir(workdir):
            if name.endswith(".log"):
                sys.stderr.write(f"--- {name} ---\n{open(os.path.join(workdir, name)).read()[-4000:]}\n")
        raise
    finally:
        procs.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
