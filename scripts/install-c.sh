#!/usr/bin/env bash
# Builds libnzpir and installs it for C and C++ programs under a prefix:
#
#   PREFIX/include/nzpir.h
#   PREFIX/lib/libnzpir.so
#   PREFIX/lib/libnzpir.a
#   PREFIX/lib/pkgconfig/nzpir.pc
#
# Usage: scripts/install-c.sh --prefix DIR [--profile release|dev] [--libdir DIR]
#
# --profile   the Cargo profile to build (default release; dev reuses a debug build)
# --libdir    where the libraries and pkgconfig/ go (default PREFIX/lib)
#
# Then: cc app.c $(pkg-config --cflags --libs nzpir), with
# PKG_CONFIG_PATH=PREFIX/lib/pkgconfig when PREFIX is not a system prefix.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=""
profile="release"
libdir=""

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --profile) profile="${2:?--profile needs release or dev}"; shift 2 ;;
    --profile=*) profile="${1#*=}"; shift ;;
    --libdir) libdir="${2:?--libdir needs a folder}"; shift 2 ;;
    --libdir=*) libdir="${1#*=}"; shift ;;
    -h|--help) usage 0 ;;
    *) echo "install-c.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
done
[ -n "$prefix" ] || { echo "install-c.sh: --prefix is required" >&2; usage 2; }
case "$profile" in
  release) out=release ;;
  dev|debug) profile=dev; out=debug ;;
  *) echo "install-c.sh: --profile must be release or dev" >&2; exit 2 ;;
esac

mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
libdir="${libdir:-$prefix/lib}"
target="${CARGO_TARGET_DIR:-$root/target}"

cargo build --manifest-path "$root/Cargo.toml" -p nzpir-ffi --profile "$profile" --locked

header="$root/include/nzpir.h"
version_part() { sed -n "s/^#define NZPIR_VERSION_$1 \([0-9][0-9]*\)$/\1/p" "$header"; }
version="$(version_part MAJOR).$(version_part MINOR).$(version_part PATCH)"

install -d "$prefix/include" "$libdir/pkgconfig"
install -m 0644 "$header" "$prefix/include/nzpir.h"
install -m 0755 "$target/$out/libnzpir.so" "$libdir/libnzpir.so"
install -m 0644 "$target/$out/libnzpir.a" "$libdir/libnzpir.a"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@LIBDIR@|$libdir|g" -e "s|@VERSION@|$version|g" \
  "$root/ffi-c/nzpir.pc.in" >"$libdir/pkgconfig/nzpir.pc"
chmod 0644 "$libdir/pkgconfig/nzpir.pc"

echo "installed nzpir $version under $prefix"
echo "  $prefix/include/nzpir.h"
echo "  $libdir/libnzpir.so, $libdir/libnzpir.a"
echo "  $libdir/pkgconfig/nzpir.pc"
