# Sourced by the parts of scripts/bench that run server benchmarks. They all
# build the same set of targets in one command, so that cargo unifies the
# same features each time and no part rebuilds what another one built.
SERVER_BENCH_BUILD=(cargo build --release -q -p qrlogin-server -p qrlogin-bench
  --bin qrlogin-server --bin qrlogin-bench --example bench_sse)

# Builds, then runs `qrlogin-bench "$@"` (bench/).
run_qrlogin_bench() {
  echo "==> building qrlogin-server and qrlogin-bench (release)" >&2
  "${SERVER_BENCH_BUILD[@]}"
  "${CARGO_TARGET_DIR:-target}/release/qrlogin-bench" "$@"
}
