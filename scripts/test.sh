#!/usr/bin/env bash
# Runs every check and every test of every language. CI runs exactly this
# (.ci/run). It sets up what it needs itself (Rust builds, Python venv, npm
# packages) and exits non-zero on the first failure.
#
#   scripts/test.sh            everything
#   scripts/test.sh rust       one stage (lint | rust | c)
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

stages=("$@")
if [ ${#stages[@]} -eq 0 ]; then
  stages=(lint rust c)
fi

for s in "${stages[@]}"; do
  "run_$s"
done

stage "all checks passed"
