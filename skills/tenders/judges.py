"""One judge per kind of criterion, recognised by its parameters; each answers from facts only.

Every verdict carries the quoted evidence; without evidence the verdict is « unknown ».
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.i18n import Text, plural
from bot.messages import Locale
from bot.text import fold
from skills.tenders.clauses import lots_named
from skills.tenders.criteria import Criterion
from skills.tenders.facts_general import regions_concerned
from skills.tenders.model import Extraction, Fact, Lot, Source

MET, NOT_MET, UNKNOWN = "met", "not met", "unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A criterion judged for one lot."""

    criterion: str
    label: str
    verdict: str
    blocking: bool
    evidence: str
    sources: tuple[Source, ...]
    judged_by: str = "règles"  # règles | modèle | à examiner
    evidence_en: str = ""  # the evidence for an English reader (the quotes stay French)

    def evidence_in(self, locale: Locale) -> str:
        """The evidence in the reader's language."""
        return self.evidence_en if locale == "en" and self.evidence_en else self.evidence

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the issue (plus label, evidence and how it was judged)."""
        return {"criterion": self.criterion, "label": self.label, "verdict": self.verdict,
                "blocking": self.blocking, "evidence": self.evidence,
                "judged_by": self.judged_by,
                "sources": [source.as_dict() for source in self.sources]}


Judge = Callable[[Criterion, Lot, Extraction, date], Verdict]


def verdict(criterion: Criterion, value: str, evidence: Text, sources: tuple[Source, ...],
            judged_by: str = "règles") -> Verdict:
    """A verdict; « met » or « not met » without a source becomes « unknown »."""
    french, english = evidence.fr, evidence.en
    if value != UNKNOWN and not sources:
        value = UNKNOWN
        french, english = french + " (aucune citation : inconnu)", english + " (no quote: unknown)"
    return Verdict(criterion.id, criterion.label, value, criterion.blocking, french, sources,
                   judged_by, english)


_CPV_LINES = {"665122": "sante", "665111": "prevoyance", "665110": "prevoyance",
              "665120": "prevoyance", "665121": "prevoyance", "665141": "iard_automobile",
              "665152": "iard_dommages_aux_biens", "665150": "iard_dommages_aux_biens",
              "665151": "iard_dommages_aux_biens", "665160": "iard_responsabilite_civile",
              "665164": "iard_responsabilite_civile", "665165": "iard_responsabilite_civile",
              "665131": "autres_iard", "665132": "autres_iard", "665140": "autres_iard"}
_EXTRA_TERMS = {"prevoyance": ("prevoyance", "maintien de salaire", "incapacite", "invalidite",
                               "deces", "dependance"),
                "sante": ("sante", "frais de soins", "frais medicaux", "complementaire sante",
                          "mutuelle"),
                "iard_automobile": ("automobile", "vehicules", "flotte"),
                "iard_dommages_aux_biens": ("dommages aux biens", "multirisque", "incendie",
                                            "bris de machine", "tous risques", "patrimoine"),
                "iard_responsabilite_civile": ("responsabilite civile", "risques annexes"),
                "autres_iard": ("protection juridique", "dommages-ouvrage", "dommages ouvrage",
                                "cyber", "transport", "construction", "protection "
                                                                       "fonctionnelle")}


_ADJECTIVE = re.compile(r"(?:elle|elles|ale|ales|aire|aires|ive|ives|if|ifs|el|els)$")


def _terms(key: str, description: object) -> list[str]:
    parts = re.split(r"[,;()/]| et | ou ", fold(str(description)))
    terms = [" ".join(part.split()) for part in parts if len(part.strip()) > 3]
    terms = [term for term in terms if " " in term or not _ADJECTIVE.search(term)]
    return [term for term in terms if term] + list(_EXTRA_TERMS.get(key, ())) + [
        key.replace("_", " ")]


def _found(terms_by_key: dict[str, list[str]], text: str) -> list[tuple[str, str]]:
    folded = fold(text)
    hits = []
    for key, terms in terms_by_key.items():
        for term in terms:
            if re.search(r"(?<![a-z])" + re.escape(term) + r"(?![a-z])", folded):
                hits.append((key, term))
                break
    return hits


def lines_of_business(criterion: Criterion, lot: Lot, facts: Extraction, today: date) -> Verdict:
    """The lot's object against the accepted and excluded lines (title first, then CPV)."""
    accepted = {key: _terms(key, text) for key, text in
                dict(criterion.params.get("accepted") or {}).items()}
    excluded = {key: _terms(key, text) for key, text in
                dict(criterion.params.get("excluded") or {}).items()}
    source = lot.sources[0] if lot.sources else None
    bad = _found(excluded, lot.title)
    good = _found(accepted, lot.title)
    quoted = (source,) if source else ()
    if bad:
        return verdict(criterion, NOT_MET, Text(
            f"Lot {lot.number} « {lot.title} » : branche exclue ({bad[0][0]}, « {bad[0][1]} ») "
            "— hors périmètre.",
            f"Lot {lot.number} “{lot.title}”: excluded line ({bad[0][0]}, “{bad[0][1]}”) — out "
            "of scope."), quoted)
    if good:
        return verdict(criterion, MET, Text(
            f"Lot {lot.number} « {lot.title} » : branche acceptée ({good[0][0]}).",
            f"Lot {lot.number} “{lot.title}”: accepted line ({good[0][0]})."), quoted)
    cpv = facts.facts.get("cpv")
    codes = cpv.value.get(f"lot_{lot.number}", []) if cpv and isinstance(cpv.value, dict) else []
    lines = {_CPV_LINES.get(str(code)[:6]) for code in codes} - {None}
    cpv_sources = tuple(s for s in (cpv.sources if cpv else ()) if any(
        str(code) in s.quote for code in codes))
    named = ", ".join(sorted(str(x) for x in lines))
    if lines & set(excluded):
        return verdict(criterion, NOT_MET, Text(
            f"Lot {lot.number} : code CPV d'une branche exclue ({named}).",
            f"Lot {lot.number}: CPV code of an excluded line ({named})."), cpv_sources)
    if lines and lines <= set(accepted):
        return verdict(criterion, MET, Text(
            f"Lot {lot.number} : codes CPV d'une branche acceptée ({named}).",
            f"Lot {lot.number}: CPV codes of an accepted line ({named})."), cpv_sources)
    return verdict(criterion, UNKNOWN, Text(
        f"Lot {lot.number} « {lot.title} » : branche non reconnue, à examiner.",
        f"Lot {lot.number} “{lot.title}”: line not recognised, to examine."), quoted,
        "à examiner")


