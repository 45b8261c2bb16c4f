"""What can be said of a unit from the inventory alone, in French or English."""

from __future__ import annotations

from bot.i18n import Text
from bot.messages import Locale
from skills.codedoc.guards import caught
from skills.codedoc.model import Inventory, Unit

_RETURNS = Text("renvoie {value}", "returns {value}")
_RAISES = Text("lève {value}", "raises {value}")
_CALLS = Text("appelle {value}", "calls {value}")
_PERFORMS = Text("exécute {value}", "performs {value}")
_CALLED_BY = Text("appelé par {value}", "called by {value}")
_ROUTE = Text("sert la route HTTP {value}", "serves the HTTP route {value}")
_RUNS = Text("lance le programme {value}", "runs program {value}")
_MEMBERS = Text("membres : {value}", "members: {value}")
_FIELDS = Text("champs : {value}", "fields: {value}")
_COLUMNS = Text("colonnes : {value}", "columns: {value}")
_TAKES = Text("prend {value}", "takes {value}")
_READS = Text("lit {value}", "reads {value}")
_WRITES = Text("écrit {value}", "writes {value}")
_EXPORTS = Text("exporte {value}", "exports {value}")
_YIELDS = Text("produit ses valeurs une à une (générateur)",
               "yields its values one by one (a generator)")
_SETS = Text("modifie {value}", "sets {value}")
_INITIALISES = Text("initialise {value}", "initialises {value}")
_RESOURCE = {"file": Text("le fichier {name}", "file {name}"),
             "table": Text("la table {name}", "table {name}")}
_NOTHING = Text("aucun appel repéré", "no call found")
_IF = Text("si {condition}", "if {condition}")
_ON = Text("en cas de {caught}", "on {caught}")
_OR = Text(" ou ", " or ")
_MAX_CONDITIONS = 2
_MAX_NAMES = 6


def short(qualified: str, inventory: Inventory | None = None, near: Unit | None = None) -> str:
    """A qualified name as a reader wants it: ``Class.method``, a paragraph without its
    program when it is in the same one."""
    shown = qualified.rsplit(":", 1)[-1]
    other = inventory.index.get(qualified) if inventory is not None else None
    if near is not None and other is not None and other.path == near.path and (
            other.kind in ("paragraph", "section", "step")):
        return other.name
    return shown


def names(values: list[str] | tuple[str, ...], quote: str = "`") -> str:
    """``a``, ``b`` … (+N)."""
    shown = [f"{quote}{value}{quote}" for value in values[:_MAX_NAMES]]
    more = len(values) - _MAX_NAMES
    return ", ".join(shown) + (f" (+{more})" if more > 0 else "")


def condition_text(condition: str, locale: Locale, quote: str = "`") -> str:
    """« si `errors != "strict"` », « en cas de `OSError` » (a handler's exception)."""
    exception = caught(condition)
    if exception is None:
        return _IF(locale, condition=f"{quote}{condition}{quote}")
    return _ON(locale, caught=f"{quote}{exception}{quote}" if exception
               else Text("erreur", "error"))


def raised_with_conditions(unit: Unit, locale: Locale, quote: str = "`") -> str:
    """``IDNAError`` (si ``errors != "strict"``), ``KeyError`` … (+N)."""
    shown = []
    for name in unit.raises[:_MAX_NAMES]:
        conditions = unit.raised_when.get(name, [])[:_MAX_CONDITIONS]
        said = _OR(locale).join(condition_text(c, locale, quote) for c in conditions)
        shown.append(f"{quote}{name}{quote}" + (f" ({said})" if said else ""))
    more = len(unit.raises) - _MAX_NAMES
    return ", ".join(shown) + (f" (+{more})" if more > 0 else "")


