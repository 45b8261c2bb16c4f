"""Codebook coding: keyword seeds, self-trained classifiers, discovery of what the codebook lacks."""

from __future__ import annotations

import random

import numpy as np

from skills.verbatims.analysis import analyse
from skills.verbatims.analysis.clauses import clauses_of, contact_only
from skills.verbatims.analysis.coding import code_clauses
from skills.verbatims.codebook import parse_codebook
from skills.verbatims.model import InputCounts, Verbatim
from tests.knowledge.helpers import HashingEmbedder
from tests.skills.verbatims.test_analysis import Labeller

CODEBOOK = parse_codebook("""
name: Plan d'essai
codes:
  - id: attente
    label: Attente au téléphone
    keywords: [attente, joindre, standard]
  - id: remboursements
    label: Remboursements santé
    keywords: [rembours*]
  - id: appli
    label: Application mobile
    keywords: [appli*, application]
""".encode())
# Keyword wordings and wordings the codebook does not list (learnt from their company).
SAID = {
    "attente": ["attente au téléphone interminable, standard saturé",
                "impossible de joindre le standard, attente sans fin",
                "personne au téléphone, ligne toujours occupée, téléphone saturé"],
    "remboursements": ["remboursement des soins dentaires en retard",
                       "remboursement des lunettes bloqué depuis des semaines",
                       "mes soins dentaires et mes lunettes toujours pas payés"],
    "appli": ["application mobile plante à chaque connexion",
              "appli inutilisable depuis la mise à jour, connexion impossible",
              "connexion mobile impossible depuis la mise à jour"],
    "parking": ["parking de l'agence introuvable, places de parking trop rares",
                "pas de place au parking de l'agence, stationnement impossible"],
}


def texts(rows: int = 360, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    made = []
    for index in range(rows):
        subject = rng.choice(list(SAID))
        text = rng.choice(SAID[subject]) + rng.choice([".", " !", ", vraiment."])
        if index % 40 == 0:
            text += " Mon mail : client.test@example.org"
        made.append(text)
    return made


def subjects(text: str) -> set[str]:
    return {subject for subject, said in SAID.items() if any(s in text for s in said)}


async def test_codes_are_learnt_beyond_their_keywords_and_the_rest_is_discovered() -> None:
    said = texts()
    clauses = clauses_of(said)
    vectors = await HashingEmbedder().embed_documents([c.text for c in clauses])
    coded = code_clauses([c.text for c in clauses], vectors, [c.verbatim for c in clauses],
                         CODEBOOK)
    assert coded.names[:3] == ("Attente au téléphone", "Remboursements santé",
                               "Application mobile")
    labels = coded.clusters.labels
    for index, clause in enumerate(clauses):
        truth = subjects(clause.text)
        if contact_only(clause.text):
            assert labels[index] == -1, clause.text  # contact details are no theme
        elif truth & {"attente", "remboursements", "appli"}:
            code = ["attente", "remboursements", "appli"].index(truth.pop())
            assert labels[index] == code, clause.text  # keyword or not, the right code
    parking = [labels[i] for i, c in enumerate(clauses) if "parking" in subjects(c.text)]
    assert parking and all(label >= 3 for label in parking)  # a discovered theme, not a code
    assert all(coded.names[label] is None for label in parking)
    assert coded.seeded < coded.coded  # classifiers reached clauses without a keyword


async def test_without_enough_examples_nothing_is_forced_into_a_code() -> None:
    said = ["le parking de l'agence est trop petit"] * 30 + ["attente au téléphone"] * 3
    clauses = clauses_of(said)
    vectors = await HashingEmbedder().embed_documents([c.text for c in clauses])
    coded = code_clauses([c.text for c in clauses], vectors, [c.verbatim for c in clauses],
                         CODEBOOK)
    assert coded.coded == 0 and not np.any((coded.clusters.labels >= 0)
                                           & (coded.clusters.labels < 3))


async def test_the_analysis_keeps_the_codebook_labels_and_says_so() -> None:
    said = texts(300, seed=8)
    rows = [Verbatim(row=index + 1, text=text, score=2.0 if index % 2 else 4.0)
            for index, text in enumerate(said)]
    labeller = Labeller()
    analysis = await analyse(rows, counts=InputCounts(rows=300, analysed=300),
                             embedder=HashingEmbedder(), score_kind="stars5",
                             codebook=CODEBOOK, labeller=labeller)
    coded = [theme for theme in analysis.themes if theme.coded]
    assert {theme.label for theme in coded} == {"Attente au téléphone", "Remboursements santé",
                                                "Application mobile"}
    discovered = [theme for theme in analysis.themes if not theme.coded]
    assert discovered and all(theme.label.startswith("Thème ") for theme in discovered)
    assert all(theme.axis for theme in analysis.themes)  # the model still writes every axis
    assert analysis.notes[0].startswith("Plan de codes « Plan d'essai » : 3 de ses 3 thèmes")
    for theme in analysis.themes:  # each theme's verbatims are about it
        members = [said[i] for i, ids in enumerate(analysis.assignments) if theme.id in ids]
        if theme.coded:
            code = {"Attente au téléphone": "attente", "Remboursements santé": "remboursements",
                    "Application mobile": "appli"}[theme.label]
            assert sum(code in subjects(t) for t in members) >= 0.95 * len(members)
