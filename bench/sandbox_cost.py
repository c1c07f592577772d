"""What the built-in sandbox costs the shipped binaries: bytes of code and data
by crate, read from the symbol table of an unstripped release build.

    python3 bench/sandbox_cost.py target/release/lib_native.so target/release/libnzpir_node.so

For each library: the stripped size (strip --strip-unneeded, as scripts/dist.sh
ships it), and how many bytes of sized symbols belong to the sandbox and the
crates only it pulls in (nzpir_sandbox, tokio, hyper, hyper_util, tokio_rustls,
rcgen, yasna, h2, http_body*, mio, clap*). A symbol counts for the sandbox
when one of those crates' paths appears in its demangled name (also generic
code instantiated for their types); code inlined into other crates' functions
does not, so this is a lower bound of what leaving the sandbox out would
save, without a second build.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

# Crates only the sandbox brings in (http and httparse also serve ureq).
SANDBOX = {
    "nzpir_sandbox", "tokio", "hyper", "hyper_util", "tokio_rustls", "rcgen", "yasna",
    "h2", "http_body", "http_body_util", "mio", "clap", "clap_builder", "clap_lex",
    "signal_hook_registry", "httpdate",
}
CRATE = re.compile(r"^[<&_\s]*(?:dyn )?(?:impl )?([a-z_][a-z0-9_]*)::")
ANY_SANDBOX = re.compile(r"\b(" + "|".join(sorted(SANDBOX)) + r")::")


def crate_of(name: str) -> str:
    """The sandbox when a sandbox crate's path appears anywhere in the name
    (generic code instantiated for its types counts too), else the first
    crate path; C symbols (aws-lc) have none."""
    if ANY_SANDBOX.search(name):
        m = ANY_SANDBOX.search(name)
        assert m
        return m.group(1)
    m = CRATE.match(name)
    return m.group(1) if m else "(C and other)"


def measure(path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stripped = Path(tmp) / "s.so"
        subprocess.run(["strip", "--strip-unneeded", "-o", str(stripped), str(path)], check=True)
        stripped_size = stripped.stat().st_size
    out = subprocess.run(
        ["nm", "-S", "-C", "--defined-only", str(path)], check=True, capture_output=True, text=True
    ).stdout
    by_crate: Counter[str] = Counter()
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 4 or parts[2].lower() not in "tdbrv":
            continue
        by_crate[crate_of(parts[3])] += int(parts[1], 16)
    total = sum(by_crate.values())
    sandbox = sum(v for k, v in by_crate.items() if k in SANDBOX)
    print(f"{path.name}: {stripped_size / 2**20:.2f} MiB stripped; sized symbols {total / 2**20:.2f} MiB, "
          f"of which sandbox crates {sandbox / 2**20:.2f} MiB ({100 * sandbox / total:.0f} %)")
    for crate, size in by_crate.most_common(12):
        mark = " (sandbox)" if crate in SANDBOX else ""
        print(f"    {crate:24} {size / 2**10:9.0f} KiB{mark}")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        measure(Path(arg))
