#!/usr/bin/env bash
# The app's UI (ui/) in headless Chromium with Tauri IPC mocked: every
# screen, every error message, the confirm countdown, keyboard and themes;
# the phone screens at 360x800 and 390x844 with the barcode-scanner plugin
# mocked, and links that open the app with the deep-link plugin mocked.
set -euo pipefail
cd "$(dirname "$0")/../../ui"
npx tsc --noEmit
npm run --silent build:test >/dev/null
timeout 600 node --test --test-reporter=spec tests/
