"""Every exception class, each raised by its real cause against a live
sandbox, carrying `kind`, `ir_code`, `http_status` and `attempts`."""

from __future__ import annotations

import socket

import pytest

import nzpir
from conftest import NON_MEMBER, PIE, RATE_17_5, RATE_28, SCHEME

ALL = [
    nzpir.InvalidInputError,
    nzpir.InvalidIrdError,
    nzpir.ConfigError,
    nzpir.TlsError,
    nzpir.TransportError,
    nzpir.GatewayTimeoutError,
    nzpir.AuthenticationError,
    nzpir.AuthorisationError,
    nzpir.RateLimitedError,
    nzpir.RejectedError,
    nzpir.ServerError,
    nzpir.ConsentRequiredError,
    nzpir.TokenStoreError,
    nzpir.SandboxError,
]


def test_one_tree() -> None:
    for cls in ALL:
        assert issubclass(cls, nzpir.NzpirError), cls
        assert cls.__module__ == "nzpir"
        assert cls.__doc__
    assert issubclass(nzpir.InvalidInputError, ValueError)
    assert issubclass(nzpir.InvalidIrdError, nzpir.InvalidInputError)
    assert issubclass(nzpir.GatewayTimeoutError, TimeoutError)
    # A setting's wrong value is a ValueError too, whichever surface found it.
    assert issubclass(nzpir.ConfigError, ValueError)
    kinds = {cls.kind for cls in ALL}
    assert len(kinds) == len(ALL) - 1  # InvalidIrdError shares invalid_input
    # Every field of the error contract, on every class (the defaults).
    for cls in ALL:
        for attr, default in (
            ("ir_code", None),
            ("http_status", None),
            ("retryable", False),
            ("attempts", 0),
            ("ir_errors", []),
            ("field_errors", []),
        ):
            assert getattr(cls, attr) == default, (cls, attr)


def check(e: nzpir.NzpirError, cls: type, kind: str, ir_code: object, status: object) -> None:
    assert type(e) is cls, (type(e), str(e))
    assert (e.kind, e.ir_code, e.http_status) == (kind, ir_code, status), str(e)
    assert str(e) and "Error {" not in str(e)  # Display, not Debug


@pytest.mark.parametrize(
    "ird,pie,code",
    [
        (NON_MEMBER, SCHEME, "EV1043"),  # related to the scheme, investor not a member
        (RATE_28, PIE, "EV1042"),  # nothing ties the provider to this PIE
    ],
)
def test_authorisation(strict: nzpir.Sandbox, ird: str, pie: str, code: str) -> None:
    with pytest.raises(nzpir.AuthorisationError) as info:
        strict.client().lookup(ird, pie_ird=pie)
    check(info.value, nzpir.AuthorisationError, "authorisation", code, 401)
    assert info.value.attempts == 1
    assert ird not in str(info.value)


