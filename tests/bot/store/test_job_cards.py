"""A job result's cards survive the store (sealed with the text), and older rows read back."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from sqlalchemy import select, update

from bot.cards import Card, CardButton, CardInput
from bot.jobs.model import JobResult, JobSpec, JobState, ReplyTo
from bot.store import Store
from bot.store.file_tables import JobRecord
from bot.store.jobs import JobStore
from bot.store.sealing import PlainSealer, seal_text

REPLY = ReplyTo("teams", "teams:T1", "conv-1", "teams:U1", "fr", {"serviceUrl": "x"})
SPEC = JobSpec("tenders", "screen", {"files": []}, title="Analyse d'appel d'offres")
LEASE, LIMIT = timedelta(seconds=30), timedelta(minutes=60)
CARD = Card(
    title="Nettoyage des locaux du CHU",
    text="Verdict par lot",
    facts=(("Acheteur", "CHU de Nulle-Part"), ("Lot 1 – Vitrerie", "⛔ NO-GO — CA : 2 M€")),
    inputs=(CardInput("note", "Remarque", multiline=True, placeholder="…"),),
    buttons=(CardButton("Ré-analyser", "tenders:rescreen", {"job": "abc"}, "primary"),))


async def _finished(jobs: JobStore, result: JobResult) -> str:
    job_id = await jobs.create(SPEC, REPLY, max_attempts=1, per_user=3, per_skill=3)
    assert await jobs.claim(job_id, "w", LEASE, LIMIT) is not None
    assert await jobs.finish(job_id, "w", JobState.SUCCEEDED, REPLY.user_id, result)
    return job_id


async def test_a_result_with_cards_round_trips(store: Store) -> None:
    jobs = JobStore(store.engine, PlainSealer())
    result = JobResult("**Nettoyage** : NO-GO", ("f1", "f2"), "answer", (CARD, Card("Lot 2")))
    job = await jobs.get(await _finished(jobs, result))
    assert job is not None and job.result == result
    assert job.result.cards[0].buttons[0].values == {"job": "abc"}


async def test_cards_are_sealed_with_the_text(encrypted_store: Store) -> None:
    store = encrypted_store
    jobs = JobStore(store.engine, store)
    job_id = await _finished(jobs, JobResult("fini", cards=(CARD,)))
    async with store.engine.connect() as connection:
        raw = await connection.scalar(select(JobRecord.result).where(JobRecord.id == job_id))
    stored = base64.b64decode(raw or "")  # the sealed bytes (a short word may occur in base64)
    assert stored and b"CHU de Nulle-Part" not in stored and b"Vitrerie" not in stored
    job = await jobs.get(job_id)
    assert job is not None and job.result is not None and job.result.cards == (CARD,)


async def test_a_result_stored_before_cards_existed_reads_without_cards(store: Store) -> None:
    sealer = PlainSealer()
    jobs = JobStore(store.engine, sealer)
    job_id = await _finished(jobs, JobResult("placeholder"))
    old = json.dumps({"text": "ancien", "artefacts": ["f9"], "kind": "info"})
    sealed = await seal_text(sealer, REPLY.user_id, old, f"job:{job_id}:result")
    async with store.engine.begin() as connection:
        await connection.execute(update(JobRecord).where(JobRecord.id == job_id)
                                 .values(result=sealed))
    job = await jobs.get(job_id)
    assert job is not None and job.result == JobResult("ancien", ("f9",), "info")
