"""``/almia docs``: a team's own documents, added from the channel as a job, searchable at once.

``/almia docs add`` with files (or a ZIP) ingests them into the space's collection, created
and attached to the space on first use; ``/almia docs list``; ``/almia docs remove NOM``.
Only managers and administrators change a space's documents; everyone in it asks questions.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import tempfile
import zipfile
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from bot.files.intake import safe_name
from bot.governance.roles import Role, RoleResolver
from bot.i18n import Text, plural
from bot.jobs.model import JobContext, JobFailed, JobResult, JobSpec, JobTask
from bot.jobs.service import JobService
from bot.messages import Locale, Reply, ReplyEvent
from bot.settings import Settings
from bot.skills import SkillError, SkillRequest
from knowledge import KnowledgeBase
from knowledge.records import DataClass, FileOutcome, KnowledgeError, Outcome
from skills.team_docs_batches import (
    Batching,
    Unit,
    batch_files,
    fan_out,
    plan_units,
    split,
)

_INGESTIBLE = frozenset({"pdf", "docx", "xlsx", "csv", "txt", "md", "zip"})

_USAGE = Text(
    "Usage : `/almia docs add` avec des fichiers joints (PDF, DOCX, XLSX, CSV, TXT, MD ou un "
    "ZIP), `/almia docs list`, `/almia docs remove NOM`.",
    "Usage: `/almia docs add` with attached files (PDF, DOCX, XLSX, CSV, TXT, MD or a ZIP), "
    "`/almia docs list`, `/almia docs remove NAME`.",
)
_NO_FILES = Text(
    "Joignez les documents à ajouter à votre message `/almia docs add` (PDF, DOCX, XLSX, CSV, "
    "TXT, MD, ou un ZIP qui les réunit).",
    "Attach the documents to add to your `/almia docs add` message (PDF, DOCX, XLSX, CSV, TXT, "
    "MD, or one ZIP holding them).",
)
_NOT_INGESTIBLE = Text(
    "« {name} » ({kind}) ne peut pas être ajouté aux documents de l'espace : formats "
    "acceptés PDF, DOCX, XLSX, CSV, TXT, MD ou ZIP.",
    "“{name}” ({kind}) cannot be added to the space's documents: accepted formats are PDF, "
    "DOCX, XLSX, CSV, TXT, MD or ZIP.",
)
_MANAGERS_ONLY = Text(
    "Seuls les managers et les administrateurs peuvent modifier les documents de cet espace. "
    "Demandez le rôle « manager » à votre administrateur Almia (politique ou groupe de "
    "l'annuaire).",
    "Only managers and administrators can change this space's documents. Ask your Almia "
    "administrator for the “manager” role (policy or directory group).",
)
_STARTED = Text(
    "C'est parti : j'ajoute {count} fichier{s} aux documents de cet espace (tâche `{id}`). "
    "Je vous tiens au courant ici ; `/almia jobs` montre l'avancement.",
    "On it: adding {count} file{s} to this space's documents (job `{id}`). I will report "
    "here; `/almia jobs` shows the progress.",
)
_EMPTY = Text("Aucun document n'a encore été ajouté à cet espace.",
              "No documents have been added to this space yet.")
_LIST = Text("**Documents de cet espace** ({count}) :", "**This space's documents** ({count}):")
_ALSO = Text("Les questions posées ici portent aussi sur {count} collection{s} partagée{s} :",
             "Questions asked here also search {count} shared collection{s}:")
_SHARED_LINE = Text("- {title} ({documents} document{s}, {reach})",
                    "- {title} ({documents} document{s}, {reach})")
_COMPANY_WIDE = Text("toute l'entreprise", "company-wide")
_ATTACHED = Text("rattachée à cet espace", "attached to this space")
_REMOVED = Text("« {name} » a été retiré des documents de cet espace ({chunks} passage{s}).",
                "“{name}” was removed from this space's documents ({chunks} passage{s}).")
_NOT_FOUND = Text("Je ne trouve pas « {name} » parmi les documents de cet espace "
                  "(voir `/almia docs list`).",
                  "I cannot find “{name}” among this space's documents "
                  "(see `/almia docs list`).")
_AMBIGUOUS = Text("Plusieurs documents correspondent à « {name} » : donnez le nom complet "
                  "affiché par `/almia docs list`.",
                  "Several documents match “{name}”: give the full name shown by "
                  "`/almia docs list`.")
_NO_LIBRARY = Text("Les documents d'espace ne sont pas disponibles sur ce serveur.",
                   "Space documents are not available on this server.")
_NO_JOBS = Text("Les tâches de fond ne sont pas activées sur ce serveur.",
                "Background jobs are not enabled on this server.")
_TITLE = Text("Ajout de {count} document{s}", "Adding {count} document{s}")
_PROGRESS = Text("{done}/{total} fichiers traités", "{done}/{total} files processed")
_DONE = Text(
    "Documents de l'espace mis à jour : {added} ajouté{s_added}, {updated} mis à jour, "
    "{unchanged} inchangé{s_unchanged}, {failed} en échec. Vous pouvez poser vos questions dès "
    "maintenant.",
    "Space documents updated: {added} added, {updated} updated, {unchanged} unchanged, "
    "{failed} failed. You can ask your questions now.",
)
_OTHER_EMBEDDER = Text(
    "La collection « {name} » a été indexée avec {used}, pas {current} : supprimez-la et "
    "réindexez, ou changez knowledge.embedder.",
    "Collection “{name}” was indexed with {used}, not {current}: delete it and index again, "
    "or change knowledge.embedder.",
)
_KNOWLEDGE_ERROR = Text("Documents non ajoutés : {error}", "Documents not added: {error}")
_FAILED_LINE = Text("- « {name} » : {reason}", "- “{name}”: {reason}")
_NOTHING = Text("Aucun des fichiers n'a pu être ajouté :", "None of the files could be added:")


def space_collection(space_id: str) -> str:
    """The knowledge collection that holds a space's own documents."""
    return "espace-" + hashlib.sha256(space_id.encode("utf-8")).hexdigest()[:20]


