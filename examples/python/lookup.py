"""Start a local sandbox, look up investors' suggested PIRs, print the rates.

    python examples/python/lookup.py

Against IR itself, build the client from your own settings instead, e.g.
``nzpir.Client.from_config("nzpir.toml")`` or
``nzpir.Client(environment="test", cert=..., key=..., jwt_cert=..., jwt_key=..., issuer=...)``.
"""

from __future__ import annotations

import logging

import nzpir

SCHEME = "125000002"  # the sandbox's KiwiSaver scheme, whose provider the ready config signs for


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with nzpir.Sandbox() as sb:
        client = sb.client()  # mutual TLS with the registered certificate, M2M JWT
        for ird in ["139276507", "139276310", "49-091-850", "136410132", "136410133"]:
            try:
                result = client.lookup(ird, pie_ird=SCHEME)
            except nzpir.InvalidIrdError as e:
                print(f"{ird}: not a valid IRD number ({e.reason})")
            except nzpir.AuthorisationError as e:
                print(f"{ird}: not ours to ask about ({e.ir_code})")
            else:
                if result.rate is None:
                    print(f"{ird}: IR has no rate for this investor")
                else:
                    print(f"{ird}: suggested PIR {result.rate} %")


if __name__ == "__main__":
    main()