def min_annual_premium(criterion: Criterion, lot: Lot, facts: Extraction,
                       today: date) -> Verdict:
    """The lot's estimated annual amount against the minimum."""
    minimum = float(criterion.params.get("min_eur_ttc_per_lot_per_year") or
                    criterion.params.get("min_eur_per_lot_per_year") or 0)
    amount = facts.lot_amounts.get(lot.number)
    fact = facts.facts.get("montant_estime")
    if amount is None or fact is None:
        return verdict(criterion, UNKNOWN, Text("Aucun montant estimé trouvé pour ce lot.",
                                                "No estimated amount found for this lot."), ())
    shown = _euros(amount)
    sources = tuple(s for s in fact.sources if _amount_in(s.quote, amount)) or fact.sources[:1]
    value = MET if amount >= minimum else NOT_MET
    sign = "≥" if value == MET else "<"
    return verdict(criterion, value, Text(
        f"Montant annuel estimé {shown} {sign} {_euros(minimum)}.",
        f"Estimated annual amount {shown} {sign} {_euros(minimum)}."), sources)


def _amount_in(quote: str, amount: float) -> bool:
    digits = re.sub(r"\D", "", quote)
    return f"{amount:.0f}" in digits


def _euros(amount: float) -> str:
    return f"{amount:,.0f} €".replace(",", " ")


