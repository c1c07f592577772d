"""Several Python processes on one OAuth token file, with access tokens that
live 2 s: they refresh in turn under the store's lock, adopt what another
process stored, and never replay a spent refresh token."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

import nzpir
from conftest import https
from test_oauth import TAX_CLIENT, authorise, oauth_client

# Each worker ends with the same run: three lookups a little over a second
# apart with the client built from `kwargs`, the rates printed as JSON.
LOOKUPS = r"""
client = nzpir.Client(**kwargs)
rates = []
for _ in range(3):
    rates.append(str(client.lookup(sys.argv[2]).rate))
    time.sleep(1.1)
print(json.dumps(rates))
"""

WORKER = r"""
import json, sys, time
import nzpir
kwargs = json.loads(sys.argv[1])
""" + LOOKUPS


def worker_kwargs(sb: nzpir.Sandbox, store: Path) -> Dict[str, Any]:
    kwargs = dict(sb.client_kwargs())
    for key in ("jwt_cert", "jwt_key", "jwt_alg", "issuer", "jwt_ttl"):
        kwargs.pop(key, None)
    kwargs.update(
        oauth_client_id="sandbox-app",
        oauth_client_secret="sandbox-app-secret",
        oauth_redirect_uri="http://127.0.0.1/callback",
        oauth_endpoint=sb.oauth_url,
        token_store=str(store),
        max_retries=0,
    )
    return kwargs


def run_workers(script: str, args: str, n: int = 5) -> List[List[str]]:
    """Runs `script` in `n` Python processes at once; what each printed."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, args, TAX_CLIENT],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    results: List[List[str]] = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_processes_sharing_a_token_file(tmp_path: Path) -> None:
    with nzpir.Sandbox(access_token_ttl=2, ir003_limit=0) as sb:
        store = tmp_path / "tokens.json"
        authorise(sb, oauth_client(sb, store))
        args = json.dumps(worker_kwargs(sb, store))
        time.sleep(2.1)  # the stored access token has expired: every process needs a refresh
        # Each of five processes looked its investor up three times.
        assert run_workers(WORKER, args) == [["10.5"] * 3] * 5
        refreshes = sb.stats()["token_requests"]["refresh_token"]
        # At least one refresh per expiry, never one per process and lookup.
        assert 1 <= refreshes < 15
        # No spent refresh token was ever sent again (IR revokes the grant then).
        assert sb.stats()["refresh_replays"] == 0
        # The stored grant is still live.
        again = oauth_client(sb, store)
        assert again.oauth is not None
        assert again.oauth.introspect(kind="refresh")["active"] is True


HOST_STORE_WORKER = r"""
import contextlib, fcntl, json, os, sys, time
import nzpir

class FlockStore:
    # A host's own store: JSON in a file, one lock file across processes.
    def __init__(self, path, trace):
        self.path, self.trace = path, trace
        self.held = False

    def note(self, what):
        with open(self.trace, "a") as t:
            t.write(f"{os.getpid()} {what} {int(self.held)}\n")

    @contextlib.contextmanager
    def lock(self):
        with open(self.path + ".lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            self.held = True
            self.note("locked")
            try:
                yield
            finally:
                self.note("unlocking")
                self.held = False
                fcntl.flock(f, fcntl.LOCK_UN)

    def load(self):
        self.note("load")
        try:
            with open(self.path) as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def save(self, tokens):
        self.note("save")
        tmp = self.path + f".{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(tokens, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

kwargs = json.loads(sys.argv[1])
kwargs["token_store"] = FlockStore(kwargs.pop("store_path"), kwargs.pop("trace"))
""" + LOOKUPS


def test_processes_sharing_a_host_store_with_a_lock(tmp_path: Path) -> None:
    """A Python store with `lock()`: every refresh happens inside the
    host's lock, so five processes never replay a spent refresh token."""
    with nzpir.Sandbox(access_token_ttl=2, ir003_limit=0) as sb:
        store = tmp_path / "tokens.json"
        trace = tmp_path / "trace"
        # Authorise through a plain store over the same file.
        class Plain:
            def load(self) -> Any:
                return json.loads(store.read_text()) if store.exists() else None

            def save(self, tokens: Dict[str, Any]) -> None:
                store.write_text(json.dumps(tokens))

        authorise(sb, oauth_client(sb, Plain()))
        kwargs = worker_kwargs(sb, store)
        kwargs.pop("token_store")
        kwargs.update(store_path=str(store), trace=str(trace))
        args = json.dumps(kwargs)
        time.sleep(2.1)  # every process starts with an expired access token
        # Each of five processes looked its investor up three times.
        assert run_workers(HOST_STORE_WORKER, args) == [["10.5"] * 3] * 5
        assert sb.stats()["refresh_replays"] == 0
        refreshes = sb.stats()["token_requests"]["refresh_token"]
        assert 1 <= refreshes < 15
        lines = [line.split() for line in trace.read_text().splitlines()]
        saves = [line for line in lines if line[1] == "save"]
        # Every save (one per refresh) happened inside the host's lock.
        assert len(saves) == refreshes
        assert all(held == "1" for _, _, held in saves)
        # The core entered and left the lock as often.
        locked = sum(1 for line in lines if line[1] == "locked")
        assert locked >= refreshes
        assert locked == sum(1 for line in lines if line[1] == "unlocking")


def test_a_store_lock_that_is_not_a_context_manager(tmp_path: Path) -> None:
    with nzpir.Sandbox(access_token_ttl=2) as sb:

        class Bad:
            tokens: Any = None

            def lock(self) -> int:
                return 42

            def load(self) -> Any:
                return self.tokens

            def save(self, tokens: Dict[str, Any]) -> None:
                self.tokens = tokens

        bad = Bad()
        client = oauth_client(sb, bad)
        assert client.oauth is not None
        req = client.oauth.authorization_request()
        _, headers, _ = https(sb, "GET", req.url, client_cert=False)
        with pytest.raises(nzpir.TokenStoreError, match="context manager"):
            client.oauth.complete_authorization(req, headers["location"])
        assert bad.tokens is None
