"""IRD numbers: single checks, normalisation with reasons, and the bulk check."""

from __future__ import annotations

import random

import pytest

import nzpir

# IR's worked examples (valid) and numbers that break each rule.
# Numbers above 150,000,000 are valid since IR raised the ceiling to
# 200,000,000 on 1 April 2026.
VALID = ["49091850", "35901981", "49098576", "136410132", "049091850", "49-091-850", " 049 091 850 ",
         "150000009", "172345603", "199999990", "172-345-603"]
INVALID = {
    "136410133": "ird_check_digit",
    "200000005": "ird_range",
    "150000010": "ird_check_digit",
    "12345": "ird_length",
    "1234567890": "ird_length",
    "999999999": "ird_range",
    "009999999": "ird_range",
    "49O91850": "ird_digits",
    "": "ird_length",
    "49--091850": "ird_digits",
    "４９０９１８５０": "ird_digits",  # full-width digits are not ASCII digits
}


@pytest.mark.parametrize("s", VALID)
def test_valid_numbers(s: str) -> None:
    assert nzpir.is_valid_ird(s) is True
    normal = nzpir.normalise_ird(s)
    assert len(normal) == 9 and normal.isdigit()
    assert nzpir.is_valid_ird(normal)


def test_the_range_message_names_the_new_ceiling() -> None:
    with pytest.raises(nzpir.InvalidIrdError) as info:
        nzpir.normalise_ird("200000005")
    assert "between 10,000,000 and 200,000,000" in str(info.value)
    assert nzpir.valid_irds(["172345603", "200000005"]) == [True, False]


def test_normalize_pads_and_strips_separators() -> None:
    assert nzpir.normalise_ird("49-091-850") == "049091850"
    assert nzpir.normalise_ird("136410132") == "136410132"


@pytest.mark.parametrize("s,reason", sorted(INVALID.items()))
def test_invalid_numbers_raise_with_the_reason(s: str, reason: str) -> None:
    assert nzpir.is_valid_ird(s) is False
    with pytest.raises(nzpir.InvalidIrdError) as info:
        nzpir.normalise_ird(s)
    e = info.value
    assert e.reason == reason
    assert e.kind == "invalid_input"
    assert e.errors == [{"field": "ird", "rule": reason, "message": e.errors[0]["message"]}]
    assert e.errors[0]["message"] and e.errors[0]["message"] in str(e)
    # The number itself is never repeated in the message.
    if len(s) > 3:
        assert s.strip() not in str(e)
    # One tree, and a ValueError for code that only knows the builtins.
    assert isinstance(e, nzpir.InvalidInputError)
    assert isinstance(e, nzpir.NzpirError)
    assert isinstance(e, ValueError)


def test_wrong_types_are_type_errors() -> None:
    with pytest.raises(TypeError):
        nzpir.is_valid_ird(49091850)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        nzpir.normalise_ird(None)  # type: ignore[arg-type]


def _mixed(n: int) -> list[str]:
    rng = random.Random(20240331)
    out = list(VALID) + list(INVALID)
    for _ in range(n):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([7, 8, 9, 10])))
        out.append(digits)
        if rng.random() < 0.1:
            out.append(digits[:3] + "-" + digits[3:])
    return out


def test_bulk_equals_per_item() -> None:
    items = _mixed(5000)
    bulk = nzpir.valid_irds(items)
    assert bulk == [nzpir.is_valid_ird(s) for s in items]
    # A real mix: both outcomes occur many times.
    assert 100 < sum(bulk) < len(bulk) - 100


def test_bulk_takes_any_iterable_of_str() -> None:
    items = ["49091850", "136410133", "49-091-850"]
    expected = [True, False, True]
    assert nzpir.valid_irds(tuple(items)) == expected
    assert nzpir.valid_irds(s for s in items) == expected
    assert nzpir.valid_irds(iter(items)) == expected
    assert nzpir.valid_irds([]) == []


def test_bulk_non_ascii_and_lone_surrogates_are_not_valid() -> None:
    items = ["49091850", "\ud800", "49091850\ud800", "４９０９１８５０", "é49091850", "049 091 850"]
    assert nzpir.valid_irds(items) == [True, False, False, False, False, True]
    assert nzpir.valid_irds(iter(items)) == [True, False, False, False, False, True]
    # The list is unchanged and every item still usable afterwards.
    assert items[0] == "49091850" and nzpir.is_valid_ird(items[5])


def test_bulk_bad_input_names_the_item() -> None:
    with pytest.raises(TypeError, match=r"irds\[1\]: expected str, got int"):
        nzpir.valid_irds(["49091850", 49091850])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="not a single str"):
        nzpir.valid_irds("49091850")
    with pytest.raises(TypeError, match="iterable"):
        nzpir.valid_irds(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        nzpir.valid_irds(None)  # type: ignore[arg-type]


def test_the_old_spelling_still_works_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"normalise_ird\(\)"):
        assert nzpir.normalize_ird("49-091-850") == "049091850"
