#!/usr/bin/env bash
# The C ABI's tests, against a real sandbox over mutual TLS:
#   0. scripts/install-c.sh installs the dev build into a temporary prefix
#      (libnzpir.so.X.Y.Z with its SONAME and symlinks, libnzpir.a): every
#      program below links against that prefix, as users' programs do;
#   1. include/nzpir.h compiles as C11 and C++17, and include/nzpir.hpp as
#      C++17 (-Wall -Wextra -Werror -pedantic), and C++ programs link and run;
#   2. the programs in tests/c, linked to libnzpir.so, run under valgrind
#      (memcheck, full leak check: any error or leak fails);
#   3. the same programs, linked to libnzpir.a, run built with AddressSanitizer;
#   4. the C++ wrapper's test (tests/c/test_cpp.cpp) runs under valgrind;
#   5. examples/c builds and runs;
#   6. pkg-config builds the example from the prefix (shared and static).
#
# It starts its own sandbox (target/debug/nzpir-sandbox, profile strict) in a
# temporary folder and stops it at the end. Build first, in the dev profile:
#   cargo build -p nzpir-ffi -p nzpir-sandbox
# Needs gcc, g++, valgrind, curl, python3 and pkg-config.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}/debug"

for tool in gcc g++ valgrind curl python3 pkg-config; do
  command -v "$tool" >/dev/null || { echo "tests/c/run.sh needs $tool" >&2; exit 1; }
done
for f in libnzpir_ffi.so libnzpir_ffi.a nzpir-sandbox; do
  [ -e "$target/$f" ] || {
    echo "missing $target/$f: run cargo build -p nzpir-ffi -p nzpir-sandbox first" >&2
    exit 1
  }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/nzpir-c.XXXXXX")"
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf -- '--- %s\n' "$*"; }

warn=(-Wall -Wextra -Werror -pedantic)
cflags=(-std=c11 "${warn[@]}" -g -O1 -I"$root/include")
lib="$work/prefix/lib"
shared=(-L"$lib" -lnzpir -Wl,-rpath,"$lib" -lpthread)
static=("$lib/libnzpir.a" -lpthread -ldl -lm -lrt -lutil)

step "scripts/install-c.sh into a temporary prefix"
"$root/scripts/install-c.sh" --prefix "$work/prefix" --profile dev --no-build >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; exit 1; }
soname="$(readelf -d "$lib/libnzpir.so" | sed -n 's/.*(SONAME) *Library soname: \[\(.*\)\]/\1/p')"
[ -n "$soname" ] && [ -L "$lib/libnzpir.so" ] && [ -L "$lib/$soname" ] ||
  { echo "libnzpir.so has no SONAME or its symlinks are missing" >&2; ls -l "$lib" >&2; exit 1; }
echo "SONAME $soname: $(cd "$lib" && ls libnzpir.so* | tr '\n' ' ')"

step "nzpir.h compiles as C11 and C++17"
cat >"$work/header.c" <<'EOF'
#include "nzpir.h"
int main(void) {
    nzpir_ird_reason reason = NZPIR_IRD_REASON_OTHER;
    bool ok = nzpir_ird_validate("49091850", &reason);
    return (nzpir_abi_version() == NZPIR_ABI_VERSION && ok && reason == NZPIR_IRD_REASON_VALID) ? 0 : 1;
}
EOF
cp "$work/header.c" "$work/header.cpp"
gcc -std=c11 "${warn[@]}" -I"$root/include" "$work/header.c" -o "$work/header-c" "${shared[@]}"
g++ -std=c++17 "${warn[@]}" -I"$root/include" "$work/header.cpp" -o "$work/header-cpp" "${shared[@]}"
"$work/header-c"
"$work/header-cpp"
# A program records the SONAME, not the development symlink.
readelf -d "$work/header-c" | grep -qF "Shared library: [$soname]" ||
  { echo "header-c does not record NEEDED $soname" >&2; exit 1; }
cat >"$work/wrapper.cpp" <<'EOF'
#include "nzpir.hpp"
int main() {
    return (nzpir::abi_matches() && nzpir::is_valid_ird("49091850") &&
            nzpir::normalise_ird("49-091-850") == "049091850") ? 0 : 1;
}
EOF
g++ -std=c++17 "${warn[@]}" -I"$root/include" "$work/wrapper.cpp" -o "$work/wrapper" "${shared[@]}"
"$work/wrapper"

step "starting the sandbox"
"$target/nzpir-sandbox" --pki-dir "$work/pki" >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 300); do
  [ -f "$work/pki/manifest.json" ] && break
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    cat "$work/sandbox.log" >&2
    echo "the sandbox did not start" >&2
    exit 1
  fi
  sleep 0.1
