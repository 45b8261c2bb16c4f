"""The language of the code's own comments decides the language of what is added to it."""

from __future__ import annotations

from skills.codedoc.comment_language import comment_locale
from skills.codedoc.inventory import build
from tests.skills.codedoc.helpers import fixture_sources, inventory_of


def _module(*docs: str) -> str:
    return "\n".join(f'def f{n}(x):\n    """{doc}"""\n    return x\n' for n, doc in enumerate(docs))


def test_english_comments_are_recognised() -> None:
    assert comment_locale(build(fixture_sources())) == "en"


def test_french_comments_are_recognised() -> None:
    found = inventory_of({"paie.py": _module(
        "Calcule le net à payer du salarié.", "Renvoie la liste des bulletins du mois.",
        "Lit le fichier des salariés et écrit les bulletins.")})
    assert comment_locale(found) == "fr"


def test_too_few_or_mixed_comments_decide_nothing() -> None:
    assert comment_locale(inventory_of({"a.py": _module("Returns the total of the items.")})) \
        is None
    assert comment_locale(inventory_of({"a.py": _module(
        "Returns the total of the items.", "Adds an item to the cart.",
        "Calcule le net à payer du salarié.", "Renvoie la liste des bulletins du mois.")})) \
        is None
    assert comment_locale(inventory_of({"a.py": "def f(x):\n    return x\n"})) is None
