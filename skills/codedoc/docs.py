"""Reference documentation in Markdown: an index, an overview (call graph and dependencies as
Mermaid diagrams) and one page per module or program."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.i18n import Text, grouped, plural
from bot.messages import Locale
from skills.codedoc.describe import facts, sentence, short
from skills.codedoc.model import Inventory, SourceFile, Unit
from skills.codedoc.secrets import Redactor, SecretFinding

T = {
    "index": Text("Documentation de référence", "Reference documentation"),
    "overview": Text("Vue d'ensemble", "Overview"),
    "files": Text("{files} fichier{s}, {lines} ligne{ls}, {units} unité{us} ({public} "
                  "publique{ps})", "{files} file{s}, {lines} line{ls}, {units} unit{us} "
                  "({public} public)"),
    "lines": Text("{lines} ligne{ls}", "{lines} line{ls}"),
    "modules": Text("Modules et programmes", "Modules and programs"),
    "calls": Text("Graphe des appels", "Call graph"),
    "deps": Text("Dépendances (imports, COPY, programmes lancés)",
                 "Dependencies (imports, COPY books, programs run)"),
    "purpose": Text("Objet", "Purpose"),
    "offline": Text(
        "Rédigé sans modèle génératif : ce qui suit vient de la structure du code et de ses "
        "commentaires existants. Un modèle approuvé pour le rôle `code` écrirait l'objet et "
        "le comportement de chaque unité à partir de son seul code et de ses appelants.",
        "Written without a generative model: what follows comes from the code's structure "
        "and its existing comments. A model approved for the `code` role would write each "
        "unit's purpose and behaviour from its own code and its callers only."),
    "existing": Text("Commentaire existant", "Existing comment"),
    "model": Text("Objet (rédigé par le modèle, à relire)",
                  "Purpose (written by the model, to review)"),
    "structure": Text("Structure", "Structure"),
    "inputs": Text("Entrées et sorties", "Inputs and outputs"),
    "reads": Text("Lit", "Reads"),
    "writes": Text("Écrit", "Writes"),
    "imports": Text("Importe / inclut", "Imports / includes"),
    "entries": Text("Points d'entrée", "Entry points"),
    "units": Text("Unités", "Units"),
    "none": Text("(aucun)", "(none)"),
    "called_by": Text("Appelé par", "Called by"),
    "secrets": Text("Secrets repérés dans le code (valeurs masquées)",
                    "Secrets found in the code (values hidden)"),
    "skipped": Text("Fichiers non lus", "Files not read"),
    "from_line": Text(" (dès la ligne {line} : les unités qui s'y trouvent peuvent manquer)",
                      " (from line {line}: the units there may be missing)"),
    "errors": Text("{count} erreur{s} de syntaxe contournée{s} par l'analyseur",
                   "{count} syntax error{s} the parser worked around"),
    "fields": Text("Données", "Data"),
    "exports": Text("Variables d'environnement exportées", "Environment variables exported"),
}
# what a unit is, in French (English pages show the kind as the parsers name it)
_KINDS_FR = {"class": "classe", "function": "fonction", "method": "méthode",
             "constructor": "constructeur", "program": "programme", "paragraph": "paragraphe",
             "record": "enregistrement", "step": "étape", "view": "vue",
             "materialized view": "vue matérialisée", "procedure": "procédure",
             "trigger": "déclencheur", "enum": "énumération", "struct": "structure",
             "annotation_type": "annotation", "sequence": "séquence", "type": "type"}
# why a file was not read (inventory.json keeps the codes)
_SKIPPED = {"unsupported": Text("langage non pris en charge", "language not supported"),
            "too large": Text("trop volumineux", "too large"),
            "too many files": Text("au-delà du nombre de fichiers lus", "past the file limit"),
            "binary": Text("fichier binaire", "binary file"),
            "minified or generated": Text("code minifié ou généré", "minified or generated code"),
            "unknown encoding": Text("encodage inconnu", "unknown encoding")}
_MARKUP = re.compile(r"([\\`*_\[\]<>#|])")
_ID = re.compile(r"[^A-Za-z0-9_]")
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)[.!?](?=\s+[A-Z«(`]|$)")
_MAX_EDGES = 400


def slug(path: str) -> str:
    """A page file name for a source path."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", path) + ".md"


def _node(name: str) -> str:
    return "n_" + _ID.sub("_", name)


def _label(text: str) -> str:
    return text.replace('"', "'").replace("[", "(").replace("]", ")")


