#!/usr/bin/env bash
# Builds libnzpir and installs it for C and C++ programs under a prefix:
#
#   PREFIX/include/nzpir.h, PREFIX/include/nzpir.hpp (header-only C++ wrapper)
#   PREFIX/lib/libnzpir.so.X.Y.Z, with the SONAME it was linked with and the
#     symlinks libnzpir.so.SONAME-VERSION and libnzpir.so
#   PREFIX/lib/libnzpir.a
#   PREFIX/lib/pkgconfig/nzpir.pc            (paths relative to ${pcfiledir})
#   PREFIX/lib/cmake/nzpir/nzpirConfig.cmake  (imported targets nzpir::nzpir,
#   PREFIX/lib/cmake/nzpir/nzpirConfigVersion.cmake   nzpir::nzpir_static)
#
# Usage: scripts/install-c.sh --prefix DIR [--profile release|dev] [--libdir DIR]
#                             [--no-build] [--strip]
#
# --profile   the Cargo profile to build (default release; dev reuses a debug build)
# --libdir    where the libraries, pkgconfig/ and cmake/ go (default PREFIX/lib)
# --no-build  install what the profile's last build left in the target folder
# --strip     strip the libraries (debug information and local symbols)
#
# The installed tree is relocatable: move PREFIX anywhere and pkg-config and
# CMake still find it there. Then: cc app.c $(pkg-config --cflags --libs nzpir),
# with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig when PREFIX is not a system prefix,
# or find_package(nzpir) with CMAKE_PREFIX_PATH=PREFIX.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=""
profile="release"
libdir=""
build=1
strip=0

usage() {
  sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
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
    --no-build) build=0; shift ;;
    --strip) strip=1; shift ;;
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
mkdir -p "$libdir"
libdir="$(cd "$libdir" && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"

if [ "$build" = 1 ]; then
  cargo build --manifest-path "$root/Cargo.toml" -p nzpir-ffi --profile "$profile" --locked
fi
# Cargo's names for the libraries (the crate's library is `nzpir_ffi`).
so="$target/$out/libnzpir_ffi.so"
ar="$target/$out/libnzpir_ffi.a"
for f in "$so" "$ar"; do
  [ -f "$f" ] || { echo "install-c.sh: missing $f (build nzpir-ffi, profile $profile)" >&2; exit 1; }
done

header="$root/include/nzpir.h"
version_part() { sed -n "s/^#define NZPIR_VERSION_$1 \([0-9][0-9]*\)$/\1/p" "$header"; }
major="$(version_part MAJOR)" minor="$(version_part MINOR)" patch="$(version_part PATCH)"
version="$major.$minor.$patch"
# The SONAME build.rs gave the library: the file is installed under the full
# version, with the SONAME and the development name as symlinks.
soname="$(LC_ALL=C readelf -d "$so" | sed -n 's/.*(SONAME) *Library soname: \[\(.*\)\]/\1/p')"
case "$soname" in
  libnzpir.so.*) ;;
  *) echo "install-c.sh: $so has SONAME '${soname}', expected libnzpir.so.N (see ffi-c/build.rs)" >&2; exit 1 ;;
esac
real="libnzpir.so.$version"

install -d "$prefix/include" "$libdir/pkgconfig" "$libdir/cmake/nzpir"
install -m 0644 "$header" "$prefix/include/nzpir.h"
install -m 0644 "$root/include/nzpir.hpp" "$prefix/include/nzpir.hpp"
rm -f "$libdir"/libnzpir.so "$libdir"/libnzpir.so.*
install -m 0755 "$so" "$libdir/$real"
[ "$soname" = "$real" ] || ln -s "$real" "$libdir/$soname"
ln -s "$soname" "$libdir/libnzpir.so"
install -m 0644 "$ar" "$libdir/libnzpir.a"
if [ "$strip" = 1 ]; then
  strip --strip-unneeded "$libdir/$real"
  strip --strip-debug "$libdir/libnzpir.a"
fi

# Paths in the .pc and CMake files are relative to where those files are, so
# the tree can move.
pc_prefix="\${pcfiledir}/$(realpath -m --relative-to="$libdir/pkgconfig" "$prefix")"
pc_libdir="\${pcfiledir}/$(realpath -m --relative-to="$libdir/pkgconfig" "$libdir")"
cmake_prefix="$(realpath -m --relative-to="$libdir/cmake/nzpir" "$prefix")"
cmake_libdir="$(realpath -m --relative-to="$prefix" "$libdir")"
sed -e "s|@PREFIX@|$pc_prefix|g" -e "s|@LIBDIR@|$pc_libdir|g" -e "s|@VERSION@|$version|g" \
  "$root/ffi-c/nzpir.pc.in" >"$libdir/pkgconfig/nzpir.pc"
sed -e "s|@CMAKE_PREFIX_REL@|$cmake_prefix|g" -e "s|@CMAKE_LIBDIR_REL@|$cmake_libdir|g" \
  -e "s|@SONAME@|$soname|g" -e "s|@VERSION@|$version|g" \
  "$root/ffi-c/cmake/nzpirConfig.cmake.in" >"$libdir/cmake/nzpir/nzpirConfig.cmake"
sed -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|$major|g" -e "s|@MINOR@|$minor|g" \
  "$root/ffi-c/cmake/nzpirConfigVersion.cmake.in" >"$libdir/cmake/nzpir/nzpirConfigVersion.cmake"
chmod 0644 "$libdir/pkgconfig/nzpir.pc" "$libdir/cmake/nzpir/"*.cmake

echo "installed nzpir $version under $prefix"
echo "  $prefix/include/nzpir.h, $prefix/include/nzpir.hpp"
echo "  $libdir/$real (SONAME $soname), $libdir/libnzpir.a"
echo "  $libdir/pkgconfig/nzpir.pc, $libdir/cmake/nzpir/"
