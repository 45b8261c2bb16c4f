"""Words the DLP name corpus is made of, in two disjoint halves: ``DEV`` (tune on it) and
``TEST`` (held out: report on it, never tune on it).

Names were written by hand for this corpus (many origins, with and without accents,
compound first names, particles); none is taken from the first-name list the detector
ships (``bot/governance/dlp_first_names.txt``), so a held-out name may or may not be in it, as in
real life. Ordinary words (imperative verbs, job titles, places, products, companies)
are split the same way, so that the held-out half also holds words never tuned on.
"""

from __future__ import annotations

from typing import Final

# origin → (first names, surnames)
DEV_NAMES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "french": (
        ("Élodie", "Julien", "Margaux", "Sébastien", "Amélie", "Grégoire", "Clémence", "Hervé",
         "Solène", "Benoît", "Maëlle", "Jérôme", "Anaïs", "Thibault", "Noémie", "Yannick",
         "Gaëlle", "Loïc", "Ophélie", "Mathis", "Jean-Baptiste", "Marie-Hélène", "Anne-Sophie",
         "Pierre-Yves", "Elodie", "Helene", "Francois", "Cecile"),
        ("Girard", "Lemoine", "Faure", "Chevalier", "Boucher", "Gauthier", "Perrin", "Brunet",
         "Roussel", "Marchand", "Guérin", "Lefèbvre", "Carré", "Hébert", "Barbier", "Texier",
         "Pelletier", "Vasseur", "Delacroix", "Courtois", "de Villiers", "de La Roche",
         "Le Goff", "Le Bihan", "Dumont", "Giraud"),
    ),
    "maghrebi": (
        ("Karim", "Nadia", "Youssef", "Samira", "Rachid", "Leïla", "Mehdi", "Yasmina", "Sofiane",
         "Houria", "Bilal", "Khadija", "Hakim", "Soraya", "Abdelkader", "Zineb", "Redouane",
         "Fatima-Zahra"),
        ("Benali", "Haddad", "Mansouri", "Bouzid", "Cherif", "Belkacem", "Amrani", "Zerrouki",
         "El Idrissi", "Benyahia", "Ouali", "Hamdi", "Saïdi", "Boukhari", "Lahlou", "Tahiri"),
    ),
    "west_african": (
        ("Aminata", "Moussa", "Fatoumata", "Ibrahima", "Awa", "Mamadou", "Kadiatou", "Seydou",
         "Aïssatou", "Boubacar", "Adama", "Mariam"),
        ("Diallo", "Traoré", "Koné", "Diop", "Ndiaye", "Camara", "Sissoko", "Coulibaly",
         "Keïta", "Touré", "Ouattara", "Bamba"),
    ),
    "vietnamese": (
        ("Thi Lan", "Minh", "Thanh", "Huong", "Quang", "Ngoc Anh", "Duc", "Phuong", "Tuan",
         "Hoa"),
        ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui"),
    ),
    "portuguese": (
        ("João", "Inês", "Tiago", "Beatriz", "Rui", "Leonor", "Gonçalo", "Mariana", "Joaquim",
         "Conceição"),
        ("Ferreira", "Pereira", "Oliveira", "Gonçalves", "Carvalho", "Rodrigues", "da Silva",
         "dos Santos", "Teixeira", "Lopes"),
    ),
    "polish": (
        ("Wojciech", "Agnieszka", "Krzysztof", "Małgorzata", "Piotr", "Katarzyna", "Grzegorz",
         "Joanna"),
        ("Kowalczyk", "Wiśniewski", "Zieliński", "Lewandowska", "Dąbrowski", "Szymański",
         "Kamińska", "Wójcik"),
    ),
    "other": (
        ("Giulia", "Alessandro", "Emre", "Ayşe", "Andrei", "Ioana", "Carlos", "Lucía", "Anahit",
         "Tigran", "Wei", "Mei"),
        ("Rossi", "Esposito", "Yılmaz", "Demir", "Popescu", "Ionescu", "García", "Fernández",
         "Petrossian", "Haroutiounian", "Zhang", "Chen"),
    ),
}

