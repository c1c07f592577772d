"""The ``nzpir`` logger follows the convention for libraries: it carries a
``logging.NullHandler``, so a program that never configures ``logging`` sees
nothing on stderr (not even through Python's last-resort handler), and one
that does gets the records, scrubbed of personal data."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from typing import Tuple

import nzpir
from conftest import RATE_28

# A program of its own, so that no logging configuration (pytest's capture
# included) is in place unless it makes one. The lookup names no PieIRD, so
# the strict sandbox refuses it (PIR101) and the core logs a warning.
PROGRAM = textwrap.dedent(
    """
    import logging, sys
    import nzpir

    if sys.argv[1] == "configured":
        logging.basicConfig(
            level=logging.DEBUG, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s"
        )
    with nzpir.Sandbox("strict") as sb:
        client = sb.client(max_retries=0)
        try:
            client.lookup(sys.argv[2])
        except nzpir.RejectedError as e:
            print("refused", e.ir_code)
    """
)


def run(mode: str) -> Tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode, RATE_28],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout, done.stderr


def test_the_nzpir_logger_has_a_null_handler() -> None:
    # Importing the package is what adds it.
    logger = logging.getLogger(nzpir.__name__)
    handlers = logger.handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers), handlers
    # Only that: where records go is the application's choice.
    assert all(isinstance(h, logging.NullHandler) for h in handlers), handlers
    assert logger.propagate


def test_a_failed_lookup_prints_nothing_when_logging_is_not_configured() -> None:
    out, err = run("unconfigured")
    assert out.strip() == "refused PIR101"
    assert err == ""


def test_configured_logging_receives_the_record_scrubbed() -> None:
    out, err = run("configured")
    assert out.strip() == "refused PIR101"
    lines = [line for line in err.splitlines() if line.startswith("nzpir")]
    assert any(
        line.startswith("nzpir WARNING") and "op=lookup" in line and "ir_code=PIR101" in line
        for line in lines
    ), err
    for needle in [RATE_28, "eyJ", "PRIVATE KEY"]:
        assert needle not in err, needle
