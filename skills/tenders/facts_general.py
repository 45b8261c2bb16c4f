"""Key facts about the consultation itself: buyer, object, procedure, lots, CPV, dates, forms."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.i18n import Text
from bot.messages import Locale
from bot.text import fold
from skills.tenders.clauses import Clause, Reader, clause_lots, lots_named
from skills.tenders.french import FoundDate, count_value, find_dates
from skills.tenders.model import Fact, Lot, Section, Source
from skills.tenders.regions import (
    department_named,
    department_of_postcode,
    departments,
    departments_named,
)

_SIRET = re.compile(r"siret\s*:?\s*(\d{3}\s?\d{3}\s?\d{3}\s?\d{5})")
_REFERENCE = re.compile(r"(?:consultation|marche|reference|ref\.)\s*(?:n[°o]\s*)?:?\s*"
                        r"(?=[a-z0-9\-/_.]*\d)([a-z0-9][a-z0-9\-/_.]{3,30}[a-z0-9])\b")
_GUILLEMETS = re.compile(r"«\s*([^»]{8,200}?)\s*»")
_PROCEDURES = (("appel d'offres ouvert", "Appel d'offres ouvert"),
               ("appel d'offres restreint", "Appel d'offres restreint"),
               ("procedure adaptee", "Procédure adaptée"),
               ("procedure avec negociation", "Procédure avec négociation"),
               ("procedure concurrentielle avec negociation",
                "Procédure concurrentielle avec négociation"),
               ("dialogue competitif", "Dialogue compétitif"),
               ("sans publicite ni mise en concurrence", "Marché sans publicité ni mise en "
                                                         "concurrence"))
_CPV = re.compile(r"\b(\d{8}-\d)\b")
_LOT_TITLE = re.compile(r"\blot\s*(?:n[°o]\.?\s*)?(\d{1,2})\s*[:–—-]\s*(.+?)"
                        r"(?=\s*(?:·|;|\||\blot\s*(?:n[°o]\.?\s*)?\d|$))", re.IGNORECASE)
_LOT_LINE = re.compile(r"^(?:[Ll]ot|LOT)\s*(?:[Nn][°o]\s*)?(\d{1,2})\s+([A-ZÉÈÀÂÊÎÔ][^|]+?)"
                       r"(?:\s+\d{8}-\d.*)?$")
_LOT_COUNT = re.compile(r"(?:decompose|divise|alloti|reparti)\w*\s+en\s+" +
                        r"(\d+|deux|trois|quatre|cinq|six|sept|huit|neuf|dix)\s+lots")
_SINGLE = re.compile(r"(?:n'est pas alloti|lot unique|pas d'allotissement|non alloti)")
_QUESTION_WORDS = re.compile(r"questions?|renseignements? complementaires?|demandes? de "
                             r"precision|precisions")
_OFFER_WORDS = re.compile(r"(?:limite|remise|reception|depot)\w*\s+(?:des\s+|de\s+)?"
                          r"(?:offres|plis|candidatures)|plis doivent|offres doivent|"
                          r"date et heure limites?|date limite|(?:offres|plis) (?:sont|seront) "
                          r"(?:recu|remis|depose|transmis)\w*|remettre (?:leur|les|son) "
                          r"(?:offres?|plis?)|(?:offres|plis) (?:sont|seront) a (?:deposer|"
                          r"remettre|transmettre|adresser)|deposer (?:leur|les|son) "
                          r"(?:offres?|plis?)")
_POSTCODE = re.compile(r"\b(\d{5})\s+([A-ZÉÈ][\w'’-]+(?:[ -][\w'’-]+){0,4})")


def _first(clauses: Iterable[tuple[Clause, re.Match[str]]]) -> tuple[Clause, re.Match[str]] | None:
    return next(iter(clauses), None)


_BUYER_IS = re.compile(
    r"(?:pouvoir adjudicateur|acheteur|entit[ée] adjudicatrice|personne publique)\s+"
    r"(?:est|:)\s+(?:le |la |l'|les )?([A-ZÉÈÀ][^,;(]{3,120}?)(?:\s*[,;(]|\s+(?:représenté|"
    r"sis|situé|dont)\b|$)", re.IGNORECASE)
_NUMBERING = re.compile(r"^\d{1,2}(?:\.\d{1,2})*\s*[–—-]?\s*")


def buyer(reader: Reader) -> Fact | None:
    """Name and address, SIRET, group of buyers."""
    value: list[str] = []
    sources: list[Source] = []
    headed = [clause for clause in reader.clauses if re.search(
        r"acheteur|pouvoir adjudicateur|entite adjudicatrice|identification",
        fold(clause.section.heading)) and clause.text != clause.section.heading]
    if headed:
        text = headed[0].text.split(". SIRET")[0].split(" SIRET")[0].rstrip(". ")
        named = _BUYER_IS.search(text)  # « Le pouvoir adjudicateur est le Département de … »
        value.append(named.group(1)[:1].upper() + named.group(1)[1:] if named is not None
                     else _NUMBERING.sub("", text))
    else:
        cover = next((section for section in reader.dossier.sections
                      if section.article == "page de garde"), None)
        if cover is not None:
            lines: list[str] = []
            for line in cover.lines:
                if re.search(r"reglement|cahier|acte d'engagement|bordereau|consultation|"
                             r"date|objet|procedure|\d{4}", fold(line)) or len(lines) == 3:
                    break
                lines.append(line)
            if lines:
                value.append(" – ".join(lines))
                sources.append(cover.source(lines[0], 0))
    siret = _first(reader.matching(_SIRET))
    if siret is not None:
        clause, match = siret
        start = clause.folded.find("siret")
        sources.append(clause.quote(clause.text[start:match.end()]))
        value.append("SIRET " + " ".join(match.group(1).split()))
    group = (_first(reader.matching(re.compile(r"coordonnateur du groupement")))
             or _first(reader.matching(re.compile(r"groupement de commandes"))))
    if group is not None:
        clause, match = group
        sources.append(clause.source(match.start(), match.end(), 60))
        value.append("coordonnateur d'un groupement de commandes"
                     if "coordonnateur" in clause.folded else "groupement de commandes")
    if not value:
        return None
    if not sources and headed:
        sources.append(headed[0].source())
    return Fact("acheteur", "; ".join(value), tuple(sources))


def reference(reader: Reader) -> Fact | None:
    """The consultation's reference number (« Consultation n° … » first)."""
    found = sorted(((clause, match) for clause, match in reader.matching(_REFERENCE)
                    if not _CPV.fullmatch(match.group(1))),
                   key=lambda item: (item[0].section.kind != "RC",
                                     not re.match(r"consultation\s*n", item[1].group(0))))
    for clause, match in found:
        token = clause.text[match.start(1):match.end(1)]
        start = match.start()
        return Fact("reference", token, (clause.quote(clause.text[start:match.end(1)]),))
    return None


