"""The sandbox handle: lifecycle, manifest and files, faults and counters."""

from __future__ import annotations

import gc
import os
from decimal import Decimal
from pathlib import Path

import pytest

import nzpir
from conftest import RATE_28, RATE_10_5, SCHEME


def test_lifecycle_and_files(tmp_path: Path) -> None:
    with nzpir.Sandbox("strict", pki_dir=tmp_path) as sb:
        assert sb.running and sb.profile == "strict"
        assert sb.url.startswith("https://127.0.0.1:") and sb.oauth_url != sb.url
        assert sb.pki_dir == str(tmp_path.resolve())
        m = sb.manifest
        for key in ("url", "profile", "ca_cert", "client_cert", "client_key", "jwt_rs256_cert",
                    "jwt_rs256_key", "jwt_ec_cert", "jwt_ec_key", "jwt_ec_alg", "config",
                    "parties", "thumbprints", "oauth"):
            assert key in m, key
        assert m["url"] == sb.url and m["config"] == sb.config_path
        for path in (sb.ca_cert, sb.client_cert, sb.client_key, sb.unregistered_client_cert,
                     sb.unregistered_client_key, sb.jwt_rs256_cert, sb.jwt_rs256_key,
                     sb.jwt_ec_cert, sb.jwt_ec_key, sb.config_path, sb.manifest_path):
            assert os.path.isfile(path), path
        assert sb.jwt_ec_alg == "ES256"
        assert sb.url in repr(sb) and "running=True" in repr(sb)
        url = sb.url
    assert not sb.running
    assert not os.path.exists(sb.manifest_path)
    sb.shutdown()  # idempotent
    # Nothing answers at the old address any more.
    with pytest.raises(nzpir.TransportError):
        nzpir.Client(endpoint=url, ca=sb.ca_cert, max_retries=0).status()
    # The PKI folder is reused by the next sandbox (same CA), on a new port.
    with nzpir.Sandbox(pki_dir=tmp_path) as again:
        assert again.manifest["thumbprints"] == sb.manifest["thumbprints"]
        assert again.client().lookup(RATE_28, pie_ird=SCHEME).rate == Decimal("28")


def test_counters_and_faults(fresh: nzpir.Sandbox) -> None:
    client = fresh.client(max_retries=0)
    assert fresh.calls_for(RATE_28) == 0
    client.lookup(RATE_28, pie_ird=SCHEME)
    client.lookup(RATE_10_5, pie_ird=SCHEME)
    assert fresh.calls_for(RATE_28) == 1
    stats = fresh.stats()
    assert stats["pir_requests"] == 2 and stats["pir_responses"] == {"200": 2}
    fresh.set_fault("pir150", times=2)
    fresh.add_fault("delay", ms=10)
    assert [f["kind"] for f in fresh.faults()] == ["pir150", "delay"]
    assert fresh.faults()[0]["times"] == 2
    fresh.set_fault("status", status=502, scope="token")
    assert fresh.faults() == [{"kind": "status", "status": 502, "scope": "token"}]
    fresh.clear_faults()
    assert fresh.faults() == []
    fresh.reset_stats()
    assert fresh.stats()["pir_requests"] == 0 and fresh.calls_for(RATE_28) == 0


def test_clock_offset_moves_jwt_checks(fresh: nzpir.Sandbox) -> None:
    client = fresh.client(max_retries=0)
    fresh.set_clock_offset(2 * 3600)  # the sandbox lives two hours ahead
    with pytest.raises(nzpir.AuthenticationError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    assert info.value.ir_code == "EV1026"
    fresh.set_clock_offset(0)
    assert client.lookup(RATE_28, pie_ird=SCHEME).rate == Decimal("28")


def test_client_overrides(fresh: nzpir.Sandbox) -> None:
    kw = fresh.client_kwargs()
    assert set(kw) == {"endpoint", "cert", "key", "ca", "jwt_cert", "jwt_key", "jwt_alg",
                       "issuer", "jwt_ttl"}
    assert fresh.client().auth == "jwt"
    assert fresh.client(bearer_token="t").auth == "bearer"
    assert fresh.client(timeout=5).lookup(RATE_28, pie_ird=SCHEME).rate == Decimal("28")


def test_a_dropped_sandbox_stops_and_cleans_up() -> None:
    sb = nzpir.Sandbox()
    pki = sb.pki_dir
    client = sb.client(max_retries=0)
    client.status()
    del sb  # no shutdown(), no context manager: freeing it stops the server
    gc.collect()
    assert not os.path.exists(pki)  # its temporary PKI folder is gone too
    with pytest.raises(nzpir.TransportError):
        client.status()
