#!/usr/bin/env bash
# Memory of idle SSE streams on one server instance (release build): RSS
# with N pending tickets, then with one open event stream per ticket, then
# after holding them idle. Prints a Markdown table. Without arguments: 15,000
# streams held 60 s, on the memory store and then on Redis (a process here
# may hold at most 20,000 open files, so 100,000 is extrapolated).
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
bench=("$target_dir/release/examples/bench_sse" --server "$target_dir/release/qrlogin-server")
if [ $# -gt 0 ]; then
  exec "${bench[@]}" "$@"
fi
"${bench[@]}" --streams 15000 --hold 60
echo
"${bench[@]}" --streams 15000 --hold 60 --redis-url redis://127.0.0.1:6379
