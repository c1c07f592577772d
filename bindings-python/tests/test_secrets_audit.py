"""The secrets audit of the Python package: with every logger at its lowest
level (the `nzpir` logger included) and the process's file descriptors 1 and
2 captured, run lookups (M2M JWT RS256 and ES256, a startLogon with a
person's details, OAuth with a Python token store and a rotation, a static
bearer token, IR's mock) and every error path (strict mode's codes, IR003,
5xx, PIR150, drops, a broken body, a timeout, TLS, a closed port, local
validation, configuration and token store errors). Then search the log
records, the captured output, every exception's str() and repr() (and its
causes), and the repr() of clients, OAuth objects, token sets, results and
requests for the secrets actually used: the base64 lines of the sandbox's
private keys, the OAuth client secrets, the access and refresh tokens the
store received, the authorisation code, state and PKCE verifier, every JWT
(anything "eyJ"), every IRD number in 9-digit, 8-digit and dashed forms,
and the names and dates of birth sent."""

from __future__ import annotations

import datetime
import logging
import socket
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import nzpir
from conftest import https

SCHEME = "125000002"
PIE = "130000002"


def ird_forms(ird: str) -> List[str]:
    nine = ird.rjust(9, "0")
    forms = [nine, f"{nine[:3]}-{nine[3:6]}-{nine[6:]}"]
    eight = nine.lstrip("0")
    if len(eight) == 8:
        forms += [eight, f"{eight[:2]}-{eight[2:5]}-{eight[5:]}"]
    return forms


class Audit:
    def __init__(self) -> None:
        self.secrets: List[Tuple[str, str]] = []
        self.texts: List[Tuple[str, str]] = []
        self.errors: List[nzpir.NzpirError] = []

    def secret(self, what: str, value: Optional[str]) -> None:
        assert value, f"an empty {what} proves nothing"
        self.secrets.append((what, value))

    def ird(self, ird: str) -> None:
        for f in ird_forms(ird):
            self.secret("IRD number", f)

    def key_file(self, path: str) -> None:
        lines = [
            line.strip()
            for line in Path(path).read_text().splitlines()
            if not line.startswith("-----") and len(line.strip()) >= 16
        ]
        assert lines, path
        for line in lines:
            self.secret(f"private key line of {path}", line)

    def tokens(self, t: Any) -> None:
        if isinstance(t, dict):
            self.secret("access token", t["access_token"])
            if t.get("refresh_token"):
                self.secret("refresh token", t["refresh_token"])
        else:
            self.secret("access token", t.access_token)
            if t.refresh_token:
                self.secret("refresh token", t.refresh_token)
            self.shown("token set", t)

    def shown(self, what: str, obj: object) -> None:
        self.texts.append((f"repr of {what}", repr(obj)))
        self.texts.append((f"str of {what}", str(obj)))

    def fails(self, what: str, exc: type, call: Callable[[], object]) -> None:
        with pytest.raises(nzpir.NzpirError) as info:
            call()
        e = info.value
        assert isinstance(e, exc), f"{what}: {type(e).__name__}: {e}"
        self.errors.append(e)
        seen: Optional[BaseException] = e
        while seen is not None:
            self.texts.append((f"str of the {what} error", str(seen)))
            self.texts.append((f"repr of the {what} error", repr(seen)))
            self.texts.append((f"args of the {what} error", repr(seen.args)))
            seen = seen.__cause__ or seen.__context__
        if isinstance(e, nzpir.InvalidInputError):
            self.texts.append((f"fields of the {what} error", repr(e.errors)))


class MemoryStore:
    def __init__(self) -> None:
        self.tokens: Optional[Dict[str, Any]] = None
        self.saved: List[Dict[str, Any]] = []

    def load(self) -> Optional[Dict[str, Any]]:
        return None if self.tokens is None else dict(self.tokens)

    def save(self, tokens: Dict[str, Any]) -> None:
        self.saved.append(dict(tokens))
        self.tokens = dict(tokens)


class JunkStore:
    """Hands back a token set whose shape is wrong, tokens inside."""

    def __init__(self, junk: Dict[str, Any]) -> None:
        self.junk = junk

    def load(self) -> Optional[Dict[str, Any]]:
        return dict(self.junk)

    def save(self, tokens: Dict[str, Any]) -> None:
        raise OSError("disk full")


