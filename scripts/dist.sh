#!/usr/bin/env bash
# Builds every artifact users install, into dist/ (git-ignored):
#
#   nzpir-VERSION-cp39-abi3-manylinux_2_XX_x86_64.whl   the Python wheel (abi3, CPython 3.9+)
#   nzpir-VERSION.tar.gz                                 the Python sdist (builds with Rust, anywhere)
#   nzpir-VERSION.tgz                                    the npm package (JavaScript, types)
#   nzpir-linux-x64-gnu-VERSION.tgz                      its prebuilt native module for linux-x64-gnu
#   nzpir-c-VERSION-linux-x86_64.tar.gz                  the C/C++ SDK: include/, lib/ (libnzpir.so
#                                                        with SONAME and symlinks, libnzpir.a,
#                                                        pkgconfig/, cmake/nzpir/)
#   SHA256SUMS
#
# Usage: scripts/dist.sh [--profile release|dev]
#
# release (the default; also NZPIR_DIST_PROFILE) is what ships. dev packs the
# debug build the test stages already made, so that scripts/test.sh can check
# the packaging in a minute or two instead of a release build's many minutes;
# its artifacts work the same but are slower and are not for release.
#
# Everything builds in one target folder (CARGO_TARGET_DIR, else target/).
# maturin comes from the venv at .venv (created and filled when missing).
# Needs Rust, Node/npm, python3, and binutils (readelf, strip).
# scripts/test-dist.sh installs and tests what this writes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
dist="$root/dist"
stage="$CARGO_TARGET_DIR/dist-stage"

step() { printf '\n==> dist: %s\n' "$*"; }

profile="${NZPIR_DIST_PROFILE:-release}"
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="${2:?--profile needs release or dev}"; shift 2 ;;
    --profile=*) profile="${1#*=}"; shift ;;
    -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "dist.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$profile" in
  release) out=release ;;
  dev|debug) profile=dev; out=debug ;;
  *) echo "dist.sh: --profile must be release or dev" >&2; exit 2 ;;
esac

version="$(scripts/check-versions.sh)"
step "nzpir $version ($profile profile)"

venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -m maturin --version >/dev/null 2>&1; then
  step "maturin into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "maturin>=1.9.4,<2"
fi
maturin=("$venv/bin/python" -m maturin)

rm -rf "$dist" "$stage"
mkdir -p "$dist" "$stage"

# The C library and the Node module first, in one cargo call, then the wheel:
# maturin's cargo call reuses the dependencies (same profile, same target
# folder) and compiles the Python crate and what only it needs.
step "$profile build: libnzpir (nzpir-ffi) and the Node module (nzpir-node)"
cargo build --profile "$profile" --locked -p nzpir-ffi -p nzpir-node

step "Python wheel (maturin, $profile, manylinux checked by maturin's auditwheel)"
# Without --compatibility, maturin tags the wheel with the oldest manylinux
# policy the extension's glibc symbol versions allow, after its own
# auditwheel check (which fails the build if the extension links a library
# outside the manylinux set).
"${maturin[@]}" build --profile "$profile" --locked --strip -m bindings-python/Cargo.toml \
  --interpreter "$venv/bin/python" --out "$dist"
wheel="$(ls "$dist"/nzpir-"$version"-*.whl)"
case "$wheel" in
  *-cp39-abi3-manylinux_2_*_x86_64*.whl) ;;
  *) echo "dist: the wheel has no abi3 manylinux tag: $(basename "$wheel")" >&2; exit 1 ;;
esac

step "Python sdist"
"${maturin[@]}" sdist -m bindings-python/Cargo.toml --out "$dist"

step "npm packages (nzpir, nzpir-linux-x64-gnu)"
node_so="$CARGO_TARGET_DIR/$out/libnzpir_node.so"
node_mod="$stage/nzpir.linux-x64-gnu.node"
cp "$node_so" "$node_mod"
strip --strip-unneeded "$node_mod"
node scripts/dist-npm.js "$stage/npm" "$node_mod" >/dev/null
for p in nzpir nzpir-linux-x64-gnu; do
  (cd "$stage/npm/$p" && npm pack --silent --pack-destination "$dist" >/dev/null)
done

step "C/C++ SDK"
sdk="nzpir-c-$version-linux-x86_64"
scripts/install-c.sh --prefix "$stage/c/$sdk" --profile "$profile" --no-build --strip >/dev/null
cat >"$stage/c/$sdk/README" <<TXT
nzpir $version: the C library (libnzpir) and its headers, for Linux x86-64 (glibc).

Unpack anywhere (or into /usr/local) and point your build at it:
  CMake:       find_package(nzpir $version REQUIRED) with CMAKE_PREFIX_PATH=<this folder>,
               then target_link_libraries(app PRIVATE nzpir::nzpir)   (or nzpir::nzpir_static)
  pkg-config:  PKG_CONFIG_PATH=<this folder>/lib/pkgconfig
               cc app.c \$(pkg-config --cflags --libs nzpir)
C API: include/nzpir.h. C++17 wrapper (header-only): include/nzpir.hpp.
https://github.com/nzpir/nzpir#c
TXT
tar --owner=0 --group=0 --numeric-owner -C "$stage/c" -czf "$dist/$sdk.tar.gz" "$sdk"

(cd "$dist" && sha256sum -- * >SHA256SUMS)
step "wrote $dist"
ls -l "$dist"
