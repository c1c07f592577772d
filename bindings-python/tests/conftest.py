"""Shared fixtures: live sandboxes (real HTTPS over mutual TLS, in-process)
and a small raw HTTPS helper for checks that must bypass the client."""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.parse
from typing import Any, Dict, Iterator, Optional, Tuple

import pytest

import nzpir

# The default fixture (sandbox/README.md): the ready configuration's JWT is
# authorised by the KiwiSaver provider, so lookups name its scheme.
SCHEME = "125000002"  # kowhai-scheme (KiwiSaver scheme)
PIE = "130000002"  # tuatara-funds (a PIE)
RATE_28 = "139276507"
RATE_10_5 = "139276310"
RATE_17_5 = "139276272"  # on tuatara-funds' reconciliation return
NOT_FOUND = "049091850"
SOFT_MATCH = "139276329"  # Gary Allen, tied to nobody but by soft matching
NON_MEMBER = "136410132"  # valid, unknown to the fixture


@pytest.fixture(scope="session")
def strict() -> Iterator[nzpir.Sandbox]:
    """A strict sandbox shared by the session (IR003 off: tests repeat IRDs)."""
    with nzpir.Sandbox("strict", ir003_limit=0) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _clean_strict(request: pytest.FixtureRequest) -> Iterator[None]:
    """Faults never leak from one test to the next."""
    yield
    if "strict" in request.fixturenames:
        sb: nzpir.Sandbox = request.getfixturevalue("strict")
        sb.clear_faults()


@pytest.fixture
def fresh() -> Iterator[nzpir.Sandbox]:
    """A strict sandbox of the test's own (counters and quotas from zero)."""
    with nzpir.Sandbox("strict") as sb:
        yield sb


@pytest.fixture(scope="session")
def mock() -> Iterator[nzpir.Sandbox]:
    with nzpir.Sandbox("ir-mock") as sb:
        yield sb


def tls_context(sb: nzpir.Sandbox, client_cert: bool = True) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=sb.ca_cert)
    if client_cert:
        ctx.load_cert_chain(sb.client_cert, sb.client_key)
    return ctx


def https(
    sb: nzpir.Sandbox,
    method: str,
    url: str,
    body: Optional[bytes] = None,
    headers: Optional[Dict[str, str]] = None,
    client_cert: bool = True,
) -> Tuple[int, Dict[str, str], bytes]:
    """One raw HTTPS request (no redirects followed)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPSConnection(
        u.hostname or "", u.port, context=tls_context(sb, client_cert), timeout=10
    )
    try:
        path = u.path + ("?" + u.query if u.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def post_pir(
    sb: nzpir.Sandbox, request: Dict[str, Any], authorization: str
) -> Tuple[int, Any]:
    status, _, body = https(
        sb,
        "POST",
        sb.url + "/gateway/calculators/pir",
        json.dumps(request).encode(),
        {"Content-Type": "application/json", "Authorization": authorization},
    )
    return status, json.loads(body) if body else None
