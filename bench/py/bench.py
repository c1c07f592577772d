"""The Python measurements of bench/run.sh: nzpir's package against what a
Python developer would use instead (requests + PyJWT, python-stdnum).

    bench.py ird PEER CORPUS SECONDS           nzpir | stdnum
    bench.py lookup PEER CONFIG.toml SECONDS   nzpir | nzpir-fresh | requests-reused |
                                               requests-percall | requests-pem | requests-fresh
    bench.py jwt PEER ALG CERT KEY SECONDS     nzpir | pyjwt | pyjwt-pem
    bench.py bulk PEER CONFIG.toml REGISTER.csv CONCURRENCY
                                               nzpir (lookup_many) | requests-pool
                                               (ThreadPoolExecutor of requests + PyJWT)

Each warms up, runs for SECONDS of wall time and prints one JSON line:
{"peer", "items", "secs", "per_sec", "ns_per"}.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import tomllib
from typing import Any, Callable

IRD = "139276507"
PIE_IRD = "125000002"
ISSUER = "nzpir bench"


def timed(secs: float, f: Callable[[], int]) -> tuple[int, float]:
    """Warms up (a tenth of the time, at most 0.5 s), then calls f until secs
    have passed; f returns how many items it did."""
    warm = time.perf_counter() + min(secs / 10, 0.5)
    while time.perf_counter() < warm:
        f()
    items = 0
    start = time.perf_counter()
    while True:
        items += f()
        elapsed = time.perf_counter() - start
        if elapsed >= secs:
            return items, elapsed


def report(peer: str, items: int, elapsed: float, **extra: Any) -> None:
    out = {
        "peer": peer,
        "items": items,
        "secs": round(elapsed, 6),
        "per_sec": round(items / elapsed, 3),
        "ns_per": round(elapsed * 1e9 / items, 3),
    }
    out.update(extra)
    print(json.dumps(out), flush=True)


# --------------------------------------------------------------------------
# IRD numbers


def ird(peer: str, corpus: str, secs: float) -> None:
    with open(corpus, encoding="ascii") as f:
        items = f.read().splitlines()
    if peer == "nzpir":
        import nzpir

        def one_pass() -> list[bool]:
            return nzpir.valid_irds(items)

    elif peer == "stdnum":
        from stdnum.nz import ird as stdnum_ird

        is_valid = stdnum_ird.is_valid

        def one_pass() -> list[bool]:
            return [is_valid(s) for s in items]

    else:
        raise SystemExit(f"unknown ird peer {peer}")
    valid = sum(one_pass())
    n, elapsed = timed(secs, lambda: len(one_pass()))
    report(peer, n, elapsed, valid=valid)


# --------------------------------------------------------------------------
# Lookups


class Settings:
    """What the hand-written peers need, read from the same nzpir.toml."""

    def __init__(self, path: str) -> None:
        with open(path, "rb") as f:
            cfg = tomllib.load(f)
        self.url = cfg["endpoint"].rstrip("/") + "/gateway/calculators/pir"
        self.cert = cfg["tls"]["client_cert"]
        self.key = cfg["tls"]["client_key"]
        self.ca = cfg["tls"]["ca_cert"]
        self.jwt_cert = cfg["auth"]["cert"]
        self.jwt_key = cfg["auth"]["key"]
        self.issuer = cfg["auth"].get("issuer", ISSUER)


def thumbprint(cert_path: str) -> str:
    """sub: the SHA-256 of the certificate's DER, upper-case hex."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest().upper()


def claims(issuer: str, sub: str) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": issuer, "sub": sub, "startLogon": "", "iat": now, "exp": now + 300}


def lookup(peer: str, config: str, secs: float) -> None:
    if peer.startswith("nzpir"):
        import nzpir

        if peer == "nzpir":
            client = nzpir.Client.from_config(config)

            def one() -> int:
                r = client.lookup(IRD, pie_ird=PIE_IRD)
                assert r.rate is not None
                return 1

        elif peer == "nzpir-fresh":
            # A new client per call, which also loads its keys and mints a
            # JWT (`max_idle_connections = 0` in the configuration is the
            # fresh connection alone).
            def one() -> int:
                r = nzpir.Client.from_config(config).lookup(IRD, pie_ird=PIE_IRD)
                assert r.rate is not None
                return 1

        else:
            raise SystemExit(f"unknown lookup peer {peer}")
        n, elapsed = timed(secs, one)
        report(peer, n, elapsed)
        return

    import jwt
    import requests
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    s = Settings(config)
    sub = thumbprint(s.jwt_cert)
    with open(s.jwt_key, "rb") as f:
        pem = f.read()
    key = load_pem_private_key(pem, password=None)
    reused = jwt.encode(claims(s.issuer, sub), key, algorithm="RS256", headers={"kid": "M2M"})
    payload = {"IRD": IRD, "PieIRD": PIE_IRD}

    def check(r: requests.Response) -> int:
        r.raise_for_status()
        assert r.json()["SuggestedPirRate"] is not None
        return 1

    if peer == "requests-fresh":
        # A new Session per call (what requests.post does): a new connection
        # and a full TLS handshake every time; the JWT is reused.
        def one() -> int:
            with requests.Session() as sess:
                return check(
                    sess.post(
                        s.url,
                        json=payload,
                        headers={"Authorization": reused},
                        cert=(s.cert, s.key),
                        verify=s.ca,
                    )
                )

    else:
        sess = requests.Session()
        sess.cert = (s.cert, s.key)
        sess.verify = s.ca
        if peer == "requests-reused":

            def token() -> str:
                return reused

        elif peer == "requests-percall":

            def token() -> str:
                return jwt.encode(
                    claims(s.issuer, sub), key, algorithm="RS256", headers={"kid": "M2M"}
                )

        elif peer == "requests-pem":
            # As PyJWT's README shows: the PEM text as the key, parsed on every call.
            def token() -> str:
                return jwt.encode(
                    claims(s.issuer, sub), pem, algorithm="RS256", headers={"kid": "M2M"}
                )

        else:
            raise SystemExit(f"unknown lookup peer {peer}")

        def one() -> int:
            return check(sess.post(s.url, json=payload, headers={"Authorization": token()}))

    n, elapsed = timed(secs, one)
    report(peer, n, elapsed)


