"""Slack acknowledgement latency: Almia versus a bare Bolt ``AsyncApp``, same run, loopback.

200 concurrent signed ``app_mention`` events (distinct ``event_id``) plus retried copies
(``X-Slack-Retry-Num``) while the model takes 20 s. Prints ack p50/p99 for both servers,
their ratio, and the number of duplicate replies (must be 0). Bounded; stops by itself.

    .venv/bin/python bench/slack_ack.py
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector, web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.model_server import FakeModelServer, write_policy
from tests.fakes.slack_api import TEAM_ID, FakeSlackApi, signed_headers

SECRET = "bench-signing-secret"  # noqa: S105 (loopback bench)
EVENTS = 200
RETRIES = 40
MODEL_SECONDS = 20.0


def mention(number: int) -> dict[str, Any]:
    ts = f"{1_715_000_000 + number}.000100"
    return {
        "token": "bench",
        "team_id": TEAM_ID,
        "api_app_id": "A0BENCH",
        "type": "event_callback",
        "event_id": f"Ev{number:08d}",
        "event_time": 1_715_000_000 + number,
        "event": {
            "type": "app_mention",
            "user": "U0EMPLOYE1",
            "channel": "C0BENCH",
            "ts": ts,
            "event_ts": ts,
            "team": TEAM_ID,
            "text": f"<@UALMIABOT> summary: appel {number}, le client signale un sinistre.",
        },
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_listening(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"nothing listens on {port}")


def _server(arguments: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A server in its own process, so the load client does not share its event loop."""
    return subprocess.Popen([sys.executable, *arguments], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def fire(url: str, start: int) -> list[float]:
    """Send the events concurrently (and retried copies); return ack latencies in ms."""
    async with ClientSession(connector=TCPConnector(limit=0)) as session:

        async def one(payload: dict[str, Any], retry: int = 0) -> float:
            body = json.dumps(payload)
            headers = {"Content-Type": "application/json", **signed_headers(body, SECRET)}
            if retry:
                headers.update(
                    {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
                )
            began = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            return (time.perf_counter() - began) * 1000

        await one(mention(start - 1))  # warm-up: auth.test, connection pool
        jobs = [one(mention(start + n)) for n in range(EVENTS)]
        jobs += [one(mention(start + n), retry=1 + n % 3) for n in range(RETRIES)]
        return list(await asyncio.gather(*jobs))


def percentiles(latencies: list[float]) -> tuple[float, float]:
    ranked = sorted(latencies)
    return statistics.median(ranked), ranked[min(len(ranked) - 1, int(len(ranked) * 0.99))]


def bare_bolt(api_url: str) -> web.Application:
    """A Bolt AsyncApp that only acknowledges, mounted the same way."""
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        name="bare",
        signing_secret=SECRET,
        client=AsyncWebClient(
            token="xoxb-bench",  # noqa: S106
            base_url=api_url,
        ),
    )

    async def noop() -> None:
        return None

    bolt.event("app_mention")(noop)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


def run_bare_bolt(port: int, api_url: str) -> None:
    """``slack_ack.py --bare PORT API_URL``: the reference server, in its own process."""
    web.run_app(bare_bolt(api_url), host="127.0.0.1", port=port, print=None, access_log=None)


async def main() -> None:
    async with FakeSlackApi() as slack, FakeModelServer(delay_seconds=MODEL_SECONDS) as model:
        with tempfile.TemporaryDirectory() as directory:
            data = Path(directory)
            almia_port, bare_port = _free_port(), _free_port()
            env = {
                **os.environ,
                "ALMIA_DATA_DIR": str(data / "almia"),
                "ALMIA_POLICY_FILE": str(write_policy(data / "policy.yaml", model.url,
                                                      timeout_seconds=60)),
                "ALMIA_SLACK__SIGNING_SECRET": SECRET,
                "ALMIA_SLACK__BOT_TOKEN": "xoxb-bench",
                "ALMIA_SLACK__API_URL": slack.api_url,
                "ALMIA_WEB__PORT": str(almia_port),
                "ALMIA_LOG_LEVEL": "WARNING",
                "ALMIA_CHARTER__ENABLED": "false",  # measures answers, not the charter
            }
            almia_server = _server(["-m", "bot", "serve"], env)
            bare_server = _server([__file__, "--bare", str(bare_port), slack.api_url])
            try:
                await _wait_listening(almia_port)
                await _wait_listening(bare_port)
                almia = await fire(f"http://127.0.0.1:{almia_port}/slack/events", 1_000)
                await slack.wait_for(
                    lambda: len(slack.of("chat.postMessage")) >= EVENTS + 1, within=60
                )
                await asyncio.sleep(0.5)  # let any late duplicate show up before counting
                threads = Counter(c.data.get("thread_ts") for c in slack.of("chat.postMessage"))
                duplicates = sum(count - 1 for count in threads.values() if count > 1)
                model_calls = len(model.requests)
                bare = await fire(f"http://127.0.0.1:{bare_port}/slack/events", 5_000)
            finally:
                for server in (almia_server, bare_server):
                    server.terminate()
                    try:
                        server.wait(timeout=10)
                    except subprocess.TimeoutExpired:  # answers still waiting on the slow model
                        server.kill()
                        server.wait()

    (a50, a99), (b50, b99) = percentiles(almia), percentiles(bare)
    print(f"requests per server: {EVENTS} events + {RETRIES} retries, concurrent, loopback")
    print("servers in their own processes; client, fake Slack API and fake model in this one")
    print(f"model delay: {MODEL_SECONDS:.0f} s (model calls started when counted: {model_calls})")
    print(f"Almia     ack p50 {a50:7.1f} ms   p99 {a99:7.1f} ms")
    print(f"bare Bolt ack p50 {b50:7.1f} ms   p99 {b99:7.1f} ms")
    print(f"ratio p99 Almia / bare Bolt: {a99 / b99:.2f} (target <= 1.2, p99 <= 100 ms)")
    print(f"duplicate replies: {duplicates} (placeholders: {sum(threads.values())})")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--bare":
        run_bare_bolt(int(sys.argv[2]), sys.argv[3])
    else:
        asyncio.run(main())
