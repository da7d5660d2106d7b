#!/usr/bin/env bash
# The real app end to end: qrlogin-app under Xvfb, driven over WebDriver
# (tauri-driver + WebKitWebDriver), against `qrlogin-server --demo`, with the
# OS keyring (Secret Service) and a fake camera playing a live ticket's QR.
# Needs the binaries from `cargo build --workspace --bins` (scripts/test
# builds them first). Screenshots of every screen land in test-results/
# (QRLOGIN_SCREENSHOTS=docs/screenshots refreshes the README's pictures).
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
app="$target/debug/qrlogin-app"
server="$target/debug/qrlogin-server"
for bin in "$app" "$server"; do
  [ -x "$bin" ] || { echo "missing $bin: run cargo build --workspace --bins first" >&2; exit 1; }
done
export PATH="$HOME/.cargo/bin:$PATH" # tauri-driver
# Debian's python3 has python3-selenium (a pyenv python3 earlier on PATH would not).
exec timeout --kill-after=10 300 scripts/with-keyring \
  xvfb-run -a -s "-screen 0 1280x800x24" \
  /usr/bin/python3 -u src-tauri/tests/e2e_window.py --app "$app" --server "$server" --shots "${QRLOGIN_SCREENSHOTS:-test-results/app-screenshots}"
