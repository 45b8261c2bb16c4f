"""User-facing text, French first with English when the user's locale is English."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.messages import Locale

_ENGLISH_HINTS = frozenset(
    "the what how why when where who which is are can could should would does do i you my "
    "please hello hi thanks policy of to for and with".split()
)
_FRENCH_HINTS = frozenset(
    "le la les un une des du de est sont quoi comment pourquoi quand où qui quel quelle quels "
    "je tu vous mon ma mes pour avec et bonjour merci résumé sinistre qu' d' l' c'est".split()
)
_WORD = re.compile(r"[a-zà-ÿ']+")
_ELIDED = re.compile(r"^(?:[ldjmnstc]|qu)'[a-zà-ÿ]")
_ACCENTED = re.compile(r"[éèêàùçôîû]")


def detect_locale(text: str, default: Locale = "fr") -> Locale:
    """Guess French or English from a message; French wins ties (French-first product)."""
    words = _WORD.findall(text.lower())
    english = sum(word in _ENGLISH_HINTS for word in words)
    french = sum(word in _FRENCH_HINTS or _ELIDED.match(word) is not None for word in words)
    french += len(_ACCENTED.findall(text))
    if english > french:
        return "en"
    if french > english:
        return "fr"
    return default


@dataclass(frozen=True, slots=True)
class Text:
    """A sentence in both languages."""

    fr: str
    en: str

    def __call__(self, locale: Locale, **values: object) -> str:
        """The sentence in ``locale``; a value that is itself a :class:`Text` is given in
        the same language."""
        template = self.en if locale == "en" else self.fr
        if not values:  # doubled braces are written for str.format: undo them all the same
            return template.replace("{{", "{").replace("}}", "}") if (
                "{{" in template or "}}" in template) else template
        return template.format(**{name: value(locale) if isinstance(value, Text) else value
                                  for name, value in values.items()})


def colon(locale: Locale) -> str:
    """« : » with French spacing, or ": " in English (« Objet : … », "Subject: …")."""
    return ": " if locale == "en" else " : "


def grouped(value: int, locale: Locale) -> str:
    """A count with thousands separators as people read them (« 20 434 », “20,434”)."""
    return f"{value:,}".replace(",", "\u202f" if locale == "fr" else ",")


def figure(value: float, locale: Locale, *, decimals: bool = False) -> str:
    """A figure as people read it: whole ones grouped (« 46 500 000 »), others with two
    decimals (« 3,01 »; English “3.01”); ``decimals``: two even when whole (« 3,00 » in a
    list of means that have them)."""
    if float(value).is_integer() and not decimals:
        return grouped(int(value), locale)
    text = f"{value:,.2f}"
    return text if locale == "en" else text.replace(",", "\u202f").replace(".", ",")


def plural(count: int, locale: Locale) -> str:
    """The plural mark of a count: « 1 fichier », « 2 files » (templates write
    ``{count} fichier{s}``). French keeps zero singular (« 0 ligne »), English does not
    (“0 rows”)."""
    return "" if count == 1 or (count == 0 and locale == "fr") else "s"


def quoted(text: str, locale: Locale) -> str:
    """Words between the quotation marks of the reader's language (« … », “…”)."""
    return f"“{text}”" if locale == "en" else f"« {text} »"


class Refusal(Exception):
    """An error whose message a person reads as it is, in their language (no stack trace)."""

    def __init__(self, text: Text, **values: object) -> None:
        super().__init__(text("fr", **values))
        self.text = text
        self.values = values

    def message_for(self, locale: Locale) -> str:
        """The message in the person's language."""
        return self.text(locale, **self.values)


