"""Jobs and files at scale, with real processes on the real PostgreSQL.

1. ``--jobs N`` short probe jobs (one step, no pause) queued through procrastinate and run by
   two ``almia worker`` processes: enqueue→start latency p50/p99, throughput, lost jobs
   (not succeeded) and jobs run more than once (attempts > 1).
2. ``--upload-mb M`` (an XLSX of survey-like rows) uploaded through ``POST /api/files`` of
   ``almia serve``: wall time, server peak RSS before/after (VmHWM), bytes stored.

    .venv/bin/python bench/jobs.py [--jobs 1000] [--upload-mb 50] [--skip-jobs] [--skip-upload]

It prints figures; it never fails on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import build_runtime
from bot.jobs.model import JobSpec
from bot.messages import Channel, Message, Space, User
from bot.settings import load_settings

ALMIA = str(Path(sys.executable).with_name("almia"))
POSTGRES = os.environ.get("ALMIA_TEST_POSTGRES_URL",
                          "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _create_database() -> str:
    name = f"almia_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return name


async def _drop_database(name: str) -> None:
    admin = create_async_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await admin.dispose()


async def bench_jobs(count: int, data_dir: Path, clients: int) -> None:
    name = await _create_database()
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    environment = {**os.environ, "ALMIA_DATA_DIR": str(data_dir), "ALMIA_DATABASE_URL": url,
                   "ALMIA_JOBS__ENGINE": "procrastinate", "ALMIA_JOBS__CONCURRENCY": "4",
                   "ALMIA_JOBS__MAX_ACTIVE_PER_USER": str(count + 1),
                   "ALMIA_JOBS__MAX_ACTIVE_PER_SKILL": str(count + 1),
                   "ALMIA_CHARTER__ENABLED": "false", "ALMIA_LOG_LEVEL": "WARNING"}
    settings = load_settings(data_dir=data_dir, database_url=url, _env_file=None,
                             jobs={"engine": "procrastinate",
                                   "max_active_per_user": count + 1,
                                   "max_active_per_skill": count + 1})
    runtime = build_runtime(settings)
    await runtime.start(jobs=False)
    assert runtime.jobs is not None
    operator = Message(text="", user=User("cli:bench"), space=Space("cli"), channel=Channel.CLI,
                       thread_id="bench")
    workers = [await asyncio.create_subprocess_exec(
        ALMIA, "worker", "--name", f"bench-{index}", env=environment,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        for index in range(2)]
    try:
        await asyncio.sleep(3)  # workers connected
        started = time.perf_counter()
        enqueue_ms: list[float] = []
        spec = JobSpec("jobs", "probe", {"steps": 1, "step_seconds": 0}, title="bench")

        async def client(share: int) -> None:
            for _ in range(share):
                began = time.perf_counter()
                await runtime.jobs.start(spec, operator, "fr")  # type: ignore[union-attr]
                enqueue_ms.append((time.perf_counter() - began) * 1000)

        await asyncio.gather(*(client(count // clients + (index < count % clients))
                               for index in range(clients)))
        queued = time.perf_counter() - started
        engine = create_async_engine(url)
        deadline = time.perf_counter() + 600
        while time.perf_counter() < deadline:
            async with engine.connect() as connection:
                left = await connection.scalar(text(
                    "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')"))
            if not left:
                break
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
        async with engine.connect() as connection:
            rows = (await connection.execute(text(
                "SELECT state, attempts, EXTRACT(EPOCH FROM started_at - created_at) "
                "FROM jobs"))).all()
        await engine.dispose()
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            await worker.wait()
        await runtime.close()
        await _drop_database(name)
    latency = [float(row[2]) * 1000 for row in rows if row[2] is not None]
    lost = sum(1 for row in rows if row[0] != "succeeded")
    twice = sum(1 for row in rows if row[1] > 1)
    print(f"jobs: {count} probe jobs through 2 workers (procrastinate, PostgreSQL)")
    print(f"  enqueue: {count / queued:.0f} jobs/s from {clients} concurrent clients "
          f"({queued:.1f} s); one enqueue p50 {_percentile(enqueue_ms, 0.5):.0f} ms, "
          f"p99 {_percentile(enqueue_ms, 0.99):.0f} ms")
    print(f"  enqueue→start: p50 {_percentile(latency, 0.5):.0f} ms, "
          f"p99 {_percentile(latency, 0.99):.0f} ms")
    print(f"  throughput: {count / elapsed:.0f} jobs/s end to end ({elapsed:.1f} s)")
    print(f"  lost: {lost}, run more than once: {twice}")


def _make_xlsx(path: Path, megabytes: int) -> None:
    from openpyxl import Workbook

    words = ("délai remboursement conseiller agence application sinistre contrat "
             "franchise expert attente téléphone satisfait déçu rapide lent clair "
             "tarif hausse résiliation garantie dossier").split()
    rng = random.Random(7)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Verbatims")
    sheet.append(["id", "date", "note", "canal", "verbatim"])
    row = 0
    while True:
        for _ in range(5000):
            row += 1
            text_ = " ".join(rng.choice(words) for _ in range(rng.randint(8, 40)))
            sheet.append([row, f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                          rng.randint(1, 10), rng.choice(["web", "agence", "téléphone"]),
                          text_])
        if row * 140 >= megabytes * 1_048_576 * 2.2:  # XLSX compresses such text ~2.2x
            break
    workbook.save(path)


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


async def bench_upload(megabytes: int, data_dir: Path) -> None:
    path = data_dir.parent / "verbatims.xlsx"
    started = time.perf_counter()
    _make_xlsx(path, megabytes)
    size = path.stat().st_size
    print(f"upload: generated a {size / 1_048_576:.1f} MB XLSX in "
          f"{time.perf_counter() - started:.0f} s")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "ALMIA_DATA_DIR": str(data_dir / "upload"),
                   "ALMIA_CHARTER__ENABLED": "false", "ALMIA_LOG_LEVEL": "WARNING",
                   "ALMIA_FILES__MAX_FILE_MB": str(max(60, megabytes + 10))}
    server = await asyncio.create_subprocess_exec(
        ALMIA, "serve", "--port", str(port), env=environment,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
            before = _peak_rss_kb(server.pid)
            started = time.perf_counter()
            with path.open("rb") as handle:
                form = aiohttp.FormData()
                form.add_field("file", handle, filename="verbatims.xlsx")
                async with session.post(f"http://127.0.0.1:{port}/api/files?user=bench",
                                        data=form) as response:
                    body = await response.json()
            elapsed = time.perf_counter() - started
        after = _peak_rss_kb(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        await server.wait()
    accepted = body.get("files", [{}])[0]
    print(f"  POST /api/files: {elapsed:.1f} s ({size / 1_048_576 / elapsed:.1f} MB/s), "
          f"status {'accepted' if accepted.get('id') else body}")
    print(f"  server peak RSS: {before / 1024:.0f} MB after start-up, {after / 1024:.0f} MB "
          f"after the upload (+{(after - before) / 1024:.0f} MB for a "
          f"{size / 1_048_576:.0f} MB file)")
    print(f"  data class found: {accepted.get('data_class')}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent enqueuers")
    parser.add_argument("--upload-mb", type=int, default=50)
    parser.add_argument("--skip-jobs", action="store_true")
    parser.add_argument("--skip-upload", action="store_true")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="almia-bench-jobs-") as folder:
        if not arguments.skip_jobs:
            await bench_jobs(arguments.jobs, Path(folder) / "data", arguments.clients)
        if not arguments.skip_upload:
            await bench_upload(arguments.upload_mb, Path(folder) / "data")


if __name__ == "__main__":
    asyncio.run(main())
