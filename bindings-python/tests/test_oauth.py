"""OAuth through the client against the sandbox's OAuth server: authorise with
PKCE, exchange, rotate, introspect, revoke, with tokens kept by a Python
object (called back by the core with the GIL released) or a file."""

from __future__ import annotations

import os
import stat
import threading
import time
import urllib.parse
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import nzpir
from conftest import PIE, RATE_17_5, https

TAX_CLIENT = "139439976"  # a client of the tax preparer ruru-tax (10.5)


class MemoryStore:
    """A token store as an application would write one."""

    def __init__(self) -> None:
        self.tokens: Optional[Dict[str, Any]] = None
        self.saved: List[Dict[str, Any]] = []
        self.save_threads: List[str] = []

    def load(self) -> Optional[Dict[str, Any]]:
        return None if self.tokens is None else dict(self.tokens)

    def save(self, tokens: Dict[str, Any]) -> None:
        self.save_threads.append(threading.current_thread().name)
        self.saved.append(dict(tokens))
        self.tokens = dict(tokens)


def oauth_client(sb: nzpir.Sandbox, store: Any, client_id: str = "sandbox-app") -> nzpir.Client:
    return sb.client(
        oauth_client_id=client_id,
        oauth_client_secret=client_id + "-secret",
        oauth_redirect_uri="http://127.0.0.1/callback",
        oauth_endpoint=sb.oauth_url,
        token_store=store,
        max_retries=0,
    )


def authorise(sb: nzpir.Sandbox, client: nzpir.Client) -> nzpir.TokenSet:
    """The browser's part: IR's authorize endpoint redirects at once (the
    fixture's logon consents); the client completes from the redirect."""
    assert client.oauth is not None
    req = client.oauth.authorization_request()
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(req.url).query))
    assert q["code_challenge_method"] == "S256" and q["state"] == req.state
    assert q["client_id"] and q["scope"] == "MYIR.Services"
    assert req.code_verifier not in req.url
    status, headers, _ = https(sb, "GET", req.url, client_cert=False)
    assert status == 302
    return client.oauth.complete_authorization(req, headers["location"])


def test_the_old_verbs_still_work_with_a_warning(fresh: nzpir.Sandbox) -> None:
    client = oauth_client(fresh, MemoryStore())
    assert client.oauth is not None
    with pytest.warns(DeprecationWarning, match=r"authorization_request\(\)"):
        req = client.oauth.start()
    status, headers, _ = https(fresh, "GET", req.url, client_cert=False)
    assert status == 302
    with pytest.warns(DeprecationWarning, match=r"complete_authorization\(\)"):
        tokens = client.oauth.complete(req, headers["location"])
    assert tokens.access_token


def test_full_flow_with_a_python_store(fresh: nzpir.Sandbox) -> None:
    store = MemoryStore()
    client = oauth_client(fresh, store)
    assert client.auth == "oauth" and client.oauth is not None
    assert "sandbox-app" in repr(client.oauth)

    # Nothing stored yet: a person must authorise first.
    with pytest.raises(nzpir.ConsentRequiredError) as info:
        client.lookup(TAX_CLIENT)
    assert info.value.kind == "consent_required"

    tokens = authorise(fresh, client)
    assert tokens.refresh_token and tokens.access_token
    assert store.saved[-1] == tokens.to_dict()
    assert store.tokens is not None and store.tokens["scope"] == "MYIR.Services"
    for secret in (tokens.access_token, tokens.refresh_token):
        assert secret not in repr(tokens)

    # A tax preparer's logon asks about its clients without PieIRD.
    assert client.lookup(TAX_CLIENT).rate == Decimal("10.5")
    assert client.lookup(RATE_17_5, pie_ird=PIE).rate == Decimal("17.5")

    info_ = client.oauth.introspect()
    assert info_["active"] is True and info_["username"] == "ruru.agent"
    assert info_["client_id"] == "sandbox-app"

    # Refresh on demand: the refresh token rotates, the store has the new set.
    old = tokens
    new = client.oauth.refresh()
    assert new.refresh_token != old.refresh_token
    assert store.tokens is not None and store.tokens["refresh_token"] == new.refresh_token
    assert client.oauth.introspect(old.refresh_token, kind="refresh")["active"] is False
    assert client.oauth.introspect(new.refresh_token, kind="refresh")["active"] is True
    stored = client.oauth.tokens()
    assert stored is not None and stored.access_token == new.access_token
    assert client.lookup(TAX_CLIENT).rate == Decimal("10.5")

    # Revoking the refresh token kills the grant: a person must consent again.
    client.oauth.revoke()
    with pytest.raises(nzpir.ConsentRequiredError):
        client.lookup(TAX_CLIENT)


