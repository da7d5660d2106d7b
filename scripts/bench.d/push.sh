#!/usr/bin/env bash
# Push latency: the app's confirm → the waiting page's event, over SSE and
# long-poll, next to 1 s polling. Prints Markdown.
#
#   scripts/bench push [--flows 1000] [--poll-interval 1s] [--settle 5ms]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench.d/common.bash
run_qrlogin_bench push "$@"
