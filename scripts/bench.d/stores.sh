#!/usr/bin/env bash
# Flow throughput with the memory store, Redis, and two instances sharing
# Redis. Prints Markdown; removes its Redis keys afterwards.
#
#   scripts/bench stores [--redis-url redis://127.0.0.1:6379] [--workers 32] [--time 5s]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench.d/common.bash
url=redis://127.0.0.1:6379
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[i]}" = --redis-url ] && url=${args[i + 1]:-$url}
done
prefix="qrlogin-bench-$$"
cleanup() {
  if command -v redis-cli >/dev/null; then
    redis-cli -u "$url" --scan --pattern "$prefix:*" 2>/dev/null |
      xargs -r -n 500 redis-cli -u "$url" del >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
run_qrlogin_bench stores --redis-prefix "$prefix" "$@"
