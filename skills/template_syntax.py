"""Template bodies and commands: placeholders, argument parsing, filling.

Placeholders: ``{{client}}`` (text), ``{{montant:number}}``, ``{{ton:choice=formel|amical}}``
(one of the choices), ``{{delai=8 jours}}`` (a default), ``{{notes:text}}``. A variable
may appear several times; its first definition holds and later ones may only repeat it.
Arguments: ``client="M. Martin" montant=1200 …``; quoted values may hold spaces, line
breaks and ``\\"``; when a template is used, an unquoted value runs to the next ``name=`` or its
line's end (``client=Mme Martin``). Text after the arguments fills the only variable still
missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.i18n import Text

MAX_BODY_CHARS = 20_000
MAX_VALUE_CHARS = 20_000
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
VariableType = Literal["text", "number", "choice"]
_TYPES: tuple[VariableType, ...] = ("text", "number", "choice")
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_DEFINITION = re.compile(
    r"^\s*(?P<name>[^\W\d]\w{0,39})\s*(?::\s*(?P<type>\w+)\s*)?(?:=(?P<rest>.*))?$", re.DOTALL
)
_ARGUMENT = re.compile(r'\s*([^\W\d]\w{0,39})=(?:"((?:[^"\\]|\\.)*)"|(\S*))', re.DOTALL)
# « client=Mme Martin montant=120 € »: an unquoted value runs to the next « name= » or its
# line's end
_SPACED_ARGUMENT = re.compile(
    r'\s*([^\W\d]\w{0,39})=(?:"((?:[^"\\]|\\.)*)"|([^\n]*?)'
    r'(?=[ \t]+[^\W\d]\w{0,39}=|[ \t]*(?:\n|$)))', re.DOTALL)
# « 1250,50 », « 1 250,50 », “1,250.50”: as people write amounts, grouped or not
_NUMBER = re.compile(r"^-?(?:\d{1,3}(?:[   .,]\d{3})+|\d+)(?:[.,]\d+)?$")


class TemplateSyntaxError(Exception):
    """A body or an argument list that cannot be used; ``text`` says why, in both languages."""

    def __init__(self, text: Text, **values: object) -> None:
        super().__init__(text.fr.format(**values))
        self.text = text
        self.values = values


_UNBALANCED = Text(
    "Le modèle contient une accolade non fermée ou en trop près de « {near} ». Chaque "
    "variable s'écrit {{{{nom}}}}.",
    "The template has an unclosed or stray brace near “{near}”. Each variable is written "
    "{{{{name}}}}.",
)
_BAD_PLACEHOLDER = Text(
    "Variable invalide « {{{{{raw}}}}} » : écrivez {{{{nom}}}}, {{{{nom:number}}}}, "
    "{{{{nom:choice=a|b}}}} ou {{{{nom=défaut}}}}.",
    "Invalid variable “{{{{{raw}}}}}”: write {{{{name}}}}, {{{{name:number}}}}, "
    "{{{{name:choice=a|b}}}} or {{{{name=default}}}}.",
)
_UNKNOWN_TYPE = Text(
    "Type inconnu « {kind} » pour la variable « {name} » (types : text, number, choice).",
    "Unknown type “{kind}” for variable “{name}” (types: text, number, choice).",
)
_NO_CHOICES = Text(
    "La variable « {name} » est un choix : donnez les valeurs, par exemple "
    "{{{{{name}:choice=a|b}}}}.",
    "Variable “{name}” is a choice: give its values, for example {{{{{name}:choice=a|b}}}}.",
)
_REDEFINED = Text(
    "La variable « {name} » est définie deux fois différemment.",
    "Variable “{name}” is defined twice in different ways.",
)
_TOO_LONG = Text(
    "Le modèle est trop long ({length} caractères ; maximum {limit}).",
    "The template is too long ({length} characters; maximum {limit}).",
)
_EMPTY = Text("Le texte du modèle est vide.", "The template text is empty.")
_UNKNOWN_VARIABLE = Text(
    "Le modèle « {template} » n'a pas de variable « {name} » (variables : {known}).",
    "Template “{template}” has no variable “{name}” (variables: {known}).",
)
_MISSING = Text(
    "Il manque {count} variable{s} pour « {template} » : {names}. Exemple : "
    "/template use {template} {example}",
    "{count} variable{s} missing for “{template}”: {names}. Example: "
    "/template use {template} {example}",
)
_NOT_A_NUMBER = Text(
    "« {name} » doit être un nombre (reçu « {value} »).",
    "“{name}” must be a number (got “{value}”).",
)
_NOT_A_CHOICE = Text(
    "« {name} » doit valoir l'un de : {choices} (reçu « {value} »).",
    "“{name}” must be one of: {choices} (got “{value}”).",
)
_VALUE_TOO_LONG = Text(
    "La valeur de « {name} » est trop longue (maximum {limit} caractères).",
    "The value of “{name}” is too long (maximum {limit} characters).",
)
_DUPLICATE_ARGUMENT = Text(
    "La variable « {name} » est donnée deux fois.", "Variable “{name}” is given twice."
)


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable of a template."""

    name: str
    type: VariableType = "text"
    default: str | None = None
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        """True when the user must give a value."""
        return self.default is None