def test_authentication_unregistered_tls_certificate(strict: nzpir.Sandbox) -> None:
    client = strict.client(cert=strict.unregistered_client_cert, key=strict.unregistered_client_key)
    with pytest.raises(nzpir.AuthenticationError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    check(info.value, nzpir.AuthenticationError, "authentication", "EV1023", 401)


def test_authentication_no_token(strict: nzpir.Sandbox) -> None:
    kw = strict.client_kwargs()
    client = nzpir.Client(endpoint=kw["endpoint"], cert=kw["cert"], key=kw["key"], ca=kw["ca"])
    assert client.auth == "none"
    with pytest.raises(nzpir.AuthenticationError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    check(info.value, nzpir.AuthenticationError, "authentication", "EV1025", 401)


def test_authentication_unknown_jwt_credential(strict: nzpir.Sandbox) -> None:
    # The TLS client certificate is not a registered JWT credential.
    client = strict.client(jwt_cert=strict.client_cert, jwt_key=strict.client_key, jwt_alg="ES384")
    with pytest.raises(nzpir.AuthenticationError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    check(info.value, nzpir.AuthenticationError, "authentication", "EV1027", 401)


def test_authentication_unknown_bearer_token(strict: nzpir.Sandbox) -> None:
    client = strict.client(bearer_token="not-a-token-the-sandbox-issued")
    assert client.auth == "bearer"
    with pytest.raises(nzpir.AuthenticationError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    check(info.value, nzpir.AuthenticationError, "authentication", "EV1024", 401)
    assert "not-a-token" not in str(info.value)


def test_rejected(strict: nzpir.Sandbox) -> None:
    with pytest.raises(nzpir.RejectedError) as info:
        strict.client().lookup(RATE_28)
    check(info.value, nzpir.RejectedError, "rejected", "PIR101", 400)
    unchecked = strict.client(validate_locally=False)
    with pytest.raises(nzpir.RejectedError) as info:
        unchecked.lookup(RATE_28, pie_ird=SCHEME, address={"street": "x", "city": "y", "country": "ZZ"})
    check(info.value, nzpir.RejectedError, "rejected", "EV1100", 400)
    assert "Country" in str(info.value)


def test_rate_limited() -> None:
    with nzpir.Sandbox(ir003_limit=2) as sb:
        client = sb.client()
        client.lookup(RATE_28, pie_ird=SCHEME)
        client.lookup(RATE_28, pie_ird=SCHEME)
        with pytest.raises(nzpir.RateLimitedError) as info:
            client.lookup(RATE_28, pie_ird=SCHEME)
        check(info.value, nzpir.RateLimitedError, "rate_limited", "IR003", 401)
        assert info.value.attempts == 1  # not retried
        assert sb.calls_for(RATE_28) == 3


def test_server_errors(strict: nzpir.Sandbox) -> None:
    client = strict.client(max_retries=0)
    strict.set_fault("pir150", times=1)
    with pytest.raises(nzpir.ServerError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    check(info.value, nzpir.ServerError, "server", "PIR150", 500)
    strict.set_fault("status", status=500, times=1)
    with pytest.raises(nzpir.ServerError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    check(info.value, nzpir.ServerError, "server", None, 500)
    strict.set_fault("malformed_body", times=1)
    with pytest.raises(nzpir.ServerError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    assert info.value.http_status == 200


def test_transient_faults_are_retried(strict: nzpir.Sandbox) -> None:
    client = strict.client(max_retries=2, retry_base_delay=0.01)
    before = strict.calls_for(RATE_17_5)
    strict.set_fault("status", status=503, times=2)
    with pytest.raises(nzpir.AuthorisationError):
        client.lookup(RATE_17_5, pie_ird=SCHEME)  # EV1043 once the faults are used up
    assert strict.calls_for(RATE_17_5) - before == 3
    strict.set_fault("status", status=503, times=3)
    with pytest.raises(nzpir.ServerError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    assert (info.value.http_status, info.value.attempts) == (503, 3)


def test_every_error_carries_the_whole_contract(strict: nzpir.Sandbox) -> None:
    # Every error IR listed, not only the first; retryable and attempts.
    unchecked = strict.client(validate_locally=False, max_retries=0)
    with pytest.raises(nzpir.RejectedError) as info:
        unchecked.lookup(
            RATE_28,
            pie_ird=SCHEME,
            dob="1990-02-30",
            address={"street": "x", "city": "y", "country": "ZZ"},
        )
    e = info.value
    assert [(i["code"], i["type"], i["field"]) for i in e.ir_errors] == [
        ("EV1100", "validation", "Dob"),
        ("EV1100", "validation", "Country"),
    ]
    assert (e.ir_code, e.http_status, e.retryable, e.attempts) == ("EV1100", 400, False, 1)
    assert e.field_errors == []

    client = strict.client(max_retries=1, retry_base_delay=0.01)
    strict.set_fault("status", status=503, times=2)
    with pytest.raises(nzpir.ServerError) as server:
        client.lookup(RATE_28, pie_ird=SCHEME)
    s = server.value
    assert (s.http_status, s.retryable, s.attempts, s.ir_errors) == (503, True, 2, [])

    strict.set_fault("pir150", times=1)
    with pytest.raises(nzpir.ServerError) as server:
        strict.client(max_retries=0).lookup(RATE_28, pie_ird=SCHEME)
    assert server.value.retryable is True
    assert [i["code"] for i in server.value.ir_errors] == ["PIR150"]

    with pytest.raises(nzpir.InvalidInputError) as info2:
        client.lookup(RATE_28, pie_ird=SCHEME, name=nzpir.Name(first_name="Gary"))
    want = [{"field": "Name.LastName", "rule": "required", "message": "is required"}]
    assert info2.value.field_errors == info2.value.errors == want
    assert (info2.value.retryable, info2.value.attempts, info2.value.ir_errors) == (False, 0, [])


def test_transport(strict: nzpir.Sandbox) -> None:
    strict.set_fault("drop_after_read", times=1)
    with pytest.raises(nzpir.TransportError) as info:
        strict.client(max_retries=0).lookup(RATE_28, pie_ird=SCHEME)
    check(info.value, nzpir.TransportError, "transport", None, None)
    # Nothing listens on a port just released.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    client = strict.client(endpoint=f"https://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(nzpir.TransportError):
        client.lookup(RATE_28, pie_ird=SCHEME)
    with pytest.raises(nzpir.TransportError):
        client.status()


def test_timeout(strict: nzpir.Sandbox) -> None:
    strict.set_fault("delay", ms=3000, times=1)
    client = strict.client(timeout=0.3, max_retries=0)
    with pytest.raises(nzpir.GatewayTimeoutError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    check(info.value, nzpir.GatewayTimeoutError, "timeout", None, None)
    assert isinstance(info.value, TimeoutError)


def test_tls(strict: nzpir.Sandbox) -> None:
    # Trusting a certificate that did not issue the server's: the handshake fails.
    client = strict.client(ca=strict.jwt_rs256_cert, max_retries=0)
    with pytest.raises(nzpir.TlsError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    check(info.value, nzpir.TlsError, "tls", None, None)


def test_config(strict: nzpir.Sandbox, tmp_path: object) -> None:
    with pytest.raises(nzpir.ConfigError) as info:
        strict.client(key="/nonexistent/client.key")
    check(info.value, nzpir.ConfigError, "config", None, None)
    # Named as the keyword the caller passed, not as the TOML key.
    assert "`key`" in str(info.value) and "tls.client_key" not in str(info.value)
    assert info.value.setting == "key"
    with pytest.raises(nzpir.ConfigError, match="environment"):
        nzpir.Client(environment="staging")
    with pytest.raises(nzpir.ConfigError, match="endpoint"):
        nzpir.Client(environment="sandbox")
    with pytest.raises(nzpir.ConfigError, match="one way to authenticate"):
        strict.client(oauth_client_id="x", jwt_cert=strict.jwt_rs256_cert)
    with pytest.raises(nzpir.ConfigError, match="connection"):
        nzpir.Client(endpoint="https://127.0.0.1:1", connection="wifi")
    with pytest.raises(nzpir.ConfigError):
        nzpir.Client(environment="test")  # production/test need mTLS and auth
    with pytest.raises(nzpir.ConfigError):
        nzpir.Client.from_config("/nonexistent/nzpir.toml")
    with pytest.raises(nzpir.ConfigError, match="jwt_alg") as info:
        strict.client(jwt_alg="HS256")
    assert info.value.setting == "jwt_alg"
    assert "auth.alg" not in str(info.value)


def test_sandbox_error() -> None:
    with pytest.raises(nzpir.SandboxError) as info:
        nzpir.Sandbox(fixture="/nonexistent/fixture.json")
    assert info.value.kind == "sandbox"
    assert "fixture" in str(info.value)


def test_bad_arguments_name_the_argument(strict: nzpir.Sandbox) -> None:
    client = strict.client()
    cases = [
        (dict(ird=None), TypeError, "ird"),
        (dict(ird=139276507), TypeError, "ird"),
        (dict(ird=RATE_28, pie_ird=125000002), TypeError, "pie_ird"),
        (dict(ird=RATE_28, dob=19900102), TypeError, "dob"),
        (dict(ird=RATE_28, filing_period=True), TypeError, "filing_period"),
        (dict(ird=RATE_28, filing_period=2024.0), TypeError, "filing_period"),
        (dict(ird=RATE_28, name=["Gary", "Allen"]), TypeError, "name"),
        (dict(ird=RATE_28, name={"first": "Gary"}), TypeError, "unknown key 'first'"),
        (dict(ird=RATE_28, address={"city": 7}), TypeError, r"address\['city'\]"),
        (dict(ird=RATE_28, formatted_name=b"Allen, Gary"), TypeError, "formatted_name"),
    ]
    for kwargs, exc, pattern in cases:
        with pytest.raises(exc, match=pattern):
            client.lookup(**kwargs)  # type: ignore[arg-type]
    import datetime

    with pytest.raises(TypeError, match="dob"):
        client.lookup(RATE_28, pie_ird=SCHEME, dob=datetime.datetime(1990, 1, 2))
    with pytest.raises(nzpir.InvalidInputError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME, dob="1990-13-45")
    assert info.value.errors[0]["field"] == "Dob"
    with pytest.raises(TypeError):
        client.lookup()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        client.lookup(RATE_28, "125000002")  # type: ignore[call-arg]


def test_bad_client_arguments_name_the_argument() -> None:
    cases = [
        (dict(timeout=-1), ValueError, "timeout"),
        (dict(timeout="soon"), TypeError, "timeout"),
        (dict(timeout=True), TypeError, "timeout"),
        (dict(max_retries=-1), ValueError, "max_retries"),
        (dict(max_retries=1.5), TypeError, "max_retries"),
        (dict(cert=123), TypeError, "cert"),
        (dict(ca=b"\xff\xfe"), ValueError, "ca"),
        (dict(validate_locally="yes"), TypeError, "validate_locally"),
        (dict(token_store=42), TypeError, "token_store"),
    ]
    for kwargs, exc, pattern in cases:
        with pytest.raises(exc, match=pattern):
            nzpir.Client(endpoint="https://127.0.0.1:1", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="endpoint"):
        nzpir.Client(endpoint=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        nzpir.Client("https://127.0.0.1:1")  # type: ignore[call-arg]


def test_bad_sandbox_arguments(strict: nzpir.Sandbox) -> None:
    with pytest.raises(ValueError, match="profile"):
        nzpir.Sandbox("production")
    with pytest.raises(ValueError, match="fault"):
        strict.set_fault("meteor")
    with pytest.raises(ValueError, match="ms"):
        strict.set_fault("delay")
    with pytest.raises(ValueError, match="status"):
        strict.set_fault("status", status=404)
    with pytest.raises(ValueError, match="times"):
        strict.set_fault("pir150", times=0)
    with pytest.raises(ValueError, match="ms"):
        strict.set_fault("delay", ms=-5)
    with pytest.raises(ValueError, match="ir003_limit"):
        nzpir.Sandbox(ir003_limit=-1)
    with pytest.raises(ValueError, match="access_token_ttl"):
        nzpir.Sandbox(access_token_ttl=0)
    with pytest.raises(TypeError):
        strict.set_fault("delay", ms="soon")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        strict.calls_for(None)  # type: ignore[arg-type]
    assert strict.faults() == []
