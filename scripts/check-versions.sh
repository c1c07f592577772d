#!/usr/bin/env bash
# One version everywhere: the workspace's (Cargo.toml) is the one the wheel
# takes (maturin reads it), and these must say the same:
#   bindings-node/package.json, the versions napi's loader (native.js) checks,
#   bindings-node/package-lock.json, the header's NZPIR_VERSION_* macros.
# The .pc and CMake files take theirs from the header (scripts/install-c.sh),
# the platform npm package from package.json (scripts/dist-npm.js);
# scripts/test-dist.sh checks the built artifacts themselves.
#
#   scripts/check-versions.sh         prints the version, or fails naming what differs
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' Cargo.toml)"
[ -n "$version" ] || { echo "check-versions: no [workspace.package] version in Cargo.toml" >&2; exit 1; }

bad=0
expect() { # what, found
  if [ "$2" != "$version" ]; then
    echo "check-versions: $1 is '${2}', the workspace is $version" >&2
    bad=1
  fi
}

expect "bindings-node/package.json version" \
  "$(node -p 'require("./bindings-node/package.json").version')"
expect "bindings-node/package-lock.json version" \
  "$(node -p 'require("./bindings-node/package-lock.json").version')"
for v in $(grep -o "bindingPackageVersion !== '[^']*'" bindings-node/native.js | sed "s/.*'\(.*\)'/\1/" | sort -u); do
  expect "the version bindings-node/native.js checks" "$v"
done
h() { sed -n "s/^#define NZPIR_VERSION_$1 \([0-9][0-9]*\)$/\1/p" include/nzpir.h; }
expect "include/nzpir.h NZPIR_VERSION_*" "$(h MAJOR).$(h MINOR).$(h PATCH)"
# Every member takes the workspace's version.
for m in core ffi-c bindings-python bindings-node sandbox cli; do
  grep -qx 'version.workspace = true' "$m/Cargo.toml" ||
    { echo "check-versions: $m/Cargo.toml does not use version.workspace = true" >&2; bad=1; }
done
# The Python package takes its version from Cargo (dynamic), never its own.
grep -q '^dynamic = \["version"\]' bindings-python/pyproject.toml ||
  { echo "check-versions: bindings-python/pyproject.toml must keep dynamic = [\"version\"]" >&2; bad=1; }
if grep -q '^version *=' bindings-python/pyproject.toml; then
  echo "check-versions: bindings-python/pyproject.toml sets its own version" >&2
  bad=1
fi
[ "$bad" = 0 ] || exit 1
echo "$version"
