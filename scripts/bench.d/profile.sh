#!/usr/bin/env bash
# Where the server's time goes: the phases of `scripts/bench api` again,
# shorter, with `perf record` attached to the server during each. Prints
# Markdown; keeps the perf data in $CARGO_TARGET_DIR/bench-perf.
#
#   scripts/bench profile [--time 2s] [--workers 32]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench.d/common.bash
if ! command -v perf >/dev/null; then
  echo "==> installing linux-perf" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends linux-perf >/dev/null
fi
dir=$(realpath -m "${CARGO_TARGET_DIR:-target}/bench-perf")
rm -rf "$dir"
run_qrlogin_bench api --time 2s --perf "$dir" "$@"
