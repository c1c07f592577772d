"""One client shared by a thread pool: lookups run in parallel because every
call releases the GIL.

    python examples/python/threads.py
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Optional, Tuple

import nzpir

SCHEME = "125000002"
INVESTORS = ["139276507", "139276310", "139439976", "049091850"] * 4


def main() -> None:
    with nzpir.Sandbox() as sb:
        client = sb.client()
        sb.set_fault("delay", ms=200)  # make every answer take 200 ms

        def one(ird: str) -> Tuple[str, Optional[Decimal]]:
            return ird, client.lookup(ird, pie_ird=SCHEME).rate

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(one, INVESTORS))
        wall = time.perf_counter() - started
        for ird, rate in results[:4]:
            print(f"{ird}: {rate if rate is not None else 'no rate'}")
        print(f"{len(results)} lookups of 200 ms each in {wall:.2f} s on 8 threads")


if __name__ == "__main__":
    main()
