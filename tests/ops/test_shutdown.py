"""``almia serve`` as a process: SIGTERM drains (not ready first, the answer in flight is
finished and stored, audit chain intact), JSON-lines logs without content, ``--workers 2``."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from bot.governance.audit import verify_chain
from bot.store import Store
from tests.fakes.model_server import FakeModelServer, write_policy

ROOT = Path(__file__).resolve().parents[2]
SECRET_TEXT = "Résume : le client Jean Dupont appelle pour son contrat CTR-55501234."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(tmp_path: Path, model_url: str, **extra: str) -> dict[str, str]:
    policy = write_policy(tmp_path / "policy.yaml", model_url, provider="openai-compatible",
                          timeout_seconds=60.0)
    return {**os.environ, "ALMIA_DATA_DIR": str(tmp_path / "data"),
            "ALMIA_POLICY_FILE": str(policy), "ALMIA_CHARTER__ENABLED": "false",
            "ALMIA_DLP__NER": "false", "ALMIA_LOG_LEVEL": "INFO",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True", **extra}


async def _serve(port: int, environment: Mapping[str, str], *arguments: str
                 ) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--port", str(port), *arguments, cwd=ROOT,
        env=dict(environment), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)


async def _until_ready(session: aiohttp.ClientSession, base: str,
                       process: asyncio.subprocess.Process, within: float = 120.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        assert process.returncode is None, "the server exited during start-up"
        try:
            async with session.get(f"{base}/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the server never became ready")


async def _audit(tmp_path: Path) -> list[dict[str, object]]:
    store = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'almia.db'}")
    try:
        return await store.audit_records()
    finally:
        await store.close()


async def test_sigterm_goes_unready_finishes_the_answer_in_flight_and_stores_it(
        tmp_path: Path) -> None:
    async with FakeModelServer(delay_seconds=3.0) as model:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        process = await _serve(port, _environment(
            tmp_path, model.url, ALMIA_OPS__DRAIN_SECONDS="1.5",
            ALMIA_OPS__LOG_FORMAT="json"))
        try:
            async with aiohttp.ClientSession() as session:
                await _until_ready(session, base, process)
                answer = asyncio.create_task(session.post(f"{base}/api/chat", json={
                    "text": f"/almia summary {SECRET_TEXT}", "user": "alice", "thread": "t1"}))
                deadline = asyncio.get_running_loop().time() + 60
                while not model.requests:  # the answer is in flight, waiting for the model
                    assert asyncio.get_running_loop().time() < deadline
                    await asyncio.sleep(0.05)
                process.send_signal(signal.SIGTERM)
                await asyncio.sleep(0.3)
                async with session.get(f"{base}/readyz") as ready:  # listener still open
                    assert ready.status == 503
                    assert (await ready.json())["checks"]["lifecycle"]["detail"] == "draining"
                async with await answer as response:
                    assert response.status == 200
                    reply = (await response.json())["reply"]
                assert reply["skill"] == "call_summary" and reply["turn_id"]
            assert await asyncio.wait_for(process.wait(), 120) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.stderr is not None
        logs = (await process.stderr.read()).decode()
    records = await _audit(tmp_path)
    assert [r["action"] for r in records if r["action"] == "message"] == ["message"]
    assert verify_chain(records).intact
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert lines, logs[-2000:]
    assert {"ts", "level", "logger", "message"} <= set(lines[0])
    assert any(line.get("route") == "/api/chat" and line.get("status") == 200 for line in lines)
    for private in ("Dupont", "CTR-555", "alice"):
        assert private not in logs


async def _pid(base: str) -> str:
    """The pid of the process answering a new connection (from ``/healthz``)."""
    async with aiohttp.ClientSession() as fresh, fresh.get(f"{base}/healthz") as response:
        return str((await response.json())["pid"])


@dataclass
class Replica:
    """``almia serve --workers 2`` running, both of its processes seen answering."""

    base: str
    process: asyncio.subprocess.Process


async def _both_answer(base: str, within: float = 120.0) -> set[str]:
    pids: set[str] = set()
    deadline = asyncio.get_running_loop().time() + within
    while len(pids) < 2:  # new connections: the kernel spreads them
        assert asyncio.get_running_loop().time() < deadline, pids
        pids.add(await _pid(base))
    return pids


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def replica() -> AsyncIterator[Replica]:
    """One replica of two processes for the tests below (starting one is the slow part);
    at the end SIGTERM must stop the whole replica cleanly."""
    # its own directory: pytest prunes old temporary directories while other runs go on
    directory = Path(tempfile.mkdtemp(prefix="almia-workers-test-"))
    try:
        async with FakeModelServer() as model:
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            process = await _serve(port, _environment(directory, model.url,
                                                      ALMIA_OPS__DRAIN_SECONDS="0"),
                                   "--workers", "2")
            try:
                async with aiohttp.ClientSession() as session:
                    await _until_ready(session, base, process)
                await _both_answer(base)
                yield Replica(base, process)
                assert process.returncode is None
                process.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(process.wait(), 120) == 0
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.asyncio(loop_scope="module")
async def test_two_worker_processes_share_the_port_and_their_metrics(replica: Replica) -> None:
    base = replica.base
    assert len(await _both_answer(base)) == 2
    async with aiohttp.ClientSession() as session:
        for index in range(40):
            async with aiohttp.ClientSession() as fresh, fresh.post(
                    f"{base}/api/chat", json={"text": "/almia help",
                                              "user": f"u{index}"}) as response:
                assert response.status == 200
        async with session.get(f"{base}/metrics") as scrape:
            text = await scrape.text()
    # one scrape, whichever process answers it, adds up both processes' samples
    assert 'almia_requests_total{channel="web",outcome="ok",skill="help"} 40.0' in text


@pytest.mark.asyncio(loop_scope="module")
async def test_the_supervisor_replaces_a_worker_process_that_died(replica: Replica) -> None:
    pids = await _both_answer(replica.base)
    victim = sorted(pids)[0]
    os.kill(int(victim), signal.SIGKILL)
    seen: set[str] = set()
    deadline = asyncio.get_running_loop().time() + 120
    while not (seen - pids):  # a new process answers beside the survivor
        assert asyncio.get_running_loop().time() < deadline, seen
        try:
            seen.add(await _pid(replica.base))
        except aiohttp.ClientError:
            await asyncio.sleep(0.1)
    assert victim not in seen - pids and replica.process.returncode is None
