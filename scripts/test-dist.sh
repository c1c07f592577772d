#!/usr/bin/env bash
# Installs each artifact scripts/dist.sh wrote into dist/ the way a user
# would, in a clean temporary folder, with `cargo` and `rustc` NOT on PATH,
# and runs a real lookup against a sandbox (mutual TLS on loopback) from each:
#
#   1. versions: every artifact carries the workspace's version;
#   2. Python: a fresh venv installs the wheel (pip --no-index), then
#      `import nzpir`, nzpir.Sandbox and a lookup, and the type stubs
#      (py.typed, _native.pyi) type-check a consumer with mypy --strict;
#   3. Node: `npm install` of the two tarballs in an empty folder (no install
#      script runs: --strict-allow-scripts), then CommonJS, ESM and TypeScript
#      consumers start Sandbox.start() and look up; without the platform
#      package, loading fails with the error that names the platform;
#   4. C and C++: the SDK tarball unpacked (then moved, to show it is
#      relocatable); CMake consumers (C, shared; C++, static) and pkg-config
#      consumers (C++, shared; C, static) build against it and look up
#      through a sandbox started from the installed wheel;
#   5. the sdist builds a working wheel outside the repository (this one
#      step needs Rust, and runs with cargo on PATH again).
#
# Usage: scripts/test-dist.sh [DIST]   (default dist/; run scripts/dist.sh first)
# Needs python3, node and npm, gcc/g++, pkg-config, and CMake (installed with
# apt-get when missing). The TypeScript consumer installs typescript and
# @types/node from the npm registry (or npm's cache).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist="$(cd "${1:-$root/dist}" && pwd)"
version="$("$root/scripts/check-versions.sh")"

step() { printf -- '--- dist: %s\n' "$*"; }
fail() { echo "test-dist: $*" >&2; exit 1; }

one() { # the one file matching a pattern in dist/
  local matches=("$dist"/$1)
  [ ${#matches[@]} = 1 ] && [ -f "${matches[0]}" ] || fail "expected one $1 in $dist (run scripts/dist.sh)"
  echo "${matches[0]}"
}
wheel="$(one "nzpir-$version-cp39-abi3-manylinux_*_x86_64.whl")"
sdist="$(one "nzpir-$version.tar.gz")"
npm_js="$(one "nzpir-$version.tgz")"
npm_native="$(one "nzpir-linux-x64-gnu-$version.tgz")"
sdk="$(one "nzpir-c-$version-linux-x86_64.tar.gz")"
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "dist/SHA256SUMS does not match"

work="$(mktemp -d "${TMPDIR:-/tmp}/nzpir-dist.XXXXXX")"
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# PATH without any folder that holds cargo or rustc, and no Rust settings.
dev_path="$PATH"
clean_path=""
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -n "$d" ] || continue
  [ -x "$d/cargo" ] || [ -x "$d/rustc" ] || [ -x "$d/rustup" ] && continue
  clean_path="${clean_path:+$clean_path:}$d"
done
export PATH="$clean_path"
unset CARGO CARGO_HOME CARGO_TARGET_DIR RUSTC RUSTUP_HOME RUSTUP_TOOLCHAIN
if command -v cargo >/dev/null || command -v rustc >/dev/null; then
  fail "cargo or rustc is still on PATH"
fi
cd "$work"

step "versions: every artifact says $version"
mkdir -p "$work/c"
tar -xzf "$sdk" -C "$work/c"
sdk_dir="$work/c/nzpir-c-$version-linux-x86_64"
h() { sed -n "s/^#define NZPIR_VERSION_$1 \([0-9][0-9]*\)$/\1/p" "$sdk_dir/include/nzpir.h"; }
[ "$(h MAJOR).$(h MINOR).$(h PATCH)" = "$version" ] || fail "the SDK's nzpir.h macros are not $version"
[ -f "$sdk_dir/lib/libnzpir.so.$version" ] || fail "the SDK has no lib/libnzpir.so.$version"
grep -qx "Version: $version" "$sdk_dir/lib/pkgconfig/nzpir.pc" || fail "nzpir.pc is not $version"
grep -qF "set(PACKAGE_VERSION \"$version\")" "$sdk_dir/lib/cmake/nzpir/nzpirConfigVersion.cmake" ||
  fail "nzpirConfigVersion.cmake is not $version"
for t in "$npm_js" "$npm_native"; do
  v="$(tar -xzOf "$t" package/package.json | node -p 'JSON.parse(require("fs").readFileSync(0)).version')"
  [ "$v" = "$version" ] || fail "$(basename "$t") says $v"
done
dep="$(tar -xzOf "$npm_js" package/package.json |
  node -p 'JSON.parse(require("fs").readFileSync(0)).optionalDependencies["nzpir-linux-x64-gnu"]')"
