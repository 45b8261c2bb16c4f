"""DLP detection quality and speed.

``identifiers``: time per 1,000 characters (p50/p99) and recall/precision per kind on the
synthetic corpus of ``tests/fakes/pii.py``. Look-alikes (one digit off) count as
negatives: a finding on one is a false positive.

``names``: person names in realistic French insurance messages
(``bench/dlp_corpus/generate.py``, gold name spans). Tune on ``--half dev``; report on
``--half test`` (held out: other names, verbs, titles, places, products, companies).
Prints the share of messages where an ordinary word was pseudonymised, the share where
a name was (even partly) missed, per-word precision/recall of ``PERSONNE`` and the
detection latency per message.

    .venv/bin/python bench/dlp.py identifiers [--samples 2000] [--seed 1] [--no-ner]
    .venv/bin/python bench/dlp.py names [--half dev|test] [--seed 1] [--count 1000] [--show 20]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "dlp_corpus"))

from generate import Generator, Message

from bot.governance.dlp import Detector, DlpSettings, Finding
from tests.fakes.pii import KINDS, PiiGenerator

_WORD = re.compile(r"\w+")
# lower-case particles inside a name (« de La Roche », « da Silva »): not identifying alone
_PARTICLES = frozenset({"de", "du", "des", "d", "da", "das", "do", "dos", "van", "von", "der",
                        "ben", "bin", "el", "al"})


def identifiers(arguments: argparse.Namespace) -> None:
    """Recall/precision per identifier kind and time per 1,000 characters."""
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


def _covered(start: int, end: int, findings: list[Finding], kind: str | None = None) -> bool:
    return any(f.start < end and f.end > start and (kind is None or f.kind == kind)
               for f in findings)


def score(message: Message, findings: list[Finding]) -> tuple[list[str], list[str], Counter[str]]:
    """(ordinary words pseudonymised, names missed, word counts tp/fp/fn for PERSONNE)."""
    text = message.text
    gold = [*message.names, *message.phones]
    wrongly: list[str] = []
    counts: Counter[str] = Counter()
    for word in _WORD.finditer(text):
        in_name = any(start <= word.start() and word.end() <= end for start, end in message.names)
        in_gold = any(start <= word.start() and word.end() <= end for start, end in gold)
        as_person = _covered(word.start(), word.end(), findings, "PERSONNE")
        if not in_gold and _covered(word.start(), word.end(), findings):
            wrongly.append(word.group())
        if in_name and word.group() not in _PARTICLES:
            counts["tp" if as_person else "fn"] += 1
        elif as_person:
            counts["fp"] += 1
    missed = [text[start:end] for start, end in message.names
              if any(word.group() not in _PARTICLES
                     and not _covered(start + word.start(), start + word.end(), findings)
                     for word in _WORD.finditer(text[start:end]))]
    return wrongly, missed, counts


def names(arguments: argparse.Namespace) -> None:
    """Ordinary words pseudonymised and names missed, per message, on one half."""
    detector = Detector(DlpSettings())
    detector.warm_up()
    corpus = Generator(arguments.half, arguments.seed).messages(arguments.count)
    latencies: list[float] = []
    with_wrong = with_missed = 0
    counts: Counter[str] = Counter()
    wrong_words: Counter[str] = Counter()
    shown = 0
    for message in corpus:
        started = time.perf_counter()
        findings = detector.detect(message.text)
        latencies.append((time.perf_counter() - started) * 1000)
        wrongly, missed, word_counts = score(message, findings)
        counts.update(word_counts)
        wrong_words.update(wrongly)
        with_wrong += bool(wrongly)
        with_missed += bool(missed)
        if (wrongly or missed) and shown < arguments.show:
            shown += 1
            print(f"- {message.text!r}\n  wrongly: {wrongly} missed: {missed}")
    total = len(corpus)
    quantiles = statistics.quantiles(latencies, n=100)
    precision = counts["tp"] / max(1, counts["tp"] + counts["fp"])
    recall = counts["tp"] / max(1, counts["tp"] + counts["fn"])
    print(f"half {arguments.half}, seed {arguments.seed}: {total} messages, "
          f"{sum(len(m.names) for m in corpus)} names, "
          f"mean {statistics.mean(len(m.text) for m in corpus):.0f} chars")
    print(f"messages with an ordinary word pseudonymised: {with_wrong} "
          f"({100 * with_wrong / total:.1f} %)")
    print(f"messages with a name missed: {with_missed} ({100 * with_missed / total:.1f} %)")
    print(f"PERSONNE per word: precision {precision:.3f}, recall {recall:.3f}")
    print(f"latency per message: p50 {quantiles[49]:.1f} ms, p99 {quantiles[98]:.1f} ms")
    if wrong_words:
        print(f"words wrongly pseudonymised: {wrong_words.most_common(15)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    ids = commands.add_parser("identifiers", help="identifier kinds on the PII corpus")
    ids.add_argument("--samples", type=int, default=2000)
    ids.add_argument("--seed", type=int, default=1)
    ids.add_argument("--no-ner", action="store_true")
    ids.set_defaults(run=identifiers)
    people = commands.add_parser("names", help="person names in insurance messages")
    people.add_argument("--half", choices=("dev", "test"), default="dev")
    people.add_argument("--seed", type=int, default=1)
    people.add_argument("--count", type=int, default=1000)
    people.add_argument("--show", type=int, default=0, help="print this many errors")
    people.set_defaults(run=names)
    arguments = parser.parse_args()
    arguments.run(arguments)


if __name__ == "__main__":
    main()
