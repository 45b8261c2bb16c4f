"""Contract terms: duration, estimated amounts, award criteria, penalties, liability,
certifications, firm rates, documents to provide."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import fold
from skills.tenders.clauses import Clause, Reader, clause_lots, lots_named
from skills.tenders.french import (
    COUNT,
    DURATION,
    count_value,
    duration_months,
    find_amounts,
    find_dates,
    find_fractions,
    find_percents,
)
from skills.tenders.model import Fact, Section, Source

_INITIAL = re.compile(r"(?:duree\s+(?:initiale|ferme|du marche|de l'accord-cadre|d'execution)"
                      r"|conclu (?:pour|a compter).{0,40}duree|pour une (?:periode|duree) de)")
_RENEWAL = re.compile(r"reconduct|renouvel")
_TIMES = re.compile(r"\b(une|deux|trois|quatre|\d+)\s+(?:seule\s+)?fois")
_MAXIMUM = re.compile(r"duree (?:totale |globale )?maximale")


@dataclass(frozen=True, slots=True)
class Stated:
    """One statement of a value in one document (to compare documents)."""

    value: str
    source: Source


def duration(reader: Reader) -> tuple[Fact | None, dict[str, list[Stated]]]:
    """Start, initial term, renewals, maximum term; each statement kept per topic."""
    value: dict[str, object] = {}
    sources: list[Source] = []
    stated: dict[str, list[Stated]] = {"duree_initiale": [], "reconduction": []}
    for clause in reader.clauses:
        folded = clause.folded
        if "validite" in folded or "delai de paiement" in folded:
            continue
        initial = _INITIAL.search(folded)
        if initial:
            match = DURATION.search(clause.text, initial.start())
            literal = "initiale" in folded[initial.start():initial.end()]
            if match and match.start() - initial.end() < 60 and (literal or not _RENEWAL.search(
                    folded[max(0, initial.start() - 90):match.start()])):
                months = duration_months(match)
                stated["duree_initiale"].append(Stated(
                    _months_text(months), clause.source(initial.start(), match.end(), 40)))
                if "duree_initiale_mois" not in value:
                    value["duree_initiale_mois"] = months
                    sources.append(clause.source(initial.start(), match.end(), 60))
        renewal = _RENEWAL.search(folded)
        before = folded[max(0, renewal.start() - 30):renewal.start()] if renewal else ""
        if renewal and re.search(r"\b(?:hors|sans|pas de|aucune|non)\s+$", before):
            # « hors reconduction » (an amount), « sans reconduction », « non reconductible »
            if not before.rstrip().endswith("hors") and "reconductions" not in value:
                value["reconductions"] = 0
                sources.append(clause.source(renewal.start(), renewal.end(), 40))
            renewal = None
        if renewal and "ne peut refuser" not in folded[renewal.start() - 30:renewal.start()]:
            match = DURATION.search(clause.text, renewal.start())
            times = _TIMES.search(folded, max(0, renewal.start() - 40))
            if (match is None or match.start() - renewal.end() >= 90) and times and \
                    "reconductions" not in value:
                value["reconductions"] = count_value(re.match(COUNT, times.group(1)) or times)
                value["tacite"] = "tacite" in folded
                sources.append(clause.source(renewal.start(), times.end(), 40))
            elif match and match.start() - renewal.end() < 90:
                months = duration_months(match)
                count = (count_value(re.match(COUNT, times.group(1)) or match)
                         if times and times.start() < match.start() else None)
                text = _months_text(months) + (f" × {count}" if count else "")
                stated["reconduction"].append(Stated(text, clause.source(renewal.start(),
                                                                         match.end(), 40)))
                if "reconduction_mois" not in value:
                    value["reconduction_mois"] = months
                    if count:
                        value["reconductions"] = count
                    value["tacite"] = "tacite" in folded
                    sources.append(clause.source(renewal.start(), match.end(), 40))
        maximum = _MAXIMUM.search(folded)
        if maximum and "duree_maximale_mois" not in value:
            match = DURATION.search(clause.text, maximum.start())
            if match and match.start() - maximum.end() < 40:
                value["duree_maximale_mois"] = duration_months(match)
        if "debut" not in value and re.search(r"prenn?ent? effet|prise d'effet|debut "
                                              r"d'execution|a compter du", folded):
            dates = find_dates(clause.text)
            if (dates and _INITIAL.search(folded)) or (dates and "effet" in folded):
                value["debut"] = dates[0].day.isoformat()
    if "duree_initiale_mois" in value and "duree_maximale_mois" not in value:
        renewals = int(str(value.get("reconductions", 1 if "reconduction_mois" in value else 0)))
        each = int(str(value.get("reconduction_mois", value["duree_initiale_mois"])))
        value["duree_maximale_mois"] = int(str(value["duree_initiale_mois"])) + renewals * each
    if not value:
        return None, stated
    if "duree_initiale_mois" in value:  # the other documents that say the same
        agreed = _months_text(int(str(value["duree_initiale_mois"])))
        sources.extend(item.source for item in stated["duree_initiale"]
                       if item.value == agreed and item.source.document not in
                       {source.document for source in sources})
    return Fact("duree", value, tuple(dict.fromkeys(sources))), stated


def _months_text(months: int) -> str:
    return f"{months // 12} ans" if months % 12 == 0 else f"{months} mois"


def max_years(fact: Fact | None) -> float | None:
    """The maximum term in years (initial plus renewals)."""
    if fact is None or not isinstance(fact.value, dict):
        return None
    months = fact.value.get("duree_maximale_mois") or fact.value.get("duree_initiale_mois")
    return int(months) / 12 if months else None


def amounts(reader: Reader, years: float | None, lot_count: int = 1) -> tuple[Fact | None, dict[int, float],
                                                          list[tuple[int, Stated]]]:
    """Estimated amounts: per lot per year (divided when only a multi-year amount is given)."""
    value: dict[str, float] = {}
    sources: list[Source] = []
    annual: dict[int, float] = {}
    stated: list[tuple[int, Stated]] = []
    for section in reader.dossier.sections:
        folded = fold(section.text)
        if not ("montant" in folded or "valeur" in folded or "estimation" in folded) \
                or "estim" not in folded:
            continue
        _table_amounts(section, value, sources, annual, stated, lot_count == 1)
        if not annual:
            _sentence_amounts(reader, section, value, sources, annual, years, stated,
                              lot_count)
    if not value:
        return None, annual, stated
    return Fact("montant_estime", value, tuple(sources)), annual, stated


def _columns(section: Section) -> list[tuple[str, int | None]]:
    """Amount columns of an estimate table: ("annuel", None) or ("duree", years)."""
    columns: list[tuple[str, int | None]] = []
    lines = list(section.lines)
    for index, line in enumerate(lines):
        folded = fold(line)
        if line == section.heading:
            continue
        if folded.startswith(("lot", "total")) and find_amounts(line if " | " in line else
                                                                 " ".join(lines[index:index + 3])):
            break
        cells = [fold(cell) for cell in line.split(" | ")] if " | " in line else [folded]
        for number, cell in enumerate(cells):
            if not (("montant" in cell or "valeur" in cell or "estim" in cell)
                    and len(cell) < 70):
                continue
            following = fold(lines[index + 1]) if len(cells) == 1 and index + 1 < len(lines) \
                else ""
            joined = cell + " " + following
            if "annuel" in cell or "par an" in cell:
                columns.append(("annuel", None))
            elif number > 0 or len(cells) == 1:
                years = re.search(r"(\d+)\s*ans", joined)
                columns.append(("duree", int(years.group(1)) if years else None))
    return columns


def _table_amounts(section: Section, value: dict[str, float], sources: list[Source],
                   annual: dict[int, float], stated: list[tuple[int, Stated]],
                   single: bool = False) -> None:
    columns = _columns(section)
    if not columns:
        return
    row: str | None = None
    lot: int | None = None
    column = 0
    tax = "ht" if " ht" in fold(section.text) and "ttc" not in fold(section.text) else "ttc"
    numbered = False  # a table whose first column is the lot's number (« Lot | … » over « 1 | … »)
    for index, line in enumerate(section.lines):
        folded = fold(line)
        named = lots_named(line)
        first = folded.split(" | ", 1)[0].strip()
        if " | " in line and re.fullmatch(r"(?:n[°o] (?:de )?)?lots?(?: n[°o])?", first):
            numbered = True
            continue
        if numbered and " | " in line and first.isdigit():
            named, folded = {int(first)}, "lot " + folded
        if (folded.startswith("lot") and named) or folded.startswith("total"):
            lot = next(iter(named)) if named and folded.startswith("lot") else None
            row, column = ("total" if lot is None else f"lot_{lot}"), 0
        elif (" | " in line and "estim" in first and re.search(r"annuel|par an", first)
              and single and find_amounts(line.split(" | ", 1)[1] + " €")):
            # « Estimation de la prime annuelle TTC par l'acheteur | 104500 » (one lot)
            amount = find_amounts(line.split(" | ", 1)[1] + " €")[0]
            tax_here = "ht" if re.search(r"\bht\b", first) else "ttc"
            value.setdefault(f"lot_1_annuel_{tax_here}", amount.value)
            sources.append(section.source(line, index))
            annual.setdefault(1, amount.value)
            stated.append((1, Stated(f"{amount.value:.0f}", section.source(line, index))))
            continue
        found = find_amounts(line)
        if row is None or not found or column >= len(columns):
            continue
        for amount in found:
            if column >= len(columns):
                break
            kind, years = columns[column]
            key = f"{row}_annuel_{tax}" if kind == "annuel" else (
                f"{row}_{years}_ans_{tax}" if years else f"{row}_duree_{tax}")
            value.setdefault(key, amount.value)
            sources.append(section.source(amount.text, index))
            if lot is not None and kind == "annuel":
                annual.setdefault(lot, amount.value)
                stated.append((lot, Stated(f"{amount.value:.0f}",
                                           section.source(amount.text, index))))
            column += 1


def _sentence_amounts(reader: Reader, section: Section, value: dict[str, float],
                      sources: list[Source], annual: dict[int, float], years: float | None,
                      stated: list[tuple[int, Stated]], lot_count: int) -> None:
    for clause in [c for c in reader.clauses if c.section is section]:
        folded = clause.folded
        if "estim" not in folded:
            continue
        lots = clause_lots(clause) or ({1} if lot_count == 1 else set(range(1, lot_count + 1)))
        previous = 0
        named_lots = lots
        for amount in find_amounts(clause.text):
            tax = "ht" if re.search(r"\bht\b|hors taxes", folded) else "ttc"
            near = fold(clause.text[max(0, amount.start - 80):amount.end + 40])
            span = re.search(r"sur\s+(?:la\s+duree.{0,30}?|)(\d+)\s+ans", near)
            per_year = re.search(r"par an|annuel|chaque annee", near) is not None or (
                span is None and "duree" not in near and
                re.search(r"par an\b|annuel", folded) is not None)
            just_before = lots_named(clause.text[previous:amount.start])
            lots = just_before if len(named_lots) > 1 and len(just_before) == 1 else named_lots
            previous = amount.end
            for lot in sorted(lots):
                row = f"lot_{lot}" if len(lots) == 1 else "total"
                if per_year:
                    value.setdefault(f"{row}_annuel_{tax}", amount.value)
                    if len(lots) == 1:
                        annual.setdefault(lot, amount.value)
                        stated.append((lot, Stated(f"{amount.value:.0f}",
                                                   clause.source(amount.start, amount.end))))
                else:
                    covered = int(span.group(1)) if span else years
                    value.setdefault(f"{row}_{int(covered) if covered else 'duree'}_ans_{tax}",
                                     amount.value)
                    if covered and len(lots) == 1:
                        annual.setdefault(lot, amount.value / covered)
                        stated.append((lot, Stated(f"{amount.value / covered:.0f}",
                                                   clause.source(amount.start, amount.end))))
            sources.append(clause.source(amount.start, amount.end, 80))


_CRITERION = re.compile(r"^(\d{1,2})[.)]\s+(\S.{1,150})$")
_SUBCRITERION = re.compile(r"^(\d{1,2}\.\d{1,2})\.?\s+(\S.{1,200})$")
_BRACKETED = re.compile(r"^[–•-]?\s*(.{3,90}?)\s*\(\s*(\d{1,3})\s*(?:%|points?)\s*\)")
# « Prix : 40 % », « Prix (montant de la prime annuelle TTC) : 55 % »: what the
# parenthesis says is the label's, not the weight
_INLINE = re.compile(r"^[–•-]?\s*(?:\d[.)]\s*)?([A-ZÉÈa-zé][^:(|]{2,80}?)\s*"
                     r"(?:\([^)]{0,160}\)\s*)?[:(|–-]\s*(\d{1,3})\s*(?:%|points?)\)?")


def award_criteria(reader: Reader) -> Fact | None:
    """Award criteria with their weights and sub-criteria (tables or inline « Prix : 40 % »)."""
    sections = [section for section in reader.dossier.sections
                if re.search(r"criteres? d'attribution|jugement des offres|criteres? de "
                             r"(?:jugement|choix|selection des offres)|ponderation",
                             fold(section.heading + " " + section.text[:300]))
                and find_percents(section.text)]
    for section in sections:
        value, sources = _criteria_grid(section)
        if not value:
            value, sources = _criteria_table(section)
        if value:
            formula = _formula(reader)
            if formula is not None:
                for name, item in value.items():
                    if "prix" in name and isinstance(item, dict):
                        item["formule"] = formula[0]
                sources.append(formula[1])
            return Fact("criteres_attribution", value, tuple(sources))
    return None


def _criteria_grid(section: Section) -> tuple[dict[str, dict[str, object]], list[Source]]:
    """A table of criteria read from its cells: « Critère | Sous-critère | Pondération » over
    « Valeur technique | Niveau des garanties | 25 % » (a criterion's weight is its own, or
    the sum of its sub-criteria's), or « Critère | Pondération » over « Prix | 40 % »."""
    value: dict[str, dict[str, object]] = {}
    sources: list[Source] = []
    header: list[str] | None = None
    for index, line in enumerate(section.lines):
        cells = [cell.strip() for cell in line.split(" | ")]
        if len(cells) < 2:
            continue
        folded = [fold(cell) for cell in cells]
        if header is None:
            if "criter" in folded[0] and any(re.search(r"ponderation|poids|points?|note", cell)
                                             for cell in folded[1:]):
                header = folded
            continue
        weight = [found[0] for found in find_percents(cells[-1])] or ([float(match.group(1))] if (
            match := re.fullmatch(r"(\d{1,3})\s*(?:points?|pts)", folded[-1])) else [])
        if not weight or not cells[0]:
            continue
        key = _slug(cells[0])
        item = value.setdefault(key, {"libelle": cells[0], "poids": None})
        if len(cells) >= 3 and cells[1] and "sous" in header[1]:
            subs = item.setdefault("sous_criteres", {})
            if isinstance(subs, dict):
                subs[cells[1]] = weight[0]
                item["poids"] = sum(float(w) for w in subs.values() if w is not None)
        else:
            item["poids"] = weight[0]
        sources.append(section.source(line, index))
    return value, sources


def _slug(label: str) -> str:
    words = re.findall(r"[a-z0-9]+", fold(label))
    return "_".join(words[:4]) or "critere"


def _criteria_table(section: Section) -> tuple[dict[str, dict[str, object]], list[Source]]:
    value: dict[str, dict[str, object]] = {}
    sources: list[Source] = []
    current: tuple[str, str, bool, int, list[str]] | None = None  # key, label, sub, line, extra

    def close(weight: float | None) -> None:
        nonlocal current
        if current is None:
            return
        key, label, sub, _, extra = current
        full = " ".join([label, *extra]).strip()
        if sub and value:
            parent = list(value.values())[-1]
            subs = parent.setdefault("sous_criteres", {})
            if isinstance(subs, dict):
                subs[full] = weight
        else:
            value[key] = {"libelle": label, "poids": weight}
        current = None

    for index, line in enumerate(section.lines):
        sub = _SUBCRITERION.match(line)
        top = _CRITERION.match(line) if sub is None else None
        percents = find_percents(line)
        inline = _INLINE.match(line)
        if (sub or top) and not (percents and percents[0][1] < 4):
            close(None)
            match = sub or top
            assert match is not None
            label = match.group(2).strip()
            weight = re.search(r"[:(–-]?\s*(\d{1,3})\s*%\)?\s*$", label)
            if weight:
                label = label[:weight.start()].strip(" :–-(|")
            label = label.strip(" |:")
            current = (_slug(label), label, sub is not None, index, [])
            sources.append(section.source(line, index))
            if weight:
                close(float(weight.group(1)))
            continue
        if current is not None and percents and len(line) < 20:
            close(percents[0][0])
            continue
        bracket = _BRACKETED.search(line) if inline is None else None
        if current is None and bracket is not None:
            label = re.sub(r"^(?:crit[eè]re\s*(?:n[°o]\s*)?\d+\s*[:–-]\s*)", "",
                           bracket.group(1).strip(" –-•:"), flags=re.IGNORECASE)
            if label and not value.get(_slug(label)):
                value[_slug(label)] = {"libelle": label, "poids": float(bracket.group(2))}
                sources.append(section.source(line, index))
                continue
        if current is None and inline and not value.get(_slug(inline.group(1))):
            label = inline.group(1).strip()
            value[_slug(label)] = {"libelle": label, "poids": float(inline.group(2))}
            sources.append(section.source(line, index))
            continue
        if current is not None and current[2] and not percents and len(current[4]) < 2 \
                and line[:1].islower():
            current[4].append(line)
    close(None)
    for item in value.values():
        if item.get("poids") is None:
            subs = item.get("sous_criteres")
            if isinstance(subs, dict) and subs and all(isinstance(v, float) for v in
                                                       subs.values()):
                item["poids"] = sum(float(v) for v in subs.values())
    total = sum(float(str(item["poids"])) for item in value.values()
                if item.get("poids") is not None)
    if not value or total <= 0:
        return {}, []
    return value, sources


def _formula(reader: Reader) -> tuple[str, Source] | None:
    for clause, match in reader.matching(re.compile(r"note\s*=|formule")):
        start = clause.folded.find("note =") if "note =" in clause.folded else match.start()
        end = clause.text.find(")", start)
        text = clause.text[start:end + 1 if end > 0 else None]
        if len(text) > 8:
            return text, clause.quote(text)
    return None


def penalties(reader: Reader) -> tuple[Fact | None, list[tuple[Clause, str, float]]]:
    """Daily penalties (rates or fixed amounts) and their cap.

    The second value lists (clause, kind, number): ``rate`` (% of the annual amount per day),
    ``fixed`` (€ per day), ``cap`` (% of the annual amount), ``uncapped``.
    """
    items: list[tuple[Clause, str, float]] = []
    spans: list[tuple[int, int]] = []
    for clause in reader.clauses:
        folded = clause.folded
        in_section = "penalit" in fold(clause.section.heading)
        if not (in_section or "penalit" in folded):
            continue
        if re.search(r"(?:ne sont pas|non|sans) plafonn|sans plafond|aucun plafond", folded):
            items.append((clause, "uncapped", 0.0))
            spans.append((0, len(folded)))
            continue
        cap = re.search(r"plafonn|ne (?:peut|peuvent) exceder|dans la limite d|limitee? a",
                        folded)
        limit = cap.start() if cap else len(folded)
        if cap is not None:
            after = [(percent, start) for percent, start, _ in find_percents(clause.text)
                     if start > cap.start()]
            if after:
                items.append((clause, "cap", after[0][0]))
                spans.append((cap.start(), after[0][1] + 3))
        daily = re.search(r"par jour|journaliere", folded)
        if not daily:
            continue
        for fraction, start, end in find_fractions(clause.text):
            if start < limit:
                items.append((clause, "rate", fraction))
                spans.append((start, max(end, daily.end())))
        for percent, start, _end in find_percents(clause.text):
            if start < limit:
                items.append((clause, "rate", percent))
                spans.append((start, max(_end, daily.end())))
        for amount in find_amounts(clause.text):
            if amount.start < limit:
                items.append((clause, "fixed", amount.value))
                spans.append((amount.start, max(amount.end, daily.end())))
    if not items:
        return None, []
    rates = [number for _, kind, number in items if kind == "rate"]
    fixed = [number for _, kind, number in items if kind == "fixed"]
    caps = [number for _, kind, number in items if kind == "cap"]
    value: dict[str, object] = {}
    if rates:
        value["taux_journalier_max_pct"] = round(max(rates), 4)
        fractions = [round(100 / number) for number in rates if number > 0 and
                     abs(100 / number - round(100 / number)) < 0.01]
        if fractions:
            value["fraction_journaliere_min"] = f"1/{min(fractions)}"
    if fixed:
        value["forfaits_journaliers_eur"] = fixed
    if caps:
        value["plafond_pct"] = max(caps)
    if any(kind == "uncapped" for _, kind, _ in items):
        value["plafond_pct"] = None
        value["non_plafonnees"] = True
    # « 6.1 – Lots n° 1 et 2 : 300 € par jour … » / « 6.2 – Lot n° 3 : 1/5 000e … »: each
    # lot's own rules, when the clauses say which lots they are for
    per_lot: dict[str, dict[str, object]] = {}
    part_lots: dict[tuple[int, int], set[int]] = {}  # a numbered part's lots, said once
    common: list[tuple[str, float]] = []  # rules naming no lot: every lot's
    for clause, kind, number in items:
        part = (id(clause.section), clause.line)
        lots = _lots_at_start(clause.text) or clause_lots(clause) or part_lots.get(part, set())
        part_lots.setdefault(part, lots)
        if not lots:
            common.append((kind, number))
        for lot in sorted(lots):
            _penalty_rule(per_lot.setdefault(str(lot), {}), kind, number)
    for own in per_lot.values():
        for kind, number in common:
            _penalty_rule(own, kind, number)
    if per_lot:
        value["par_lot"] = per_lot
    sources = tuple(dict.fromkeys(
        clause.source(None, None) if kind == "uncapped" else
        _penalty_quote(clause, span) for (clause, kind, _), span in zip(items, spans,
                                                                        strict=True)))
    return Fact("penalites", value, sources), items


def _penalty_rule(own: dict[str, object], kind: str, number: float) -> None:
    """One penalty rule added to a lot's: the highest rate and cap, every fixed amount."""
    if kind == "rate":
        own["taux_journalier_max_pct"] = round(max(
            number, float(str(own.get("taux_journalier_max_pct", 0)))), 4)
    elif kind == "fixed":
        amounts = own.setdefault("forfaits_journaliers_eur", [])
        if isinstance(amounts, list) and number not in amounts:
            amounts.append(number)
    elif kind == "cap":
        if own.get("plafond_pct", 0) is not None:
            own["plafond_pct"] = max(number, float(str(own.get("plafond_pct", 0))))
    else:
        own["plafond_pct"] = None


def _penalty_quote(clause: Clause, span: tuple[int, int]) -> Source:
    """The words of one penalty: from its figure to the end of its phrase."""
    start, end = span
    stop = min([position for position in (clause.text.find(mark, end) for mark in
                                          (",", ";", ".", " – "))
                if position >= 0] or [len(clause.text)])
    return clause.quote(clause.text[start:stop].strip())


_LIABILITY = re.compile(r"responsabilite|responsable")
_UNLIMITED = re.compile(r"sans limitation de (?:somme|montant)|illimitee|sans plafond|"
                        r"(?:clauses?|stipulations?) limitatives?.{0,60}(?:non ecrites?|"
                        r"inopposables?|exclues?)|renonce.{0,40}limitation")
_CAPPED = re.compile(r"(?:responsabilite|elle)[^.;]{0,40}? (?:est|sera) (?:limitee|plafonnee)|"
                     r"plafond de responsabilite|limitee?,? tous prejudices|"
                     r"dans la limite de")
_DECOY = re.compile(r"garanties? (?:souscrites?|d'assurance)|montants? des? garanties?|franchise|"
                    r"par sinistre|par victime|limites? de garantie|"
                    r"capitaux|plafond de garantie|dommages corporels|assures?\b.{0,40}"
                    r"couvert|contrat d'assurance|attestation d'assurance|"
                    r"police d'assurance|couverture|"
                    # « Les garanties décès du lot 1 sont servies sans limitation de somme »
                    r"garanties? [a-z]+(?: [a-z]+)?(?: du lot \d+)? (?:sont|seront) servies|"
                    r"prestations? (?:sont |seront )?(?:servies|versees)|capital souscrit")


def liability(reader: Reader) -> tuple[Fact | None, list[tuple[Clause, str]]]:
    """The holder's contractual liability: capped, unlimited, or not stated.

    Insurance cover limits (« dommages corporels : sans limitation ») and the holder's own
    insurance obligations are decoys, kept aside with kind ``decoy``.
    """
    found: list[tuple[Clause, str]] = []
    for clause in reader.clauses:
        folded = clause.folded
        heading = fold(clause.section.heading)
        about = _LIABILITY.search(folded) or "responsabilit" in heading
        if not about:
            continue
        holder = re.search(r"titulaire|prestataire|cocontractant|attributaire", folded)
        insurance_section = (re.search(r"assurance|garantie|couverture|tableau", heading)
                             is not None and "responsabilit" not in heading) or (
            " | " in clause.text and not holder)
        if _UNLIMITED.search(folded):
            decoy = (insurance_section or (_DECOY.search(folded) is not None and not re.search(
                r"responsabilite (?:du|de l')(?:titulaire|prestataire|attributaire)|"
                r"titulaire est (?:responsable|tenu)", folded)))
            found.append((clause, "decoy" if decoy else "unlimited"))
        elif _CAPPED.search(folded) and (holder or "responsabilit" in heading) and \
                not insurance_section:
            found.append((clause, "capped"))
    if not found:
        return None, []
    kept = [(clause, kind) for clause, kind in found if kind != "decoy"]
    if not kept:  # only insurance cover limits: nothing on the holder's own liability
        return None, found
    clause, kind = next(((c, k) for c, k in kept if k == "unlimited"), kept[0])
    exceptions = [name for name, key in (("faute lourde", "faute lourde"),
                                         ("dol", "dol")) if key in clause.folded]
    label = ("Responsabilité du titulaire sans limitation" if kind == "unlimited" else
             "Responsabilité du titulaire plafonnée") + (
        f" (sauf {', '.join(exceptions)})" if exceptions else "")
    return Fact("responsabilite", label, (clause.source(None, None),)), found


_CERTIFICATIONS = (
    ("iso_27001", re.compile(r"iso(?:/iec)?\s*27001")),
    ("iso_9001", re.compile(r"iso\s*9001")),
    ("iso_14001", re.compile(r"iso\s*14001")),
    ("hds", re.compile(r"hebergeurs? de donnees de sante|\bhds\b")),
    ("pci_dss", re.compile(r"pci[- ]?dss")),
    ("label_numerique_responsable", re.compile(r"label numerique responsable")),
    ("qualiopi", re.compile(r"qualiopi")),
)
_NEGATED = re.compile(r"n'est pas (?:exigee?|requise?)|non (?:exigee?|requise?)|pas exigee?|"
                      r"facultati")


@dataclass(frozen=True, slots=True)
class Requirement:
    """A certification, label or approval the buyer asks for."""

    key: str
    lots: frozenset[int]  # empty: every lot
    delegable: bool  # may be met by a subcontractor, delegated manager or co-contractor
    source: Source
    branches: tuple[int, ...] = ()


_BRANCH_LIST = r"((?:\d{1,2}\s*(?:\([^)]*\))?\s*(?:,|et)?\s*)+)"
_BRANCHES = re.compile(r"\bbranches?\s+" + _BRANCH_LIST)
# « … pour le lot n° 1, … pour les lots 2 et 3 »: the branches before each apply to it
_FOR_LOTS = re.compile(r"\bpour (?:le |les )?lots?\s*(?:n[°o]s?\.?\s*)?"
                       r"(\d{1,2}(?:\s*(?:,|et|à)\s*(?:n[°o]\s*)?\d{1,2}"
                       r"(?!\d|\s*(?:\(|pour\b)))*)")  # « lot n° 1, 13 (…) »: 13 is a branch
# « lot n° 1 : branches 3 et 10 »: the lot first
_LOT_THEN = re.compile(r"\blots?\s*(?:n[°o]s?\.?\s*)?(\d{1,2})\s*[:–-]\s*(?:[a-z' ]{0,40}?)"
                       r"branches?\s+" + _BRANCH_LIST)


def _lots_near(clause: Clause, at: int) -> set[int]:
    """The lots the item of a list holding position ``at`` names (« certificat ISO 27001
    (lot n° 3) » among « … ; attestation de visite (lot n° 1) ; … »), else the clause's."""
    text = clause.text
    start = max(text.rfind(";", 0, at), text.rfind("•", 0, at)) + 1
    ends = [end for end in (text.find(";", at), text.find("•", at)) if end >= 0]
    return lots_named(text[start:min(ends) if ends else len(text)]) or clause_lots(clause)


def _branch_numbers(text: str) -> tuple[int, ...]:
    """ACPR branch numbers in a stretch of text (what parentheses say left out: « 3 (corps
    de véhicules terrestres) »), each once."""
    bare = re.sub(r"\([^)]*\)", " ", text)
    # « 1, 2 et 20 »: a comma between numbers separates them (« 1,5 » is a decimal)
    return tuple(dict.fromkeys(int(n) for n in re.findall(
        r"(?<!\d[,.])(?<!\d)\b(\d{1,2})\b(?![,.]\d|\d)", bare) if 1 <= int(n) <= 39))


def _acpr_requirements(clause: Clause) -> list[Requirement]:
    """ACPR branches a clause asks for, per lot when it says which branches go with which
    lot (« branches 3 et 10 pour le lot n° 1, 13 pour le lot n° 2 »), else for its lots."""
    folded = clause.folded
    if "agrement" not in folded and "acpr" not in folded:
        return []
    found: list[Requirement] = []
    for match in _LOT_THEN.finditer(folded):
        branches = _branch_numbers(match.group(2))
        if branches:
            found.append(Requirement("acpr", frozenset({int(match.group(1))}), False,
                                     clause.quote(clause.text[match.start():match.end()]
                                                  .strip(" ,;")), branches))
    if found:
        return found
    start = _BRANCHES.search(folded)
    if start is None:
        return []
    at = start.start()
    for mark in _FOR_LOTS.finditer(folded, start.start()):
        branches = _branch_numbers(folded[at:mark.start()].removeprefix("branches")
                                   .removeprefix("branche"))
        if branches:
            found.append(Requirement("acpr", frozenset(lots_named("lot " + mark.group(1))),
                                     False, clause.quote(clause.text[at:mark.end()]
                                                         .strip(" ,;")), branches))
        at = mark.end()
    if found:
        return found
    branches = _branch_numbers(start.group(1))
    return [Requirement("acpr", frozenset(clause_lots(clause)), False, clause.quote(
        clause.text[start.start():start.end()].strip(" ,;")), branches)] if branches else []


def certifications(reader: Reader) -> tuple[Fact | None, list[Requirement]]:
    """Certifications, labels and ACPR branches required (per lot when stated)."""
    found: list[Requirement] = []
    for clause in reader.clauses:
        folded = clause.folded
        for key, pattern in _CERTIFICATIONS:
            match = pattern.search(folded)
            if match is None or _NEGATED.search(folded[max(0, match.start() - 60):
                                                       match.end() + 60]):
                continue
            if not re.search(r"justifie|exige|detenir|dispose|titulaire|certifi|candidat|"
                             r"doit|requis|obligatoire|copie", folded):
                continue
            delegable = re.search(r"ou (?:le|son|du|un) (?:gestionnaire|sous-traitant|"
                                  r"delegataire|cotraitant|prestataire)|sous-traitan|"
                                  r"co-?traitant|membre du groupement", folded) is not None
            found.append(Requirement(key, frozenset(_lots_near(clause, match.start())),
                                     delegable, clause.source(match.start(), match.end(), 90)))
        found += _acpr_requirements(clause)
    scr = next(((clause, match) for clause, match in reader.matching(
        re.compile(r"(?:couverture du (?:scr|capital de solvabilite)|scr).{0,60}?(\d{2,3})\s*%"))),
        None)
    value: dict[str, object] = {}
    sources: list[Source] = []
    for requirement in found:
        if requirement.key == "acpr":
            acpr = value.setdefault("acpr", {})
            if isinstance(acpr, dict):
                target = ", ".join(f"lot {lot}" for lot in sorted(requirement.lots)) or "tous"
                acpr[target] = list(requirement.branches)
        else:
            value[requirement.key] = "exigée" + (" (titulaire ou gestionnaire délégué / "
                                                "sous-traitant)" if requirement.delegable
                                                else "") + (
                f" (lots {', '.join(map(str, sorted(requirement.lots)))})"
                if requirement.lots else "")
        if requirement.source not in sources:
            sources.append(requirement.source)
    if scr is not None:
        clause, match = scr
        value["scr_min_pct"] = float(match.group(1))
        sources.append(clause.source(match.start(), match.end(), 60))
    if not value:
        return None, found
    return Fact("certifications_agrements", value, tuple(sources)), found


_FIRM = re.compile(r"(?:taux|cotisations?|prix|tarifs?|primes?)[^.;]{0,60}?(?:sont|seront|est|"
                   r"sera|reste|restera|restent|resteront|demeure|demeurera|demeurent|"
                   r"demeureront)\s+(?:\w+\s+)?(?:garanti|ferme|bloque|maintenu|inchange|"
                   r"non revisable)|(?:maintien|garantie|blocage) des "
                   r"(?:taux|cotisations|tarifs|primes|prix)|(?:taux|prix|cotisations?|tarifs?|"
                   r"primes?) (?:garantis?|garanties?|fermes?(?: et non revisables?)?|bloques?|"
                   r"bloquees?)\s+(?:pendant|durant|sur|pour|jusqu)")
_YEARLY = re.compile(r"(?:taux|cotisations?|prix|tarifs?|primes?)[^.]{0,60}?revisables? "
                     r"(?:annuellement|chaque annee|a chaque echeance|une fois par an|"
                     r"au 1er janvier de chaque annee)")


@dataclass(frozen=True, slots=True)
class RateGuarantee:
    """How long rates or premiums stay firm, for some lots (empty: all)."""

    years: float | None  # None: firm for the whole term
    lots: frozenset[int]
    revisable_after: bool
    source: Source


def rate_guarantees(reader: Reader, term_years: float | None) -> tuple[Fact | None,
                                                                         list[RateGuarantee]]:
    """Firm-rate periods per lot (« taux garantis pendant les trois (3) premières années »)."""
    found: list[RateGuarantee] = []
    for clause in reader.clauses:
        folded = clause.folded
        match = _FIRM.search(folded)
        if match is None:
            continue
        years: float | None = None
        period = re.search(r"(?:pendant|durant|sur|pour|)\s*(?:les\s+)?" + COUNT +
                           r"\s+(?:premieres?\s+)?(ans?|annees?|mois)",
                           folded[match.start():match.end() + 80], re.IGNORECASE)
        whole = re.search(r"(?:toute la|la totalite de la) duree|pour la duree du (?:marche|"
                          r"contrat)|fermes et (?:definitifs|non revisables)", folded)
        if period:
            number = count_value(period)
            years = number / 12 if fold(period.group(4)).startswith("mois") else float(number)
        elif whole:
            years = term_years
        else:
            continue
        lots = frozenset(_lots_at_start(clause.text) or clause_lots(clause))
        following = _next_clause(reader, clause)
        if following is not None and lots and (
                _lots_at_start(following.text) or lots_named(following.text)) - lots:
            following = None  # « 5.2 – Lot n° 3 : … révisables » is another lot's rule
        revisable = re.search(r"(?<!non )revis|indexe|ajust", folded[match.end():] + " " + (
            following.folded if following is not None else "")) is not None
        end = (match.start() + (period.end() if period else 0)) if period else match.end()
        found.append(RateGuarantee(years, lots, revisable, clause.source(match.start(), end,
                                                                          60)))
    if not found:
        for clause, match in reader.matching(_YEARLY):
            found.append(RateGuarantee(1.0, frozenset(_lots_at_start(clause.text) or
                                                       clause_lots(clause)), True,
                                       clause.source(match.start(), match.end(), 60)))
    if not found:
        return None, []
    value: dict[str, object] = {}
    for item in found:
        key = ", ".join(f"lot_{lot}" for lot in sorted(item.lots)) or "tous_lots"
        value[key] = {"annees_garanties": item.years, "revisable_ensuite": item.revisable_after}
    return Fact("garantie_des_taux", value, tuple(item.source for item in found)), found


def _next_clause(reader: Reader, clause: Clause) -> Clause | None:
    index = reader.clauses.index(clause)
    if index + 1 < len(reader.clauses) and reader.clauses[index + 1].section is clause.section:
        following = reader.clauses[index + 1]
        return None if _lots_at_start(following.text) else following
    return None


def _lots_at_start(text: str) -> set[int]:
    match = re.match(r"\s*lots?\s*(?:n[°o]\s*)?[\d ,et]+\s*:", text, re.IGNORECASE)
    return lots_named(match.group(0)) if match else set()


_PIECES = (
    ("DC1", r"\bdc1\b"), ("DC2", r"\bdc2\b"), ("DUME", r"\bdume\b|document unique de marche"),
    ("Déclarations sur l'honneur", r"declarations? sur l'honneur"),
    ("Pouvoir du signataire", r"pouvoir de la personne|pouvoir du signataire|delegation de "
                              r"signature"),
    ("Extrait Kbis", r"kbis|k-bis"), ("Agrément ACPR", r"agrement.{0,60}acpr|acpr.{0,40}agrement"),
    ("Ratio de couverture du SCR", r"\bscr\b|capital de solvabilite"),
    ("Chiffre d'affaires", r"chiffre d'affaires"),
    ("Références", r"references?\b.{0,40}(?:contrats?|marches?|prestations?)"),
    ("Attestation d'assurance RC professionnelle", r"attestation d'assurance"),
    ("ORIAS / garantie financière / mandat", r"\borias\b"),
    ("Acte d'engagement", r"acte d'engagement"),
    ("BPU / DPGF / DQE", r"bordereau des prix|\bbpu\b|\bdpgf\b|\bdqe\b"),
    ("Mémoire technique", r"memoire technique"),
    ("Conditions générales et particulières", r"conditions generales"),
    ("DC4 (sous-traitance)", r"\bdc4\b"),
    ("Attestation de vigilance URSSAF", r"vigilance|urssaf"),
    ("Attestation de régularité fiscale", r"regularite fiscale"),
    ("Certificats exigés", r"copie du certificat|certificats? (?:iso|de qualification)"),
)


def documents_to_provide(reader: Reader) -> Fact | None:
    """Documents the bid must hold, grouped: candidature, offre, attributaire."""
    value: dict[str, list[str]] = {}
    sources: list[Source] = []
    for clause in reader.clauses:
        heading = fold(clause.section.heading)
        if not re.search(r"pieces|contenu des plis|dossier de candidature|documents a "
                         r"(?:produire|fournir)|presentation des (?:offres|candidatures)|"
                         r"a remettre|a produire|justificatifs|composition (?:du dossier|de "
                         r"l'offre|des plis)", heading):
            continue
        group = ("attributaire" if re.search(r"attributaire|titulaire pressenti", heading) else
                 "offre" if "offre" in heading else "candidature")
        for label, pattern in _PIECES:
            match = re.search(pattern, clause.folded)
            if match and label not in value.get(group, []):
                value.setdefault(group, []).append(label)
                sources.append(clause.source(match.start(), match.end(), 70))
    if not value:
        return None
    delay = next((clause for clause, _ in reader.matching(re.compile(
        r"delai de (?:huit|\d+|dix|sept|cinq) jours.{0,60}(?:demande|compter)"))), None)
    if delay is not None and "attributaire" in value:
        days = re.search(COUNT + r"\s+jours", delay.text, re.IGNORECASE)
        if days:
            value["attributaire"].append(f"sous {count_value(days)} jours")
    return Fact("documents_a_fournir", value, tuple(dict.fromkeys(sources)))


def grouping(reader: Reader) -> Fact | None:
    """Grouping form imposed or not, co-insurance, joint liability of the lead member."""
    value: list[str] = []
    sources: list[Source] = []
    checks = ((r"aucune forme de groupement n'est imposee", "aucune forme imposée"),
              (r"groupement solidaire (?:est )?(?:exige|impose)|forme (?:d'un )?groupement "
               r"solidaire", "groupement solidaire imposé"),
              (r"mandataire (?:sera |est )?solidaire", "mandataire solidaire"),
              (r"co-?assurance est (?:admise|autorisee)", "co-assurance admise"),
              (r"co-?assurance (?:n'est pas|est interdite)", "co-assurance interdite"),
              (r"se presenter seuls ou en groupement", "seul ou en groupement"))
    for pattern, label in checks:
        for clause, match in reader.matching(re.compile(pattern)):
            if label not in value:
                value.append(label)
                sources.append(clause.source(match.start(), match.end(), 60))
            break
    if not value:
        return None
    return Fact("groupement", "; ".join(value), tuple(sources))


def language(reader: Reader) -> Fact | None:
    """The language of bids."""
    for clause, match in reader.matching(re.compile(r"langue francaise|en francais")):
        return Fact("langue", "français", (clause.source(match.start(), match.end(), 60),))
    return None


def clause_days(clause: Clause) -> int | None:
    """A number of days in a clause."""
    match = re.search(COUNT + r"\s+jours", clause.text, re.IGNORECASE)
    return count_value(match) if match else None
