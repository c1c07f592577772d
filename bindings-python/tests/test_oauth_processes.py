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

import nzpir
from test_oauth import TAX_CLIENT, authorise, oauth_client

WORKER = r"""
import json, sys, time
import nzpir
kwargs = json.loads(sys.argv[1])
client = nzpir.Client(**kwargs)
rates = []
for _ in range(3):
    rates.append(str(client.lookup(sys.argv[2]).rate))
    time.sleep(1.1)
print(json.dumps(rates))
"""


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


def test_processes_sharing_a_token_file(tmp_path: Path) -> None:
    with nzpir.Sandbox(access_token_ttl=2, ir003_limit=0) as sb:
        store = tmp_path / "tokens.json"
        authorise(sb, oauth_client(sb, store))
        args = json.dumps(worker_kwargs(sb, store))
        time.sleep(2.1)  # the stored access token has expired: every process needs a refresh
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, args, TAX_CLIENT],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(5)
        ]
        results: List[List[str]] = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            results.append(json.loads(out))
        assert results == [["10.5"] * 3] * 5
        refreshes = sb.stats()["token_requests"]["refresh_token"]
        # At least one refresh per expiry, never one per process and lookup.
        assert 1 <= refreshes < 15
        # No spent refresh token was ever sent again (IR revokes the grant then).
        assert sb.stats()["refresh_replays"] == 0
        # The stored grant is still live.
        again = oauth_client(sb, store)
        assert again.oauth is not None
        assert again.oauth.introspect(kind="refresh")["active"] is True
