"""``/almia verbatims``: a survey export in, themes, sentiment, drivers and trends out, as a job.

``/almia verbatims`` with an attached CSV/XLSX (or the file and « analyse ces verbatims »)
detects the columns, says which it chose and how to change them
(``/almia verbatims texte="Commentaire" note="NPS"``), and starts the analysis job; the job
posts a summary and the workbook, the HTML report, rows.csv and a chart. The reply carries a
card with the columns (:mod:`skills.verbatims.form`): changing one there and pressing its
button analyses the same file again (an unfinished run with the old columns is cancelled).
"""

from __future__ import annotations

import asyncio
import importlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Protocol, cast

from bot.files.intake import safe_name
from bot.i18n import Text
from bot.jobs.model import (
    JobContext,
    JobFailed,
    JobResult,
    JobSpec,
    JobTask,
    JobView,
)
from bot.messages import Locale, Message, Reply, ReplyEvent
from bot.skills import SkillError, SkillRequest
from bot.text import fold
from skills.verbatims.codebook import (
    Codebook,
    CodebookError,
    chat_codebook,
    known_codebook,
    shipped_names,
)
from skills.verbatims.followup import (
    NO_ANALYSIS,
    RelabelTask,
    change_under_way,
    last_analysis,
    parse_followup,
    relabel_params,
)
from skills.verbatims.form import ACTION, columns_card, form_overrides
from skills.verbatims.labelling import GatewayLabeller, generative_model_approved
from skills.verbatims.model import Analysis, InputCounts, ScoreKind, Verbatim
from skills.verbatims.model import Progress as StageProgress
from skills.verbatims.reader import Layout, ReaderError, field_name, inspect, read_survey

if TYPE_CHECKING:
    from knowledge.embeddings import Embedder
    from skills.verbatims.analysis.labeller import ThemeLabeller
    from skills.verbatims.report_outputs import Outputs


class Analyser(Protocol):
    """The analysis entry point (``skills.verbatims.analysis.analyse``)."""

    def __call__(self, verbatims: Sequence[Verbatim], *, counts: InputCounts,
                 embedder: Embedder, score_kind: ScoreKind | None,
                 progress: StageProgress | None = None,
                 labeller: ThemeLabeller | None = None,
                 codebook: Codebook | None = None) -> Awaitable[Analysis]: ...


def default_analyser() -> Analyser:
    """The real analysis, imported on first use (heavy: clustering, models)."""
    module = importlib.import_module("skills.verbatims.analysis")
    return cast(Analyser, module.analyse)


def default_embedder() -> Embedder:
    """Multilingual USE: shipped in its wheel, ~150 texts/s on two cores."""
    from knowledge.embeddings import UseEmbedder

    return UseEmbedder()


_READABLE = frozenset({"csv", "xlsx", "txt"})
_DETECT_LIMIT = 40 * 1024 * 1024  # larger files: columns shown with the result only
_PAIR = re.compile(r"""([\w\-]+)\s*=\s*(?:"([^"]*)"|«\s*([^»]*?)\s*»|“([^”]*)”|'([^']*)'|(\S+))""")
_OPTION_KEYS = ("score_kind", "type_note")
_CODEBOOK_KEYS = ("plan", "codes", "codebook", "plan_de_codes")
CODEBOOK = "codebook"  # the codebook choice among the overrides (not a column)

_USAGE = Text(
    "Joignez l'export de l'enquête (CSV ou XLSX) à `/almia verbatims` : je repère les colonnes "
    "et j'en tire les thèmes, le sentiment, les moteurs d'insatisfaction et les tendances.",
    "Attach the survey export (CSV or XLSX) to `/almia verbatims`: I find the columns and "
    "draw the themes, sentiment, dissatisfaction drivers and trends from it.")
_ONE_FILE = Text("Envoyez un seul fichier à la fois (CSV ou XLSX).",
                 "Send one file at a time (CSV or XLSX).")