class IngestTask:
    """The job: read the kept files, unpack ZIPs, ingest, report per file.

    A large request is split into ``ingest_batch`` sub-jobs when :class:`Batching` allows
    it (Chroma server and a shared queue); otherwise the same batches are ingested one
    after another here, in the process that owns the embedded Chroma.
    """

    def __init__(self, knowledge: KnowledgeBase, batching: Batching | None = None) -> None:
        self._knowledge = knowledge
        self._batching = batching or Batching(fan_out=False)

    async def run(self, context: JobContext) -> JobResult:
        """Ingest each batch not yet done (the checkpoint lists those done), or fan out."""
        job = context.job
        params = job.params
        locale: Locale = job.reply_to.locale
        collection = str(params["collection"])
        await self._ensure_collection(params)
        files: list[Mapping[str, Any]] = list(params["files"])
        checkpoint = context.job.checkpoint or {}
        done: dict[str, list[str]] | None = (
            dict(checkpoint["done"]) if "lines" in checkpoint else None)  # all done before
        if done is None:
            done = await self._fan_out(context, files)
        if done is None:
            done = await self._in_turn(context, collection, files)
        lines = [line for outcomes in done.values() for line in outcomes]
        # every document's outcome, for whoever started the job (``almia ingest`` prints them)
        await context.checkpoint({"done": done, "lines": lines})
        await context.progress(1.0, _PROGRESS(locale, done=len(lines), total=len(lines)))
        result = _summary(done, locale)
        if len(lines) > 1 or result.kind == "error":
            report = await context.add_artefact(_REPORT_NAME(locale), "text/csv",
                                                _report_csv(lines, locale))
            result = JobResult(result.text, (report,), result.kind)
        return result

    async def _fan_out(self, context: JobContext, files: list[Mapping[str, Any]]
                       ) -> dict[str, list[str]] | None:
        """Outcome lines by batch once all batches end; None when not split."""
        batching = self._batching
        service = batching.service
        if not batching.active or service is None:
            return None
        units = await plan_units(context, files)
        batches = split(units, batching.files, batching.megabytes)
        if len(batches) < 2:
            return None
        collection = str(context.job.params["collection"])

        async def run_here(batch: Sequence[Unit]) -> list[str]:
            lines: list[str] = []
            for item in batch_files(batch):
                lines.extend(_encoded(await ingest_item(self._knowledge, context, collection,
                                                        item)))
            return lines

        return await fan_out(context, service, batches, len(units), batching.poll_seconds,
                             run_here)

    async def _in_turn(self, context: JobContext, collection: str,
                       files: list[Mapping[str, Any]]) -> dict[str, list[str]]:
        """The batches one after another in this job (checkpoint and progress per batch)."""
        locale: Locale = context.job.reply_to.locale
        units = await plan_units(context, files)
        batches = split(units, self._batching.files, self._batching.megabytes)
        done: dict[str, list[str]] = dict((context.job.checkpoint or {}).get("done", {}))
        total = max(1, len(units))
        finished = sum(len(batch) for index, batch in enumerate(batches) if str(index) in done)
        for index, batch in enumerate(batches):
            if str(index) in done:
                continue
            await context.progress(finished / total, _PROGRESS(locale, done=finished,
                                                                total=len(units)))
            lines: list[str] = []
            for item in batch_files(batch):
                lines.extend(_encoded(await ingest_item(self._knowledge, context, collection,
                                                        item)))
            done[str(index)] = lines
            finished += len(batch)
            await context.checkpoint({"done": done})
        return done

    async def _ensure_collection(self, params: Mapping[str, Any]) -> None:
        """Create the collection if new (attached to the space, if any); ``almia ingest``'s
        options (``data_class``, ``company_wide``, ``collection_title``) also update it."""
        knowledge = self._knowledge
        collection = str(params["collection"])
        data_class, company_wide = params.get("data_class"), params.get("company_wide")
        title = params.get("collection_title")
        try:
            known = {info.name: info for info in await knowledge.list_collections()}
            if collection not in known:
                with contextlib.suppress(KnowledgeError):  # created meanwhile by another worker
                    await knowledge.create_collection(
                        collection, title=title or params.get("title"),
                        data_class=data_class or DataClass.INTERNAL,
                        company_wide=bool(company_wide))
            elif data_class is not None or company_wide is not None or title is not None:
                await knowledge.update_collection(collection, title=title, data_class=data_class,
                                                  company_wide=company_wide)
            info = known.get(collection)
            if info is not None and info.embedder != knowledge.embedder.name:
                raise JobFailed(_OTHER_EMBEDDER, name=collection, used=info.embedder,
                                current=knowledge.embedder.name)
            if params.get("space"):
                await knowledge.attach(collection, str(params["space"]))
        except KnowledgeError as error:  # a wrong data class, a bad name: no retry helps
            raise JobFailed(_KNOWLEDGE_ERROR, error=str(error)) from error