def subject(reader: Reader) -> Fact | None:
    """The object of the consultation: the quoted title in the « objet » article."""
    for clause in reader.clauses:
        if "objet" in fold(clause.section.heading) or "a pour objet" in clause.folded:
            match = _GUILLEMETS.search(clause.text)
            if match:
                return Fact("objet", match.group(1).strip(), (clause.quote(match.group(0)),))
    for clause, match in reader.matching(re.compile(r"a pour objet\s+(.{10,200}?)(?:\.|$)")):
        return Fact("objet", clause.text[match.start(1):match.end(1)],
                    (clause.source(match.start(), match.end()),))
    return _cover_subject(reader)


_COVER_TITLE = re.compile(r"reglement de (?:la )?consultation|dossier de consultation|"
                          r"cahier des charges")
_COVER_STOP = re.compile(r"consultation\s*(?:n[°o]|ref)|reference|date|procedure|marche a "
                         r"procedure|\d{2}/\d{2}/\d{4}|siret|article")


def _cover_subject(reader: Reader) -> Fact | None:
    """The object as the RC's cover page says it, on the line under its title (« RÈGLEMENT
    DE LA CONSULTATION » then « Marché public de services d'assurances : flotte … »)."""
    covers = [section for section in reader.dossier.sections
              if section.article == "page de garde" and section.kind in ("RC", "")]
    for cover in covers:
        lines = list(cover.lines)
        for index, line in enumerate(lines):
            if not _COVER_TITLE.search(fold(line)) or index + 1 >= len(lines):
                continue
            said = [lines[index + 1]]
            for following in lines[index + 2:index + 4]:  # a title the page wrapped
                if not following[:1].islower():
                    break
                said.append(following)
            text = " ".join(" ".join(said).split())
            if text.count("(") > text.count(")"):  # a parenthesis the next line closes
                text = text[:text.rfind("(")].rstrip(" –-:")
            if 10 <= len(text) <= 240 and not _COVER_STOP.search(fold(text)):
                return Fact("objet", text, (cover.source(lines[index + 1], index + 1),))
    return None


