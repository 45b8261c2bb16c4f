"""A brief, a policy naming campaign roles (or the deprecated rules-file groups), settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings, load_settings
from skills.campaigns.rules import DEFAULT_RULES_FILE

DEFAULT_POLICY = Path(__file__).parents[3] / "bot" / "default_policy.yaml"

BRIEF = """\
titre: Printemps habitation 2099
produit: Almia Habitation
cible: Locataires de 25 à 35 ans en zone urbaine
canaux: [email, sms]
ton: chaleureux
messages_cles:
  - une assistance 24 h/24 en cas de sinistre
  - un devis en ligne en 3 minutes
offre: -20 % sur la première année
conditions: Offre réservée aux nouveaux clients, souscription avant le 31 mars 2099.
fin_offre: 2099-03-31
appel_a_l_action: Demandez votre devis
echeance: 2099-02-15
relecteurs: [{reviewers}]
validation: {approval}
variantes: 2
"""


def brief(reviewers: str = "web:claire, conformite", approval: str = "tous") -> str:
    """The test brief, with its reviewers and approval mode."""
    return BRIEF.format(reviewers=reviewers, approval=approval)


def write_rules(data_dir: Path, groups: dict[str, list[str]]) -> None:
    """The shipped rules with ``groups`` (e.g. the compliance team's members)."""
    rules = yaml.safe_load(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))
    rules["groups"] = groups
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "campaigns.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True),
                                             encoding="utf-8")


def write_policy(path: Path, campaigns: dict[str, Any]) -> Path:
    """The shipped policy with a ``campaigns:`` section (campaign roles, permissions)."""
    policy = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    policy["campaigns"] = campaigns
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return path


COMPLIANCE = {"roles": {"conformite": {"members": ["web:cora", "web:carl"]},
                        "marketing_validator": {"members": []}}}


@pytest.fixture
def campaign_settings(tmp_path: Path) -> Settings:
    """Default settings whose policy names a compliance campaign role (Cora and Carl)."""
    policy = write_policy(tmp_path / "policy.yaml", COMPLIANCE)
    return load_settings(data_dir=tmp_path / "data", policy_file=policy, _env_file=None)
