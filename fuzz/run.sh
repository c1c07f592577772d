#!/usr/bin/env bash
# Runs every fuzz target for a set time, one after another, at the lowest
# CPU priority. Not part of CI (see README.md).
#
#   fuzz/run.sh            600 s per target
#   fuzz/run.sh 60         60 s per target
#   fuzz/run.sh 60 ffi ird only these targets
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). cargo-fuzz passes
# nightly-only flags (-Z sanitizer, -C passes=sancov); on a stable toolchain
# RUSTC_BOOTSTRAP=1 allows them. Corpora grow in fuzz/corpus/<target> (seeded
# from fuzz/seeds/<target>), crashes land in fuzz/artifacts/<target>, and each
# run's log in fuzz/target/logs/<target>.log; all three are ignored by git.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(request response config ffi ird oauth)
fi

export RUSTC_BOOTSTRAP="${RUSTC_BOOTSTRAP:-1}"
# Debug assertions on (-a): integer overflow is a finding too.
build_flags=(--debug-assertions)

nice -n 19 cargo fuzz build "${build_flags[@]}"
mkdir -p target/logs
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  printf '\n==> %s for %s s\n' "$t" "$seconds"
  # -timeout: no single input may take more than 10 s; -rss_limit_mb: 2 GiB.
  if ! nice -n 19 cargo fuzz run "${build_flags[@]}" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 >"target/logs/$t.log" 2>&1; then
    status=1
    printf '%s: FAILED; see fuzz/target/logs/%s.log and fuzz/artifacts/%s\n' "$t" "$t" "$t"
  fi
  grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
    "target/logs/$t.log" || true
  grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+' "target/logs/$t.log" | tail -1 || true
done
exit $status