done
[ -f "$work/pki/manifest.json" ] || { echo "no manifest.json after 30 s" >&2; exit 1; }
# The manifest's paths and URLs, as NZPIR_SANDBOX_* variables for the tests.
eval "$(python3 - "$work/pki/manifest.json" <<'EOF'
import json, shlex, sys
m = json.load(open(sys.argv[1]))
values = {
    "URL": m["url"],
    "CONFIG": m["config"],
    "CA_CERT": m["ca_cert"],
    "CLIENT_CERT": m["client_cert"],
    "CLIENT_KEY": m["client_key"],
    "UNREGISTERED_CLIENT_CERT": m["unregistered_client_cert"],
    "UNREGISTERED_CLIENT_KEY": m["unregistered_client_key"],
    "JWT_RS256_CERT": m["jwt_rs256_cert"],
    "JWT_RS256_KEY": m["jwt_rs256_key"],
    "JWT_EC_CERT": m["jwt_ec_cert"],
    "JWT_EC_KEY": m["jwt_ec_key"],
    "JWT_EC_ALG": m["jwt_ec_alg"],
    "ADMIN_URL": m["admin_url"],
    "OAUTH_URL": m["oauth"]["base_url"],
    "IR003_LIMIT": m["ir003_limit"],
}
for k, v in values.items():
    print(f"export NZPIR_SANDBOX_{k}={shlex.quote(str(v))}")
EOF
)"
echo "sandbox at $NZPIR_SANDBOX_URL"

tests=(test_basics test_lookup test_threads test_oauth test_secrets test_bulk test_fork test_estimate)
# A folder for the files the tests write.
export NZPIR_TEST_TMPDIR="$work/tmp"
mkdir -p "$NZPIR_TEST_TMPDIR"

step "every function in nzpir.h is called by the tests"
functions="$(grep -v '^ *//' "$root/include/nzpir.h" | grep -o 'nzpir_[a-z0-9_]*(' | tr -d '(' | sort -u)"
sources=()
for t in "${tests[@]}"; do sources+=("$root/tests/c/$t.c"); done
untested=""
for fn in $functions; do
  grep -qF "$fn(" "${sources[@]}" || untested="$untested $fn"
done
[ -z "$untested" ] || { echo "not called by tests/c:$untested" >&2; exit 1; }
echo "$(echo "$functions" | wc -l) functions, each called"
mkdir -p "$work/bin"

step "C tests under valgrind (libnzpir.so)"
for t in "${tests[@]}"; do
  gcc "${cflags[@]}" "$root/tests/c/$t.c" -o "$work/bin/$t" "${shared[@]}"
done
for t in "${tests[@]}"; do
  valgrind --quiet --num-callers=40 --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
    --suppressions="$root/tests/c/valgrind.supp" "$work/bin/$t"
done

step "C tests with AddressSanitizer (libnzpir.a)"
for t in "${tests[@]}"; do
  gcc "${cflags[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer \
    "$root/tests/c/$t.c" -o "$work/bin/$t-asan" "${static[@]}"
done
for t in "${tests[@]}"; do
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$work/bin/$t-asan"
done

step "C++ wrapper (nzpir.hpp) under valgrind"
g++ -std=c++17 "${warn[@]}" -g -O1 -I"$root/include" "$root/tests/c/test_cpp.cpp" \
  -o "$work/bin/test_cpp" "${shared[@]}"
valgrind --quiet --num-callers=40 --leak-check=full --show-leak-kinds=definite,indirect,possible \
  --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
  --suppressions="$root/tests/c/valgrind.supp" "$work/bin/test_cpp"

step "examples/c"
gcc "${cflags[@]}" "$root/examples/c/lookup.c" -o "$work/bin/lookup" "${shared[@]}"
out="$("$work/bin/lookup" "$NZPIR_SANDBOX_CONFIG" 139276507 125000002)"
echo "$out"
[ "$out" = "suggested PIR: 28 %" ] || { echo "unexpected example output" >&2; exit 1; }

step "pkg-config from the prefix"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
pkg-config --exists --print-errors nzpir
# shellcheck disable=SC2046 # pkg-config output is meant to split into flags
gcc -std=c11 "${warn[@]}" "$root/examples/c/lookup.c" -o "$work/bin/lookup-pc" \
  $(pkg-config --cflags --libs nzpir)
out="$(LD_LIBRARY_PATH="$work/prefix/lib" "$work/bin/lookup-pc" "$NZPIR_SANDBOX_CONFIG" 139276310 125000002)"
[ "$out" = "suggested PIR: 10.5 %" ] || { echo "unexpected output: $out" >&2; exit 1; }
# Static: the archive and the private libraries pkg-config names for it.
# shellcheck disable=SC2046
gcc -std=c11 "${warn[@]}" $(pkg-config --cflags nzpir) "$root/examples/c/lookup.c" \
  -o "$work/bin/lookup-static" "$(pkg-config --variable=libdir nzpir)/libnzpir.a" \
  $(pkg-config --libs-only-l --static nzpir | sed 's/-lnzpir//')
out="$("$work/bin/lookup-static" "$NZPIR_SANDBOX_CONFIG" 049091850 125000002)"
[ "$out" = "IR has no suggested PIR for this investor" ] ||
  { echo "unexpected output: $out" >&2; exit 1; }
echo "pkg-config nzpir $(pkg-config --modversion nzpir): shared and static builds run"

step "C ABI: all checks passed"
