"""Template command arguments: quoted values, and unquoted ones over several words."""

from __future__ import annotations

import pytest

from skills.template_syntax import TemplateSyntaxError, fill, parse_arguments, parse_variables


def test_an_unquoted_value_runs_to_the_next_name_or_the_line_s_end_when_used() -> None:
    used = parse_arguments("client=Mme Martin motif=cotisation impayée delai=15 jours\n"
                           "Merci de votre retour.", spaced=True)
    assert used.values == {"client": "Mme Martin", "motif": "cotisation impayée",
                           "delai": "15 jours"}
    assert used.rest == "Merci de votre retour."
    quoted = parse_arguments('client="M. Martin" objet="le délai" texte libre', spaced=True)
    assert quoted.values == {"client": "M. Martin", "objet": "le délai"}
    assert quoted.rest == "texte libre"


def test_options_stop_at_the_first_space_where_free_text_follows() -> None:
    # « /template save NOM tags=a,b <prompt> »: the prompt is not a tag
    saved = parse_arguments("tags=courrier,relance Rédige une relance pour {{client}}.")
    assert saved.values == {"tags": "courrier,relance"}
    assert saved.rest == "Rédige une relance pour {{client}}."


def test_a_number_is_accepted_as_people_write_amounts() -> None:
    body = "Relance pour {{montant:number}} €."
    variables = parse_variables(body)
    for written in ("1250,50", "1 250,50", "1,250.50", "1 250"):
        used = parse_arguments(f"montant={written}", spaced=True)
        assert fill("relance", body, variables, used) == f"Relance pour {written} €."
    with pytest.raises(TemplateSyntaxError):  # « mille » is no number
        fill("relance", body, variables, parse_arguments("montant=mille", spaced=True))


def test_a_variable_given_empty_takes_its_default_or_is_missing() -> None:
    body = "Réponse à {{client}}, sous {{delai=8 jours}}."
    variables = parse_variables(body)
    used = parse_arguments('client="Mme Durand" delai=', spaced=True)
    assert fill("reponse", body, variables, used) == "Réponse à Mme Durand, sous 8 jours."
    with pytest.raises(TemplateSyntaxError) as missing:
        fill("reponse", body, variables, parse_arguments('client="" delai=3 jours', spaced=True))
    assert "client" in str(missing.value)
