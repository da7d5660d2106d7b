# `scripts/bench` without arguments: runs every part in turn (each bounded
# by a timeout), then writes their output, the machine and the commands
# into BENCHMARKS.md between the markers below, keeping the hand-written
# text around them. A part that fails is reported there and makes the run
# exit non-zero; the other parts still run.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Server throughput first, while nothing of ours runs in the background.
PARTS=(api oidc push stores profile sse decode)
PART_TIMEOUT=${QRLOGIN_BENCH_PART_TIMEOUT:-300}
BEGIN='<!-- scripts/bench: generated from here; edit outside the markers -->'
END='<!-- scripts/bench: generated up to here -->'

scripts/setup >&2
out=${CARGO_TARGET_DIR:-target}/bench-all
rm -rf "$out"
mkdir -p "$out"

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
failed=()
: > "$out/durations"
# Build every binary the parts run first, so that their times are runs only.
echo "==> building the benchmarks (release)" >&2
t0=$SECONDS
. scripts/bench.d/common.bash
"${SERVER_BENCH_BUILD[@]}"
cargo build --release -q -p qrlogin-client --no-default-features --example bench_decode
echo "| \`cargo build --release\` (server, bench, examples) | $((SECONDS - t0)) s | ok |" >> "$out/durations"
for part in "${PARTS[@]}"; do
  echo "==> scripts/bench $part" >&2
  t0=$SECONDS
  if [ ! -f "scripts/bench.d/$part.sh" ]; then
    failed+=("$part")
    echo "(scripts/bench.d/$part.sh is missing)" > "$out/$part.md"
    echo "| \`scripts/bench $part\` | – | **missing** |" >> "$out/durations"
    continue
  fi
  if timeout --kill-after=10 "$PART_TIMEOUT" bash "scripts/bench.d/$part.sh" > "$out/$part.md"; then
    echo "| \`scripts/bench $part\` | $((SECONDS - t0)) s | ok |" >> "$out/durations"
  else
    code=$?
    failed+=("$part")
    echo "| \`scripts/bench $part\` | $((SECONDS - t0)) s | **failed** (exit $code$([ $code = 124 ] && echo ", timed out after $PART_TIMEOUT s")) |" >> "$out/durations"
  fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "$BEGIN"
  echo
  echo "## Run of $started"
  echo
  echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), $(rustc --version)."
  echo "- Load average (1/5/15 min) before: $load_before; after: $load_after (other work on this machine counts against every figure; ratios against a baseline from the same run are the figures to trust)."
  echo "- Command: \`scripts/bench\` — runs each part below; \`scripts/bench NAME\` runs one and prints it."
  echo
  echo "| part | time | result |"
  echo "|---|---|---|"
  cat "$out/durations"
  for part in "${PARTS[@]}"; do
    echo
    # Each part's own headings sit one level below this run's.
    sed 's/^#/##/' "$out/$part.md"
  done
  echo
  echo "$END"
} > "$out/generated.md"

python3 - "$out/generated.md" BENCHMARKS.md "$BEGIN" "$END" <<'PY'
import pathlib, sys
generated, target, begin, end = sys.argv[1:]
new = pathlib.Path(generated).read_text()
path = pathlib.Path(target)
old = path.read_text() if path.exists() else (
    "# Benchmarks\n\nNumbers from `scripts/bench` on one machine, each next to a baseline "
    "measured in the same run. The reading is written by hand after a run.\n\n"
    "## Reading\n\n(not written yet)\n\n")
if begin in old and end in old:
    head, rest = old.split(begin, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(head + new.rstrip("\n") + tail)
else:
    path.write_text(old.rstrip("\n") + "\n\n" + new)
PY
echo "==> BENCHMARKS.md updated" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "scripts/bench: failed parts: ${failed[*]}" >&2
  exit 1
fi
