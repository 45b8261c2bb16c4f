"""English question → French search words, from a small hand-written bilingual lexicon.

The documents are French; an English question shares almost no word with them, so its
lexical side finds nothing. Each English word known here is replaced by its usual French
renderings (general administrative, legal, work, family, housing, health, tax, insurance
and data-protection vocabulary, written by hand, not taken from any test question);
unknown words are kept as they are (names, acronyms and numbers match as they are).
Multi-word expressions whose French is not word for word (« sick leave » → « arrêt
maladie », « town hall » → « mairie ») are matched first and count as one key term.

A general vocabulary (``english_general.txt``: ~7,700 frequent English words chosen from a
word-frequency list, names and filler words left out, rendered by hand) is looked up after
this lexicon; it renders words such as « furnished » → « meublé », so answers quote the
sentences that say it, but does not count as key terms or as English evidence.

The French words are embedded and mixed into the question's vector for ranking (see
``KnowledgeBase.search``): the multilingual model places that bag of French words near
the French passages that word the subject. They are also the lexical side's query, as
synonym groups (``french_term_groups``): each English word's renderings count as one
term, so a word with three renderings does not weigh three times (as a plain bag of
words, or to rerank the top passages by how many key terms they mention, they did not
help on both the dev and held-out English lists; README, "Document search").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType

from knowledge.language import ENGLISH_FUNCTION_WORDS

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_GENERAL_FILE = "english_general.txt"

# english word: french words (space-separated; the French analyzer stems them)
_LEXICON_TEXT = """
gdpr: rgpd
hr: rh ressources humaines
sme: pme
abroad: étranger
absence: absence
access: accès accéder
account: compte
accident: accident
adopt: adopter adoption
adoption: adoption
address: adresse
administration: administration
adult: adulte majeur
advance: avance
advertising: publicité
age: âge
agency: agence
agreement: accord convention contrat
allowance: allocation indemnité
alimony: pension alimentaire
amount: montant
annual: annuel
appeal: recours appel
applicant: demandeur
application: demande candidature
apply: demander demande appliquer
appointment: rendez-vous
apprentice: apprenti
apprenticeship: apprentissage
approval: autorisation accord
authority: autorité
authorisation: autorisation
authorization: autorisation
bank: banque bancaire
benefit: prestation allocation aide
birth: naissance
born: né naissance
breach: violation
building: immeuble bâtiment
business: entreprise société
buy: acheter achat
calculate: calculer calcul
call: appel appeler
camera: caméra vidéosurveillance
cancel: annuler résilier
cancellation: annulation résiliation
car: voiture véhicule automobile auto
card: carte
care: soins garde
cctv: vidéosurveillance caméra
certificate: certificat attestation acte
change: changer changement modifier
charge: frais facturer
check: vérifier contrôle
child: enfant
children: enfants
citizen: citoyen
citizenship: nationalité
civil: civil
claim: réclamation demande indemnisation sinistre
clinic: clinique
closure: fermeture
collect: collecter collecte
company: entreprise société employeur
compensation: indemnisation indemnité
complain: plainte réclamation
complaint: plainte réclamation
consent: consentement
contract: contrat
contribution: cotisation contribution
cookie: cookie traceur
copy: copie
cost: coût prix frais
council: conseil mairie
court: tribunal juge
credit: crédit
criminal: pénal casier
customer: client
damage: dommage dégât
data: données
date: date
daughter: fille enfant
day: jour
days: jours
deadline: délai date limite
death: décès
debt: dette
decision: décision
declaration: déclaration
declare: déclarer
deduction: déduction
delay: délai retard
delete: supprimer effacer
deletion: suppression effacement
dependent: charge
deposit: dépôt garantie caution
died: décès décédé
disability: handicap invalidité
disabled: handicapé handicap
dismissal: licenciement
dismiss: licencier
divorce: divorce
doctor: médecin
document: document pièce
documents: documents pièces justificatifs
driving: conduire permis
drive: conduire
duration: durée
duty: obligation devoir
earn: gagner revenu
education: éducation enseignement scolarité
election: élection
electoral: électoral
email: courriel mail électronique
employee: salarié employé
employer: employeur
employment: emploi travail
end: fin terminer
energy: énergie
enrol: inscrire inscription
enroll: inscrire inscription
entitled: droit
erase: effacer supprimer
estate: succession
exam: examen
exemption: exonération dispense
expense: frais dépense
expenses: frais dépenses
expire: expirer
family: famille familial
father: père
fee: frais redevance
fees: frais
file: dossier fichier
fine: amende
fire: incendie
foreign: étranger
foreigner: étranger
form: formulaire
free: gratuit
funeral: obsèques funérailles
grant: aide subvention bourse
guardian: tuteur tutelle
guardianship: tutelle
guarantee: garantie
health: santé
help: aide
holiday: congé vacances
vacation: congé vacances
holidays: congés vacances
home: domicile logement maison
hospital: hôpital hospitalisation
house: maison logement
housing: logement
id: identité
identity: identité
illness: maladie
income: revenu revenus
install: installer installation
installation: installation
information: information informations
inheritance: succession héritage
inherit: hériter succession
insurance: assurance
insurer: assureur
internet: internet site
job: emploi travail poste
judge: juge
landlord: propriétaire bailleur
lawyer: avocat
lease: bail location
leave: congé quitter
legal: légal juridique
letter: lettre courrier
licence: permis licence
license: permis licence
list: liste
loan: prêt emprunt
lose: perdre perte
lost: perdu perte
mail: courrier courriel
maintenance: entretien pension
majority: majorité
marriage: mariage
married: marié mariage
maternity: maternité
medical: médical
minor: mineur
money: argent somme
month: mois
months: mois
mother: mère
move: déménager déménagement
name: nom
nationality: nationalité
neighbour: voisin
neighbor: voisin
new: nouveau nouvelle
notice: préavis avis
number: numéro nombre
obligation: obligation
office: bureau service
old: âgé ancien
online: ligne internet
owner: propriétaire
paid: payé rémunéré
parent: parent
parental: parental
parents: parents
partner: partenaire conjoint
passport: passeport
pay: payer paiement salaire
payment: paiement versement
penalty: sanction amende pénalité
pension: retraite pension
period: période durée
permit: permis titre autorisation
person: personne
personal: personnel personnelles
phone: téléphone
photo: photo
picture: photo image
police: police
possible: possible
pregnancy: grossesse
pregnant: enceinte grossesse
price: prix
prison: prison
privacy: vie privée
procedure: procédure démarche
profile: profil
property: propriété bien
protection: protection
public: public
purchase: achat
quarter: trimestre
quarters: trimestres
record: casier dossier enregistrement
refund: remboursement rembourser
refuse: refuser refus
register: registre inscrire immatriculer
registration: inscription immatriculation
reimbursement: remboursement
renewal: renouvellement
renew: renouveler
rent: loyer location louer
rental: location
repair: réparation
request: demande demander
residence: résidence séjour domicile
resign: démissionner démission
resignation: démission
retire: retraite
retirement: retraite
right: droit
rights: droits
rule: règle
rules: règles
salary: salaire
school: école scolaire
sell: vendre vente
send: envoyer adresser
separation: séparation
service: service
sick: malade maladie arrêt
social: social sociale
son: fils enfant
spouse: conjoint époux
staff: personnel salariés
start: début commencer
status: statut
student: étudiant
study: études
subscription: abonnement
supervisor: responsable
surname: nom
surveillance: surveillance
tax: impôt taxe fiscal
taxes: impôts taxes
teacher: enseignant
telework: télétravail
teleworking: télétravail
tenant: locataire
terminate: résilier rompre
termination: résiliation rupture
take: prendre délai
time: délai temps durée
training: formation
transfer: transfert
travel: voyage
unemployed: chômage chômeur
unemployment: chômage
vehicle: véhicule
video: vidéo
visa: visa
vote: voter vote
wage: salaire
website: site
wedding: mariage
week: semaine
weeks: semaines
widow: veuve veuvage
will: testament
work: travail travailler
worker: salarié travailleur
workplace: travail entreprise
year: année an
years: années ans
young: jeune
accommodation: logement hébergement
accountant: comptable
accuracy: exactitude
accurate: exact
act: loi acte
activity: activité
additional: supplémentaire complémentaire
administrative: administratif
advice: conseil
adviser: conseiller
advisor: conseiller
affect: concerner
afford: payer
aid: aide
allow: autoriser permettre
allowed: autorisé permis
anonymous: anonyme
apartment: appartement logement
archive: archive archiver
ask: demander
assess: évaluer
asset: bien patrimoine
assets: biens patrimoine
association: association
attend: assister
attendance: présence
audit: contrôle audit
available: disponible
average: moyenne
award: attribuer prime
ban: interdire interdiction
banned: interdit
beneficiary: bénéficiaire
bill: facture
board: conseil
body: organisme corps
bonus: prime
border: frontière
borrow: emprunter emprunt
borrower: emprunteur
budget: budget
candidate: candidat
capital: capital
career: carrière
category: catégorie
cause: cause motif
ceiling: plafond
certified: certifié
charity: association
cheque: chèque
choose: choisir
classification: classement
clause: clause
client: client
code: code
colleague: collègue
commercial: commercial
commission: commission
communicate: communiquer
community: collectivité communauté
competition: concours
comply: respecter conformer
compliance: conformité
compulsory: obligatoire
condition: condition
conditions: conditions
confidential: confidentiel
confidentiality: confidentialité
conflict: litige conflit
consult: consulter
consumer: consommateur
contact: contacter contact
contractor: prestataire
controller: responsable
correct: rectifier corriger
correction: rectification
create: créer création
created: créé
creditor: créancier
crime: infraction délit crime
custody: garde
daily: journalier quotidien
database: fichier base
debtor: débiteur
deceased: décédé défunt
decree: décret
deduct: déduire
default: défaut impayé
defence: défense
degree: diplôme
delegate: délégué
department: département service
deprived: privé
destroy: détruire
device: dispositif appareil
diploma: diplôme
director: directeur dirigeant
disclose: communiquer divulguer
discrimination: discrimination
dispute: litige
distance: distance
donation: don donation
donor: donateur
draw: établir
due: dû exigible
early: anticipé
elderly: âgées
eligible: éligible droit
emergency: urgence
encrypt: chiffrer
encryption: chiffrement
enforce: appliquer
entitlement: droit
entry: entrée
equipment: équipement matériel
european: européen européenne
evidence: preuve
expert: expert
expiry: expiration
export: exporter
extend: prolonger prolongation
extension: prolongation
fail: échouer
financial: financier
fingerprint: empreinte
fingerprints: empreintes
firm: entreprise
fixed: fixe déterminé
formal: formel
formality: formalité
formalities: formalités
fraud: fraude
full: complet intégral
full-time: temps plein
fund: fonds caisse
gift: don donation
government: gouvernement état
grounds: motif motifs
guidance: conseil
handicap: handicap
hearing: audience
heir: héritier
heirs: héritiers
hire: embaucher recruter
hiring: recrutement embauche
holder: titulaire
hour: heure
hours: heures
household: foyer ménage
impersonate: usurper usurpation
impersonating: usurpation identité
impersonation: usurpation identité
include: comprendre inclure
increase: augmentation augmenter
individual: personne individuel
inform: informer
infringement: infraction
inspection: contrôle inspection
interest: intérêt intérêts
internship: stage
intern: stagiaire
interview: entretien
invoice: facture
issue: délivrer
issued: délivré
keep: conserver garder tenir
keeping: conservation tenue
kid: enfant
law: loi droit
lawsuit: procès action
leaver: départ
legislation: législation loi
lender: prêteur
liable: responsable
liability: responsabilité
limitation: prescription
limit: limite plafond
limits: limites
local: local
location: localisation
log: journal
login: identifiant
manager: responsable manager
mandatory: obligatoire
marital: conjugal
means: ressources
measure: mesure
minimum: minimum
mistake: erreur
mortgage: prêt immobilier hypothèque
municipality: commune mairie
national: national
notary: notaire
notification: notification déclaration
notify: notifier déclarer signaler
object: opposer opposition
objection: opposition
obligatory: obligatoire
obtain: obtenir
officer: délégué agent officier
official: officiel
once: fois
operator: opérateur
order: ordonnance commande
organisation: organisme
organization: organisme
overtime: heures supplémentaires
password: mot de passe
patient: patient
payroll: paie paye
permanent: permanent indéterminé
permission: autorisation
pharmacy: pharmacie
payslip: bulletin paie
plan: plan
portability: portabilité
prize: lot jeu concours
process: traiter traitement
processing: traitement
processor: sous-traitant
professional: professionnel
professionals: professionnels
proceedings: procédure
prosecution: poursuites
prosecutor: procureur
provider: fournisseur prestataire
purpose: finalité
qualification: qualification diplôme
rate: taux
rated: noté évalué
rating: note notation évaluation
reason: motif raison
receive: recevoir percevoir
recipient: destinataire
recruit: recruter
recruitment: recrutement
rectify: rectifier
reduce: réduire réduction
reduction: réduction
reference: référence
regulation: règlement réglementation
reimburse: rembourser
relative: proche
remove: supprimer retirer
representative: représentant
restrict: limiter
restriction: limitation
retain: conserver
retention: conservation
review: réexamen révision
revoke: retirer
safety: sécurité
sale: vente
scheme: dispositif régime
security: sécurité
sensitive: sensible
share: partager
shared: partagé
sharing: partage
sign: signer
signature: signature
spam: spam
subcontractor: sous-traitant
subsidy: subvention aide
supplier: fournisseur
support: aide soutien
suspend: suspendre suspension
suspension: suspension
system: système dispositif
temporary: temporaire
term: durée terme
test: test examen
theft: vol
third: tiers
threshold: seuil
track: suivre
tracking: traçage suivi
trainee: stagiaire
transparency: transparence
treatment: traitement soins
trial: procès essai
union: syndicat
user: utilisateur
valid: valable valide
validity: validité
victim: victime
violation: violation
visitor: visiteur
voluntary: volontaire
vulnerable: vulnérable
warning: avertissement
witness: témoin
zero: zéro
deductible: franchise
burglary: cambriolage vol
burgled: cambriolé cambriolage
premium: cotisation prime
premiums: cotisation prime
policyholder: assuré adhérent souscripteur
policyholders: assuré adhérent souscripteur
insured: assuré
annuity: rente
coverage: garantie couverture
covered: couvert garanti pris charge
adjuster: expert
hail: grêle
storm: tempête
windstorm: tempête
flood: inondation
flooding: inondation
mediator: médiateur médiation
ombudsman: médiateur
vandalism: vandalisme
underwriting: souscription
exclusion: exclusion
endorsement: avenant approbation
rider: avenant option
lapse: déchéance résiliation expiration
surrender: rachat renoncer
dependant: charge
orphan: orphelin
claimant: assuré demandeur
settlement: règlement indemnisation accord transaction
incapacity: incapacité
invalidity: invalidité
provident: prévoyance
appraisal: expertise estimation
quote: devis citation
contents: biens mobilier
report: signaler déclarer rapport
handle: traiter gérer traitement gestion
bid: offre pli candidature
bids: offre offres plis candidature
bidder: candidat soumissionnaire
bidders: candidats soumissionnaires
tenderer: candidat soumissionnaire
tenderers: candidats soumissionnaires
submission: remise dépôt
submitting: remise dépôt déposer
submit: remettre déposer transmettre
variant: variante
variants: variantes
weighting: pondération
procurement: marché commande publique
"""

_LEXICON: dict[str, tuple[str, ...]] = {
    english.strip(): tuple(french.split())
    for english, french in (line.split(":", 1) for line in _LEXICON_TEXT.strip().splitlines())
}


# multi-word expressions whose French is not the sum of their words' renderings (« civil
# servant » is « fonctionnaire »), matched before single words; the last word may be plural
_PHRASES_TEXT = """
accident at work: accident travail
award criteria: critères attribution
award criterion: critère attribution
call for tenders: appel offres
contracting authority: acheteur pouvoir adjudicateur
public procurement: commande publique marché public
bid deadline: date limite remise offres
delay penalty: pénalités retard
late penalty: pénalités retard
joint bid: groupement cotraitance
lead contractor: mandataire
offer validity: validité offres
bid validity: validité offres
price schedule: bordereau prix bpu
rate guarantee: garantie taux
site visit: visite
submission deadline: date limite remise offres
technical proposal: mémoire technique
tender deadline: date limite remise offres
tender documents: dossier consultation dce pièces
tender dossier: dossier consultation dce
annual leave: congés payés
bank account: compte bancaire
bank card: carte bancaire
bank statement: relevé bancaire
birth certificate: acte naissance
care home: ehpad maison retraite
child benefit: allocations familiales
child support: pension alimentaire
city hall: mairie
civil partnership: pacs pacte civil solidarité
civil servant: fonctionnaire agent public
civil service: fonction publique
credit card: carte bancaire crédit
criminal record: casier judiciaire
day off: congé repos
death certificate: acte décès
direct debit: prélèvement
direct marketing: prospection commerciale
driving licence: permis conduire
driving license: permis conduire
driver's licence: permis conduire
driver's license: permis conduire
family allowance: allocations familiales
fixed term contract: contrat durée déterminée cdd
foster family: famille accueil
health insurance: assurance maladie
housing benefit: aide logement apl
id card: carte identité
identity card: carte identité
identity theft: usurpation identité
income tax: impôt revenu
job seeker: demandeur emploi
legal aid: aide juridictionnelle
licence plate: plaque immatriculation
license plate: plaque immatriculation
loyalty card: carte fidélité
maternity leave: congé maternité
minimum wage: smic salaire minimum
mobile phone: téléphone portable mobile
next of kin: proche famille
notice period: préavis
number plate: plaque immatriculation
nursing home: ehpad maison retraite
occupational disease: maladie professionnelle
paid leave: congés payés
parental leave: congé parental
parking ticket: amende stationnement
part time: temps partiel
paternity leave: congé paternité
permanent contract: contrat durée indéterminée cdi
power of attorney: procuration mandat
probation period: période essai
property tax: taxe foncière
public prosecutor: procureur république
public servant: fonctionnaire agent public
registered letter: lettre recommandée
right to be forgotten: droit oubli déréférencement
search engine: moteur recherche
self employed: indépendant travailleur
sick leave: arrêt maladie
social network: réseau social
social security: sécurité sociale
speeding ticket: excès vitesse amende
tax return: déclaration revenus impôt
town hall: mairie
work from home: télétravail
working from home: télétravail
remote work: télétravail
trial period: période essai
unemployment benefit: allocation chômage
welfare benefit: prestation sociale aide sociale
work accident: accident travail
workplace accident: accident travail
civil liability: responsabilité civile
claims handling: gestion sinistres indemnisation
daily allowance: indemnités journalières
death benefit: capital décès
file a claim: déclarer sinistre
glass breakage: bris glace
grace period: délai grâce
home insurance: assurance habitation multirisque
car insurance: assurance auto automobile
insurance policy: contrat assurance police
legal protection: protection juridique
loss adjuster: expert
lump sum: capital forfait
make a claim: déclarer sinistre
motor insurance: assurance automobile
natural disaster: catastrophe naturelle
no claims bonus: bonus malus
police report: plainte récépissé
supplementary health insurance: complémentaire santé mutuelle
third party liability: responsabilité civile
waiting period: délai carence
water damage: dégât eaux
"""

_PHRASES: dict[str, tuple[str, ...]] = {
    english.strip(): tuple(french.split())
    for english, french in (line.split(":", 1) for line in _PHRASES_TEXT.strip().splitlines())
}
_LONGEST_PHRASE = max(len(phrase.split()) for phrase in _PHRASES)


_QUESTION_WORDS = frozenset("""
    a am also another anyone anything been cannot could did does doing done don't else even
    every get gets got here how i'm is it's just know let make me more most need needs
    one only other own please same should so someone something still such tell than that's
    then there's thing things too until us use used very want wants way well what's whether
    while who's will would yes yet
