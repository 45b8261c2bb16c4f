"""Tender screening on the dev set: facts (value and source), verdicts per criterion and per
lot, contradictions, time per dossier.

    .venv/bin/python bench/tenders.py [--root ../shared/eval/tenders-dev] [--verbose]

Each dossier folder holding a ``gold.json`` is screened cold (no facts cache) with the set's
``company_criteria.yaml`` on the gold ``screening_date``. A fact's value is right when the
figures that matter are found in the extracted value (dates, amounts, weights, durations,
codes) or, for text facts, its key words; its source is right when one cited source is in the
same document and page (PDF) or article as a gold source. A verdict counts when it is in
``accepted`` (criteria marked ``required: false`` are left out), its source when one cited
source matches a gold source. Prints figures; never fails on timings.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.text import fold
from skills.tenders.criteria import load_criteria
from skills.tenders.documents import load_path
from skills.tenders.service import Screening, run

DEV = ROOT.parent / "shared" / "eval" / "tenders-dev"


def numbers(value: Any) -> set[str]:
    """Figures in a value, separators removed (« 780 000 » → « 780000 »)."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text = re.sub(r"(?<=\d)[ \u00a0\u202f](?=\d{3}\b)", "", text)
    return {match.lstrip("0") or "0" for match in re.findall(r"\d+", text)}