# --------------------------------------------------------------------------
# JWT minting


def mint(peer: str, alg: str, cert: str, key_path: str, secs: float) -> None:
    with open(cert, "rb") as f:
        cert_pem = f.read()
    with open(key_path, "rb") as f:
        key_pem = f.read()
    if peer == "nzpir":
        import nzpir

        # What a user calls: the API takes the PEMs (or paths) every time.
        def one() -> int:
            nzpir.mint_jwt(cert_pem, key_pem, issuer=ISSUER, alg=alg)
            return 1

    else:
        import jwt
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        sub = thumbprint(cert)
        key: Any = load_pem_private_key(key_pem, password=None) if peer == "pyjwt" else key_pem
        if peer not in ("pyjwt", "pyjwt-pem"):
            raise SystemExit(f"unknown jwt peer {peer}")

        def one() -> int:
            jwt.encode(claims(ISSUER, sub), key, algorithm=alg, headers={"kid": "M2M"})
            return 1

    n, elapsed = timed(secs, one)
    report(peer, n, elapsed)


# --------------------------------------------------------------------------
# A whole register


def read_register(path: str) -> list[tuple[str, str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return [(row["IRD"], row["PieIRD"]) for row in csv.DictReader(f)]


def bulk(peer: str, config: str, register: str, concurrency: int) -> None:
    """Every row of the register once, `concurrency` lookups at a time; one
    run, timed from the first request to the last answer."""
    rows = read_register(register)
    if peer == "nzpir":
        import nzpir

        client = nzpir.Client.from_config(config)
        client.lookup(IRD, pie_ird=PIE_IRD)  # connect and mint the JWT, as the pool warms too
        requests_ = [{"ird": i, "pie_ird": p} for i, p in rows]
        start = time.perf_counter()
        results = client.lookup_many(requests_, concurrency=concurrency)
        elapsed = time.perf_counter() - start
        rated = sum(1 for r in results if isinstance(r, nzpir.LookupResult) and r.rate is not None)
    elif peer == "requests-pool":
        import threading
        from concurrent.futures import ThreadPoolExecutor

        import jwt
        import requests
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        s = Settings(config)
        with open(s.jwt_key, "rb") as f:
            key = load_pem_private_key(f.read(), password=None)
        token = jwt.encode(
            claims(s.issuer, thumbprint(s.jwt_cert)), key, algorithm="RS256", headers={"kid": "M2M"}
        )
        local = threading.local()

        def session() -> requests.Session:
            sess = getattr(local, "sess", None)
            if sess is None:
                sess = requests.Session()
                sess.cert = (s.cert, s.key)
                sess.verify = s.ca
                sess.headers["Authorization"] = token
                local.sess = sess
            return sess

        def one(row: tuple[str, str]) -> bool:
            r = session().post(s.url, json={"IRD": row[0], "PieIRD": row[1]})
            return r.status_code == 200 and r.json().get("SuggestedPirRate") is not None

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, [(IRD, PIE_IRD)] * concurrency))  # connect every thread once
            start = time.perf_counter()
            rated = sum(pool.map(one, rows))
            elapsed = time.perf_counter() - start
    else:
        raise SystemExit(f"unknown bulk peer {peer}")
    report(peer, len(rows), elapsed, rated=rated)


def main(argv: list[str]) -> None:
    match argv:
        case ["ird", peer, corpus, secs]:
            ird(peer, corpus, float(secs))
        case ["lookup", peer, config, secs]:
            lookup(peer, config, float(secs))
        case ["jwt", peer, alg, cert, key, secs]:
            mint(peer, alg, cert, key, float(secs))
        case ["bulk", peer, config, register, concurrency]:
            bulk(peer, config, register, int(concurrency))
        case _:
            raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