def call_edges(inventory: Inventory) -> list[tuple[str, str]]:
    """Caller → callee pairs between units (at most ``_MAX_EDGES``)."""
    edges = [(caller, callee) for caller, callees in sorted(inventory.callees.items())
             for callee in callees]
    return edges[:_MAX_EDGES]


def call_graph(inventory: Inventory) -> str:
    """Mermaid source of the call graph between units (bounded)."""
    lines = ["flowchart LR"]
    seen: set[str] = set()
    edges = call_edges(inventory)
    for caller, callee in edges:
        for name in (caller, callee):
            if name not in seen:
                seen.add(name)
                lines.append(f'  {_node(name)}["{_label(short(name))}"]')
        lines.append(f"  {_node(caller)} --> {_node(callee)}")
    if len(edges) >= _MAX_EDGES:
        lines.append("  %% … truncated")
    return "\n".join(lines)


def dependency_edges(inventory: Inventory) -> tuple[list[tuple[str, str]], set[str]]:
    """File dependencies (imports, COPY books, programs a JCL step runs or COBOL CALLs) and
    the names that are not modules of the inventory.

    An import matches a module by its full name or its last parts (``billing.invoices``
    finds ``src.billing.invoices``); a Python package outside is named by its top level.
    """
    known = {source.name.upper(): source.name for source in inventory.files}
    functions = {u.name for s in inventory.files if s.language == "shell" for u in s.units}
    edges: list[tuple[str, str]] = []
    external: set[str] = set()
    for source in inventory.files:
        targets = list(source.imports)
        if source.language == "jcl":
            targets += [call for unit in source.units for call in unit.calls]
        if source.language == "cobol":  # programs it CALLs, in the project or not
            targets += [callee for unit in source.units
                        for callee in inventory.callees.get(unit.qualified, [])
                        if inventory.index[callee].kind == "program"]
            local = {unit.name.upper() for unit in source.units}
            targets += [call for unit in source.units for call in unit.calls
                        if call.upper() not in local]  # « CALL 'CALCPROV' » of another team
        if source.language == "shell":  # a function of a sourced script is no program
            targets = [t for t in targets if t not in functions or t.upper() in known]
        for target in targets:
            internal = _known_module(target, known)
            shown = internal or (target.split(".")[0] if source.language == "python" else target)
            if not shown or (source.name, shown) in edges or shown == source.name:
                continue
            edges.append((source.name, shown))
            if not internal:
                external.add(shown)
            if len(edges) >= _MAX_EDGES:
                return edges, external
    return edges, external


def dependency_graph(inventory: Inventory) -> str:
    """Mermaid source of the file dependencies: modules as boxes, the rest rounded."""
    edges, external = dependency_edges(inventory)
    lines = ["flowchart LR"]
    for source, target in edges:
        left, right = ("([", "])") if target in external else ("[", "]")
        lines.append(f'  {_node(source)}["{_label(source)}"] --> '
                     f'{_node(target)}{left}"{_label(target)}"{right}')
    if len(edges) >= _MAX_EDGES:
        lines.append("  %% … truncated")
    return "\n".join(lines)


def _known_module(name: str, known: dict[str, str]) -> str:
    upper = name.upper()
    if upper in known:
        return known[upper]
    matches = [full for key, full in known.items() if key.endswith("." + upper)]
    return matches[0] if len(matches) == 1 else ""


def render(inventory: Inventory, locale: Locale, purposes: Mapping[str, str],
           secrets: list[SecretFinding], redactor: Redactor) -> dict[str, str]:
    """The Markdown pages by relative path (``index.md``, ``overview.md``, ``modules/…``)."""
    pages = {"index.md": _index(inventory, locale, purposes, secrets),
             "overview.md": _overview(inventory, locale)}
    for source in inventory.files:
        pages[f"modules/{slug(source.path)}"] = redactor.redact(
            _module(source, inventory, locale, purposes))
    return pages


