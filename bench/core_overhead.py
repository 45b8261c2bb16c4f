"""Core overhead through the real HTTP path, next to a bare aiohttp handler in the same run.

Starts ``almia serve`` (SQLite, embedded Chroma) in a subprocess whose skills use a
zero-latency fake model on loopback (through litellm, as in production), and a bare
aiohttp JSON handler in another subprocess. For N = 1, 50, 200 concurrent
conversations it prints p50/p99 latency per message and messages/s for both, the
p99 ratio, and Almia's RSS after start-up and after 1,000 messages.

    .venv/bin/python bench/core_overhead.py [--messages 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _wait_ready(url: str, timeout: float = 60.0) -> None:
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


async def main(messages: int, provider: str) -> None:
    async with FakeModelServer() as model:
        workdir = Path(tempfile.mkdtemp(prefix="almia-bench-"))
        policy = write_policy(workdir / "policy.yaml", model.url, provider=provider)
        almia_port, bare_port = _free_port(), _free_port()
        env = {
            **os.environ,
            "ALMIA_DATA_DIR": str(workdir / "data"),
            "ALMIA_POLICY_FILE": str(policy),
            "ALMIA_LOG_LEVEL": "WARNING",
                "ALMIA_CHARTER__ENABLED": "false",  # measures answers, not the charter
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        almia = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(almia_port)],
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
            rss_start = _rss_mb(almia.pid)
            print(f"{'N':>4} {'server':>6} {'p50 ms':>8} {'p99 ms':>8} {'msg/s':>8}")
            for concurrency in (1, 50, 200):
                total = max(concurrency, min(messages, 50 if concurrency == 1 else messages))
                results = {}
                for name, url in (("bare", bare_url), ("almia", almia_url)):
                    latencies, throughput = await _run(url, concurrency, total)
                    results[name] = _p(latencies, 99)
                    print(
                        f"{concurrency:>4} {name:>6} {_p(latencies, 50):>8.1f} "
                        f"{_p(latencies, 99):>8.1f} {throughput:>8.1f}"
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
                process.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--provider", choices=["litellm", "openai-compatible"],
                        default="openai-compatible",
                        help="how Almia reaches the fake model (both are real code paths)")
    arguments = parser.parse_args()
    print(f"model reached through: {arguments.provider}")
    asyncio.run(main(arguments.messages, arguments.provider))
