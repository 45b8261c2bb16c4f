"""OpenTelemetry traces exported over OTLP/HTTP to a loopback collector (the real protocol)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from bot.app import build_app
from bot.settings import load_settings
from tests.fakes.model_server import FakeModelServer, write_policy

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
NOTES = "Client : j'appelle pour mon sinistre. Conseiller : je rappelle Mme Girard demain."


def _attributes(span: Any) -> dict[str, Any]:
    found = {}
    for attribute in span.attributes:
        value = attribute.value
        found[attribute.key] = (value.string_value or value.int_value
                                if value.WhichOneof("value") != "bool_value"
                                else value.bool_value)
    return found


async def test_requests_and_model_calls_become_spans_of_the_callers_trace(
        tmp_path: Path) -> None:
    received: list[ExportTraceServiceRequest] = []

    async def collect(request: web.Request) -> web.Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.read())
        received.append(message)
        return web.Response(body=b"", content_type="application/x-protobuf")

    collector_app = web.Application()
    collector_app.router.add_post("/v1/traces", collect)
    collector = TestServer(collector_app, host="127.0.0.1")
    await collector.start_server()
    async with FakeModelServer() as model:
        policy = write_policy(tmp_path / "policy.yaml", model.url, provider="openai-compatible")
        settings = load_settings(
            data_dir=tmp_path / "data", policy_file=policy, _env_file=None,
            ops={"tracing": True,
                 "otlp_endpoint": f"http://127.0.0.1:{collector.port}/v1/traces"})
        client: TestClient = TestClient(TestServer(build_app(settings),  # type: ignore[type-arg]
                                                   host="127.0.0.1"))
        await client.start_server()
        try:
            response = await client.post(
                "/api/chat", json={"text": f"/almia summary {NOTES}", "user": "alice"},
                headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"})
            assert response.status == 200
            assert (await client.get("/healthz")).status == 200  # probes are not traced
        finally:
            await client.close()  # the provider flushes its spans on clean-up
    await collector.close()
    spans = [span for export in received for resource in export.resource_spans
             for scope in resource.scope_spans for span in scope.spans]
    by_name = {span.name: span for span in spans}
    assert set(by_name) == {"POST /api/chat", "model fake"}, set(by_name)
    server, call = by_name["POST /api/chat"], by_name["model fake"]
    assert server.trace_id.hex() == TRACE_ID  # joined the caller's trace
    assert call.trace_id.hex() == TRACE_ID and call.parent_span_id == server.span_id
    assert _attributes(server)["http.route"] == "/api/chat"
    assert _attributes(server)["http.response.status_code"] == 200
    assert _attributes(call)["gen_ai.request.model"] == "fake"
    assert _attributes(call)["gen_ai.usage.input_tokens"] == 11
    everything = b"".join(export.SerializeToString() for export in received)
    for private in (b"alice", b"Girard", b"sinistre"):
        assert private not in everything
