"""Validate many IRD numbers at once (no network, no sandbox needed).

    python examples/python/validate_irds.py [IRD ...]
"""

from __future__ import annotations

import sys

import nzpir


def main(argv: list[str]) -> int:
    irds = argv or ["49091850", "49-091-850", "136410132", "136410133", "12345", "abc"]
    flags = nzpir.valid_irds(irds)  # one call; the check runs with the GIL released
    for ird, ok in zip(irds, flags):
        if ok:
            print(f"{ird!r}: valid, wire form {nzpir.normalise_ird(ird)}")
        else:
            try:
                nzpir.normalise_ird(ird)
            except nzpir.InvalidIrdError as e:
                print(f"{ird!r}: invalid ({e.reason}: {e.errors[0]['message']})")
    return 0 if all(flags) or not argv else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