_NOT_TABLE = Text("« {name} » ({kind}) n'est pas un tableau : envoyez un export CSV ou XLSX.",
                  "“{name}” ({kind}) is not a table: send a CSV or XLSX export.")
_BAD_KEY = Text("Je ne connais pas « {key} » : colonnes réglables texte, note, date, produit, "
                "canal, region, id (et type_note=nps|etoiles|satisfaction, "
                "plan=assurance|aucun pour le plan de codes).",
                "I do not know “{key}”: settable columns are text, score, date, product, "
                "channel, region, id (and score_kind=nps|stars|satisfaction, "
                "plan=assurance|none for the codebook).")
_BAD_CODEBOOK = Text("Plan de codes inconnu : « {name} » (disponibles : {names} ; ou « aucun » "
                     "pour la seule découverte des thèmes).",
                     "Unknown codebook: “{name}” (available: {names}; or “none” for theme "
                     "discovery only).")
_NO_JOBS = Text("Les tâches de fond ne sont pas activées sur ce serveur.",
                "Background jobs are not enabled on this server.")
_STARTED = Text(
    "C'est parti : j'analyse « {name} » (tâche `{id}`). Je posterai ici la synthèse, le "
    "classeur Excel et le rapport HTML ; `/almia jobs` montre l'avancement.",
    "On it: analysing “{name}” (job `{id}`). I will post the summary, the Excel workbook and "
    "the HTML report here; `/almia jobs` shows the progress.")
_COLUMNS = Text("**Colonnes retenues** (en-tête ligne {row}) :",
                "**Columns chosen** (header on row {row}):")
_OVERRIDE = Text(
    "Pour en changer, sans renvoyer le fichier : `/almia verbatims colonnes "
    "texte=\"Commentaire\" note=\"NPS\"` (champs : texte, note, date, produit, canal, region, "
    "id ; `aucune` pour ignorer une colonne ; type_note=nps|etoiles|satisfaction).",
    "To change them, without sending the file again: `/almia verbatims columns "
    "text=\"Comment\" score=\"NPS\"` (fields: text, score, date, product, channel, region, "
    "id; `none` to ignore a column; score_kind=nps|stars|satisfaction).")
_ALREADY_AGAIN = Text(
    "Cette carte a déjà relancé l'analyse (analyse {id}) : suivez-la ici, et changez encore "
    "les colonnes depuis la carte qu'elle affiche.",
    "This card has already run the analysis again (analysis {id}): follow it here, and change "
    "the columns again from the card it shows.",
)
_NOT_YOURS = Text(
    "Je ne retrouve pas cette analyse parmi les vôtres dans cette conversation : joignez le "
    "fichier à `/almia verbatims`.",
    "I cannot find this analysis among yours in this conversation: attach the file to "
    "`/almia verbatims`.")
_NOT_FRENCH = Text(
    "{foreign} des {sampled} premières réponses de la colonne « {column} » ne sont pas en "
    "français. L'analyse hors ligne ne lit que le français : elles seraient mises de côté et "
    "le rapport ne dirait presque rien. Je ne lance donc pas l'analyse. Si la colonne n'est "
    "pas la bonne, indiquez-la : `/almia verbatims colonnes texte=\"…\"`.",
    "{foreign} of the first {sampled} answers in the “{column}” column are not in French. "
    "The offline analysis only reads French: they would be set aside and the report would "
    "say almost nothing, so I am not starting it. If it is the wrong column, name the right "
    "one: `/almia verbatims columns text=\"…\"`.")
_SOME_NOT_FRENCH = Text(
    "⚠️ {foreign} des {sampled} premières réponses ne sont pas en français : elles seront "
    "mises de côté (comptées dans le rapport).",
    "⚠️ {foreign} of the first {sampled} answers are not in French: they will be set aside "
    "(counted in the report).")
_LATER = Text("Le fichier est volumineux : les colonnes retenues seront indiquées avec le "
              "résultat.", "The file is large: the columns chosen will be shown with the "
              "result.")
