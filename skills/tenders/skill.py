"""``/almia ao`` with the consultation documents: facts, go/no-go per lot, checklist, outline.

The files (PDF, DOCX, XLSX, or one ZIP) are screened in a job against the company's criteria
file (``<data_dir>/tenders/criteria.yaml``, else the shipped sample): the job posts the
verdict per lot with the blocking reasons and the deadline countdown (Markdown, plus a card
rendered by each channel: Block Kit, Adaptive Card, web), the XLSX grid, the DOCX outline
and the JSON. Facts are cached by dossier digest: sending the same files again after the
criteria changed reads nothing again.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bot.files.intake import safe_name
from bot.i18n import Text, plural
from bot.jobs.model import JobContext, JobFailed, JobResult, JobSpec, JobTask
from bot.messages import Locale, Message, Reply, ReplyEvent
from bot.skills import SkillError, SkillRequest
from bot.text import fold
from skills.tenders.cache import FactCache
from skills.tenders.card import screening_card
from skills.tenders.clauses import Reader
from skills.tenders.criteria import Criteria, CriteriaError, load_criteria
from skills.tenders.documents import DossierError, load_files
from skills.tenders.model_judge import generative_model_approved, judge_unknowns
from skills.tenders.outline import prepare
from skills.tenders.report import outline_document, summary, workbook
from skills.tenders.screening import screen
from skills.tenders.service import Screening, facts_for, with_passages_to_examine

_READABLE = frozenset({"pdf", "docx", "xlsx", "zip", "txt", "md"})
_DAY = re.compile(r"\b(?:date|today|jour)\s*=\s*(\d{4}-\d{2}-\d{2})\b")
_INTENT = re.compile(r"\b(appels?[ -](?:d')?offres?|dce|dossier de (?:la )?consultation|"
                     r"marches? publics?|ao|tenders?)\b")
# a question about the dossier, for the Q&A to answer from its files
_QUESTION = re.compile(r"\?\s*$|^(?:et |and )?(?:quel(?:le)?s?|qui|quand|combien|comment|ou|"
                       r"pourquoi|est-ce|y a-t-il|what|which|who|when|how|where|why|is|are|does|"
                       r"do|can|must)\b")
# … unless it asks for the screening itself
_SCREEN = re.compile(r"\b(?:analys\w*|etudi\w*|examin\w*|screen\w*|evalu\w*|passe[rz]? en "
                     r"revue|review|go(?: ?/ ?| or )?no[ -]go|no[ -]go|faut-il (?:y )?(?:repondre|"
                     r"candidater)|doit-on (?:y )?(?:repondre|candidater)|should we (?:bid|"
                     r"respond|apply)|worth bidding)\b")
_USAGE = Text(
    "Joignez les pièces de la consultation (RC, CCAP, CCTP, AE, BPU… en PDF, DOCX, XLSX ou un "
    "ZIP) à `/almia ao` : j'en tire les faits clés avec leurs sources, je juge chaque lot "
    "selon vos critères (go / no-go / go sous conditions) et je prépare la checklist et le "
    "plan du mémoire technique.",
    "Attach the consultation documents (RC, CCAP, CCTP, AE, BPU… as PDF, DOCX, XLSX or one "
    "ZIP) to `/almia tenders`: I extract the key facts with their sources, judge each lot against "
    "your criteria (go / no-go / go under conditions) and prepare the checklist and the "
    "outline of the technical proposal.")
_NOT_READABLE = Text("« {name} » ({kind}) n'est pas lisible ici : PDF, DOCX, XLSX ou ZIP.",
                     "“{name}” ({kind}) cannot be read here: PDF, DOCX, XLSX or ZIP.")
_BAD_DAY = Text("La date « {day} » n'existe pas : écrivez-la AAAA-MM-JJ, par exemple "
                "date=2027-02-01.",
                "The date “{day}” does not exist: write it YYYY-MM-DD, for example "
                "date=2027-02-01.")
_NO_JOBS = Text("Les tâches de fond ne sont pas activées sur ce serveur.",
                "Background jobs are not enabled on this server.")
_STARTED = Text(
    "C'est parti : j'analyse le dossier ({count} fichier{s}, tâche `{id}`). Je posterai ici le "
    "verdict par lot, la grille Excel et le plan du mémoire technique ; `/almia jobs` montre "
    "l'avancement.",
    "On it: screening the dossier ({count} file{s}, job `{id}`). I will post the verdict per "
    "lot, the Excel grid and the technical proposal outline here; `/almia jobs` shows the "
    "progress.")
_TITLE = Text("Analyse d'appel d'offres", "Tender screening")
_READING = Text("lecture du dossier", "reading the dossier")
_JUDGING = Text("examen des critères", "judging the criteria")
_WRITING = Text("rédaction de la grille et du plan", "writing the grid and the outline")
_UNREADABLE = Text("Aucune pièce lisible dans ce dossier (documents scannés ou format non "
                   "pris en charge).", "No readable document in this dossier (scans or "
                   "unsupported formats).")
_EMPTY = Text("Ce dossier ne contient aucun document (archive vide, ou sans PDF, Word ni "
              "Excel).", "This dossier holds no document (an empty archive, or one without "
              "PDF, Word or Excel files).")
_NO_RC = Text("⚠️ Pas de règlement de la consultation (RC) dans le dossier : les lots, la date "
              "limite et les critères d'attribution sont lus dans les autres pièces et peuvent "
              "être incomplets. Joignez le RC pour une analyse sûre.",
              "⚠️ No règlement de la consultation (RC, the rules of the tender) in the dossier: "
              "lots, deadline and award criteria are read from the other documents and may be "
              "incomplete. Attach the RC for a reliable screening.")
_BAD_CRITERIA = Text("Le fichier de critères de l'entreprise est inutilisable : {reason}. "
                     "Demandez à l'administrateur de le corriger.",
                     "The company's criteria file cannot be used: {reason}. Ask the "
                     "administrator to fix it.")
_OFFLINE = Text(
    "_Analyse hors ligne : règles et motifs de la commande publique. Un modèle approuvé "
    "(rôle `tenders`) jugerait en plus les critères restés « inconnu », en citant le dossier._",
    "_Offline screening: procurement rules and patterns. An approved model (role `tenders`) "
    "would also judge the criteria left “unknown”, quoting the dossier._")
_MODEL = Text("_{calls} critère{s} inconnu{s} soumis au modèle approuvé ; seuls les avis "
              "appuyés sur une citation exacte du dossier sont retenus._",
              "_{calls} unknown {criteria} put to the approved model; only answers "
              "backed by an exact quote of the dossier are kept._")
_SAMPLE = Text("_Critères : exemple livré (copiez `skills/tenders/criteria.sample.yaml` dans "
               "`<data_dir>/tenders/criteria.yaml` pour vos propres critères)._",
               "_Criteria: the shipped sample (copy `skills/tenders/criteria.sample.yaml` to "
               "`<data_dir>/tenders/criteria.yaml` for your own)._")
_CACHED = Text("_Faits repris de l'analyse précédente de ce dossier (critères réappliqués)._",
               "_Facts reused from this dossier's previous screening (criteria applied "
               "again)._")
_ARTEFACTS = {"grid": Text("analyse-appel-offres.xlsx", "tender-screening.xlsx"),
              "outline": Text("plan-memoire-technique.docx", "technical-proposal-outline.docx"),
              "json": Text("analyse-appel-offres.json", "tender-screening.json")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def mentions_tender(message: Message) -> bool:
    """A message with documents attached that speaks of a call for tenders, and does not
    only ask a question about it (« Quels documents composent le dossier de consultation ? »
    is answered from the files; « Peux-tu analyser cet appel d'offres ? » screens them)."""
    folded = fold(message.text)
    return (any(a.kind in ("pdf", "docx", "zip") for a in message.attachments)
            and _INTENT.search(folded) is not None
            and (_QUESTION.search(folded) is None or _SCREEN.search(folded) is not None))


class ScreenTask:
    """The job: read the files, extract (or reuse) the facts, judge, write the outputs."""

    def __init__(self, knowledge: Any | None, folder: Path | None) -> None:
        self._knowledge = knowledge
        self._folder = folder

    def criteria(self) -> tuple[Criteria, bool]:
        """The company's criteria file, else the sample (and whether it is the sample)."""
        own = self._folder / "criteria.yaml" if self._folder is not None else None
        try:
            if own is not None and own.exists():
                return load_criteria(own), False
            return load_criteria(None), True
        except CriteriaError as error:
            raise JobFailed(_BAD_CRITERIA, reason=str(error)) from None

    async def run(self, context: JobContext) -> JobResult:
        """Read → facts → verdicts (model for unknowns) → grid, outline, summary."""
        job = context.job
        locale: Locale = job.reply_to.locale
        params = job.params
        today = date.fromisoformat(str(params["today"])) if params.get("today") else \
            date.today()
        criteria, sample = self.criteria()
        await context.progress(0.0, _READING(locale))
        files = [(safe_name(str(item["name"])) or "document",
                  await context.read_file(str(item["id"]))) for item in params["files"]]
        try:
            dossier = await asyncio.to_thread(load_files, files, str(params.get("name") or
                                                                     "dossier"))
        except DossierError as error:
            raise JobFailed(_EMPTY if str(error) == "empty" else _UNREADABLE) from None
        except (ValueError, OSError):
            raise JobFailed(_UNREADABLE) from None
        del files
        cache = FactCache(self._folder / "facts") if self._folder is not None else None
        extraction, cached = await asyncio.to_thread(facts_for, dossier, cache)
        await context.progress(0.5, _JUDGING(locale))
        reader = await asyncio.to_thread(Reader, dossier)
        lots = tuple(screen(extraction, criteria, today))
        notes = [(_NO_RC(locale) if all(doc.kind != "RC" for doc in dossier.documents)
                  else ""),
                 (_CACHED(locale) if cached else ""), (_SAMPLE(locale) if sample else "")]
        models = context.models
        if models is not None and generative_model_approved(models):
            lots, calls = await judge_unknowns(models, reader, criteria, lots, locale)
            notes.append(_MODEL(locale, calls=calls, s=plural(calls, locale),
                                criteria="criterion" if calls == 1 else "criteria"))
        else:
            notes.append(_OFFLINE(locale))
        lots = with_passages_to_examine(reader, criteria, lots)
        result = Screening(extraction, lots, criteria, today, cached)
        await context.progress(0.8, _WRITING(locale))
        preparation = await prepare(extraction, today, self._search(job.reply_to.space_id))
        grid = await asyncio.to_thread(workbook, result, preparation)
        outline = await asyncio.to_thread(outline_document, result, preparation,
                                          criteria.company_name)
        ids = (await context.add_artefact(_ARTEFACTS["grid"](locale), XLSX, grid),
               await context.add_artefact(_ARTEFACTS["outline"](locale), DOCX, outline),
               await context.add_artefact(_ARTEFACTS["json"](locale), "application/json",
                                          json.dumps(result.as_json(), ensure_ascii=False)
                                          .encode("utf-8")))
        await context.checkpoint({"digest": extraction.digest})
        text = summary(result, locale, "\n".join(note for note in notes if note))
        return JobResult(text, ids, cards=(screening_card(result, locale),))

    def _search(self, space: str) -> Any:
        knowledge = self._knowledge
        if knowledge is None:
            return None

        async def search(query: str) -> Sequence[Any]:
            try:
                return list(await knowledge.search(query, space=space, k=2))
            except Exception:  # noqa: BLE001 - the outline goes on without citations
                return []

        return search


class TendersSkill:
    """Tender dossier → facts with sources, go/no-go per lot, checklist and outline (a job)."""

    name = "tenders"
    title = Text("Analyse d'appels d'offres", "Tender screening")
    description = Text(
        "Analyse un dossier de consultation (RC, CCAP, CCTP, AE, BPU joints) : faits clés "
        "sourcés, go / no-go par lot selon vos critères, contradictions, checklist et plan du "
        "mémoire technique.",
        "Screens a tender dossier (attached RC, CCAP, CCTP, AE, BPU): key facts with sources, "
        "go / no-go per lot against your criteria, contradictions, checklist and technical "
        "proposal outline.")
    commands = ("tenders", "ao", "appel-offres")
    model_roles = ("tenders",)
    wants = staticmethod(mentions_tender)

    def __init__(self, knowledge: Any | None = None, folder: Path | None = None) -> None:
        self.job_tasks: Mapping[str, JobTask] = {"screen": ScreenTask(knowledge, folder)}

    async def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        """Check the files, start the job."""
        locale = request.locale
        attachments = [a for a in request.message.attachments if a.file_id is not None]
        if not attachments:
            if request.text.strip():  # words but no file: something was tried
                raise SkillError(_USAGE)
            yield Reply(_USAGE(locale), kind="info", skill=self.name, locale=locale)
            return
        for attachment in attachments:
            if attachment.kind not in _READABLE:
                raise SkillError(_NOT_READABLE, name=attachment.name,
                                 kind=attachment.kind.upper() or "?")
        if request.jobs is None:
            raise SkillError(_NO_JOBS)
        day = _DAY.search(request.text)
        params: dict[str, Any] = {"files": [{"id": a.file_id, "name": a.name, "kind": a.kind}
                                            for a in attachments],
                                  "name": safe_name(attachments[0].name) or "dossier"}
        if day is not None:
            try:
                date.fromisoformat(day.group(1))
            except ValueError:
                raise SkillError(_BAD_DAY, day=day.group(1)) from None
            params["today"] = day.group(1)
        spec = JobSpec(skill=self.name, task="screen", title=_TITLE(locale), params=params)
        job = await request.jobs.start(spec, request.message, locale)
        yield Reply(_STARTED(locale, count=len(attachments), s=plural(len(attachments), locale),
                              id=job.id[:8]), kind="info",
                    skill=self.name, locale=locale, job_id=job.id)
