"""Teams latency on loopback: HTTP ack, typing indicator and first streamed chunk, p50/p99.

50 concurrent personal conversations post a signed real activity to ``/api/messages``;
the model is a loopback fake answering after 2–8 s; replies land in a fake Bot
Connector. Bounded (60 s) and self-stopping. Run: ``.venv/bin/python bench/teams_latency.py``.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.teams import TeamsAdapter, TeamsEndpoints
from bot.app import build_app
from bot.gateway.llm import prepare_offline_environment
from bot.settings import load_settings
from tests.conftest import FakeSearch
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.model_server import FakeModelServer, write_policy
from tests.fakes.openid import ISSUER, FakeOpenIdServer

CONVERSATIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 50
APP_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
DEBUG = "--debug" in sys.argv
FIXTURE = ROOT / "tests/fixtures/teams/message_personal.json"


@dataclass
class SlowModel(FakeModelServer):
    """The fake model, each answer delayed 2–8 s (the same delays at every run, so that two
    runs compare the code, not the draw)."""

    delays: random.Random = field(default_factory=lambda: random.Random(2026))

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(self.delays.uniform(2.0, 8.0))
        return await super()._completions(request)


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   (n={len(ordered)})"


async def run(workdir: Path) -> None:
    prepare_offline_environment()
    with FakeOpenIdServer() as issuer:
        async with SlowModel(chunk_words=2) as model, FakeBotConnector() as connector:
            settings = load_settings(
                data_dir=workdir / "data",
                _env_file=None,
                policy_file=write_policy(workdir / "policy.yaml", model.url, timeout_seconds=30.0),
                teams={"app_id": APP_ID, "app_password": "x" * 32, "tenant_id": TENANT},
                web={"enabled": False},
                charter={"enabled": False},  # measures answers, not the charter
            )
            endpoints = TeamsEndpoints(
                issuer.metadata_url, issuer.metadata_url, ISSUER, f"{issuer.base_url}/{TENANT}"
            )
            app = build_app(
                settings,
                knowledge=FakeSearch(),
                adapter_factories=[  # type: ignore[arg-type]
                    lambda runtime: TeamsAdapter(
                        runtime, endpoints=endpoints, outbound_token=lambda: "bench-token"
                    )
                ],
            )
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            template = json.loads(FIXTURE.read_text(encoding="utf-8"))
            template["serviceUrl"] = connector.url
            token = issuer.token(issuer.claims(APP_ID, connector.url))
            started: dict[str, float] = {}
            acked: list[float] = []
            try:
                async with ClientSession() as session:
                    # warm-up: metadata fetch, litellm import, database
                    await post(session, server, template, "warmup", token, started, [])
                    await connector.wait_for(
                        lambda calls: any(
                            c.type == "message" and c.conversation_id == "warmup" for c in calls
                        ),
                        within=30,
                    )
                    connector.calls.clear()
                    await asyncio.gather(
                        *(
                            post(session, server, template, f"bench-{n}", token, started, acked)
                            for n in range(CONVERSATIONS)
                        )
                    )
                await connector.wait_for(
                    lambda calls: sum(c.type == "message" for c in calls) >= CONVERSATIONS,
                    within=60,
                )
            finally:
                await server.close()
            typing: list[float] = []
            first_chunk: list[float] = []
            final: list[float] = []
            for conversation, t0 in started.items():
                calls = [c for c in connector.calls if c.conversation_id == conversation]
                plain = [c.at for c in calls if c.type == "typing" and c.stream_type is None]
                chunks = [c.at for c in calls if c.stream_type == "streaming"]
                finals = [c.at for c in calls if c.type == "message"]
                if plain:
                    typing.append(plain[0] - t0)
                if chunks:
                    first_chunk.append(chunks[0] - t0)
                if finals:
                    final.append(finals[-1] - t0)
            print(f"{CONVERSATIONS} concurrent personal conversations, model delay 2–8 s")
            print(f"HTTP response       {percentiles(acked)}")
            print(f"typing indicator    {percentiles(typing)}")
            print(f"first stream chunk  {percentiles(first_chunk)}")
            print(f"final message       {percentiles(final)}")


async def post(
    session: ClientSession,
    server: TestServer,
    template: dict[str, Any],
    conversation: str,
    token: str,
    started: dict[str, float],
    acked: list[float],
) -> None:
    activity = json.loads(json.dumps(template))
    activity["conversation"]["id"] = conversation
    activity["id"] = conversation
    t0 = time.monotonic()
    started[conversation] = t0
    async with session.post(
        server.make_url("/api/messages"),
        data=json.dumps(activity),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 200, response.status
    acked.append(time.monotonic() - t0)


def main() -> None:
    """Run once, bounded."""
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(asyncio.wait_for(run(Path(workdir)), timeout=120), debug=DEBUG)


if __name__ == "__main__":
    main()