TEST_NAMES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "french": (
        ("Aurélien", "Capucine", "Gwenaël", "Bérénice", "Maxence", "Ségolène", "Rodolphe",
         "Apolline", "Ghislain", "Pénélope", "Baptiste", "Héloïse", "Timothée", "Mélanie",
         "Cyrille", "Laëtitia", "Jean-Christophe", "Marie-Laure", "Paul-Henri", "Anne-Claire",
         "Aurelien", "Heloise", "Jerome", "Celine"),
        ("Lacroix", "Chauvin", "Meunier", "Rolland", "Besnard", "Cordier", "Poirier", "Leclerc",
         "Charpentier", "Renaud", "Aubert", "Picard", "Collet", "Vidal", "Tessier", "Prévost",
         "Langlois", "Deschamps", "de Montaigu", "de Saint-Just", "Le Floch", "Le Gall",
         "Thibaut", "Joubert"),
    ),
    "maghrebi": (
        ("Nassim", "Salima", "Farid", "Malika", "Walid", "Naïma", "Amine", "Loubna", "Djamel",
         "Ouarda", "Ilyes", "Sabrina", "Mourad", "Hanane", "Abderrahmane", "Nour-Eddine"),
        ("Bensaïd", "Meziane", "Boudjema", "Rahmani", "Chaouch", "Zitouni", "Hamidi", "Kaci",
         "Ben Youssef", "Aït Ahmed", "Bouazza", "Laribi", "Sahraoui", "Djebbar"),
    ),
    "west_african": (
        ("Ousmane", "Ramatoulaye", "Souleymane", "Néné", "Lamine", "Coumba", "Abdoulaye",
         "Djénéba", "Cheikh", "Bintou", "Modibo", "Oumou"),
        ("Sow", "Konaté", "Sangaré", "Fofana", "Cissé", "Kouyaté", "Sylla", "Diakité",
         "Kouassi", "Yao", "Ba", "Gueye"),
    ),
    "vietnamese": (
        ("Van Long", "Thu Trang", "Bao", "Linh", "Khanh", "Hai Yen", "Trung", "Mai Anh", "Hieu",
         "Thao"),
        ("Truong", "Do", "Ngo", "Duong", "Ly", "Huynh", "Vo", "Phan"),
    ),
    "portuguese": (
        ("Rodrigo", "Filipa", "Duarte", "Carolina", "Nuno", "Matilde", "Sérgio", "Graça",
         "Afonso", "Lurdes"),
        ("Almeida", "Ribeiro", "Martins", "Sousa", "Fernandes", "Costa", "da Cunha",
         "dos Reis", "Moreira", "Azevedo"),
    ),
    "polish": (
        ("Tomasz", "Magdalena", "Łukasz", "Urszula", "Paweł", "Dorota", "Zbigniew", "Ewa"),
        ("Nowak", "Mazur", "Krawczyk", "Jabłońska", "Pawlak", "Michalski", "Grabowska",
         "Wróbel"),
    ),
    "other": (
        ("Matteo", "Chiara", "Mehmet", "Elif", "Bogdan", "Mihaela", "Javier", "Pilar",
         "Ararat", "Lusine", "Jun", "Xiaoling"),
        ("Ricci", "Romano", "Kaya", "Şahin", "Constantinescu", "Dumitru", "Navarro", "Moreno",
         "Manoukian", "Sarkissian", "Liu", "Wang"),
    ),
}