""".split())


def _known(word: str) -> tuple[str, ...] | None:
    """The word's French renderings, trying simple English inflections."""
    found = _entry(word)
    return found[1] if found is not None else None


@cache
def general_lexicon() -> Mapping[str, tuple[str, ...]]:
    """The general vocabulary (``english_general.txt``: ~7,700 of the most frequent English
    words outside the administrative lexicon, with their usual French renderings), read once.
    It widens the renderings that rank and pick sentences, never the key terms that the
    relevance judge counts nor the words that make a question English (measured: as key
    terms it let 3 of 50 English off-topic questions through)."""
    text = resources.files("knowledge").joinpath(_GENERAL_FILE).read_text(encoding="utf-8")
    entries: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if line.startswith("#") or ":" not in line:
            continue
        english, french = line.split(":", 1)
        if english.strip() and french.split():
            entries[english.strip()] = tuple(french.split())
    return MappingProxyType(entries)


def _entry(word: str, general: bool = True) -> tuple[str, tuple[str, ...]] | None:
    """The lexicon entry (English lemma, French renderings) of a word or its inflection:
    the administrative lexicon first, then (``general``) the general vocabulary."""
    lexicons = (_LEXICON, general_lexicon()) if general else (_LEXICON,)
    for lexicon in lexicons:
        found = _lookup(word, lexicon)
        if found is not None:
            return found
    return None


