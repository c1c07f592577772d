"""Library logs reach Python's `logging` under the `nzpir` logger, honour
levels set at any time, and never carry IRD numbers, names, dates of birth,
addresses, tokens or keys, at any level."""

from __future__ import annotations

import datetime
import logging
from typing import List

import pytest

import nzpir
from conftest import PIE, RATE_28, SCHEME, SOFT_MATCH, https
from test_oauth import MemoryStore, TAX_CLIENT, oauth_client


def test_debug_logs_are_useful_and_carry_nothing_personal_or_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets: List[str] = []
    with caplog.at_level(logging.DEBUG), nzpir.Sandbox() as sb:
        client = sb.client(max_retries=1, retry_base_delay=0.01)
        client.lookup(RATE_28, pie_ird=SCHEME)
        sb.set_fault("status", status=503, times=1)
        client.lookup(RATE_28, pie_ird=SCHEME)  # retried once
        with pytest.raises(nzpir.AuthorisationError):
            client.lookup(SOFT_MATCH, pie_ird=SCHEME)
        tuatara = sb.client(start_logon="tuatara.admin")
        tuatara.lookup(
            SOFT_MATCH,
            pie_ird=PIE,
            name=nzpir.Name("Gary", "Allen"),
            dob=datetime.date(1990, 1, 2),
            address=nzpir.Address("123 Ha Crescent", "Auckland", "NZ"),
        )
        with pytest.raises(nzpir.AuthenticationError):
            sb.client(bearer_token="bearer-secret-42").lookup(RATE_28, pie_ird=SCHEME)

        store = MemoryStore()
        oc = oauth_client(sb, store)
        assert oc.oauth is not None
        req = oc.oauth.authorization_request()
        _, headers, _ = https(sb, "GET", req.url, client_cert=False)
        first = oc.oauth.complete_authorization(req, headers["location"])
        oc.oauth.refresh()
        oc.lookup(TAX_CLIENT)
        assert store.tokens is not None
        secrets += [first.access_token, first.refresh_token or "", req.code_verifier]
        secrets += [store.tokens["access_token"], store.tokens["refresh_token"]]

    ours = [r for r in caplog.records if r.name == "nzpir" or r.name.startswith("nzpir.")]
    messages = [r.getMessage() for r in ours]
    text = "\n".join(f"{r.name} {r.levelname} {r.getMessage()}" for r in caplog.records)
    # One line per call, with the outcome; the retry at debug; the refresh.
    assert any("op=lookup outcome=suggested" in m for m in messages), text
    assert any("outcome=authorisation" in m and "ir_code=EV1043" in m for m in messages), text
    assert any(r.levelno == logging.DEBUG and "retrying" in r.getMessage() for r in ours), text
    assert any("refreshed" in m for m in messages), text
    for needle in [RATE_28, SCHEME, SOFT_MATCH, PIE, TAX_CLIENT, "Gary", "Allen", "1990-01-02",
                   "Ha Crescent", "bearer-secret-42", "eyJ", "PRIVATE KEY", *secrets]:
        assert needle and needle not in text, needle


def test_levels_set_after_import_are_honoured(
    strict: nzpir.Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    client = strict.client()
    with caplog.at_level(logging.WARNING, logger="nzpir"):
        client.lookup(RATE_28, pie_ird=SCHEME)
        with pytest.raises(nzpir.RejectedError):
            client.lookup(RATE_28)
    levels = [r.levelno for r in caplog.records if r.name == "nzpir"]
    assert levels == [logging.WARNING]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nzpir"):
        client.lookup(RATE_28, pie_ird=SCHEME)
    assert [r.levelno for r in caplog.records if r.name == "nzpir"] == [logging.INFO]


def test_a_hostile_error_body_reaches_neither_the_error_nor_the_log(
    strict: nzpir.Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """What a hostile or broken server might send: a "code" that is an IRD
    number, and a message with a person's name and address."""
    hostile = (
        '{"errors":[{"code":"049091850","type":"validation",'
        '"message":"Gary Allen, 1 Queen St, IRD 049091850"},'
        '{"code":"=HYPERLINK(\\"http://evil.example\\")","type":"validation","message":"Queen St"}]}'
    )
    strict.set_fault("answer", status=400, body=hostile, times=1)
    client = strict.client(max_retries=0)
    with caplog.at_level(logging.DEBUG), pytest.raises(nzpir.RejectedError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME)
    e = info.value
    assert e.ir_code == "UNRECOGNISED"
    assert e.http_status == 400
    shown = "\n".join([str(e), repr(e), *(r.getMessage() for r in caplog.records)])
    for needle in ["049091850", "Gary", "Queen", "HYPERLINK", "evil.example"]:
        assert needle not in shown, needle
    # The fault is checked where it is defined: one rule for every surface.
    with pytest.raises(ValueError, match="between 400 and 599"):
        strict.set_fault("answer", status=200, body="{}")
    with pytest.raises(ValueError, match="unknown variant"):
        strict.set_fault("no_such_fault")