_TITLE = Text("Analyse de verbatims", "Verbatim analysis")
_RELABEL_TITLE = Text("Thèmes modifiés", "Themes changed")
_CHANGE_UNDER_WAY = Text(
    "Une modification de l'analyse de « {name} » est en cours (tâche `{id}`) : attendez "
    "qu'elle se termine pour en demander une autre, qui partira de son résultat.",
    "A change to the analysis of “{name}” is under way (job `{id}`): wait until it ends to "
    "ask for another, which will start from its result.")
_RELABEL_STARTED = Text(
    "Je régénère le classeur et le rapport de « {name} » avec ces thèmes (tâche `{id}`), "
    "sans refaire l'analyse.",
    "Regenerating the workbook and report of “{name}” with these themes (job `{id}`), "
    "without analysing again.")
_FOLLOW_UP = Text(
    "Pour ajuster : `/almia verbatims renommer 3=\"Délais de remboursement\"`, "
    "`/almia verbatims fusionner 2 5` (numéros de la synthèse), ou `/almia verbatims "
    "colonnes texte=\"Commentaire\"` pour relancer avec d'autres colonnes — sans renvoyer "
    "le fichier.",
    "To adjust: `/almia verbatims rename 3=\"Reimbursement delays\"`, `/almia verbatims "
    "merge 2 5` (numbers from the summary), or `/almia verbatims columns text=\"Comment\"` "
    "to run again with other columns — without sending the file again.")
_READING = Text("lecture du fichier", "reading the file")
_WRITING = Text("rédaction du rapport", "writing the report")
_READ = Text("{rows} lignes lues, {analysed} à analyser", "{rows} rows read, {analysed} to analyse")
_NOTHING = Text("Aucun verbatim à analyser : {rows} lignes, toutes vides, sans contenu, en "
                "double ou pas en français.",
                "No verbatim to analyse: {rows} rows, all empty, without content, duplicated "
                "or not in French.")
_INTENT = re.compile(r"\b(verbatims?|commentaires clients?|retours clients?|enquetes?|"
                     r"avis clients?)\b")
_ARTEFACTS = {"workbook": Text("analyse-verbatims.xlsx", "verbatim-analysis.xlsx"),
              "html": Text("rapport-verbatims.html", "verbatim-report.html"),
              "chart": Text("themes.png", "themes.png")}


def _own_analysis(jobs: Sequence[JobView], job_id: str, space_id: str,
                  skill: str) -> JobView | None:
    """The analysis job a card was shown for, if it is the presser's, in this space."""
    return next((job for job in jobs if job.id == job_id and job.skill == skill
                 and job.task == "analyse" and job.reply_to.space_id == space_id
                 and job.params.get("file_id")), None)


def parse_overrides(text: str) -> dict[str, str]:
    """``texte="Commentaire" note=NPS`` → {"text": "Commentaire", "score": "NPS"}."""
    overrides: dict[str, str] = {}
    for match in _PAIR.finditer(text):
        key = match.group(1)
        value = next(group for group in match.groups()[1:] if group is not None)
        folded = fold(key)
        if folded in _OPTION_KEYS or folded in ("kind",):
            overrides["score_kind"] = value
            continue
        if folded in _CODEBOOK_KEYS:
            if not known_codebook(value):
                raise SkillError(_BAD_CODEBOOK, name=value[:40], names=", ".join(shipped_names()))
            overrides[CODEBOOK] = value
            continue
        name = field_name(key)
        if name is None:
            raise SkillError(_BAD_KEY, key=key)
        overrides[name] = value
    return overrides


def columns_only(overrides: Mapping[str, object]) -> dict[str, str]:
    """The reader's column overrides, without the codebook choice."""
    return {key: str(value) for key, value in overrides.items() if key != CODEBOOK}