# Ordinary words that start a sentence or sit in one: never to be pseudonymised.
DEV_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "verbs": ("Prépare", "Résume", "Rédige", "Vérifie", "Calcule", "Analyse", "Envoie",
              "Relance", "Transmets", "Reformule", "Compare", "Liste", "Traduis", "Propose",
              "Explique", "Classe", "Corrige", "Synthétise", "Indique", "Contrôle"),
    "contact_verbs": ("Relance", "Rappelle", "Appelle", "Écris à"),
    "titles": ("le gestionnaire sinistres", "la chargée de clientèle", "l'expert automobile",
               "le directeur d'agence", "la juriste", "le souscripteur",
               "la responsable indemnisation", "le conseiller commercial",
               "le médecin-conseil", "l'inspectrice régleur"),
    "titles_capitalised": ("Responsable du service client", "Directeur commercial",
                           "Gestionnaire sinistres", "Chargée de clientèle",
                           "Expert en bâtiment"),
    "places": ("Lyon", "Villeurbanne", "Bordeaux", "Nantes", "Saint-Étienne",
               "Clermont-Ferrand", "Aix-en-Provence", "Roubaix", "Montreuil", "Niort", "Brest",
               "La Rochelle", "Le Havre", "Toulouse"),
    "products": ("Multirisque Habitation", "Auto Tiers Plus", "Pack Sérénité",
                 "Garantie Accidents de la Vie", "Prévoyance Pro", "Santé Essentielle",
                 "Protection Juridique", "Assurance Emprunteur"),
    "companies": ("AXA", "Allianz", "Groupama", "la MAIF", "la MACIF", "Generali", "Covéa",
                  "Carglass", "Norauto", "Darty", "Enedis", "la SNCF", "Castorama",
                  "Swiss Life"),
    # small or local firms no shipped list holds: a lone unknown word, as in real life
    "unlisted_companies": ("Habitéo", "Soluvia", "Assurimo", "Batiflex", "Garantys",
                           "Plomberie Azur", "Vitrauto", "Assurflex"),
}

TEST_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "verbs": ("Rassemble", "Reprends", "Formule", "Estime", "Récapitule", "Complète",
              "Identifie", "Signale", "Contacte", "Programme", "Chiffre", "Justifie",
              "Réécris", "Organise", "Examine", "Précise", "Confirme", "Relis", "Ajoute",
              "Sélectionne"),
    "contact_verbs": ("Contacte", "Recontacte", "Préviens", "Réponds à"),
    "titles": ("la gestionnaire contentieux", "le chargé d'indemnisation",
               "l'expert en assurance", "la directrice régionale", "l'actuaire",
               "le courtier", "la responsable conformité", "le technicien sinistres",
               "l'assistante de gestion", "le délégué à la protection des données"),
    "titles_capitalised": ("Responsable des sinistres corporels", "Directrice juridique",
                           "Chargé de recouvrement", "Conseillère patrimoniale",
                           "Inspecteur régleur"),
    "places": ("Marseille", "Grenoble", "Rennes", "Lille", "Strasbourg", "Saint-Nazaire",
               "Boulogne-Billancourt", "Vaulx-en-Velin", "Pau", "Agen", "Tours", "Le Mans",
               "La Seyne-sur-Mer", "Montpellier"),
    "products": ("Habitation Confort", "Auto Tous Risques", "Formule Essentielle",
                 "Garantie Décennale", "Complémentaire Santé Senior", "Multirisque Pro",
                 "Assistance Voyage", "Épargne Retraite Plus"),
    "companies": ("la Matmut", "MMA", "Malakoff Humanis", "AG2R La Mondiale", "Speedy",
                  "Feu Vert", "Boulanger", "Veolia", "Engie", "Bouygues Telecom",
                  "la Macif", "Leroy Merlin", "Decathlon", "Orange"),
    "unlisted_companies": ("Domivia", "Protecto", "Sinistrea", "Réparéo", "Toitures Morel",
                           "Kovalis", "Assurvia", "Menuiserie du Lac"),
}

MONTHS: Final = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                 "septembre", "octobre", "novembre", "décembre")
DAYS: Final = ("lundi", "mardi", "mercredi", "jeudi", "vendredi")
