#!/bin/bash
# arm.sh — the AArch64 leg of CI (issue 5, Portability): cross-compile sculpt with Debian's
# gcc-aarch64-linux-gnu through .ci/arm-cross.txt and run the test suite under qemu-user.
# usage: .ci/arm.sh [BUILD_DIR [meson test arguments...]]   (default /tmp/sculpt-build-arm)
# Env: ARM_WERROR=0 builds without -Werror; ARM_NO_INSTALL=1 never calls apt-get.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-/tmp/sculpt-build-arm}
[ $# -gt 0 ] && shift
log() { echo "arm.sh: $*" >&2; }

# --- 1. toolchain, emulator and arm64 libraries (idempotent: no network when present) ---
need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
dpkg -s libc6-dev-arm64-cross >/dev/null 2>&1 || need+=(libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
[ -e /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] || need+=(qemu-user-binfmt)
dpkg -s libpng-dev:arm64 >/dev/null 2>&1 || need+=(libpng-dev:arm64)
dpkg -s zlib1g-dev:arm64 >/dev/null 2>&1 || need+=(zlib1g-dev:arm64)
dpkg -s libsimde-dev >/dev/null 2>&1 || need+=(libsimde-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "${ARM_NO_INSTALL:-0}" = 1 ] || [ "$(id -u)" != 0 ]; then
    log "missing: ${need[*]}; as root: dpkg --add-architecture arm64 && apt-get update &&" \
        "apt-get install -y ${need[*]}"
    exit 1
  fi
  log "installing ${need[*]}"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then dpkg --add-architecture arm64; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# --- 2. run aarch64 programs that the tests spawn (CLI tests exec the tools via sh) ---
# meson's exe_wrapper (the cross file) covers the test binaries themselves; programs that
# they start need binfmt_misc. Register Debian's qemu-aarch64 entry when it is missing.
BINFMT=/proc/sys/fs/binfmt_misc
if [ ! -e $BINFMT/qemu-aarch64 ]; then
  [ -e $BINFMT/register ] || mount -t binfmt_misc binfmt_misc $BINFMT 2>/dev/null || true
  if [ -w $BINFMT/register ] && [ -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
    cat /usr/lib/binfmt.d/qemu-aarch64.conf >$BINFMT/register 2>/dev/null || true
  fi
  [ -e $BINFMT/qemu-aarch64 ] || log "warning: no binfmt_misc entry for aarch64: tests that spawn a program will fail"
fi
# Same library choice as the cross file's exe_wrapper, for programs started through binfmt:
# the cross toolchain's own libc and libgomp (see .ci/arm-cross.txt for why).
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
export QEMU_SET_ENV=LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib

# --- 3. configure, build, test ---
werror=true
[ "${ARM_WERROR:-1}" = 0 ] && werror=false
if [ -f "$BUILD/build.ninja" ]; then
  meson setup --reconfigure -Dwerror=$werror "$BUILD" "$ROOT" >/dev/null
else
  meson setup --cross-file "$ROOT/.ci/arm-cross.txt" -Dwerror=$werror "$BUILD" "$ROOT" >/dev/null
fi
log "building $BUILD (aarch64, NEON path, -Dwerror=$werror)"
nice -n 10 ninja -C "$BUILD" -j2
file -bL "$BUILD/runtime/libsculpt.so" | grep -q aarch64 || { log "$BUILD is not an aarch64 build"; exit 1; }
# The NEON FMA loop as a smoke test of the run-time ISA dispatch (its number is qemu's).
nice -n 10 qemu-aarch64 -L "$QEMU_LD_PREFIX" -E "$QEMU_SET_ENV" "$BUILD/bench/fma_peak" --ms 5 --reps 1 --threads 1
# qemu runs the code 10-50x slower than the host: stretch the per-test timeouts.
log "running the tests under qemu-aarch64"
nice -n 10 meson test -C "$BUILD" --no-rebuild --timeout-multiplier 10 --num-processes 2 --print-errorlogs "$@"
