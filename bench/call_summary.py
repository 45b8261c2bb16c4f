"""Offline call summary: field-level recall and precision on French call transcripts.

Run: ``.venv/bin/python bench/call_summary.py [--show NAME] [--set dev|heldout|all]``.

``bench/calls/{dev,heldout}/NAME.txt`` is a transcript and ``NAME.json`` its gold fields:
``cause``, ``amounts``, ``dates``, ``commitments``, ``next_actions``, each a list of items;
an item is a list of keys that must all appear (accents and case folded, thousands
separators removed) in one bullet of the field's section; a key may list alternatives
with ``|``. ``acceptable`` holds items a bullet may match without being required.
Recall: expected items found / expected items. Precision: bullets matching an expected or
acceptable item / bullets. Also counted: noise bullets (questions, greetings, thanks) and
bullets that copy a whole transcript line. The held-out set was written before the rules
were tuned and is not looked at while tuning. Compared with the sentence sorter used
before (``bot.extractive.select_outline``). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.extractive import select_outline
from bot.gateway.llm import ChatTurn, CompletionRequest, ContextPassage
from bot.text import fold
from skills.call_facts import render, summarise_call
from skills.call_summary import CALL_SECTIONS

CALLS = Path(__file__).with_name("calls")
FIELDS = ("cause", "amounts", "dates", "commitments", "next_actions")
# the section(s) each field is read from, in the new summary and in the old sentence sorter
SECTIONS = {
    "new": {"cause": ("Motif de l'appel", "Faits"), "amounts": ("Montants",),
            "dates": ("Dates et délais",), "commitments": ("Engagements pris",),
            "next_actions": ("Prochaines actions",)},
    "old": {"cause": ("Motif de l'appel", "Faits"), "amounts": ("Faits",), "dates": ("Faits",),
            "commitments": ("Engagements pris",), "next_actions": ("Prochaines actions",)},
}
_NOISE = re.compile(r"\?\s*$|^(?:\w+\s?:\s*)?(?:merci|bonjour|au revoir|d'accord|tres bien|parfait)"
                    r"\b[^a-z]*$")


def normalise(text: str) -> str:
    """Folded, thousands separators dropped (``1 800 €`` → ``1800 €``), spaces collapsed."""
    folded = fold(text).replace("\u202f", " ").replace("\xa0", " ")
    folded = re.sub(r"(?<=\d)[ .](?=\d{3}\b)", "", folded)
    return re.sub(r"\s+", " ", folded)


def matches(bullet: str, item: list[str]) -> bool:
    """Every key of ``item`` (one of its ``|`` alternatives) appears in ``bullet``."""
    text = normalise(bullet)
    for key in item:
        options = [normalise(option) for option in key.split("|")]
        if not any(_contains(text, option) for option in options):
            return False
    return True


def _contains(text: str, key: str) -> bool:
    if key[:1].isdigit():
        return re.search(rf"(?<![\d,]){re.escape(key)}(?![\d])", text) is not None
    return key in text


def sections(summary: str) -> dict[str, list[str]]:
    """``**Title**`` blocks → their bullets (``(rien de relevé)`` dropped)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in summary.splitlines():
        title = re.fullmatch(r"\*\*(.+)\*\*", line.strip())
        if title:
            current = found.setdefault(title.group(1), [])
        elif line.startswith("- ") and current is not None and "rien de relev" not in line:
            current.append(line[2:])
    return found


@dataclass
class Score:
    """Counts of one field over the transcripts."""

    expected: int = 0
    found: int = 0
    bullets: int = 0
    correct: int = 0
    missed: list[str] = field(default_factory=list)

    def line(self) -> str:
        recall = self.found / self.expected if self.expected else 1.0
        precision = self.correct / self.bullets if self.bullets else 1.0
        return (f"recall {recall:5.0%} ({self.found}/{self.expected})  "
                f"precision {precision:5.0%} ({self.correct}/{self.bullets})")


def old_summary(notes: str) -> str:
    """The summary the offline mode gave before: sentences sorted by cue words."""
    kind = "la synthèse structurée d'un appel téléphonique"
    request = CompletionRequest(
        skill="call_summary", role="summarise", messages=(ChatTurn("user", notes),),
        question=kind, passages=(ContextPassage(1, kind, notes),),
        outline=tuple(section.outline("fr") for section in CALL_SECTIONS))
    return select_outline(request)


def evaluate(names: list[Path], variant: str, show: str | None) -> None:
    scores = {name: Score() for name in FIELDS}
    noise = copied = total = 0
    for path in names:
        notes = path.read_text(encoding="utf-8")
        gold = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        summary = render(summarise_call(notes), "fr") if variant == "new" else old_summary(notes)
        if show and show in path.stem:
            print(f"--- {path.stem} ({variant})\n{summary}\n")
        blocks = sections(summary)
        lines = {normalise(line.strip()) for line in notes.splitlines() if line.strip()}
        for bullets in blocks.values():
            total += len(bullets)
            noise += sum(1 for b in bullets if _NOISE.search(normalise(b)))
            copied += sum(1 for b in bullets if normalise(b) in lines)
        for name in FIELDS:
            bullets = [b for title in SECTIONS[variant][name] for b in blocks.get(title, [])]
            expected = gold.get(name, [])
            acceptable = gold.get("acceptable", {}).get(name, [])
            score = scores[name]
            score.expected += len(expected)
            for item in expected:
                if any(matches(b, item) for b in bullets):
                    score.found += 1
                else:
                    score.missed.append(f"{path.stem}: {item}")
            if name == "cause":
                bullets = blocks.get("Motif de l'appel", [])
            score.bullets += len(bullets)
            score.correct += sum(1 for b in bullets
                                 if any(matches(b, item) for item in expected + acceptable))
    for name, score in scores.items():
        print(f"  {name:13} {score.line()}")
    print(f"  bullets {total}, noise (questions, greetings, thanks) {noise}, whole lines "
          f"copied {copied}")
    if show == "missed":
        for score in scores.values():
            for missed in score.missed:
                print(f"    missed {missed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("dev", "heldout", "all"), default="all")
    parser.add_argument("--show", help="print the summaries whose name contains this "
                                       "(or 'missed' to list the items not found)")
    arguments = parser.parse_args()
    sets = ("dev", "heldout") if arguments.set == "all" else (arguments.set,)
    for name in sets:
        paths = sorted((CALLS / name).glob("*.txt"))
        for variant, label in (("old", "sentence sorter (before)"), ("new", "fact extraction")):
            print(f"{name} ({len(paths)} calls), {label}:")
            evaluate(paths, variant, arguments.show)


if __name__ == "__main__":
    main()
