# Sourced by the parts of scripts/bench that drive qrlogin-bench (bench/):
# builds it and qrlogin-server in release, then runs `qrlogin-bench "$@"`.
run_qrlogin_bench() {
  echo "==> building qrlogin-server and qrlogin-bench (release)" >&2
  cargo build --release -q -p qrlogin-server -p qrlogin-bench
  "${CARGO_TARGET_DIR:-target}/release/qrlogin-bench" "$@"
}