def _lookup(
    word: str, lexicon: Mapping[str, tuple[str, ...]]
) -> tuple[str, tuple[str, ...]] | None:
    for candidate in (word, word.removesuffix("'s")):
        if candidate in lexicon:
            return candidate, lexicon[candidate]
    for suffix, replacement in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"),
                                ("ed", ""), ("ed", "e"), ("d", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)] + replacement
            if stem in lexicon:
                return stem, lexicon[stem]
    return None


# lexicon entries that are also everyday French words (or typed so): never English evidence
_ALSO_FRENCH = frozenset(
    "son court mail email file fine office record age camera change date minor union due sale rate"
    " bonus".split()
)


def is_english_word(word: str) -> bool:
    """Whether a lower-case word is an English word of the lexicon that French does not
    write the same way (« data », « loan »; not « protection », « document », « son »)."""
    found = _entry(word, general=False)  # the general vocabulary holds French look-alikes
    if found is None or found[0] in _ALSO_FRENCH:
        return False
    lemma, renderings = found
    folded = _fold(lemma)
    return all(_fold(french) != folded for french in renderings)


def _fold(word: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", word)
                   if unicodedata.category(ch) != "Mn")


def _phrase(words: list[str]) -> tuple[str, tuple[str, ...]] | None:
    """The phrase lexicon entry of these words, the last one possibly plural."""
    *head, last = words
    singular = [last[:-3] + "y"] if last.endswith("ies") else []
    for candidate in (last, last.removesuffix("'s"), last.removesuffix("s"),
                      last.removesuffix("es"), *singular):
        phrase = " ".join([*head, candidate])
        if phrase in _PHRASES:
            return phrase, _PHRASES[phrase]
    return None