def _index(inventory: Inventory, locale: Locale, purposes: Mapping[str, str],
           secrets: list[SecretFinding]) -> str:
    units = inventory.units
    public = sum(u.public for u in units)
    lines = [f"# {T['index'](locale)}", "",
             T["files"](locale, files=len(inventory.files), s=plural(len(inventory.files), locale),
                        lines=grouped(inventory.lines, locale), ls=plural(inventory.lines, locale),
                        units=len(units), us=plural(len(units), locale), public=public,
                        ps=plural(public, locale)), ""]
    if not purposes:
        lines += [f"> {T['offline'](locale)}", ""]
    lines += [f"- [{T['overview'](locale)}](overview.md)", "", f"## {T['modules'](locale)}", ""]
    for source in inventory.files:
        summary = first_sentence(source.doc)
        lines.append(f"- [`{source.path}`](modules/{slug(source.path)}) — {source.language}"
                     + (f" — {summary}" if summary else ""))
    if secrets:
        lines += ["", f"## {T['secrets'](locale)}", ""]
        lines += [f"- `{finding.path}`:{finding.line} — {finding.kind}" for finding in secrets]
    if inventory.skipped:
        lines += ["", f"## {T['skipped'](locale)}", ""]
        lines += [f"- `{path}` — {_SKIPPED[reason](locale) if reason in _SKIPPED else reason}"
                  for path, reason in inventory.skipped[:200]]
    return "\n".join(lines) + "\n"


def first_sentence(doc: str, limit: int = 160) -> str:
    """A docstring's first sentence, across its line breaks (« Build X and\nY. » whole), cut
    at a word with « … » past ``limit`` characters; an upper-case first line (a COBOL
    banner) stands alone."""
    paragraph = doc.strip().split("\n\n", 1)[0]
    first = paragraph.split("\n", 1)[0]
    paragraph = first if first.isupper() else " ".join(paragraph.split())
    end = _SENTENCE_END.search(paragraph)
    sentence = paragraph[:end.start() + 1] if end else paragraph
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def _overview(inventory: Inventory, locale: Locale) -> str:
    return "\n".join([f"# {T['overview'](locale)}", "", f"## {T['calls'](locale)}", "",
                      "```mermaid", call_graph(inventory), "```", "",
                      f"## {T['deps'](locale)}", "", "```mermaid", dependency_graph(inventory),
                      "```", ""])


def _module(source: SourceFile, inventory: Inventory, locale: Locale,
            purposes: Mapping[str, str]) -> str:
    none = T["none"](locale)
    lines = [f"# {_plain(source.name)}", "",
             f"`{source.path}` — {source.language}, "
             + T["lines"](locale, lines=grouped(source.lines, locale), ls=plural(source.lines, locale)),
             ""]
    if source.doc:
        lines += [f"## {T['purpose'](locale)}", "", _quote(source.doc), ""]
    if source.parse_errors:
        said = T['errors'](locale, count=source.parse_errors, s=plural(source.parse_errors, locale))
        if source.first_error:
            said += T['from_line'](locale, line=source.first_error)
        lines += [f"> {said}", ""]
    lines += [f"## {T['inputs'](locale)}", "",
              f"- **{T['entries'](locale)}** : " if locale == "fr" else
              f"- **{T['entries'](locale)}**: ", ]
    lines[-1] += ", ".join(f"`{e}`" for e in source.entry_points) or none
    shown = [("reads", source.reads), ("writes", source.writes), ("imports", source.imports)]
    if source.language == "shell":
        shown.append(("exports", source.exports))
    for key, values in shown:
        separator = " : " if locale == "fr" else ": "
        lines.append(f"- **{T[key](locale)}**{separator}"
                     + (", ".join(f"`{v}`" for v in values[:40]) or none))
    lines += ["", f"## {T['units'](locale)}", ""]
    for unit in source.units:
        lines += _unit(unit, inventory, locale, purposes.get(unit.qualified))
    return "\n".join(lines) + "\n"


def _unit(unit: Unit, inventory: Inventory, locale: Locale, purpose: str | None) -> list[str]:
    visibility = "" if unit.public else (" (privé)" if locale == "fr" else " (private)")
    kind = _KINDS_FR.get(unit.kind, unit.kind) if locale == "fr" else unit.kind
    out = [f"### {kind} `{short(unit.qualified)}`{visibility}", "",
           f"`{unit.path}`:{unit.line}", ""]
    if unit.signature:
        out += ["```", unit.signature[:400], "```", ""]
    if purpose:
        out += [f"**{T['model'](locale)}** — {purpose}", ""]
    if unit.doc:
        out += [f"**{T['existing'](locale)}**", "", _quote(unit.doc), ""]
    out += [f"**{T['structure'](locale)}** — {sentence(facts(unit, inventory, locale), locale)}",
            ""]
    if unit.kind in ("record", "table") and unit.params:
        out += [f"**{T['fields'](locale)}**", ""] + [f"- `{p}`" for p in unit.params[:60]] + [""]
    return out


def _plain(text: str) -> str:
    """``text`` shown as written in Markdown (« idna.__main__ » is no bold « main »)."""
    return _MARKUP.sub(r"\\\1", text)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines()[:30])