def procedure(reader: Reader) -> Fact | None:
    """The procedure (open call for tenders, adapted procedure…), urgency, negotiation."""
    best: tuple[int, Clause, int, int, str] | None = None
    for clause in reader.clauses:
        for key, label in _PROCEDURES:
            position = clause.folded.find(key)
            if position < 0:
                continue
            rank = (0 if "procedure" in fold(clause.section.heading) else
                    1 if clause.section.article not in ("page de garde",) else 2)
            if best is None or rank < best[0]:
                best = (rank, clause, position, position + len(key), label)
    if best is None:
        return None
    _, clause, start, end, label = best
    parts = [label]
    sources = [clause.source(start, end, 50)]
    articles = _first(reader.matching(re.compile(r"\b[lr]\.\s*\d{4}-\d")))
    if articles is not None and any(key in articles[0].folded for key, _ in _PROCEDURES):
        found = re.findall(r"\b[LR]\.\s*\d{4}-\d+(?:\s*\d°)?", articles[0].text)
        if found:
            parts.append("(" + ", ".join(dict.fromkeys(found)) + ")")
    urgent = _first(reader.matching(re.compile(r"urgence")))
    if urgent is not None and "procedure" in urgent[0].folded:
        parts.append("urgence")
        sources.append(urgent[0].source(urgent[1].start(), urgent[1].end()))
    negotiation = _first(reader.matching(re.compile(r"aucune negociation|sans negociation|"
                                                    r"pas de negociation")))
    if negotiation is not None:
        parts.append("sans négociation")
    return Fact("procedure", " ".join(parts), tuple(dict.fromkeys(sources)))


