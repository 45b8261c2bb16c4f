"""Every check with a failing and a passing example, and the reason it gives."""

from __future__ import annotations

from datetime import date

import pytest

from skills.campaigns.brief import Brief, Medium
from skills.campaigns.checks import CampaignChecker, CheckResult, blocking
from skills.campaigns.pieces import Piece
from skills.campaigns.rules import load_rules
from skills.campaigns.sms import measure

RULES = load_rules()
CHECKER = CampaignChecker(RULES)
BRIEF = Brief(title="Printemps", product="Almia Habitation", segment="Locataires",
              channels=(Medium.EMAIL, Medium.SMS), key_messages=("un devis en 3 minutes",),
              offer="-20 % sur la première année", conditions="Nouveaux clients uniquement.",
              offer_end=date(2099, 3, 31), call_to_action="Demandez votre devis",
              reviewers=("web:claire",))
MENTIONS = ("Almia Assurances, intermédiaire immatriculé à l'ORIAS sous le n° 07 000 000. "
            "Document non contractuel.")
EMAIL_FOOTER = f"{MENTIONS} Désinscrivez-vous : {{{{lien_desinscription}}}}"


def result(piece: Piece, code: str, brief: Brief = BRIEF) -> CheckResult:
    [found] = [r for r in CHECKER.check_piece(piece, brief) if r.code == code]
    return found


def email(body: str, subject: str = "Votre devis en 3 minutes") -> Piece:
    return Piece(Medium.EMAIL, 1, f"{body}\n\n{EMAIL_FOOTER}", subject)


def sms(body: str) -> Piece:
    return Piece(Medium.SMS, 1, body)


def test_sms_encoding_and_segments() -> None:
    assert (measure("a" * 160).encoding, measure("a" * 160).segments) == ("GSM-7", 1)
    assert measure("a" * 161).segments == 2 and measure("a" * 306).segments == 2
    assert measure("a" * 307).segments == 3
    assert measure("€" * 80).units == 160 and measure("€" * 80).segments == 1  # escape: 2 each
    ucs2 = measure("Bonjour 🙂 " + "a" * 59)  # the emoji is two UTF-16 units
    assert ucs2.encoding == "UCS-2" and ucs2.segments == 1 and "🙂" in ucs2.non_gsm
    assert measure("ê" * 71).segments == 2  # ê is not GSM-7: 70 per single UCS-2 message
    assert measure("ê" * 134).segments == 2 and measure("ê" * 135).segments == 3


def test_sms_length_counts_fields_at_their_likely_length() -> None:
    short = result(sms("{{prenom}}, votre devis : {{lien}} STOP au {{numero_stop}}"), "length")
    assert short.status == "ok" and "GSM-7" in short.text("fr")
    long = result(sms("{{prenom}}, " + "x" * 140 + " STOP au {{numero_stop}}"), "length")
    assert long.status == "fail"
    assert "2 segments, le maximum est 1" in long.text("fr")
    assert "Raccourcissez de 8 caractères" in long.text("fr")
    emoji = result(sms("Devis 🙂 : {{lien}} STOP au {{numero_stop}}"), "length")
    assert emoji.status == "warn" and "UCS-2" in emoji.text("fr") and "🙂" in emoji.text("fr")
    assert "UCS-2" in emoji.text("en")


def test_subject_length() -> None:
    assert result(email("Bonjour."), "subject").status == "ok"
    long = result(email("Bonjour.", subject="x" * 61), "subject")
    assert long.status == "fail" and "61 caractères" in long.text("fr")
    with_field = result(email("Bonjour.", subject="{{prenom}}, " + "x" * 47), "subject")
    assert with_field.status == "fail"  # the first name is counted at 12 characters
    assert result(email("Bonjour.", subject=" "), "subject").status == "fail"


def test_banner_headline_length() -> None:
    banner = Piece(Medium.BANNER, 1, f"Almia Habitation : votre devis\n\n{MENTIONS}")
    assert result(banner, "length").status == "ok"
    too_long = Piece(Medium.BANNER, 1, "y" * 91 + f"\n\n{MENTIONS}")
    assert result(too_long, "length").status == "fail"


def test_mandatory_mentions() -> None:
    assert result(email("Bonjour."), "mentions").status == "ok"
    bare = Piece(Medium.EMAIL, 1, "Bonjour.", "Objet")
    missing = result(bare, "mentions")
    assert missing.status == "fail"
    reasons = missing.text("fr")
    assert "ORIAS" in reasons and "non contractuel" in reasons and "s'opposer" in reasons
    assert result(sms("Devis : {{lien}} STOP au {{numero_stop}}"), "mentions").status == "ok"
    no_stop = result(sms("Devis : {{lien}}"), "mentions")
    assert no_stop.status == "fail" and "STOP" in no_stop.text("fr")


