"""Follow-ups on the last analysis, without sending the file again.

``/almia verbatims colonnes texte="Commentaire"`` analyses the same file with other columns;
``/almia verbatims renommer 3="Délais de remboursement"`` and ``/almia verbatims fusionner
2 5 7`` change the themes of the last analysis and regenerate every output from the stored
analysis (no embedding, no clustering). Themes are named by the number shown in the summary
and the workbook (theme id + 1).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.i18n import Text
from bot.jobs.model import JobContext, JobFailed, JobResult, JobState, JobView
from bot.messages import Locale
from bot.skills import SkillError
from bot.text import fold
from skills.verbatims.reader import ReaderError, read_survey

Kind = Literal["columns", "rename", "merge"]
_WORDS: dict[str, Kind] = {
    "colonne": "columns", "colonnes": "columns", "column": "columns", "columns": "columns",
    "renommer": "rename", "renomme": "rename", "rename": "rename",
    "fusionner": "merge", "fusionne": "merge", "merge": "merge",
}
_RENAME = re.compile(r"""(\d+)\s*=\s*(?:"([^"]*)"|«\s*([^»]*?)\s*»|“([^”]*)”|'([^']*)'|(\S+))""")
_MAX_LABEL = 80

BAD_RENAME = Text(
    "Indiquez le numéro du thème et son nouveau nom, par exemple `/almia verbatims renommer "
    "3=\"Délais de remboursement\"`.",
    "Give the theme's number and its new name, e.g. `/almia verbatims rename "
    "3=\"Reimbursement delays\"`.")
BAD_MERGE = Text(
    "Indiquez au moins deux numéros de thèmes, le premier garde son nom : `/almia verbatims "
    "fusionner 2 5 7`.",
    "Give at least two theme numbers, the first keeps its name: `/almia verbatims merge "
    "2 5 7`.")
NO_ANALYSIS = Text(
    "Je ne trouve pas d'analyse de verbatims terminée à reprendre : joignez le fichier à "
    "`/almia verbatims`.",
    "I find no finished verbatim analysis to work on: attach the file to `/almia verbatims`.")
UNKNOWN_THEME = Text("Thème inconnu : les numéros sont ceux de la synthèse et de l'onglet "
                     "Thèmes du classeur.",
                     "Unknown theme: the numbers are those of the summary and of the "
                     "workbook's Themes sheet.")
FILE_CHANGED = Text("Le fichier de départ n'est plus lisible ou a changé : relancez l'analyse "
                    "en le joignant à `/almia verbatims`.",
                    "The original file can no longer be read or has changed: run the "
                    "analysis again by attaching it to `/almia verbatims`.")


@dataclass(frozen=True, slots=True)
class Followup:
    """What the person asked of the last analysis."""

    kind: Kind
    renames: dict[int, str] = field(default_factory=dict)  # theme id → label
    merge: tuple[int, ...] = ()  # theme ids, the first keeps its name


def followup_kind(text: str) -> Kind | None:
    """The follow-up a message starts with (« colonnes », « renommer », « fusionner »…)."""
    first = fold(text).strip().split(maxsplit=1)
    return _WORDS.get(first[0]) if first else None


def parse_followup(text: str) -> Followup | None:
    """``renommer 3="Délais"`` / ``fusionner 2 5`` (numbers as shown: id + 1); ``colonnes …``
    (its pairs are read as column overrides by the caller); None for anything else."""
    kind = followup_kind(text)
    if kind is None:
        return None
    rest = text.strip().split(maxsplit=1)[1] if len(text.split()) > 1 else ""
    if kind == "rename":
        renames: dict[int, str] = {}
        for match in _RENAME.finditer(rest):
            label = next(g for g in match.groups()[1:] if g is not None)
            label = " ".join(label.split())[:_MAX_LABEL]
            if label and int(match.group(1)) > 0:
                renames[int(match.group(1)) - 1] = label
        if not renames:
            raise SkillError(BAD_RENAME)
        return Followup("rename", renames=renames)
    if kind == "merge":
        numbers = [int(n) - 1 for n in re.findall(r"\d+", rest) if int(n) > 0]
        themes = tuple(dict.fromkeys(numbers))
        if len(themes) < 2:
            raise SkillError(BAD_MERGE)
        return Followup("merge", merge=themes)
    return Followup("columns")


def last_analysis(jobs: Sequence[JobView], space_id: str, skill: str) -> JobView | None:
    """The person's latest finished verbatim analysis in this space (with its stored state)."""
    for job in jobs:
        if (job.skill == skill and job.state == JobState.SUCCEEDED
                and job.reply_to.space_id == space_id and job.checkpoint
                and job.checkpoint.get("state_file") and job.params.get("file_id")):
            return job
    return None


def change_under_way(jobs: Sequence[JobView], space_id: str, skill: str) -> JobView | None:
    """The person's analysis or change of one still queued or running in this space: a
    second change started now would start from the same result and undo the first."""
    return next((job for job in jobs if job.skill == skill and not job.state.terminal
                 and job.reply_to.space_id == space_id), None)


def relabel_params(job: JobView, followup: Followup) -> dict[str, object]:
    """The relabel job's parameters: the same file, the stored state, the changes."""
    return {"file_id": job.params["file_id"], "name": job.params.get("name", "verbatims"),
            "overrides": dict(job.params.get("overrides", {})),
            "size": job.params.get("size", 0),
            "state_file": job.checkpoint["state_file"] if job.checkpoint else "",
            "renames": {str(k): v for k, v in followup.renames.items()},
            "merge": list(followup.merge)}


class RelabelTask:
    """The job: stored analysis + same file → renamed/merged themes → every output again."""

    async def run(self, context: JobContext) -> JobResult:
        """Load, change, render; nothing is embedded or clustered again."""
        from skills.verbatims.report_outputs import render
        from skills.verbatims.report_state import DETRACTOR, load_analysis, merge, rename
        from skills.verbatims.skill import publish

        job = context.job
        locale: Locale = job.reply_to.locale
        params: Mapping[str, object] = job.params
        try:
            analysis = load_analysis(await context.read_file(str(params["state_file"])))
            data = await context.read_file(str(params["file_id"]))
            overrides = params.get("overrides", {})
            survey = await asyncio.to_thread(
                read_survey, data, dict(overrides) if isinstance(overrides, Mapping) else {})
        except (ReaderError, ValueError, KeyError, LookupError):
            raise JobFailed(FILE_CHANGED) from None
        if len(survey.verbatims) != len(analysis.assignments):
            raise JobFailed(FILE_CHANGED)
        ids = [int(n) for n in params.get("merge", []) or []]  # type: ignore[attr-defined]
        renames = params.get("renames", {})
        kind = survey.columns.score_kind
        try:
            if ids:
                analysis = merge(analysis, survey.verbatims, ids[0], ids[1:],
                                 DETRACTOR[kind] if kind else None)
            if isinstance(renames, Mapping):
                known = {theme.id for theme in analysis.themes}
                chosen = {int(k): str(v) for k, v in renames.items()}
                if not set(chosen) <= known:
                    raise KeyError("unknown theme")
                analysis = rename(analysis, chosen)
        except KeyError:
            raise JobFailed(UNKNOWN_THEME) from None
        outputs = await asyncio.to_thread(render, analysis, survey, locale,
                                          str(params.get("name", "")))
        return await publish(context, outputs, locale)