def _content_units(
    question: str, general: bool = True
) -> list[tuple[str, tuple[str, ...] | None]]:
    """The question's content as (English lemma or phrase, French renderings or None),
    multi-word expressions first, function and question words left out."""
    words = _WORD.findall(question.lower().replace("’", "'").replace("-", " "))
    units: list[tuple[str, tuple[str, ...] | None]] = []
    index = 0
    while index < len(words):
        for size in range(min(_LONGEST_PHRASE, len(words) - index), 1, -1):
            found = _phrase(words[index : index + size])
            if found is not None:
                units.append(found)
                index += size
                break
        else:
            word = words[index]
            index += 1
            if word in ENGLISH_FUNCTION_WORDS or word in _QUESTION_WORDS:
                continue
            entry = _entry(word, general)
            units.append(entry if entry is not None else (word, None))
    return units


def key_terms(question: str) -> dict[str, tuple[str, ...]]:
    """The question's content words and expressions known to the lexicon (by English lemma)
    and their French renderings: what a passage answering it should mention in French."""
    terms: dict[str, tuple[str, ...]] = {}
    for lemma, renderings in _content_units(question, general=False):
        if renderings is not None:
            terms.setdefault(lemma, renderings)
    return terms


def rendered_units(question: str) -> list[tuple[str, tuple[str, ...] | None]]:
    """The question's content as (English word or expression, its French renderings, or
    None when neither lexicon knows it), expressions first (“home insurance”)."""
    return _content_units(question)


def french_search_words(question: str) -> str:
    """The question with each known English word or expression replaced by its French
    renderings (unknown words kept as they are)."""
    words: list[str] = []
    for lemma, renderings in _content_units(question):
        words.extend(renderings if renderings is not None else (lemma,))
    return " ".join(words)


def french_term_groups(question: str) -> list[tuple[str, ...]]:
    """The question's content units, each as the French words that render it (its
    renderings, or the word itself when the lexicon does not know it: names, acronyms):
    the synonym groups of a structured lexical query (``LexicalIndex.match_groups``)."""
    return [renderings if renderings is not None else (lemma,)
            for lemma, renderings in _content_units(question)]
