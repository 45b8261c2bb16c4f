"""Test helpers: a deterministic embedder and real PDF/DOCX files made on the fly."""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from collections.abc import Sequence
from pathlib import Path

from knowledge.embeddings import Vectors, normalise
from knowledge.french import FrenchAnalyzer


class HashingEmbedder:
    """Bag of stemmed words hashed into 256 dimensions: deterministic and instant."""

    name = "test-hashing-256"
    similarity_floor = 0.0

    def __init__(self) -> None:
        self._analyzer = FrenchAnalyzer()
        self.calls = 0
        self.queries = 0

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * 256
        for term in self._analyzer(text):
            vector[int(hashlib.md5(term.encode()).hexdigest(), 16) % 256] += 1.0  # noqa: S324
        return vector

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.calls += len(texts)
        await asyncio.sleep(0)
        return normalise([self._vector(text) for text in texts])

    async def embed_query(self, text: str) -> Vectors:
        self.queries += 1
        vectors: Vectors = normalise([self._vector(text)])[0]
        return vectors


def make_pdf(pages: Sequence[str], title: str | None = None, *,
             column_width: int = 200, by_column: bool = False) -> bytes:
    """A small valid PDF, each page's lines in Helvetica (WinAnsi: accents and « – »; a tab
    starts a table's next column), no PDF writer needed."""
    objects: list[bytes] = []
    count = len(pages)
    page_ids = [4 + 2 * index for index in range(count)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{page_id} 0 R" for page_id in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                   b"/Encoding /WinAnsiEncoding >>")
    for index, text in enumerate(pages):
        placed = [(column, row, cell) for row, line in enumerate(text.split("\n"))
                  for column, cell in enumerate(line.split("\t"))]  # a tab: the next column
        if by_column:  # written as a two-column page is: one column, then the next
            placed.sort(key=lambda item: (item[0], item[1]))
        shown = []
        for column, row, cell in placed:
            escaped = cell.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            x, y = 72 + column_width * column, 720 - 14 * row
            shown.append(f"1 0 0 1 {x} {y} Tm ({escaped}) Tj")
        stream = f"BT /F1 12 Tf {' '.join(shown)} ET".encode("cp1252")
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            "/Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {page_ids[index] + 1} 0 R >>".encode()
        )
        compressed = zlib.compress(stream)
        objects.append(
            f"<< /Length {len(compressed)} /Filter /FlateDecode >>\nstream\n".encode()
            + compressed
            + b"\nendstream"
        )
    info_ref = ""
    if title:
        objects.append(f"<< /Title ({title}) >>".encode("latin-1"))
        info_ref = f" /Info {len(objects)} 0 R"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R{info_ref} >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def make_docx(path: Path) -> Path:
    """A .docx with a title, two headings, paragraphs and a table."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Guide des congés"
    document.add_heading("Congés payés", level=1)
    document.add_paragraph(
        "Chaque salarié acquiert 2,5 jours ouvrables de congés par mois de travail."
    )
    document.add_heading("Demande de congé", level=2)
    document.add_paragraph("La demande se fait dans l'outil RH au moins un mois à l'avance.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Ancienneté"
    table.cell(0, 1).text = "Jours supplémentaires"
    table.cell(1, 0).text = "10 ans"
    table.cell(1, 1).text = "2 jours"
    document.save(str(path))
    return path