def mentions_verbatims(message: Message) -> bool:
    """A plain message with a table attached that asks for a verbatim analysis."""
    return (any(a.kind in ("csv", "xlsx") for a in message.attachments)
            and _INTENT.search(fold(message.text)) is not None)


class AnalyseTask:
    """The job: read the file, analyse, write the outputs, post the summary."""

    def __init__(self, analyser: Callable[[], Analyser] = default_analyser,
                 embedder: Callable[[], Embedder] = default_embedder) -> None:
        self._analyser = analyser
        self._embedder = embedder
        self._embedder_made: Embedder | None = None

    def _the_embedder(self) -> Embedder:
        if self._embedder_made is None:  # one model in memory for every job of this worker
            self._embedder_made = self._embedder()
        return self._embedder_made

    async def run(self, context: JobContext) -> JobResult:
        """Read → analyse → outputs; the summary and the artefacts."""
        from skills.verbatims.report_outputs import render

        job = context.job
        locale: Locale = job.reply_to.locale
        params = job.params
        name = str(params["name"])
        await context.progress(0.0, _READING(locale))
        data = await context.read_file(str(params["file_id"]))
        try:
            survey = await asyncio.to_thread(read_survey, data,
                                             columns_only(params.get("overrides", {})))
        except ReaderError as error:
            raise JobFailed(error.text, **error.values) from None
        choice = dict(params.get("overrides", {})).get(CODEBOOK)
        try:
            codebook = chat_codebook(None if choice is None else str(choice))
        except CodebookError:
            raise JobFailed(_BAD_CODEBOOK, name=str(choice)[:40],
                            names=", ".join(shipped_names())) from None
        if codebook is not None:
            codebook = codebook.for_locale(locale)
        del data
        counts = survey.counts
        if not survey.verbatims:
            raise JobFailed(_NOTHING, rows=counts.rows)
        await context.progress(0.05, _READ(locale, rows=counts.rows, analysed=counts.analysed))
        models = context.models
        labeller = (GatewayLabeller(models, locale)
                    if models is not None and generative_model_approved(models) else None)
        analysis = await self._analyser()(
            survey.verbatims, counts=counts, embedder=self._the_embedder(),
            score_kind=survey.columns.score_kind, progress=_Scaled(context, 0.05, 0.9),
            labeller=labeller, codebook=codebook)
        await context.progress(0.9, _WRITING(locale))
        outputs = await asyncio.to_thread(render, analysis, survey, locale, name)
        return await publish(context, outputs, locale)


async def publish(context: JobContext, outputs: Outputs, locale: Locale) -> JobResult:
    """The outputs as the job's artefacts; the stored analysis kept (not posted) for renames
    and merges from the chat."""
    ids = [await context.add_artefact(_ARTEFACTS["workbook"](locale), outputs.XLSX,
                                      outputs.workbook),
           await context.add_artefact(_ARTEFACTS["html"](locale), "text/html", outputs.html),
           await context.add_artefact("rows.csv", "text/csv", outputs.rows_csv),
           await context.add_artefact(_ARTEFACTS["chart"](locale), "image/png",
                                      outputs.chart)]
    state = await context.add_artefact("analysis.json", "application/json", outputs.state)
    await context.checkpoint({"analysis_bytes": len(outputs.state), "state_file": state})
    return JobResult(outputs.summary + "\n\n" + _FOLLOW_UP(locale), tuple(ids))


_STAGES = {  # the analysis's stage names, as people read them
    "split": Text("découpage des réponses", "splitting the answers"),
    "embedded": Text("lecture des phrases", "reading the sentences"),
    "sentiment": Text("sentiment", "sentiment"),
    "clustered": Text("regroupement en thèmes", "grouping into themes"),
    "labelled": Text("nommage des thèmes", "naming the themes"),
    "trends": Text("tendances", "trends"),
    "examples": Text("exemples représentatifs", "representative examples"),
    "model": Text("intitulés et axes par le modèle", "labels and axes by the model"),
}


