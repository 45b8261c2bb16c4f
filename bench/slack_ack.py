"""Slack acknowledgement latency: Almia versus a bare Bolt ``AsyncApp``, same run, loopback.

200 concurrent signed ``app_mention`` events (distinct ``event_id``) plus retried copies
(``X-Slack-Retry-Num``) while the model takes 20 s. Prints ack p50/p99 for both servers,
their ratio, and the number of duplicate replies (must be 0). Bounded; stops by itself.

    .venv/bin/python bench/slack_ack.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector, web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.slack import SlackAdapter
from bot.app import build_app
from bot.settings import load_settings
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


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/slack/events"


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


async def measure(
    app: web.Application, start: int, after: Callable[[], Awaitable[None]] | None = None
) -> list[float]:
    runner, url = await serve(app)
    try:
        latencies = await fire(url, start)
        if after is not None:
            await after()
        return latencies
    finally:
        await runner.cleanup()


async def main() -> None:
    async with FakeSlackApi() as slack, FakeModelServer(delay_seconds=MODEL_SECONDS) as model:
        with tempfile.TemporaryDirectory() as directory:
            data = Path(directory)
            settings = load_settings(
                data_dir=data / "almia",
                policy_file=write_policy(data / "policy.yaml", model.url, timeout_seconds=60),
                slack={
                    "signing_secret": SECRET,
                    "bot_token": "xoxb-bench",
                    "api_url": slack.api_url,
                },
                web={"enabled": False},
            )
            almia_app = build_app(
                settings,
                adapter_factories=[
                    lambda runtime: SlackAdapter(runtime, shutdown_grace_seconds=0.5)
                ],
            )

            async def placeholders_posted() -> None:
                await slack.wait_for(
                    lambda: len(slack.of("chat.postMessage")) >= EVENTS + 1, within=30
                )
                await asyncio.sleep(0.5)  # let any late duplicate show up before counting

            almia = await measure(almia_app, 1_000, placeholders_posted)
            threads = Counter(c.data.get("thread_ts") for c in slack.of("chat.postMessage"))
            duplicates = sum(count - 1 for count in threads.values() if count > 1)
            model_calls = len(model.requests)
            bare = await measure(bare_bolt(slack.api_url), 5_000)

    (a50, a99), (b50, b99) = percentiles(almia), percentiles(bare)
    print(f"requests per server: {EVENTS} events + {RETRIES} retries, concurrent, loopback")
    print(f"model delay: {MODEL_SECONDS:.0f} s (model calls started: {model_calls})")
    print(f"Almia     ack p50 {a50:7.1f} ms   p99 {a99:7.1f} ms")
    print(f"bare Bolt ack p50 {b50:7.1f} ms   p99 {b99:7.1f} ms")
    print(f"ratio p99 Almia / bare Bolt: {a99 / b99:.2f} (target <= 1.2, p99 <= 100 ms)")
    print(f"duplicate replies: {duplicates} (placeholders: {sum(threads.values())})")


if __name__ == "__main__":
    asyncio.run(main())