[ "$dep" = "$version" ] || fail "nzpir's optional dependency nzpir-linux-x64-gnu is $dep"
echo "header, libnzpir.so.$version, nzpir.pc, CMake, wheel, sdist, both npm packages: $version"

step "Python: a fresh venv installs the wheel ($(basename "$wheel"))"
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
for f in __init__.py _native.pyi py.typed; do
  [ -f "$site/nzpir/$f" ] || fail "the wheel did not install nzpir/$f"
done
ls "$site"/nzpir/_native*.so >/dev/null || fail "the wheel has no native module"
if ldd "$site"/nzpir/_native*.so | grep -q libpython; then
  fail "the extension links libpython (it must not, for manylinux/abi3)"
fi
cat >"$work/lookup.py" <<'EOF'
"""A user's first program: the sandbox, a lookup, typed."""

from decimal import Decimal

import nzpir


def main() -> None:
    assert nzpir.is_valid_ird("49-091-850")
    with nzpir.Sandbox() as sb:
        client: nzpir.Client = sb.client()
        result = client.lookup("139276507", pie_ird="125000002")
        rate: "Decimal | None" = result.rate
        assert rate == Decimal("28"), rate
        try:
            client.lookup("139276272", pie_ird="125000002")
        except nzpir.AuthorisationError as e:
            print(f"refused: {e.ir_code}")
        print(f"nzpir {nzpir.__version__}: suggested PIR {rate} %")


if __name__ == "__main__":
    main()
EOF
out="$(cd / && "$py" "$work/lookup.py")"
printf '%s\n' "$out"
grep -qx "refused: EV1043" <<<"$out" || fail "unexpected output"
grep -qx "nzpir $version: suggested PIR 28 %" <<<"$out" || fail "unexpected output"
"$py" -c 'import nzpir, sys; sys.exit(0 if nzpir.__file__.startswith(sys.prefix) else 1)' ||
  fail "nzpir was not imported from the venv"

step "Python: the stubs type-check a consumer (mypy --strict)"
mypy_py=""
if [ -x "$root/.venv/bin/python" ] && "$root/.venv/bin/python" -m mypy --version >/dev/null 2>&1; then
  mypy_py="$root/.venv/bin/python"
else
  python3 -m venv "$work/tools"
  "$work/tools/bin/python" -m pip install --quiet --disable-pip-version-check "mypy>=1.10,<3"
  mypy_py="$work/tools/bin/python"
fi
(cd "$work" && "$mypy_py" -m mypy --strict --no-incremental --python-executable "$py" lookup.py)
# A wrong type must be caught, or the stubs are not being read.
printf 'import nzpir\nx: int = nzpir.normalize_ird("49091850")\n' >"$work/wrong.py"
if (cd "$work" && "$mypy_py" -m mypy --strict --no-incremental --python-executable "$py" wrong.py) >/dev/null; then
  fail "mypy accepted a str as an int: the stubs are not used"
fi

step "Node: npm install of the two tarballs in an empty folder"
mkdir -p "$work/node"
cd "$work/node"
cat >package.json <<'EOF'
{ "name": "consumer", "version": "1.0.0", "private": true }
EOF
npm install --no-audit --no-fund --strict-allow-scripts "$npm_native" "$npm_js" >npm.log 2>&1 ||
  { cat npm.log >&2; fail "npm install failed"; }
