#!/usr/bin/env bash
# Browser tests of the hosted login page, the qrlogin.js SDK and the embed
# sample: playwright-core drives Debian's chromium while the tests play the app
# over HTTP against real qrlogin-server processes (each test file starts its
# own on free loopback ports, in temporary directories, and stops them).
#
# Needs the server binary built (scripts/test does `cargo build --workspace
# --bins` first) and `npm ci` in tests/browser (scripts/setup).
# Refresh the README's screenshots with
#   QRLOGIN_SCREENSHOT_DIR=docs/screenshots scripts/test.d/30-browser.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

server_bin="$(realpath -m "${CARGO_TARGET_DIR:-target}")/debug/qrlogin-server"
if [ ! -x "$server_bin" ]; then
  echo "30-browser: $server_bin is missing; build it with: cargo build -p qrlogin-server" >&2
  exit 1
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

shots="$(mktemp -d)"
export QRLOGIN_SERVER_BIN="$server_bin"
export QRLOGIN_SCREENSHOT_DIR="${QRLOGIN_SCREENSHOT_DIR:-$shots}"

# The tests stop what they start; this trap is the safety net if node dies.
set -m
cleanup() {
  if [ -n "${runner:-}" ]; then kill -TERM -- "-$runner" 2>/dev/null || true; fi
  rm -rf "$shots"
}
trap cleanup EXIT

cd tests/browser
timeout 600 node --test --test-concurrency=1 --test-reporter=spec *.test.mjs &
runner=$!
wait "$runner"
