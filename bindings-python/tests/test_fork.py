"""Forked processes: a client made (and used) before a fork must never write
on its parent's TLS connection in the child. Real forks against a live
sandbox, which counts the TLS connections it accepts."""

from __future__ import annotations

import multiprocessing
import os
import traceback
from decimal import Decimal
from typing import Callable, Iterator, List, Optional

import pytest

import nzpir
from conftest import RATE_28, SCHEME

_client: Optional[nzpir.Client] = None


@pytest.fixture
def fresh() -> Iterator[nzpir.Sandbox]:
    """A sandbox of the test's own, its connection count from zero (IR003
    off: the tests repeat one investor)."""
    with nzpir.Sandbox("strict", ir003_limit=0) as sb:
        yield sb


def _lookup_in_worker(_: int) -> str:
    assert _client is not None
    return str(_client.lookup(RATE_28, pie_ird=SCHEME).rate)


def _in_child(work: Callable[[], None]) -> int:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            work()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_forked_child_opens_its_own_connection(fresh: nzpir.Sandbox) -> None:
    client = fresh.client(max_retries=0)
    assert client.lookup(RATE_28, pie_ird=SCHEME).rate == Decimal("28")
    before = fresh.stats()["connections"]

    def child() -> None:
        for _ in range(3):
            assert client.lookup(RATE_28, pie_ird=SCHEME).rate == Decimal("28")

    assert _in_child(child) == 0
    # The child made one connection of its own and never used the inherited one.
    assert fresh.stats()["connections"] == before + 1
    # The parent's kept-alive connection is intact: its keys and sequence
    # numbers were never used by anyone else.
    for _ in range(3):
        assert client.lookup(RATE_28, pie_ird=SCHEME).rate == Decimal("28")
    assert fresh.stats()["connections"] == before + 1


def test_parent_and_children_at_once(fresh: nzpir.Sandbox) -> None:
    client = fresh.client(max_retries=0)
    assert client.lookup(RATE_28, pie_ird=SCHEME).rate == Decimal("28")
    before = fresh.stats()["connections"]
    pids: List[int] = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for _ in range(20):
                    client.lookup(RATE_28, pie_ird=SCHEME)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        pids.append(pid)
    for _ in range(20):
        assert client.lookup(RATE_28, pie_ird=SCHEME).rate == Decimal("28")
    codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]
    assert codes == [0, 0, 0]
    # One new connection per child; the parent kept its own throughout.
    assert fresh.stats()["connections"] == before + 3


def test_multiprocessing_with_the_fork_start_method(fresh: nzpir.Sandbox) -> None:
    global _client
    _client = fresh.client(max_retries=0)
    try:
        assert _client.lookup(RATE_28, pie_ird=SCHEME).rate == Decimal("28")
        before = fresh.stats()["connections"]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(3) as pool:
            rates = pool.map(_lookup_in_worker, range(12))
        assert rates == ["28"] * 12
        # Every worker that did a lookup opened its own connection.
        after = fresh.stats()["connections"]
        assert before + 1 <= after <= before + 3
        assert _client.lookup(RATE_28, pie_ird=SCHEME).rate == Decimal("28")
    finally:
        _client = None
