#!/usr/bin/env bash
# Peak memory of `nzpir batch` against the register's size: the same run over
# registers of different lengths, each row a real lookup or a de-duplicated
# one, against a local `nzpir sandbox` (strict profile, IR003 quota off).
# Peak RSS is the kernel's VmHWM, read by /usr/bin/time -v.
#
#   bench/batch_memory.sh [--profile debug|release] ROWS:DISTINCT ...
#   bench/batch_memory.sh 100000:20000 1000000:20000 100000:100000
#
# ROWS is the register's length; DISTINCT how many different investors it
# names (rows cycle over them, so ROWS - DISTINCT rows repeat one seen
# earlier; the runner answers a repeat from its bounded memory of recent
# answers only when it is recent enough, else it looks it up again). Each row
# is about 54 bytes, as a member register with a member number, an IRD
# number, the scheme's IRD number, two names and a note. Every investor is
# unknown to the sandbox's fixture, so IR's answer is EV1043: a whole mutual
# TLS + JWT round trip each, and a line in the journal.
#
# Not part of CI. Runs at nice 10; everything goes under target/bench-memory.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
profile=debug
if [ "${1:-}" = "--profile" ]; then
  profile="$2"
  shift 2
fi
[ $# -gt 0 ] || set -- 100000:20000 1000000:20000
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
case "$profile" in
  debug) bin="$CARGO_TARGET_DIR/debug"; cargo build -q -p nzpir-cli ;;
  release) bin="$CARGO_TARGET_DIR/release"; cargo build -q --release -p nzpir-cli ;;
  *) echo "profile: debug or release" >&2; exit 2 ;;
esac
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 2; }
work="$CARGO_TARGET_DIR/bench-memory"
rm -rf "$work"
mkdir -p "$work"

"$bin/nzpir" sandbox --pki-dir "$work/pki" --ir003-limit 0 >"$work/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true; wait $sandbox 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  [ -f "$work/pki/nzpir.toml" ] && break
  sleep 0.1
done
[ -f "$work/pki/nzpir.toml" ] || { cat "$work/sandbox.log" >&2; exit 1; }

# Valid IRD numbers (modulus 11, IR's weights) from 20,000,000 up.
make_register() {
  python3 - "$1" "$2" "$3" <<'EOF'
import sys
rows, distinct, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
W1 = (3, 2, 7, 6, 5, 4, 3, 2)
W2 = (7, 4, 3, 2, 5, 2, 7, 6)
def valid(n):
    d = [int(c) for c in f"{n:09d}"]
    body, check = d[:8], d[8]
    for w in (W1, W2):
        r = sum(a * b for a, b in zip(body, w)) % 11
        c = 0 if r == 0 else 11 - r
        if c != 10:
            return c == check
    return False
irds, n = [], 20_000_000
while len(irds) < distinct:
    if valid(n):
        irds.append(f"{n:09d}")
    n += 1
with open(path, "w") as f:
    f.write("MemberNo,IRD,PieIRD,FirstName,LastName,Note\n")
    for i in range(rows):
        f.write(f"M{i:07d},{irds[i % distinct]},125000002,Aroha,Ngata,kiwisaver-1\n")
EOF
}

printf '| rows | distinct investors | file | lookups | peak RSS | wall time | rows/s |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|\n'
for spec in "$@"; do
  rows="${spec%%:*}"
  distinct="${spec##*:}"
  reg="$work/register-$rows-$distinct.csv"
  make_register "$rows" "$distinct" "$reg"
  out="$work/out-$rows-$distinct.csv"
  export NZPIR_JOURNAL_KEY="$work/journal.key"
  started=$(date +%s.%N)
  nice -n 10 /usr/bin/time -v "$bin/nzpir" batch "$reg" --out "$out" \
    --config "$work/pki/nzpir.toml" --concurrency 16 --progress none \
    >"$work/batch.log" 2>"$work/time-$rows-$distinct.log" || true
  ended=$(date +%s.%N)
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time-$rows-$distinct.log")
  lookups=$(grep -o '[0-9]* looked up' "$work/time-$rows-$distinct.log" | awk '{print $1}')
  written=$(($(wc -l <"$out") - 1))
  [ "$written" = "$rows" ] || { echo "wrote $written rows of $rows" >&2; exit 1; }
  secs=$(python3 -c "print(f'{$ended - $started:.1f}')")
  rate=$(python3 -c "print(f'{$rows / ($ended - $started):,.0f}')")
  size=$(python3 -c "import os; print(f'{os.path.getsize(\"$reg\") / 1e6:.1f} MB')")
  printf '| %s | %s | %s | %s | %.1f MiB | %s s | %s |\n' \
    "$rows" "$distinct" "$size" "$lookups" \
    "$(python3 -c "print($rss_kb / 1024)")" "$secs" "$rate"
  rm -f "$reg" "$out"
done
