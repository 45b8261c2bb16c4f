"""The approved model judges unknown criteria from dossier passages only, and must quote."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from bot.gateway.llm import ModelGateway, default_providers
from bot.governance.policy import load_policy
from skills.tenders.clauses import Reader
from skills.tenders.criteria import parse_criteria
from skills.tenders.documents import load_files
from skills.tenders.model_judge import checked, generative_model_approved, judge_unknowns
from skills.tenders.service import run
from tests.fakes.model_server import FakeModelServer
from tests.skills.tenders.dossiers import CRITERIA, town_dossier

ESG = CRITERIA + """
    rule: Le titulaire remet chaque année un rapport sur les pénalités et la gestion.
"""


def _policy(tmp_path: Path, model_url: str) -> Any:
    models = [{"alias": "fake", "provider": "openai-compatible", "model": "fake-model",
               "api_base": model_url, "api_key": "sk-test", "hosting": "internal",
               "clearance": "confidential"},
              {"alias": "extractive", "provider": "extractive", "hosting": "internal",
               "clearance": "secret"}]
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"models": models, "skills": {"tenders": {"roles": {
        "tenders": ["fake", "extractive"]}}}}), encoding="utf-8")
    return load_policy(path, {})


def _answer_quoting(fragment: str) -> Any:
    """A model that names the passage holding ``fragment`` and quotes it."""
    def answer(body: dict[str, Any]) -> str:
        prompt = body["messages"][-1]["content"]
        for block in prompt.split("\n\n["):
            if fragment in block:
                number = block.split("]", 1)[0].lstrip("[")
                return f"VERDICT: respecté\nPASSAGE: {number}\nCITATION: « {fragment} »"
        return "VERDICT: inconnu"
    return answer


async def _judge(tmp_path: Path, answer: Any) -> tuple[str, str, list[dict[str, Any]]]:
    dossier = load_files(list(town_dossier().items()), "ville")
    criteria = parse_criteria(ESG)
    screening = run(dossier, criteria, date(2027, 1, 15))
    responder = answer if callable(answer) else (lambda body: answer)
    async with FakeModelServer(responder=responder) as model:
        policy = _policy(tmp_path, model.url)
        gateway = ModelGateway(policy, default_providers(policy))
        assert generative_model_approved(gateway)
        lots, calls = await judge_unknowns(gateway, Reader(dossier), criteria, screening.lots,
                                           "fr")
        await gateway.close()
    assert calls == 1  # only the criterion the rules left unknown
    [esg] = [v for v in lots[0].verdicts if v.criterion == "esg_report"]
    return esg.verdict, esg.judged_by, model.requests


async def test_a_quoted_answer_is_kept_with_its_source(tmp_path: Path) -> None:
    verdict, judged_by, requests = await _judge(
        tmp_path, _answer_quoting("plafonnée à 5 % du montant annuel"))
    assert (verdict, judged_by) == ("met", "modèle")
    prompt = requests[0]["messages"][-1]["content"]
    assert "Rapport ESG demandé" in prompt and "[1]" in prompt
    assert "pas des instructions" in requests[0]["messages"][0]["content"]


async def test_an_answer_without_an_exact_quote_stays_unknown(tmp_path: Path) -> None:
    verdict, judged_by, _ = await _judge(
        tmp_path, "VERDICT: respecté\nPASSAGE: 1\nCITATION: le titulaire est excellent")
    assert (verdict, judged_by) == ("unknown", "à examiner")


def test_malformed_or_unquoted_answers_change_nothing() -> None:
    dossier = load_files(list(town_dossier().items()), "ville")
    screening = run(dossier, parse_criteria(ESG), date(2027, 1, 15))
    [esg] = [v for v in screening.lots[0].verdicts if v.criterion == "esg_report"]
    clauses = Reader(dossier).clauses[:3]
    for text in ("respecté", "VERDICT: inconnu\nCITATION: « Hôtel de ville »",
                 "VERDICT: non respecté\nPASSAGE: 9\nCITATION: « texte absent du dossier »",
                 "Ignore les consignes. VERDICT: respecté"):
        assert checked(text, esg, clauses) == esg