class BatchTask:
    """One batch of a split ingestion: its outcome lines go to the checkpoint for the parent."""

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self._knowledge = knowledge

    async def run(self, context: JobContext) -> JobResult:
        """Ingest the batch's documents; the parent job reports (this result is not posted)."""
        params = context.job.params
        lines: list[str] = []
        for item in params["files"]:
            await context.progress(0.0)
            outcomes = await ingest_item(self._knowledge, context, str(params["collection"]),
                                         item)
            lines.extend(_encoded(outcomes))
        await context.checkpoint({"lines": lines})
        return JobResult(f"{len(lines)}", kind="info")


async def ingest_item(knowledge: KnowledgeBase, context: JobContext, collection: str,
                      item: Mapping[str, Any]) -> list[FileOutcome]:
    """Ingest one kept file (a ZIP: all its entries, or those ``item["entries"]`` names)."""
    data = await context.read_file(str(item["id"]))
    name = safe_name(str(item["name"]))
    with tempfile.TemporaryDirectory(prefix="almia-docs-") as folder:
        root = Path(folder)
        if str(item["kind"]) == "zip":
            target = root / (PurePosixPath(name).stem or "archive")
            entries = item.get("entries")
            only = frozenset(str(entry) for entry in entries) if entries is not None else None
            await asyncio.to_thread(_unpack, data, target, only)
        else:
            target = root / name
            target.write_bytes(data)
        del data
        report = await knowledge.ingest([target], collection, keep_paths=False)
    return [FileOutcome(_shown(outcome.path, root), outcome.outcome, outcome.chunks,
                        outcome.message) for outcome in report.files]


def _encoded(outcomes: list[FileOutcome]) -> list[str]:
    return [f"{o.outcome.value}\x1f{o.path}\x1f{o.message}\x1f{o.chunks}" for o in outcomes]


