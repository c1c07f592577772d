#!/usr/bin/env bash
# Runs every check and every test of every language. CI runs exactly this
# (.ci/run). It sets up what it needs itself (Rust builds, Python venv, npm
# packages) and exits non-zero on the first failure.
#
#   scripts/test.sh            everything
#   scripts/test.sh rust       one stage (lint | rust | c | node)
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

stages=("$@")
if [ ${#stages[@]} -eq 0 ]; then
  stages=(lint rust c node)
fi

for s in "${stages[@]}"; do
  "run_$s"
done

stage "all checks passed"
