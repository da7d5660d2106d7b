#!/usr/bin/env bash
# An unmodified relying party against our OpenID Provider: Debian's Apache
# httpd with mod_auth_openidc protects a page through our discovery URL, and
# playwright-core drives Debian's chromium through the QR sign-in while the
# test plays the app (tests/apache-oidc/apache.test.mjs). Apache runs in the
# foreground (-X) from a generated config in a temporary directory.
#
# Needs the server binary built, apache2 + libapache2-mod-auth-openidc
# (scripts/setup) and `npm ci` in tests/browser.
set -euo pipefail
cd "$(dirname "$0")/../.."

server_bin="$(realpath -m "${CARGO_TARGET_DIR:-target}")/debug/qrlogin-server"
if [ ! -x "$server_bin" ]; then
  echo "32-apache-oidc: $server_bin is missing; build it with: cargo build -p qrlogin-server" >&2
  exit 1
fi
if [ ! -x /usr/sbin/apache2 ] || [ ! -e /usr/lib/apache2/modules/mod_auth_openidc.so ]; then
  echo "32-apache-oidc: apache2 and libapache2-mod-auth-openidc are missing; run scripts/setup" >&2
  exit 1
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
export QRLOGIN_SERVER_BIN="$server_bin"

# The test stops what it starts; this trap is the safety net if node dies.
set -m
cleanup() {
  if [ -n "${runner:-}" ]; then kill -TERM -- "-$runner" 2>/dev/null || true; fi
}
trap cleanup EXIT

timeout 180 node --test --test-reporter=spec tests/apache-oidc/apache.test.mjs &
runner=$!
wait "$runner"
