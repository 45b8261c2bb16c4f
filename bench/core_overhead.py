"""Core overhead through the real HTTP path, next to a bare aiohttp handler in the same run.

Starts ``almia serve`` in a subprocess whose skills use a zero-latency fake model on
loopback, and a bare aiohttp JSON handler in another subprocess. The store is SQLite
(embedded default) or, with ``--postgres``, a PostgreSQL database created for the run
with quotas counted in Redis (``--redis``): the production pipeline (store, audit chain,
quotas, encryption at rest, DLP). For N = 1, 50, 200 concurrent conversations it prints
p50/p99 latency per message and messages/s for both, the p99 ratio, and the CPU time
per message of the Almia processes and of PostgreSQL (less sensitive to other load on
the machine than messages/s, which the load average printed beside it qualifies); then
Almia's RSS after start-up and after 1,000 messages.

    .venv/bin/python bench/core_overhead.py [--messages 1000] [--postgres] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.model_server import FakeModelServer, write_policy

BARE_SERVER = """
import sys
from aiohttp import web
async def handle(request):
    body = await request.json()
    return web.json_response({"reply": {"text": body["text"][:40]}})
app = web.Application()
app.router.add_post("/api/chat", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""
NOTES = (
    "Client : j'appelle au sujet de mon sinistre du 3 mars. Conseiller : je vais ouvrir le "
    "dossier et je vous rappelle demain. Attention, le client est mécontent du délai."
)
# budgets high enough never to refuse, so that every message is counted in Redis
QUOTAS = {"user": {"requests_per_day": 10**9, "tokens_per_day": 10**12},
          "space": {"requests_per_day": 10**9, "tokens_per_day": 10**12}}
_TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _processes() -> Iterator[tuple[int, int, str, float]]:
    """(pid, parent pid, command name, CPU seconds) of every process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        yield int(entry.name), int(fields[1]), name, (int(fields[11]) + int(fields[12])) / _TICKS


def _cpu_seconds(root: int) -> tuple[float, float]:
    """CPU seconds used so far by ``root`` and its descendants, and by PostgreSQL's processes
    (all of them: another workload on the same server is counted too)."""
    table = list(_processes())
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent, _name, _cpu in table:
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    almia = sum(cpu for pid, _parent, _name, cpu in table if pid in tree)
    postgres = sum(cpu for _pid, _parent, name, cpu in table
                   if name == "postgres" or name.startswith("postgres:"))
    return almia, postgres


async def _wait_ready(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.post(url, json={"text": "ping"}) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


async def _run(url: str, concurrency: int, total: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    per_conversation = max(1, total // concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def conversation(index: int) -> None:
            thread = f"bench-{concurrency}-{index}"
            for _ in range(per_conversation):
                started = time.perf_counter()
                async with session.post(
                    url, json={"text": f"summary {NOTES}", "thread": thread, "user": f"u{index}"}
                ) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"HTTP {response.status}")
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(conversation(index) for index in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, len(latencies) / elapsed


def _p(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
        if len(values) > 1
        else values[0]
    )


@contextmanager
def _postgres_database(server: str) -> Iterator[str]:
    """A database created for the run (dropped after): its SQLAlchemy URL."""
    import psycopg
    from psycopg import sql

    name = f"almia_core_{uuid.uuid4().hex[:8]}"
    admin = f"postgresql://{server}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+asyncpg://{server}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


async def main(arguments: argparse.Namespace) -> None:
    with (_postgres_database(arguments.postgres_server) if arguments.postgres
          else _no_database()) as database_url:
        await _bench(arguments, database_url)


@contextmanager
def _no_database() -> Iterator[str | None]:
    yield None


async def _bench(arguments: argparse.Namespace, database_url: str | None) -> None:
    messages = arguments.messages
    async with FakeModelServer() as model:
        workdir = Path(tempfile.mkdtemp(prefix="almia-bench-"))
        policy = write_policy(workdir / "policy.yaml", model.url, provider=arguments.provider)
        if arguments.redis:
            content = json.loads(policy.read_text(encoding="utf-8"))
            policy.write_text(json.dumps({**content, "quotas": QUOTAS}), encoding="utf-8")
        almia_port, bare_port = _free_port(), _free_port()
        env = {
            **os.environ,
            "ALMIA_DATA_DIR": str(workdir / "data"),
            "ALMIA_POLICY_FILE": str(policy),
            "ALMIA_LOG_LEVEL": "WARNING",
            "ALMIA_CHARTER__ENABLED": "false",  # measures answers, not the charter
            "ALMIA_DLP__NER": "true" if arguments.ner else "false",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        if database_url is not None:
            env["ALMIA_DATABASE_URL"] = database_url
        if arguments.redis:
            env["ALMIA_REDIS_URL"] = arguments.redis
        almia = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(almia_port),
             "--workers", str(arguments.workers)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare = subprocess.Popen(
            [sys.executable, "-c", BARE_SERVER, str(bare_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            almia_url = f"http://127.0.0.1:{almia_port}/api/chat"
            bare_url = f"http://127.0.0.1:{bare_port}/api/chat"
            await _wait_ready(almia_url)
            await _wait_ready(bare_url)
            await _run(almia_url, 4, 20)  # warm-up: litellm's first call imports lazily
            await _run(almia_url, 50, 200)  # every process of the server warmed up
            rss_start = _rss_mb(almia.pid)
            print(f"{'N':>4} {'server':>6} {'p50 ms':>8} {'p99 ms':>8} {'msg/s':>8} "
                  f"{'load':>5} {'almia CPU ms/msg':>17} {'postgres CPU ms/msg':>20}")
            for concurrency in (1, 50, 200):
                total = max(concurrency, min(messages, 50 if concurrency == 1 else messages))
                results = {}
                for name, url in (("bare", bare_url), ("almia", almia_url)):
                    before = _cpu_seconds(almia.pid if name == "almia" else bare.pid)
                    latencies, throughput = await _run(url, concurrency, total)
                    after = _cpu_seconds(almia.pid if name == "almia" else bare.pid)
                    results[name] = _p(latencies, 99)
                    own, postgres = ((a - b) * 1000 / len(latencies) for a, b in
                                    zip(after, before, strict=True))
                    print(
                        f"{concurrency:>4} {name:>6} {_p(latencies, 50):>8.1f} "
                        f"{_p(latencies, 99):>8.1f} {throughput:>8.1f} "
                        f"{os.getloadavg()[0]:>5.1f} {own:>17.2f} "
                        f"{postgres if database_url else float('nan'):>20.2f}",
                        flush=True,
                    )
                print(
                    f"{concurrency:>4}  p99 ratio almia/bare = {results['almia'] / results['bare']:.1f}x"
                )
            await _run(almia_url, 50, messages)
            print(
                f"RSS after start-up + warm-up: {rss_start:.0f} MB; "
                f"after {messages} more messages: {_rss_mb(almia.pid):.0f} MB"
            )
            print(f"fake model requests served: {len(model.requests)}")
        finally:
            for process in (almia, bare):
                process.terminate()
                process.wait(timeout=60)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--provider", choices=["litellm", "openai-compatible"],
                        default="openai-compatible",
                        help="how Almia reaches the fake model (both are real code paths)")
    parser.add_argument("--postgres", action="store_true",
                        help="store on PostgreSQL (a database created and dropped for the run)")
    parser.add_argument("--postgres-server", default="postgres@127.0.0.1:5432",
                        help="user@host:port of the PostgreSQL server (trust authentication)")
    parser.add_argument("--redis", default=None, metavar="URL",
                        help="quota counters in this Redis (budgets set, never reached)")
    parser.add_argument("--ner", action="store_true",
                        help="person names by the spaCy model too (off: the regex detectors)")
    parser.add_argument("--workers", type=int, default=1, help="almia serve --workers N")
    arguments = parser.parse_args()
    print(f"model reached through: {arguments.provider}; store: "
          f"{'PostgreSQL' if arguments.postgres else 'SQLite'}; quotas: "
          f"{'Redis' if arguments.redis else 'none'}; NER: {'on' if arguments.ner else 'off'}; "
          f"{arguments.workers} process(es); {os.cpu_count()} cores")
    asyncio.run(main(arguments))
