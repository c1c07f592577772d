"""nzpir.estimate_pir: IR's PIR rules in Python, exact decimals in and out,
field-naming errors, and the sandbox investors whose answers come from facts."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Dict

import pytest

import nzpir
from conftest import SCHEME


def rate(facts: Dict[str, Any]) -> Any:
    return nzpir.estimate_pir(facts).rate


def test_middle_row_before_and_after_2026() -> None:
    # PIR-OB-012: taxable <= 48,000 and taxable + PIE <= 70,000 (pre-2026).
    e = nzpir.estimate_pir(
        {
            "pir_year": 2025,
            "income": [
                {"year": 2023, "taxable_income": Decimal("48000.00"), "pie_income": 22000},
                {"year": 2024, "taxable_income": "47999.99", "pie_income": "22000.01"},
            ],
        }
    )
    assert e.rate == Decimal("17.5")
    assert isinstance(e.rate, Decimal)
    assert e.rule == "resident_individual"
    assert "48,000" in e.explanation and "70,000" in e.explanation
    assert e.pir_year == 2025
    assert e.decided_by_year == 2024
    assert e.missing == []
    # The same income under the 2026 table is one row lower.
    e = nzpir.estimate_pir(
        {
            "filing_period": "2026-03-31",
            "income": [
                {"year": 2024, "taxable_income": Decimal("4.8E+4"), "pie_income": 22000},
                {"year": 2025, "taxable_income": 53500, "pie_income": Decimal("24600")},
            ],
        }
    )
    assert e.rate == Decimal("17.5")
    assert "53,500" in e.explanation


def test_filing_period_as_a_date() -> None:
    e = nzpir.estimate_pir({"filing_period": datetime.date(2025, 3, 31)})
    assert (e.rate, e.pir_year) == (Decimal("10.5"), 2025)
    with pytest.raises(TypeError):
        nzpir.estimate_pir({"filing_period": datetime.datetime(2025, 3, 31)})
    with pytest.raises(nzpir.InvalidInputError) as info:
        nzpir.estimate_pir({"filing_period": datetime.date(2025, 4, 1)})
    assert info.value.errors[0]["field"] == "filing_period"


@pytest.mark.parametrize(
    ("pir_year", "taxable", "pie", "expected"),
    [
        (2025, "14000", "34000", "10.5"),
        (2025, "14000.01", "0", "17.5"),
        (2025, "48000", "22000.01", "28"),
        (2026, "15600", "37900", "10.5"),
        (2026, "15600.01", "0", "17.5"),
        (2026, "53500", "24600", "17.5"),
        (2026, "53500.01", "0", "28"),
    ],
)
def test_inclusive_bounds(pir_year: int, taxable: str, pie: str, expected: str) -> None:
    year = {"taxable_income": taxable, "pie_income": pie}
    facts = {
        "pir_year": pir_year,
        "income": [dict(year, year=pir_year - 2), dict(year, year=pir_year - 1)],
    }
    assert rate(facts) == Decimal(expected)


def test_every_investor_type() -> None:
    # PIR-OB-009 (IR answers PirRateNotFound; the rules give 0 %).
    for t in ["company", "incorporated_society", "charity", "pie", "superannuation_fund"]:
        e = nzpir.estimate_pir({"investor_type": t})
        assert (e.rate, e.rule) == (Decimal("0"), "zero_rate_entity"), t
    # PIR-OB-010 and PIR-OB-011.
    assert rate({"residency": "non_resident"}) == Decimal("28")
    assert rate({"pir_year": 2026, "income": []}) == Decimal("10.5")
    assert rate({"investor_type": "trustee", "trustee_election": Decimal("17.5")}) == Decimal("17.5")
    assert rate({"residency": "transitional_resident", "zero_rate_pie": True}) == Decimal("0")
    assert (
        rate({"residency": "non_resident", "notified_foreign_investor": True, "zero_rate_pie": True})
        == Decimal("0")
    )


def test_cannot_estimate_names_the_missing_facts() -> None:
    e = nzpir.estimate_pir({"investor_type": "trustee"})
    assert e.rate is None
    assert e.rule == "cannot_estimate"
    assert e.missing == ["trustee_election"]
    e = nzpir.estimate_pir({})
    assert (e.rate, e.missing) == (None, ["pir_year"])
    assert "PirEstimate(rate=None" in repr(e)


def test_bad_facts_raise_invalid_input_naming_each_field() -> None:
    with pytest.raises(nzpir.InvalidInputError) as info:
        nzpir.estimate_pir(
            {
                "pir_year": 2010,
                "investor_type": "person",
                "income": [{"year": 2024, "taxable_income": "12.345", "pie_income": -1}],
            }
        )
    errors = {(e["field"], e["rule"]) for e in info.value.errors}
    assert errors == {
        ("pir_year", "year_range"),
        ("investor_type", "one_of"),
        ("income.taxable_income", "amount"),
        ("income.pie_income", "not_negative"),
    }
    assert all(e["message"] for e in info.value.errors)
    with pytest.raises(TypeError):
        nzpir.estimate_pir([("pir_year", 2025)])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        nzpir.estimate_pir({"income": [{"year": 2024, "taxable_income": object()}]})


def test_sandbox_investors_with_facts(strict: nzpir.Sandbox) -> None:
    client = strict.client()
    # PIR-OB-009 to 012 against the sandbox's fixture (sandbox/README.md).
    assert client.lookup("139280008", pie_ird=SCHEME).not_found
    assert client.lookup("139280016", pie_ird=SCHEME).rate == Decimal("28")
    assert client.lookup("139280024", pie_ird=SCHEME).rate == Decimal("10.5")
    r = client.lookup("139280032", pie_ird=SCHEME, filing_period="2025-03-31")
    assert r.rate == Decimal("17.5")
    r = client.lookup("139280040", pie_ird=SCHEME, filing_period="2026-03-31")
    assert r.rate == Decimal("17.5")