def _months_in(value: Any) -> set[str]:
    if not isinstance(value, dict):
        return set()
    return {str(int(v) // 12) for k, v in value.items() if k.endswith("_mois") and v}


# facts whose gold value is an English note: the French words the extracted value must hold
_TEXT_CHECKS = {
    "variantes": ("not allowed", ("variantes non autoris",)),
    "visite": ("no site visit", ("pas de visite",)),
    "langue": ("french", ("francais",)),
    "groupement": ("no form imposed", ("aucune forme", "co-assurance admise")),
    "responsabilite": ("capped", ("plafonn",)),
    "recours": ("nantes", ("nantes",)),
    "localisation": ("pays de la loire", ("pays de la loire", "maine-et-loire")),
    "documents_a_fournir": ("dume", ("dume", "kbis", "urssaf", "regularite fiscale",
                                     "memoire technique", "dc4")),
}


def value_right(fact_id: str, gold: Any, mine: Any) -> bool:
    """The figures (or key words) of the gold value are in the extracted one."""
    if mine is None:
        return False
    if fact_id.startswith("date_limite") or fact_id == "date_envoi_avis":
        return str(mine)[:16] == str(gold)[:16] or str(mine)[:10] == str(gold)[:10]
    if fact_id == "duree":
        wanted = {n for n in re.findall(r"(\d+) years?", str(gold))}
        return wanted <= _months_in(mine) and "2027-07-01" in json.dumps(mine) \
            if "1 July 2027" in str(gold) else wanted <= _months_in(mine)
    if fact_id == "criteres_attribution" and isinstance(gold, dict):
        weights = {str(int(item["poids"])) for item in gold.values()}
        for item in gold.values():
            weights |= {str(int(w)) for w in (item.get("sous_criteres") or {}).values()}
        return weights <= numbers(mine)
    if fact_id == "lots" and isinstance(gold, list):
        titles = {fold(item["intitule"]) for item in gold}
        found = {fold(item.get("intitule", "")) for item in mine} if isinstance(mine, list) \
            else set()
        return all(any(title in other or other in title for other in found) for title in titles)
    if fact_id in _TEXT_CHECKS:
        gold_key, wanted_words = _TEXT_CHECKS[fact_id]
        text = fold(json.dumps(mine, ensure_ascii=False))
        return gold_key in fold(str(gold)) and all(word in text for word in wanted_words)
    if fact_id == "reference":
        return fold(str(gold)) == fold(str(mine))
    if fact_id == "acheteur":
        return numbers(str(gold).split("SIRET")[-1]) <= numbers(mine)
    if fact_id in ("penalites", "montant_estime", "cpv", "garantie_des_taux",
                   "certifications_agrements", "delai_validite_offres", "reference",
                   "population", "ccag"):
        wanted = numbers(gold) - {"0", "1", "2027", "2028", "2029", "2030", "2031"}
        if fact_id == "penalites":
            wanted = {"3000", "150", "50", "5"} & numbers(gold)
            mine_numbers = numbers(mine) | {str(round(100 / float(x))) for x in re.findall(
                r"0\.\d+", json.dumps(mine)) if float(x) > 0}
            return wanted <= mine_numbers
        if fact_id == "garantie_des_taux":
            wanted = {n for n in re.findall(r"guaranteed (\d+) years?", str(gold))}
        if fact_id == "certifications_agrements":
            wanted = {"1", "2", "20", "27001", "100"} & (numbers(gold) | {"1"})
        if fact_id == "population":
            wanted = {re.sub(r"\D", "", str(gold).split(" agents")[0])}
        return bool(wanted) and wanted <= numbers(mine)
    words = [w for w in re.findall(r"[a-z]{4,}", fold(str(gold).split("(")[0].split(";")[0]))]
    keys = set(words[:4])
    text = fold(json.dumps(mine, ensure_ascii=False))
    return bool(keys) and sum(word in text for word in keys) >= max(1, len(keys) * 2 // 3)


def same_place(mine: dict[str, Any], gold: dict[str, Any]) -> bool:
    """Same document, and same page (PDF) or same article."""
    if mine.get("document") != gold.get("document"):
        return False
    if gold.get("page") is not None and mine.get("page") == gold.get("page"):
        return True
    return fold(str(mine.get("article") or "")) == fold(str(gold.get("article") or ""))


def source_right(mine: list[dict[str, Any]], gold: list[dict[str, Any]]) -> bool:
    """One cited source at the place of a gold source."""
    return any(same_place(m, g) for m in mine for g in gold)


def quote_right(mine: list[dict[str, Any]], gold: list[dict[str, Any]]) -> bool:
    """One quote holding (or held in) a gold quote, at the same place."""
    def norm(text: str) -> str:
        return " ".join(fold(text).replace("«", "").replace("»", "").split())
    return any(same_place(m, g) and (norm(g["quote"]) in norm(m["quote"]) or
                                     norm(m["quote"]) in norm(g["quote"]))
               for m in mine for g in gold)


def score(folder: Path, criteria_file: Path, verbose: bool) -> dict[str, Any]:
    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    today = date.fromisoformat(gold["screening_date"])
    started = time.monotonic()
    result: Screening = run(load_path(folder), load_criteria(criteria_file), today)
    seconds = time.monotonic() - started
    data = result.as_json()
    figures: dict[str, Any] = {"seconds": seconds, "facts": 0, "facts_value": 0,
                               "facts_source": 0, "facts_quote": 0, "verdicts": 0,
                               "verdicts_right": 0, "verdicts_source": 0, "lots": 0,
                               "lots_right": 0}
    for fact_id, expected in gold["facts"].items():
        mine = data["facts"].get(fact_id)
        figures["facts"] += 1
        value_ok = mine is not None and value_right(fact_id, expected["value"], mine["value"])
        source_ok = mine is not None and source_right(mine["sources"], expected["sources"])
        quote_ok = mine is not None and quote_right(mine["sources"], expected["sources"])
        figures["facts_value"] += value_ok
        figures["facts_source"] += source_ok
        figures["facts_quote"] += quote_ok
        if verbose and not (value_ok and source_ok and quote_ok):
            print(f"  fact {fact_id}: value {'ok' if value_ok else 'WRONG'}, source "
                  f"{'ok' if source_ok else 'WRONG'}, quote {'ok' if quote_ok else 'WRONG'} — "
                  f"{json.dumps(mine['value'], ensure_ascii=False)[:160] if mine else 'missing'}")
    lots = {item["lot"]: item for item in data["lots"]}
    for expected in gold["screening"]["lots"]:
        mine_lot = lots.get(expected["lot"])
        figures["lots"] += 1
        right = mine_lot is not None and mine_lot["decision"] == expected["decision"]
        figures["lots_right"] += right
        if verbose and not right:
            print(f"  lot {expected['lot']}: decision {mine_lot and mine_lot['decision']} "
                  f"≠ {expected['decision']}")
        verdicts = {v["criterion"]: v for v in (mine_lot or {}).get("criteria", [])}
        for item in expected["criteria"]:
            if not item.get("required", True):
                continue
            figures["verdicts"] += 1
            mine_verdict = verdicts.get(item["criterion"])
            ok = mine_verdict is not None and mine_verdict["verdict"] in item["accepted"]
            figures["verdicts_right"] += ok
            per = figures.setdefault("per_criterion", {}).setdefault(item["criterion"], [0, 0])
            per[0] += ok
            per[1] += 1
            figures["verdicts_source"] += (mine_verdict is not None and source_right(
                mine_verdict["sources"], item["sources"]))
            if verbose and not ok:
                print(f"  lot {expected['lot']} {item['criterion']}: "
                      f"{mine_verdict and mine_verdict['verdict']} ∉ {item['accepted']}")
    expected_contradictions = gold.get("contradictions", [])
    figures["contradictions_expected"] = len(expected_contradictions)
    figures["contradictions_found"] = len(data["contradictions"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=DEV)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    criteria_file = args.root / "company_criteria.yaml"
    totals: dict[str, float] = {}
    per_criterion: dict[str, list[int]] = {}
    folders = sorted(p for p in args.root.iterdir() if (p / "gold.json").exists())
    for folder in folders:
        print(folder.name)
        figures = score(folder, criteria_file, args.verbose)
        for key, value in figures.items():
            if key == "per_criterion":
                for criterion, (right, count) in value.items():
                    known = per_criterion.setdefault(criterion, [0, 0])
                    known[0] += right
                    known[1] += count
                continue
            totals[key] = totals.get(key, 0) + value
        print(f"  facts: value {figures['facts_value']}/{figures['facts']}, source "
              f"{figures['facts_source']}/{figures['facts']}, quote "
              f"{figures['facts_quote']}/{figures['facts']}; verdicts "
              f"{figures['verdicts_right']}/{figures['verdicts']} (source "
              f"{figures['verdicts_source']}); lots {figures['lots_right']}/{figures['lots']}; "
              f"contradictions {figures['contradictions_found']} found / "
              f"{figures['contradictions_expected']} expected; {figures['seconds']:.2f} s")
    if folders:
        print(f"total over {len(folders)} dossier(s): fact values "
              f"{totals['facts_value']:.0f}/{totals['facts']:.0f}, fact sources "
              f"{totals['facts_source']:.0f}/{totals['facts']:.0f}, verdicts "
              f"{totals['verdicts_right']:.0f}/{totals['verdicts']:.0f}, lots "
              f"{totals['lots_right']:.0f}/{totals['lots']:.0f}, "
              f"{totals['seconds'] / len(folders):.2f} s per dossier")
        print("verdicts per criterion: " + ", ".join(
            f"{criterion} {right}/{count}" for criterion, (right, count) in
            sorted(per_criterion.items())))


if __name__ == "__main__":
    main()