[ -f node_modules/nzpir-linux-x64-gnu/nzpir.linux-x64-gnu.node ] || fail "no prebuilt module installed"
[ ! -e node_modules/nzpir/Cargo.toml ] && [ ! -e node_modules/nzpir/src ] ||
  fail "the npm package ships Rust sources"
ls node_modules/nzpir/*.node >/dev/null 2>&1 && fail "the nzpir package itself holds a .node"
cat >lookup.cjs <<'EOF'
const assert = require('node:assert')
const { Client, Sandbox, version } = require('nzpir')
;(async () => {
  const sandbox = await Sandbox.start()
  try {
    const client = Client.fromConfig(sandbox.configPath)
    const r = await client.lookup({ ird: '139276507', pieIrd: '125000002' })
    assert.strictEqual(r.rate, '28')
    console.log(`cjs ${version()}: suggested PIR ${r.rate} %`)
  } finally {
    await sandbox.stop()
  }
})().catch((e) => { console.error(e); process.exit(1) })
EOF
cat >lookup.mjs <<'EOF'
import assert from 'node:assert'
import { Client, Sandbox, ErrorCode } from 'nzpir'
const sandbox = await Sandbox.start()
try {
  const client = Client.fromConfig(sandbox.configPath)
  const r = await client.lookup({ ird: '139276310', pieIrd: '125000002' })
  assert.strictEqual(r.rate, '10.5')
  await assert.rejects(client.lookup({ ird: '139276272', pieIrd: '125000002' }),
    (e) => e.code === ErrorCode.AUTHORISATION && e.irCode === 'EV1043')
  console.log(`esm: suggested PIR ${r.rate} %`)
} finally {
  await sandbox.stop()
}
EOF
cat >lookup.mts <<'EOF'
import { Client, Sandbox, isNzpirError, type LookupResult } from 'nzpir'
const sandbox: Sandbox = await Sandbox.start()
try {
  const client: Client = Client.fromConfig(sandbox.configPath)
  const r: LookupResult = await client.lookup({ ird: '049091850', pieIrd: '125000002' })
  if (!r.notFound) throw new Error('expected no rate')
  try {
    await client.lookup({ ird: '136410133' })
  } catch (e: unknown) {
    if (!isNzpirError(e)) throw e
    console.log(`ts: not found; bad input: ${e.code}`)
  }
} finally {
  await sandbox.stop()
}
EOF
cat >tsconfig.json <<'EOF'
{ "compilerOptions": { "strict": true, "module": "nodenext", "moduleResolution": "nodenext",
    "target": "es2022", "types": ["node"], "outDir": "out", "skipLibCheck": false },
  "files": ["lookup.mts"] }
EOF
out="$(node lookup.cjs && node lookup.mjs)"
printf '%s\n' "$out"
grep -qx "cjs $version: suggested PIR 28 %" <<<"$out" || fail "unexpected CommonJS output"
grep -qx "esm: suggested PIR 10.5 %" <<<"$out" || fail "unexpected ESM output"
step "Node: TypeScript consumer (tsc --strict, then node)"
npm install --no-audit --no-fund --save-dev typescript@5.9.3 @types/node@20.19.43 >npm-ts.log 2>&1 ||
  { cat npm-ts.log >&2; fail "npm install typescript failed"; }
node_modules/.bin/tsc -p tsconfig.json
out="$(node out/lookup.mjs)"
printf '%s\n' "$out"
[ "$out" = "ts: not found; bad input: NZPIR_INVALID_INPUT" ] || fail "unexpected TypeScript output"

step "Node: without the platform package, the error names the platform"
mkdir -p "$work/node-bare/node_modules"
cp -r node_modules/nzpir "$work/node-bare/node_modules/"
out="$(cd "$work/node-bare" && node -e '
try { require("nzpir"); console.log("loaded") } catch (e) { console.log(e.code); console.log(e.message) }')"
grep -qx "ERR_NZPIR_NATIVE_MODULE" <<<"$out" || { echo "$out" >&2; fail "no clear load error"; }
grep -q "linux-x64-gnu" <<<"$out" && grep -q "nzpir-linux-x64-gnu" <<<"$out" &&
  grep -q "build from source" <<<"$out" || { echo "$out" >&2; fail "the load error does not say what to do"; }
echo "ERR_NZPIR_NATIVE_MODULE, names linux-x64-gnu and how to build from source"
cd "$work"

step "C/C++: a sandbox from the installed wheel"
"$py" - "$work/sandbox.txt" >"$work/sandbox.log" 2>&1 <<'EOF' &
import sys, time
import nzpir
with nzpir.Sandbox() as sb:
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(sb.config_path)
    import os
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    while True:
        time.sleep(3600)
EOF
sandbox_pid=$!
for _ in $(seq 1 300); do
  [ -f "$work/sandbox.txt" ] && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sandbox.log" >&2; fail "the sandbox did not start"; }
  sleep 0.1
done
config="$(cat "$work/sandbox.txt")"
[ -f "$config" ] || fail "no sandbox configuration"

step "C/C++: the SDK, moved after unpacking (relocatable)"
mv "$sdk_dir" "$work/moved-sdk"
sdk_dir="$work/moved-sdk"
for f in include/nzpir.h include/nzpir.hpp lib/libnzpir.a lib/pkgconfig/nzpir.pc \
  lib/cmake/nzpir/nzpirConfig.cmake lib/cmake/nzpir/nzpirConfigVersion.cmake; do
  [ -f "$sdk_dir/$f" ] || fail "the SDK has no $f"
done
soname="$(readelf -d "$sdk_dir/lib/libnzpir.so" | sed -n 's/.*(SONAME) *Library soname: \[\(.*\)\]/\1/p')"
[ -L "$sdk_dir/lib/libnzpir.so" ] && [ -L "$sdk_dir/lib/$soname" ] || fail "missing symlinks"
[ "$(readlink "$sdk_dir/lib/libnzpir.so")" = "$soname" ] || fail "libnzpir.so does not point at $soname"
echo "libnzpir.so -> $soname -> $(readlink "$sdk_dir/lib/$soname")"
if grep -rqF -e "$root" -e "dist-stage" "$sdk_dir/lib/pkgconfig" "$sdk_dir/lib/cmake"; then
  fail "the SDK's .pc or CMake files hold an absolute path"
fi

check_run() { # expected-output program args...
  local expected="$1" out
  shift
  out="$("$@")"
  [ "$out" = "$expected" ] || fail "$1 printed '$out', expected '$expected'"
  echo "$(basename "$1"): $out"
}

if ! command -v cmake >/dev/null; then
  step "installing CMake (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq cmake >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq cmake >/dev/null; }
fi

step "C/C++: CMake consumers (find_package(nzpir), C shared, C++ static)"
mkdir -p "$work/cmake-app"
cp "$root/examples/c/lookup.c" "$root/examples/c/lookup.cpp" "$work/cmake-app/"
cat >"$work/cmake-app/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(nzpir_consumer C CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
find_package(nzpir ${version%.*} REQUIRED)
message(STATUS "nzpir \${nzpir_VERSION} from \${nzpir_DIR}")
if(NOT nzpir_VERSION STREQUAL "$version")
  message(FATAL_ERROR "nzpir_VERSION is \${nzpir_VERSION}")
endif()
add_executable(lookup_c lookup.c)
target_compile_options(lookup_c PRIVATE -Wall -Wextra -Werror -pedantic)
target_link_libraries(lookup_c PRIVATE nzpir::nzpir)
add_executable(lookup_cpp_static lookup.cpp)
target_compile_options(lookup_cpp_static PRIVATE -Wall -Wextra -Werror -pedantic)
target_link_libraries(lookup_cpp_static PRIVATE nzpir::nzpir_static)
EOF
cmake -S "$work/cmake-app" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$sdk_dir" \
  -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; fail "cmake configure failed"; }
grep "nzpir $version from" "$work/cmake.log"
cmake --build "$work/cmake-build" >"$work/cmake-build.log" 2>&1 ||
  { cat "$work/cmake-build.log" >&2; fail "cmake build failed"; }
ldd "$work/cmake-build/lookup_c" | grep -qF "$soname => $sdk_dir/lib/$soname" ||
  { ldd "$work/cmake-build/lookup_c" >&2; fail "lookup_c does not load the SDK's $soname"; }
if ldd "$work/cmake-build/lookup_cpp_static" | grep -q libnzpir; then
  fail "lookup_cpp_static loads libnzpir.so"
fi
check_run "suggested PIR: 28 %" "$work/cmake-build/lookup_c" "$config" 139276507 125000002
check_run "suggested PIR: 10.5 %" "$work/cmake-build/lookup_cpp_static" "$config" 139276310 125000002
# A request for another minor version of 0.x is refused.
sed -i "s/find_package(nzpir ${version%.*} REQUIRED)/find_package(nzpir 0.99 REQUIRED)/" "$work/cmake-app/CMakeLists.txt"
if cmake -S "$work/cmake-app" -B "$work/cmake-build-2" -DCMAKE_PREFIX_PATH="$sdk_dir" >/dev/null 2>&1; then
  fail "find_package(nzpir 0.99) accepted $version"
fi

step "C/C++: pkg-config consumers (C++ shared, C static)"
export PKG_CONFIG_PATH="$sdk_dir/lib/pkgconfig"
[ "$(pkg-config --modversion nzpir)" = "$version" ] || fail "pkg-config --modversion nzpir"
[ "$(pkg-config --variable=includedir nzpir)" -ef "$sdk_dir/include" ] ||
  fail "pkg-config's includedir is not the SDK's"
# shellcheck disable=SC2046 # pkg-config output is meant to split into flags
g++ -std=c++17 -Wall -Wextra -Werror -pedantic "$root/examples/c/lookup.cpp" -o "$work/lookup-pc-cpp" \
  $(pkg-config --cflags --libs nzpir) -Wl,-rpath,"$(pkg-config --variable=libdir nzpir)"
check_run "IR has no suggested PIR for this investor" "$work/lookup-pc-cpp" "$config" 049091850 125000002
# shellcheck disable=SC2046
gcc -std=c11 -Wall -Wextra -Werror -pedantic $(pkg-config --cflags nzpir) "$root/examples/c/lookup.c" \
  -o "$work/lookup-pc-static" "$(pkg-config --variable=libdir nzpir)/libnzpir.a" \
  $(pkg-config --libs-only-l --static nzpir | sed 's/-lnzpir//')
check_run "suggested PIR: 28 %" "$work/lookup-pc-static" "$config" 139276507 125000002

kill "$sandbox_pid" 2>/dev/null || true
wait "$sandbox_pid" 2>/dev/null || true
sandbox_pid=""

step "Python sdist: builds a working wheel outside the repository (with Rust)"
export PATH="$dev_path"
mkdir -p "$work/sdist"
tar -xzf "$sdist" -C "$work/sdist"
src="$work/sdist/nzpir-$version"
[ -f "$src/pyproject.toml" ] || fail "the sdist has no pyproject.toml"
case "$(cd "$src" && pwd -P)" in "$root"*) fail "the sdist unpacked inside the repository" ;; esac
# The dev profile and the repository's target folder: the sdist's own
# sources compile, the registry's crates are reused (a release build of the
# same sources is what dist.sh already made).
PATH="$root/.venv/bin:$PATH" CARGO_TARGET_DIR="$root/target" MATURIN_PEP517_ARGS="--profile dev" \
  "$root/.venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation -w "$work/sdist-wheel" "$src"
python3 -m venv "$work/venv-sdist"
"$work/venv-sdist/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
  "$work"/sdist-wheel/nzpir-*.whl
out="$(cd / && "$work/venv-sdist/bin/python" -c 'import nzpir; print(nzpir.__version__, nzpir.normalize_ird("49-091-850"))')"
[ "$out" = "$version 049091850" ] || fail "the wheel built from the sdist printed '$out'"
echo "built from the sdist: $out"

step "all artifacts install and work"