def cpv_codes(reader: Reader, lots: tuple[Lot, ...]) -> Fact | None:
    """CPV codes: the main one and those of each lot."""
    value: dict[str, object] = {}
    sources: list[Source] = []
    per_lot: dict[int, list[str]] = {}
    for section in reader.dossier.sections:
        current: int | None = None
        for index, line in enumerate(section.lines):
            row = _TABLE_ROW.match(line) if section.cells == () else None
            lot = (int(row.group(1)) if row else _lot_row(line)) if section.cells == () else None
            named = lots_named(line)
            if lot is not None:
                current = lot
            elif named and len(named) == 1 and "lot" in fold(line)[:12]:
                current = next(iter(named))
            at = 0
            for found in _CPV.finditer(line):
                code = found.group(1)
                # « principal : A ; lot 1 : B ; lot 2 : C »: what stands just before each code
                before = line[at:found.start()]
                at = found.end()
                own = lots_named(before)
                if len(own) == 1 and "principal" not in fold(before):
                    current = next(iter(own))
                    if code not in per_lot.get(current, []):
                        per_lot.setdefault(current, []).append(code)
                        sources.append(section.source(_line_quote(line, code), index))
                    continue
                folded = (fold(before) if before.strip()
                          else fold(" ".join(section.lines[max(0, index - 1):index + 1])))
                if "principal" in folded and "principal" not in value:
                    value["principal"] = code
                    sources.append(section.source(_line_quote(line, code), index))
                elif current is not None and code not in per_lot.get(current, []):
                    per_lot.setdefault(current, []).append(code)
                    if len(sources) < 6:
                        sources.append(section.source(_line_quote(line, code), index))
                elif current is None and "principal" not in value and not lots:
                    value["principal"] = code
                    sources.append(section.source(_line_quote(line, code), index))
    for lot, codes in sorted(per_lot.items()):
        value[f"lot_{lot}"] = codes
    if not value:
        return None
    return Fact("cpv", value, tuple(sources))


def _line_quote(line: str, code: str) -> str:
    start = line.find(code)
    end = line.find(")", start)
    return line[start:end + 1] if 0 <= end < start + 80 else line[start:].split(";")[0]


_TABLE_ROW = re.compile(r"^(?:lot\s*(?:n[°o]\s*)?)?(\d{1,2}) \| ([^|]+?)(?: \| .*)?$", re.IGNORECASE)


def _lot_row(line: str) -> int | None:
    match = re.fullmatch(r"(?:lot\s*(?:n[°o]\s*)?)?(\d{1,2})", line.strip(), re.IGNORECASE)
    return int(match.group(1)) if match else None


def lots(reader: Reader) -> tuple[tuple[Lot, ...], Fact | None]:
    """The lots and their titles (a table of the allotment first, else « Lot n° N : … »)."""
    titles: dict[int, tuple[int, str, Source]] = {}
    for section in reader.dossier.sections:
        if section.cells:
            continue
        folded_section = fold(section.text)
        table = "lot" in folded_section and ("intitule" in folded_section or
                                             _CPV.search(section.text) is not None)
        for index, line in enumerate(section.lines):
            row = _TABLE_ROW.match(line) if table else None
            if row is not None:
                title = row.group(2).strip()
                if 3 < len(title) < 200 and not _CPV.search(title):
                    _keep(titles, int(row.group(1)), 0, title, section.source(line, index))
                continue
            number = _lot_row(line) if table and not line.lower().startswith("lot") else None
            if number is not None and index + 1 < len(section.lines):
                parts = []
                for following in section.lines[index + 1:index + 4]:
                    if _CPV.search(following) or _lot_row(following) is not None:
                        break
                    parts.append(following)
                title = " ".join(" ".join(parts).split())
                if 3 < len(title) < 200:
                    _keep(titles, number, 0, title, section.source(title, index + 1))
        for index, line in enumerate(section.lines):
            row = _LOT_LINE.match(line)
            if row is not None and not _LOT_TITLE.match(line):
                title = row.group(2).strip(" .;:")
                if 3 < len(title) < 160:
                    _keep(titles, int(row.group(1)), 1, title, section.source(line, index))
        for clause in clauses_in(reader, section):
            for match in _LOT_TITLE.finditer(clause.text):
                title = match.group(2).strip(" .,:")
                if 3 < len(title) < 160 and not re.match(r"\d", title):
                    rank = 1 if section.kind in ("RC", "AAPC") else 2
                    _keep(titles, int(match.group(1)), rank, title, clause.quote(match.group(0)))
    sources: list[Source] = []
    count = _first(reader.matching(_LOT_COUNT))
    if count is not None:
        sources.append(count[0].source(count[1].start(), count[1].end(), 40))
    found = tuple(Lot(number, _clean_title(title), (source,))
                  for number, (_, title, source) in sorted(titles.items()))
    if not found:
        single = _first(reader.matching(_SINGLE))
        subject_fact = subject(reader)
        title = str(subject_fact.value) if subject_fact else reader.dossier.name
        lot_sources = ((single[0].source(),) if single else
                       subject_fact.sources if subject_fact else ())
        return (Lot(1, title, lot_sources),), Fact(
            "lots", [{"lot": 1, "intitule": title, "lot_unique": True}], lot_sources)
    value: list[dict[str, object]] = []
    for lot in found:
        item: dict[str, object] = {"lot": lot.number, "intitule": lot.title}
        adhesion = _adhesion(reader, lot.number)
        if adhesion is not None:
            item["adhesion"], source = adhesion
            if len(sources) < 4 and source not in sources:
                sources.append(source)
        value.append(item)
    sources.extend(lot.sources[0] for lot in found if lot.sources)
    return found, Fact("lots", value, tuple(dict.fromkeys(sources)))


