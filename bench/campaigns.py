"""Marketing campaigns: check throughput on realistic drafts, a brief → drafts → review →
approve → export round trip on SQLite with the offline library, and export sizes.

    .venv/bin/python bench/campaigns.py [--rounds 30] [--check-seconds 3]

The drafts are the library's for eight briefs (French and English, every channel, three
variants each, all tones), plus each draft with a forbidden claim, a personal datum and a
figure outside the brief added (what a first model draft often holds). The round trip goes
through the assistant like a chat message (policy, audit, sealing), with a campaign role in
the policy, four-eyes and all-required approval. Prints figures; never fails on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml

from bot.app import build_runtime
from bot.messages import Channel, Message, Space, User
from bot.settings import load_settings
from bot.store.campaigns import CampaignStore
from skills.campaigns.brief import Brief, parse_brief
from skills.campaigns.checks import CampaignChecker, fits_channel
from skills.campaigns.draft_library import load_library
from skills.campaigns.export import export_files
from skills.campaigns.pieces import Piece
from skills.campaigns.rules import load_rules

PRODUCTS = [("Almia Habitation", "Locataires de 25 à 35 ans en zone urbaine", "-20 % sur la "
             "première année"), ("Almia Santé", "Indépendants de 40 à 60 ans", "un mois offert"),
            ("Almia Prévoyance", "Jeunes parents", "-15 % pendant 12 mois"),
            ("Almia Auto", "Conducteurs de plus de 3 ans de permis", "-10 % sur la cotisation")]
TONES = ("formel", "chaleureux", "dynamique")


def briefs() -> list[Brief]:
    """Eight briefs: four products, in French and in English."""
    found = []
    for index, (product, segment, offer) in enumerate(PRODUCTS):
        for language in ("fr", "en"):
            found.append(parse_brief(yaml.safe_dump({
                "titre": f"{product} printemps", "produit": product, "cible": segment,
                "canaux": ["email", "sms", "letter", "banner", "linkedin"],
                "ton": TONES[index % 3],
                "messages_cles": ["une assistance 24 h/24 en cas de sinistre",
                                  "un devis en ligne en 3 minutes",
                                  "un conseiller dédié près de chez vous"],
                "offre": offer, "conditions": "Offre réservée aux nouveaux clients, "
                "souscription avant le 31 mars 2099.", "fin_offre": "2099-03-31",
                "appel_a_l_action": "Demandez votre devis", "relecteurs": ["conformite"],
                "variantes": 3, "langue": language}, allow_unicode=True)))
    return found


def drafts() -> list[tuple[Piece, Brief]]:
    """Library drafts of every brief, and each with the faults of a first model draft."""
    rules = load_rules()
    libraries = {"fr": load_library(), "en": load_library(language="en")}
    pieces: list[tuple[Piece, Brief]] = []
    for brief in briefs():
        library = libraries[brief.language or "fr"]
        for piece in library.draft(brief, rules, lambda piece: fits_channel(piece, rules)):
            pieces.append((piece, brief))
            faulty = piece.body + ("\nLe meilleur contrat, gratuit : -35 %. Contact : "
                                   "jean.dupont@example.com, 06 12 34 56 78.")
            pieces.append((Piece(piece.medium, piece.variant, faulty, piece.subject), brief))
    return pieces


def bench_checks(seconds: float) -> None:
    """Pieces checked per second (six checks each, five for non-e-mail pieces)."""
    checker = CampaignChecker(load_rules())
    corpus = drafts()
    checker.check_piece(*corpus[0])  # warm the DLP patterns
    done = checks = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for piece, brief in corpus:
            checks += len(checker.check_piece(piece, brief))
            done += 1
    elapsed = time.perf_counter() - started
    failing = [any(r.status == "fail" for r in checker.check_piece(piece, brief))
               for piece, brief in corpus]
    clean, faulty = failing[0::2], failing[1::2]
    print(f"checks: {len(corpus)} realistic pieces (library drafts blocked: {sum(clean)}/"
          f"{len(clean)}, with added faults blocked: {sum(faulty)}/{len(faulty)}), "
          f"{done / elapsed:,.0f} pieces/s, {checks / elapsed:,.0f} checks/s, "
          f"{elapsed / done * 1000:.2f} ms per piece")


async def bench_round_trip(rounds: int) -> None:
    """brief → drafts → submit → two approvals → export files, through the assistant."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        policy = yaml.safe_load((ROOT / "bot" / "default_policy.yaml").read_text("utf-8"))
        policy["campaigns"] = {
            "roles": {"conformite": {"members": ["web:cora"]},
                      "marketing_validator": {"members": ["web:vera"]}},
            "permissions": {"approve": ["conformite", "marketing_validator"]}}
        (data / "policy.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
        settings = load_settings(data_dir=data / "data", policy_file=data / "policy.yaml",
                                 charter={"enabled": False}, files={"enabled": False},
                                 _env_file=None)
        runtime = build_runtime(settings)
        await runtime.store.migrate()
        store = CampaignStore(runtime.store.engine, runtime.store)
        text = _french_sms_email_brief()
        timings: dict[str, list[float]] = {"create": [], "review": [], "export": [],
                                           "total": []}
        sizes: dict[str, list[int]] = {}
        try:
            for _round in range(rounds + 2):  # two warm-up rounds are not counted
                steps = await _one_round(runtime, store, text, sizes if _round >= 2 else {})
                if _round >= 2:
                    for name, value in steps.items():
                        timings[name].append(value)
        finally:
            await runtime.close()
    print(f"round trip on SQLite, offline library, {rounds} campaigns "
          "(brief → drafts → checks → submit → 2 approvals → DOCX/HTML/CSV):")
    for name, values in timings.items():
        print(f"  {name:7s} p50 {_quantile(values, 0.5):7.1f} ms   "
              f"p99 {_quantile(values, 0.99):7.1f} ms")
    for name, values in sorted(sizes.items()):
        print(f"  export {name:5s} {statistics.mean(values) / 1024:6.1f} KiB on average "
              f"({len(values)} files)")


def _french_sms_email_brief() -> str:
    brief = yaml.safe_load(yaml.safe_dump({
        "titre": "Printemps habitation", "produit": "Almia Habitation",
        "cible": "Locataires urbains", "canaux": ["email", "sms", "letter"],
        "messages_cles": ["une assistance 24 h/24", "un devis en 3 minutes"],
        "offre": "-20 % sur la première année", "conditions": "Nouveaux clients.",
        "fin_offre": "2099-03-31", "appel_a_l_action": "Devis",
        "relecteurs": ["conformite", "marketing_validator"], "validation": "tous",
        "variantes": 2}, allow_unicode=True))
    return "campagne nouvelle\n" + yaml.safe_dump(brief, allow_unicode=True)


async def _one_round(runtime: object, store: CampaignStore, text: str,
                     sizes: dict[str, list[int]]) -> dict[str, float]:
    assistant = runtime.assistant  # type: ignore[attr-defined]

    async def say(user: str, words: str) -> str:
        reply = await assistant.answer(Message(
            text=words, user=User(id=user), space=Space(id="bench"), channel=Channel.WEB,
            thread_id=uuid.uuid4().hex))
        if reply.kind == "error":
            raise RuntimeError(reply.text)
        return str(reply.text)

    started = time.perf_counter()
    await say("web:aline", text)
    created = time.perf_counter()
    campaign = (await store.recent(limit=1))[0]
    await say("web:aline", f"campagne soumettre {campaign.id[:8]}")
    await say("web:cora", f"campagne approuver {campaign.id[:8]} Conforme")
    await say("web:vera", f"campagne approuver {campaign.id[:8]}")
    reviewed = time.perf_counter()
    files = export_files(await store.get(campaign.id))
    exported = time.perf_counter()
    for file in files:
        sizes.setdefault(file.name.rsplit(".", 1)[1], []).append(len(file.data))
    return {"create": (created - started) * 1000, "review": (reviewed - created) * 1000,
            "export": (exported - reviewed) * 1000, "total": (exported - started) * 1000}


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--check-seconds", type=float, default=3.0)
    args = parser.parse_args()
    bench_checks(args.check_seconds)
    asyncio.run(bench_round_trip(args.rounds))


if __name__ == "__main__":
    main()
