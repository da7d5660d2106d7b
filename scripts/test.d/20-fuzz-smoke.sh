# Short fuzzing smoke run (~30 s per target); crash inputs land in
# fuzz/regressions/ and fail the run. Longer runs: scripts/fuzz 600.
set -euo pipefail
scripts/fuzz "${QRLOGIN_FUZZ_SECONDS:-30}"
