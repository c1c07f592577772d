"""Certificate lifecycle and doctor from Python, against live sandboxes:
PKCS#12 identities, the identity's expiry, reload after a renewal on disk,
and the doctor's checks."""

from __future__ import annotations

import datetime
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

import nzpir

from conftest import RATE_28, SCHEME


def renew(src: str, dst: Path) -> None:
    """As certbot does: a new file renamed into place."""
    tmp = dst.with_suffix(".tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def statuses(checks: List[nzpir.DoctorCheck]) -> Dict[str, str]:
    return {c.id: c.status for c in checks}


def test_reload_identity_after_a_renewal(fresh: nzpir.Sandbox, tmp_path: Path) -> None:
    m = fresh.manifest
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    shutil.copyfile(fresh.client_cert, cert)
    shutil.copyfile(fresh.client_key, key)
    kw: Dict[str, Any] = fresh.client_kwargs()
    kw.update(cert=str(cert), key=str(key))
    client = nzpir.Client(**kw)
    before = client.identity_thumbprint
    expires = client.identity_expires_at
    assert isinstance(expires, datetime.datetime)
    assert expires.tzinfo is not None
    assert expires > datetime.datetime.now(datetime.timezone.utc)
    assert client.lookup(RATE_28, pie_ird=SCHEME).rate is not None
    assert client.reload_identity() is False  # the same files

    renew(m["renewed_client_key"], key)
    renew(m["renewed_client_cert"], cert)
    assert client.reload_identity() is True
    assert client.identity_thumbprint != before
    assert client.identity_thumbprint == m["thumbprints"].get("renewed_client", client.identity_thumbprint)
    assert str(client.lookup(RATE_28, pie_ird=SCHEME).rate) == "28"

    # Broken files: the error names the setting, the renewed pair stays.
    renewed = client.identity_thumbprint
    cert.write_text(cert.read_text()[:100])
    with pytest.raises(nzpir.ConfigError, match="`cert`"):
        client.reload_identity()
    assert client.identity_thumbprint == renewed
    assert str(client.lookup(RATE_28, pie_ird=SCHEME).rate) == "28"


def test_pkcs12_identity(fresh: nzpir.Sandbox, tmp_path: Path) -> None:
    cert = x509.load_pem_x509_certificate(Path(fresh.client_cert).read_bytes())
    key = serialization.load_pem_private_key(Path(fresh.client_key).read_bytes(), None)
    bundle = tmp_path / "client.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"client",
            key,  # type: ignore[arg-type]
            cert,
            None,
            serialization.BestAvailableEncryption(b"p12-password"),
        )
    )
    kw: Dict[str, Any] = fresh.client_kwargs()
    del kw["cert"], kw["key"]
    client = nzpir.Client(**kw, pkcs12=bundle, pkcs12_password="p12-password")
    assert str(client.lookup(RATE_28, pie_ird=SCHEME).rate) == "28"
    assert client.identity_expires_at == cert.not_valid_after_utc

    with pytest.raises(nzpir.ConfigError) as e:
        nzpir.Client(**kw, pkcs12=bundle, pkcs12_password="wrong")
    assert "`pkcs12_password`" in str(e.value)
    assert "wrong" not in str(e.value).replace("(wrong password", "")


def test_doctor_on_the_sandbox(strict: nzpir.Sandbox) -> None:
    checks = nzpir.doctor(strict.config_path, ird=RATE_28, pie_ird=SCHEME)
    got = statuses(checks)
    assert [c.id for c in checks if c.status == "warn"] == ["client_cert.issuer"], checks
    assert "fail" not in got.values(), checks
    for id_ in ("gateway.tls", "gateway.clock", "gateway.status", "gateway.lookup"):
        assert got[id_] == "ok", checks
    assert all(RATE_28 not in c.detail for c in checks)
    # The same checks from a client's own settings.
    client = strict.client()
    assert statuses(client.doctor()) == {**got, "gateway.lookup": "skip"}


def test_doctor_on_a_mismatched_key(strict: nzpir.Sandbox, tmp_path: Path) -> None:
    m = strict.manifest
    text = Path(strict.config_path).read_text()
    text = text.replace(str(strict.client_key), str(m["renewed_client_key"]))
    config = tmp_path / "nzpir.toml"
    config.write_text(text)
    checks = nzpir.doctor(config)
    bad = [c for c in checks if c.status == "fail"]
    assert [c.id for c in bad] == ["client_cert.key_match"], checks
    assert bad[0].kind == "config"
    assert "does not match" in bad[0].detail
    assert bad[0].action
