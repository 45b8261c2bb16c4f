"""DLP detection: time per 1,000 characters (p50/p99) and recall/precision per kind.

Runs the real :class:`bot.dlp.Detector` (spaCy's French model for names) on the
synthetic corpus of ``tests/fakes/pii.py``. Look-alikes (one digit off) count as
negatives: a finding on one is a false positive.

    .venv/bin/python bench/dlp.py [--samples 2000] [--seed 1] [--no-ner]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.dlp import Detector, DlpSettings
from tests.fakes.pii import KINDS, PiiGenerator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-ner", action="store_true")
    arguments = parser.parse_args()

    detector = Detector(DlpSettings(ner=not arguments.no_ner))
    started = time.perf_counter()
    detector.warm_up()
    print(f"NER model load: {time.perf_counter() - started:.2f} s")

    corpus = PiiGenerator(arguments.seed).corpus(arguments.samples)
    true_positive: Counter[str] = Counter()
    false_negative: Counter[str] = Counter()
    false_positive: Counter[str] = Counter()
    per_thousand: list[float] = []
    for sample in corpus:
        started = time.perf_counter()
        findings = detector.detect(sample.text)
        per_thousand.append((time.perf_counter() - started) * 1000 * 1000 / len(sample.text))
        for entity in sample.entities:
            if not entity.valid:
                continue
            found = any(f.kind == entity.kind and f.start < entity.end and f.end > entity.start
                        for f in findings)
            (true_positive if found else false_negative)[entity.kind] += 1
        for finding in findings:
            if not any(e.valid and e.kind == finding.kind and finding.start < e.end
                       and finding.end > e.start for e in sample.entities):
                false_positive[finding.kind] += 1

    big = " ".join(sample.text for sample in corpus)[:50_000]
    started = time.perf_counter()
    detector.detect(big)
    paste = time.perf_counter() - started

    quantiles = statistics.quantiles(per_thousand, n=100)
    lookalikes = sum(not e.valid for s in corpus for e in s.entities)
    print(f"samples: {len(corpus)} (mean {statistics.mean(len(s.text) for s in corpus):.0f} "
          f"chars), look-alikes: {lookalikes}, NER: {not arguments.no_ner}")
    print(f"detection per 1,000 chars: p50 {quantiles[49]:.2f} ms, p99 {quantiles[98]:.2f} ms")
    print(f"one 50,000-char paste: {paste * 1000:.0f} ms")
    print(f"{'kind':<10} {'recall':>7} {'precision':>9} {'TP':>5} {'FN':>5} {'FP':>5}")
    for kind in KINDS:
        tp, fn, fp = true_positive[kind], false_negative[kind], false_positive[kind]
        recall = tp / (tp + fn) if tp + fn else float("nan")
        precision = tp / (tp + fp) if tp + fp else float("nan")
        print(f"{kind:<10} {recall:>7.3f} {precision:>9.3f} {tp:>5} {fn:>5} {fp:>5}")
    others = {kind: count for kind, count in false_positive.items() if kind not in KINDS}
    if others:
        print(f"other kinds found: {others}")


if __name__ == "__main__":
    main()
