#!/usr/bin/env bash
# What the arm64 run of `make test` needs besides the Rust target: qemu-user (runs the
# aarch64 `bootstrap` on this machine) and libc6-arm64-cross (the aarch64 glibc and dynamic
# loader it links against, under /usr/aarch64-linux-gnu). Debian/Ubuntu packages: installed
# with apt-get when running as root (as CI does); otherwise this stops with the one command
# to run. Idempotent and quiet when both are present.
set -euo pipefail

have() {
    command -v qemu-aarch64 >/dev/null 2>&1 && [[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]]
}
if have; then
    exit 0
fi
packages=(qemu-user libc6-arm64-cross)
if [[ "$(id -u)" != 0 ]]; then
    echo "arm64 run: qemu-aarch64 and the aarch64 C library are missing. Run once:" >&2
    echo "  sudo apt-get install -y ${packages[*]}" >&2
    exit 1
fi
command -v apt-get >/dev/null || { echo "arm64 run: no apt-get here; install ${packages[*]} (or your system's qemu-user and aarch64 glibc) by hand" >&2; exit 1; }
echo "arm64 run: installing ${packages[*]} (apt-get)..."
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${packages[@]}" >/dev/null 2>&1; then
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends "${packages[@]}" >/dev/null
fi
have || { echo "arm64 run: ${packages[*]} installed but qemu-aarch64 or /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 is missing" >&2; exit 1; }
