#!/usr/bin/env bash
# The app's UI (ui/) in headless Chromium with Tauri IPC mocked: every
# screen, every error message, the confirm countdown, keyboard and themes.
set -euo pipefail
cd "$(dirname "$0")/../../ui"
npx tsc --noEmit
npm run --silent build:test >/dev/null
timeout 600 node --test --test-reporter=spec tests/
