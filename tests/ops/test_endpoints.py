"""``/healthz``, ``/readyz`` and ``/metrics`` on the real app, with loopback dependencies."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.ops.wiring import OPS
from bot.settings import Settings, load_settings
from tests.conftest import FakeSearch, passage
from tests.fakes.model_server import FakeModelServer, write_policy

SEARCH = [passage(1, "Un dégât des eaux se déclare sous cinq jours ouvrés.", title="Guide")]
Client = TestClient  # type: ignore[type-arg]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _client(settings: Settings) -> Client:
    app = build_app(settings, knowledge=FakeSearch(list(SEARCH)))  # type: ignore[arg-type]
    client: Client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    created = await _client(settings)
    yield created
    await created.close()


async def test_alive_and_ready_once_started(client: Client) -> None:
    alive = await client.get("/healthz", headers={"Host": "10.0.0.7:3978"})  # a kubelet probe
    assert alive.status == 200 and (await alive.json())["status"] == "ok"
    ready = await client.get("/readyz", headers={"Host": "10.0.0.7:3978"})
    body = await ready.json()
    assert ready.status == 200, body
    assert body["checks"]["database"] == {"status": "ok", "detail": "sqlite"}
    assert body["checks"]["models"]["status"] == "ok"


async def test_draining_replica_is_alive_but_not_ready(client: Client) -> None:
    client.app[OPS].lifecycle.drain()
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["checks"]["lifecycle"]["detail"] == "draining"
    assert (await client.get("/healthz")).status == 200


async def test_redis_and_chroma_down_make_the_replica_not_ready(tmp_path: Path) -> None:
    port = _closed_port()
    settings = load_settings(data_dir=tmp_path / "data", redis_url=f"redis://127.0.0.1:{port}/0",
                             chroma_url=f"http://127.0.0.1:{port}", _env_file=None)
    client = await _client(settings)
    try:
        response = await client.get("/readyz")
        body = await response.json()
        assert response.status == 503
        assert body["checks"]["database"]["status"] == "ok"
        assert body["checks"]["redis"]["status"] == "fail"
        assert body["checks"]["chroma"]["status"] == "fail"
    finally:
        await client.close()


async def test_chroma_heartbeat_and_a_model_server_down(tmp_path: Path) -> None:
    heartbeat = web.Application()

    async def beat(_request: web.Request) -> web.Response:
        return web.json_response({"nanosecond heartbeat": 1})

    heartbeat.router.add_get("/api/v2/heartbeat", beat)
    chroma = TestServer(heartbeat, host="127.0.0.1")
    await chroma.start_server()
    policy = write_policy(tmp_path / "policy.yaml", f"http://127.0.0.1:{_closed_port()}/v1",
                          fallback_extractive=True)
    settings = load_settings(data_dir=tmp_path / "data", policy_file=policy,
                             chroma_url=f"http://127.0.0.1:{chroma.port}", _env_file=None)
    client = await _client(settings)
    try:
        body = await (await client.get("/readyz")).json()
        assert body["status"] == "ready", body
        assert body["checks"]["chroma"]["status"] == "ok"
        # the in-house server is down, the offline model still answers: ready, reported
        assert "down: fake" in body["checks"]["models"]["detail"]
    finally:
        await client.close()
        await chroma.close()


async def test_no_model_reachable_is_not_ready(tmp_path: Path) -> None:
    async with FakeModelServer() as model:
        policy = write_policy(tmp_path / "policy.yaml", model.url)
        settings = load_settings(data_dir=tmp_path / "data", policy_file=policy, _env_file=None)
        client = await _client(settings)
        try:
            assert (await client.get("/readyz")).status == 200  # any HTTP answer: up
        finally:
            await client.close()
    policy = write_policy(tmp_path / "down.yaml", f"http://127.0.0.1:{_closed_port()}/v1")
    settings = load_settings(data_dir=tmp_path / "data2", policy_file=policy, _env_file=None)
    client = await _client(settings)
    try:
        response = await client.get("/readyz")
        assert response.status == 503
        assert "no model reachable: fake" in (await response.json())["checks"]["models"]["detail"]
    finally:
        await client.close()


async def test_metrics_count_a_chat_message_and_http_routes(client: Client) -> None:
    response = await client.post("/api/chat", json={"text": "Quel délai pour un dégât ?",
                                                    "user": "alice", "thread": "t1"})
    assert response.status == 200
    await client.get("/api/jobs/0123456789abcdef?user=alice")
    scrape = await client.get("/metrics")
    assert scrape.status == 200
    assert scrape.headers["Content-Type"].startswith("text/plain")
    text = await scrape.text()
    assert 'almia_requests_total{channel="web",outcome="ok",skill="qa"} 1.0' in text
    assert 'almia_http_requests_total{method="POST",route="/api/chat",status="2xx"} 1.0' in text
    assert 'route="/api/jobs/{job_id}"' in text  # the template, never the id or the user
    assert "alice" not in text and "0123456789abcdef" not in text
    assert 'almia_jobs{state="queued"} 0.0' in text
    assert 'almia_chat_inbox{state="orphaned"} 0.0' in text


async def test_metrics_need_the_token_when_one_is_set(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", web={"api_token": "jeton-web"},
                             ops={"metrics_token": "jeton-metriques"}, _env_file=None)
    client = await _client(settings)
    try:
        assert (await client.get("/metrics")).status == 401
        wrong = {"Authorization": "Bearer jeton-web"}
        assert (await client.get("/metrics", headers=wrong)).status == 401
        right = {"Authorization": "Bearer jeton-metriques", "Host": "10.1.2.3:3978"}
        assert (await client.get("/metrics", headers=right)).status == 200
    finally:
        await client.close()
