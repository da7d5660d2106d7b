#!/usr/bin/env bash
# "Try it without a phone" (README), as a test: the hosted login page in
# headless Chromium → a screenshot of the window → `qrlogin scan --image` →
# the page signs in (and the cancel path). Needs the binaries `scripts/test`
# builds and tests/browser's node_modules (scripts/setup).
set -euo pipefail
cd "$(dirname "$0")/../.."

bin="$(realpath -m "${CARGO_TARGET_DIR:-target}")/debug"
for b in qrlogin-server qrlogin; do
  if [ ! -x "$bin/$b" ]; then
    echo "35-cli: $bin/$b is missing; build it with: cargo build --workspace --bins" >&2
    exit 1
  fi
done
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

export QRLOGIN_SERVER_BIN="$bin/qrlogin-server"
export QRLOGIN_BIN="$bin/qrlogin"
set -m
cleanup() {
  if [ -n "${runner:-}" ]; then kill -TERM -- "-$runner" 2>/dev/null || true; fi
}
trap cleanup EXIT
timeout 300 node --test --test-concurrency=1 --test-reporter=spec client/tests/browser/*.test.mjs &
runner=$!
wait "$runner"