def facts(unit: Unit, inventory: Inventory, locale: Locale, quote: str = "`") -> list[str]:
    """Structural facts about ``unit``: returns, raises, calls, callers, route, members."""
    out: list[str] = []
    if unit.params and unit.kind not in ("record", "table"):
        shown = [p.split("=")[0].split(":")[0].strip().split()[-1] for p in unit.params
                 if p.strip()]
        out.append(_TAKES(locale, value=names(shown, quote)))
    if unit.route:
        out.append(_ROUTE(locale, value=f"{quote}{unit.route}{quote}"))
    if unit.returns and unit.returns not in ("None", "void"):
        out.append(_RETURNS(locale, value=f"{quote}{clipped(unit.returns)}{quote}"))
    elif unit.returned == ("yield",):
        out.append(_YIELDS(locale))
    elif unit.returned:
        out.append(_RETURNS(locale, value=_OR(locale).join(
            f"{quote}{clipped(value)}{quote}" for value in unit.returned)))
    if unit.raises:
        out.append(_RAISES(locale, value=raised_with_conditions(unit, locale, quote)))
    callees = [short(q, inventory, unit) for q in inventory.callees.get(unit.qualified, [])]
    raised = {name.rsplit(".", 1)[-1] for name in unit.raises}  # said once, as raised
    external = [call for call in unit.calls if call.rsplit(".", 1)[-1] not in
                {c.rsplit(".", 1)[-1] for c in callees} | raised]
    if unit.kind == "step" and unit.calls:
        out.append(_RUNS(locale, value=names(list(unit.calls), quote)))
    elif unit.kind in ("paragraph", "section", "program"):
        targets = [inventory.index.get(q) for q in inventory.callees.get(unit.qualified, [])]
        local = [t.name for t in targets if t is not None and t.kind != "program"]
        programs = [t.name for t in targets if t is not None and t.kind == "program"]
        programs += [c for c in unit.calls if c not in local and c not in programs]
        if local:
            out.append(_PERFORMS(locale, value=names(local, quote)))
        if programs:
            out.append(_CALLS(locale, value=names(programs, quote)))
    elif callees or external:
        out.append(_CALLS(locale, value=names(callees + external, quote)))
    if unit.sets:
        said = _INITIALISES if unit.name == "__init__" else _SETS
        out.append(said(locale, value=names(list(unit.sets), quote)))
    if unit.reads:
        out.append(_READS(locale, value=resources(unit.reads, locale, quote)))
    if unit.writes:
        out.append(_WRITES(locale, value=resources(unit.writes, locale, quote)))
    if unit.exports:
        out.append(_EXPORTS(locale, value=names(list(unit.exports), quote)))
    callers = [short(q, inventory, unit) for q in inventory.callers.get(unit.qualified, [])]
    if callers:
        out.append(_CALLED_BY(locale, value=names(callers, quote)))
    if unit.kind == "record" and unit.params:
        out.append(_FIELDS(locale, value=names([p.split()[1] for p in unit.params
                                                if len(p.split()) > 1], quote)))
    if unit.kind == "table" and unit.params:
        out.append(_COLUMNS(locale, value=names([p.split()[0] for p in unit.params], quote)))
    if unit.kind in ("class", "interface", "enum", "record_class"):
        members = [name for name in inventory.members.get(unit.qualified, [])
                   if not name.startswith(("_", "#")) or name == "__init__"]
        if members:
            out.append(_MEMBERS(locale, value=names(members, quote)))
    return out


def clipped(code: str, limit: int = 100) -> str:
    """Code on one line, at most ``limit`` characters (« … » where it is cut)."""
    text = " ".join(code.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def resources(values: tuple[str, ...], locale: Locale, quote: str = "`") -> str:
    """« le fichier `"journal.log"`, la table `CLIENT` » from « file "journal.log" »…"""
    said = []
    for value in values[:_MAX_NAMES]:
        kind, _, name = value.partition(" ")
        text = _RESOURCE.get(kind)
        said.append(text(locale, name=f"{quote}{name}{quote}") if text is not None and name
                    else f"{quote}{value}{quote}")
    more = len(values) - _MAX_NAMES
    return ", ".join(said) + (f" (+{more})" if more > 0 else "")


def sentence(parts: list[str], locale: Locale) -> str:
    """Facts joined into one sentence (capitalised, full stop)."""
    if not parts:
        return _NOTHING(locale).capitalize() + "."
    text = " ; ".join(parts) if locale == "fr" else "; ".join(parts)
    return text[0].upper() + text[1:] + "."

