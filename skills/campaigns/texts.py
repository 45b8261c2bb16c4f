"""What the campaigns skill says, French first, English when the person's locale is "en"."""

from __future__ import annotations

from bot.i18n import Text

USAGE = Text(
    "Campagnes marketing :\n"
    "- `/almia campagne nouvelle` suivi du brief en YAML (titre, produit, cible, canaux, "
    "ton, messages_cles, offre, conditions, appel_a_l_action, echeance, relecteurs, "
    "validation), "
    "ou le formulaire ci-dessous\n"
    "- `/almia campagne liste` · `voir ID` · `historique ID`\n"
    "- `/almia campagne soumettre ID` : envoyer la version courante en relecture\n"
    "- `/almia campagne approuver ID` · `modifications ID commentaire` · `rejeter ID "
    "commentaire`\n"
    "- `/almia campagne modifier ID` suivi du texte modifié (crée une nouvelle version)\n"
    "- `/almia campagne export ID` : DOCX, HTML et CSV de la version approuvée",
    "Marketing campaigns:\n"
    "- `/almia campaign new` followed by the YAML brief (title, product, segment, channels, "
    "tone, key_messages, offer, conditions, call_to_action, deadline, reviewers, approval), "
    "or the "
    "form below\n"
    "- `/almia campaign list` · `show ID` · `history ID`\n"
    "- `/almia campaign submit ID`: send the current version for review\n"
    "- `/almia campaign approve ID` · `changes ID comment` · `reject ID comment`\n"
    "- `/almia campaign edit ID` followed by the edited text (creates a new version)\n"
    "- `/almia campaign export ID`: DOCX, HTML and CSV of the approved version",
)
T = {
    "unavailable": Text("Les campagnes ne sont pas disponibles sur cette installation.",
                        "Campaigns are not available on this installation."),
    "unknown": Text("Je ne connais pas « campagne {word} ».\n\n{usage}",
                    "I don't know “campaign {word}”.\n\n{usage}"),
    "need_id": Text("Indiquez la référence de la campagne : « campagne {command} ID ».",
                    "Give the campaign's reference: “campaign {command} ID”."),
    "not_found": Text("Je ne trouve aucune campagne « {id} » parmi celles que vous pouvez voir.",
                      "I can't find a campaign “{id}” among those you can see."),
    "no_create": Text("Vous n'avez pas le droit de créer une campagne (politique de "
                      "gouvernance, « campaigns.permissions.create ») : demandez-le à votre "
                      "administrateur Almia.",
                      "You may not create campaigns (governance policy, “campaigns.permissions."
                      "create”): ask your Almia administrator."),
    "no_approve": Text("Vous pouvez demander des modifications, mais approuver ou rejeter est "
                       "réservé à : {allowed} (politique de gouvernance, « campaigns.permissions."
                       "approve »).",
                       "You may request changes, but approving or rejecting is for: {allowed} "
                       "(governance policy, “campaigns.permissions.approve”)."),
    "erased_slot": Text("Un relecteur de cette campagne a été effacé (droit à l'effacement) : "
                        "personne ne peut décider à la place d'une personne effacée. Votre "
                        "propre relecture est déjà enregistrée. Si son avis manque, l'auteur "
                        "peut recréer la campagne avec un autre relecteur (« campagne "
                        "historique {id} » pour reprendre le texte).",
                        "A reviewer of this campaign was erased (right to erasure): nobody can "
                        "decide in an erased person's place. Your own review is already "
                        "recorded. If their decision is missing, the author can create the "
                        "campaign again with another reviewer (“campaign history {id}” to "
                        "take the text)."),
    "no_brief": Text("Donnez le brief après « campagne nouvelle » (YAML), ou remplissez le "
                     "formulaire de « /almia campagne ».",
                     "Give the brief after “campaign new” (YAML), or fill in the form of "
                     "“/almia campaign”."),
    "bad_reviewer": Text("Relecteur inconnu « {entry} » : un identifiant (web:…, slack:…, "
                         "teams:…), un rôle de campagne ({groups}) ou un rôle (manager, "
                         "champion, admin).",
                         "Unknown reviewer “{entry}”: an id (web:…, slack:…, teams:…), a "
                         "campaign role ({groups}) or a role (manager, champion, admin)."),
    "empty_role": Text("Personne ne tient le rôle de campagne « {role} » : nommez des "
                       "relecteurs, ou demandez à l'administrateur d'Almia de lui donner des "
                       "membres (politique de gouvernance, « campaigns.roles.{role}.members »).",
                       "Nobody holds the campaign role “{role}”: name reviewers, or ask your "
                       "Almia administrator to give it members (governance policy, "
                       "“campaigns.roles.{role}.members”)."),
    "self_only": Text("Règle des quatre yeux : au moins un relecteur doit être une autre "
                      "personne que vous.",
                      "Four-eyes rule: at least one reviewer must be someone other than you."),
    "created": Text("Campagne « {title} » créée (référence {id}) : {count} brouillon{s} pour "
                    "{channels}.", "Campaign “{title}” created (reference {id}): {count} "
                    "draft{s} for {channels}."),
    "offline": Text("_Brouillons issus de la bibliothèque de modèles (variables remplies depuis "
                    "le brief) : aucun modèle génératif n'est approuvé pour le rôle « marketing » "
                    "de « campaigns ». Un modèle approuvé écrirait des textes plus variés et "
                    "mieux adaptés à la cible ; les contrôles et la relecture restent les "
                    "mêmes._",
                    "_Drafts from the template library (variables filled from the brief): no "
                    "generative model is approved for role “marketing” of “campaigns”. An "
                    "approved model would write more varied texts, better suited to the "
                    "segment; checks and review stay the same._"),
    "by_model": Text("_Brouillons rédigés par le modèle approuvé {alias} : à relire._",
                     "_Drafts written by the approved model {alias}: to review._"),
    "next_draft": Text("Relisez, modifiez si besoin, puis « campagne soumettre {id} ».",
                       "Review, edit if needed, then “campaign submit {id}”."),
    "blocked": Text("La version {version} ne peut pas partir en relecture : {count} contrôle{s} "
                    "bloquant{s}. Corrigez le texte (« campagne modifier {id} ») puis "
                    "soumettez à nouveau.",
                    "Version {version} cannot go to review: {count} blocking check{s}. Fix the "
                    "text (“campaign edit {id}”) then submit again."),
    "not_author": Text("Seuls l'auteur et les relecteurs de la campagne peuvent faire cela.",
                       "Only the campaign's author and reviewers can do that."),
    "inbox_only": Text("Almia n'a pas de conversation directe avec {people} : la demande "
                       "les attend dans leur boîte « /almia campagne ».",
                       "Almia has no direct conversation with {people}: the request waits "
                       "in their inbox (“/almia campaign”)."),
    "inbox_teams": Text(" Sur Teams, une personne qui n'a jamais écrit à Almia n'est "
                        "prévenue directement que si l'installation proactive de l'application "
                        "est configurée (réglage « teams.app_catalog_id »).",
                        " On Teams, someone who never wrote to Almia is only told directly "
                        "when proactive installation of the app is configured (setting "
                        "“teams.app_catalog_id”)."),
    "submitted": Text("Version {version} envoyée en relecture à {reviewers} ({mode}).",
                      "Version {version} sent for review to {reviewers} ({mode})."),
    "not_reviewer": Text("Vous n'êtes pas relecteur de la campagne « {title} » (relecteurs : "
                         "{reviewers}).",
                         "You are not a reviewer of campaign “{title}” (reviewers: "
                         "{reviewers})."),
    "four_eyes": Text("Règle des quatre yeux : vous ne pouvez pas approuver ni rejeter un texte "
                      "que vous avez écrit. Un autre relecteur doit décider.",
                      "Four-eyes rule: you cannot approve or reject a text you wrote. Another "
                      "reviewer must decide."),
    "need_comment": Text("Dites ce qui doit changer (ou pourquoi vous rejetez) dans le "
                         "commentaire.",
                         "Say what must change (or why you reject) in the comment."),
    "conflict": Text("Votre décision n'a pas été enregistrée : la campagne « {title} » est "
                     "maintenant {status} (version {version}){by}. Relisez-la (« campagne voir "
                     "{id} »).",
                     "Your decision was not recorded: campaign “{title}” is now {status} "
                     "(version {version}){by}. Read it again (“campaign show {id}”)."),
    "conflict_by": Text(", décision de {user}", ", decided by {user}"),
    "already": Text("Votre relecture ({slot}) a déjà été donnée sur cette version par {user} "
                    "({decision}) : rien n'a été changé.",
                    "Your review ({slot}) was already given on this version by {user} "
                    "({decision}): nothing was changed."),
    "wrong_state": Text("Impossible : la campagne est {status} (version {version}).",
                        "Not possible: the campaign is {status} (version {version})."),
    "decided": Text("Décision enregistrée sur la version {version} : {user} {decision}. "
                    "État : {status}. L'auteur ({author}) est prévenu.",
                    "Decision recorded on version {version}: {user} {decision}. State: "
                    "{status}. The author ({author}) is notified."),
    "edited": Text("Version {version} enregistrée ({checks}). Les validations repartent de "
                   "zéro.",
                   "Version {version} saved ({checks}). Approvals start over."),
    "no_other_reviewer": Text(
        "Personne ne pourrait approuver cette version : ses relecteurs ({reviewers_fr}) l'ont "
        "écrite ou modifiée, et un relecteur ne décide jamais sur son propre texte. Ajoutez un "
        "autre relecteur au brief, ou faites reprendre la version par son auteur.",
        "No one could approve this version: its reviewers ({reviewers_en}) wrote or edited "
        "it, and a reviewer never decides on their own text. Add another reviewer to the "
        "brief, or have its author take the version over."),
    "kept_pieces": Text("Pièces absentes du texte envoyé, gardées telles quelles : {keys}.",
                        "Pieces missing from the text sent, kept as they were: {keys}."),
    "no_change": Text("Le texte est identique à la version {version} : rien n'a été changé.",
                      "The text is the same as version {version}: nothing was changed."),
    "no_edit_text": Text("Donnez le texte modifié après « campagne modifier ID » (sections "
                         "« ### email 1 »…, comme dans « campagne voir ID »).",
                         "Give the edited text after “campaign edit ID” (sections “### email "
                         "1”…, as in “campaign show ID”)."),
    "no_export": Text("Vous n'avez pas le droit d'exporter cette campagne.",
                      "You may not export this campaign."),
    "no_jobs": Text("L'export en fichiers n'est pas activé ici (service de fichiers "
                    "désactivé) : utilisez « almia campaigns export {id} » sur le serveur.",
                    "File export is not enabled here (file service off): use “almia campaigns "
                    "export {id}” on the server."),
    "export_started": Text("Export de la version {version} approuvée lancé : les fichiers "
                           "(DOCX, HTML, CSV) arrivent ici.",
                           "Export of approved version {version} started: the files (DOCX, "
                           "HTML, CSV) will arrive here."),
    "list_header": Text("Campagnes ({count}) :", "Campaigns ({count}):"),
    "list_empty": Text("Aucune campagne pour vous.", "No campaign for you."),
    "to_review": Text(" — à relire", " — to review"),
    "inbox": Text("**Pour vous :**", "**For you:**"),
    "review_request": Text("📝 « {title} » ({id}, version {version}) attend votre relecture "
                           "(soumise par {author}) : « /almia campagne voir {id} ».",
                           "📝 “{title}” ({id}, version {version}) awaits your review (sent by "
                           "{author}): “/almia campaign show {id}”."),
    "waiting_review": Text("« {title} » ({id}, v{version}) attend votre relecture.",
                           "“{title}” ({id}, v{version}) awaits your review."),
    "history_header": Text("Historique de « {title} » :", "History of “{title}”:"),
    "version_line": Text("v{number} · {when} · {author} · {source} · {checks}",
                         "v{number} · {when} · {author} · {source} · {checks}"),
    "source_library": Text("brouillon de la bibliothèque", "library draft"),
    "source_edit": Text("modification", "edit"),
    "diff_header": Text("Différences v{old} → v{new} :", "Changes v{old} → v{new}:"),
    "trail": Text("Décisions :", "Decisions:"),
    "problems": Text("**Contrôles** ({summary}) :", "**Checks** ({summary}):"),
    "notice_stale": Text("_Cette version n'attend plus de relecture (campagne {status}, version "
                         "{version}) : « /almia campagne voir {id} » pour l'état actuel._",
                         "_This version no longer awaits review (campaign {status}, version "
                         "{version}): “/almia campaign show {id}” for where it stands._"),
    "notice_card": Text("Décidez avec la carte ci-dessous (approuver, demander des "
                        "modifications, modifier, rejeter).",
                        "Decide with the card below (approve, request changes, edit, "
                        "reject)."),
}
