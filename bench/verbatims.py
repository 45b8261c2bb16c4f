"""Verbatim analysis on the synthetic set: theme macro-F1, polarity, planted trends, speed.

    .venv/bin/python bench/verbatims.py [--n 10000] [--seed 1] [--cache DIR] [--no-score]

Generates ``../shared/eval/verbatims-synth`` rows, runs ``analyse`` with the USE embedder
(stars as the score column, as a survey export has it: sentiment learns from its bands, never
from the answer key; ``--no-score`` drops it to measure the text-only path), writes
``id;themes;sentiment`` and prints the scorer's figures, the trends the analysis reports,
time per stage and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.embeddings import UseEmbedder
from skills.verbatims.analysis import EmbeddingCache, analyse
from skills.verbatims.codebook import load_codebook
from skills.verbatims.model import Analysis, InputCounts, Verbatim

SYNTH = ROOT.parent / "shared" / "eval" / "verbatims-synth"
_NOISE = {"ras", "rien à dire", ".", "-", "nsp", "pas d'avis", "xxx", "rien", "néant", "neant"}


def generate(n: int, seed: int, folder: Path) -> tuple[Path, Path]:
    out, truth = folder / f"v{n}-{seed}.csv", folder / f"t{n}-{seed}.jsonl"
    if not out.exists():
        subprocess.run([sys.executable, str(SYNTH / "generate.py"), "--n", str(n), "--seed",
                        str(seed), "--out", str(out), "--truth", str(truth)], check=True)
    return out, truth


def read(path: Path, with_score: bool = True) -> tuple[list[str], list[Verbatim]]:
    ids: list[str] = []
    rows: list[Verbatim] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle, delimiter=";"), start=1):
            ids.append(row["id"])
            rows.append(Verbatim(row=number, text=row["verbatim"], id=row["id"],
                                 score=float(row["note"]) if with_score else None, date=date.fromisoformat(row["date"]),
                                 product=row["produit"], channel=row["canal"],
                                 region=row["region"]))
    return ids, rows


def write_predictions(path: Path, ids: list[str], analysis: Analysis) -> None:
    labels = {theme.id: theme.label.replace("|", "/") for theme in analysis.themes}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["id", "themes", "sentiment"])
        for rid, assigned, sentiment in zip(ids, analysis.assignments, analysis.sentiments,
                                            strict=True):
            writer.writerow([rid, "|".join(labels[t] for t in assigned), sentiment])


async def _ticks(lags: list[float]) -> None:
    """Sleep 50 ms again and again, noting how late each wake-up is."""
    while True:
        before = time.perf_counter()
        try:
            await asyncio.sleep(0.05)
        finally:  # cancelled at the end: how late it already was counts too
            lags.append(max(0.0, time.perf_counter() - before - 0.05))


async def run(args: argparse.Namespace) -> None:
    folder = Path(args.work or tempfile.mkdtemp(prefix="verbatims-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, truth = generate(args.n, args.seed, folder)
    ids, rows = read(csv_path, not args.no_score)
    noise = [r.text.strip().lower().rstrip(".!") in _NOISE for r in rows]
    counts = InputCounts(rows=len(rows), analysed=len(rows), no_content=sum(noise))
    cache = EmbeddingCache(Path(args.cache) if args.cache else None)
    lags: list[float] = []
    ticking = asyncio.create_task(_ticks(lags))  # how long the server's loop would wait
    started = time.perf_counter()
    analysis = await analyse(rows, counts=counts, embedder=UseEmbedder(),
                             score_kind=None if args.no_score else "stars5", cache=cache,
                             codebook=load_codebook(args.codebook))
    elapsed = time.perf_counter() - started
    ticking.cancel()
    await asyncio.gather(ticking, return_exceptions=True)
    predictions = folder / f"pred{args.n}-{args.seed}.csv"
    write_predictions(predictions, ids, analysis)
    scored = await asyncio.to_thread(
        subprocess.run,[sys.executable, str(SYNTH / "score.py"), "--truth", str(truth),
                             "--pred", str(predictions), "--json"],
                            check=True, capture_output=True, text=True)
    result = json.loads(scored.stdout)
    print(f"rows {len(rows)}  themes {len(analysis.themes)}  seed {args.seed}"
          f"{'  (no score column)' if args.no_score else ''}")
    for row in result["per_theme"]:
        print(f"  {row['theme']:26s} F1 {row['f1']:.3f}  P {row['precision']:.3f}  "
              f"R {row['recall']:.3f}  ← {', '.join(row['matched'])[:50]}")
    print(f"theme macro-F1 {result['macro_f1']:.3f}   ARI {result['ari_first_theme']:.3f}   "
          f"rows with a theme {result['rows_with_label'] / result['rows']:.1%}")
    print(f"polarity accuracy {result['polarity']['accuracy']:.3f}   macro-F1 "
          f"{result['polarity']['macro_f1']:.3f}   aspect accuracy "
          f"{result['polarity']['aspect_accuracy']:.3f}")
    confusion = result["polarity"]["confusion"]
    recalls = {c: confusion.get(f"{c}->{c}", 0) / max(1, sum(v for k, v in confusion.items()
                                                           if k.startswith(f"{c}->")))
               for c in ("neg", "neu", "pos")}
    print("polarity recall " + "  ".join(f"{c} {r:.3f}" for c, r in recalls.items()))
    _trends(result, analysis)
    print("themes:", " · ".join(f"{t.label} ({t.share:.1%})" for t in analysis.themes[:25]))
    print("drivers:", " · ".join(f"{analysis.themes[d.theme].label} "
                                 f"{d.detractor_share:.0%}/{d.impact:+.2f}"
                                 for d in analysis.drivers[:6]))
    stages = "  ".join(f"{stage} {seconds:.1f}s" for stage, seconds in
                       analysis.stage_seconds.items())
    print(f"time {elapsed:.1f}s: {stages}")
    lags.sort()
    if lags:
        print(f"event loop lag during the analysis (a 50 ms tick's delay, what another "
              f"request waits): p50 {lags[len(lags) // 2] * 1000:.0f} ms, p99 "
              f"{lags[int(len(lags) * 0.99)] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB   predictions {predictions}")


def _trends(result: dict[str, object], analysis: Analysis) -> None:
    matched = {row["theme"]: row["matched"] for row in result["per_theme"]}  # type: ignore[attr-defined]
    by_label = {theme.label: theme.id for theme in analysis.themes}
    planted = {"espace_client_app": "emerging", "remboursement_sante": "improving"}
    for truth_theme, kind in planted.items():
        ids = {by_label[label] for label in matched.get(truth_theme, []) if label in by_label}
        hits = [t for t in analysis.trends if t.theme in ids and t.kind == kind]
        seen = ", ".join(f"{t.kind} since {t.since} ({t.before:.0%} → {t.after:.0%})"
                         for t in hits) or "NOT reported"
        print(f"planted {kind} {truth_theme}: {seen}")
    for trend in analysis.trends[:8]:
        print(f"  trend {trend.kind:9s} {analysis.themes[trend.theme].label[:40]:40s} "
              f"{trend.before:.1%} → {trend.after:.1%} since {trend.since}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", help="folder for the generated files (default: a temp dir)")
    parser.add_argument("--cache", help="embedding cache folder (re-runs skip embedding)")
    parser.add_argument("--codebook", default="assurance",
                        help="codebook: a shipped name, a YAML file, or « aucun » (discovery only)")
    parser.add_argument("--no-score", action="store_true",
                        help="no score column (sentiment from the text alone, no drivers)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