def clauses_in(reader: Reader, section: Section) -> list[Clause]:
    """The reader's clauses of one section."""
    return [clause for clause in reader.clauses if clause.section is section]


def _keep(titles: dict[int, tuple[int, str, Source]], number: int, rank: int, title: str,
          source: Source) -> None:
    if not 0 < number < 100:
        return
    known = titles.get(number)
    if known is None or rank < known[0] or (rank == known[0] and len(title) > len(known[1])
                                            and rank > 0):
        titles[number] = (rank, title, source)


# what follows a lot's title on its line: its amount, its CPV code (« … – montant annuel
# estimé : 310 000 € TTC », « … Code CPV principal : 66510000-8 »)
_AFTER_TITLE = re.compile(r"\s*(?:[–—-]\s*(?:montant|estimation|budget|valeur estim)|"
                          r"\bcodes? cpv\b|;\s*cpv\b).*$", re.IGNORECASE)


def _clean_title(title: str) -> str:
    """« Prévoyance – maintien de salaire (incapacité, …) » → without the parenthesis, the
    amount or the CPV code after it."""
    cleaned = _AFTER_TITLE.sub("", title)
    cleaned = re.sub(r"\s*\([^)]*\)\s*$", "", cleaned).strip(" .;:–-")
    return cleaned or title


def _adhesion(reader: Reader, lot: int) -> tuple[str, Source] | None:
    for clause, match in reader.matching(re.compile(r"adhesion (obligatoire|facultative)")):
        # the lot named last before it (« Lot n° 3 – Santé (à adhésion facultative) » after
        # lots 1 and 2 in the same list)
        before = list(re.finditer(r"\blots?\s*(?:n[°o]s?\.?\s*)?\d", clause.text[:match.start()],
                                  re.IGNORECASE))
        named = (lots_named(clause.text[before[-1].start():match.start() + 1]) if before
                 else clause_lots(clause))
        if named and lot in named:
            return match.group(1), clause.source(match.start(), match.end(), 90)
    return None


def _dated(reader: Reader, context: re.Pattern[str], exclude: re.Pattern[str] | None
           ) -> list[tuple[FoundDate, Clause]]:
    found: list[tuple[FoundDate, Clause]] = []
    for clause in reader.clauses:
        for item in find_dates(clause.text):
            before = fold(clause.text[max(0, item.start - 200):item.start])
            heading = fold(clause.section.heading)
            if not context.search(before) and not (
                    context.search(heading) and clause.text != clause.section.heading
                    and not _QUESTION_WORDS.search(before)):
                continue
            near = before[-60:]
            if exclude is not None and exclude.search(near):
                continue
            found.append((item, clause))
    return found


