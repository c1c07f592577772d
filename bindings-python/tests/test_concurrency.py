"""One client shared by 8 threads: the calls really overlap, because every
network call releases the GIL. A concurrency proof, not a benchmark: the bound
is generous."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import List

import nzpir
from conftest import RATE_28, SCHEME

THREADS = 8
DELAY_MS = 400


def test_eight_threads_overlap(strict: nzpir.Sandbox) -> None:
    client = strict.client()
    client.lookup(RATE_28, pie_ird=SCHEME)  # connect and mint the JWT once
    strict.set_fault("delay", ms=DELAY_MS)  # every PIR request, until cleared

    # Serial: what one call costs with the delay.
    started = time.perf_counter()
    for _ in range(2):
        assert client.lookup(RATE_28, pie_ird=SCHEME).rate == Decimal("28")
    per_call = (time.perf_counter() - started) / 2
    assert per_call >= DELAY_MS / 1000
    serial = THREADS * per_call

    before = strict.calls_for(RATE_28)
    barrier = threading.Barrier(THREADS + 1)
    results: List[object] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        try:
            r: object = client.lookup(RATE_28, pie_ird=SCHEME).rate
        except Exception as e:  # reported below, with the others
            r = e
        with lock:
            results.append(r)

    # A pure-Python thread that only runs while nobody holds the GIL.
    ticks = 0
    stop = threading.Event()

    def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    tick = threading.Thread(target=ticker)
    for t in threads:
        t.start()
    tick.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    stop.set()
    tick.join()

    assert results == [Decimal("28")] * THREADS, results
    assert strict.calls_for(RATE_28) - before == THREADS
    print(f"wall {wall:.3f}s, serial {serial:.3f}s, ticks {ticks}")
    assert wall < 0.6 * serial, f"wall {wall:.3f}s, serial {serial:.3f}s"
    assert ticks > 50, ticks


def test_bulk_validation_from_threads() -> None:
    items = ["49091850", "136410133", "49-091-850", "x"] * 50_000
    expected = nzpir.valid_irds(items)
    out: List[List[bool]] = []

    def work() -> None:
        out.append(nzpir.valid_irds(items))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [expected] * 4
