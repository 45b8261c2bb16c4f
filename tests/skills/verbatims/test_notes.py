"""The analysis's notes: stored in French, read in English too."""

from __future__ import annotations

from skills.verbatims.analysis import notes


def test_each_note_reads_in_english_with_its_values() -> None:
    coded = notes.CODEBOOK("fr", name="Assurance — satisfaction client", found=15, total=15,
                           lacked=notes.DISCOVERED("fr", count=2))
    assert notes.note_in(coded, "en") == ("Codebook “Assurance — satisfaction client”: 15 of "
                                          "its 15 themes present, 2 themes outside it "
                                          "discovered.")
    assert notes.note_in(coded, "fr") == coded
    fillers = notes.FILLERS("fr", count=10, s="s")
    assert notes.note_in(fillers, "en").startswith("10 groups of generic phrases")
    one = notes.FILLERS("fr", count=1, s="")
    assert one.startswith("1 groupe de formules génériques") and "écarté des" in one
    assert notes.note_in(one, "en").startswith("1 group of generic phrases")
    for sentence in (notes.NO_MODEL, notes.NO_MODEL_CODED, notes.NO_SCORE, notes.NO_DATE,
                     notes.FEW):
        assert notes.note_in(sentence.fr, "en") == sentence.en


def test_a_note_of_another_kind_is_kept_as_it_is() -> None:
    assert notes.note_in("Remarque libre.", "en") == "Remarque libre."