def min_days_to_deadline(criterion: Criterion, lot: Lot, facts: Extraction,
                         today: date) -> Verdict:
    """Calendar days from today to the (earliest) deadline for offers."""
    minimum = int(criterion.params.get("min_calendar_days") or 0)
    fact = facts.facts.get("date_limite_offres")
    if fact is None:
        return verdict(criterion, UNKNOWN, Text("Date limite de remise des offres introuvable.",
                                                "Deadline for offers not found."), ())
    deadline = datetime.fromisoformat(str(fact.value)).date()
    days = (deadline - today).days
    contradiction = any(c.topic.startswith("date limite") for c in facts.contradictions)
    note = Text(" (plusieurs dates dans le dossier : la plus proche est retenue)",
                " (several dates in the dossier: the earliest is kept)") if contradiction \
        else Text("", "")
    value = MET if days >= minimum else NOT_MET
    sign = "≥" if value == MET else "<"
    return verdict(criterion, value, Text(
        f"Date limite {deadline.isoformat()} : {days} jour{plural(days, 'fr')} calendaire"
        f"{plural(days, 'fr')} après le "
        f"{today.isoformat()} ({sign} {minimum}){note.fr}.",
        f"Deadline {deadline.isoformat()}: {days} calendar day{plural(days, 'en')} after "
        f"{today.isoformat()} "
        f"({sign} {minimum}){note.en}."), fact.sources[:1])


def regions_served(criterion: Criterion, lot: Lot, facts: Extraction, today: date) -> Verdict:
    """The buyer's seat (and sites) in a served region."""
    served = [str(region) for region in criterion.params.get("regions") or []]
    fact = facts.facts.get("localisation")
    regions = regions_concerned(fact)
    if fact is None or not regions:
        return verdict(criterion, UNKNOWN, Text("Localisation de l'acheteur introuvable.",
                                                "The buyer's location was not found."), ())
    from skills.tenders.regions import same_region

    outside = [region for region in regions if not any(same_region(region, ok)
                                                       for ok in served)]
    if outside:
        return verdict(criterion, NOT_MET, Text(f"Région non servie : {', '.join(outside)}.",
                                                f"Region not served: {', '.join(outside)}."),
                       fact.sources)
    return verdict(criterion, MET, Text(f"{fact.value} : région servie.",
                                        f"{fact.value}: region served."), fact.sources[:1])


_CERT_PATTERNS = {"iso_27001": r"27001", "iso_9001": r"9001", "iso_14001": r"14001",
                  "hds": r"hebergeur|hds", "pci_dss": r"pci", "qualiopi": r"qualiopi",
                  "label_numerique_responsable": r"numerique responsable"}


def certifications(criterion: Criterion, lot: Lot, facts: Extraction, today: date) -> Verdict:
    """Required certifications and ACPR branches for the lot against those held."""
    fact = facts.facts.get("certifications_agrements")
    if fact is None or not isinstance(fact.value, dict):
        return verdict(criterion, UNKNOWN, Text(
            "Aucune exigence de certification ou d'agrément relevée : à vérifier.",
            "No certification or authorisation requirement found: to check."), ())
    held = {str(key): bool(value) for key, value in
            dict(criterion.params.get("held") or {}).items()}
    branches_held = {int(b) for b in criterion.params.get("acpr_branches_held") or []}
    problems: list[Text] = []
    doubts: list[Text] = []
    fine: list[Text] = []
    sources: list[Source] = []
    for key, requirement in fact.value.items():
        if key == "acpr" and isinstance(requirement, dict):
            for scope, branches in requirement.items():
                if scope != "tous" and str(lot.number) not in re.findall(r"\d+", scope):
                    continue
                missing = sorted(set(int(b) for b in branches) - branches_held)
                source = _branch_source(fact.sources, None if scope == "tous" else lot.number)
                if source is not None:
                    sources.append(source)
                listed, absent = ", ".join(map(str, branches)), ", ".join(map(str, missing))
                (problems if missing else fine).append(Text(
                    f"branches ACPR {listed}" + (f" (non détenues : {absent})" if missing
                                                 else " détenues"),
                    f"ACPR branches {listed}" + (f" (not held: {absent})" if missing
                                                 else " held")))
        elif key in _CERT_PATTERNS or key in held:
            text = str(requirement)
            lots = [int(x) for x in re.findall(r"\d+", text.split("lots", 1)[1])] \
                if "lots" in text else []
            if lots and lot.number not in lots:
                continue
            pattern = _CERT_PATTERNS.get(key, re.escape(key))
            source = next((s for s in fact.sources if re.search(pattern, fold(s.quote))), None)
            if source is not None:
                sources.append(source)
            shown = _CERTIFICATE_NAMES.get(key, key.replace("_", " "))
            if held.get(key):
                fine.append(Text(f"{shown} exigée, détenue", f"{shown} required, held"))
            elif "délégué" in text or "sous-traitant" in text:
                doubts.append(Text(
                    f"{shown} exigée, non détenue, mais peut être apportée par un gestionnaire "
                    "délégué ou un sous-traitant",
                    f"{shown} required, not held, but a delegated manager or a subcontractor "
                    "may bring it"))
            else:
                problems.append(Text(f"{shown} exigée du candidat, non détenue",
                                     f"{shown} required of the bidder, not held"))
    if problems:
        return verdict(criterion, NOT_MET, _listed(problems + doubts), tuple(sources))
    if doubts:
        return verdict(criterion, UNKNOWN, _listed(doubts + fine), tuple(sources),
                       "à examiner")
    if not fine:
        return verdict(criterion, UNKNOWN, Text("Aucune exigence relevée pour ce lot.",
                                                "No requirement found for this lot."), ())
    return verdict(criterion, MET, _listed(fine), tuple(sources))


