"""Questions asked with a tender document attached: answered from the right part, and
questions about something else declined.

Our own questions about the ``tenders-dev`` files (``bench/questions/attached-tenders.jsonl``,
each with the part of the file that answers it: a heading its first passage must stand
under), then every off-topic and unanswerable question of our lists asked with each file
of the dossier attached (none should be answered). Offline (extractive) decisions, as the Q&A
skill makes them.

    python -m bench.attached_answers
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from bench.attached import DOSSIER
from knowledge import KnowledgeBase, KnowledgeSettings
from knowledge.attached import AttachedFile, readable
from skills.qa import QaSkill

QUESTIONS = Path(__file__).with_name("questions")
UNRELATED = ("off-topic.jsonl", "off-topic-heldout.jsonl", "unanswerable.jsonl",
             "unanswerable-heldout.jsonl", "off-topic-en.jsonl")


def load(name: str) -> list[dict[str, str]]:
    lines = (QUESTIONS / name).read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


async def run(data_dir: Path) -> None:
    kb = KnowledgeBase.open(data_dir, KnowledgeSettings())
    skill = QaSkill(kb)
    files = {path.name: AttachedFile(path.name, path.read_bytes())
             for path in sorted(DOSSIER.iterdir()) if readable(path.name)}
    asked = load("attached-tenders.jsonl")
    right = declined = 0
    for item in asked:
        grounding = await skill.ground(item["question"], files=[files[item["file"]]])
        if not grounding.passages:
            declined += 1
            print(f"    declined: {item['question']} ({item['file']})")
            continue
        section = grounding.passages[0].section or ""
        if item["part"] in section:
            right += 1
        else:
            print(f"    other part: {item['question']} → {section[:70]}")
    print(f"  about the files ({len(asked)}): answered from the right part {right}, "
          f"declined {declined}", flush=True)
    unrelated = [item["question"] for name in UNRELATED for item in load(name)]
    answered = []
    for name, attached in files.items():
        for question in unrelated:
            if (await skill.ground(question, files=[attached])).passages:
                answered.append(f"{question} ({name})")
    total = len(unrelated) * len(files)
    print(f"  off-topic and unanswerable questions, each asked with each file: declined "
          f"{total - len(answered)}/{total}", flush=True)
    for line in answered:
        print(f"    answered: {line}")
    kb.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(Path(folder)))


if __name__ == "__main__":
    main()
