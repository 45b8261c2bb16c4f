"""Questions asked with a document attached: time to the passages, first question and next.

The first question about a file reads, cuts and embeds it (up to
``knowledge.attached_max_embedded`` chunks, the best by BM25 when it has more); later ones
find it prepared in memory and embed only the question (and chunks they rank that were not
embedded yet). Each file of the tender dossier (``tenders-dev``) is asked the same French
questions, cold (a fresh knowledge base) then warm; the figures are wall times of
``KnowledgeBase.search_files`` with the default embedder.

    python -m bench.attached [--data-dir DIR] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from knowledge import KnowledgeBase, KnowledgeSettings
from knowledge.attached import AttachedFile, readable
from knowledge.embeddings import build_embedder

DOSSIER = (Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "tenders-dev"
           / "dossier-1-agglo-val-aurance-psc")
QUESTIONS = (
    "Quelle est la date limite de remise des offres ?",
    "Quels sont les critères d'attribution ?",
    "Les variantes sont-elles autorisées ?",
    "Quelle est la durée du marché ?",
    "Quelles pénalités en cas de retard ?",
    "Quel est le montant de la cotisation ?",
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(data_dir: Path, rounds: int) -> None:
    settings = KnowledgeSettings()
    embedder = build_embedder(settings)  # one model for every round: loading it is not timed
    await embedder.embed_query("échauffement")
    files = sorted(path for path in DOSSIER.iterdir() if readable(path.name))
    print(f"{len(files)} files of {DOSSIER.name}, {len(QUESTIONS)} questions, {rounds} rounds")
    for path in files:
        attached = AttachedFile(path.name, path.read_bytes())
        cold: list[float] = []
        warm: list[float] = []
        for round_ in range(rounds):  # a fresh knowledge base: nothing prepared yet
            kb = KnowledgeBase.open(data_dir / f"{path.stem}-{round_}", settings,
                                    embedder=embedder)
            try:
                for number, question in enumerate(QUESTIONS):
                    started = time.perf_counter()
                    await kb.search_files([attached], question)
                    (cold if number == 0 else warm).append(time.perf_counter() - started)
            finally:
                kb.close()
        print(f"  {path.name} ({path.stat().st_size // 1024} KB): first question p50 "
              f"{statistics.median(cold) * 1000:.0f} ms (max {max(cold) * 1000:.0f}); next "
              f"p50 {statistics.median(warm) * 1000:.0f} / p99 "
              f"{percentile(warm, 0.99) * 1000:.0f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.data_dir is not None:
        asyncio.run(run(args.data_dir, args.rounds))
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(Path(folder), args.rounds))


if __name__ == "__main__":
    main()
