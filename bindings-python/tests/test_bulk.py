"""Client.lookup_many, iter_lookup_many and AsyncClient against live
sandboxes: order, per-item errors, de-duplication, the journal, Ctrl-C, and
an event loop that keeps running while IR answers."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Union

import pytest

import nzpir
from conftest import NON_MEMBER, NOT_FOUND, RATE_10_5, RATE_28, SCHEME

Result = Union[nzpir.LookupResult, nzpir.NzpirError]


def distinct_irds(n: int, start: int = 20_000_000) -> List[str]:
    """``n`` valid IRD numbers unknown to the fixture (each a real lookup
    that IR answers with EV1043)."""
    out: List[str] = []
    base = start
    while len(out) < n:
        cands = [str(v) for v in range(base, base + 1000)]
        out.extend(c for c, ok in zip(cands, nzpir.valid_irds(cands)) if ok)
        base += 1000
    return out[:n]


@pytest.fixture(autouse=True)
def _journal_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Journal keys of the test's own, never the user's."""
    monkeypatch.setenv("NZPIR_JOURNAL_KEY", str(tmp_path / "keys" / "journal.key"))


def test_a_few_thousand_in_input_order_with_per_item_errors(
    fresh: nzpir.Sandbox,
) -> None:
    client = fresh.client()
    unknown = distinct_irds(2000)
    requests: List[Mapping[str, Any]] = []
    for i, ird in enumerate(unknown):
        requests.append({"ird": ird, "pie_ird": SCHEME})
        if i % 100 == 0:
            requests.append({"ird": RATE_28, "pie_ird": SCHEME})
            requests.append({"ird": "136410133", "pie_ird": SCHEME})  # check digit
            requests.append({"ird": RATE_10_5, "pie_ird": SCHEME, "dob": None})
            requests.append({"ird": NOT_FOUND, "pie_ird": SCHEME, "filing_period": float("nan")})
    seen: List[nzpir.BatchProgress] = []
    caller = threading.get_ident()
    threads: List[int] = []

    def progress(p: nzpir.BatchProgress) -> None:
        threads.append(threading.get_ident())
        seen.append(p)

    results = client.lookup_many(requests, concurrency=8, on_progress=progress)
    assert len(results) == len(requests)
    for req, res in zip(requests, results):
        ird = req["ird"]
        if ird == RATE_28:
            assert isinstance(res, nzpir.LookupResult) and res.rate == Decimal("28")
            assert res.ird == RATE_28 and res.pie_ird == SCHEME
        elif ird == RATE_10_5:
            assert isinstance(res, nzpir.LookupResult) and res.rate == Decimal("10.5")
        elif ird == NOT_FOUND:
            assert isinstance(res, nzpir.LookupResult) and res.not_found
        elif ird == "136410133":
            assert isinstance(res, nzpir.InvalidIrdError)
            assert res.reason == "ird_check_digit" and "136410133" not in str(res)
        else:
            assert isinstance(res, nzpir.AuthorisationError), res
            assert res.ir_code == "EV1043" and res.http_status == 401
            assert ird not in str(res)
    # Identical requests once; the invalid one never.
    assert fresh.calls_for(RATE_28) == 1
    assert fresh.calls_for("136410133") == 0
    assert fresh.stats()["pir_requests"] == 2000 + 3
    # Progress on the caller's thread, ending with everything done.
    assert set(threads) == {caller}
    assert seen[-1].done == seen[-1].total == len(requests)
    assert seen[-1].lookups == 2003


def test_wrong_types_raise_type_error_naming_index_and_field(
    strict: nzpir.Sandbox,
) -> None:
    client = strict.client()
    before = strict.stats()["pir_requests"]
    ok = {"ird": RATE_28, "pie_ird": SCHEME}
    cases: List[Any] = [
        ([ok, {"ird": 139276507}], "requests[1].ird"),
        ([ok, ok, "139276507"], "requests[2]"),
        ([{"ird": RATE_28, "pie_irdd": SCHEME}], "requests[0]: unknown key 'pie_irdd'"),
        ([{"ird": RATE_28, "name": ["Ann"]}], "requests[0].name"),
        ([{"ird": RATE_28, "dob": 19900102}], "requests[0].dob"),
    ]
    for requests, where in cases:
        with pytest.raises(TypeError) as e:
            client.lookup_many(requests)
        assert where in str(e.value)
        assert "139276507" not in str(e.value)
    for bad in [0.0, -1.0, float("nan"), float("inf"), 1e12]:
        with pytest.raises(ValueError, match="max_rps"):
            client.lookup_many([ok], max_rps=bad)
    for c in [0, 257, -3]:
        with pytest.raises(ValueError, match="concurrency"):
            client.lookup_many([ok], concurrency=c)
    assert strict.stats()["pir_requests"] == before, "nothing was sent"