def deadline_candidates(reader: Reader) -> list[tuple[FoundDate, Clause]]:
    """Every date given as the deadline for offers (several: a contradiction)."""
    found = _dated(reader, _OFFER_WORDS, _QUESTION_WORDS)
    kept = []
    for item, clause in found:
        before = fold(clause.text[max(0, item.start - 200):item.start])
        offer = max((match.end() for match in _OFFER_WORDS.finditer(before)), default=-1)
        if offer < 0 and _OFFER_WORDS.search(fold(clause.section.heading)):
            offer = 0
        other = max((match.end() for match in re.finditer(
            r"envoi|publication|notification|ouverture des plis|seance", before)), default=-1)
        if offer > other:
            kept.append((item, clause))
    return kept


def date_fact(fact_id: str, found: list[tuple[FoundDate, Clause]]) -> Fact | None:
    """The earliest of the dates found, with every source that gives it."""
    if not found:
        return None
    with_time = [item for item in found if item[0].has_time] or found
    earliest = min(with_time, key=lambda item: (item[0].day, item[0].iso()))[0]
    sources = [clause.source(item.start, item.end, 70) for item, clause in with_time
               if item.iso() == earliest.iso()]
    sources.sort(key=lambda source: source.article == "page de garde")
    note = ""
    if "heure de paris" in " ".join(fold(clause.text) for _, clause in with_time):
        note = "heure de Paris"
    return Fact(fact_id, earliest.iso(), tuple(dict.fromkeys(sources)), note)


def questions_deadline(reader: Reader) -> Fact | None:
    """The deadline for questions to the buyer."""
    return date_fact("date_limite_questions", _dated(reader, _QUESTION_WORDS, None))


def notice_date(reader: Reader) -> Fact | None:
    """The date the contract notice was sent."""
    found = _dated(reader, re.compile(r"envoi de l'avis|avis a la publication|date d'envoi"),
                   None)
    if not found:
        return None
    item, clause = found[0]
    return Fact("date_envoi_avis", item.day.isoformat(), (clause.quote(item.text),))


def offer_validity(reader: Reader) -> tuple[Fact | None, list[tuple[int, Source]]]:
    """How long offers stay valid (every statement, to compare documents)."""
    pattern = re.compile(r"(?:validite des offres|ne lie .{0,80}? que si|acceptation lui est "
                         r"notifiee)")
    statements: list[tuple[int, Source]] = []
    from skills.tenders.french import COUNT

    days = re.compile(COUNT + r"\s+jours", re.IGNORECASE)
    for clause, _ in reader.matching(pattern):
        match = days.search(clause.text)
        if match:
            statements.append((count_value(match), clause.source(match.start(), match.end(),
                                                                  90)))
    if not statements:
        return None, []
    first = statements[0][0]
    return Fact("delai_validite_offres", f"{first} jours",
                tuple(source for value, source in statements if value == first)), statements


def _says(heading: str) -> bool:
    """A numbered paragraph that reads as a heading but says something (« 4.2 – Variantes :
    les variantes sont autorisées pour le lot n° 1. »), not a title (« 4.2 – Variantes »)."""
    return heading.rstrip().endswith(".") and len(heading.split()) >= 8


def simple(reader: Reader, fact_id: str, pattern: re.Pattern[str], limit: int = 3,
           value: str | None = None) -> Fact | None:
    """A fact stated in clauses matching ``pattern``: the clauses are the value."""
    found = [(clause, match) for clause, match in reader.matching(pattern)
             if clause.text != clause.section.heading or _says(clause.text)][:limit]
    if not found:
        return None
    sources = tuple(clause.source(match.start(), match.end(), 120) for clause, match in found)
    return Fact(fact_id, value or " ".join(source.quote for source in sources[:2]), sources)


