"""Almia knowledge: document collections, offline embeddings, hybrid French search scoped by space.

Public API::

    kb = KnowledgeBase.open(data_dir, KnowledgeSettings(), chroma_url=None)
    await kb.ingest([Path("docs")], "rh-procedures", data_class="internal")
    await kb.attach("rh-procedures", "teams:19:abc")
    passages = await kb.search("Comment déclarer un sinistre ?", space="teams:19:abc", k=5)
"""

from knowledge.base import KnowledgeBase
from knowledge.embeddings import Embedder
from knowledge.records import (
    CollectionInfo,
    DataClass,
    FileOutcome,
    IngestReport,
    KnowledgeError,
    Outcome,
    Passage,
)
from knowledge.settings import KnowledgeSettings

__all__ = [
    "CollectionInfo",
    "DataClass",
    "Embedder",
    "FileOutcome",
    "IngestReport",
    "KnowledgeBase",
    "KnowledgeError",
    "KnowledgeSettings",
    "Outcome",
    "Passage",
]
