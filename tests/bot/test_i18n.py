"""Both languages of a sentence, and counts that agree with their nouns."""

from __future__ import annotations

from bot.i18n import Text, plural
from bot.jobs.service import LIMIT_MESSAGES


def test_a_count_of_one_takes_the_singular_in_both_languages() -> None:
    files = Text("{count} fichier{s} lu{s}", "{count} file{s} read")
    assert [files("fr", count=n, s=plural(n, "fr")) for n in (1, 2)] == [
        "1 fichier lu", "2 fichiers lus"]
    assert files("en", count=1, s=plural(1, "en")) == "1 file read"


def test_zero_is_singular_in_french_and_plural_in_english() -> None:
    rows = Text("{count} ligne{s}", "{count} row{s}")
    assert rows("fr", count=0, s=plural(0, "fr")) == "0 ligne"
    assert rows("en", count=0, s=plural(0, "en")) == "0 rows"


def test_the_job_limit_agrees_with_its_number() -> None:
    mine = LIMIT_MESSAGES["user"]
    assert mine("fr", limit=1, s=plural(1, "fr")).startswith("Vous avez déjà 1 tâche en cours")
    assert mine("en", limit=3, s=plural(3, "en")).startswith("You already have 3 jobs running")
    assert LIMIT_MESSAGES["skill"]("en", limit=1, s=plural(1, "en")).startswith(
        "This feature is already running 1 job for all users")


def test_braces_doubled_for_formatting_read_the_same_with_or_without_values() -> None:
    hint = Text("Écrivez {{{{client}}}}.", "Write {{{{client}}}}.")
    named = Text("« {name} » : écrivez {{{{{name}}}}}.", "“{name}”: write {{{{{name}}}}}.")

    assert hint("fr") == "Écrivez {{client}}." and hint("en") == "Write {{client}}."
    assert named("fr", name="client") == "« client » : écrivez {{client}}."
    assert Text('Un JSON {"a": 1}', 'A JSON {"a": 1}')("fr") == 'Un JSON {"a": 1}'