@pytest.mark.parametrize("claim", ["Un diagnostic gratuit", "Une protection garantie à vie",
                                   "Un placement sans risque", "Un rendement garanti de 3 %"])
def test_forbidden_claims(claim: str) -> None:
    found = result(email(claim + "."), "claims")
    assert found.status == "fail" and "interdite" in found.text("fr")


def test_superlatives_need_a_proof() -> None:
    risky = result(email("L'assurance la moins chère ? Le meilleur contrat du marché."), "claims")
    assert risky.status == "fail" and "sans preuve" in risky.text("fr")
    proven = email("Le meilleur contrat du marché*.\n* Source : comparatif Assurland, mai 2026")
    assert result(proven, "claims").status == "ok"
    assert result(email("Un devis simple."), "claims").status == "ok"


def test_personal_data_in_the_text() -> None:
    leaked = result(email("Écrivez à jean.martin@example.com ou au 06 12 34 56 78."),
                    "personal_data")
    assert leaked.status == "fail" and "EMAIL" in leaked.text("fr")
    assert result(email("Bonjour {{prenom}}, écrivez à {{email_conseiller}}."),
                  "personal_data").status == "ok"


def test_offer_consistency() -> None:
    assert result(email("Profitez de -20 % sur la première année*."), "offer").status == "ok"
    wrong = result(email("Profitez de -30 % sur la première année*."), "offer")
    assert wrong.status == "fail" and "« -30 % » ne figure pas" in wrong.text("fr")
    # a bullet's dash is no minus sign: « - 2 mois offerts » is the brief's « 2 mois »
    months = Brief(title="Printemps", product="Almia Habitation", segment="Locataires",
                   channels=(Medium.EMAIL,), offer="2 mois offerts",
                   conditions="Nouveaux clients uniquement.", call_to_action="Devis",
                   reviewers=("web:claire",))
    bullet = result(email("Nos avantages :\n- 2 mois offerts*"), "offer", months)
    assert "ne figure pas" not in bullet.text("fr"), bullet.text("fr")
    # a figure in words is a figure: « Trois mois offerts » is not the brief's « 2 mois »
    worded = result(email("Trois mois offerts* pour toute souscription."), "offer", months)
    assert worded.status == "fail" and "« 3 mois » ne figure pas" in worded.text("fr")
    assert result(email("Deux mois offerts*."), "offer", months).status == "ok"
    no_conditions = result(email("Profitez de -20 % sur la première année."), "offer")
    assert no_conditions.status == "fail" and "conditions" in no_conditions.text("fr")
    late = result(email("Offre valable jusqu'au 30 avril 2099*."), "offer")
    assert late.status == "fail" and "30 avril 2099" in late.text("fr")
    assert result(email("Offre valable jusqu'au 31 mars 2099*."), "offer").status == "ok"


def test_results_round_trip_and_blocking() -> None:
    checks = CHECKER.check([email("Profitez de -30 % !"), sms("Devis STOP")], BRIEF)
    stored = [CheckResult.from_json(check.as_json()) for check in checks]
    assert stored == checks
    assert {(c.piece, c.code) for c in blocking(checks)} >= {("email 1", "offer")}


async def test_the_installations_own_patterns_are_checked_too() -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.governance.dlp import DlpSettings
    from bot.store.campaigns import CampaignStore
    from skills.campaigns.skill import CampaignServices, CampaignsSkill

    engine = create_async_engine("sqlite+aiosqlite://")
    dlp = DlpSettings(custom_patterns={"CONTRAT": r"\bCTR-\d{6}\b"})
    skill = CampaignsSkill(CampaignServices(CampaignStore(engine), dlp=dlp))
    found = [r for r in skill.checker.check_piece(email("Votre contrat CTR-123456."), BRIEF)
             if r.code == "personal_data"]
    assert found[0].status == "fail" and "CONTRAT" in found[0].text("fr")
    assert result(email("Votre contrat CTR-123456."), "personal_data").status == "ok"
    await engine.dispose()


def test_absolute_and_superlative_claims_of_the_shipped_rules() -> None:
    rules = load_rules()

    def caught(text: str) -> tuple[bool, bool]:
        return (any(claim.matches(text) for claim in rules.forbidden),
                any(claim.matches(text) for claim in rules.risky))

    assert caught("tout est couvert") == (True, False)
    assert caught("Everything is covered") == (True, False)
    assert caught("your first month is on us") == (True, False)
    assert caught("l'assurance la moins chère de France") == (False, True)
    assert caught("La meilleure assurance du marché") == (False, True)
    assert caught("remboursement garanti sous 24h") == (False, True)
    assert caught("Claims paid within 48 hours") == (False, True)
    assert caught("Assurance auto tous risques, 2 mois offerts") == (False, False)
