"""Sources in, every output out: inventory, docs (Markdown, HTML), verified patch, skeletons."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.i18n import Text, grouped, plural
from bot.messages import Locale
from skills.codedoc import describe, docs, html, inventory, patch, skeletons, svg, verify
from skills.codedoc.comment_language import comment_locale
from skills.codedoc.model import Inventory
from skills.codedoc.secrets import Redactor, SecretFinding, find
from skills.codedoc.sources import Sources
from skills.codedoc.syntax import Parsers

_SUMMARY = Text(
    "**Documentation de {files} fichier{s}** ({lines} ligne{ls}, {languages}) : {units} "
    "unité{us} dont {public} publique{ps} ; {before} % des unités publiques avaient une "
    "documentation, {covered} % en ont une après le correctif.",
    "**Documentation of {files} file{s}** ({lines} line{ls}, {languages}): {units} unit{us}, "
    "{public} public; {before}% of public units had documentation, {covered}% have some after "
    "the patch.")
_PATCH_OK = Text("Correctif : {count} bloc{s} de documentation dans {files} fichier{fs}, "
                 "vérifié (arbres syntaxiques identiques hors commentaires{git}).",
                 "Patch: {count} documentation block{s} in {files} file{fs}, verified (same "
                 "syntax trees without comments{git}).")
_GIT = Text(", `git apply --check` passé", ", `git apply --check` passed")
_PATCH_BAD = Text("Correctif : {failed} fichier{s} retiré{s} car {leur} code aurait changé "
                  "({which}).",
                  "Patch: {failed} file{s} left out because {their} code would have changed "
                  "({which}).")
_SKELETONS = Text("{count} squelette{s} de tests (fonctions publiques sans test).",
                  "{count} test skeleton{s} (public functions without tests).")
_BROKEN = Text("⚠️ Erreurs de syntaxe : {files}. L'analyseur les a contournées ; les unités "
                "qui s'y trouvent peuvent manquer à la documentation.",
                "⚠️ Syntax errors: {files}. The parser worked around them; the units there may "
                "be missing from the documentation.")
_LINE = Text("ligne", "line")
_SECRETS = Text("⚠️ {count} secret{s} repéré{s} dans le code (clés, mots de passe, chaînes de "
                "connexion) : listés dans l'index sans leur valeur, masqués avant tout modèle.",
                "⚠️ {count} secret{s} found in the code (keys, passwords, connection strings): "
                "listed in the index without their value, masked before any model.")
_OFFLINE = Text("Sans modèle génératif, la documentation est structurelle (inventaire, appels, "
                "commentaires existants) ; un modèle approuvé pour le rôle `code` écrirait "
                "l'objet et le comportement de chaque unité.",
                "Without a generative model the documentation is structural (inventory, calls, "
                "existing comments); a model approved for the `code` role would write each "
                "unit's purpose and behaviour.")
_MODEL = Text("Objet des unités rédigé par le modèle pour {count} unité{s} : à relire.",
              "Unit purposes written by the model for {count} unit{s}: to review.")
_COMMENTS = Text("Commentaires et squelettes de tests écrits en {language}, la langue des "
                 "commentaires existants (`{option}{other}` pour les écrire en {asked}).",
                 "Comments and test skeletons written in {language}, the language of the "
                 "existing comments (`{option}{other}` to write them in {asked}).")
_LANGUAGES = {"fr": Text("français", "French"), "en": Text("anglais", "English")}
_NOTHING = Text("Aucun fichier source reconnu (Python, Java, JavaScript/TypeScript, C#, "
                "SQL, COBOL, copybooks, JCL).",
                "No source file recognised (Python, Java, JavaScript/TypeScript, C#, SQL, "
                "COBOL, copybooks, JCL).")
_PATCH_HEADER = Text(
    "Correctif de documentation Almia : commentaires et docstrings seulement, aucun code "
    "modifié (vérifié).\n{mode}\nAppliquer : git apply documentation.patch\n\n",
    "Almia documentation patch: comments and docstrings only, no code changed (verified).\n"
    "{mode}\nApply with: git apply documentation.patch\n\n")
_MODE_OFFLINE = Text("Sans modèle : les textes décrivent la structure (renvoie, lève, appelle, "
                     "appelé par) ; l'objet de chaque unité reste à écrire.",
                     "Without a model: the texts state structure (returns, raises, calls, "
                     "called by); each unit's purpose is still to be written.")
_MODE_MODEL = Text("Objets rédigés par un modèle approuvé : à relire avant d'appliquer.",
                   "Purposes written by an approved model: review before applying.")


@dataclass(slots=True)
class Metrics:
    """Figures of one run (the bench and the job's summary read them)."""

    files: int = 0
    lines: int = 0
    units: int = 0
    public: int = 0
    public_documented: int = 0
    public_documented_before: int = 0  # by a person, before the patch
    patched_files: int = 0
    preserved_files: int = 0
    skeletons: int = 0
    secrets: int = 0
    languages: dict[str, int] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        """Share of public units with documentation after the patch."""
        return self.public_documented / self.public if self.public else 1.0

    @property
    def coverage_before(self) -> float:
        """Share of public units a person had documented (before the patch)."""
        return self.public_documented_before / self.public if self.public else 1.0


@dataclass(slots=True)
class Outputs:
    """Everything a run produces."""

    inventory: Inventory
    pages: dict[str, str]
    html: bytes
    patch: bytes  # each file's part in that file's encoding (git apply needs its bytes)
    skeletons: dict[str, str]
    verification: verify.Verification
    secrets: list[SecretFinding]
    metrics: Metrics
    summary: str

    def docs_zip(self) -> bytes:
        """The Markdown pages and the test skeletons in one ZIP."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in self.pages.items():
                archive.writestr(f"docs/{name}", text)
            for name, text in self.skeletons.items():
                archive.writestr(name, text)
        return buffer.getvalue()

    def inventory_json(self) -> bytes:
        """The inventory as JSON (no file text, secrets redacted)."""
        redactor = Redactor()
        data = {"files": [{"path": s.path, "language": s.language, "name": s.name,
                           "lines": s.lines, "imports": s.imports,
                           "entry_points": s.entry_points, "reads": s.reads, "writes": s.writes,
                           "parse_errors": s.parse_errors,
                           "units": [{k: v for k, v in asdict(u).items() if k != "slot"}
                                     for u in s.units]}
                          for s in self.inventory.files],
                "callers": self.inventory.callers, "skipped": self.inventory.skipped,
                "metrics": asdict(self.metrics) | {"coverage": self.metrics.coverage,
                                                    "coverage_before": self.metrics.coverage_before},
                "secrets": [asdict(finding) for finding in self.secrets]}
        # each string redacted as it is (JSON's escaped quotes would hide « password="…" »)
        return json.dumps(_redacted(data, redactor), ensure_ascii=False, indent=1).encode()


def _redacted(value: Any, redactor: Redactor) -> Any:
    """Every string in a JSON-like value with its secrets replaced."""
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item, redactor) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, redactor) for item in value]
    return value


def _redacted_additions(diff: str, redactor: Redactor) -> str:
    """A patch whose added lines (documentation only) carry no secret the code holds: a
    signature or a return quoted in a docstring is redacted there too."""
    return "".join(redactor.redact(line) if line.startswith("+") and not line.startswith("+++")
                   else line for line in diff.splitlines(keepends=True))


class NothingToDocument(Exception):
    """No recognised source file."""

    text = _NOTHING


def document(sources: Sources, locale: Locale, purposes: Mapping[str, str] | None = None,
             parsers: Parsers | None = None, redactor: Redactor | None = None,
             comments: Locale | None = None, follow_comments: bool = False,
             option: str = "/almia doc lang=") -> Outputs:
    """Run every step offline (``purposes`` from the model, when there are any); with
    ``follow_comments``, what goes into the code is in the language of its comments."""
    if not sources.texts:
        raise NothingToDocument
    parsers = parsers or Parsers()
    redactor = redactor or Redactor()
    found = inventory.build(sources, parsers)
    if follow_comments and comments is None:
        comments = comment_locale(found)
    return finish(sources, found, locale, purposes or {}, parsers, redactor, comments, option)


def finish(sources: Sources, found: Inventory, locale: Locale, purposes: Mapping[str, str],
           parsers: Parsers, redactor: Redactor, comments: Locale | None = None,
           option: str = "/almia doc lang=") -> Outputs:
    """Everything after the inventory (the job asks the model in between). The docs and
    summary are in ``locale``; what goes into the code (docstrings, comments, test
    skeletons) in ``comments``, the language of the code's own comments, when given;
    ``option`` is how the person asks for another (the summary says it)."""
    comments = comments or locale
    secrets = [finding for path, text in sources.texts.items() for finding in find(path, text)]
    built = patch.build(found, comments, purposes)
    checked = verify.verify(sources, built, parsers)
    for path in checked.failed:  # never hand out a patch that would change code
        built.diffs.pop(path, None)
        built.documented = [q for q in built.documented if found.index[q].path != path]
    tests = {name: redactor.redact(text)
             for name, text in skeletons.build(found, comments).items()}
    pages = docs.render(found, locale, purposes, secrets, redactor)
    title = docs.T["index"](locale)
    metrics = _metrics(found, built, checked, tests, secrets)
    header = _PATCH_HEADER(locale, mode=(_MODE_MODEL if purposes else _MODE_OFFLINE)(locale))
    diff = header.encode() + b"".join(
        _redacted_additions(built.diffs[path], redactor).encode(
            sources.encodings.get(path, "utf-8"))
        for path in sorted(built.diffs)) if built.diffs else b""
    dependencies, external = docs.dependency_edges(found)
    drawings = {"overview.md": [
        svg.draw(docs.call_edges(found), {q: describe.short(q) for q in found.index}),
        svg.draw(dependencies, {}, external)]}
    return Outputs(found, pages, html.render(pages, title, locale, drawings), diff, tests, checked,
                   secrets, metrics,
                   _summary(metrics, checked, built, locale, purposes, comments, option, found))


def _metrics(found: Inventory, built: patch.Patch, checked: verify.Verification,
             tests: dict[str, str], secrets: list[SecretFinding]) -> Metrics:
    documented = set(built.documented)
    public = [unit for unit in found.units if unit.public]
    languages: dict[str, int] = {}
    for source in found.files:
        languages[source.language] = languages.get(source.language, 0) + 1
    return Metrics(files=len(found.files), lines=found.lines, units=len(found.units),
                   public=len(public),
                   public_documented=sum(1 for u in public if u.doc or u.qualified in documented),
                   public_documented_before=sum(1 for u in public if u.doc),
                   patched_files=len(built.diffs) + len(checked.failed),
                   preserved_files=len(checked.preserved),
                   skeletons=sum(text.count("def test_") + text.count("@Test")
                                 for text in tests.values()),
                   secrets=len(secrets), languages=languages)


def _summary(metrics: Metrics, checked: verify.Verification, built: patch.Patch,
             locale: Locale, purposes: Mapping[str, str], comments: Locale,
             option: str, found: Inventory) -> str:
    languages = ", ".join(f"{name} {count}" for name, count in sorted(metrics.languages.items()))
    lines = [_SUMMARY(locale, files=metrics.files, s=plural(metrics.files, locale),
                      lines=grouped(metrics.lines, locale), ls=plural(metrics.lines, locale),
                      languages=languages,
                      units=metrics.units, us=plural(metrics.units, locale), public=metrics.public,
                      ps=plural(metrics.public, locale),
                      before=round(100 * metrics.coverage_before),
                      covered=round(100 * metrics.coverage))]
    if built.diffs:
        lines.append(_PATCH_OK(locale, count=len(built.documented), files=len(built.diffs),
                               s=plural(len(built.documented), locale), fs=plural(len(built.diffs), locale),
                               git=_GIT(locale) if checked.git_checked else ""))
    if checked.failed:
        one = len(checked.failed) == 1
        lines.append(_PATCH_BAD(locale, failed=len(checked.failed), s=plural(len(checked.failed), locale),
                                leur="son" if one else "leur", their="its" if one else "their",
                                which=", ".join(sorted(checked.failed)[:5])))
    if metrics.skeletons:
        lines.append(_SKELETONS(locale, count=metrics.skeletons, s=plural(metrics.skeletons, locale)))
    if comments != locale and (built.diffs or metrics.skeletons):
        lines.append(_COMMENTS(locale, language=_LANGUAGES[comments], other=locale, option=option,
                               asked=_LANGUAGES[locale]))
    broken = [source for source in found.files if source.parse_errors]
    if broken:
        lines.append(_BROKEN(locale, files=", ".join(
            f"`{source.path}`" + (f" ({_LINE(locale)} {source.first_error})"
                                  if source.first_error else "")
            for source in broken[:8]) + (f" (+{len(broken) - 8})" if len(broken) > 8 else "")))
    if metrics.secrets:
        lines.append(_SECRETS(locale, count=metrics.secrets, s=plural(metrics.secrets, locale)))
    lines.append(_MODEL(locale, count=len(purposes), s=plural(len(purposes), locale)) if purposes
                 else _OFFLINE(locale))
    return "\n".join(lines)
