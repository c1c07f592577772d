"""The M2M JWT: minted as the client mints it, verified independently with
PyJWT against the signing certificate's public key, and accepted by the
sandbox when sent by another HTTP stack."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Tuple

import jwt as pyjwt
import pytest
from cryptography import x509

import nzpir
from conftest import RATE_28, SCHEME, post_pir


def public_key(cert_path: str) -> Any:
    with open(cert_path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read()).public_key()


def verify(token: str, cert_path: str, alg: str) -> Dict[str, Any]:
    header = pyjwt.get_unverified_header(token)
    assert header == {"alg": alg, "typ": "JWT", "kid": "M2M"}
    claims: Dict[str, Any] = pyjwt.decode(
        token,
        public_key(cert_path),
        algorithms=[alg],
        options={"require": ["iss", "sub", "iat", "exp"]},
    )
    return claims


def test_rs256_jwt_verifies_and_the_sandbox_accepts_it(strict: nzpir.Sandbox) -> None:
    kw = strict.client_kwargs()
    token = nzpir.mint_jwt(
        kw["jwt_cert"], kw["jwt_key"], issuer=kw["issuer"], alg=kw["jwt_alg"], ttl=kw["jwt_ttl"]
    )
    claims = verify(token, strict.jwt_rs256_cert, "RS256")
    manifest = strict.manifest
    assert claims["iss"] == kw["issuer"]
    assert claims["sub"] == manifest["thumbprints"]["jwt_rs256"]
    # No logon: `null`, as IR's build packs say.
    assert claims["startLogon"] is None
    assert claims["exp"] - claims["iat"] == kw["jwt_ttl"] == 300
    assert claims["iat"] <= time.time() < claims["exp"]

    # Sent by Python's own HTTP stack over mutual TLS, the sandbox takes it.
    status, body = post_pir(strict, {"IRD": RATE_28, "PieIRD": SCHEME}, token)
    assert (status, body["SuggestedPirRate"]) == (200, 28)
    # The sandbox checks signatures, so that acceptance means something.
    head, payload, sig = token.split(".")
    forged = f"{head}.{payload}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"
    status, body = post_pir(strict, {"IRD": RATE_28, "PieIRD": SCHEME}, forged)
    assert (status, body["errors"][0]["code"]) == (401, "EV1028")
    # And the client built from the same settings gets the same answer.
    assert strict.client().lookup(RATE_28, pie_ird=SCHEME).rate == 28


def test_es256_jwt_with_a_start_logon(strict: nzpir.Sandbox) -> None:
    with open(strict.jwt_ec_cert, "rb") as c, open(strict.jwt_ec_key, "rb") as k:
        cert, key = c.read(), k.read()
    token = nzpir.mint_jwt(cert, key, issuer="Harakeke Admin", alg=strict.jwt_ec_alg, start_logon="kowhai.ops")
    claims = verify(token, strict.jwt_ec_cert, "ES256")
    assert claims["sub"] == strict.manifest["thumbprints"]["jwt_ec"]
    assert claims["startLogon"] == "kowhai.ops"
    assert claims["exp"] - claims["iat"] == 540  # IR's example lifetime, the default
    status, body = post_pir(strict, {"IRD": RATE_28, "PieIRD": SCHEME}, token)
    assert (status, body.get("SuggestedPirRate")) == (200, 28), body


def test_eight_hour_tokens_and_an_empty_start_logon(strict: nzpir.Sandbox) -> None:
    kw = strict.client_kwargs()
    token = nzpir.mint_jwt(kw["jwt_cert"], kw["jwt_key"], issuer=kw["issuer"], ttl=28800)
    claims = verify(token, strict.jwt_rs256_cert, "RS256")
    assert claims["exp"] - claims["iat"] == 28800  # IR's 8-hour limit
    assert claims["startLogon"] is None
    status, body = post_pir(strict, {"IRD": RATE_28, "PieIRD": SCHEME}, token)
    assert (status, body.get("SuggestedPirRate")) == (200, 28), body

    token = nzpir.mint_jwt(
        kw["jwt_cert"], kw["jwt_key"], issuer=kw["issuer"], unset_start_logon="empty"
    )
    assert verify(token, strict.jwt_rs256_cert, "RS256")["startLogon"] == ""
    status, body = post_pir(strict, {"IRD": RATE_28, "PieIRD": SCHEME}, token)
    assert (status, body.get("SuggestedPirRate")) == (200, 28), body

    # A client sends the same.
    client = strict.client(jwt_ttl=28800, unset_start_logon="empty")
    assert client.lookup(RATE_28, pie_ird=SCHEME).rate == 28

    with pytest.raises(nzpir.ConfigError, match="unset_start_logon"):
        nzpir.mint_jwt(kw["jwt_cert"], kw["jwt_key"], issuer="x", unset_start_logon="none")
    for bad in (28801, 59, 0):
        with pytest.raises(ValueError, match="jwt_ttl`: must be a whole number of seconds from 60 to 28800"):
            strict.client(jwt_ttl=bad)


def test_es512_verifies_with_pyjwt(tmp_path: Any) -> None:
    import datetime

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP521R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "m2m.example.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA512())
    )
    cert_path = tmp_path / "p521.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    token = nzpir.mint_jwt(str(cert_path), key_pem, issuer="Acme")
    claims = verify(token, str(cert_path), "ES512")
    assert claims["iss"] == "Acme"


def test_mint_errors(strict: nzpir.Sandbox) -> None:
    # Errors name mint_jwt's own arguments, not the Client keywords.
    cert, rsa, ec = strict.jwt_rs256_cert, strict.jwt_rs256_key, strict.jwt_ec_key
    cases: List[Tuple[Dict[str, Any], str]] = [
        ({"cert": cert, "key": rsa, "issuer": "x", "alg": "ES256"}, "alg"),
        ({"cert": cert, "key": rsa, "issuer": "x", "alg": "HS256"}, "alg"),
        ({"cert": cert, "key": rsa, "issuer": " "}, "issuer"),
        ({"cert": cert, "key": ec, "issuer": "x"}, "key"),
        ({"cert": "/nonexistent/c.pem", "key": rsa, "issuer": "x"}, "cert"),
        ({"cert": cert, "key": rsa, "issuer": "x", "ttl": 5}, "ttl"),
        ({"cert": cert, "key": rsa, "issuer": "x", "unset_start_logon": "none"}, "unset_start_logon"),
    ]
    for kwargs, setting in cases:
        with pytest.raises(nzpir.ConfigError) as raised:
            nzpir.mint_jwt(**kwargs)
        assert raised.value.setting == setting
        assert str(raised.value).startswith(f"config `{setting}`: "), raised.value
        assert "jwt_" not in str(raised.value)
    with pytest.raises(TypeError):
        nzpir.mint_jwt(strict.jwt_rs256_cert, strict.jwt_rs256_key)  # type: ignore[call-arg]
    # The arguments follow the Client's rules for its jwt_* keywords: the same
    # range and message, a TypeError for a value of the wrong type.
    with pytest.raises(nzpir.ConfigError, match="^config `ttl`: must be a whole number of seconds from 60 to 28800$"):
        nzpir.mint_jwt(cert, rsa, issuer="x", ttl=-1)
    with pytest.raises(ValueError, match="^config `jwt_ttl`: must be a whole number of seconds from 60 to 28800$"):
        nzpir.Client(environment="mock", jwt_cert=cert, jwt_key=rsa, issuer="x", jwt_ttl=-1)
    for bad in ("540", True, [1]):
        with pytest.raises(TypeError, match="^config `ttl`: ") as wrong:
            nzpir.mint_jwt(cert, rsa, issuer="x", ttl=bad)  # type: ignore[arg-type]
        assert getattr(wrong.value, "setting") == "ttl"
    with pytest.raises(TypeError, match="^config `issuer`: "):
        nzpir.mint_jwt(cert, rsa, issuer=7)  # type: ignore[arg-type]
    # PEM content as bytes or bytearray, as the Client takes it.
    with open(cert, "rb") as c, open(rsa, "rb") as k:
        cert_pem, key_pem = c.read(), k.read()
    for form in (bytes, bytearray):
        token = nzpir.mint_jwt(form(cert_pem), form(key_pem), issuer="x")
        assert verify(token, cert, "RS256")["iss"] == "x"
