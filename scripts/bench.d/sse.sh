#!/usr/bin/env bash
# Memory of idle SSE streams on one server instance (release build): RSS
# with N pending tickets, then with one open event stream per ticket, then
# after holding them idle. Prints a Markdown table.
#
#   scripts/bench sse [--streams N] [--redis-url redis://127.0.0.1:6379] [--hold S]
set -euo pipefail
cd "$(dirname "$0")/../.."

# One socket per stream in the server and in the client.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "==> building qrlogin-server and the SSE benchmark (release)" >&2
. scripts/bench.d/common.bash
"${SERVER_BENCH_BUILD[@]}"
target_dir=${CARGO_TARGET_DIR:-target}
"$target_dir/release/examples/bench_sse" --server "$target_dir/release/qrlogin-server" "$@"