def test_iter_lookup_many_reads_the_input_as_it_goes(strict: nzpir.Sandbox) -> None:
    client = strict.client()
    pulled = 0
    irds = [RATE_28, RATE_10_5, NOT_FOUND, NON_MEMBER] * 2500

    def requests() -> Iterator[Dict[str, str]]:
        nonlocal pulled
        for ird in irds:
            pulled += 1
            yield {"ird": ird, "pie_ird": SCHEME}

    it = client.iter_lookup_many(requests(), concurrency=2)
    first = next(it)
    assert isinstance(first, nzpir.LookupResult) and first.rate == Decimal("28")
    assert pulled < len(irds), "a window ahead, not the whole input"
    rest = list(it)
    assert len(rest) == len(irds) - 1
    rates = [r.rate if isinstance(r, nzpir.LookupResult) else r.ir_code for r in rest[:3]]
    assert rates == [Decimal("10.5"), None, "EV1043"]
    # A wrong type ends the run with TypeError once it is reached.
    bad: List[Any] = [{"ird": RATE_28, "pie_ird": SCHEME}, 42]
    it = client.iter_lookup_many(bad)
    assert isinstance(next(it), nzpir.LookupResult)
    with pytest.raises(TypeError, match=r"requests\[1\]"):
        next(it)


def test_journal_resumes_without_repeating_a_lookup(
    fresh: nzpir.Sandbox, tmp_path: Path
) -> None:
    client = fresh.client()
    journal = tmp_path / "run.journal"
    requests = [{"ird": ird, "pie_ird": SCHEME} for ird in distinct_irds(50)]
    requests.append({"ird": RATE_28, "pie_ird": SCHEME})
    first = client.lookup_many(requests, journal=journal)
    assert stat.S_IMODE(os.stat(journal).st_mode) == 0o600
    assert RATE_28 not in journal.read_text()
    calls = fresh.stats()["pir_requests"]
    assert calls == 51
    progress: List[nzpir.BatchProgress] = []
    again = client.lookup_many(requests, journal=str(journal), on_progress=progress.append)
    assert fresh.stats()["pir_requests"] == calls, "every answer came from the journal"
    assert progress[-1].resumed == 51
    assert [type(r) for r in again] == [type(r) for r in first]
    last = again[-1]
    assert isinstance(last, nzpir.LookupResult) and last.rate == Decimal("28")
    failed = again[0]
    assert isinstance(failed, nzpir.AuthorisationError) and failed.ir_code == "EV1043"


def test_ctrl_c_stops_the_run_and_raises_keyboard_interrupt(
    fresh: nzpir.Sandbox,
) -> None:
    client = fresh.client()
    requests = [{"ird": ird, "pie_ird": SCHEME} for ird in distinct_irds(400)]
    fresh.set_fault("delay", ms=200)
    main = threading.get_ident()

    def interrupt() -> None:
        time.sleep(0.5)
        signal.pthread_kill(main, signal.SIGINT)

    t = threading.Thread(target=interrupt)
    t.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        client.lookup_many(requests, concurrency=2)
    stopped_after = time.monotonic() - started
    t.join()
    # Lookups already on the wire finish; no new one starts.
    time.sleep(0.5)
    calls = fresh.stats()["pir_requests"]
    time.sleep(0.6)
    assert fresh.stats()["pir_requests"] == calls
    assert calls < 20, calls
    # Reported for the record, not asserted: it is about 0.5 s here.
    print(f"KeyboardInterrupt after {stopped_after:.2f} s")


