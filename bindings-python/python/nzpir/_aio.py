"""``nzpir.AsyncClient``: awaitable lookups that never block the event loop.

Every call runs the blocking ``Client`` call (which releases the GIL) on a
worker thread and resolves an asyncio future from it through
``loop.call_soon_threadsafe``, so the event loop keeps running while IR
answers.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import (
    Any,
    Callable,
    Iterable,
    List,
    Mapping,
    Optional,
    TypeVar,
    Union,
)

from ._native import BatchProgress, Client, LookupResult, NzpirError

_T = TypeVar("_T")
_StrPath = Union[str, "os.PathLike[str]"]


def _settle(fut: "asyncio.Future[_T]", ok: bool, value: Any) -> None:
    if fut.done():  # cancelled while the call ran
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


def _in_thread(
    loop: asyncio.AbstractEventLoop, call: Callable[[], _T]
) -> "asyncio.Future[_T]":
    """Runs ``call`` on a thread of its own; the future settles on ``loop``."""
    fut: "asyncio.Future[_T]" = loop.create_future()

    def work() -> None:
        try:
            value: Any = call()
            ok = True
        except BaseException as e:  # handed to the awaiting task
            value, ok = e, False
        try:
            loop.call_soon_threadsafe(_settle, fut, ok, value)
        except RuntimeError:  # the loop was closed meanwhile: nobody waits
            pass

    threading.Thread(target=work, name="nzpir-async", daemon=True).start()
    return fut


class AsyncClient:
    """A ``Client`` whose calls are awaitable and never block the event loop.

    Build it like a ``Client`` (the same keyword arguments), from the same
    TOML file (``AsyncClient.from_config``), or around an existing client
    (``AsyncClient(client=...)``). Share one between tasks.

        async def main(client: nzpir.Client) -> None:
            ac = nzpir.AsyncClient(client=client)
            result = await ac.lookup("139276507", pie_ird="125000002")
            results = await ac.lookup_many(rows, concurrency=8)

    Cancelling a task that awaits ``lookup_many`` stops the run (no new
    lookup starts); a single ``lookup`` already on the wire finishes on its
    thread and its result is dropped.
    """

    def __init__(self, *, client: Optional[Client] = None, **settings: Any) -> None:
        if client is not None and settings:
            raise TypeError("AsyncClient: give either client= or Client settings, not both")
        if client is not None and not isinstance(client, Client):
            raise TypeError(
                f"client: expected nzpir.Client, got {type(client).__name__}"
            )
        self._client: Client = client if client is not None else Client(**settings)

    @classmethod
    def from_config(
        cls, path: _StrPath, *, token_store: Any = None
    ) -> "AsyncClient":
        """An async client from the TOML configuration file."""
        return cls(client=Client.from_config(path, token_store=token_store))

    @property
    def client(self) -> Client:
        """The blocking client underneath."""
        return self._client

    async def lookup(self, ird: str, **request: Any) -> LookupResult:
        """``Client.lookup``, awaitable (the same arguments)."""
        loop = asyncio.get_running_loop()
        client = self._client
        return await _in_thread(loop, lambda: client.lookup(ird, **request))

    async def status(self) -> None:
        """``Client.status``, awaitable."""
        loop = asyncio.get_running_loop()
        await _in_thread(loop, self._client.status)

    async def lookup_many(
        self,
        requests: Iterable[Mapping[str, Any]],
        *,
        concurrency: int = 4,
        max_rps: Optional[float] = None,
        journal: Optional[_StrPath] = None,
        on_progress: Optional[Callable[[BatchProgress], object]] = None,
    ) -> List[Union[LookupResult, NzpirError]]:
        """``Client.lookup_many``, awaitable. ``on_progress`` is called on
        the event loop's thread. Cancelling the awaiting task stops the run."""
        loop = asyncio.get_running_loop()
        if on_progress is None:
            relay: Optional[Callable[[BatchProgress], object]] = None
        else:
            callback = on_progress

            def relay(p: BatchProgress) -> None:
                loop.call_soon_threadsafe(callback, p)

        # Settings are checked here, on the loop's thread; a request of a
        # wrong type raises TypeError (naming its index and field) once the
        # run reaches it.
        items = requests if isinstance(requests, list) else list(requests)
        run = self._client.iter_lookup_many(
            items,
            concurrency=concurrency,
            max_rps=max_rps,
            journal=journal,
            on_progress=relay,
        )
        try:
            return await _in_thread(loop, lambda: list(run))
        except asyncio.CancelledError:
            run.close()
            raise
