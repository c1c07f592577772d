"""OAuth as a tax preparer's app would run it, against the sandbox's OAuth
server, with the tokens kept by your own Python object.

    python examples/python/oauth_flow.py

In a real app the person opens ``request.url`` in a browser, signs in to myIR
and consents; IR redirects to your redirect URI, and you pass that URL to
``client.oauth.complete``. Here the sandbox's fixture consents at once.
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.parse
from typing import Any, Dict, Optional

import nzpir


class JsonFileStore:
    """Any object with load() and save() can keep the tokens (a database row,
    a secrets manager...). IR's refresh tokens are single-use: save durably."""

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self) -> Optional[Dict[str, Any]]:
        try:
            with open(self.path) as f:
                data: Dict[str, Any] = json.load(f)
                return data
        except FileNotFoundError:
            return None

    def save(self, tokens: Dict[str, Any]) -> None:
        with open(self.path, "w") as f:
            json.dump(tokens, f)


def browser(sb: nzpir.Sandbox, url: str) -> str:
    """Stands in for the person's browser: returns where IR redirects to."""
    u = urllib.parse.urlsplit(url)
    ctx = ssl.create_default_context(cafile=sb.ca_cert)
    conn = http.client.HTTPSConnection(u.hostname or "", u.port, context=ctx)
    conn.request("GET", f"{u.path}?{u.query}")
    location = conn.getresponse().getheader("Location") or ""
    conn.close()
    return location


def main() -> None:
    import tempfile

    with nzpir.Sandbox() as sb, tempfile.TemporaryDirectory() as tmp:
        client = sb.client(
            oauth_client_id="sandbox-app",  # consented to by the tax preparer ruru.agent
            oauth_client_secret="sandbox-app-secret",
            oauth_redirect_uri="http://127.0.0.1/callback",
            oauth_endpoint=sb.oauth_url,
            token_store=JsonFileStore(f"{tmp}/tokens.json"),
        )
        oauth = client.oauth
        assert oauth is not None
        request = oauth.authorization_request()
        print("send the browser to", request.url.split("?")[0], "...")
        tokens = oauth.complete_authorization(request, browser(sb, request.url))
        print("authorised:", tokens)  # the repr never shows the tokens
        result = client.lookup("139439976")  # a client of the tax preparer
        print("suggested PIR", result.rate, "%")
        print("rotated:", oauth.refresh())
        print("live:", oauth.introspect()["active"])
        oauth.revoke()
        try:
            client.lookup("139439976")
        except nzpir.ConsentRequiredError:
            print("revoked: the person must authorise again")


if __name__ == "__main__":
    main()