def variants(reader: Reader) -> Fact | None:
    """Variants allowed or not, options (PSE) to price."""
    fact = simple(reader, "variantes", re.compile(r"variantes?|prestations? supplementaires? "
                                                  r"eventuelles?\s.{0,40}(?:obligatoire|chiffr)"))
    if fact is None:
        return None
    folded = fold(" ".join(source.quote for source in fact.sources))
    refusing = re.compile(r"variantes?.{0,60}(?:ne sont pas|non) (?:autorisee|admise)|"
                          r"interdite|aucune variante")
    quotes = [fold(source.quote) for source in fact.sources]
    refused = any(refusing.search(quote) for quote in quotes)
    granted = any(re.search(r"variantes? .{0,60}(?:sont )?(?:autorisee|admise)", quote)
                  and not refusing.search(quote) for quote in quotes)  # each document apart
    allowed = ("autorisées selon une pièce, non autorisées selon une autre : à examiner"
               if refused and granted else "non autorisées" if refused
               else "autorisées" if granted else "à examiner")
    extra = "; PSE à chiffrer obligatoirement" if "obligatoire" in folded else ""
    return Fact("variantes", f"Variantes {allowed}{extra}", fact.sources)


def site_visit(reader: Reader) -> Fact | None:
    """Mandatory site visit or not."""
    fact = simple(reader, "visite", re.compile(r"\bvisites?\b"), limit=2)
    if fact is None:
        return None
    quote = fact.sources[0].quote
    folded = fold(quote)
    value = ("Pas de visite" if re.search(r"aucune visite|pas de visite|sans visite", folded)
             else "Visite obligatoire" if "obligatoire" in folded else "Visite facultative"
             if "facultative" in folded else "à examiner")
    if value.startswith("Visite"):  # « … obligatoire pour les candidats au lot n° 1 »
        lots = lots_named(quote)
        if lots:
            value += " (lot" + ("s " if len(lots) > 1 else " ") + ", ".join(
                str(lot) for lot in sorted(lots)) + ")"
        dates = find_dates(" ".join(source.quote for source in fact.sources))
        if dates:
            value += f", jusqu'au {dates[0].day.strftime('%d/%m/%Y')}"
    return Fact("visite", value, fact.sources)


def location(reader: Reader, buyer_fact: Fact | None) -> Fact | None:
    """The buyer's seat: postcode, département, region; the sites when stated."""
    table = departments()
    sources: list[Source] = []
    codes: list[str] = []
    for clause in reader.clauses[:400]:
        named = department_named(clause.text)
        postcode = _POSTCODE.search(clause.text)
        if postcode and (named or "cedex" in clause.folded or clause.section.article in
                         ("page de garde", "Article 1.1")):
            code = named or department_of_postcode(postcode.group(1))
            if code in table:
                codes.append(code)
                end = clause.text.find(")", postcode.end())
                stop = end + 1 if 0 <= end < postcode.end() + 40 else postcode.end()
                sources.append(clause.quote(clause.text[postcode.start():stop]))
                break
    for clause, match in reader.matching(re.compile(r"(?:situes?|implantes?|sites?).{0,60}"
                                                    r"departement")):
        listed = [code for code in departments_named(clause.text) if code in table]
        if listed:
            codes.extend(listed)
            sources.append(clause.source(match.start(), match.end(), 150))
            break
    if not codes:
        return None
    names = [f"{table[code][0]} ({code}) – {table[code][1]}" for code in dict.fromkeys(codes)]
    return Fact("localisation", "; ".join(names), tuple(sources))


def regions_concerned(fact: Fact | None) -> list[str]:
    """The regions named in a :func:`location` fact."""
    if fact is None:
        return []
    return list(dict.fromkeys(part.rsplit(" – ", 1)[-1] for part in str(fact.value).split("; ")))


def headcount(reader: Reader) -> Fact | None:
    """The population covered (a « Total » row of a headcount table)."""
    for clause in reader.clauses:
        if clause.section.cells:
            continue
        match = re.search(r"\bTotal\s*\|?\s*(\d{1,3}(?:[ \u00a0]\d{3})*|\d+)\b", clause.text)
        if match and re.search(r"agents|effectif|salaries|personnes", fold(
                clause.section.text)):
            return Fact("population", match.group(1) + " personnes",
                        (clause.quote(match.group(1)),))
    return None