def parse_variables(body: str) -> tuple[Variable, ...]:
    """The variables of ``body`` in order of first appearance; raises on bad syntax."""
    if not body.strip():
        raise TemplateSyntaxError(_EMPTY)
    if len(body) > MAX_BODY_CHARS:
        raise TemplateSyntaxError(_TOO_LONG, length=len(body), limit=MAX_BODY_CHARS)
    _check_balanced(body)
    found: dict[str, Variable] = {}
    for match in _PLACEHOLDER.finditer(body):
        variable = _definition(match.group(1))
        known = found.get(variable.name)
        if known is None:
            found[variable.name] = variable
        elif variable != known and variable != Variable(variable.name):
            raise TemplateSyntaxError(_REDEFINED, name=variable.name)
    return tuple(found.values())


def _check_balanced(body: str) -> None:
    depth_free = _PLACEHOLDER.sub("", body)
    for marker in ("{{", "}}"):
        index = depth_free.find(marker)
        if index >= 0:
            raise TemplateSyntaxError(_UNBALANCED, near=depth_free[max(0, index - 20):index + 20])
    for match in _PLACEHOLDER.finditer(body):
        if "{" in match.group(1) or "}" in match.group(1):
            raise TemplateSyntaxError(_UNBALANCED, near=match.group(0)[:40])


def _definition(raw: str) -> Variable:
    match = _DEFINITION.match(raw)
    if match is None:
        raise TemplateSyntaxError(_BAD_PLACEHOLDER, raw=raw.strip()[:40])
    name, kind, rest = match.group("name"), match.group("type"), match.group("rest")
    if kind is not None and kind not in _TYPES:
        raise TemplateSyntaxError(_UNKNOWN_TYPE, kind=kind, name=name)
    if kind == "choice":
        choices = tuple(c.strip() for c in (rest or "").split("|") if c.strip())
        if len(choices) < 2:
            raise TemplateSyntaxError(_NO_CHOICES, name=name)
        return Variable(name, "choice", None, choices)
    default = rest.strip() if rest is not None else None
    variable = Variable(name, "number" if kind == "number" else "text", default)
    if variable.type == "number" and default is not None and not _NUMBER.match(default):
        raise TemplateSyntaxError(_NOT_A_NUMBER, name=name, value=default)
    return variable


@dataclass(frozen=True, slots=True)
class Arguments:
    """``var=value`` pairs given to a command, and the free text after them."""

    values: dict[str, str]
    rest: str


def parse_arguments(text: str, spaced: bool = False) -> Arguments:
    """Leading ``name=value`` / ``name="quoted value"`` pairs, then free text. ``spaced``: an
    unquoted value runs over its words to the next ``name=`` or the end of its line
    (« client=Mme Martin motif=cotisation impayée »), the free text on the next lines."""
    values: dict[str, str] = {}
    position = 0
    pattern = _SPACED_ARGUMENT if spaced else _ARGUMENT
    while True:
        match = pattern.match(text, position)
        if match is None:
            break
        name = match.group(1)
        if name in values:
            raise TemplateSyntaxError(_DUPLICATE_ARGUMENT, name=name)
        quoted = match.group(2)
        values[name] = (re.sub(r"\\(.)", r"\1", quoted, flags=re.DOTALL) if quoted is not None
                        else match.group(3).strip())
        position = match.end()
    return Arguments(values, text[position:].strip())


def quote(value: str) -> str:
    """A value as a command argument (the inverse of :func:`parse_arguments`)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command_text(name: str, version: int | None, values: Mapping[str, str]) -> str:
    """``use NAME[@version] var="value" …`` for the values of a submitted form."""
    target = f"{name}@{version}" if version else name
    arguments = " ".join(f"{key}={quote(value)}" for key, value in values.items() if value != "")
    return f"use {target} {arguments}".strip()


def missing(variables: Sequence[Variable], arguments: Arguments) -> list[Variable]:
    """Required variables that ``arguments`` leave without a value."""
    return [v for v in variables if v.required
            and not arguments.values.get(v.name, "").strip()]  # « delai= » gives nothing


def fill(template: str, body: str, variables: Sequence[Variable], arguments: Arguments) -> str:
    """``body`` with every placeholder replaced; raises naming any unknown or missing variable."""
    by_name = {variable.name: variable for variable in variables}
    values = dict(arguments.values)
    for name in values:
        if name not in by_name:
            raise TemplateSyntaxError(_UNKNOWN_VARIABLE, template=template, name=name,
                                      known=", ".join(by_name) or "-")
    absent = missing(variables, arguments)
    if arguments.rest and len(absent) == 1:
        values[absent[0].name] = arguments.rest
        absent = []
    if absent:
        example = " ".join(f"{v.name}={_example(v)}" for v in absent)
        raise TemplateSyntaxError(_MISSING, count=len(absent), s="" if len(absent) == 1 else "s",
                                  template=template,
                                  names=", ".join(v.name for v in absent), example=example)
    for variable in variables:
        value = values.get(variable.name, "")
        if not value.strip():  # « delai= »: nothing given, the default stands
            value = variable.default or ""
        if len(value) > MAX_VALUE_CHARS:
            raise TemplateSyntaxError(_VALUE_TOO_LONG, name=variable.name, limit=MAX_VALUE_CHARS)
        if variable.type == "number" and not _NUMBER.match(value.strip()):
            raise TemplateSyntaxError(_NOT_A_NUMBER, name=variable.name, value=value[:40])
        if variable.type == "choice" and value not in variable.choices:
            raise TemplateSyntaxError(_NOT_A_CHOICE, name=variable.name, value=value[:40],
                                      choices=", ".join(variable.choices))
        values[variable.name] = value

    def replace(match: re.Match[str]) -> str:
        return values[_definition(match.group(1)).name]

    return _PLACEHOLDER.sub(replace, body)


def _example(variable: Variable) -> str:
    if variable.type == "choice":
        return variable.choices[0]
    if variable.type == "number":
        return "100"
    return '"…"'
