"""Lookups against a live strict sandbox over mutual TLS: every outcome, the
request's parts in every accepted form, and local validation."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

import nzpir
from conftest import NOT_FOUND, PIE, RATE_10_5, RATE_17_5, RATE_28, SCHEME, SOFT_MATCH


def test_suggested_rates_are_exact_decimals(strict: nzpir.Sandbox) -> None:
    client = strict.client()
    r = client.lookup(RATE_28, pie_ird=SCHEME)
    assert r.rate == Decimal("28") and isinstance(r.rate, Decimal)
    assert r.not_found is False
    assert (r.ird, r.pie_ird) == (RATE_28, SCHEME)
    r = client.lookup(ird=RATE_10_5, pie_ird=SCHEME)
    # Exact: 10.5 is not 10.4999...
    assert r.rate == Decimal("10.5") and str(r.rate) == "10.5"
    assert r.rate.as_tuple() == Decimal("10.5").as_tuple()


def test_not_found(strict: nzpir.Sandbox) -> None:
    r = strict.client().lookup(NOT_FOUND, pie_ird=SCHEME)
    assert r.not_found is True
    assert r.rate is None
    assert r.ird == NOT_FOUND


def test_human_forms_of_ird_are_normalised(strict: nzpir.Sandbox) -> None:
    r = strict.client().lookup("49-091-850", pie_ird="125-000-002")
    assert (r.ird, r.pie_ird) == (NOT_FOUND, SCHEME)


def test_repr_hides_the_ird_numbers(strict: nzpir.Sandbox) -> None:
    r = strict.client().lookup(RATE_28, pie_ird=SCHEME)
    text = repr(r)
    assert RATE_28 not in text and SCHEME not in text
    assert "Decimal('28')" in text and "<redacted>" in text
    assert RATE_28 not in str(r)


def test_soft_match_with_objects(strict: nzpir.Sandbox) -> None:
    client = strict.client(start_logon="tuatara.admin")
    r = client.lookup(
        SOFT_MATCH,
        pie_ird=PIE,
        name=nzpir.Name("Gary", "Allen"),
        dob=datetime.date(1990, 1, 2),
        address=nzpir.Address("123 Ha Crescent", "Auckland", "NZ", post_code="2104"),
    )
    assert r.rate == Decimal("28")


def test_soft_match_with_dicts_and_strings(strict: nzpir.Sandbox) -> None:
    client = strict.client(start_logon="tuatara.admin")
    r = client.lookup(
        SOFT_MATCH,
        pie_ird=PIE,
        name={"first_name": "Gary", "last_name": "Allen", "middle_name": None},
        dob="1990-01-02",
        address={"street": "123 Ha Crescent", "city": "Auckland", "country": "NZ"},
    )
    assert r.rate == Decimal("28")
    r = client.lookup(
        SOFT_MATCH,
        pie_ird=PIE,
        formatted_name="Allen, Gary",
        dob=datetime.date(1990, 1, 2),
        formatted_address="123 Ha Crescent, Auckland 2104",
    )
    assert r.rate == Decimal("28")
    # Without the soft-match data the investor is tied to nobody.
    with pytest.raises(nzpir.AuthorisationError) as info:
        client.lookup(SOFT_MATCH, pie_ird=PIE)
    assert info.value.ir_code == "EV1042" or info.value.ir_code == "EV1043"


def test_filing_period_as_date_or_text(strict: nzpir.Sandbox) -> None:
    today = datetime.date.today()
    year = today.year if today >= datetime.date(today.year, 4, 1) else today.year - 1
    client = strict.client()
    for period in (datetime.date(year, 3, 31), f"{year}-03-31", year, str(year)):
        assert client.lookup(RATE_28, pie_ird=SCHEME, filing_period=period).rate == Decimal("28")


def test_a_filing_period_year_that_makes_no_period_is_a_field_error(strict: nzpir.Sandbox) -> None:
    before = strict.stats()["pir_requests"]
    for year in (26, -2026, 20260, 10**30):
        with pytest.raises(nzpir.InvalidInputError) as info:
            strict.client().lookup(RATE_28, pie_ird=SCHEME, filing_period=year)
        assert [(x["field"], x["rule"]) for x in info.value.field_errors] == [
            ("FilingPeriod", "year_range")
        ]
    assert strict.stats()["pir_requests"] == before


def test_a_name_or_address_given_in_part_is_reported_by_validation(
    strict: nzpir.Sandbox,
) -> None:
    client = strict.client()
    forms: list[tuple[nzpir.Name | dict[str, str | None], nzpir.Address | dict[str, str | None]]] = [
        (nzpir.Name(first_name="Gary"), nzpir.Address(street="1 Queen St", country="NZ")),
        ({"first_name": "Gary"}, {"street": "1 Queen St", "country": "NZ"}),
    ]
    for name, address in forms:
        with pytest.raises(nzpir.InvalidInputError) as info:
            client.lookup(RATE_28, pie_ird=SCHEME, name=name, address=address)
        assert [(x["field"], x["rule"]) for x in info.value.field_errors] == [
            ("Name.LastName", "required"),
            ("Address.City", "required"),
        ]
    assert nzpir.Name().first_name is None


def test_local_validation_reports_every_rule_and_sends_nothing(strict: nzpir.Sandbox) -> None:
    client = strict.client()
    before = strict.stats()["pir_requests"]
    with pytest.raises(nzpir.InvalidInputError) as info:
        client.lookup(
            "136410133",
            pie_ird=SCHEME,
            filing_period="2024-02-30",
            address={"street": "1 Queen St", "city": "Auckland", "country": "ZZ"},
            name={"first_name": "A"},
        )
    e = info.value
    assert type(e) is nzpir.InvalidInputError  # several fields: not only the IRD
    assert isinstance(e, ValueError)
    rules = {(x["field"], x["rule"]) for x in e.errors}
    assert ("IRD", "ird_check_digit") in rules
    assert ("FilingPeriod", "calendar_date") in rules
    assert ("Address.Country", "country_code") in rules
    assert ("Name.LastName", "required") in rules
    assert all(x["message"] for x in e.errors)
    assert (e.kind, e.ir_code, e.http_status, e.attempts) == ("invalid_input", None, None, 0)
    assert "136410133" not in str(e) and "Queen" not in str(e)
    assert strict.stats()["pir_requests"] == before


def test_an_invalid_ird_alone_is_an_invalid_ird_error(strict: nzpir.Sandbox) -> None:
    with pytest.raises(nzpir.InvalidIrdError) as info:
        strict.client().lookup("136410133", pie_ird=SCHEME)
    assert info.value.reason == "ird_check_digit"
    assert info.value.errors[0]["field"] == "IRD"


def test_filing_period_rules(strict: nzpir.Sandbox) -> None:
    client = strict.client()
    with pytest.raises(nzpir.InvalidInputError) as info:
        client.lookup(RATE_28, pie_ird=SCHEME, filing_period=datetime.date(2024, 3, 30))
    assert info.value.errors[0]["rule"] == "filing_period_march_31"
    # Sent anyway, IR's own answer is PER100.
    unchecked = strict.client(validate_locally=False)
    with pytest.raises(nzpir.RejectedError) as rejected:
        unchecked.lookup(RATE_28, pie_ird=SCHEME, filing_period="2024-03-30")
    assert (rejected.value.ir_code, rejected.value.http_status) == ("PER100", 400)


def test_status(strict: nzpir.Sandbox) -> None:
    client = strict.client()
    client.status()  # raises unless the gateway answers OK
    assert client.endpoint == strict.url
    assert client.user_agent.endswith(" python")
    assert client.auth == "jwt"
    assert client.oauth is None
    assert strict.url in repr(client)


def test_a_config_file_and_keyword_arguments_agree(strict: nzpir.Sandbox) -> None:
    kwargs = strict.client_kwargs()
    a = nzpir.Client.from_config(strict.config_path)
    b = nzpir.Client(**kwargs)
    assert a.lookup(RATE_28, pie_ird=SCHEME).rate == b.lookup(RATE_28, pie_ird=SCHEME).rate


def test_pem_bytes_work_like_paths(strict: nzpir.Sandbox) -> None:
    kwargs = strict.client_kwargs()
    for k in ("cert", "key", "ca", "jwt_cert", "jwt_key"):
        with open(kwargs[k], "rb") as f:
            kwargs[k] = f.read()
    r = nzpir.Client(**kwargs).lookup(RATE_10_5, pie_ird=SCHEME)
    assert r.rate == Decimal("10.5")


def test_the_ready_client_for_another_party(strict: nzpir.Sandbox) -> None:
    # A tax preparer's logon, for a PIE it prepares returns for.
    client = strict.client(start_logon="ruru.agent")
    assert client.lookup(RATE_17_5, pie_ird=PIE).rate == Decimal("17.5")


def test_ir_mock_profile(mock: nzpir.Sandbox) -> None:
    client = mock.client()
    assert client.lookup(RATE_28).rate == Decimal("28")
    assert client.lookup(RATE_17_5, pie_ird="130000002").rate == Decimal("17.5")
    assert client.lookup(NOT_FOUND).not_found
    with pytest.raises(nzpir.RejectedError) as info:
        client.lookup(RATE_17_5)
    assert info.value.ir_code == "PIR101"
    with pytest.raises(nzpir.AuthorisationError) as auth:
        client.lookup("139276329")
    assert auth.value.ir_code == "EV1043"
