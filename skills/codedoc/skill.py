"""``/almia doc``: code in (a ZIP, a text file or pasted code), reference docs, a verified
documentation patch and test skeletons out, as a job.

Nothing received is executed: files are read as text and parsed. With a generative model
approved for the ``code`` role, the job asks it for each public unit's purpose from that
unit's code and its callers only, secrets redacted first; offline, the documentation is
structural and says so.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping

from bot.files.intake import FileRejected, safe_name
from bot.governance.policy import DataClass
from bot.i18n import Text, grouped, plural
from bot.jobs.model import JobContext, JobFailed, JobResult, JobSpec, JobTask
from bot.messages import Locale, Message, Reply, ReplyEvent
from bot.skills import SkillError, SkillRequest
from bot.text import fold
from skills.codedoc.sources import (
    Sources,
    encoding_of,
    from_snippet,
    from_text_file,
    from_zip,
)

_USAGE = Text(
    "Joignez un ZIP du code (Python, Java, JavaScript/TypeScript, C#, SQL, COBOL avec "
    "copybooks, JCL) à `/almia doc`, ou collez une fonction après la commande : j'en tire la "
    "documentation de référence, un correctif de commentaires vérifié et des squelettes de "
    "tests.",
    "Attach a ZIP of the code (Python, Java, JavaScript/TypeScript, C#, SQL, COBOL with "
    "copybooks, JCL) to `/almia doc`, or paste a function after the command: I produce the reference "
    "documentation, a verified comment patch and test skeletons.")
_ONE_FILE = Text("Envoyez un seul ZIP (ou un seul fichier texte) à la fois.",
                 "Send one ZIP (or one text file) at a time.")
_NOT_CODE = Text("« {name} » ({kind}) n'est pas du code : envoyez un ZIP des sources ou un "
                 "fichier texte.", "“{name}” ({kind}) is not code: send a ZIP of the sources or "
                 "a text file.")
_NO_CODE = Text("Je ne reconnais pas de code dans ce texte (Python, Java, JavaScript, SQL, "
                "COBOL, JCL). Collez-le dans un bloc ``` ou joignez un ZIP.",
                "I do not recognise code in this text (Python, Java, JavaScript, SQL, COBOL, "
                "JCL). Paste it in a ``` block or attach a ZIP.")
_NO_JOBS = Text("Les tâches de fond ne sont pas activées sur ce serveur.",
                "Background jobs are not enabled on this server.")
_STARTED = Text("C'est parti : je documente « {name} » (tâche `{id}`). Je posterai ici la "
                "synthèse, la documentation (Markdown et HTML), le correctif et les squelettes "
                "de tests ; `/almia jobs` montre l'avancement.",
                "On it: documenting “{name}” (job `{id}`). I will post the summary, the "
                "documentation (Markdown and HTML), the patch and the test skeletons here; "
                "`/almia jobs` shows the progress.")
_TITLE = Text("Documentation du code", "Code documentation")
_READING = Text("lecture du code", "reading the code")
_PARSED = Text("{files} fichier{s}, {lines} lignes analysés",
               "{files} file{s}, {lines} lines parsed")
_MODEL = Text("objet des unités par le modèle", "unit purposes by the model")
_WRITING = Text("documentation et vérification du correctif",
                "documentation and patch verification")
_PASTED = Text("code collé", "pasted code")
_ARTEFACTS = {"docs": Text("documentation-code.zip", "code-documentation.zip"),
              "html": Text("documentation-code.html", "code-documentation.html")}
_SNIPPET_LIMIT = 200_000
# « lang=en », « langue : anglais », « --lang fr »: the documentation's language
_LANGUAGE = re.compile(r"(?:--)?\b(?:lang|langue|language)\s*[=: ]\s*"
                       r"(en|fr|english|anglais|french|fran[cç]ais)\b", re.I)
_INTENT = re.compile(r"\b(?:retro-?)?document(?:e|er|ez|ation|s)?\b.*\b(?:code|programmes?|"
                     r"sources?|cobol|java|python|javascript|sql|jcl|patrimoine)\b")
_TEXT_KINDS = frozenset({"txt", "md"})


def mentions_code(message: Message) -> bool:
    """A plain message with a ZIP attached that asks for code documentation."""
    return (any(a.kind == "zip" for a in message.attachments)
            and _INTENT.search(fold(message.text)) is not None)


class DocumentTask:
    """The job: read the code, (ask the model), write and verify the outputs."""

    async def run(self, context: JobContext) -> JobResult:
        """Sources → inventory → purposes (model) → docs, patch, skeletons as artefacts."""
        from skills.codedoc import inventory
        from skills.codedoc.comment_language import comment_locale
        from skills.codedoc.pipeline import NothingToDocument, finish
        from skills.codedoc.secrets import Redactor
        from skills.codedoc.syntax import Parsers
        from skills.codedoc.writer import PurposeWriter, generative_model_approved

        job = context.job
        locale: Locale = "en" if job.params.get("language", job.reply_to.locale) == "en" else "fr"
        await context.progress(0.0, _READING(locale))
        sources = await self._sources(context)
        if not sources.texts:
            raise JobFailed(NothingToDocument.text)
        parsers = Parsers()
        found = await asyncio.to_thread(inventory.build, sources, parsers)
        await context.progress(0.3, _PARSED(locale, files=len(found.files),
                                                s=plural(len(found.files), locale),
                                                lines=grouped(found.lines, locale)))
        # what goes into the code follows its own comments unless a language was asked for
        comments = (locale if job.params.get("language_asked")
                    else comment_locale(found) or locale)
        redactor = Redactor()
        purposes: Mapping[str, str] = {}
        models = context.models
        if models is not None and generative_model_approved(models):
            await context.progress(0.35, _MODEL(locale))
            declared = job.params.get("data_class")
            data_class = DataClass.parse(str(declared)) if declared else DataClass.CONFIDENTIAL

            async def advance(share: float) -> None:
                await context.progress(0.35 + 0.45 * share, _MODEL(locale))

            purposes = await PurposeWriter(models, comments, redactor,
                                           data_class=data_class).write(found, advance)
        await context.progress(0.8, _WRITING(locale))
        outputs = await asyncio.to_thread(finish, sources, found, locale, purposes, parsers,
                                          redactor, comments)
        ids = [await context.add_artefact(_ARTEFACTS["docs"](locale), "application/zip",
                                          outputs.docs_zip()),
               await context.add_artefact(_ARTEFACTS["html"](locale), "text/html",
                                          outputs.html)]
        if outputs.patch:
            ids.append(await context.add_artefact("documentation.patch", "text/x-diff",
                                                  outputs.patch))
        ids.append(await context.add_artefact("inventory.json", "application/json",
                                              outputs.inventory_json()))
        return JobResult(outputs.summary, tuple(ids))

    @staticmethod
    async def _sources(context: JobContext) -> Sources:
        params = context.job.params
        if "snippet" in params:
            return from_snippet(str(params["snippet"]))
        data = await context.read_file(str(params["file_id"]))
        if params.get("kind") == "zip":
            try:
                return await asyncio.to_thread(from_zip, str(params["name"]), data)
            except FileRejected as rejected:
                raise JobFailed(rejected.text, **rejected.values) from None
        if params.get("kind") == "md":  # prose around code: its first fenced block
            return from_snippet(data.decode(encoding_of(data)))
        return from_text_file(str(params["name"]), data)


class CodeDocSkill:
    """Code → reference documentation, verified comment patch, test skeletons (a job)."""

    name = "codedoc"
    title = Text("Documentation du code", "Code documentation")
    description = Text(
        "Documente ou rétro-documente du code (ZIP joint ou code collé) : Python, Java, "
        "JavaScript, SQL, COBOL et JCL ; pages de référence, graphe d'appels, correctif de "
        "commentaires vérifié, squelettes de tests.",
        "Documents or retro-documents code (attached ZIP or pasted code): Python, Java, "
        "JavaScript, SQL, COBOL and JCL; reference pages, call graph, verified comment patch, "
        "test skeletons.")
    commands = ("doc", "code")
    model_roles = ("code",)
    wants = staticmethod(mentions_code)  # a ZIP attached and « documente ce code »

    def __init__(self) -> None:
        self.job_tasks: Mapping[str, JobTask] = {"document": DocumentTask()}

    async def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        """Check what was sent, start the job."""
        locale = request.locale
        attachments = [a for a in request.message.attachments if a.file_id is not None]
        if len(attachments) > 1:
            raise SkillError(_ONE_FILE)
        if request.jobs is None:
            raise SkillError(_NO_JOBS)
        params: dict[str, object]
        asked = _LANGUAGE.search(fold(request.text))
        language = (("en" if asked.group(1).startswith(("en", "an")) else "fr") if asked
                    else locale)
        if attachments:
            attachment = attachments[0]
            if attachment.kind != "zip" and attachment.kind not in _TEXT_KINDS:
                raise SkillError(_NOT_CODE, name=attachment.name,
                                 kind=attachment.kind.upper() or "?")
            name = safe_name(attachment.name)
            params = {"file_id": attachment.file_id, "name": name, "kind": attachment.kind,
                      "data_class": attachment.data_class}  # as classified on arrival
        else:
            text = _LANGUAGE.sub(" ", request.text).strip() if asked else request.text.strip()
            if not text and not asked:  # the bare command: how to use it
                yield Reply(_USAGE(locale), kind="info", skill=self.name, locale=locale)
                return
            if not text:
                raise SkillError(_USAGE)
            if len(text) > _SNIPPET_LIMIT or not from_snippet(text).texts:
                raise SkillError(_NO_CODE)
            name = _PASTED(locale)
            params = {"snippet": text}
        spec = JobSpec(skill=self.name, task="document", title=f"{_TITLE(locale)} — {name}",
                       params={**params, "language": language,
                               "language_asked": asked is not None})
        job = await request.jobs.start(spec, request.message, locale)
        yield Reply(_STARTED(locale, name=name, id=job.id[:8]), kind="info", skill=self.name,
                    locale=locale, job_id=job.id)