def test_expiry_refreshes_through_the_python_store_off_the_main_thread() -> None:
    # Access tokens live 2 s and are refreshed after half their life. The
    # refresh runs on the calling thread with the GIL released; the store's
    # save() takes it again for the callback.
    with nzpir.Sandbox(access_token_ttl=2) as sb:
        store = MemoryStore()
        client = oauth_client(sb, store)
        authorise(sb, client)
        saved = len(store.saved)
        time.sleep(1.2)
        results: List[object] = []

        def work() -> None:
            results.append(client.lookup(TAX_CLIENT).rate)

        t = threading.Thread(target=work, name="lookup-thread")
        t.start()
        t.join()
        assert results == [Decimal("10.5")]
        assert len(store.saved) == saved + 1
        assert sb.stats()["token_requests"]["refresh_token"] >= 1
        assert store.save_threads[-1] == "lookup-thread"


def test_a_forged_state_is_refused(fresh: nzpir.Sandbox) -> None:
    client = oauth_client(fresh, MemoryStore())
    assert client.oauth is not None
    req = client.oauth.authorization_request()
    with pytest.raises(nzpir.AuthenticationError, match="state"):
        client.oauth.complete_authorization(req, "http://127.0.0.1/callback?code=abc&state=forged")
    assert req.code_verifier not in repr(req)
    # The state ties the browser's redirect to this request: not in repr either.
    assert req.state not in repr(req)
    assert "state=<redacted>" in repr(req)


def test_consent_refused() -> None:
    with nzpir.Sandbox() as sb:
        client = oauth_client(sb, MemoryStore(), client_id="sandbox-no-consent")
        assert client.oauth is not None
        req = client.oauth.authorization_request()
        status, headers, _ = https(sb, "GET", req.url, client_cert=False)
        assert status == 302
        with pytest.raises(nzpir.ConsentRequiredError):
            client.oauth.complete_authorization(req, headers["location"])