MESSAGES: Mapping[str, Text] = {
    "empty": Text(
        "Votre message est vide. Écrivez une question, ou « /almia aide » pour voir ce que je sais faire.",
        "Your message is empty. Type a question, or “/almia help” to see what I can do.",
    ),
    "too_long": Text(
        "Votre message est trop long ({length} caractères ; maximum {limit}). "
        "Raccourcissez-le ou envoyez-le en pièce jointe .txt.",
        "Your message is too long ({length} characters; maximum {limit}). "
        "Shorten it or send it as a .txt attachment.",
    ),
    "unknown_command": Text(
        "Je ne connais pas la commande « {command} ». Commandes disponibles : {commands}.",
        "I don't know the command “{command}”. Available commands: {commands}.",
    ),
    "internal_error": Text(
        "Désolé, une erreur inattendue m'empêche de répondre. L'incident est enregistré "
        "(référence {reference}). Réessayez dans un instant.",
        "Sorry, an unexpected error prevents me from answering. The incident is logged "
        "(reference {reference}). Please try again in a moment.",
    ),
    "model_unavailable": Text(
        "Le modèle approuvé pour cette tâche ne répond pas pour le moment (délai dépassé ou "
        "service indisponible). Réessayez dans quelques minutes.",
        "The model approved for this task is not answering right now (timeout or service "
        "unavailable). Please try again in a few minutes.",
    ),
    "no_model": Text(
        "Aucun modèle approuvé n'est configuré pour « {skill} ». Un administrateur doit en "
        "déclarer un dans le fichier de politique (voir README, « Brancher un modèle »).",
        "No approved model is configured for “{skill}”. An administrator must declare one in "
        "the policy file (see README, “Plugging in a model”).",
    ),
    "needs_generation": Text(
        "« {skill} » a besoin d'un modèle génératif, et seul le mode extractif hors ligne est "
        "configuré. Un administrateur peut brancher un modèle (voir README, « Brancher un modèle »).",
        "“{skill}” needs a generative model, and only the offline extractive mode is "
        "configured. An administrator can plug one in (see README, “Plugging in a model”).",
    ),
    "no_clearance": Text(
        "Cette demande contient des données de niveau « {data_class} », et aucun modèle approuvé "
        "pour « {skill} » n'est habilité à ce niveau. Rien n'a été envoyé.",
        "This request contains “{data_class}” data, and no model approved for “{skill}” is "
        "cleared for that level. Nothing was sent.",
    ),
    "protection_unavailable": Text(
        "La protection des données personnelles ne peut pas s'exécuter pour le moment : par "
        "précaution, rien n'a été envoyé au modèle. Réessayez plus tard ou prévenez le support.",
        "Personal-data protection cannot run right now: as a precaution, nothing was sent to "
        "the model. Try again later or tell the support team.",
    ),
    "protection_blocked": Text(
        "Votre demande contient des données personnelles ou des secrets ({kinds}) et la "
        "politique de « {skill} » interdit de les envoyer. Retirez-les puis réessayez.",
        "Your request contains personal data or secrets ({kinds}) and the policy of “{skill}” "
        "forbids sending them. Remove them and try again.",
    ),
    "charter_required": Text(
        "{charter}\n\nPour utiliser Almia, acceptez cette charte (version {version}) en "
        "répondant « J'accepte ».",
        "{charter}\n\nTo use Almia, accept this charter (version {version}) by replying "
        "“I accept”.",
    ),
    "charter_already": Text(
        "Vous avez déjà accepté la charte (version {version}). Posez votre question, ou tapez "
        "« /almia aide » pour voir ce que je sais faire.",
        "You have already accepted the charter (version {version}). Ask your question, or type "
        "“/almia help” to see what I can do.",
    ),
    "charter_accepted": Text(
        "Merci, la charte (version {version}) est acceptée. Posez votre question, ou tapez "
        "« /almia aide » pour voir ce que je sais faire.",
        "Thank you, the charter (version {version}) is accepted. Ask your question, or type "
        "“/almia help” to see what I can do.",
    ),
    "quota_exceeded": Text(
        "Le quota quotidien ({limit} {measure}) {scope} est atteint. Il sera renouvelé demain ; "
        "en cas de besoin, voyez avec votre responsable.",
        "The daily quota ({limit} {measure}) {scope} is used up. It renews tomorrow; if you "
        "need more, ask your manager.",
    ),
    "quota_unavailable": Text(
        "Le service de quotas ne répond pas : par précaution, votre demande n'a pas été traitée. "
        "Réessayez dans quelques minutes.",
        "The quota service is not answering: as a precaution, your request was not processed. "
        "Please try again in a few minutes.",
    ),
    "role_required": Text(
        "« {skill} » est réservé aux rôles : {roles}. Si vous en avez besoin, demandez-le à "
        "votre responsable.",
        "“{skill}” is reserved for these roles: {roles}. If you need it, ask your manager.",
    ),
    "help_header": Text(
        "Voici ce que je sais faire :",
        "Here is what I can do:",
    ),
    "help_footer": Text(
        "Posez simplement une question pour interroger les documents de l'entreprise, puis "
        "enchaînez si besoin (« Et pour les CDD ? ») dans la même conversation. Mes réponses "
        "sont des brouillons à vérifier avant tout usage.",
        "Just ask a question to search the company's documents, then follow on if needed "
        "(“What about fixed-term contracts?”) in the same conversation. My answers are drafts "
        "to check before any use.",
    ),
    "feedback_thanks": Text("Merci pour votre retour.", "Thanks for your feedback."),
    "searching": Text("Recherche dans les documents…", "Searching the documents…"),
    "not_answered": Text(
        "Désolé, je n'ai pas pu répondre à votre message (service interrompu à plusieurs "
        "reprises). Envoyez-le de nouveau si vous avez toujours besoin d'une réponse.",
        "Sorry, I could not answer your message (the service was interrupted several "
        "times). Please send it again if you still need an answer.",
    ),
    "press_repeated": Text(
        "Ce bouton est déjà en cours de traitement : le résultat arrive.",
        "This button is already being handled: the result is on its way.",
    ),
    "action_interrupted": Text(
        "Votre clic sur « {label} » a été interrompu par un redémarrage du service : il a pu "
        "aboutir ou non. Vérifiez le résultat avant de cliquer de nouveau.",
        "Your click on “{label}” was interrupted by a service restart: it may or may not have "
        "gone through. Check the result before clicking again.",
    ),
    "summarising": Text("Rédaction de la synthèse…", "Writing the summary…"),
}


def t(key: str, locale: Locale, **values: object) -> str:
    """The user-facing sentence ``key`` in ``locale``."""
    return MESSAGES[key](locale, **values)
