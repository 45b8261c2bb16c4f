"""Codebooks: the shipped one, the YAML format, its errors, keyword matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from skills.verbatims.codebook import (
    CodebookError,
    KeywordMatcher,
    chat_codebook,
    known_codebook,
    load_codebook,
    parse_codebook,
    shipped_codebook,
    shipped_names,
)

SMALL = """
name: Petit plan
codes:
  - id: attente
    label: Attente au téléphone
    keywords: [attente, joindre, serveur vocal]
  - id: appli
    label: Application
    description: l'application mobile
    keywords: [appli*, "app"]
"""


def test_the_shipped_codebook_is_valid_and_is_the_default() -> None:
    codebook = shipped_codebook()
    assert "assurance" in shipped_names()
    assert len(codebook.codes) >= 10
    assert len({code.id for code in codebook.codes}) == len(codebook.codes)
    assert load_codebook(None) == codebook == chat_codebook("")
    assert load_codebook("assurance") == codebook


def test_none_means_discovery_only() -> None:
    for choice in ("aucun", "none", "AUCUN "):
        assert load_codebook(choice) is None
        assert chat_codebook(choice) is None


def test_a_team_brings_its_own_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(SMALL, encoding="utf-8")
    codebook = load_codebook(str(path))
    assert codebook is not None and [code.id for code in codebook.codes] == ["attente", "appli"]
    with pytest.raises(CodebookError, match="introuvable"):
        load_codebook(str(tmp_path / "absent.yaml"))


def test_a_conversation_never_reads_a_path(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(SMALL, encoding="utf-8")
    assert not known_codebook(str(path)) and not known_codebook("../../etc/passwd")
    assert known_codebook("assurance") and known_codebook("aucun")
    with pytest.raises(CodebookError, match="inconnu"):
        chat_codebook(str(path))


@pytest.mark.parametrize(("text", "message"), [
    (b"name: [", "illisible"),
    (b"\xff\xfe\x00", "illisible"),
    (b"name: x\ncodes: []\n", "invalide"),
    (b"name: x\ncodes:\n  - {id: a, label: A, keywords: [x]}\n  - {id: a, label: B, "
     b"keywords: [y]}\n", "uniques"),
    (b"name: x\ncodes:\n  - {id: a, label: A, keywords: ['*']}\n  - {id: b, label: B, "
     b"keywords: [y]}\n", "mot-cl"),
    (b"- just a list\n", "invalide"),
])
def test_bad_codebooks_are_refused_in_french(text: bytes, message: str) -> None:
    with pytest.raises(CodebookError, match=message):
        parse_codebook(text)


def test_oversized_codebooks_are_refused() -> None:
    with pytest.raises(CodebookError, match="volumineux"):
        parse_codebook(b"#" * 1_000_001)


def test_keywords_match_words_stems_and_expressions() -> None:
    matcher = KeywordMatcher(parse_codebook(SMALL.encode()))
    assert matcher.hits("Impossible de JOINDRE quelqu'un") == [1.0, 0.0]
    assert matcher.hits("l'Appli plante, les applications aussi") == [0.0, 1.0]  # once each
    assert matcher.hits("le serveur vocal raccroche") == [2.0, 0.0]  # an expression weighs 2
    assert matcher.hits("j'ai appelé, l'apparence") == [0.0, 0.0]  # « app » is a whole word
    assert matcher.hits("mon app et l'attente") == [1.0, 1.0]
    assert matcher.hits("") == [0.0, 0.0]


def test_english_readers_get_the_english_labels_where_the_file_gives_them() -> None:
    codebook = shipped_codebook()
    assert all(code.label_en for code in codebook.codes)
    english = codebook.for_locale("en")
    assert english.name == "Insurance — customer satisfaction"
    assert [code.label for code in english.codes] == [code.label_en for code in codebook.codes]
    assert [code.keywords for code in english.codes] == [code.keywords for code in codebook.codes]
    assert codebook.for_locale("fr") == codebook
    small = parse_codebook(SMALL.encode())  # no English labels: the French ones stay
    assert small.for_locale("en").codes == small.codes


def test_two_codes_with_the_same_english_label_are_refused() -> None:
    twice = SMALL.replace("label: Application", "label: Application\n    label_en: Waiting")
    twice = twice.replace("label: Attente au téléphone",
                          "label: Attente au téléphone\n    label_en: waiting")
    with pytest.raises(CodebookError):
        parse_codebook(twice.encode())