# the criteria file's keys as people name the certifications
_CERTIFICATE_NAMES = {"iso_27001": "ISO/IEC 27001", "iso_9001": "ISO 9001",
                      "iso_14001": "ISO 14001", "hds": "HDS (hébergeur de données de santé)",
                      "pci_dss": "PCI DSS", "label_numerique_responsable":
                      "Label Numérique Responsable", "qualiopi": "Qualiopi"}


def _french(number: float) -> str:
    """« 0,0857 », « 10 »: a figure as French writes it (4 significant digits at most)."""
    return f"{number:.4g}".replace(".", ",")


def _branch_source(sources: tuple[Source, ...], lot: int | None) -> Source | None:
    """The quote asking for ACPR branches for ``lot`` (« 13 (responsabilité civile) pour le
    lot n° 2 »), or for every lot when ``lot`` is None."""
    for source in sources:
        folded = fold(source.quote)
        named = lots_named(source.quote)
        if lot is None and "branche" in folded and not named:
            return source
        if lot is not None and lot in named and (
                "branche" in folded or re.search(r"\bpour (?:le |les )?lots?\b", folded)):
            return source
    return next((s for s in sources if "branche" in fold(s.quote)), None) if lot is None \
        else None


def _listed(notes: list[Text]) -> Text:
    """Notes joined with « ; » in each language."""
    return Text("; ".join(note.fr for note in notes) + ".",
                "; ".join(note.en for note in notes) + ".")


def max_penalty_rate(criterion: Criterion, lot: Lot, facts: Extraction, today: date) -> Verdict:
    """Daily penalties (rates, fixed amounts over the lot's annual amount) and their cap."""
    fact = facts.facts.get("penalites")
    if fact is None or not isinstance(fact.value, dict):
        return verdict(criterion, UNKNOWN, Text(
            "Aucune clause de pénalités trouvée (CCAG par défaut ?) : à examiner.",
            "No penalty clause found (the default CCAG?): to examine."), ())
    max_rate = float(criterion.params.get("max_daily_rate_pct_of_annual_premium") or 0)
    max_cap = float(criterion.params.get("max_cap_pct_of_annual_premium") or 100)
    cap_required = bool(criterion.params.get("cap_required", True))
    value: dict[str, Any] = fact.value
    own = (value.get("par_lot") or {}).get(str(lot.number))
    if isinstance(own, dict):  # the clauses naming this lot, not another lot's rules
        value = {**{key: item for key, item in value.items()
                    if key in ("plafond_pct", "non_plafonnees") and "plafond_pct" not in own},
                 **own}
    annual = facts.lot_amounts.get(lot.number)
    rates = [float(value["taux_journalier_max_pct"])] if value.get(
        "taux_journalier_max_pct") is not None else []
    notes: list[Text] = []
    unknown = False
    for fixed in value.get("forfaits_journaliers_eur") or []:
        if annual:
            rates.append(float(fixed) / annual * 100)
        else:
            unknown = True
            notes.append(Text(f"{fixed:.0f} €/jour sans montant annuel pour le convertir",
                              f"{fixed:.0f} €/day with no annual amount to convert it"))
    cap = value.get("plafond_pct")
    worst = max(rates) if rates else None
    if worst is not None:
        notes.insert(0, Text(
            f"pénalité journalière maximale {_french(worst)} % de la cotisation annuelle "
            f"(seuil {_french(max_rate)} %)",
            f"highest daily penalty {worst:.4g}% of the annual premium (threshold "
            f"{max_rate:g}%)"))
    notes.append(Text(f"plafond {_french(float(cap))} %", f"cap {float(cap):g}%")
                 if cap is not None else Text("pas de plafond", "no cap"))
    evidence = _listed(notes)
    if (worst is not None and worst > max_rate) or (cap_required and cap is None) or (
            cap is not None and float(cap) > max_cap):
        return verdict(criterion, NOT_MET, evidence, fact.sources)
    if unknown or worst is None:
        return verdict(criterion, UNKNOWN, evidence, fact.sources, "à examiner")
    return verdict(criterion, MET, evidence, fact.sources)


