#!/usr/bin/env bash
# The phone app, as far as this machine can take it (issue 18): the app
# crate type-checks for Android, and its Android dependency graph holds no
# desktop part (nokhwa, v4l, mozjpeg, the client's camera loop).
#
# Proves: every cfg(mobile) / cfg(target_os = "android") line of qrlogin-app
# and qrlogin-client (the Android Keystore token store included) compiles,
# clippy-clean, against the Android build of its dependencies (tauri, the
# mobile plugins, jni). Does not prove: that it links (no Android
# NDK is reachable here; clang with the arm64 glibc headers stands in for
# the NDK's C compiler and sysroot only so that build scripts of C crates
# such as ring get through), that it can be signed or packaged, or that it
# runs on a device or an emulator. One target (aarch64) keeps CI time down;
# iOS needs Apple's SDK (objc2's build scripts fail here).
#
# `cargo clippy` (a `cargo check` plus lints) of the package, for the
# target; no `--no-default-features`: qrlogin-app has no cargo features of
# its own, so `--no-default-features` would change nothing; what keeps
# desktop parts out is that the app depends on qrlogin-client with
# default-features = false and turns `camera` on for desktop targets only.
set -euo pipefail
cd "$(dirname "$0")/../.."

target=aarch64-linux-android
if ! rustup target list --installed | grep -qx "$target"; then
  echo "the Rust target $target is missing: run scripts/setup" >&2
  exit 1
fi
command -v clang >/dev/null || { echo "clang is missing: run scripts/setup" >&2; exit 1; }
[ -d /usr/aarch64-linux-gnu/include ] || {
  echo "the arm64 C headers are missing (libc6-dev-arm64-cross): run scripts/setup" >&2
  exit 1
}
# Debian names LLVM's tools by version (llvm-ar-14 on Debian 12).
ar=$(command -v llvm-ar || ls /usr/bin/llvm-ar-* 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$ar" ] || { echo "llvm-ar is missing (package llvm, or clang's llvm-N)" >&2; exit 1; }

fail() { echo "android check: $*" >&2; exit 1; }

tree=$(cargo tree --locked --target "$target" -p qrlogin-app -e normal,build --prefix none)
if desktop=$(grep -E '^(nokhwa|nokhwa-[a-z-]+|v4l|v4l2-sys-mit|mozjpeg|mozjpeg-sys) ' <<<"$tree"); then
  fail "desktop parts in the Android dependency graph of qrlogin-app:"$'\n'"$(sort -u <<<"$desktop")"
fi
grep -q '^tauri-plugin-barcode-scanner ' <<<"$tree" ||
  fail "the Android build lost tauri-plugin-barcode-scanner (its only scanner)"
if cargo tree --locked --target "$target" -p qrlogin-app -e features -i qrlogin-client |
  grep -q 'qrlogin-client feature "camera"'; then
  fail "qrlogin-client's camera feature (the desktop camera loop) is on for Android"
fi
echo "android check: no nokhwa, v4l, mozjpeg or camera loop in the Android graph"

CC_aarch64_linux_android=clang \
CFLAGS_aarch64_linux_android="--target=aarch64-linux-android24 -isystem /usr/aarch64-linux-gnu/include" \
AR_aarch64_linux_android="$ar" \
  cargo clippy --locked --target "$target" -p qrlogin-app -- -D warnings
echo "android check: qrlogin-app type-checks for $target (not linked, not run)"