def ccag(reader: Reader) -> Fact | None:
    """The general administrative conditions that apply."""
    match = _first(reader.matching(re.compile(r"ccag[- ]?(fcs|pi|tic|travaux|mi|moe)")))
    if match is None:
        return None
    clause, found = match
    arrete = re.search(r"arrêté du \d{1,2}(?:er)? \w+ \d{4}", clause.text)
    value = "CCAG-" + found.group(1).upper() + (f" ({arrete.group(0)})" if arrete else "")
    source = clause.quote(arrete.group(0)) if arrete else clause.source(found.start(),
                                                                        found.end())
    return Fact("ccag", value, (source,))


def appeals(reader: Reader) -> Fact | None:
    """The court for appeals."""
    match = _first(reader.matching(re.compile(r"tribunal administratif de ([a-z' -]+)")))
    if match is None:
        return None
    clause, found = match
    text = clause.text[found.start():found.end()].split(",")[0].strip()
    return Fact("recours", text, (clause.quote(text),))


def lot_count_words(text: str) -> int | None:
    """« deux lots » → 2."""
    match = _LOT_COUNT.search(fold(text))
    if not match:
        return None
    word = match.group(1)
    return int(word) if word.isdigit() else {"deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
                                             "six": 6, "sept": 7, "huit": 8, "neuf": 9,
                                             "dix": 10}[word]


_ATTENTION = (
    (r"obligatoirement chiffrer|chiffrage (?:est )?obligatoire|doivent chiffrer",
     Text("Prestation supplémentaire (PSE) à chiffrer obligatoirement",
          "Additional service (PSE) that must be priced")),
    (r"ne peut refuser la reconduction",
     Text("Le titulaire ne peut pas refuser la reconduction",
          "The holder cannot refuse the renewal")),
    (r"reserves?.{0,80}irreguliere",
     Text("Toute réserve ou modification rend l'offre irrégulière",
          "Any reservation or change makes the offer irregular")),
    (r"sans (?:questionnaire|selection) medical",
     Text("Adhésion sans sélection médicale", "Membership without medical selection")),
    (r"reprise des (?:situations|arrets|sinistres|prestations) en cours|en arret de travail a "
     r"la date", Text("Reprise des situations en cours (arrêts, rechutes)",
                      "Ongoing cases taken over (sick leave, relapses)")),
    (r"ne peut etre exercee avant",
     Text("Faculté de résiliation du titulaire limitée dans le temps",
          "The holder's right to terminate is limited in time")),
    (r"visite (?:des sites |sur site )?(?:est )?obligatoire",
     Text("Visite obligatoire", "Site visit mandatory")),
    (r"sans mise en demeure",
     Text("Pénalités applicables sans mise en demeure",
          "Penalties apply without formal notice")),
    (r"signature electronique .{0,40}exigee (?:lors|des|au depot)",
     Text("Signature électronique exigée au dépôt",
          "Electronic signature required when submitting")),
)


def attention_in(point: str, locale: Locale) -> str:
    """A point to watch (stored in French) as its reader reads it."""
    for _pattern, label in _ATTENTION:
        if point == label.fr:
            return label(locale)
    return point


def attention_points(reader: Reader) -> Fact | None:
    """What a bid manager would point out although no criterion covers it."""
    value: list[str] = []
    sources: list[Source] = []
    for pattern, label in _ATTENTION:
        for clause, match in reader.matching(re.compile(pattern)):
            negated = re.search(r"\bn'est pas\b|\bne sont pas\b|\bpas\b", match.group(0))
            if clause.text != clause.section.heading and not negated:
                value.append(label.fr)
                sources.append(clause.source(match.start(), match.end(), 100))
                break
    if not value:
        return None
    return Fact("points_attention", value, tuple(sources))