def test_a_file_store(fresh: nzpir.Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    client = oauth_client(fresh, path)
    authorise(fresh, client)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert client.lookup(TAX_CLIENT).rate == Decimal("10.5")
    # A second client (another process, say) picks the grant up from the file.
    again = oauth_client(fresh, str(path))
    assert again.lookup(TAX_CLIENT).rate == Decimal("10.5")


class Exploding(MemoryStore):
    def load(self) -> Optional[Dict[str, Any]]:
        raise RuntimeError("disk on fire near refresh-token-abc123")


class BadShape(MemoryStore):
    def load(self) -> Optional[Dict[str, Any]]:
        return {"access_token": "a", "expires_at": "tomorrow"}


class FullDisk(MemoryStore):
    def save(self, tokens: Dict[str, Any]) -> None:
        raise OSError(28, "No space left on device")


def test_store_failures_are_token_store_errors(fresh: nzpir.Sandbox) -> None:
    with pytest.raises(nzpir.TokenStoreError) as info:
        oauth_client(fresh, Exploding()).lookup(TAX_CLIENT)
    e = info.value
    assert e.kind == "token_store"
    assert "load()" in str(e) and "RuntimeError" in str(e)
    assert "abc123" not in str(e)  # the store's own words stay in the cause
    assert isinstance(e.__cause__, RuntimeError)

    with pytest.raises(nzpir.TokenStoreError, match="expires_at"):
        oauth_client(fresh, BadShape()).lookup(TAX_CLIENT)

    client = oauth_client(fresh, FullDisk())
    assert client.oauth is not None
    req = client.oauth.authorization_request()
    _, headers, _ = https(fresh, "GET", req.url, client_cert=False)
    with pytest.raises(nzpir.TokenStoreError) as info:
        client.oauth.complete_authorization(req, headers["location"])
    assert isinstance(info.value.__cause__, OSError)


def test_token_store_must_be_a_path_or_a_store(fresh: nzpir.Sandbox) -> None:
    class OnlyLoad:
        def load(self) -> None:
            return None

    for bad in (42, OnlyLoad(), object()):
        with pytest.raises(TypeError, match="token_store"):
            oauth_client(fresh, bad)
    with pytest.raises(nzpir.ConfigError, match="token_store"):
        oauth_client(fresh, None)
    with pytest.raises(ValueError, match="kind"):
        client = oauth_client(fresh, MemoryStore())
        assert client.oauth is not None
        client.oauth.introspect("x", kind="id")


def test_a_config_file_with_its_store_replaced(fresh: nzpir.Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "nzpir.toml"
    config.write_text(
        f"""
endpoint = "{fresh.url}"
max_retries = 0
[tls]
client_cert = "{fresh.client_cert}"
client_key = "{fresh.client_key}"
ca_cert = "{fresh.ca_cert}"
[auth]
type = "oauth"
client_id = "sandbox-app"
client_secret = "sandbox-app-secret"
redirect_uri = "http://127.0.0.1/callback"
endpoint = "{fresh.oauth_url}"
token_store = "tokens.json"
"""
    )
    store = MemoryStore()
    client = nzpir.Client.from_config(config, token_store=store)
    authorise(fresh, client)
    assert client.lookup(TAX_CLIENT).rate == Decimal("10.5")
    assert store.saved and not (tmp_path / "tokens.json").exists()
    # Without the override, the file the configuration names keeps the tokens.
    client = nzpir.Client.from_config(str(config))
    authorise(fresh, client)
    assert (tmp_path / "tokens.json").exists()
    with pytest.raises(nzpir.ConfigError, match="token_store"):
        nzpir.Client.from_config(fresh.config_path, token_store=store)  # a JWT configuration


class CallsBack(MemoryStore):
    """A store whose save() calls back into its own client, as a careless
    application might (to log a lookup, say)."""

    def __init__(self) -> None:
        super().__init__()
        self.client: Optional[nzpir.Client] = None
        self.reenter = False
        self.seen: List[BaseException] = []

    def save(self, tokens: Dict[str, Any]) -> None:
        if self.reenter and self.client is not None and self.client.oauth is not None:
            self.reenter = False
            try:
                self.client.oauth.refresh()
            except nzpir.NzpirError as e:
                self.seen.append(e)
        super().save(tokens)


def test_a_store_calling_back_into_its_client_raises_instead_of_waiting(
    fresh: nzpir.Sandbox,
) -> None:
    store = CallsBack()
    client = oauth_client(fresh, store)
    store.client = client
    authorise(fresh, client)
    assert client.oauth is not None
    store.reenter = True
    done: List[bool] = []
    t = threading.Thread(target=lambda: done.append(bool(client.oauth and client.oauth.refresh())))
    t.start()
    t.join(60)
    assert not t.is_alive(), "the refresh waited for itself"
    assert len(store.seen) == 1
    assert isinstance(store.seen[0], nzpir.TokenStoreError)
    assert "called back into the same client" in str(store.seen[0])
    assert done == [True]
