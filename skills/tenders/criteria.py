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


def parse_criteria(text: str) -> Criteria:
    """Criteria from YAML text (``criteria: [{id, label, blocking, rule, …params}]``)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CriteriaError(f"YAML illisible : {error}") from None
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