def test_close_stops_an_iterator_from_another_thread(fresh: nzpir.Sandbox) -> None:
    client = fresh.client()
    requests = [{"ird": ird, "pie_ird": SCHEME} for ird in distinct_irds(200)]
    fresh.set_fault("delay", ms=100)
    it = client.iter_lookup_many(requests, concurrency=2)
    got: List[Result] = []
    timer = threading.Timer(0.4, it.close)
    timer.start()
    for r in it:
        got.append(r)
    timer.join()
    assert 0 < len(got) < 200


def test_async_lookup_never_blocks_the_event_loop(strict: nzpir.Sandbox) -> None:
    ac = nzpir.AsyncClient(client=strict.client())

    async def main() -> int:
        await ac.lookup(RATE_28, pie_ird=SCHEME)  # connect and mint the JWT once
        strict.set_fault("delay", ms=500, times=1)
        ticks = 0
        done = False

        async def ticker() -> None:
            nonlocal ticks
            while not done:
                ticks += 1
                await asyncio.sleep(0.01)

        tick = asyncio.create_task(ticker())
        result = await ac.lookup(RATE_28, pie_ird=SCHEME)
        done = True
        await tick
        assert result.rate == Decimal("28")
        return ticks

    ticks = asyncio.run(main())
    # 500 ms of waiting at 10 ms a tick: a blocked loop would tick once or twice.
    assert ticks >= 20, ticks


def test_async_lookup_many_in_order_with_progress_on_the_loop(
    strict: nzpir.Sandbox,
) -> None:
    ac = nzpir.AsyncClient(client=strict.client())
    requests = [
        {"ird": RATE_28, "pie_ird": SCHEME},
        {"ird": "136410133"},
        {"ird": NOT_FOUND, "pie_ird": SCHEME},
    ] * 50

    async def main() -> List[Result]:
        loop_thread = threading.get_ident()
        on_loop: List[bool] = []
        ticks = 0
        done = False

        async def ticker() -> None:
            nonlocal ticks
            while not done:
                ticks += 1
                await asyncio.sleep(0.005)

        tick = asyncio.create_task(ticker())
        strict.set_fault("delay", ms=300, times=1)
        out = await ac.lookup_many(
            requests, on_progress=lambda p: on_loop.append(threading.get_ident() == loop_thread)
        )
        await asyncio.sleep(0)  # let the last progress callback run
        done = True
        await tick
        assert on_loop and all(on_loop)
        assert ticks >= 10, ticks
        return out

    out = asyncio.run(main())
    assert len(out) == 150
    assert isinstance(out[0], nzpir.LookupResult) and out[0].rate == Decimal("28")
    assert isinstance(out[1], nzpir.InvalidIrdError)
    assert isinstance(out[149], nzpir.LookupResult) and out[149].not_found


def test_async_lookup_many_cancelled_stops_the_run(fresh: nzpir.Sandbox) -> None:
    ac = nzpir.AsyncClient(client=fresh.client())
    requests = [{"ird": ird, "pie_ird": SCHEME} for ird in distinct_irds(300)]
    fresh.set_fault("delay", ms=100)

    async def main() -> None:
        task = asyncio.create_task(ac.lookup_many(requests, concurrency=2))
        await asyncio.sleep(0.4)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    time.sleep(0.3)
    calls = fresh.stats()["pir_requests"]
    time.sleep(0.4)
    assert fresh.stats()["pir_requests"] == calls
    assert calls < 300


def test_a_gateway_rate_limit_is_waited_out(fresh: nzpir.Sandbox) -> None:
    """A gateway's 429 with Retry-After: one lookup reports it (retryable,
    with the status); a bulk run pauses and then answers every row."""
    client = fresh.client(max_retries=0)
    fresh.set_fault("too_many_requests", secs=1, times=1)
    with pytest.raises(nzpir.RateLimitedError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    assert info.value.http_status == 429
    assert info.value.ir_code is None

    fresh.set_fault("too_many_requests", secs=1, times=2)
    started = time.monotonic()
    results = client.lookup_many(
        [{"ird": i, "pie_ird": SCHEME} for i in (RATE_28, RATE_10_5)], concurrency=2
    )
    assert [str(r.rate) for r in results if isinstance(r, nzpir.LookupResult)] == ["28", "10.5"]
    assert time.monotonic() - started >= 0.9, "waited as the gateway asked"
    assert fresh.stats()["pir_responses"]["429"] == 3
    with pytest.raises(ValueError, match="secs"):
        fresh.set_fault("too_many_requests", secs=-1)
