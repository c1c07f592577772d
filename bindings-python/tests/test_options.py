"""The options schema's cases (tests/options/cases.json, made by the core
from the schema): each bad value given as a keyword of `nzpir.Client` gives
the same rule as every other surface, the setting named as the keyword."""

from __future__ import annotations

import json
import pathlib
from typing import Any, Dict, List

import pytest

import nzpir

CASES: List[Dict[str, Any]] = json.loads(
    (pathlib.Path(__file__).parents[2] / "tests" / "options" / "cases.json").read_text()
)


def test_the_table_covers_every_setting() -> None:
    names = {c["setting"] for c in CASES}
    assert {"environment", "key", "max_retries", "max_idle_connections", "token_store"} <= names
    assert len(names) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["setting"] for c in CASES])
def test_a_bad_value_names_the_keyword(case: Dict[str, Any]) -> None:
    py = case["python"]
    expected = TypeError if py["wrong_type"] else nzpir.ConfigError
    with pytest.raises(expected) as info:
        nzpir.Client(**{py["name"]: py["value"]})
    assert str(info.value) == py["error"]
    assert getattr(info.value, "setting") == py["name"]
    if not py["wrong_type"]:
        assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("case", CASES, ids=[c["setting"] for c in CASES])
def test_a_bad_value_in_a_file_names_the_files_key(case: Dict[str, Any], tmp_path: pathlib.Path) -> None:
    # The value came from the file, so the error names the file's key, as
    # the C ABI and the TOML file do.
    path = tmp_path / "nzpir.json"
    path.write_text(case["json"]["document"])
    expected = TypeError if case["json"]["wrong_type"] else nzpir.ConfigError
    with pytest.raises(expected) as info:
        nzpir.Client.from_config(path)
    assert str(info.value) == case["json"]["error"]
    assert getattr(info.value, "setting") == case["python"]["name"]


def test_a_file_named_in_a_file_is_named_by_the_files_key(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "nzpir.toml"
    path.write_text('environment = "test"\n[tls]\nclient_cert = "/nonexistent/c.pem"\nclient_key = "/nonexistent/k.pem"\n')
    with pytest.raises(nzpir.ConfigError, match="^config `tls.client_cert`: cannot read /nonexistent/c.pem") as info:
        nzpir.Client.from_config(path)
    assert getattr(info.value, "setting") == "cert"
    # Given as a keyword, it is named as the keyword.
    with pytest.raises(nzpir.ConfigError, match="^config `cert`: cannot read /nonexistent/c.pem"):
        nzpir.Client(environment="test", cert="/nonexistent/c.pem", key="/nonexistent/k.pem")


def test_from_configs_token_store_is_named_as_its_argument(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "nzpir.toml"
    path.write_text('environment = "mock"\n')
    with pytest.raises(nzpir.ConfigError, match="^config `token_store`: is only used with OAuth"):
        nzpir.Client.from_config(path, token_store=tmp_path / "tokens.json")


def test_the_spellings_once_divergent_are_one() -> None:
    # The same alias, case rule and cap as the TOML file and Node.
    for env in ("prod", "PRODUCTION"):
        with pytest.raises(nzpir.ConfigError, match="`cert`"):
            nzpir.Client(environment=env)  # mutual TLS needs a certificate
    with pytest.raises(nzpir.ConfigError, match="must be a whole number from 0 to 100"):
        nzpir.Client(endpoint="https://127.0.0.1:1", max_retries=101)
    client = nzpir.Client(endpoint="https://127.0.0.1:1", connection="CLOUD", max_idle_connections=0)
    assert client.endpoint == "https://127.0.0.1:1"
