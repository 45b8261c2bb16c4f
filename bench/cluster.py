"""Almia behind nginx with 1, 2 and 3 replicas on this machine (deploy/local_cluster.py).

The full pipeline on PostgreSQL (store, audit chain, quotas counted in Redis with budgets
set, encryption at rest, DLP without the NER model)
with an instant fake model on loopback. The replicas, nginx, PostgreSQL, Redis and Chroma
all share this machine's cores, so the figures are per machine and per core, not per
replica: more replicas on the same 2 cores add processes, not capacity.

For each replica count: messages/s and p50/p99 latency of ``POST /api/chat`` through nginx
at 50 concurrent conversations; then (with the largest count) the acknowledgement latency of
200 concurrent Slack events, and how long a replica takes to drain on SIGTERM while
answers are in flight.

    .venv/bin/python bench/cluster.py [--messages 1000] [--workers 1] [--replicas 1 2 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.local_cluster import ClusterConfig, ClusterPorts, LocalCluster
from tests.fakes.loopback import poll
from tests.fakes.model_server import FakeModelServer, write_policy
from tests.fakes.slack_api import FakeSlackApi, signed_headers

SIGNING = "bench-signing-secret-0123456789ab"
# budgets high enough never to refuse, so that every message is counted in Redis
QUOTAS = {"user": {"requests_per_day": 10**9, "tokens_per_day": 10**12},
          "space": {"requests_per_day": 10**9, "tokens_per_day": 10**12}}
NOTES = ("Client : j'appelle au sujet de mon sinistre du 3 mars. Conseiller : je vais ouvrir le "
         "dossier et je vous rappelle demain. Attention, le client est mécontent du délai.")


def _p(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def _chat_load(url: str, concurrency: int, total: int) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    failures = 0
    per_conversation = max(1, total // concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def conversation(index: int) -> None:
            nonlocal failures
            for turn in range(per_conversation):
                started = time.perf_counter()
                async with session.post(f"{url}/api/chat", json={
                        "text": f"/almia summary {NOTES} ({turn})", "user": f"bench{index}",
                        "thread": f"bench-{index}"}) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                        continue
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(conversation(index) for index in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, len(latencies) / elapsed, failures


async def _slack_acks(url: str, events: int) -> tuple[list[float], int]:
    payload = json.loads((ROOT / "tests" / "fixtures" / "slack" / "event_app_mention.json")
                         .read_text(encoding="utf-8"))
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=events)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def deliver(index: int) -> None:
            nonlocal failures
            body = json.dumps({**payload, "event_id": f"EvBENCH{uuid.uuid4().hex[:10]}",
                               "event": {**payload["event"], "client_msg_id": uuid.uuid4().hex,
                                         "ts": f"17150{index:05d}.000100",
                                         "channel": f"C0BENCH{index:03d}"}})
            headers = {"Content-Type": "application/json", **signed_headers(body, SIGNING)}
            started = time.perf_counter()
            async with session.post(f"{url}/slack/events", data=body.encode(),
                                    headers=headers) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
                    return
            latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(deliver(index) for index in range(events)))
    return latencies, failures


async def _drain(cluster: LocalCluster, model: FakeModelServer) -> tuple[float, int, int]:
    """SIGTERM to replica 0 while slow answers are in flight through it: seconds to exit,
    answers completed, answers failed."""
    model.delay_seconds = 1.0
    before = len(model.requests)
    results: list[int] = []
    async with aiohttp.ClientSession() as session:

        async def ask(index: int) -> None:
            async with session.post(f"{cluster.replica_url(0)}/api/chat", json={
                    "text": f"/almia summary {NOTES}", "user": f"drain{index}"}) as response:
                await response.read()
                results.append(response.status)

        tasks = [asyncio.create_task(ask(index)) for index in range(20)]
        await poll(lambda: len(model.requests) - before >= 20, 120,
                   lambda: f"{len(model.requests) - before} answers reached the model")
        started = time.perf_counter()
        cluster.kill(0, signal.SIGTERM)
        await asyncio.to_thread(cluster.wait_replica_exit, 0, 120)
        elapsed = time.perf_counter() - started
        await asyncio.gather(*tasks, return_exceptions=True)
    model.delay_seconds = 0.0
    return elapsed, results.count(200), len([r for r in results if r != 200]) + 20 - len(results)


async def main(arguments: argparse.Namespace) -> None:
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.1f} at start; "
          f"{arguments.workers} process(es) per replica; every process shares these cores")
    async with FakeModelServer() as model, FakeSlackApi() as slack:
        base = Path(tempfile.mkdtemp(prefix="almia-bench-cluster-"))
        try:
            await _all_counts(arguments, model, slack, base, cores)
        finally:
            shutil.rmtree(base, ignore_errors=True)


async def _all_counts(arguments: argparse.Namespace, model: FakeModelServer,
                      slack: FakeSlackApi, base: Path, cores: int) -> None:
    policy = write_policy(base / "policy.yaml", model.url, provider="openai-compatible")
    policy.write_text(json.dumps({**json.loads(policy.read_text(encoding="utf-8")),
                                  "quotas": QUOTAS}), encoding="utf-8")
    environment = {"ALMIA_CHARTER__ENABLED": "false", "ALMIA_DLP__NER": "false",
                   "ALMIA_SLACK__SIGNING_SECRET": SIGNING, "ALMIA_SLACK__BOT_TOKEN": "xoxb-b",
                   "ALMIA_SLACK__API_URL": slack.api_url}
    print(f"{'replicas':>8} {'msg/s':>8} {'per core':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'failed':>6}")
    last = max(arguments.replicas)
    for replicas in arguments.replicas:
        config = ClusterConfig(replicas=replicas, workers=arguments.workers,
                               database=f"almia_bench_{uuid.uuid4().hex[:8]}",
                               policy_file=policy, environment=environment,
                               base_dir=base / f"r{replicas}", drain_seconds=1.0,
                               ports=ClusterPorts.free())
        async with LocalCluster(config) as cluster:
            await _chat_load(cluster.url, 10, 100)  # warm-up
            latencies, throughput, failed = await _chat_load(cluster.url, 50,
                                                             arguments.messages)
            print(f"{replicas:>8} {throughput:>8.1f} {throughput / cores:>8.1f} "
                  f"{_p(latencies, 50):>8.1f} {_p(latencies, 99):>8.1f} {failed:>6}",
                  flush=True)
            if replicas != last:
                continue
            acks, refused = await _slack_acks(cluster.url, 200)
            if not acks:
                print(f"Slack: all {refused} events refused (see the replicas' logs)")
                continue
            print(f"Slack, 200 concurrent events through nginx ({replicas} replicas): ack "
                  f"p50 {_p(acks, 50):.0f} ms, p99 {_p(acks, 99):.0f} ms, max "
                  f"{max(acks):.0f} ms, {sum(a > 3000 for a in acks)} over Slack's 3 s, "
                  f"{refused} refused")
            seconds, completed, lost = await _drain(cluster, model)
            print(f"drain: replica stopped {seconds:.1f} s after SIGTERM (drain delay 1 s "
                  f"+ 20 answers in flight, model 1 s): {completed} answered, {lost} failed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="processes per replica")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    asyncio.run(main(parser.parse_args()))
