#!/usr/bin/env bash
# Request cost of each API call and of a whole login flow, next to a bare
# axum hello world loaded the same way in the same run. Prints Markdown.
#
#   scripts/bench api [--workers 32] [--time 4s] [--max 300000]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench.d/common.bash
run_qrlogin_bench api "$@"
