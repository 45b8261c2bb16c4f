"""Build ``bot/governance/dlp_first_names.txt`` and ``bot/governance/dlp_surnames.txt``, the name lists the DLP
layer ships, from Faker.

Faker (MIT licence, PyPI) holds first names and surnames of some eighty locales; this
keeps those written in Latin script, accents and Vietnamese tone marks included (French,
Maghrebi and West African French, Portuguese, Polish, Vietnamese, Turkish, Spanish,
English…), one a line, sorted, without French function words. Run it once by hand when
updating the lists; nothing is downloaded at run time:

    pip install --target /tmp/faker faker==40.40.0
    .venv/bin/python bench/dlp_corpus/build_first_names.py /tmp/faker first > bot/governance/dlp_first_names.txt
    .venv/bin/python bench/dlp_corpus/build_first_names.py /tmp/faker last > bot/governance/dlp_surnames.txt
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import unicodedata
from collections.abc import Iterable

_ATTRIBUTES = {
    "first": ("first_names", "first_names_male", "first_names_female", "first_names_unisex",
              "middle_names"),
    "last": ("last_names", "last_names_male", "last_names_female", "last_names_unisex"),
}


def _latin(name: str) -> bool:
    return bool(name) and all(
        char in "-' " or (char.isalpha() and "LATIN" in unicodedata.name(char, ""))
        or unicodedata.combining(char) for char in unicodedata.normalize("NFD", name))


def _values(attribute: object) -> Iterable[str]:
    if isinstance(attribute, dict | list | tuple | set | frozenset):
        return [str(value) for value in attribute]
    return []


def names(faker_path: str, which: str) -> set[str]:
    """Every Latin-script name of Faker's person providers (``first`` or ``last``), split
    into words."""
    sys.path.insert(0, faker_path)
    import faker.providers.person as person  # type: ignore[import-not-found]
    from spacy.lang.fr.stop_words import STOP_WORDS

    found: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        for attribute in _ATTRIBUTES[which]:
            for name in _values(provider.__dict__.get(attribute)
                                or getattr(provider, attribute, None)):
                name = unicodedata.normalize("NFC", name.strip())
                if _latin(name):
                    found.update(word for word in name.replace("-", " ").split()
                                 if len(word) > 1 and word.casefold() not in STOP_WORDS
                                 and word[:1].isupper())
    return found


def main() -> None:
    which = sys.argv[2] if len(sys.argv) > 2 else "first"
    label = "First names" if which == "first" else "Surnames"
    print(f"# {label} (Latin script) from Faker's person providers (MIT licence),")
    print("# built by bench/dlp_corpus/build_first_names.py; one a line.")
    for name in sorted(names(sys.argv[1], which), key=str.casefold):
        print(name)


if __name__ == "__main__":
    main()
