"""``/template …``: saved prompt templates with variables, shared, versioned, measured.

``list [filtre]``, ``show NOM[@v]``, ``history NOM``, ``use NOM[@v] var=valeur … [texte]``,
``save NOM[@v] [title="…"] [tags=a,b] [texte]`` (the text, else the thread's last prompt),
``share NOM team|company``, ``archive NOM``. A run goes to the gateway with the template's
skill and model role (default ``templates``/``generate``), and only to a generative model:
with none approved (the offline extractive mode), the reply shows the filled prompt, says
how an administrator approves a model for that role and, when the template asks a question
over the documents, adds the passages that answer it, cited. Every run is recorded.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.gateway.llm import (
    ChatTurn,
    CompletionRequest,
    ContextPassage,
    ModelGateway,
    NeedsGeneration,
)
from bot.governance.policy import DataClass
from bot.governance.roles import Role, RoleResolver
from bot.i18n import Text, colon
from bot.messages import Citation, Delta, Locale, Message, Progress, Reply, ReplyEvent
from bot.routing import SkillRouter, UnknownCommand
from bot.skills import SkillError, SkillRequest
from bot.store import conversation_key
from bot.store.templates import (
    DEFAULT_ROLE,
    DEFAULT_SKILL,
    Actor,
    NameTaken,
    NotAllowed,
    NotInSpace,
    RunRecord,
    Scope,
    Template,
    TemplateContent,
    TemplateNotFound,
    TemplateStore,
    TemplateStoreError,
    VersionConflict,
)
from bot.text import split_sentences
from skills.qa import DocumentSearch, QaSkill, shown_passage
from skills.template_syntax import (
    NAME_PATTERN,
    Arguments,
    TemplateSyntaxError,
    Variable,
    fill,
    missing,
    parse_arguments,
    parse_variables,
)

log = logging.getLogger(__name__)

LIBRARY_DIR = Path(__file__).with_name("templates_library")
_SUBCOMMANDS = {
    "list": "list", "liste": "list", "lister": "list",
    "show": "show", "voir": "show", "afficher": "show",
    "history": "history", "historique": "history",
    "use": "use", "utiliser": "use", "run": "use",
    "save": "save", "enregistrer": "save", "sauver": "save",
    "share": "share", "partager": "share",
    "archive": "archive", "archiver": "archive",
}
_SCOPE_WORDS: dict[str, Scope] = {"team": "team", "équipe": "team", "equipe": "team",
                                  "company": "company", "entreprise": "company",
                                  "personal": "personal", "personnel": "personal"}
_SAVE_OPTIONS = frozenset({"title", "titre", "description", "tags", "skill", "role"})

USAGE = Text(
    "Modèles de prompts :\n"
    "- `/template list [filtre]` : les modèles que vous pouvez utiliser\n"
    "- `/template use NOM variable=valeur …` : lancer un modèle (un formulaire s'ouvre s'il "
    "manque des variables)\n"
    "- `/template show NOM` · `/template history NOM`\n"
    "- `/template save NOM texte avec {{{{variable}}}}` (sans texte : votre dernier message)\n"
    "- `/template share NOM team|company` · `/template archive NOM`\n"
    "Variables : {{{{client}}}}, {{{{montant:number}}}}, {{{{ton:choice=formel|amical}}}}, "
    "{{{{delai=8 jours}}}}.",
    "Prompt templates:\n"
    "- `/template list [filter]`: the templates you can use\n"
    "- `/template use NAME variable=value …`: run a template (a form opens when variables "
    "are missing)\n"
    "- `/template show NAME` · `/template history NAME`\n"
    "- `/template save NAME text with {{{{variable}}}}` (no text: your last message)\n"
    "- `/template share NAME team|company` · `/template archive NAME`\n"
    "Variables: {{{{client}}}}, {{{{amount:number}}}}, {{{{tone:choice=formal|friendly}}}}, "
    "{{{{delay=8 days}}}}.",
)
_UNAVAILABLE = Text("Les modèles de prompts ne sont pas disponibles sur cette installation.",
                    "Prompt templates are not available on this installation.")
_UNKNOWN_SUBCOMMAND = Text("« {word} » n'est ni une commande de `/template` ni un modèle que vous "
                           "pouvez utiliser (`/template list` les montre).\n\n{usage}",
                           "“{word}” is neither a `/template` command nor a template you can "
                           "use (`/template list` shows them).\n\n{usage}")
_NEED_NAME = Text("Indiquez le nom du modèle : /template {command} NOM.",
                  "Give the template's name: /template {command} NAME.")
_BAD_NAME = Text(
    "« {name} » n'est pas un nom de modèle valide : 2 à 63 caractères, minuscules sans accent, "
    "chiffres et tirets (par exemple « relance-client »).",
    "“{name}” is not a valid template name: 2 to 63 characters, lowercase letters without "
    "accents, digits and hyphens (for example “customer-reminder”).",
)
_NOT_FOUND = Text(
    "Je ne trouve aucun modèle « {name} » parmi ceux qui vous sont accessibles. "
    "« /template list » les affiche.",
    "I can't find a template “{name}” among those you can access. “/template list” shows them.",
)
_NO_SUCH_VERSION = Text("Le modèle « {name} » n'a pas de version {version}.",
                        "Template “{name}” has no version {version}.")
_ARCHIVED = Text("Le modèle « {name} » est archivé.", "Template “{name}” is archived.")
_NAME_TAKEN = Text(
    "Le nom « {name} » est déjà pris par un autre modèle à cet endroit (le vôtre, celui de "
    "l'équipe ou de l'entreprise) : enregistrez le vôtre sous un autre nom.",
    "The name “{name}” is already used by another template there (yours, the team's or the "
    "company's): save yours under another name.",
)
_NOT_ALLOWED = Text(
    "Vous ne pouvez pas modifier le modèle « {name} » : {why}. Rien n'a été changé.",
    "You can't change template “{name}”: {why}. Nothing was changed.",
)
_WHY = {
    "personal": Text("seul son auteur modifie un modèle personnel",
                     "only its author edits a personal template"),
    "team": Text("les modèles d'équipe sont modifiés par les champions et managers de l'espace",
                 "team templates are edited by the space's champions and managers"),
    "company": Text("les modèles d'entreprise sont modifiés par les administrateurs",
                    "company templates are edited by administrators"),
    "share_team": Text("partager avec l'équipe est réservé aux champions et managers",
                        "sharing with the team is for champions and managers"),
    "share_company": Text("partager avec toute l'entreprise est réservé aux administrateurs",
                          "sharing with the whole company is for administrators"),
}
_NOT_IN_SPACE = Text(
    "Vous n'êtes pas dans l'espace « {space} » : lancez « /template share NOM team » depuis "
    "le canal de l'équipe. Rien n'a été changé.",
    "You are not in space “{space}”: run “/template share NAME team” from the team's "
    "channel. Nothing was changed.",
)
_PERSONAL_SPACE = Text(
    "Cette conversation est personnelle : partagez avec l'équipe depuis son canal, ou "
    "nommez son espace : « /template share {name} team ESPACE » (par exemple web:sinistres).",
    "This conversation is personal: share with the team from its channel, or name its "
    "space: “/template share {name} team SPACE” (for example web:claims).",
)
_CONFLICT = Text(
    "Conflit : le modèle « {name} » est passé en version {current} pendant que vous partiez de "
    "la version {expected}. Relisez-le (« /template show {name} ») puis recommencez avec "
    "« {name}@{current} ». Rien n'a été changé.",
    "Conflict: template “{name}” moved to version {current} while you started from version "
    "{expected}. Read it again (“/template show {name}”) then retry with “{name}@{current}”. "
    "Nothing was changed.",
)
_NOTHING_TO_SAVE = Text(
    "Donnez le texte du modèle après son nom, ou envoyez d'abord le message à enregistrer.",
    "Give the template's text after its name, or send the message to save first.",
)
_BAD_OPTION = Text("Option inconnue « {name} » (options : title, description, tags, skill, "
                   "role).", "Unknown option “{name}” (options: title, description, tags, "
                   "skill, role).")
_BAD_SCOPE = Text("Partager avec qui ? « /template share {name} team » ou « … company ».",
                  "Share with whom? “/template share {name} team” or “… company”.")
_NONE = Text("aucune", "none")
_SINGLE_BRACES = Text(
    "Des accolades simples ({found}) ne font pas une variable : écrivez {example}, avec deux "
    "accolades, puis enregistrez de nouveau le texte.",
    "Single braces ({found}) do not make a variable: write {example}, with two braces, then "
    "save the text again.")
_SINGLE_BRACE = re.compile(r"(?<!\{)\{[^{}\s]{1,40}\}(?!\})")
_SAVED = Text("Modèle « {name} » enregistré (version {version}, {scope}). Variables : {vars}.",
              "Template “{name}” saved (version {version}, {scope}). Variables: {vars}.")
_SHADOWS = Text("Il passe avant le modèle « {name} » {scope} pour vous, qui reste tel quel ; "
                "archivez le vôtre (`/template archive {name}`) pour retrouver celui-ci.",
                "For you it comes before the {scope} template “{name}”, which stays as it is; "
                "archive yours (`/template archive {name}`) to get that one back.")
_HIDDEN = Text(" — remplacé pour vous par celui du dessus",
               " — replaced for you by the one above")
_SCOPE_OF = {"team": Text("de l'équipe", "team's"), "company": Text("de l'entreprise", "company"),
             "personal": Text("personnel", "personal")}
_SHARED = Text("Modèle « {name} » partagé : {scope} (version {version}).",
               "Template “{name}” shared: {scope} (version {version}).")
_ARCHIVED_DONE = Text("Modèle « {name} » archivé (version {version}).",
                      "Template “{name}” archived (version {version}).")
_EMPTY_LIST = Text("Aucun modèle ne correspond. « /template save NOM texte » en crée un.",
                   "No template matches. “/template save NAME text” creates one.")
_LIST_HEADER = Text("Modèles disponibles ({count}) :", "Available templates ({count}):")
_HISTORY_HEADER = Text("Historique de « {name} » :", "History of “{name}”:")
_RUNNING = Text("Exécution du modèle « {name} »…", "Running template “{name}”…")
_RAN = Text("_Modèle « {name} », version {version}. Brouillon à relire avant tout usage._",
            "_Template “{name}”, version {version}. Draft to review before any use._")
_NOT_RUN = Text("_Modèle « {name} », version {version} : non exécuté._",
                 "_Template “{name}”, version {version}: not run._")
_OFFLINE = Text(
    "**Ce modèle n'a pas été exécuté** : aucun modèle génératif n'est approuvé pour le rôle "
    "« {role} » de « {skill} » (seul le mode extractif hors ligne, qui ne rédige pas, est "
    "configuré). Pour qu'Almia l'exécute, un administrateur ajoute un modèle génératif dans "
    "le fichier de politique, sous `skills.{skill}.roles.{role}` (voir README, « Brancher un "
    "modèle »).",
    "**This template was not run**: no generative model is approved for role “{role}” of "
    "“{skill}” (only the offline extractive mode, which does not write, is configured). For "
    "Almia to run it, an administrator adds a generative model to the policy file, under "
    "`skills.{skill}.roles.{role}` (see README, “Plugging in a model”).",
)
_NOT_CLEARED = Text(
    "**Ce modèle n'a pas été exécuté** : le modèle approuvé pour ce rôle ({aliases}) n'est pas "
    "habilité pour les données de cette demande ; rien ne lui a été envoyé.",
    "**This template was not run**: the model approved for this role ({aliases}) is not "
    "cleared for the data in this request; nothing was sent to it.",
)
_PROMPT_HEADER = Text("**Prompt rempli** (à relire, ou à exécuter avec un outil autorisé) :",
                      "**Filled prompt** (to review, or to run with an approved tool):")
_PASSAGES_HEADER = Text(
    "**Passages des documents** qui répondent à la question du modèle (cités tels quels, "
    "sans rédaction) :",
    "**Document passages** answering the template's question (quoted as they are, not "
    "rewritten):")
_NO_PASSAGE = Text(
    "Aucun document accessible depuis cet espace ne répond à la question du modèle.",
    "No document available in this space answers the template's question.")
_CITATION_MARK = re.compile(r"\[(\d{1,2})\]")
_FORM_PROMPT = Text("Complétez les variables du modèle « {title} ».",
                    "Fill in the variables of template “{title}”.")
_SCOPE_LABEL = {"personal": Text("personnel", "personal"), "team": Text("équipe", "team"),
                "company": Text("entreprise", "company")}
_CHANGE_LABEL = {"create": Text("création", "created"), "edit": Text("modification", "edited"),
                 "share": Text("partage", "shared"), "archive": Text("archivage", "archived"),
                 "restore": Text("restauration", "restored"),
                 "import": Text("import", "imported")}
_SYSTEM = Text(
    "Tu es l'assistant interne d'une compagnie d'assurance. Suis la consigne de l'utilisateur ; "
    "le résultat est un brouillon qu'un collaborateur relira. N'invente aucun fait. "
    "Réponds en français.",
    "You are an insurance company's internal assistant. Follow the user's instruction; the "
    "result is a draft a colleague will review. Invent no fact. Answer in English.",
)


@dataclass(frozen=True, slots=True)
class TemplateForm:
    """What a channel needs to ask for a template's missing variables."""

    name: str
    version: int
    title: str
    prompt: str
    variables: tuple[Variable, ...]
    values: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form (web chat)."""
        return {"name": self.name, "version": self.version, "title": self.title,
                "prompt": self.prompt, "values": self.values,
                "variables": [{"name": v.name, "type": v.type, "default": v.default,
                               "choices": list(v.choices), "required": v.required}
                              for v in self.variables]}


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    """One template of a YAML file (starter library, admin import/export)."""

    name: str
    content: TemplateContent
    scope: Scope = "company"
    space_id: str | None = None
    owner_id: str = "system"


def parse_library(text: str) -> list[LibraryEntry]:
    """Templates from YAML (one mapping or a list); raises ValueError naming the bad entry."""
    data = yaml.safe_load(text)
    items = data if isinstance(data, list) else [data]
    entries = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValueError(f"entry {index}: a mapping with a `name` is expected")
        name = item["name"]
        if not NAME_PATTERN.match(name):
            raise ValueError(f"{name}: invalid name")
        body = str(item.get("body", ""))
        try:
            parse_variables(body)
        except TemplateSyntaxError as error:
            raise ValueError(f"{name}: {error}") from None
        scope = item.get("scope", "company")
        if scope not in ("personal", "team", "company"):
            raise ValueError(f"{name}: invalid scope {scope!r}")
        entries.append(LibraryEntry(
            name=name,
            content=TemplateContent(
                title=str(item.get("title") or name), body=body,
                description=str(item.get("description") or ""),
                skill=str(item.get("skill") or DEFAULT_SKILL),
                role=str(item.get("role") or DEFAULT_ROLE),
                tags=tuple(str(tag) for tag in item.get("tags") or ())),
            scope=scope, space_id=item.get("space"), owner_id=str(item.get("owner") or "system")))
    return entries


def dump_library(templates: Sequence[Template]) -> str:
    """Templates as YAML (the format :func:`parse_library` reads)."""
    return yaml.safe_dump([
        {"name": t.name, "title": t.content.title, "description": t.content.description,
         "tags": list(t.content.tags), "skill": t.content.skill, "role": t.content.role,
         "scope": t.scope, "space": t.space_id, "owner": t.owner_id, "version": t.latest,
         "archived": t.archived, "body": t.content.body}
        for t in templates], allow_unicode=True, sort_keys=False)


def starter_library(directory: Path = LIBRARY_DIR) -> list[LibraryEntry]:
    """The starter templates shipped with Almia."""
    return [entry for path in sorted(directory.glob("*.yaml"))
            for entry in parse_library(path.read_text(encoding="utf-8"))]


def _split_target(word: str) -> tuple[str, int | None]:
    """``nom@3`` → (``nom``, 3)."""
    name, _, version = word.partition("@")
    return name.lower(), int(version) if version.isdigit() else None


def _single_braces(body: str) -> list[str]:
    """Placeholders written with one pair of braces (« {client} »), in order, once each."""
    return list(dict.fromkeys(_SINGLE_BRACE.findall(body)))


class TemplatesSkill:
    """Prompt templates: list, show, history, use (with forms), save, share, archive."""

    name = "templates"
    title = Text("Modèles de prompts", "Prompt templates")
    description = Text(
        "Enregistre, partage et réutilise des prompts à variables (« /template list »).",
        "Saves, shares and reuses prompts with variables (“/template list”).",
    )
    commands = ("template", "modèle", "templates")
    model_roles = (DEFAULT_ROLE,)

    def __init__(self, store: TemplateStore | None = None, roles: RoleResolver | None = None,
                 library: Sequence[LibraryEntry] = (), knowledge: DocumentSearch | None = None,
                 *, min_score: float = QaSkill.DEFAULT_MIN_SCORE) -> None:
        self._store = store
        self._roles = roles or RoleResolver({})
        self._library = tuple(library)
        self._knowledge = knowledge
        self._min_score = min_score

    @property
    def store(self) -> TemplateStore:
        """The template store (refuses politely when none is wired)."""
        if self._store is None:
            raise SkillError(_UNAVAILABLE)
        return self._store

    async def actor(self, message: Message) -> Actor:
        """Who sends ``message``, from where, with which roles."""
        return Actor(message.user.id, message.space.id, await self._roles.roles_of(message.user))

    async def prepare(self) -> None:
        """Load the starter library into the store if absent (once per process)."""
        if self._store is not None and self._library:
            await self._store.ensure((e.name, e.content) for e in self._library)

    async def _as_written(self, message: Message, text: str) -> str:
        """``text`` with ``use`` put back when it starts with a template's name rather than a
        sub-command (« /template courrier-relance client=Dupont » runs it)."""
        word, _, _ = text.strip().partition(" ")
        if not word or _SUBCOMMANDS.get(word.lower()) is not None or self._store is None or (
                word.lower() in ("help", "aide")):
            return text
        name, version = _split_target(word)
        await self.prepare()
        try:
            await self._store.find(name, await self.actor(message), version)
        except (TemplateStoreError, SkillError):
            return text
        return f"use {text.strip()}"

    async def form_for(self, message: Message, text: str, locale: Locale) -> TemplateForm | None:
        """The form to show when ``text`` (``use NOM …``) leaves required variables empty."""
        text = await self._as_written(message, text)
        word, _, rest = text.strip().partition(" ")
        if _SUBCOMMANDS.get(word.lower()) != "use" or self._store is None:
            return None
        target, _, arguments_text = rest.strip().partition(" ")
        if not target:
            return None
        name, version = _split_target(target)
        await self.prepare()
        try:
            template = await self._store.find(name, await self.actor(message), version)
            variables = parse_variables(template.content.body)
            arguments = parse_arguments(arguments_text, spaced=True)
        except (TemplateStoreError, TemplateSyntaxError):
            return None  # the skill itself explains
        if template.archived:
            return None
        absent = missing(variables, arguments)
        if not absent or (arguments.rest and len(absent) == 1):
            return None
        return TemplateForm(template.name, template.version, template.content.title,
                            _FORM_PROMPT(locale, title=template.content.title), variables,
                            dict(arguments.values))

    async def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        """Dispatch the sub-command."""
        locale = request.locale
        text = await self._as_written(request.message, request.text)
        word, _, rest = text.strip().partition(" ")
        if not word or word.lower() in ("help", "aide"):
            yield self._reply(USAGE(locale), locale)
            return
        command = _SUBCOMMANDS.get(word.lower())
        if command is None:
            raise SkillError(_UNKNOWN_SUBCOMMAND, word=word[:40], usage=USAGE(locale))
        await self.prepare()
        try:
            if command == "use":
                async for event in self._use(request, rest.strip()):
                    yield event
                return
            text = await getattr(self, f"_{command}")(request, rest.strip())
        except TemplateSyntaxError as error:
            raise SkillError(error.text, **error.values) from None
        except TemplateStoreError as error:
            raise self._refusal(error, locale) from None
        yield self._reply(text, locale)

    # -- sub-commands ---------------------------------------------------------------------

    async def _list(self, request: SkillRequest, rest: str) -> str:
        locale = request.locale
        found = await self.store.visible(await self.actor(request.message), rest)
        if not found:
            return _EMPTY_LIST(locale)
        lines = [_LIST_HEADER(locale, count=len(found))]
        for index, template in enumerate(found):
            scope = _SCOPE_LABEL[template.scope](locale)
            tags = f" — {', '.join(template.content.tags)}" if template.content.tags else ""
            hidden = (_HIDDEN(locale) if index and found[index - 1].name == template.name
                      and not found[index - 1].archived else "")
            lines.append(f"- **{template.name}**{colon(locale)}{template.content.title} ({scope}, "
                         f"v{template.latest}){tags}{hidden}")
        return "\n".join(lines)

    async def _show(self, request: SkillRequest, rest: str) -> str:
        name, version = self._target(rest, "show")
        template = await self.store.find(name, await self.actor(request.message), version)
        locale = request.locale
        variables = parse_variables(template.content.body)
        described = ", ".join(_describe(v) for v in variables) or "-"
        fr = locale != "en"
        lines = [f"**{template.content.title}** (`{template.name}`, v{template.version}"
                 f"{'' if template.version == template.latest else f' / v{template.latest}'})",
                 template.content.description,
                 f"{'Portée' if fr else 'Scope'}{colon(locale)}"
                 f"{_SCOPE_LABEL[template.scope](locale)} — "
                 f"{'auteur' if fr else 'owner'}{colon(locale)}{template.owner_id}",
                 f"Variables{colon(locale)}{described}",
                 "", template.content.body]
        return "\n".join(line for line in lines if line is not None)

    async def _history(self, request: SkillRequest, rest: str) -> str:
        name, _ = self._target(rest, "history")
        versions = await self.store.history(name, await self.actor(request.message))
        lines = [_HISTORY_HEADER(request.locale, name=name)]
        locale = request.locale
        lines.extend(f"- v{v.version} · {v.created_at:%Y-%m-%d %H:%M} · {v.author_id} · "
                     f"{_CHANGE_LABEL[v.change](locale) if v.change in _CHANGE_LABEL else v.change}"
                     f" · {_SCOPE_LABEL[v.scope](locale) if v.scope in _SCOPE_LABEL else v.scope}"
                     f" · {v.title}" for v in versions)
        return "\n".join(lines)

    async def _save(self, request: SkillRequest, rest: str) -> str:
        target, _, body_text = rest.partition(" ")
        name, base = self._target(target, "save")
        if not NAME_PATTERN.match(name):
            raise SkillError(_BAD_NAME, name=name[:64])
        options = parse_arguments(body_text)
        for key in options.values:
            if key not in _SAVE_OPTIONS:
                raise SkillError(_BAD_OPTION, name=key)
        body = options.rest or _last_prompt(request)
        if not body:
            raise SkillError(_NOTHING_TO_SAVE)
        variables = parse_variables(body)
        actor = await self.actor(request.message)
        values = options.values
        tags = tuple(t.strip() for t in values.get("tags", "").split(",") if t.strip())
        current: Template | None = await self.store.own(name, actor)
        if current is None:
            try:
                current = await self.store.find(name, actor)
            except TemplateNotFound:
                current = None
        shadowed = None  # the team's or company's template of that name, kept as it is
        if current is not None and current.scope != "personal" \
                and not self.store.can_edit(current, actor):
            shadowed, current = current, None
        content = TemplateContent(
            title=values.get("title") or values.get("titre")
            or (current.content.title if current else name),
            body=body,
            description=values.get("description", current.content.description if current else ""),
            skill=values.get("skill", current.content.skill if current else DEFAULT_SKILL),
            role=values.get("role", current.content.role if current else DEFAULT_ROLE),
            tags=tags or (current.content.tags if current else ()),
        )
        if current is None:
            saved = await self.store.create(name, content, actor)
        else:
            saved = await self.store.edit(name, content, actor, base or current.latest,
                                          template_id=current.id, restore=current.archived)
        said = _SAVED(request.locale, name=name, version=saved.version,
                      scope=_SCOPE_LABEL[saved.scope](request.locale),
                      vars=", ".join(v.name for v in variables) or _NONE(request.locale))
        if shadowed is not None:
            said += " " + _SHADOWS(request.locale, name=name,
                                   scope=_SCOPE_OF[shadowed.scope](request.locale))
        single = _single_braces(body) if not variables else []
        if single:  # « {client} » was meant as a variable, most likely
            said += " " + _SINGLE_BRACES(request.locale, found=", ".join(single[:3]),
                                         example="{{" + single[0].strip("{}") + "}}")
        return said

    async def _share(self, request: SkillRequest, rest: str) -> str:
        target, _, where = rest.partition(" ")
        name, base = self._target(target, "share")
        scope_word, _, space = where.strip().partition(" ")
        scope = _SCOPE_WORDS.get(scope_word.lower())
        if scope is None:
            raise SkillError(_BAD_SCOPE, name=name)
        message = request.message
        space_id = space.strip() or None
        if scope == "team" and space_id is None and message.space.kind == "personal":
            raise SkillError(_PERSONAL_SPACE, name=name)
        actor = await self.actor(message)
        current = await self.store.find(name, actor)
        shared = await self.store.share(name, scope, actor, base or current.latest, space_id)
        return _SHARED(request.locale, name=name, scope=_SCOPE_LABEL[shared.scope](request.locale),
                       version=shared.version)

    async def _archive(self, request: SkillRequest, rest: str) -> str:
        name, base = self._target(rest, "archive")
        actor = await self.actor(request.message)
        current = await self.store.find(name, actor)
        archived = await self.store.archive(name, actor, base or current.latest)
        return _ARCHIVED_DONE(request.locale, name=name, version=archived.version)

    async def _use(self, request: SkillRequest, rest: str) -> AsyncIterator[ReplyEvent]:
        target, _, arguments_text = rest.partition(" ")
        name, version = self._target(target, "use")
        message = request.message
        template = await self.store.find(name, await self.actor(message), version)
        if template.archived:
            raise SkillError(_ARCHIVED, name=name)
        arguments: Arguments = parse_arguments(arguments_text, spaced=True)
        filled = fill(name, template.content.body, parse_variables(template.content.body),
                      arguments)
        locale = request.locale
        yield Progress(_RUNNING(locale, name=name))
        content = template.content
        completion = CompletionRequest(
            skill=content.skill, role=content.role,
            messages=(ChatTurn("system", _SYSTEM(locale)), ChatTurn("user", filled)),
            question=content.title, passages=(ContextPassage(1, content.title, filled),),
            locale=locale, requires_generation=True,
        )
        chosen: list[str] = []
        parts: list[str] = []
        started = time.perf_counter()
        reply: Reply | None = None
        try:
            async for delta in request.models.stream(completion, on_model=chosen.append):
                parts.append(delta)
                yield Delta(delta)
        except NeedsGeneration:
            if parts:
                raise
            reply = await self._offline(request, template, filled, chosen)
        model = chosen[0] if chosen else None
        await self._record(request, template, model, (time.perf_counter() - started) * 1000)
        if reply is None:
            answer = "".join(parts).strip()
            reply = Reply(f"{answer}\n\n{_RAN(locale, name=name, version=template.version)}",
                          skill=self.name, model=model, locale=locale)
        yield reply

    async def _record(self, request: SkillRequest, template: Template, model: str | None,
                      latency: float) -> None:
        """Remember the run for the template analytics (a failure there loses only that)."""
        message = request.message
        try:
            await self.store.record_run(RunRecord(
                template=template, user_id=message.user.id, space_id=message.space.id,
                channel=message.channel.value, conversation_id=conversation_key(message),
                skill=template.content.skill, model_alias=model, latency_ms=latency,
                turn_id=request.turn_id))
        except Exception:
            log.exception("could not record the run of template %s", template.name)

    async def _offline(self, request: SkillRequest, template: Template, filled: str,
                       chosen: list[str]) -> Reply:
        """No generative model may run the template: the filled prompt, why, and what is real.

        What is real offline: when the template asks a question, the passages of the
        documents visible from the space that answer it, cited (never the prompt's own text).
        """
        locale = request.locale
        content = template.content
        why = _why_not_run(request.models, content.skill, content.role, locale)
        blocks = [why]
        citations: tuple[Citation, ...] = ()
        question = _question(filled)
        if question and self._knowledge is not None:
            answer, citations = await self._passages(request, content.skill, content.role,
                                                     question, chosen)
            blocks.append(f"{_PASSAGES_HEADER(locale)}\n{answer}" if citations
                          else _NO_PASSAGE(locale))
        blocks.append(f"{_PROMPT_HEADER(locale)}\n{filled.strip()}")
        blocks.append(_NOT_RUN(locale, name=template.name, version=template.version))
        return Reply("\n\n".join(blocks), kind="answer" if citations else "info",
                     citations=citations, skill=self.name,
                     model=chosen[0] if citations and chosen else None, locale=locale)

    async def _passages(self, request: SkillRequest, skill: str, role: str, question: str,
                        chosen: list[str]) -> tuple[str, tuple[Citation, ...]]:
        """The extractive model's cited sentences from the documents answering ``question``."""
        assert self._knowledge is not None
        found = await self._knowledge.search(question, space=request.message.space.id, k=5)
        passages = [passage for passage in found if passage.score >= self._min_score]
        if not passages:
            return "", ()
        completion = CompletionRequest(
            skill=skill, role=role, messages=(ChatTurn("user", question),), question=question,
            passages=tuple(ContextPassage(number, passage.title, passage.text)
                           for number, passage in enumerate(passages, 1)),
            data_class=max(DataClass.parse(passage.data_class) for passage in passages),
            locale=request.locale)
        text = "".join([delta async for delta in
                        request.models.stream(completion, on_model=chosen.append)]).strip()
        cited = {int(number) for number in _CITATION_MARK.findall(text)}
        citations = tuple(
            Citation(number=number, document=passage.document, title=passage.title,
                     passage=shown_passage(passage), section=passage.section, page=passage.page,
                     url=passage.url, score=round(passage.score, 4))
            for number, passage in enumerate(passages, 1) if number in cited)
        return (text if citations else ""), citations

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _target(text: str, command: str) -> tuple[str, int | None]:
        word = text.strip().split(" ", 1)[0] if text.strip() else ""
        if not word:
            raise SkillError(_NEED_NAME, command=command)
        return _split_target(word)

    def _reply(self, text: str, locale: Locale) -> Reply:
        return Reply(text, kind="info", skill=self.name, locale=locale)

    @staticmethod
    def _refusal(error: TemplateStoreError, locale: Locale) -> SkillError:
        if isinstance(error, TemplateNotFound):
            if error.version is not None:
                return SkillError(_NO_SUCH_VERSION, name=error.name, version=error.version)
            return SkillError(_NOT_FOUND, name=error.name)
        if isinstance(error, NameTaken):
            return SkillError(_NAME_TAKEN, name=error.name)
        if isinstance(error, VersionConflict):
            return SkillError(_CONFLICT, name=error.name, expected=error.expected,
                              current=error.current)
        if isinstance(error, NotInSpace):
            return SkillError(_NOT_IN_SPACE, space=error.space_id)
        if isinstance(error, NotAllowed):
            why = _WHY.get(error.action)
            if why is None:
                why = _WHY["personal"]
            return SkillError(_NOT_ALLOWED, name=error.name, why=why(locale))
        return SkillError(_NOT_FOUND, name=str(error))


def _question(filled: str) -> str:
    """The questions the filled template asks (its sentences ending with « ? »), if any."""
    return " ".join(sentence for sentence in split_sentences(filled)
                    if sentence.rstrip().endswith("?"))


def _why_not_run(models: ModelGateway, skill: str, role: str, locale: Locale) -> str:
    """No generative model approved for the role, or the approved ones not cleared."""
    probe = CompletionRequest(skill=skill, role=role, messages=(), question="",
                              data_class=DataClass.PUBLIC, requires_generation=True)
    try:
        approved = models.candidates(probe)
    except NeedsGeneration:
        return _OFFLINE(locale, skill=skill, role=role)
    return _NOT_CLEARED(locale, aliases=", ".join(entry.alias for entry in approved))


def _describe(variable: Variable) -> str:
    if variable.type == "choice":
        return f"{variable.name} ({' | '.join(variable.choices)})"
    suffix = f" = {variable.default}" if variable.default is not None else ""
    kind = " (nombre)" if variable.type == "number" else ""
    return f"{variable.name}{kind}{suffix}"


def _last_prompt(request: SkillRequest) -> str:
    for turn in reversed(request.history):
        if turn.role == "user" and not turn.content.lstrip().startswith(("/", "template")):
            return turn.content.strip()
    return ""


__all__ = ["LIBRARY_DIR", "LibraryEntry", "Role", "TemplateForm", "TemplatesSkill",
           "dump_library", "find_form", "parse_library", "starter_library"]


async def find_form(router: SkillRouter, message: Message,
                    locale: Locale | Callable[[], Locale]) -> TemplateForm | None:
    """The variables form a channel should show instead of running ``message``, if any
    (``locale`` may be a function: it is then called only for a template command)."""
    try:
        route = router.route(message)
    except UnknownCommand:
        return None
    if not isinstance(route.skill, TemplatesSkill):
        return None
    return await route.skill.form_for(message, route.text, locale if isinstance(locale, str)
                                      else locale())
