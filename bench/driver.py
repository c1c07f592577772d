"""Runs the measurements of bench/run.sh and prints the table.

bench/run.sh builds and installs every peer, then runs this with the bench
venv's Python:

    driver.py [--rounds N] [--secs S] [SECTION...]

Sections: ird, lookup, fresh, jwt, batch, memory (default: all). The driver
starts the sandbox (its PKI, and the batch's server) and nginx (the neutral
server) on loopback, runs every peer as its own process, in rounds that
interleave the peers so that a burst of load elsewhere on the machine hits
them all alike, and reports the median of each. Ratios are medians of the
ratios of the same round. Every process runs under a time limit.

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
WORK = TARGET / "bench"
RELEASE = TARGET / "release"
VENV_PY = WORK / "venv" / "bin" / "python"

SECTIONS = ["ird", "lookup", "fresh", "jwt", "batch", "bulk", "memory"]
CORPUS_LINES = 100_000
CLI_LINES = 1_000_000
BATCH_ROWS = 10_000
BATCH_CONCURRENCY = 16
RSS_LOOKUPS = 10_000

# Environment variables that would change what a peer does (a CA bundle that
# overrides requests' `verify`, proxies): removed for every peer.
SCRUB_ENV = [
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "NZPIR_CONFIG",
]


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def peer_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUB_ENV}
    env["NODE_PATH"] = str(BENCH / "node" / "node_modules")
    return env


# ---------------------------------------------------------------------------
# Inputs: the IRD corpus, the batch fixture and register


W1 = (3, 2, 7, 6, 5, 4, 3, 2)
W2 = (7, 4, 3, 2, 5, 2, 7, 6)


def check_digit(base: int) -> int | None:
    """IR's modulus-11 check digit for an 8-digit base, or None (no valid number)."""
    digits = [int(c) for c in f"{base:08d}"]
    for weights in (W1, W2):
        r = sum(d * w for d, w in zip(digits, weights)) % 11
        c = 0 if r == 0 else 11 - r
        if c < 10:
            return c
    return None


def valid_numbers(rng: random.Random, count: int, exclude: set[int] = frozenset()) -> list[int]:
    out: list[int] = []
    seen = set(exclude)
    while len(out) < count:
        # IR's range since 1 April 2026: 10,000,000 to 200,000,000.
        base = rng.randrange(1_000_001, 19_999_999)
        c = check_digit(base)
        n = base * 10 + c if c is not None else 0
        if c is None or not 10_000_000 < n < 200_000_000 or n in seen:
            continue
        seen.add(n)
        out.append(n)
    return out