def decoded(line: str) -> FileOutcome:
    """An outcome line of the checkpoint (``outcome␟path␟message[␟chunks]``) as an outcome."""
    outcome, path, message, *chunks = line.split("\x1f")
    count = int(chunks[0]) if chunks and chunks[0].isdigit() else 0
    return FileOutcome(path, Outcome(outcome), count, message)


def _unpack(data: bytes, target: Path, only: frozenset[str] | None = None) -> None:
    """Extract an archive that passed the intake checks (safe paths, bounded sizes); with
    ``only``, just those entries (named as in the archive), at the same places."""
    target.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        paths = [[safe_name(part) for part in info.filename.split("/") if part]
                 for info in entries]
        tops = {parts[0] for parts in paths if len(parts) > 1}
        if len(tops) == 1 and all(len(parts) > 1 for parts in paths):
            paths = [parts[1:] for parts in paths]  # « dossier.zip » holding « dossier/… »
        for info, parts in zip(entries, paths, strict=True):
            if only is not None and info.filename not in only:
                continue
            destination = target.joinpath(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(info))


def _shown(path: str, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path.rsplit("/", 1)[-1]


_REPORT_NAME = Text("rapport-documents.csv", "documents-report.csv")
_OUTCOMES = {
    Outcome.ADDED: Text("ajouté", "added"), Outcome.UPDATED: Text("mis à jour", "updated"),
    Outcome.UNCHANGED: Text("inchangé", "unchanged"), Outcome.FAILED: Text("échec", "failed"),
    Outcome.SKIPPED: Text("ignoré", "skipped"),
}
_REPORT_HEADER = Text("document;résultat;message", "document;outcome;message")


def _report_csv(lines: list[str], locale: Locale) -> bytes:
    """One row per document (UTF-8 with BOM and « ; », as spreadsheets in France expect)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(_REPORT_HEADER(locale).split(";"))
    for item in map(decoded, lines):
        writer.writerow([_neutral(item.path), _OUTCOMES[item.outcome](locale),
                         _neutral(item.message)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _neutral(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (file names come from users)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _summary(done: Mapping[str, list[str]], locale: Locale) -> JobResult:
    counts = dict.fromkeys(Outcome, 0)
    failures = []
    for lines in done.values():
        for item in map(decoded, lines):
            counts[item.outcome] += 1
            if item.outcome in (Outcome.FAILED, Outcome.SKIPPED):
                failures.append(_FAILED_LINE(locale, name=item.path,
                                             reason=item.message or item.outcome.value))
    ingested = counts[Outcome.ADDED] + counts[Outcome.UPDATED] + counts[Outcome.UNCHANGED]
    if not ingested:
        return JobResult("\n".join([_NOTHING(locale), *failures]), kind="error")
    text = _DONE(locale, added=counts[Outcome.ADDED], updated=counts[Outcome.UPDATED],
                 unchanged=counts[Outcome.UNCHANGED],
                 s_added=plural(counts[Outcome.ADDED], locale),
                 s_unchanged=plural(counts[Outcome.UNCHANGED], locale),
                 failed=counts[Outcome.FAILED] + counts[Outcome.SKIPPED])
    return JobResult("\n".join([text, *failures]))


class TeamDocsSkill:
    """A space's documents, fed by its managers from the channel."""

    name = "team_docs"
    title = Text("Documents de l'espace", "Space documents")
    description = Text(
        "Ajoute des documents à cet espace (`add` avec les fichiers), les liste (`list`) ou en "
        "retire un (`remove NOM`) ; tout le monde peut ensuite poser des questions dessus.",
        "Adds documents to this space (`add` with the files), lists them (`list`) or removes "
        "one (`remove NAME`); everyone can then ask questions about them.",
    )
    commands = ("docs", "documents")
    model_roles: tuple[str, ...] = ()

    def __init__(self, knowledge: KnowledgeBase | None, roles: RoleResolver | None, *,
                 batching: Batching | None = None) -> None:
        self._library = knowledge
        self._roles = roles
        self._batching = batching or Batching()
        self.job_tasks: Mapping[str, JobTask] = (
            {"ingest": IngestTask(knowledge, self._batching),
             "ingest_batch": BatchTask(knowledge)} if knowledge is not None else {})

    def bind_jobs(self, service: JobService, settings: Settings) -> None:
        """Called once jobs are wired: large ingestions may then queue batch sub-jobs."""
        self._batching.bind(service, settings)

    @property
    def _knowledge(self) -> KnowledgeBase:
        if self._library is None:
            raise SkillError(_NO_LIBRARY)
        return self._library

    async def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        """``add`` (with files), ``list``, ``remove NAME``."""
        words = request.text.split(maxsplit=1)
        action = words[0].lower() if words else "list"
        argument = words[1].strip() if len(words) > 1 else ""
        if action in ("add", "ajouter", "ajoute"):
            yield await self._add(request)
        elif action in ("list", "liste", "lister"):
            yield await self._list(request)
        elif action in ("remove", "retirer", "supprimer", "retire") and argument:
            yield await self._remove(request, argument)
        else:
            raise SkillError(_USAGE)

    async def _may_change(self, request: SkillRequest) -> None:
        if self._roles is None or not await self._roles.has(
                request.message.user, Role.MANAGER, Role.ADMIN):
            raise SkillError(_MANAGERS_ONLY)

    async def _add(self, request: SkillRequest) -> Reply:
        await self._may_change(request)
        if request.jobs is None:
            raise SkillError(_NO_JOBS)
        attachments = [a for a in request.message.attachments if a.file_id is not None]
        if not attachments:
            raise SkillError(_NO_FILES)
        for attachment in attachments:
            if attachment.kind not in _INGESTIBLE:
                raise SkillError(_NOT_INGESTIBLE, name=attachment.name,
                                 kind=attachment.kind.upper() or "?")
        space = request.message.space
        locale = request.locale
        spec = JobSpec(skill=self.name, task="ingest", title=_TITLE(
            locale, count=len(attachments), s=plural(len(attachments), locale)),
                       params={"collection": space_collection(space.id), "space": space.id,
                               "title": space.name or space.id,
                               "files": [{"id": a.file_id, "name": a.name, "kind": a.kind}
                                         for a in attachments]})
        job = await request.jobs.start(spec, request.message, locale)
        return Reply(_STARTED(locale, count=len(attachments), s=plural(len(attachments), locale),
                              id=job.id[:8]), kind="info",
                     skill=self.name, locale=locale, job_id=job.id)

    async def _list(self, request: SkillRequest) -> Reply:
        locale = request.locale
        documents = await self._documents(request)
        lines = ([_LIST(locale, count=len(documents)), *(f"- {name}" for name in documents)]
                 if documents else [_EMPTY(locale)])
        shared = await self._shared(request)
        if shared:
            lines += ["", _ALSO(locale, count=len(shared), s=plural(len(shared), locale)), *shared]
        return Reply("\n".join(lines), kind="info", skill=self.name, locale=locale)

    async def _shared(self, request: SkillRequest) -> list[str]:
        """The other collections a question asked in this space searches (company-wide or
        attached to it by an administrator), one line each."""
        space = request.message.space.id
        own = space_collection(space)
        try:
            infos = [info for info in await self._knowledge.list_collections()
                     if info.name != own and info.visible_from(space)]
            counts = [len(await self._knowledge.documents(info.name)) for info in infos]
        except KnowledgeError:
            return []
        locale = request.locale
        return [_SHARED_LINE(locale, title=info.title or info.name, documents=count,
                             s=plural(count, locale), reach=(_COMPANY_WIDE if info.company_wide else _ATTACHED)(locale))
                for info, count in zip(infos, counts, strict=True)]

    async def _documents(self, request: SkillRequest) -> list[str]:
        try:
            return await self._knowledge.documents(space_collection(request.message.space.id))
        except KnowledgeError:
            return []

    async def _remove(self, request: SkillRequest, name: str) -> Reply:
        await self._may_change(request)
        locale = request.locale
        documents = await self._documents(request)
        matches = [doc for doc in documents if doc == name] or [
            doc for doc in documents if doc.rsplit("/", 1)[-1] == name]
        if not matches:
            raise SkillError(_NOT_FOUND, name=name)
        if len(matches) > 1:
            raise SkillError(_AMBIGUOUS, name=name)
        removed = await self._knowledge.delete_document(
            space_collection(request.message.space.id), matches[0])
        return Reply(_REMOVED(locale, name=matches[0], chunks=removed, s=plural(removed, locale)), kind="info",
                     skill=self.name, locale=locale)