def oauth_client(sb: nzpir.Sandbox, store: Any, client_id: str = "sandbox-app") -> nzpir.Client:
    return sb.client(
        oauth_client_id=client_id,
        oauth_client_secret=client_id + "-secret",
        oauth_redirect_uri="http://127.0.0.1/callback",
        oauth_endpoint=sb.oauth_url,
        token_store=store,
        max_retries=0,
    )


def authorise(a: Audit, sb: nzpir.Sandbox, client: nzpir.Client) -> nzpir.TokenSet:
    assert client.oauth is not None
    req = client.oauth.authorization_request()
    a.secret("OAuth state", req.state)
    a.secret("PKCE verifier", req.code_verifier)
    # The request exists to hand the browser's URL (state included) to the
    # host: only its verifier must stay hidden.
    a.texts.append(("repr of authorisation request", repr(req).replace(req.state, "<state>")))
    _, headers, _ = https(sb, "GET", req.url, client_cert=False)
    location = headers["location"]
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["code"]
    a.secret("authorisation code", code)
    a.fails(
        "forged state",
        nzpir.AuthenticationError,
        lambda: client.oauth.complete_authorization(req, location.replace(req.state, "forged")),  # type: ignore[union-attr]
    )
    tokens = client.oauth.complete_authorization(req, location)
    a.tokens(tokens)
    return tokens


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def test_no_secret_or_personal_data_anywhere(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a = Audit()
    caplog.set_level(1)  # below DEBUG: everything, TRACE included
    caplog.set_level(1, logger="nzpir")
    with nzpir.Sandbox("strict") as sb, nzpir.Sandbox("ir-mock") as mock, nzpir.Sandbox(
        "strict", ir003_limit=1
    ) as quota:
        for box in (sb, mock, quota):
            for key in (box.client_key, box.unregistered_client_key, box.jwt_rs256_key,
                        box.jwt_ec_key, str(Path(box.pki_dir) / "ca.key")):
                a.key_file(key)
            for c in box.manifest["oauth"]["clients"]:
                a.secret("client secret", c["client_secret"])
        for ird in (SCHEME, PIE, "139276507", "139276310", "049091850", "139276329",
                    "139276272", "139439976", "139332754", "136410133", "136410132",
                    "012345678", "123987654"):
            a.ird(ird)
        for what, value in (("first name", "Gary"), ("last name", "Allen"),
                            ("date of birth", "1990-01-02"), ("street", "123 Ha Crescent"),
                            ("first name", "Wiremu"), ("last name", "Secretsurname"),
                            ("date of birth", "1971-02-28"), ("street", "9 Hidden Road")):
            a.secret(what, value)

        # --- Successful lookups: RS256, ES256, a person's details.
        client = sb.client(max_retries=1, retry_base_delay=0.01)
        for ird in ("139276507", "49-091-850"):
            a.shown("result", client.lookup(ird, pie_ird=SCHEME))
        a.shown("JWT client", client)
        ec = sb.client(jwt_cert=sb.jwt_ec_cert, jwt_key=sb.jwt_ec_key, jwt_alg=sb.jwt_ec_alg)
        a.shown("result", ec.lookup("139276310", pie_ird=SCHEME))
        a.shown("ES256 client", ec)
        for cert, key, alg, logon in ((sb.jwt_rs256_cert, sb.jwt_rs256_key, "RS256", None),
                                      (sb.jwt_ec_cert, sb.jwt_ec_key, sb.jwt_ec_alg, None),
                                      (sb.jwt_rs256_cert, sb.jwt_rs256_key, "RS256",
                                       "tuatara.admin")):
            jwt = nzpir.mint_jwt(cert, key, issuer="Audit", alg=alg, start_logon=logon)
            a.secret("JWT", jwt)
            a.secret("JWT signature", jwt.rsplit(".", 1)[1])
        tuatara = sb.client(start_logon="tuatara.admin")
        name = nzpir.Name("Gary", "Allen")
        address = nzpir.Address("123 Ha Crescent", "Auckland", "NZ", post_code="2104")
        a.shown("name", name)
        a.shown("address", address)
        result = tuatara.lookup("139276329", pie_ird=PIE, name=name,
                                dob=datetime.date(1990, 1, 2), address=address,
                                formatted_name="Allen, Gary")
        assert result.rate is not None
        a.shown("soft-match result", result)

        # --- OAuth: code flow, lookups, rotation, introspection, revocation.
        store = MemoryStore()
        oc = oauth_client(sb, store)
        assert oc.oauth is not None
        first = authorise(a, sb, oc)
        oc.lookup("139439976")
        second = oc.oauth.refresh()
        a.tokens(second)
        oc.lookup("139332754")
        a.shown("introspection", oc.oauth.introspect())
        a.shown("OAuth", oc.oauth)
        a.shown("OAuth client", oc)
        a.shown("stored tokens", oc.oauth.tokens())
        for t in store.saved:
            a.tokens(t)
        bearer = sb.client(bearer_token=second.access_token)
        bearer.lookup("139439976")
        a.shown("bearer client", bearer)
        a.fails("EV1041", nzpir.AuthorisationError, lambda: oc.lookup("139276507", pie_ird=SCHEME))
        assert first.refresh_token is not None
        spent = first.refresh_token
        a.secret("access token", "expired-access-QxZv")
        a.fails("a spent refresh token", nzpir.ConsentRequiredError,
                lambda: _refresh_with(sb, spent))
        sb.set_fault("status", status=503, times=1, scope="token")
        a.fails("a token endpoint 503", nzpir.ServerError, oc.oauth.refresh)
        sb.clear_faults()
        oc.oauth.revoke()
        a.fails("a revoked grant", nzpir.ConsentRequiredError, lambda: oc.lookup("139439976"))
        orphan = oauth_client(sb, MemoryStore(), "sandbox-orphan")
        authorise(a, sb, orphan)
        a.fails("EV1040", nzpir.AuthorisationError, lambda: orphan.lookup("139439976"))

        # --- Strict mode's refusals.
        kw = sb.client_kwargs()
        a.fails("EV1023", nzpir.AuthenticationError,
                lambda: sb.client(cert=sb.unregistered_client_cert,
                                  key=sb.unregistered_client_key).lookup("139276507",
                                                                         pie_ird=SCHEME))
        none = nzpir.Client(endpoint=kw["endpoint"], cert=kw["cert"], key=kw["key"], ca=kw["ca"])
        a.fails("EV1025", nzpir.AuthenticationError,
                lambda: none.lookup("139276507", pie_ird=SCHEME))
        a.secret("unknown bearer", "a-bearer-token-nobody-issued-QxZv")
        a.fails("EV1024", nzpir.AuthenticationError,
                lambda: sb.client(bearer_token="a-bearer-token-nobody-issued-QxZv")
                .lookup("139276507", pie_ird=SCHEME))
        a.fails("EV1029", nzpir.AuthenticationError,
                lambda: sb.client(jwt_alg="RS384").lookup("139276507", pie_ird=SCHEME))
        a.fails("EV1043", nzpir.AuthorisationError,
                lambda: client.lookup("139276272", pie_ird=SCHEME))
        a.fails("EV1042", nzpir.AuthorisationError,
                lambda: client.lookup("139276272", pie_ird=PIE))
        a.fails("PIR101", nzpir.RejectedError, lambda: client.lookup("139276507"))
        unchecked = sb.client(validate_locally=False)
        a.fails("EV1100", nzpir.RejectedError,
                lambda: unchecked.lookup("136410133", pie_ird=SCHEME,
                                         dob=datetime.date(1971, 2, 28),
                                         address={"street": "9 Hidden Road",
                                                  "city": "Hamilton", "country": "AB"}))
        a.fails("PER100", nzpir.RejectedError,
                lambda: unchecked.lookup("139276507", pie_ird=SCHEME, filing_period="2020-03-30"))
        quota.client().lookup("139276507", pie_ird=SCHEME)
        a.fails("IR003", nzpir.RateLimitedError,
                lambda: quota.client().lookup("139276507", pie_ird=SCHEME))

        # --- Faults, retried or not, and a timeout.
        faults: Tuple[Tuple[str, str, Dict[str, Any], type], ...] = (
            ("503", "status", {"status": 503}, nzpir.ServerError),
            ("PIR150", "pir150", {}, nzpir.ServerError),
            ("drop before read", "drop_before_read", {}, nzpir.TransportError),
            ("drop after read", "drop_after_read", {}, nzpir.TransportError),
            ("truncated body", "truncated_body", {"times": 1}, nzpir.ServerError),
            ("malformed body", "malformed_body", {"times": 1}, nzpir.ServerError),
        )
        for what, kind, extra, exc in faults:
            sb.set_fault(kind, **extra)
            a.fails(what, exc, lambda: client.lookup("139276310", pie_ird=SCHEME))
            sb.clear_faults()
        sb.set_fault("delay", ms=3000)
        a.fails("timeout", nzpir.GatewayTimeoutError,
                lambda: sb.client(timeout=0.3, max_retries=0).lookup("139276310",
                                                                     pie_ird=SCHEME))
        sb.clear_faults()

        # --- TLS and connections.
        a.fails("untrusted server", nzpir.TlsError,
                lambda: sb.client(ca=sb.jwt_rs256_cert, max_retries=0)
                .lookup("139276507", pie_ird=SCHEME))
        a.fails("connection refused", nzpir.TransportError,
                lambda: sb.client(endpoint=f"https://127.0.0.1:{closed_port()}", max_retries=0)
                .lookup("139276507", pie_ird=SCHEME))

        # --- IR's mock.
        mc = mock.client(validate_locally=False)
        for ird in ("139276507", "139439976", "123987654"):
            mc.lookup(ird)
        a.fails("mock PIR101", nzpir.RejectedError, lambda: mc.lookup("139332754"))
        a.fails("mock EV1043", nzpir.AuthorisationError, lambda: mc.lookup("139276329"))
        a.fails("mock EV1100", nzpir.RejectedError, lambda: mc.lookup("12345"))

        # --- Local validation: nothing sent, nothing quoted.
        a.fails("local validation", nzpir.InvalidInputError,
                lambda: client.lookup("136410133", pie_ird="12345678",
                                      name=nzpir.Name("Wiremu", "Secretsurname"),
                                      dob="1971-02-30",
                                      address={"street": "9 Hidden Road", "city": "Hamilton",
                                               "country": "QQ"},
                                      filing_period="2024-04-01"))
        a.secret("date of birth", "1971-02-30")
        for bad in ("139-276-508", "136410133", "49091851x"):
            a.fails("invalid IRD", nzpir.InvalidIrdError, lambda: nzpir.normalise_ird(bad))
        a.ird("139276508")
        a.ird("049091851")

        # --- Configuration errors next to secrets.
        cfg = tmp_path / "bad.toml"
        cfg.write_text('[auth]\ntype = "oauth"\nclient_secret = "toml-secret-QxZvTkWm\n'
                       'client_id = "x"\n')
        a.secret("TOML client secret", "toml-secret-QxZvTkWm")
        a.fails("a broken TOML file", nzpir.ConfigError, lambda: nzpir.Client.from_config(cfg))
        a.fails("a key that does not match", nzpir.ConfigError,
                lambda: sb.client(key=sb.jwt_rs256_key))
        a.fails("a certificate as a key", nzpir.ConfigError,
                lambda: sb.client(jwt_key=sb.jwt_rs256_cert))
        client_key_pem = Path(sb.client_key).read_text()
        a.fails("a garbled key", nzpir.ConfigError,
                lambda: sb.client(key=client_key_pem.replace("A", "!", 3)))
        a.fails("a key cut short", nzpir.ConfigError,
                lambda: sb.client(key=client_key_pem[: len(client_key_pem) // 2]))
        a.secret("bearer with a newline", "secret-QxZvTkWm")
        a.fails("a bearer token with a newline", nzpir.NzpirError,
                lambda: sb.client(bearer_token="bearer-nl\nsecret-QxZvTkWm")
                .lookup("139276507", pie_ird=SCHEME))

        # --- PKCS#12 bundles with right and wrong passwords, and the doctor.
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        right, wrong = "p12-right-QxZvTkWm", "p12-wrong-QxZvTkWm"
        a.secret("PKCS#12 password", right)
        a.secret("PKCS#12 password", wrong)
        p12 = tmp_path / "client.p12"
        p12.write_bytes(pkcs12.serialize_key_and_certificates(
            b"client",
            serialization.load_pem_private_key(  # type: ignore[arg-type]
                Path(sb.client_key).read_bytes(), None),
            x509.load_pem_x509_certificate(Path(sb.client_cert).read_bytes()),
            None,
            serialization.BestAvailableEncryption(right.encode()),
        ))
        p12_kw: Dict[str, Any] = sb.client_kwargs()
        del p12_kw["cert"], p12_kw["key"]
        p12_client = nzpir.Client(**p12_kw, pkcs12=p12, pkcs12_password=right)
        a.shown("a PKCS#12 client", p12_client)
        p12_client.lookup("139276507", pie_ird=SCHEME)
        a.fails("a wrong PKCS#12 password", nzpir.ConfigError,
                lambda: nzpir.Client(**p12_kw, pkcs12=p12, pkcs12_password=wrong))
        for check in p12_client.doctor(ird="139276507", pie_ird=SCHEME):
            a.shown("a doctor check", check)
            a.texts.append(("a doctor check's detail", check.detail))
            a.texts.append(("a doctor check's action", check.action or ""))

        # --- Token store errors, tokens inside.
        tokens = store.saved[-1]
        for junk in (
            {"access_token": tokens["access_token"], "expires_at": tokens["refresh_token"]},
            {"access_token": 42, "refresh_token": tokens["refresh_token"], "expires_at": 1},
            {"access_token": tokens["access_token"], "refresh_token": [tokens["refresh_token"]],
             "expires_at": 1},
        ):
            a.fails("a store with junk", nzpir.TokenStoreError,
                    lambda: oauth_client(sb, JunkStore(junk)).lookup("139439976"))
        file_store = tmp_path / "tokens.json"
        file_store.write_text('{"version":1,"access_token":"%s","expires_at":"%s"}'
                              % (tokens["access_token"], tokens["refresh_token"]))
        a.fails("a corrupt token file", nzpir.TokenStoreError,
                lambda: oauth_client(sb, str(file_store)).lookup("139439976"))

    out, err = capfd.readouterr()
    records = caplog.records

    # --- Not vacuous: calls were logged, retries too, errors happened.
    ours = [r for r in records if r.name == "nzpir" or r.name.startswith("nzpir.")]
    assert sum("op=lookup" in r.getMessage() for r in ours) >= 30, [r.getMessage() for r in ours]
    assert any(r.levelno == logging.DEBUG for r in ours), "retries at DEBUG"
    assert any("refresh" in r.getMessage() for r in ours)
    kinds = {e.kind for e in a.errors}
    for kind in ("invalid_input", "config", "tls", "transport", "timeout", "authentication",
                 "authorisation", "rate_limited", "rejected", "server", "consent_required",
                 "token_store"):
        assert kind in kinds, kind
    assert len(a.secrets) > 100

    texts = list(a.texts)
    texts += [(f"log record {r.name} {r.levelname}", r.getMessage()) for r in records]
    texts += [(f"formatted log record {r.name}", logging.Formatter(
        "%(name)s %(levelname)s %(message)s %(args)s").format(r)) for r in records]
    texts += [("captured stdout", out), ("captured stderr", err)]
    leaks = sorted({
        f"{where} contains the {what} {secret!r}: {text}"
        for where, text in texts
        for what, secret in a.secrets
        if secret in text
    } | {f"{where} contains something JWT-shaped: {text}" for where, text in texts
         if "eyJ" in text})
    assert not leaks, f"{len(leaks)} leaks:\n" + "\n".join(leaks)


def _refresh_with(sb: nzpir.Sandbox, refresh_token: str) -> None:
    """A refresh with a spent refresh token, from a store that holds it."""
    store = MemoryStore()
    store.tokens = {"access_token": "expired-access-QxZv", "refresh_token": refresh_token,
                    "expires_at": 1, "scope": "MYIR.Services"}
    client = oauth_client(sb, store)
    assert client.oauth is not None
    client.oauth.refresh()
