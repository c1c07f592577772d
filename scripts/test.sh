#!/usr/bin/env bash
# Runs every check and every test of every language. CI runs exactly this
# (.ci/run). It sets up what it needs itself (Rust builds, Python venv, npm
# packages) and exits non-zero on the first failure.
#
#   scripts/test.sh            everything
#   scripts/test.sh rust       one stage (lint | rust | c | node | python | dist)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# One target directory for every build, whatever the caller's environment says.
export CARGO_TARGET_DIR="$root/target"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export RUST_BACKTRACE=1

stage() { printf '\n==> %s\n' "$*"; }

run_lint() {
  stage "cargo fmt --check"
  cargo fmt --all -- --check
  stage "cargo clippy (all targets, warnings are errors)"
  cargo clippy --workspace --all-targets --locked -- -D warnings
}

run_rust() {
  stage "cargo test (workspace)"
  cargo test --workspace --locked
}

run_c() {
  stage "C ABI: libnzpir, its header and the sandbox (dev profile)"
  cargo build -p nzpir-ffi -p nzpir-sandbox --locked
  # The header drift check and the ABI's own unit tests.
  cargo test -p nzpir-ffi --locked
  stage "C ABI: header as C11/C++17, tests under valgrind and ASan, examples, install"
  tests/c/run.sh
}

# The Node binding: build it into the shared target/ with plain cargo (the
# debug profile by default, so the dependencies `cargo test` built are
# reused rather than built again for release), check that the committed
# loader and declarations match the Rust sources, run its tests against a
# live sandbox, then install it into examples/node the way a consumer would
# (npm symlinks the folder and runs its install script) and run the example.
run_node() {
  export NZPIR_NODE_PROFILE="${NZPIR_NODE_PROFILE:-debug}"
  # `npm install` against the committed lockfile, not `npm ci`: npm 11 writes
  # only this platform's optional packages of the napi CLI's dependencies into
  # the lockfile, and `npm ci` then refuses it as out of sync.
  stage "node: npm install in bindings-node (builds the native module, $NZPIR_NODE_PROFILE)"
  (cd bindings-node && npm install --no-audit --no-fund)
  if git rev-parse --git-dir >/dev/null 2>&1; then
    stage "node: committed native.js and native.d.ts match the Rust sources"
    git diff --exit-code -- bindings-node/native.js bindings-node/native.d.ts
  fi
  stage "node: npm test (node --test against a live sandbox, tsc --noEmit)"
  (cd bindings-node && npm test)
  stage "node: examples/node as a consumer (npm install file:../../bindings-node, npm start)"
  (cd examples/node && npm install --no-audit --no-fund --strict-allow-scripts && npm start)
}

# The Python package (bindings-python) in a venv at .venv: build and install
# it as a user would (pip, maturin as the PEP 517 backend), check the stubs
# against the built module, type-check tests and examples, run pytest against
# live sandboxes, then run every example.
run_python() {
  local venv="$root/.venv" py
  py="$venv/bin/python"
  if [ ! -x "$py" ]; then
    stage "python: create $venv"
    python3 -m venv "$venv"
  fi
  stage "python: pip install ./bindings-python and the test tools"
  "$py" -m pip install --quiet --disable-pip-version-check \
    "pytest>=7,<10" "PyJWT>=2.8,<3" "cryptography>=41" "mypy>=1.10,<3"
  # The dev profile here: the Rust stages above already built the workspace
  # in it, so only the extension itself is compiled (a release build with
  # LTO takes minutes on 2 cores). A plain `pip install ./bindings-python`
  # still builds release. Override with MATURIN_PEP517_ARGS (empty: release).
  MATURIN_PEP517_ARGS="${MATURIN_PEP517_ARGS---profile dev}" \
    "$py" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
    ./bindings-python

  stage "python: stubtest (the package and its stubs against the built module)"
  "$py" -m mypy.stubtest nzpir  # nzpir and nzpir._native

  stage "python: mypy --strict (the package, tests and examples)"
  "$py" -m mypy --strict bindings-python/python/nzpir bindings-python/tests examples/python

  stage "python: pytest (against live sandboxes)"
  "$py" -m pytest bindings-python/tests

  stage "python: examples"
  local out
  out="$("$py" examples/python/lookup.py)"
  printf '%s\n' "$out"
  grep -qx "139276507: suggested PIR 28 %" <<<"$out"
  grep -qx "136410133: not a valid IRD number (ird_check_digit)" <<<"$out"
  out="$("$py" examples/python/validate_irds.py)"
  printf '%s\n' "$out"
  grep -q "'49-091-850': valid, wire form 049091850" <<<"$out"
  out="$("$py" examples/python/threads.py)"
  printf '%s\n' "$out"
  grep -q "16 lookups of 200 ms each" <<<"$out"
  out="$("$py" examples/python/oauth_flow.py)"
  printf '%s\n' "$out"
  grep -qx "suggested PIR 10.5 %" <<<"$out"
  grep -qx "revoked: the person must authorise again" <<<"$out"
}

# The artifacts users install (scripts/dist.sh: the wheel and sdist, the npm
# tarballs, the C/C++ SDK; one release build in target/), each installed as a
# user would in a clean temporary folder without cargo or rustc on PATH, and
# used for sandbox lookups (scripts/test-dist.sh). It packs the dev profile
# by default, which the stages above already built (a release build of the
# three takes many minutes on 2 cores); NZPIR_DIST_PROFILE=release packs what
# ships, as a plain scripts/dist.sh does.
run_dist() {
  stage "dist: one version everywhere"
  scripts/check-versions.sh
  local profile="${NZPIR_DIST_PROFILE:-dev}"
  stage "dist: scripts/dist.sh --profile $profile (wheel, sdist, npm tarballs, C SDK)"
  scripts/dist.sh --profile "$profile"
  stage "dist: install and use every artifact (scripts/test-dist.sh)"
  scripts/test-dist.sh
}

stages=("$@")
if [ ${#stages[@]} -eq 0 ]; then
  stages=(lint rust c node python dist)
fi

for s in "${stages[@]}"; do
  "run_$s"
done

stage "all checks passed"