def make_corpus(path: Path, cli_path: Path) -> tuple[int, int]:
    """100,000 lines in the forms people hold: 60 % valid wire form (9
    digits), 10 % valid 8 digits, 10 % valid with dashes, 10 % a wrong check
    digit, 5 % out of range, 5 % not a number. Valid numbers span IR's range
    since 1 April 2026 (up to 200,000,000). The CLI reads the same lines ten
    times over. Returns the number of valid lines, and how many of them the
    peers that still stop at 150,000,000 accept."""
    rng = random.Random(20250331)
    nums = valid_numbers(rng, CORPUS_LINES)
    lines: list[str] = []
    valid = 0
    above_old_ceiling = 0
    junk = ["not an ird", "N/A", "12a456789", "49-091-85O", "0491-91850", "-"]
    for i, n in enumerate(nums):
        k = i % 20
        if k < 16 and n > 150_000_000:
            above_old_ceiling += 1
        if k < 12:
            lines.append(f"{n:09d}")
            valid += 1
        elif k < 14:
            if n >= 100_000_000:
                lines.append(f"{n:09d}")
            else:
                lines.append(f"{n:08d}")
            valid += 1
        elif k < 16:
            d = f"{n:09d}"
            if k == 15 and d[0] == "0":
                lines.append(f"{d[1:3]}-{d[3:6]}-{d[6:9]}")  # 49-091-850
            else:
                lines.append(f"{d[0:3]}-{d[3:6]}-{d[6:9]}")  # 049-091-850
            valid += 1
        elif k < 18:
            wrong = n - n % 10 + (n % 10 + 1 + rng.randrange(8)) % 10
            lines.append(f"{wrong:09d}")
        elif k == 18:
            lines.append(f"{rng.randrange(200_000_001, 999_999_999):09d}" if i % 40 < 20
                         else f"{rng.randrange(1, 9_999_999):09d}")
        else:
            lines.append(junk[i % len(junk)])
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    with cli_path.open("w") as f:
        for _ in range(CLI_LINES // CORPUS_LINES):
            f.write(text)
    return valid, valid - above_old_ceiling


def make_batch(sandbox: Path, fixture: Path, register: Path) -> None:
    """The default fixture plus 10,000 members of the ready credential's
    scheme, and a register that asks about each of them once."""
    default = subprocess.run(
        [str(sandbox), "--print-default-fixture"], check=True, capture_output=True, text=True
    ).stdout
    fx = json.loads(default)
    known = {int(i["ird"]) for i in fx["investors"]}
    rng = random.Random(125000002)
    nums = valid_numbers(rng, BATCH_ROWS, known)
    rates = [28, 17.5, 10.5]
    for i, n in enumerate(nums):
        fx["investors"].append(
            {"ird": f"{n:09d}", "suggested_pir_rate": rates[i % 3], "memberships": ["kowhai-scheme"]}
        )
    fixture.write_text(json.dumps(fx))
    with register.open("w") as f:
        f.write("IRD,PieIRD\n")
        for n in nums:
            f.write(f"{n:09d},125000002\n")


# ---------------------------------------------------------------------------
# Servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen[Any], what: str, limit: float = 20) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: {what} exited (status {proc.returncode}); see {WORK}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"bench: {what} did not listen on 127.0.0.1:{port}")


class Servers:
    """The sandbox (PKI and the batch's server) and nginx, stopped on exit."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[Any]]] = []
        self.pki = WORK / "pki"
        self.sandbox_config = self.pki / "nzpir.toml"
        self.nginx_config = WORK / "nginx.toml"
        self.nginx_settings = WORK / "nginx.json"
        self.nginx_fresh_config = WORK / "nginx-fresh.toml"
        self.nginx_fresh_settings = WORK / "nginx-fresh.json"

    def start_sandbox(self) -> None:
        self.pki.mkdir(parents=True, exist_ok=True)
        manifest = self.pki / "manifest.json"
        manifest.unlink(missing_ok=True)
        port = free_port()
        logf = (WORK / "sandbox.log").open("w")
        proc = subprocess.Popen(
            [
                str(RELEASE / "nzpir-sandbox"),
                "--pki-dir", str(self.pki),
                "--listen", f"127.0.0.1:{port}",
                "--profile", "strict",
                "--ir003-limit", "0",
                "--fixture", str(WORK / "batch-fixture.json"),
            ],
            stdout=logf, stderr=subprocess.STDOUT, env=peer_env(),
        )
        self.procs.append(("sandbox", proc))
        deadline = time.monotonic() + 30
        while not manifest.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: the sandbox did not start; see {WORK / 'sandbox.log'}")
            time.sleep(0.05)
        wait_port(port, proc, "the sandbox")
        self.sandbox_url = json.loads(manifest.read_text())["url"]

    def start_nginx(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        home = WORK / "nginx"
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        port = free_port()
        conf = (BENCH / "nginx.conf.in").read_text()
        for k, v in {"@DIR@": str(home), "@PORT@": str(port), "@PKI@": str(self.pki)}.items():
            conf = conf.replace(k, v)
        (home / "nginx.conf").write_text(conf)
        logf = (home / "stdout.log").open("w")
        proc = subprocess.Popen(
            [nginx, "-p", str(home), "-c", str(home / "nginx.conf"), "-e", str(home / "error.log")],
            stdout=logf, stderr=subprocess.STDOUT,
        )
        self.procs.append(("nginx", proc))
        wait_port(port, proc, "nginx")
        endpoint = f"https://127.0.0.1:{port}"
        # The sandbox's ready configuration (mTLS with its client certificate,
        # RS256 JWT), pointed at nginx.
        toml = self.sandbox_config.read_text().splitlines()
        toml = [f'endpoint = "{endpoint}"' if l.startswith("endpoint =") else l for l in toml]
        self.nginx_config.write_text("\n".join(toml) + "\n")
        # The same with no idle connections kept: a full handshake per call.
        self.nginx_fresh_config.write_text(
            "max_idle_connections = 0\n" + "\n".join(toml) + "\n")
        m = json.loads((self.pki / "manifest.json").read_text())
        issuer = next(
            (l.split("=", 1)[1].strip().strip('"') for l in toml if l.startswith("issuer =")),
            "nzpir bench",
        )
        settings = {
            "endpoint": endpoint,
            "config": str(self.nginx_config),
            "client_cert": m["client_cert"],
            "client_key": m["client_key"],
            "ca_cert": m["ca_cert"],
            "jwt_cert": m["jwt_rs256_cert"],
            "jwt_key": m["jwt_rs256_key"],
            "issuer": issuer,
        }
        self.nginx_settings.write_text(json.dumps(settings, indent=2))
        settings["config"] = str(self.nginx_fresh_config)
        self.nginx_fresh_settings.write_text(json.dumps(settings, indent=2))
        self.nginx_version = subprocess.run(
            [nginx, "-v"], capture_output=True, text=True
        ).stderr.strip()

    def stop(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if name == "sandbox" else signal.SIGQUIT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()


# ---------------------------------------------------------------------------
# Running peers


@dataclass
class Peer:
    key: str
    label: str
    argv: list[str]


@dataclass
class Result:
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def median(self, k: str = "per_sec") -> float | None:
        vals = [r[k] for r in self.runs if k in r]
        return statistics.median(vals) if vals else None


def run_json(argv: list[str], limit: float) -> dict[str, Any]:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=limit, env=peer_env(),
                           cwd=BENCH)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"timed out after {limit:.0f} s")
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"exit {p.returncode}: {tail}")
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError("no result line")
    return json.loads(lines[-1])


def rounds(peers: list[Peer], n: int, secs: float) -> dict[str, Result]:
    """Runs every peer once per round, in the same order; n rounds."""
    out = {p.key: Result() for p in peers}
    for r in range(n):
        for p in peers:
            res = out[p.key]
            if res.error:
                continue
            try:
                res.runs.append(run_json(p.argv, secs * 3 + 60))
            except RuntimeError as e:
                res.error = str(e)
                log(f"{p.label}: {e}")
        log(f"round {r + 1}/{n} done")
    return out


def paired(results: dict[str, Result], ours: str, theirs: str,
           f: Callable[[dict[str, Any], dict[str, Any]], float]) -> float | None:
    """The median over rounds of f(ours' run, theirs' run)."""
    a, b = results.get(ours), results.get(theirs)
    if not a or not b or a.error or b.error:
        return None
    vals = [f(x, y) for x, y in zip(a.runs, b.runs)]
    return statistics.median(vals) if vals else None


def faster(x: dict[str, Any], y: dict[str, Any]) -> float:
    """How many times faster x is than y (per item)."""
    return y["ns_per"] / x["ns_per"]


# ---------------------------------------------------------------------------
# The table


@dataclass
class Row:
    section: str
    what: str
    figure: str
    against: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""


class Table:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.failed = False
        self.targets: list[tuple[str, bool | None]] = []

    def add(self, *a: Any, **k: Any) -> None:
        self.rows.append(Row(*a, **k))

    def target(self, name: str, value: float | None, need: float) -> str:
        """Records a target and returns its verdict for the table."""
        if value is None:
            self.targets.append((name, None))
            return "n/a"
        ok = value >= need
        self.targets.append((name, ok))
        return "met" if ok else "MISSED"

    def render(self) -> str:
        head = ["section", "measurement", "figure", "compared with", "ratio", "target", ""]
        rows = [[r.section, r.what, r.figure, r.against, r.ratio, r.target, r.met] for r in self.rows]
        widths = [max(len(x[i]) for x in [head] + rows) for i in range(len(head))]

        def line(cells: list[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

        out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [line(r) for r in rows]
        return "\n".join(out)


def fmt_rate(v: float | None) -> str:
    return "failed" if v is None else f"{v:,.0f} /s"


def fmt_ns(v: float | None) -> str:
    if v is None:
        return "failed"
    return f"{v:,.1f} ns" if v < 100 else f"{v:,.0f} ns"


def fmt_us(v: float | None) -> str:
    return "failed" if v is None else (f"{v:,.1f} µs" if v < 1000 else f"{v:,.0f} µs")


def fmt_x(v: float | None) -> str:
    return "" if v is None else (f"{v:,.2f}x" if v < 10 else f"{v:,.0f}x")


def fmt_pct(v: float | None) -> str:
    return "" if v is None else f"{v * 100:.1f} %"


# ---------------------------------------------------------------------------
# Sections


class Bench:
    def __init__(self, args: argparse.Namespace, servers: Servers, table: Table) -> None:
        self.n = args.rounds
        self.secs = args.secs
        self.s = servers
        self.t = table
        self.raw: dict[str, Any] = {}
        self.rust = str(RELEASE / "nzpir-bench")
        self.cbench = str(WORK / "c-bench")
        self.py = [str(VENV_PY), str(BENCH / "py" / "bench.py")]
        self.node = ["node", str(BENCH / "node" / "bench.js")]

    def keep(self, name: str, results: dict[str, Result]) -> None:
        self.raw[name] = {k: {"runs": v.runs, "error": v.error} for k, v in results.items()}
        if any(v.error for v in results.values()):
            self.t.failed = True

    # -- IRD validation -----------------------------------------------------
    def ird(self) -> None:
        corpus = str(WORK / "ird-corpus.txt")
        secs = str(self.secs * 2 / 3)
        peers = [
            Peer("core", "core validate_into", [self.rust, "ird", corpus, secs]),
            Peer("c", "C nzpir_ird_validate_many", [self.cbench, "ird", corpus, secs]),
            Peer("py", "Python valid_irds", self.py + ["ird", "nzpir", corpus, secs]),
            Peer("node", "Node validIrds", self.node + ["ird", "nzpir", corpus, secs]),
            Peer("stdnum", "python-stdnum is_valid", self.py + ["ird", "stdnum", corpus, secs]),
            Peer("fnzc", "@fnzc/nz-ird-validator", self.node + ["ird", "fnzc", corpus, secs]),
        ]
        log("IRD validation")
        res = rounds(peers, self.n, self.secs)
        self.keep("ird", res)
        valid = {k: r.runs[0].get("valid") for k, r in res.items() if r.runs}
        # python-stdnum and @fnzc/nz-ird-validator still stop at 150,000,000:
        # they refuse the numbers IR issues above it since 1 April 2026.
        old_ceiling = {"stdnum", "fnzc"}
        expected = {k: self.corpus_valid_old if k in old_ceiling else self.corpus_valid for k in valid}
        if valid != expected:
            log(f"validators disagree on the corpus: {valid} (expected {expected})")
            self.t.failed = True
        sec = "IRD validation"
        ns = {k: r.median("ns_per") for k, r in res.items()}
        self.t.add(sec, "nzpir core bulk (`validate_into`)", fmt_ns(ns["core"]))
        self.t.add(sec, "nzpir C bulk (`nzpir_ird_validate_many`)", fmt_ns(ns["c"]))
        r = paired(res, "py", "stdnum", faster)
        self.t.add(sec, "nzpir Python `valid_irds`", fmt_ns(ns["py"]),
                   f"python-stdnum {fmt_ns(ns['stdnum'])}", fmt_x(r), ">= 100x",
                   self.t.target("Python valid_irds >= 100x python-stdnum", r, 100))
        r = paired(res, "node", "fnzc", faster)
        self.t.add(sec, "nzpir Node `validIrds`", fmt_ns(ns["node"]),
                   f"@fnzc/nz-ird-validator {fmt_ns(ns['fnzc'])}", fmt_x(r), ">= 10x",
                   self.t.target("Node validIrds >= 10x @fnzc/nz-ird-validator", r, 10))
        # The CLI: a million lines on stdin, CPU time (user + system).
        cli = RELEASE / "nzpir"
        runs = []
        for _ in range(self.n):
            with (WORK / "cli-input.txt").open("rb") as stdin:
                t0 = time.monotonic()
                p = subprocess.Popen([str(cli), "validate", "-"], stdin=stdin,
                                     stdout=subprocess.DEVNULL, env=peer_env())
                _, status, ru = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
                wall = time.monotonic() - t0
            if p.returncode not in (0, 2):
                self.t.failed = True
                log(f"nzpir validate - exited {p.returncode}")
            runs.append({"cpu": ru.ru_utime + ru.ru_stime, "wall": wall})
        self.raw["cli_validate"] = runs
        cpu = statistics.median(r["cpu"] for r in runs)
        per_sec = CLI_LINES / cpu
        self.t.add(sec, "nzpir CLI `validate -` (1M lines, CPU)",
                   f"{cpu * 1e9 / CLI_LINES:,.0f} ns ({per_sec / 1e6:,.1f}M /s)",
                   "", "", ">= 1M /s",
                   self.t.target("CLI validate - >= 1M numbers/s", per_sec, 1e6))

    # -- Lookups on a kept-alive connection ---------------------------------
    def lookup(self) -> None:
        cfg, js, secs = str(self.s.nginx_config), str(self.s.nginx_settings), str(self.secs)
        peers = [
            Peer("ureq", "hand-written ureq + rustls", [self.rust, "lookup", "ureq", cfg, secs]),
            Peer("core", "nzpir core `Client::lookup`", [self.rust, "lookup", "core", cfg, secs]),
            Peer("c", "nzpir C `nzpir_client_lookup`", [self.cbench, "lookup", cfg, secs]),
            Peer("py", "nzpir Python `Client.lookup`", self.py + ["lookup", "nzpir", cfg, secs]),
            Peer("py-reused", "requests + PyJWT, JWT reused",
                 self.py + ["lookup", "requests-reused", cfg, secs]),
            Peer("py-percall", "requests + PyJWT, JWT per call (parsed key)",
                 self.py + ["lookup", "requests-percall", cfg, secs]),
            Peer("py-pem", "requests + PyJWT, JWT per call from PEM",
                 self.py + ["lookup", "requests-pem", cfg, secs]),
            Peer("node", "nzpir Node `client.lookup`", self.node + ["lookup", "nzpir", js, secs]),
            Peer("node-reused", "https + jsonwebtoken, JWT reused",
                 self.node + ["lookup", "https-reused", js, secs]),
            Peer("node-percall", "https + jsonwebtoken, JWT per call (KeyObject)",
                 self.node + ["lookup", "https-percall", js, secs]),
            Peer("node-pem", "https + jsonwebtoken, JWT per call from PEM",
                 self.node + ["lookup", "https-percall-pem", js, secs]),
        ]
        log("lookups on one kept-alive connection (nginx)")
        res = rounds(peers, self.n, self.secs)
        self.keep("lookup", res)
        sec = "Lookups, kept-alive (nginx)"
        rate = {k: r.median() for k, r in res.items()}
        per = lambda a, b: paired(res, a, b, faster)  # noqa: E731
        self.t.add(sec, "hand-written ureq + rustls (floor)", fmt_rate(rate["ureq"]))
        r = per("core", "ureq")
        self.t.add(sec, "nzpir core", fmt_rate(rate["core"]), "the floor", fmt_pct(r), ">= 95 %",
                   self.t.target("core >= 95 % of ureq + rustls", r, 0.95))
        r = per("c", "ureq")
        self.t.add(sec, "nzpir C", fmt_rate(rate["c"]), "the floor", fmt_pct(r), ">= 95 %",
                   self.t.target("C >= 95 % of ureq + rustls", r, 0.95))
        r = per("py", "py-reused")
        self.t.add(sec, "nzpir Python", fmt_rate(rate["py"]),
                   f"requests + PyJWT, JWT reused {fmt_rate(rate['py-reused'])}", fmt_x(r), ">= 3x",
                   self.t.target("Python lookup >= 3x requests + PyJWT (reused JWT)", r, 3))
        self.t.add(sec, "", "", f"requests + PyJWT, JWT per call {fmt_rate(rate['py-percall'])}",
                   fmt_x(per("py", "py-percall")))
        self.t.add(sec, "", "", f"requests + PyJWT from PEM per call {fmt_rate(rate['py-pem'])}",
                   fmt_x(per("py", "py-pem")))
        r = per("node", "node-reused")
        self.t.add(sec, "nzpir Node", fmt_rate(rate["node"]),
                   f"https + jsonwebtoken, JWT reused {fmt_rate(rate['node-reused'])}", fmt_x(r),
                   ">= 1.5x",
                   self.t.target("Node lookup >= 1.5x https + jsonwebtoken (reused JWT)", r, 1.5))
        self.t.add(sec, "", "",
                   f"https + jsonwebtoken, JWT per call {fmt_rate(rate['node-percall'])}",
                   fmt_x(per("node", "node-percall")))
        self.t.add(sec, "", "",
                   f"https + jsonwebtoken from PEM per call {fmt_rate(rate['node-pem'])}",
                   fmt_x(per("node", "node-pem")))

    # -- A full handshake per lookup ----------------------------------------
    def fresh(self) -> None:
        cfg, js, secs = str(self.s.nginx_config), str(self.s.nginx_settings), str(self.secs)
        # `max_idle_connections = 0`: nzpir's clients keep no connection, so
        # every lookup is a new connection and a full mTLS handshake, with the
        # client (keys, JWT) built once, as the peers' TLS settings and JWT are.
        fcfg, fjs = str(self.s.nginx_fresh_config), str(self.s.nginx_fresh_settings)
        peers = [
            Peer("ureq", "hand-written ureq, no pooling",
                 [self.rust, "lookup", "ureq-fresh", cfg, secs]),
            Peer("core", "nzpir core, max_idle_connections(0)",
                 [self.rust, "lookup", "core-fresh", cfg, secs]),
            Peer("c", "nzpir C, max_idle_connections = 0", [self.cbench, "lookup", fcfg, secs]),
            Peer("py", "nzpir Python, max_idle_connections = 0",
                 self.py + ["lookup", "nzpir", fcfg, secs]),
            Peer("node", "nzpir Node, max_idle_connections = 0",
                 self.node + ["lookup", "nzpir", fjs, secs]),
            Peer("py-peer", "requests, a new Session per call",
                 self.py + ["lookup", "requests-fresh", cfg, secs]),
            Peer("node-peer", "https, agent: false", self.node + ["lookup", "https-fresh", js, secs]),
            Peer("core-new", "nzpir core, a new Client per call",
                 [self.rust, "lookup", "core-newclient", cfg, secs]),
            Peer("py-new", "nzpir Python, a new Client per call",
                 self.py + ["lookup", "nzpir-fresh", cfg, secs]),
            Peer("node-new", "nzpir Node, a new Client per call",
                 self.node + ["lookup", "nzpir-fresh", js, secs]),
        ]
        log("a full mTLS handshake per lookup (nginx)")
        res = rounds(peers, self.n, self.secs)
        self.keep("fresh", res)
        sec = "Fresh connection per lookup (nginx)"
        rate = {k: r.median() for k, r in res.items()}
        per = lambda a, b: paired(res, a, b, faster)  # noqa: E731
        py_peer = f"requests, new Session per call {fmt_rate(rate['py-peer'])}"
        node_peer = f"https, `agent: false` {fmt_rate(rate['node-peer'])}"
        self.t.add(sec, "hand-written ureq, no pooling (floor)", fmt_rate(rate["ureq"]))
        self.t.add(sec, "nzpir core, `max_idle_connections(0)`", fmt_rate(rate["core"]),
                   "the floor", fmt_pct(per("core", "ureq")))
        r = per("core", "py-peer")
        self.t.add(sec, "", "", py_peer, fmt_x(r), ">= 2x",
                   self.t.target("core fresh lookup >= 2x Python requests", r, 2))
        r = per("core", "node-peer")
        self.t.add(sec, "", "", node_peer, fmt_x(r), ">= 2x",
                   self.t.target("core fresh lookup >= 2x Node https", r, 2))
        r = per("c", "py-peer")
        self.t.add(sec, "nzpir C, `max_idle_connections = 0`", fmt_rate(rate["c"]),
                   "requests, new Session per call", fmt_x(r))
        r = per("py", "py-peer")
        self.t.add(sec, "nzpir Python, `max_idle_connections = 0`", fmt_rate(rate["py"]),
                   "requests, new Session per call", fmt_x(r), ">= 2x",
                   self.t.target("Python fresh lookup >= 2x requests", r, 2))
        r = per("node", "node-peer")
        self.t.add(sec, "nzpir Node, `max_idle_connections = 0`", fmt_rate(rate["node"]),
                   "https, `agent: false`", fmt_x(r), ">= 2x",
                   self.t.target("Node fresh lookup >= 2x https", r, 2))
        # Also loading both keys and minting a JWT per call.
        self.t.add(sec, "nzpir core, a new `Client` per call", fmt_rate(rate["core-new"]))
        self.t.add(sec, "nzpir Python, a new `Client` per call", fmt_rate(rate["py-new"]),
                   "requests, new Session per call", fmt_x(per("py-new", "py-peer")))
        self.t.add(sec, "nzpir Node, a new `Client` per call", fmt_rate(rate["node-new"]),
                   "https, `agent: false`", fmt_x(per("node-new", "node-peer")))

    # -- JWT minting ---------------------------------------------------------
    def jwt(self) -> None:
        m = json.loads((self.s.pki / "manifest.json").read_text())
        creds = {
            "RS256": (m["jwt_rs256_cert"], m["jwt_rs256_key"]),
            "ES256": (m["jwt_ec_cert"], m["jwt_ec_key"]),
        }
        secs = str(self.secs / 2)
        peers = []
        for alg, (cert, key) in creds.items():
            peers += [
                Peer(f"core-{alg}", "core", [self.rust, "jwt", alg, cert, key, secs]),
                Peer(f"crate-{alg}", "jsonwebtoken-crate",
                     [self.rust, "jwt-crate", alg, cert, key, secs]),
                Peer(f"py-{alg}", "py", self.py + ["jwt", "nzpir", alg, cert, key, secs]),
                Peer(f"node-{alg}", "node", self.node + ["jwt", "nzpir", alg, cert, key, secs]),
                Peer(f"pyjwt-{alg}", "pyjwt", self.py + ["jwt", "pyjwt", alg, cert, key, secs]),
                Peer(f"pyjwt-pem-{alg}", "pyjwt-pem",
                     self.py + ["jwt", "pyjwt-pem", alg, cert, key, secs]),
                Peer(f"jwt-{alg}", "jsonwebtoken",
                     self.node + ["jwt", "jsonwebtoken", alg, cert, key, secs]),
                Peer(f"jwt-pem-{alg}", "jsonwebtoken-pem",
                     self.node + ["jwt", "jsonwebtoken-pem", alg, cert, key, secs]),
            ]
        log("JWT minting")
        res = rounds(peers, self.n, self.secs / 2)
        self.keep("jwt", res)
        us = {k: (v / 1000 if (v := r.median("ns_per")) is not None else None)
              for k, r in res.items()}
        for alg in creds:
            sec = f"JWT minting, {alg} (µs per token)"
            self.t.add(sec, "nzpir core `JwtSigner::mint` (key parsed once)", fmt_us(us[f"core-{alg}"]),
                       f"PyJWT, parsed key {fmt_us(us[f'pyjwt-{alg}'])}",
                       fmt_x(paired(res, f"core-{alg}", f"pyjwt-{alg}", faster)))
            self.t.add(sec, "", "", f"jsonwebtoken, KeyObject {fmt_us(us[f'jwt-{alg}'])}",
                       fmt_x(paired(res, f"core-{alg}", f"jwt-{alg}", faster)))
            self.t.add(sec, "", "",
                       f"Rust jsonwebtoken `encode`, EncodingKey {fmt_us(us[f'crate-{alg}'])}",
                       fmt_x(paired(res, f"core-{alg}", f"crate-{alg}", faster)))
            self.t.add(sec, "nzpir Python `mint_jwt` (from PEM)", fmt_us(us[f"py-{alg}"]),
                       f"PyJWT from PEM {fmt_us(us[f'pyjwt-pem-{alg}'])}",
                       fmt_x(paired(res, f"py-{alg}", f"pyjwt-pem-{alg}", faster)))
            self.t.add(sec, "nzpir Node `mintJwt` (from PEM)", fmt_us(us[f"node-{alg}"]),
                       f"jsonwebtoken from PEM {fmt_us(us[f'jwt-pem-{alg}'])}",
                       fmt_x(paired(res, f"node-{alg}", f"jwt-pem-{alg}", faster)))

    # -- Batch against the sandbox ------------------------------------------
    def batch(self) -> None:
        log(f"batch: {BATCH_ROWS:,} lookups at concurrency {BATCH_CONCURRENCY} (sandbox)")
        runs = []
        out = WORK / "batch-out.csv"
        for _ in range(self.n):
            for p in WORK.glob("batch-out.csv*"):
                p.unlink()
            argv = [str(RELEASE / "nzpir"), "batch", str(WORK / "batch-register.csv"),
                    "--out", str(out), "--concurrency", str(BATCH_CONCURRENCY),
                    "--progress", "none", "--config", str(self.s.sandbox_config)]
            t0 = time.monotonic()
            try:
                p = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                                   env=peer_env())
            except subprocess.TimeoutExpired:
                log("batch timed out")
                self.t.failed = True
                break
            wall = time.monotonic() - t0
            rows = out.read_text().splitlines()[1:] if out.exists() else []
            rated = sum(1 for r in rows if r.split(",")[2:3] not in ([""], []))
            if p.returncode != 0 or rated != BATCH_ROWS:
                log(f"batch: exit {p.returncode}, {rated} rows with a rate: {p.stderr.strip()[-300:]}")
                self.t.failed = True
            runs.append({"wall": wall, "per_sec": BATCH_ROWS / wall, "rated": rated})
        self.raw["batch"] = runs
        rate = statistics.median(r["per_sec"] for r in runs) if runs else None
        self.t.add("Batch (sandbox, strict, IR003 off)",
                   f"`nzpir batch`, {BATCH_ROWS:,} lookups, concurrency {BATCH_CONCURRENCY}",
                   fmt_rate(rate))

    # -- A whole register from every language (sandbox) ------------------------
    def bulk(self) -> None:
        """The batch register through each language's bulk call and its
        hand-written peer, and through `nzpir batch`, at the same concurrency
        against the same sandbox; one run of each per round."""
        m = json.loads((self.s.pki / "manifest.json").read_text())
        toml = self.s.sandbox_config.read_text().splitlines()
        issuer = next((l.split("=", 1)[1].strip().strip('"') for l in toml
                       if l.startswith("issuer =")), "nzpir bench")
        settings = WORK / "sandbox.json"
        settings.write_text(json.dumps({
            "endpoint": self.s.sandbox_url, "config": str(self.s.sandbox_config),
            "client_cert": m["client_cert"], "client_key": m["client_key"],
            "ca_cert": m["ca_cert"], "jwt_cert": m["jwt_rs256_cert"],
            "jwt_key": m["jwt_rs256_key"], "issuer": issuer}, indent=2))
        reg, cfg, c = str(WORK / "batch-register.csv"), str(self.s.sandbox_config), str(BATCH_CONCURRENCY)
        peers = [
            Peer("py-bulk", "Python lookup_many", self.py + ["bulk", "nzpir", cfg, reg, c]),
            Peer("py-pool", f"ThreadPoolExecutor({c}) of requests + PyJWT",
                 self.py + ["bulk", "requests-pool", cfg, reg, c]),
            Peer("node-bulk", "Node lookupMany", self.node + ["bulk", "nzpir", str(settings), reg, c]),
            Peer("node-pool", f"{c}-wide https + jsonwebtoken pool",
                 self.node + ["bulk", "https-pool", str(settings), reg, c]),
            Peer("c-bulk", "C nzpir_client_lookup_many", [self.cbench, "bulk", cfg, reg, c]),
        ]
        log(f"bulk: {BATCH_ROWS:,} lookups per run at concurrency {c}, every language (sandbox)")
        res = {p.key: Result() for p in peers}
        res["batch"] = Result()
        out = WORK / "bulk-batch-out.csv"
        for r in range(self.n):
            for q in WORK.glob("bulk-batch-out.csv*"):
                q.unlink()
            t0 = time.monotonic()
            p = subprocess.run([str(RELEASE / "nzpir"), "batch", reg, "--out", str(out),
                                "--concurrency", c, "--progress", "none", "--config", cfg],
                               capture_output=True, text=True, timeout=300, env=peer_env())
            wall = time.monotonic() - t0
            if p.returncode != 0:
                res["batch"].error = f"exit {p.returncode}"
            else:
                res["batch"].runs.append({"per_sec": BATCH_ROWS / wall,
                                          "ns_per": wall * 1e9 / BATCH_ROWS})
            for peer in peers:
                if res[peer.key].error:
                    continue
                try:
                    run = run_json(peer.argv, 300)
                    run["ns_per"] = run["secs"] * 1e9 / run["items"]
                    if run.get("rated") != BATCH_ROWS:
                        log(f"{peer.label}: {run.get('rated')} rows with a rate")
                        self.t.failed = True
                    res[peer.key].runs.append(run)
                except RuntimeError as e:
                    res[peer.key].error = str(e)
                    log(f"{peer.label}: {e}")
            log(f"round {r + 1}/{self.n} done")
        self.keep("bulk", res)
        sec = f"A whole register, {BATCH_ROWS:,} lookups at concurrency {c} (sandbox)"
        rate = {k: v.median() for k, v in res.items()}
        per = lambda a, b: paired(res, a, b, faster)  # noqa: E731
        batch = f"`nzpir batch` {fmt_rate(rate['batch'])}"
        self.t.add(sec, "`nzpir batch`", fmt_rate(rate["batch"]))
        r = per("py-bulk", "py-pool")
        self.t.add(sec, "Python `lookup_many`", fmt_rate(rate["py-bulk"]),
                   f"ThreadPoolExecutor({c}) of requests + PyJWT {fmt_rate(rate['py-pool'])}",
                   fmt_x(r), ">= 3x", self.t.target("Python lookup_many >= 3x a requests pool", r, 3))
        r = per("py-bulk", "batch")
        self.t.add(sec, "", "", batch, fmt_pct(r), ">= 90 %",
                   self.t.target("Python lookup_many >= 90 % of nzpir batch", r, 0.9))
        r = per("node-bulk", "node-pool")
        self.t.add(sec, "Node `lookupMany`", fmt_rate(rate["node-bulk"]),
                   f"{c}-wide https + jsonwebtoken pool {fmt_rate(rate['node-pool'])}",
                   fmt_x(r), ">= 2x", self.t.target("Node lookupMany >= 2x an https pool", r, 2))
        r = per("node-bulk", "batch")
        self.t.add(sec, "", "", batch, fmt_pct(r), ">= 90 %",
                   self.t.target("Node lookupMany >= 90 % of nzpir batch", r, 0.9))
        r = per("c-bulk", "batch")
        self.t.add(sec, "C `nzpir_client_lookup_many`", fmt_rate(rate["c-bulk"]),
                   batch, fmt_pct(r), ">= 95 %",
                   self.t.target("C bulk >= 95 % of nzpir batch", r, 0.95))

    # -- Memory and size -----------------------------------------------------
    def memory(self) -> None:
        log(f"memory: a C program holding one client after {RSS_LOOKUPS:,} lookups")
        sec = "Memory and size"
        try:
            r = run_json([self.cbench, "rss", str(self.s.nginx_config), str(RSS_LOOKUPS)], 120)
            self.raw["rss"] = r
            self.t.add(sec, f"peak RSS, C program, one client, {RSS_LOOKUPS:,} lookups",
                       f"{r['peak_rss_kib'] / 1024:.1f} MiB",
                       f"{r['rss_start_kib'] / 1024:.1f} MiB before the client, "
                       f"{r['rss_client_kib'] / 1024:.1f} MiB with it")
        except RuntimeError as e:
            log(f"rss: {e}")
            self.t.failed = True
        sizes = {}
        for lib, flags in (("libnzpir.so", ["--strip-all"]), ("libnzpir.a", ["--strip-debug"])):
            dst = WORK / f"stripped-{lib}"
            # Cargo's name for the library: the crate's library is nzpir_ffi.
            built = RELEASE / lib.replace("libnzpir", "libnzpir_ffi")
            subprocess.run(["strip", *flags, "-o", str(dst), str(built)], check=True)
            sizes[lib] = (dst.stat().st_size, built.stat().st_size)
            self.t.add(sec, f"`{lib}` stripped ({' '.join(flags)})",
                       f"{sizes[lib][0] / 2**20:.1f} MiB",
                       f"{sizes[lib][1] / 2**20:.1f} MiB as built (line tables)")
        self.raw["sizes"] = sizes


def machine() -> dict[str, str]:
    def cmd(*a: str) -> str:
        try:
            p = subprocess.run(a, capture_output=True, text=True, timeout=10)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except Exception:  # noqa: BLE001
            return "?"

    cpu = "?"
    for l in Path("/proc/cpuinfo").read_text().splitlines():
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip()
            break
    mem = next((l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), "0")
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{int(mem) / 2**20:.1f} GiB",
        "kernel": os.uname().release,
        "os": next((l.split("=", 1)[1].strip('"') for l in Path("/etc/os-release").read_text()
                    .splitlines() if l.startswith("PRETTY_NAME=")), "?"),
        "rustc": cmd("rustc", "--version"),
        "python": cmd(str(VENV_PY), "--version"),
        "node": cmd("node", "--version"),
        "nginx": cmd(shutil.which("nginx") or "/usr/sbin/nginx", "-v"),
        "openssl": cmd("openssl", "version"),
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    ap.add_argument("--secs", type=float, default=float(os.environ.get("BENCH_SECS", 3)))
    ap.add_argument("--serve", type=float, metavar="SECONDS",
                    help="only start the servers, print their settings, and wait SECONDS "
                         "(to run a peer program by hand)")
    ap.add_argument("sections", nargs="*", metavar="SECTION", help=" ".join(SECTIONS))
    args = ap.parse_args()
    sections = args.sections or SECTIONS
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown section {unknown[0]} (sections: {' '.join(SECTIONS)})")
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    m = machine()
    log(f"inputs: {CORPUS_LINES:,}-line IRD corpus, batch fixture and register")
    corpus_valid, corpus_valid_old = make_corpus(WORK / "ird-corpus.txt", WORK / "cli-input.txt")
    make_batch(RELEASE / "nzpir-sandbox", WORK / "batch-fixture.json", WORK / "batch-register.csv")

    table = Table()
    servers = Servers()
    try:
        servers.start_sandbox()
        servers.start_nginx()
        if args.serve:
            # SIGTERM (or SIGINT, ignored in a background job) stops the servers.
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: sys.exit(0))
            print(f"sandbox: {servers.sandbox_config}\nnginx: {servers.nginx_config} "
                  f"{servers.nginx_fresh_config} {servers.nginx_settings}", flush=True)
            time.sleep(min(args.serve, 3600))
            return 0
        b = Bench(args, servers, table)
        b.corpus_valid = corpus_valid
        b.corpus_valid_old = corpus_valid_old
        for s in sections:
            getattr(b, s)()
    finally:
        servers.stop()
    elapsed = time.monotonic() - started

    print()
    print(f"nzpir benchmarks: {', '.join(sections)}; {args.rounds} rounds of {args.secs:g} s per peer, "
          f"medians; ratios are medians of same-round ratios")
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, "
          f"Linux {m['kernel']}; load average at start {m['load']}")
    print(f"versions: {m['rustc']}; {m['python']}; Node {m['node']}; {m['nginx']}; {m['openssl']}")
    print()
    print(table.render())
    print()
    for name, ok in table.targets:
        print(f"  [{'met' if ok else 'n/a' if ok is None else 'MISSED'}] {name}")
    print(f"\nmeasured in {elapsed:.0f} s; raw figures in {WORK / 'results.json'}")
    (WORK / "results.json").write_text(json.dumps(
        {"machine": m, "sections": sections, "rounds": args.rounds, "secs": args.secs,
         "raw": b.raw, "targets": table.targets}, indent=1))
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())