def no_unlimited_liability(criterion: Criterion, lot: Lot, facts: Extraction,
                           today: date) -> Verdict:
    """The holder's contractual liability (insurance cover limits are not it)."""
    fact = facts.facts.get("responsabilite")
    accepted = bool(criterion.params.get("unlimited_liability_accepted", False))
    if fact is None or not fact.sources:
        return verdict(criterion, UNKNOWN, Text(
            "Aucune clause sur la responsabilité du titulaire (droit commun) : question à poser "
            "à l'acheteur.",
            "No clause on the holder's liability (ordinary law): a question for the buyer."), ())
    unlimited = "sans limitation" in str(fact.value)
    said = Text(f"{fact.value}.", f"{fact.value}.")  # the dossier's own words
    if unlimited and not accepted:
        return verdict(criterion, NOT_MET, said, fact.sources)
    return verdict(criterion, MET, said, fact.sources)


def max_rate_guarantee_years(criterion: Criterion, lot: Lot, facts: Extraction,
                             today: date) -> Verdict:
    """Years of firm rates for the lot against the maximum."""
    limit = float(criterion.params.get("max_years") or 0)
    fact = facts.facts.get("garantie_des_taux")
    if fact is None or not isinstance(fact.value, dict):
        return verdict(criterion, UNKNOWN, Text("Durée de garantie des taux non trouvée.",
                                                "Rate guarantee period not found."), ())
    for index, (key, item) in enumerate(fact.value.items()):
        if key != "tous_lots" and str(lot.number) not in re.findall(r"\d+", key):
            continue
        years = item.get("annees_garanties") if isinstance(item, dict) else None
        source = fact.sources[index] if index < len(fact.sources) else fact.sources[0]
        if years is None:
            return verdict(criterion, UNKNOWN, Text(
                "Taux fermes sur toute la durée, durée du marché inconnue.",
                "Rates fixed for the whole term, contract term unknown."), (source,),
                "à examiner")
        value = MET if float(years) <= limit else NOT_MET
        sign = "≤" if value == MET else ">"
        return verdict(criterion, value, Text(
            f"Taux garantis {float(years):g} an{'s' if float(years) >= 2 else ''} "
            f"({sign} {limit:g}).",
            f"Rates guaranteed {float(years):g} year{'' if float(years) == 1 else 's'} "
            f"({sign} {limit:g})."), (source,))
    return verdict(criterion, UNKNOWN, Text(
        f"Aucune garantie de taux pour le lot {lot.number}.",
        f"No rate guarantee for lot {lot.number}."), ())


JUDGES: tuple[tuple[str, Judge], ...] = (
    ("accepted", lines_of_business), ("excluded", lines_of_business),
    ("min_eur_ttc_per_lot_per_year", min_annual_premium),
    ("min_eur_per_lot_per_year", min_annual_premium),
    ("min_calendar_days", min_days_to_deadline), ("regions", regions_served),
    ("held", certifications), ("acpr_branches_held", certifications),
    ("max_daily_rate_pct_of_annual_premium", max_penalty_rate),
    ("unlimited_liability_accepted", no_unlimited_liability),
    ("max_years", max_rate_guarantee_years),
)


def judge_for(criterion: Criterion) -> Judge | None:
    """The judge a criterion's parameters call for (None: a criterion to examine)."""
    for key, judge in JUDGES:
        if key in criterion.params:
            return judge
    return None


def fact_of(facts: Extraction, fact_id: str) -> Fact | None:
    """A fact by id."""
    return facts.facts.get(fact_id)