class _Scaled:
    """The analysis's progress, mapped into a slice of the job's, never going back."""

    def __init__(self, context: JobContext, start: float, end: float) -> None:
        self._context = context
        self._start = start
        self._span = end - start
        self._done = start

    async def __call__(self, fraction: float, status: str) -> None:
        self._done = max(self._done, self._start + self._span * min(max(fraction, 0.0), 1.0))
        stage = _STAGES.get(status)
        shown = stage(self._context.job.reply_to.locale) if stage is not None else status
        await self._context.progress(self._done, shown)


class VerbatimsSkill:
    """Survey verbatims → themes, sentiment, drivers, trends (a job)."""

    name = "verbatims"
    title = Text("Analyse de verbatims", "Verbatim analysis")
    description = Text(
        "Analyse un export d'enquête (CSV/XLSX joint) : thèmes, sentiment, moteurs "
        "d'insatisfaction, tendances, axes d'amélioration ; classeur Excel et rapport HTML.",
        "Analyses a survey export (attached CSV/XLSX): themes, sentiment, dissatisfaction "
        "drivers, trends, improvement axes; Excel workbook and HTML report.")
    commands = ("verbatims", "verbatim")
    model_roles = ("verbatims",)
    wants = staticmethod(mentions_verbatims)  # a table attached and « analyse ces verbatims »

    def __init__(self, analyser: Callable[[], Analyser] = default_analyser,
                 embedder: Callable[[], Embedder] = default_embedder) -> None:
        self.job_tasks: Mapping[str, JobTask] = {"analyse": AnalyseTask(analyser, embedder),
                                                 "relabel": RelabelTask()}

    async def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        """Check the file, detect its columns, start the job (or follow up on the last)."""
        action = request.message.action
        if action is not None:
            yield await self._on_form(request, action.name, dict(action.values))
            return
        attachments = [a for a in request.message.attachments if a.file_id is not None]
        if not attachments:
            async for event in self._follow_up(request):
                yield event
            return
        if len(attachments) > 1:
            raise SkillError(_ONE_FILE)
        attachment = attachments[0]
        if attachment.kind not in _READABLE:
            raise SkillError(_NOT_TABLE, name=attachment.name, kind=attachment.kind.upper() or "?")
        if request.jobs is None:
            raise SkillError(_NO_JOBS)
        overrides = parse_overrides(request.text)
        name = safe_name(attachment.name) or "verbatims"
        yield await self._start(request, str(attachment.file_id), name, overrides,
                                attachment.size)

    async def _start(self, request: SkillRequest, file_id: str, name: str,
                     overrides: dict[str, str], size: int | None,
                     replaces: str | None = None) -> Reply:
        """Columns detected (and shown), the analysis job started (``replaces``: the
        analysis whose card asked for it)."""
        locale = request.locale
        assert request.jobs is not None
        layout = await self._layout(request, file_id, size or 0, overrides)
        if layout is not None and layout.sampled and layout.not_french > layout.sampled / 2:
            raise SkillError(_NOT_FRENCH, foreign=layout.not_french, sampled=layout.sampled,
                             column=layout.columns.text)
        spec = JobSpec(skill=self.name, task="analyse",
                       title=f"{_TITLE(locale)} — {PurePosixPath(name).name}",
                       params={"file_id": file_id, "name": name, "overrides": overrides,
                               "size": size or 0,
                               **({"replaces": replaces} if replaces else {})})
        job = await request.jobs.start(spec, request.message, locale)
        lines = [_STARTED(locale, name=name, id=job.id[:8]), ""]
        if layout is not None and layout.not_french >= max(2, layout.sampled / 10):
            lines += [_SOME_NOT_FRENCH(locale, foreign=layout.not_french,
                                       sampled=layout.sampled), ""]
        if layout is None:
            lines.append(_LATER(locale))
        else:
            from skills.verbatims.report import columns_text

            lines += [_COLUMNS(locale, row=layout.header_row or 1),
                      *columns_text(layout.columns, locale)]
        lines += ["", _OVERRIDE(locale)]
        card = columns_card(PurePosixPath(name).name, job.id, locale,
                            layout.columns if layout is not None else None,
                            layout.headers if layout is not None else (),
                            layout.header_row if layout is not None else 0)
        return Reply("\n".join(lines), kind="info", skill=self.name, locale=locale,
                     job_id=job.id, cards=(card,))

    async def _on_form(self, request: SkillRequest, name: str,
                       values: dict[str, str]) -> Reply:
        """The column card's button: the same file again, with the columns chosen in it."""
        if name != ACTION:
            raise SkillError(_USAGE)
        if request.jobs is None:
            raise SkillError(_NO_JOBS)
        message = request.message
        mine = await request.jobs.mine(message.user.id, 50)
        job = _own_analysis(mine, values.get("job", ""), message.space.id, self.name)
        if job is None:
            raise SkillError(_NOT_YOURS)
        again = next((other for other in mine if other.params.get("replaces") == job.id), None)
        if again is not None:  # a second press (a double click, or a press sent again)
            raise SkillError(_ALREADY_AGAIN, id=again.id[:8])
        overrides = form_overrides(values, request.locale)
        kept = dict(job.params.get("overrides", {})).get(CODEBOOK)
        if kept is not None:  # the card sets columns; the codebook chosen before stays
            overrides[CODEBOOK] = str(kept)
        if not job.state.terminal:  # analysing with the old columns: no longer wanted
            await request.jobs.cancel(job.id, message)
        size = int(job.params.get("size", 0)) or None
        return await self._start(request, str(job.params["file_id"]),
                                 str(job.params.get("name", "verbatims")), overrides, size,
                                 replaces=job.id)

    async def _follow_up(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        """Columns, renames or merges on the person's last analysis (no file sent again)."""
        locale = request.locale
        followup = parse_followup(request.text)
        if followup is None and not request.text.strip():  # the bare command: how to use it
            yield Reply(_USAGE(locale), kind="info", skill=self.name, locale=locale)
            return
        if followup is None:
            raise SkillError(_USAGE)
        if request.jobs is None:
            raise SkillError(_NO_JOBS)
        message = request.message
        mine = await request.jobs.mine(message.user.id)
        job = last_analysis(mine, message.space.id, self.name)
        if job is None:
            raise SkillError(NO_ANALYSIS)
        name = str(job.params.get("name", "verbatims"))
        under_way = change_under_way(mine, message.space.id, self.name)
        if under_way is not None:  # two changes at once: the later would undo the earlier
            raise SkillError(_CHANGE_UNDER_WAY, name=name, id=under_way.id[:8])
        if followup.kind == "columns":
            overrides = {**dict(job.params.get("overrides", {})),
                         **parse_overrides(request.text.split(maxsplit=1)[-1])}
            size = int(job.params.get("size", 0)) or None  # unknown: columns read anyway
            yield await self._start(request, str(job.params["file_id"]), name, overrides, size)
            return
        spec = JobSpec(skill=self.name, task="relabel",
                       title=f"{_RELABEL_TITLE(locale)} — {PurePosixPath(name).name}",
                       params=relabel_params(job, followup))
        started = await request.jobs.start(spec, message, locale)
        yield Reply(_RELABEL_STARTED(locale, name=name, id=started.id[:8]), kind="info",
                    skill=self.name, locale=locale, job_id=started.id)

    @staticmethod
    async def _layout(request: SkillRequest, file_id: str, size: int,
                      overrides: Mapping[str, str]) -> Layout | None:
        if request.files is None or size > _DETECT_LIMIT:
            return None
        data = await request.files.read(file_id)
        try:
            return await asyncio.to_thread(inspect, data, columns_only(overrides))
        except ReaderError as error:
            raise SkillError(error.text, **error.values) from None

