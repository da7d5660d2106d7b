#!/usr/bin/env bash
# QR decode benchmark: our decoder (release build) against zbarimg (Debian
# zbar-tools) and zxing-cpp (PyPI), on the same generated files, in one run.
# Prints a Markdown report (also saved to $OUT/report.md) for BENCHMARKS.md.
#
#   scripts/bench decode [--hard N]      (default N=200 random hard cases)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${QRLOGIN_BENCH_DIR:-${CARGO_TARGET_DIR:-target}/bench-decode}
rm -rf "$OUT"
mkdir -p "$OUT/images"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

echo "==> building and running the Rust decoder benchmark (release)" >&2
cargo run --release -q -p qrlogin-client --no-default-features --example bench_decode -- --out "$OUT/images" "$@" > "$OUT/ours.md"

{
  echo "## QR decoding ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), load average before the run: $load_before)"
  echo
  cat "$OUT/ours.md"
} > "$OUT/report.md"

labels="$OUT/images/labels.tsv"

# --- zbarimg ---------------------------------------------------------------
if command -v zbarimg >/dev/null; then
  echo "==> zbarimg $(zbarimg --version 2>/dev/null)" >&2
  declare -A ok total
  while IFS=$'\t' read -r set file text; do
    total[$set]=$(( ${total[$set]:-0} + 1 ))
    got=$(zbarimg --quiet --raw -Sdisable -Sqrcode.enable "$OUT/images/$file" 2>/dev/null || true)
    if printf '%s\n' "$got" | grep -qxF -- "$text"; then ok[$set]=$(( ${ok[$set]:-0} + 1 )); fi
  done < "$labels"
  # Time per frame: one process decodes 30 copies of each timing frame (the
  # figure includes zbarimg's PNG decoding; ours does not).
  times=()
  for i in 0 1 2 3; do
    f="$OUT/images/timing_$i.png"
    args=(); for _ in $(seq 30); do args+=("$f"); done
    start=$(date +%s%N)
    zbarimg --quiet --raw -Sdisable -Sqrcode.enable "${args[@]}" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    times+=("$(awk -v ns=$((end - start)) 'BEGIN { printf "%.1f", ns / 30 / 1e6 }')")
  done
  {
    echo
    echo "### zbarimg ($(zbarimg --version 2>/dev/null)), same files"
    echo
    echo "| set | read |"
    echo "|---|---|"
    for set in "${!total[@]}"; do
      n=${total[$set]}; k=${ok[$set]:-0}
      echo "| $set | $(awk -v k=$k -v n=$n 'BEGIN { printf "%.1f%%", 100 * k / n }') ($k of $n) |"
    done
    echo
    echo "zbarimg time per frame (mean, incl. PNG decoding) — 640×480 with code / no code, 1280×720 with code / no code: ${times[0]} / ${times[1]} / ${times[2]} / ${times[3]} ms"
  } >> "$OUT/report.md"
else
  echo "(zbarimg not installed: run scripts/setup)" >> "$OUT/report.md"
fi

# --- zxing-cpp (PyPI) ---------------------------------------------------------
VENV="${CARGO_TARGET_DIR:-target}/bench-venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import zxingcpp, PIL' 2>/dev/null; then
  echo "==> installing zxing-cpp into $VENV" >&2
  python3 -m venv "$VENV" >&2 && "$VENV/bin/pip" install -q zxing-cpp pillow numpy >&2 || true
fi
if "$VENV/bin/python" -c 'import zxingcpp, PIL' 2>/dev/null; then
  "$VENV/bin/python" - "$OUT/images" >> "$OUT/report.md" <<'PY'
import sys, time, collections
from pathlib import Path
import numpy as np
import zxingcpp
from PIL import Image

root = Path(sys.argv[1])
ok, total = collections.Counter(), collections.Counter()
for line in (root / "labels.tsv").read_text().splitlines():
    set_, file, text = line.split("\t")
    total[set_] += 1
    img = np.asarray(Image.open(root / file).convert("L"))
    found = [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]
    ok[set_] += text in found
times = []
for i in range(4):
    img = np.asarray(Image.open(root / f"timing_{i}.png").convert("L"))
    zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
    t = time.perf_counter()
    for _ in range(30):
        zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
    times.append((time.perf_counter() - t) / 30 * 1000)
print()
from importlib.metadata import version
print(f"### zxing-cpp {version('zxing-cpp')} (Python binding), same files")
print()
print("| set | read |")
print("|---|---|")
for s in total:
    print(f"| {s} | {100 * ok[s] / total[s]:.1f}% ({ok[s]} of {total[s]}) |")
print()
print("zxing-cpp time per frame (mean, decoding only) — 640×480 with code / no code, 1280×720 with code / no code: "
      + " / ".join(f"{t:.1f}" for t in times) + " ms")
(root / "zxing_ms.txt").write_text(" ".join(f"{t:.1f}" for t in times) + "\n")
PY
else
  echo "(zxing-cpp could not be installed from PyPI here)" >> "$OUT/report.md"
fi

# --- live decoding against zxing-cpp (issue 17's goals) ------------------------
# FrameDecoder's mean time per frame over a stream ÷ zxing-cpp's, on the same
# timing frames of this run. Goals: an empty 1280×720 frame ≤ 2×, a 1280×720
# frame with a code ≤ 1.5×.
if [ -s "$OUT/images/zxing_ms.txt" ] && [ -s "$OUT/images/live_ms.txt" ]; then
  read -r -a live < "$OUT/images/live_ms.txt"
  read -r -a zx < "$OUT/images/zxing_ms.txt"
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
  verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r <= g ? "met" : "not met") }'; }
  {
    echo
    echo "### Live decoding (FrameDecoder) against zxing-cpp, this run"
    echo
    echo "| frame | FrameDecoder mean ms | zxing-cpp mean ms | ratio | goal |"
    echo "|---|---|---|---|---|"
    names=("640×480 with code" "640×480 no code" "1280×720 with code" "1280×720 no code")
    goals=("" "" "1.5" "2")
    for i in 0 1 2 3; do
      r=$(ratio "${live[$i]}" "${zx[$i]}")
      if [ -n "${goals[$i]}" ]; then
        g="≤ ${goals[$i]}×: $(verdict "$r" "${goals[$i]}")"
      else
        g="—"
      fi
      echo "| ${names[$i]} | ${live[$i]} | ${zx[$i]} | ${r}× | $g |"
    done
    echo
    r=$(ratio "${live[3]}" "${zx[3]}")
    echo "- Goal: an empty 1280×720 frame in at most 2× zxing-cpp's time: **$(verdict "$r" 2)** (${r}×)."
    r=$(ratio "${live[2]}" "${zx[2]}")
    echo "- Goal: a 1280×720 frame with a code in at most 1.5× zxing-cpp's time: **$(verdict "$r" 1.5)** (${r}×)."
  } >> "$OUT/report.md"
else
  echo "(no live-decoding ratios: zxing-cpp did not run)" >> "$OUT/report.md"
fi

cat "$OUT/report.md"
