"""nzpir: a client for Inland Revenue's PIR gateway service.

Ask IR for an investor's suggested Prescribed Investor Rate (10.5, 17.5 or
28 %) over mutual TLS, authenticated by an M2M JWT, a bearer token or OAuth;
validate IRD numbers; and run a local sandbox that behaves like IR for tests.

    import nzpir

    with nzpir.Sandbox() as sb:
        client = sb.client()
        result = client.lookup("139276507", pie_ird="125000002")
        print(result.rate)  # Decimal('28')

Every network call releases the GIL, so one ``Client`` can be shared by many
threads. Errors are subclasses of ``NzpirError``. Logs go to the ``nzpir``
logger of the standard ``logging`` module (which has only a ``NullHandler``
of its own: configure ``logging`` to see them) and never contain IRD
numbers, names, dates of birth, tokens or keys.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Dict, Optional, Protocol

from . import _native

from ._native import (
    Address,
    BatchProgress,
    LookupManyIterator,
    AuthenticationError,
    AuthorisationError,
    AuthorizationRequest,
    Client,
    ConfigError,
    ConsentRequiredError,
    DoctorCheck,
    GatewayTimeoutError,
    InvalidInputError,
    InvalidIrdError,
    LookupResult,
    Name,
    NzpirError,
    OAuth,
    PirEstimate,
    RateLimitedError,
    RejectedError,
    Sandbox,
    SandboxError,
    ServerError,
    TlsError,
    TokenSet,
    TokenStoreError,
    TransportError,
    __version__,
    doctor,
    estimate_pir,
    is_valid_ird,
    mint_jwt,
    normalise_ird,
    normalize_ird,
    valid_irds,
)


# As libraries do: the `nzpir` logger has a handler that drops records, so
# a program that never configures `logging` sees nothing on stderr (Python's
# last-resort handler stays silent); one that configures it gets every record
# through its own handlers, as before.
logging.getLogger("nzpir").addHandler(logging.NullHandler())

# A forked child (multiprocessing's fork start method, gunicorn or Celery
# prefork) must never write on a TLS connection its parent opened: the core
# notices a fork by the process id, and this tells it at once.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_native._after_fork_in_child)


class TokenStore(Protocol):
    """Where OAuth tokens live between calls and processes.

    Any object with these two methods can be a ``Client``'s ``token_store``.
    IR's refresh tokens are single-use, so ``save`` must be durable before it
    returns: the client uses a new access token only after it was saved.
    Exceptions raised here reach the caller as ``TokenStoreError`` (with the
    original exception as ``__cause__``).
    """

    def load(self) -> Optional[Dict[str, Any]]:
        """The stored tokens, or ``None`` when nothing was stored yet.

        The dict has ``access_token`` (str), ``expires_at`` (int, seconds
        since the epoch), and optionally ``refresh_token`` and ``scope``.
        """
        ...

    def save(self, tokens: Dict[str, Any]) -> None:
        """Replaces the stored tokens (a dict as ``load`` returns), durably."""
        ...


from ._aio import AsyncClient  # noqa: E402  (after the names it uses)

__all__ = [
    "Address",
    "AsyncClient",
    "BatchProgress",
    "LookupManyIterator",
    "AuthenticationError",
    "AuthorisationError",
    "AuthorizationRequest",
    "Client",
    "ConfigError",
    "DoctorCheck",
    "ConsentRequiredError",
    "GatewayTimeoutError",
    "InvalidInputError",
    "InvalidIrdError",
    "LookupResult",
    "Name",
    "NzpirError",
    "OAuth",
    "PirEstimate",
    "RateLimitedError",
    "RejectedError",
    "Sandbox",
    "SandboxError",
    "ServerError",
    "TlsError",
    "TokenSet",
    "TokenStore",
    "TokenStoreError",
    "TransportError",
    "__version__",
    "doctor",
    "estimate_pir",
    "is_valid_ird",
    "mint_jwt",
    "normalise_ird",
    "normalize_ird",
    "valid_irds",
]
