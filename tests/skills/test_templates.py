"""``/template use`` without a generative model: the filled prompt, why, and only real extracts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Runtime, build_runtime
from bot.messages import Channel, Message, Space, User
from bot.settings import Settings, load_settings
from bot.store.templates import TemplateStore
from tests.conftest import FakeSearch, passage
from tests.fakes.model_server import FakeModelServer, write_policy

COMPLAINT = ('/template use reponse-reclamation client="M. Martin" objet="le délai '
             'd\'indemnisation" ton=bienveillant decision="versement sous 48 heures" '
             'reclamation="J\'attends mon remboursement depuis six semaines."')


def _message(text: str) -> Message:
    return Message(text=text, user=User("u1"), space=Space("web:sinistres"),
                   channel=Channel.WEB, thread_id="t")


async def _runtime(settings: Settings, search: FakeSearch) -> Runtime:
    built = build_runtime(settings, knowledge=search)  # type: ignore[arg-type]
    await built.start()
    return built


@pytest.fixture
async def search() -> FakeSearch:
    return FakeSearch([passage(1, "La déclaration d'un dégât des eaux se fait sous cinq jours "
                                  "ouvrés après sa découverte, par téléphone ou en ligne.")])


@pytest.fixture
async def runtime(settings: Settings, search: FakeSearch) -> AsyncIterator[Runtime]:
    built = await _runtime(settings, search)
    yield built
    await built.close()


async def _runs(runtime: Runtime) -> int:
    stats = await TemplateStore(runtime.store.engine, sealer=runtime.store).stats(
        timedelta(days=1))
    return stats.runs


async def test_offline_run_shows_the_filled_prompt_and_how_to_get_a_model(
        runtime: Runtime, search: FakeSearch) -> None:
    reply = await runtime.assistant.answer(_message(COMPLAINT))
    assert "D'après les documents" not in reply.text and "[1]" not in reply.text
    assert "n'a pas été exécuté" in reply.text
    assert "skills.templates.roles.generate" in reply.text
    prompt = reply.text.split("**Prompt rempli**")[1]
    assert "Rédige un projet de réponse à la réclamation de M. Martin" in prompt
    assert "versement sous 48 heures" in prompt and "{{" not in prompt
    assert reply.kind == "info" and reply.model is None and reply.citations == ()
    assert search.queries == []  # an instruction, not a question: nothing to look up
    assert await _runs(runtime) == 1


async def test_offline_question_template_cites_the_passages_that_answer_it(
        runtime: Runtime, search: FakeSearch) -> None:
    await runtime.assistant.answer(_message(
        "/template save delai-declaration Sous quel délai faut-il déclarer un {{sinistre}} ? "
        "Réponds en une phrase."))
    reply = await runtime.assistant.answer(_message(
        '/template use delai-declaration sinistre="dégât des eaux"'))
    assert search.queries == [("Sous quel délai faut-il déclarer un dégât des eaux ?",
                               "web:sinistres")]
    passages = reply.text.split("**Passages des documents**")[1].split("**Prompt rempli**")[0]
    assert "sous cinq jours ouvrés" in passages and "[1]" in passages
    assert "Réponds en une phrase" not in passages
    assert [c.document for c in reply.citations] == ["doc1.md"]
    assert reply.kind == "answer" and reply.model == "extractive"
    assert await _runs(runtime) == 1


async def test_offline_question_with_no_relevant_document_says_so(
        settings: Settings) -> None:
    built = await _runtime(settings, FakeSearch([passage(1, "Sans rapport.", score=0.1)]))
    try:
        await built.assistant.answer(_message("/template save q-vide Que couvre {{x}} ?"))
        reply = await built.assistant.answer(_message("/template use q-vide x=tout"))
    finally:
        await built.close()
    assert "Aucun document accessible" in reply.text and reply.citations == ()
    assert "Que couvre tout ?" in reply.text.split("**Prompt rempli**")[1]


async def test_approved_model_not_cleared_is_named(tmp_path: Path,
                                                   fake_model: FakeModelServer) -> None:
    policy = write_policy(tmp_path / "policy.yaml", fake_model.url, clearance="public",
                          fallback_extractive=True)
    settings = load_settings(data_dir=tmp_path / "data", policy_file=policy, _env_file=None)
    built = await _runtime(settings, FakeSearch())
    try:
        reply = await built.assistant.answer(_message(COMPLAINT))
    finally:
        await built.close()
    assert "(fake) n'est pas habilité" in reply.text and "**Prompt rempli**" in reply.text
    assert fake_model.requests == []


async def test_generative_model_runs_the_filled_template(
        model_settings: Settings, fake_model: FakeModelServer) -> None:
    built = await _runtime(model_settings, FakeSearch())
    try:
        reply = await built.assistant.answer(_message(COMPLAINT))
        runs = await _runs(built)
    finally:
        await built.close()
    _system, user = fake_model.requests[0]["messages"]
    assert user["content"].startswith("Rédige un projet de réponse à la réclamation de M. Martin")
    assert "Réponse du modèle factice" in reply.text and reply.model == "fake"
    assert runs == 1


async def test_single_braces_are_pointed_out_when_a_template_has_no_variable(
        runtime: Runtime) -> None:
    saved = await runtime.assistant.answer(_message(
        "/template save relance Relance {client} pour le dossier {dossier}."))
    assert saved.text == (
        "Modèle « relance » enregistré (version 1, personnel). Variables : aucune. Des "
        "accolades simples ({client}, {dossier}) ne font pas une variable : écrivez "
        "{{client}}, avec deux accolades, puis enregistrez de nouveau le texte.")
    fixed = await runtime.assistant.answer(_message(
        "/template save relance Relance {{client}} ; le JSON {\"a\": 1} reste tel quel."))
    assert fixed.text.endswith("Variables : client.")


async def test_a_template_name_after_the_command_runs_it(runtime: Runtime) -> None:
    shortcut = COMPLAINT.replace("/template use ", "/template ", 1)
    reply = await runtime.assistant.answer(_message(shortcut))
    assert "Rédige un projet de réponse à la réclamation de M. Martin" in reply.text
    assert await _runs(runtime) == 1
    unknown = await runtime.assistant.answer(_message("/template relance-impayes client=X"))
    assert unknown.kind == "error"
    assert unknown.text.startswith("« relance-impayes » n'est ni une commande de `/template`")
    assert "{{{{" not in unknown.text and "{{client}}" in unknown.text  # the usage, readable
    usage = await runtime.assistant.answer(_message("/template"))
    assert "`/template save NOM texte avec {{variable}}`" in usage.text


def _from(user: str, text: str) -> Message:
    return Message(text=text, user=User(user), space=Space("web:sinistres"),
                   channel=Channel.WEB, thread_id="t")


async def test_a_name_is_each_person_s_and_one_s_own_comes_first(runtime: Runtime) -> None:
    for user in ("u1", "u2"):  # two people, each their own « relance »
        saved = await runtime.assistant.answer(_from(user, "/template save relance Relance "
                                                           f"{{{{client}}}} de {user}."))
        assert saved.text.startswith("Modèle « relance » enregistré (version 1, personnel)")
    mine = await runtime.assistant.answer(_from(
        "u1", "/template save reponse-reclamation Réponds à {{client}} en une ligne."))
    assert mine.text.startswith("Modèle « reponse-reclamation » enregistré (version 1, "
                                "personnel)")
    assert "Il passe avant le modèle « reponse-reclamation » de l'entreprise pour vous" \
        in mine.text
    ran = await runtime.assistant.answer(_from("u1", "/template reponse-reclamation client=X"))
    assert "Réponds à X en une ligne." in ran.text
    listed = (await runtime.assistant.answer(_from("u1", "/template list reclamation"))).text
    assert listed.splitlines()[1:] == [
        "- **reponse-reclamation** : reponse-reclamation (personnel, v1)",
        "- **reponse-reclamation** : Réponse à une réclamation (entreprise, v1) — reclamation, "
        "courrier — remplacé pour vous par celui du dessus"]
    others = await runtime.assistant.answer(_from("u2", COMPLAINT))
    assert "Rédige un projet de réponse à la réclamation de M. Martin" in others.text
    await runtime.assistant.answer(_from("u1", "/template archive reponse-reclamation"))
    back = await runtime.assistant.answer(_from("u1", COMPLAINT))
    assert "Rédige un projet de réponse à la réclamation de M. Martin" in back.text
    again = await runtime.assistant.answer(_from(
        "u1", "/template save reponse-reclamation Réponds à {{client}} en deux lignes."))
    assert again.text.startswith("Modèle « reponse-reclamation » enregistré (version 3, "
                                 "personnel)")  # the archived one, brought back
    ran = await runtime.assistant.answer(_from("u1", "/template reponse-reclamation client=Y"))
    assert "Réponds à Y en deux lignes." in ran.text


async def test_values_of_several_words_need_no_quotes(runtime: Runtime) -> None:
    reply = await runtime.assistant.answer(_message(
        "/template use courrier-relance client=Mme Martin motif=cotisation impayée"))
    prompt = reply.text.split("**Prompt rempli**")[1]
    assert "Mme Martin" in prompt and "cotisation impayée" in prompt


async def test_sharing_with_a_team_from_a_personal_chat_says_how_to_name_its_space(
        runtime: Runtime) -> None:
    personal = Message(text="/template save mon-modele Bonjour {{client}}.", user=User("u9"),
                       space=Space("web:default", kind="personal"), channel=Channel.WEB,
                       thread_id="t9")
    await runtime.assistant.answer(personal)
    refused = await runtime.assistant.answer(replace(
        personal, text="/template share mon-modele team"))
    assert "« /template share mon-modele team ESPACE »" in refused.text, refused.text
