"""The company's bid criteria: a YAML file administrators copy from ``criteria.sample.yaml``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SAMPLE = Path(__file__).with_name("criteria.sample.yaml")


class CriteriaError(Exception):
    """A criteria file that cannot be used (the message says why, in French)."""


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion: its id, label, whether it blocks, its parameters and its rule."""

    id: str
    label: str
    blocking: bool
    params: dict[str, Any] = field(default_factory=dict)
    rule: str = ""


@dataclass(frozen=True, slots=True)
class Criteria:
    """The whole policy."""

    company: dict[str, Any]
    items: tuple[Criterion, ...]
    digest: str

    @property
    def company_name(self) -> str:
        """The company's name (for the outline)."""
        return str(self.company.get("name") or "")


# the parameters the judges read, with the kind of value each must be
_NUMBER, _WHOLE, _YES_NO, _NAMES, _BRANCHES, _HELD, _LINES = (
    "un nombre positif (par exemple 40000)", "un nombre entier positif (par exemple 15)",
    "true ou false", "une liste de noms (par exemple [Bretagne, Normandie])",
    "une liste de numéros de branche ACPR de 1 à 39 (par exemple [1, 2, 20])",
    "une table « nom: true/false »", "une table « code: description »")
_PARAMETERS = {
    "min_eur_ttc_per_lot_per_year": _NUMBER, "min_eur_per_lot_per_year": _NUMBER,
    "min_calendar_days": _WHOLE, "regions": _NAMES, "not_served": _NAMES,
    "held": _HELD, "acpr_branches_held": _BRANCHES,
    "max_daily_rate_pct_of_annual_premium": _NUMBER, "max_cap_pct_of_annual_premium": _NUMBER,
    "cap_required": _YES_NO, "unlimited_liability_accepted": _YES_NO, "max_years": _NUMBER,
    "accepted": _LINES, "excluded": _LINES,
}


def _fits(value: Any, kind: str) -> bool:
    """Whether a parameter's value is of the kind its judge reads."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == _NUMBER:
        return number and value >= 0
    if kind == _WHOLE:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == _YES_NO:
        return isinstance(value, bool)
    if kind == _NAMES:
        return isinstance(value, list) and all(isinstance(item, str) and item.strip()
                                               for item in value)
    if kind == _BRANCHES:
        return isinstance(value, list) and all(
            isinstance(item, int) and not isinstance(item, bool) and 1 <= item <= 39
            for item in value)
    if kind == _HELD:
        return isinstance(value, dict) and all(isinstance(item, bool)
                                               for item in value.values())
    return isinstance(value, dict) and all(isinstance(item, str) for item in value.values())


def _check(ident: str, raw: dict[str, Any]) -> None:
    """:class:`CriteriaError` naming the first value of the wrong kind."""
    if not isinstance(raw.get("blocking", True), bool):
        raise CriteriaError(f"critère « {ident} » : « blocking » doit valoir true ou false "
                            f"(lu : « {raw['blocking']} »)")
    for key, kind in _PARAMETERS.items():
        if key in raw and not _fits(raw[key], kind):
            shown = str(raw[key])
            shown = shown if len(shown) <= 60 else shown[:59] + "…"
            raise CriteriaError(f"critère « {ident} » : « {key} » attend {kind} "
                                f"(lu : « {shown} »)")


def parse_criteria(text: str) -> Criteria:
    """Criteria from YAML text (``criteria: [{id, label, blocking, rule, …params}]``)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)  # where, not the parser's English words
        where = (f" (ligne {mark.line + 1}, colonne {mark.column + 1})"
                 if mark is not None else "")
        raise CriteriaError(f"YAML illisible{where} : vérifiez l'indentation, les « : » et "
                            f"les listes entre crochets") from None
    if not isinstance(data, dict) or not isinstance(data.get("criteria"), list):
        raise CriteriaError("le fichier doit contenir une liste « criteria »")
    items: list[Criterion] = []
    seen: set[str] = set()
    for raw in data["criteria"]:
        if not isinstance(raw, dict) or not raw.get("id"):
            raise CriteriaError("chaque critère doit avoir un « id »")
        ident = str(raw["id"])
        if ident in seen:
            raise CriteriaError(f"critère « {ident} » en double")
        seen.add(ident)
        _check(ident, raw)
        params = {key: value for key, value in raw.items()
                  if key not in ("id", "label", "blocking", "rule")}
        items.append(Criterion(ident, str(raw.get("label") or ident),
                               bool(raw.get("blocking", True)), params,
                               " ".join(str(raw.get("rule") or "").split())))
    company = data.get("company") if isinstance(data.get("company"), dict) else {}
    return Criteria(company or {}, tuple(items),
                    hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])


def load_criteria(path: Path | None = None) -> Criteria:
    """A criteria file (the shipped sample when ``path`` is None)."""
    target = path or SAMPLE
    try:
        return parse_criteria(target.read_text(encoding="utf-8"))
    except OSError as error:
        raise CriteriaError(f"fichier de critères introuvable : {target.name} "
                            f"({error.strerror})") from None
