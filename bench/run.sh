#!/usr/bin/env bash
# nzpir against what users would use instead, in one command. It sets up its
# peers itself (release builds of libnzpir, the CLI, the sandbox and a small
# Rust bench binary; a venv with requests, PyJWT, cryptography, python-stdnum
# and the nzpir package; node_modules with jsonwebtoken,
# @fnzc/nz-ird-validator and the nzpir package; nginx from Debian), starts
# nginx and the sandbox on loopback, and prints a table of figures and ratios
# measured in the same run. See bench/README.md.
#
#   bench/run.sh                       every section (about 8 minutes once built)
#   bench/run.sh ird jwt               some sections: ird lookup fresh jwt batch memory
#   bench/run.sh --rounds 5 --secs 4   more and longer rounds (default 3 rounds of 3 s)
#
# Not part of CI. Everything it makes goes under target/ (target/bench/).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="$root/target"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
work="$CARGO_TARGET_DIR/bench"
venv="$work/venv"
mkdir -p "$work"

step() { printf '==> %s\n' "$*" >&2; }
started=$SECONDS

for tool in cargo python3 node npm cc strip; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "nginx from Debian (apt-get install nginx-light)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null; }
  else
    echo "bench: nginx is required (Debian: apt-get install nginx-light)" >&2
    exit 2
  fi
fi

step "release builds: libnzpir, nzpir, nzpir-sandbox, nzpir-bench"
cargo build --release --locked -q -p nzpir-ffi -p nzpir-cli -p nzpir-sandbox
cargo build --release --locked -q --manifest-path bench/rust/Cargo.toml

step "C bench program over libnzpir.so"
scripts/install-c.sh --prefix "$work/c-prefix" --profile release --no-build >/dev/null
cc -O2 -std=c11 -Wall -Wextra -Werror -Iinclude bench/c/bench.c \
  -L"$work/c-prefix/lib" -lnzpir -Wl,-rpath,"$work/c-prefix/lib" \
  -o "$work/c-bench"

step "Python venv: the peers and the nzpir package (release)"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r bench/requirements.txt
# No build isolation: maturin comes from the requirements, and the build uses
# the shared target directory (an unchanged core is not compiled again).
PATH="$venv/bin:$PATH" MATURIN_PEP517_ARGS="" "$venv/bin/python" -m pip install -q \
  --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps ./bindings-python

step "node_modules: the peers and the nzpir package (release)"
export NZPIR_NODE_PROFILE=release
(cd bench/node && npm install --no-audit --no-fund --strict-allow-scripts --loglevel=error)
# npm runs the package's install script only when it (re)installs it: build
# the native module again so that a changed core is always measured.
node bindings-node/scripts/install.js --profile release --no-types >/dev/null

step "set up in $((SECONDS - started)) s; measuring"
exec "$venv/bin/python" bench/driver.py "$@"
