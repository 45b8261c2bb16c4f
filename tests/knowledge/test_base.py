from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from knowledge import DataClass, KnowledgeBase, KnowledgeError, KnowledgeSettings, Outcome
from knowledge.embeddings import Vectors
from tests.knowledge.helpers import HashingEmbedder, make_docx, make_pdf

SINISTRE = """# Déclaration de sinistre habitation

## Délais
L'assuré déclare le sinistre dans les 5 jours ouvrés. En cas de vol, le délai est de 2 jours.

## Pièces à fournir
Joindre les factures, les photos des dégâts et le dépôt de plainte en cas de vol.
"""
TELETRAVAIL = """# Politique de télétravail

Les collaborateurs peuvent télétravailler jusqu'à trois jours par semaine avec l'accord du manager.
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_ingest_then_search_cites_sources(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, "sinistre.md", SINISTRE)
    write(docs, "teletravail.md", TELETRAVAIL)
    (docs / "guide.pdf").write_bytes(make_pdf(["Franchise de 150 euros par sinistre."], "Guide"))
    make_docx(docs / "conges.docx")

    report = await kb.ingest([docs], "procedures", data_class="confidential")

    assert [item.outcome for item in report.files] == [Outcome.ADDED] * 4
    hits = await kb.search(
        "Quel est le délai pour déclarer un vol ?", collections=["procedures"], k=3
    )
    best = hits[0]
    assert best.document == "sinistre.md"
    assert best.path.endswith("sinistre.md")
    assert best.title == "Déclaration de sinistre habitation"
    assert best.section is not None and best.section.endswith("Délais")
    assert "2 jours" in best.text
    assert best.collection == "procedures"
    assert best.data_class == "confidential"
    assert 0.0 < best.score <= 1.0
    pdf_hit = (await kb.search("franchise sinistre euros", collections=["procedures"], k=1))[0]
    assert (pdf_hit.document, pdf_hit.page) == ("guide.pdf", 1)


async def test_reingest_unchanged_is_a_no_op(
    kb: KnowledgeBase, tmp_path: Path, embedder: HashingEmbedder
) -> None:
    path = write(tmp_path, "sinistre.md", SINISTRE)
    await kb.ingest([path], "procedures")
    calls = embedder.calls

    report = await kb.ingest([path], "procedures")

    assert report.files[0].outcome is Outcome.UNCHANGED
    assert embedder.calls == calls


async def test_changed_file_replaces_all_its_chunks(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write(tmp_path, "sinistre.md", SINISTRE)
    await kb.ingest([path], "procedures")
    write(
        tmp_path,
        "sinistre.md",
        "# Sinistre\n\nNouvelle règle : déclaration sous 10 jours calendaires.\n",
    )

    report = await kb.ingest([path], "procedures")

    assert report.files[0].outcome is Outcome.UPDATED
    hits = await kb.search("déclaration sinistre vol jours", collections=["procedures"], k=10)
    assert len(hits) == 1
    assert "10 jours calendaires" in hits[0].text


async def test_delete_document_removes_every_chunk(kb: KnowledgeBase, tmp_path: Path) -> None:
    write(tmp_path / "docs", "sinistre.md", SINISTRE)
    write(tmp_path / "docs", "teletravail.md", TELETRAVAIL)
    await kb.ingest([tmp_path / "docs"], "procedures")

    removed = await kb.delete_document("procedures", "sinistre.md")

    assert removed >= 1
    hits = await kb.search("sinistre vol délai", collections=["procedures"], k=10)
    assert {hit.document for hit in hits} == {"teletravail.md"}
    assert await kb.delete_document("procedures", "sinistre.md") == 0


async def test_space_sees_only_attached_and_company_wide(kb: KnowledgeBase, tmp_path: Path) -> None:
    await kb.ingest([write(tmp_path / "a", "rh.md", TELETRAVAIL)], "rh")
    await kb.ingest([write(tmp_path / "b", "sinistre.md", SINISTRE)], "sinistres")
    await kb.ingest(
        [
            write(
                tmp_path / "c",
                "charte.md",
                "# Charte\n\nTélétravail et sinistre : règles communes.\n",
            )
        ],
        "charte",
        company_wide=True,
    )
    await kb.attach("rh", "teams:team-rh")
    await kb.attach("sinistres", "slack:T1:C9")
    query = "télétravail sinistre règles délai"

    rh_space = {hit.collection for hit in await kb.search(query, space="teams:team-rh", k=20)}
    slack_space = {hit.collection for hit in await kb.search(query, space="slack:T1:C9", k=20)}
    other_space = {hit.collection for hit in await kb.search(query, space="web:default", k=20)}
    no_space = {hit.collection for hit in await kb.search(query, k=20)}

    assert rh_space == {"rh", "charte"}
    assert slack_space == {"sinistres", "charte"}
    assert other_space == no_space == {"charte"}
    await kb.detach("rh", "teams:team-rh")
    assert {hit.collection for hit in await kb.search(query, space="teams:team-rh", k=20)} == {
        "charte"
    }


async def test_collection_admin(kb: KnowledgeBase) -> None:
    created = await kb.create_collection("juridique", title="Juridique", data_class="secret")
    assert created.data_class is DataClass.SECRET
    with pytest.raises(KnowledgeError, match="existe déjà"):
        await kb.create_collection("juridique")
    with pytest.raises(KnowledgeError, match="invalide"):
        await kb.create_collection("Bad Name!")
    with pytest.raises(KnowledgeError, match="espace invalide"):
        await kb.attach("juridique", "nowhere")
    await kb.attach("juridique", "web:default")
    await kb.update_collection("juridique", company_wide=True)
    (listed,) = await kb.list_collections(with_counts=True)
    assert (listed.name, listed.spaces, listed.company_wide, listed.chunk_count) == (
        "juridique",
        ("web:default",),
        True,
        0,
    )
    await kb.delete_collection("juridique")
    assert await kb.list_collections() == []
    with pytest.raises(KnowledgeError, match="introuvable"):
        await kb.search("x", collections=["juridique"])


async def test_registry_is_shared_between_instances(
    tmp_path: Path, settings: KnowledgeSettings, embedder: HashingEmbedder
) -> None:
    first = KnowledgeBase.open(tmp_path / "data", settings, embedder=embedder)
    await first.ingest([write(tmp_path, "rh.md", TELETRAVAIL)], "rh")
    second = KnowledgeBase.open(tmp_path / "data", settings, embedder=embedder)
    assert await second.search("télétravail", space="teams:x") == []
    await first.attach("rh", "teams:x")
    assert [hit.document for hit in await second.search("télétravail", space="teams:x")] == [
        "rh.md"
    ]
    first.close()
    second.close()


async def test_bad_files_fail_alone_and_leave_index_unchanged(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    good = write(tmp_path / "docs", "ok.md", TELETRAVAIL)
    corrupt = tmp_path / "docs" / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.7\nthis is not really a pdf\x00\xff")
    empty = write(tmp_path / "docs", "empty.txt", "")
    binary = tmp_path / "docs" / "blob.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    big = tmp_path / "docs" / "big.txt"
    big.write_bytes(b"mot " * 300_000)
    latin = tmp_path / "docs" / "latin.txt"
    latin.write_bytes("Réclamation : répondre sous dix jours ouvrés à l'assuré.".encode("cp1252"))
    unsupported = write(tmp_path, "image.xyz", "??")
    missing = tmp_path / "missing.md"

    report = await kb.ingest(
        [corrupt, empty, binary, big, unsupported, missing, good, latin], "procedures"
    )

    outcomes = {Path(item.path).name: (item.outcome, item.message) for item in report.files}
    assert outcomes["ok.md"][0] is Outcome.ADDED
    assert outcomes["latin.txt"][0] is Outcome.ADDED
    assert outcomes["corrupt.pdf"][0] is Outcome.FAILED and "PDF" in outcomes["corrupt.pdf"][1]
    assert "vide" in outcomes["empty.txt"][1]
    assert "binaire" in outcomes["blob.txt"][1]
    assert "trop volumineux" in outcomes["big.txt"][1]
    assert "non prise en charge" in outcomes["image.xyz"][1]
    assert "lecture impossible" in outcomes["missing.md"][1]
    assert report.failed and report.count(Outcome.FAILED) == 6
    (info,) = await kb.list_collections(with_counts=True)
    hits = await kb.search("réclamation dix jours", collections=["procedures"], k=20)
    assert {hit.document for hit in hits} <= {"ok.md", "latin.txt"}
    assert info.chunk_count == 2


async def test_folder_skips_unsupported_and_hidden(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, "a.md", TELETRAVAIL)
    write(docs / ".git", "b.md", TELETRAVAIL)
    (docs / "logo.png").write_bytes(b"\x89PNG\x00")
    report = await kb.ingest([docs], "procedures")
    assert [(Path(item.path).name, item.outcome) for item in report.files] == [
        ("a.md", Outcome.ADDED),
        ("logo.png", Outcome.SKIPPED),
    ]
    assert not report.failed


async def test_huge_query_is_truncated(kb: KnowledgeBase, tmp_path: Path) -> None:
    await kb.ingest([write(tmp_path, "rh.md", TELETRAVAIL)], "rh", company_wide=True)
    hits = await kb.search("télétravail " + "blabla " * 1500, k=3)
    assert [hit.document for hit in hits] == ["rh.md"]
    assert await kb.search("   ", k=3) == []


class FailingEmbedder(HashingEmbedder):
    """Embeds queries but refuses passages, like an embedding endpoint that is down."""

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        raise KnowledgeError("embedding endpoint unreachable")


async def test_embedding_failure_fails_files_not_the_run(
    tmp_path: Path, settings: KnowledgeSettings
) -> None:
    kb = KnowledgeBase.open(tmp_path / "data", settings, embedder=FailingEmbedder())
    progress: list[Outcome] = []

    report = await kb.ingest(
        [write(tmp_path, "a.md", TELETRAVAIL), write(tmp_path, "b.md", SINISTRE)],
        "procedures",
        progress=lambda outcome: progress.append(outcome.outcome),
    )

    assert progress == [Outcome.FAILED, Outcome.FAILED]
    assert "unreachable" in report.files[0].message
    (info,) = await kb.list_collections(with_counts=True)
    assert info.chunk_count == 0
    kb.close()


async def test_warm_up_builds_the_lexical_indexes_before_the_first_question(
    tmp_path: Path, settings: KnowledgeSettings, embedder: HashingEmbedder
) -> None:
    first = KnowledgeBase.open(tmp_path / "data", settings, embedder=embedder)
    await first.ingest([write(tmp_path, "rh.md", TELETRAVAIL)], "rh", company_wide=True)
    first.close()
    restarted_embedder = HashingEmbedder()
    restarted = KnowledgeBase.open(tmp_path / "data", settings, embedder=restarted_embedder)
    assert not restarted.lexical_indexes.holds("rh")
    await restarted.warm_up()
    assert restarted.lexical_indexes.holds("rh")  # loaded at start-up, not by the first question
    assert restarted_embedder.queries == 1  # and the model: one query embedded
    assert [hit.document for hit in await restarted.search("télétravail")] == ["rh.md"]
    restarted.close()


async def test_warm_up_without_collections_loads_no_model(
    tmp_path: Path, settings: KnowledgeSettings, embedder: HashingEmbedder
) -> None:
    kb = KnowledgeBase.open(tmp_path / "data", settings, embedder=embedder)
    await kb.warm_up()
    assert embedder.queries == 0
    kb.close()


async def test_an_english_question_is_matched_on_its_french_renderings(
    tmp_path: Path, embedder: HashingEmbedder
) -> None:
    docs = tmp_path / "docs"
    write(docs, "sinistre.md", SINISTRE)
    write(docs, "teletravail.md", TELETRAVAIL)
    question = "What is the deadline to report a theft?"
    lexical: dict[bool, list[float]] = {}
    for structured in (True, False):
        settings = KnowledgeSettings(cross_lingual_structured=structured, registry_ttl_s=0.0)
        knowledge = KnowledgeBase.open(tmp_path / f"data-{structured}", settings,
                                       embedder=embedder)
        try:
            await knowledge.ingest([docs], "procedures")
            hits = await knowledge.search(question, collections=["procedures"], k=5)
        finally:
            knowledge.close()
        lexical[structured] = [hit.lexical or 0.0 for hit in hits
                               if hit.document == "sinistre.md"]
    # « deadline », « report », « theft » found as « délai », « déclare », « vol »
    assert max(lexical[True]) > 0.5
    assert max(lexical[False], default=0.0) == 0.0


async def test_a_list_cut_by_a_chunk_s_end_is_searched_whole(
        kb: KnowledgeBase, tmp_path: Path) -> None:
    items = "\n".join(f"- la pièce justificative numéro {n} à joindre au dossier ;"
                      for n in range(1, 10))
    write(tmp_path / "docs", "rc.md", "# Règlement\n\n## Pièces de la candidature\n\n"
          f"Chaque candidat produit les pièces suivantes :\n{items}\n- la dernière pièce.\n")
    await kb.ingest([tmp_path / "docs"], "rc")
    [best] = await kb.search("Quelles pièces de la candidature ?", collections=["rc"], k=1)
    assert "la dernière pièce." in best.text and best.text.count("numéro 9") == 1
