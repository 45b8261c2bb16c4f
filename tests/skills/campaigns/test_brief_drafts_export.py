"""Brief parsing, editable pieces, offline drafts from the library, approved-only exports."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot.skills import SkillError
from bot.store.campaigns import CampaignView, DecisionView, VersionView
from skills.campaigns.brief import Medium, check_dates, parse_brief
from skills.campaigns.checks import fits_channel
from skills.campaigns.draft_library import load_library
from skills.campaigns.drafts import Drafter
from skills.campaigns.export import NotApproved, export_files
from skills.campaigns.notices import author_conversation
from skills.campaigns.pieces import Piece, fingerprint, parse_pieces, serialise
from skills.campaigns.rules import load_rules
from tests.skills.campaigns.conftest import brief


def test_brief_in_french_or_english_keys() -> None:
    parsed = parse_brief(brief())
    assert parsed.product == "Almia Habitation" and parsed.channels == (Medium.EMAIL, Medium.SMS)
    assert parsed.approval == "all" and parsed.reviewers == ("web:claire", "conformite")
    assert parsed.offer_end == date(2099, 3, 31) and parsed.tone == "chaleureux"
    english = parse_brief("title: T1\nproduct: P1\nsegment: S1\nchannels: e-mail, courrier\n"
                          "call_to_action: Go\nreviewers: web:a\napproval: any\ntone: formal")
    assert english.channels == (Medium.EMAIL, Medium.LETTER) and english.approval == "any"
    assert english.tone == "formel"


def test_a_brief_whose_dates_are_past_or_whose_yaml_is_broken_says_where() -> None:
    parsed = parse_brief(brief())
    check_dates(parsed, date(2099, 1, 1))
    with pytest.raises(SkillError) as past:
        check_dates(parsed, date(2099, 6, 1))
    assert "« fin_offre » (2099-03-31) est déjà passé" in past.value.message_for("fr")
    assert "“offer_end” (2099-03-31) has already passed" in past.value.message_for("en")
    with pytest.raises(SkillError) as impossible:  # unquoted: YAML would take it for a date
        parse_brief(brief().replace("2099-03-31", "2099-13-45"))
    assert "fin_offre : date attendue" in impossible.value.message_for("fr")
    with pytest.raises(SkillError) as broken:
        parse_brief("titre: x\ncanaux: [email, sms\nproduit: y\n")
    assert "erreur ligne" in broken.value.message_for("fr")
    assert "while parsing" not in broken.value.message_for("fr")


@pytest.mark.parametrize(("text", "named"), [
    ("titre: x", "produit"), ("- a\n- b", "clé: valeur"), ("a: [", "YAML"),
    (brief().replace("canaux: [email, sms]", "canaux: [fax]"), "fax"),
    (brief() + "couleur: rouge\n", "couleur"),
    ("\n".join(line for line in brief().splitlines() if not line.startswith("conditions")),
     "une offre doit avoir ses conditions")])
def test_bad_briefs_are_refused_by_name(text: str, named: str) -> None:
    with pytest.raises(SkillError) as refused:
        parse_brief(text)
    assert named in refused.value.message_for("fr")


def test_brief_problems_said_plainly_in_each_language() -> None:
    with pytest.raises(SkillError) as refused:
        parse_brief(brief() + "couleur: rouge\n")
    assert "couleur : clé inconnue" in refused.value.message_for("fr")
    assert "couleur: unknown key" in refused.value.message_for("en")
    with pytest.raises(SkillError) as missing:
        parse_brief("produit: Habitation\n")
    assert "titre : champ obligatoire manquant" in missing.value.message_for("fr")
    assert "Field required" not in missing.value.message_for("fr")
    with pytest.raises(SkillError) as wrong:
        parse_brief(brief().replace("canaux: [email, sms]", "canaux: [email, reseaux]")
                    + "ton: complice\nvariantes: 7\n")
    french = wrong.value.message_for("fr")
    assert "canaux : canal inconnu « reseaux » (email, sms, courrier, bannière, linkedin)" \
        in french
    assert "ton : « complice » n'est pas proposé (formel, chaleureux ou dynamique)" in french
    assert "variantes : 3 au plus" in french
    assert "Value error" not in french and "Input should" not in french
    assert "tone: “complice” is not offered" in wrong.value.message_for("en")


def test_key_messages_inside_a_sentence_lose_their_capital() -> None:
    text = (brief().replace("offre: -20 % sur la première année\n", "")
            .replace("- une assistance", "- Une assistance").replace("- un devis", "- Un devis"))
    pieces = load_library().draft(parse_brief(text), load_rules())
    bodies = "\n".join(p.body for p in pieces)
    assert ", Un " not in bodies and ", Une " not in bodies and "et un devis" in bodies
    assert "- Un devis" in bodies  # a list item keeps its capital
    # the message a sentence already says is not listed again under it
    assert ", une assistance 24 h/24 en cas de sinistre.\n\n- Une assistance" not in bodies


def test_a_filled_value_starting_with_a_vowel_is_elided() -> None:
    text = brief().replace("produit: Almia Habitation", "produit: Assurance habitation Jeunes")
    text = text.replace("canaux: [email, sms]", "canaux: [email, linkedin]")
    bodies = "\n".join(p.body for p in load_library().draft(parse_brief(text), load_rules()))
    assert "d'Assurance habitation Jeunes" in bodies and "de Assurance" not in bodies


def test_pieces_round_trip_and_errors() -> None:
    pieces = (Piece(Medium.EMAIL, 1, "Bonjour {{prenom}},\n\nTexte.", "Objet {{prenom}}"),
              Piece(Medium.SMS, 2, "Court STOP"))
    assert parse_pieces(serialise(pieces)) == pieces
    assert pieces[0].fields == ("prenom",)
    assert fingerprint(pieces) != fingerprint(pieces[:1])
    for bad in ("sans section", "### fax 1\nx", "### sms 1\nx\n### sms 1\ny", "### sms 1\n"):
        with pytest.raises(SkillError):
            parse_pieces(bad)


def test_offline_drafts_fill_typed_variables_and_keep_fields() -> None:
    rules = load_rules()
    pieces = load_library().draft(parse_brief(brief()), rules)
    assert [p.key for p in pieces] == ["email 1", "email 2", "sms 1", "sms 2"]
    first = pieces[0]
    assert first.subject == "Almia Habitation : -20 % sur la première année"
    assert "Jusqu'au 31 mars 2099" in first.body and "[[" not in first.body
    assert {"prenom", "lien", "lien_desinscription"} <= set(first.fields)
    assert all("ORIAS" in p.body for p in pieces if p.medium is Medium.EMAIL)
    assert all(p.body.endswith("STOP au {{numero_stop}}") for p in pieces
               if p.medium is Medium.SMS)
    without_offer = parse_brief(brief().replace("offre: -20 % sur la première année\n", ""))
    offerless = load_library().draft(without_offer, rules)
    assert all("profitez" not in p.body.lower() for p in offerless)


def test_a_banner_too_long_with_the_product_keeps_the_offer_and_fits() -> None:
    rules = load_rules()
    long_name = brief().replace("Almia Habitation", "Almia Habitation Propriétaire Occupant "
                                "Formule Sérénité Plus").replace("canaux: [email, sms]",
                                                                 "canaux: [banner]")
    pieces = load_library().draft(parse_brief(long_name), rules,
                                  lambda piece: fits_channel(piece, rules))
    assert pieces and all(fits_channel(p, rules) for p in pieces)
    assert "-20 % sur la première année" in pieces[0].body
    mail = long_name.replace("canaux: [banner]", "canaux: [email]")
    emails = load_library().draft(parse_brief(mail), rules,
                                  lambda piece: fits_channel(piece, rules))
    assert emails[0].subject == "-20 % sur la première année"  # the offer, not the name
    assert "-20 % sur la première année" in emails[0].body and fits_channel(emails[0], rules)


def _campaign(status: str, decisions: tuple[DecisionView, ...]) -> CampaignView:
    now = datetime(2099, 1, 10, 14, 2, tzinfo=UTC)
    text = serialise((Piece(Medium.EMAIL, 1, "Bonjour {{prenom}}, <b>texte</b>.", "Objet"),
                      Piece(Medium.SMS, 1, "Devis : {{lien}} STOP au {{numero_stop}}")))
    version = VersionView(3, "web:aline", "edit", text, (), now)
    return CampaignView("c0ffee00" * 4, "Printemps", "web:aline", "web:default", "web", "t",
                        {}, "fr", {}, "all", ("web:claire",), status, 5, None, now, now,  # type: ignore[arg-type]
                        version, decisions)


def test_export_only_an_approved_version_stamped_with_its_approval() -> None:
    approval = DecisionView(3, "conformite", "web:cora", "approve", "Conforme",
                            datetime(2099, 1, 11, 9, 30, tzinfo=UTC))
    with pytest.raises(NotApproved):
        export_files(_campaign("in_review", ()))
    with pytest.raises(NotApproved):
        export_files(_campaign("approved", ()))
    files = {f.name: f.data for f in export_files(_campaign("approved", (approval,)))}
    assert sorted(files) == ["campagne-c0ffee00-v3-email-1.html", "campagne-c0ffee00-v3-sms.csv",
                             "campagne-c0ffee00-v3.docx"]
    html = files["campagne-c0ffee00-v3-email-1.html"].decode()
    assert "&lt;b&gt;texte&lt;/b&gt;" in html and "<b>" not in html  # text, never markup
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html  # phones
    assert "Approuvé par web:cora (relecteur conformite) le 2099-01-11 09:30 UTC" in html
    rows = list(csv.reader(io.StringIO(files["campagne-c0ffee00-v3-sms.csv"].decode("utf-8-sig")),
                           delimiter=";"))
    assert rows[1][:7] == ["c0ffee00", "3", "1", "Devis : {{lien}} STOP au {{numero_stop}}",
                           "GSM-7", "52", "1"]  # lien 30, numero_stop 5
    with zipfile.ZipFile(io.BytesIO(files["campagne-c0ffee00-v3.docx"])) as docx:
        document = docx.read("word/document.xml").decode()
    assert "Empreinte SHA-256" in document and "Conforme" in document


def test_a_list_of_key_messages_is_a_list_in_html_and_word() -> None:
    approval = DecisionView(3, "conformite", "web:cora", "approve", "Conforme",
                            datetime(2099, 1, 11, 9, 30, tzinfo=UTC))
    listed = _campaign("approved", (approval,))
    text = serialise((Piece(Medium.EMAIL, 1, "Bonjour,\n\n- Devis en ligne\n- Assistance "
                                              "24h/24\n\n- 2 mois : voir conditions", "Objet"),))
    listed = replace(listed, current=replace(listed.current, text=text))
    files = {f.name: f.data for f in export_files(listed)}
    html = files["campagne-c0ffee00-v3-email-1.html"].decode()
    assert "<li>Devis en ligne</li><li>Assistance 24h/24</li></ul>" in html
    assert "<p style=\"margin:0 0 1em 0\">- Devis" not in html
    with zipfile.ZipFile(io.BytesIO(files["campagne-c0ffee00-v3.docx"])) as docx:
        document = docx.read("word/document.xml").decode()
    assert document.count('w:val="ListBullet"') == 3


def test_an_erased_authors_conversation_is_not_written_to() -> None:
    slack = replace(_campaign("in_review", ()), channel="slack", thread_id="1700.1",
                    reference={"channel": "C1"})
    assert author_conversation(slack) is not None
    assert author_conversation(replace(slack, author_id="erased", reference={})) is None


def test_a_brief_no_draft_can_be_written_from_is_refused_by_its_missing_fields() -> None:
    drafter = Drafter({"fr": load_library(), "en": load_library(language="en")}, load_rules())
    complete = parse_brief(brief())
    assert drafter.offline(complete).pieces  # the test brief fills every channel
    bare = parse_brief(_without_key_messages(brief()))
    assert load_library().missing(bare) == {Medium.EMAIL: (("key_messages", 1),)}
    with pytest.raises(SkillError) as refused:
        drafter.offline(bare)
    said = refused.value.message_for("fr")
    assert "pour e-mail, il manque « Messages clés » (au moins 1)" in said
    assert "Complétez le brief" in said
    assert "for e-mail, it lacks “Key messages” (at least 1)" in refused.value.message_for("en")


def _without_key_messages(text: str) -> str:
    """The test brief without its key messages (a YAML list under ``messages_cles``)."""
    lines, skipping = [], False
    for line in text.splitlines():
        if line.startswith("messages_cles:"):
            skipping = True
            continue
        if skipping and line.startswith(("  -", "- ")):
            continue
        skipping = False
        lines.append(line)
    return "\n".join(lines) + "\n"
