"""The collection registry, kept in Chroma collection metadata so every replica sees it.

A knowledge collection ``NAME`` is the Chroma collection ``kb_NAME``; its
metadata holds the title, the attached spaces (a JSON list, Chroma metadata
values being scalars), the company-wide flag, the data class, the creation
time, the embedder that made its vectors and a revision token changed on every
write (each replica then brings its lexical index up to date).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from knowledge.records import CollectionInfo, DataClass, KnowledgeError

CHROMA_PREFIX = "kb_"
_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,58}[a-z0-9])?$")
_SPACE = re.compile(r"^(?:teams|slack|web):[^\s]{1,200}$")


def validate_name(name: str) -> str:
    """Collection names: 1-60 characters of a-z 0-9 . _ - (alphanumeric at both ends)."""
    if not _NAME.fullmatch(name):
        raise KnowledgeError(
            f"nom de collection invalide « {name} » : 1 à 60 caractères a-z 0-9 . _ -, "
            "commençant et finissant par une lettre ou un chiffre"
        )
    return name


def validate_space(space: str) -> str:
    """Space ids look like ``teams:<team-id>``, ``slack:<team>:<channel>`` or ``web:default``."""
    if not _SPACE.fullmatch(space):
        raise KnowledgeError(
            f"identifiant d'espace invalide « {space} » (attendu teams:…, slack:…:… ou web:…)"
        )
    return space


def parse_data_class(value: str) -> DataClass:
    """``public|internal|confidential|secret`` (case-insensitive)."""
    try:
        return DataClass(value.strip().lower())
    except ValueError as error:
        choices = "|".join(item.value for item in DataClass)
        raise KnowledgeError(
            f"classe de données invalide « {value} » (attendu {choices})"
        ) from error


def chroma_name(name: str) -> str:
    """The Chroma collection that stores knowledge collection ``name``."""
    return CHROMA_PREFIX + name


def new_collection_info(
    name: str, *, title: str | None, data_class: DataClass, company_wide: bool, embedder: str
) -> CollectionInfo:
    """A fresh registry entry."""
    return CollectionInfo(
        name=validate_name(name),
        title=title or name,
        spaces=(),
        company_wide=company_wide,
        data_class=data_class,
        created_at=datetime.now(UTC),
        embedder=embedder,
        revision=uuid.uuid4().hex,
    )


def to_metadata(info: CollectionInfo) -> dict[str, str | bool]:
    """Registry entry → Chroma metadata (scalars only)."""
    return {
        "almia_kind": "knowledge-collection",
        "title": info.title,
        "spaces": json.dumps(sorted(info.spaces)),
        "company_wide": info.company_wide,
        "data_class": info.data_class.value,
        "created_at": info.created_at.isoformat(),
        "embedder": info.embedder,
        "revision": info.revision,
    }


def from_metadata(
    chroma_collection_name: str, metadata: Mapping[str, Any] | None
) -> CollectionInfo | None:
    """Chroma metadata → registry entry, or None for Chroma collections that are not ours."""
    if not chroma_collection_name.startswith(CHROMA_PREFIX) or not metadata:
        return None
    if metadata.get("almia_kind") != "knowledge-collection":
        return None
    name = chroma_collection_name[len(CHROMA_PREFIX) :]
    try:
        spaces = tuple(str(space) for space in json.loads(str(metadata.get("spaces", "[]"))))
        created_at = datetime.fromisoformat(str(metadata["created_at"]))
        data_class = DataClass(str(metadata.get("data_class", "internal")))
    except (ValueError, KeyError, TypeError):
        return None
    return CollectionInfo(
        name=name,
        title=str(metadata.get("title", name)),
        spaces=spaces,
        company_wide=bool(metadata.get("company_wide", False)),
        data_class=data_class,
        created_at=created_at,
        embedder=str(metadata.get("embedder", "")),
        revision=str(metadata.get("revision", "")),
    )


def visible_collections(
    registry: Iterable[CollectionInfo], space: str | None
) -> list[CollectionInfo]:
    """Collections a search from ``space`` may read: attached to it, or company-wide."""
    return [info for info in registry if info.visible_from(space)]
