"""Build ``bot/dlp_first_names.txt``, the first-name list the DLP layer ships, from Faker.

Faker (MIT licence, PyPI) holds first names of some eighty locales; this keeps those
written in Latin script (French, Maghrebi and West African French, Portuguese, Polish,
Vietnamese, Turkish, Spanish, English…), one a line, sorted, without French function
words. Run it once by hand when updating the list; nothing is downloaded at run time:

    pip install --target /tmp/faker faker==40.40.0
    .venv/bin/python bench/dlp_corpus/build_first_names.py /tmp/faker > bot/dlp_first_names.txt
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import unicodedata
from collections.abc import Iterable


def _latin(name: str) -> bool:
    return bool(name) and all((char.isalpha() and ord(char) < 0x250) or char in "-' "
                              for char in name)


def _values(attribute: object) -> Iterable[str]:
    if isinstance(attribute, dict | list | tuple | set | frozenset):
        return [str(value) for value in attribute]
    return []


def first_names(faker_path: str) -> set[str]:
    """Every Latin-script first name of Faker's person providers, split into words."""
    sys.path.insert(0, faker_path)
    import faker.providers.person as person  # type: ignore[import-not-found]
    from spacy.lang.fr.stop_words import STOP_WORDS

    names: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        for attribute in ("first_names", "first_names_male", "first_names_female"):
            for name in _values(provider.__dict__.get(attribute)
                                or getattr(provider, attribute, None)):
                name = unicodedata.normalize("NFC", name.strip())
                if _latin(name):
                    names.update(word for word in name.replace("-", " ").split()
                                 if len(word) > 1 and word.casefold() not in STOP_WORDS)
    return names


def main() -> None:
    print("# First names (Latin script) from Faker's person providers (MIT licence),")
    print("# built by bench/dlp_corpus/build_first_names.py; one a line.")
    for name in sorted(first_names(sys.argv[1]), key=str.casefold):
        print(name)


if __name__ == "__main__":
    main()
