"""Words the demo inventory is built from: the Troyes audit's themes and directions, and for
each theme the subjects, producers and keywords of realistic French tracking tables.

A subject starting with "!" usually holds personal data, and "|" ends it with the producers
that supply it when it comes from outside (else the theme's producers); neither mark is part
of the title.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from patrimoine.inventory.models import UpdateFrequency as F


@dataclass(frozen=True)
class Theme:
    name: str
    # Entries with this theme in the Troyes audit (653 in all).
    troyes_count: int
    subjects: tuple[str, ...]
    qualifiers: tuple[str, ...]
    producers: tuple[str, ...]
    keywords: tuple[str, ...]
    frequencies: dict[F, int]
    # Relative propensities (1.0 = average) used to correlate values with the theme.
    confidential: float = 1.0
    external: float = 1.0
    personal: float = 1.0


ADMINISTRATION = "Administration"
EAU = "Assainissement - Eau - Trame hydraulique"
CULTURE = "Culture"
ECONOMIE = "Économie & Société"
EDUCATION = "Éducation - Enfance"
ENERGIE = "Énergie & Climat / Développement durable"
ENS_SUP = "Enseignement supérieur"
ESPACE_PUBLIC = "Espace public"
PATRIMOINE = "Patrimoine"
SECURITE = "Sécurité"
SPORTS = "Sports"
URBANISME = "Urbanisme - Habitat"

_YEARS = (" (2019-2024)", " (depuis 2015)", " (2021-2025)", " (2011 à 2022)")

THEMES: dict[str, Theme] = {t.name: t for t in (
    Theme(
        ADMINISTRATION, 109,
        subjects=(
            "des délibérations du conseil", "des marchés publics notifiés",
            "des courriers entrants", "des demandes d'accès aux documents administratifs",
            "des dépenses de fonctionnement", "des subventions versées aux associations",
            "des contrats de maintenance", "des sinistres et des assurances",
            "des indicateurs de qualité de service", "des réclamations des usagers",
        ),
        qualifiers=(" par mois", " par trimestre", *_YEARS),
        producers=("Centre de gestion de la fonction publique territoriale", "DGFiP",
                   "Préfecture", "Éditeur du logiciel de paie", "INSEE"),
        keywords=("ressources", "gestion", "budget", "pilotage", "services"),
        frequencies={F.MONTHLY: 5, F.ANNUAL: 5, F.QUARTERLY: 2, F.CONTINUOUS: 2, F.IRREGULAR: 1,
                     F.WEEKLY: 1},
        confidential=1.5, external=0.5, personal=2.0,
    ),
    Theme(
        EAU, 46,
        subjects=(
            "des piézomètres (alerte sur la montée des nappes)|BRGM",
            "de la qualité de l'eau potable|Agence régionale de santé",
            "des volumes d'eau produits et distribués", "des fuites sur le réseau d'eau potable",
            "des interventions sur le réseau d'assainissement", "des stations d'épuration",
            "des déversements d'eaux usées", "des branchements au réseau",
            "!des relevés des compteurs d'eau",
            "des niveaux des cours d'eau|Vigicrues;Météo-France",
            "des ouvrages hydrauliques", "du réseau de chaleur urbain", "des bassins de rétention",
            "!des abonnés du service de l'eau",
            "!des contrôles d'assainissement non collectif",
            "des prélèvements en rivière|Agence de l'eau",
        ),
        qualifiers=(" par secteur", " par station", " par commune", " par bassin versant",
                    *_YEARS),
        producers=("Agence de l'eau", "Délégataire du service de l'eau"),
        keywords=("eau", "assainissement", "réseaux", "rivière", "nappe"),
        frequencies={F.DAILY: 3, F.CONTINUOUS: 3, F.MONTHLY: 4, F.ANNUAL: 3, F.WEEKLY: 1},
        confidential=0.8, external=1.3, personal=0.6,
    ),
    Theme(
        CULTURE, 22,
        subjects=(
            "de la fréquentation des musées et églises", "des prêts de la médiathèque",
            "!des inscriptions au conservatoire",
            "des élèves par cursus (musique, danse, théâtre) au conservatoire",
            "des associations culturelles subventionnées", "de la programmation culturelle",
            "des œuvres des collections municipales", "des monuments labellisés",
            "des visites guidées", "des spectateurs par spectacle",
            "des manifestations associatives", "des fonds patrimoniaux numérisés",
        ),
        qualifiers=(" par saison", " par équipement", " par mois", *_YEARS),
        producers=("Ministère de la Culture", "Prestataire de billetterie",
                   "Réseau des médiathèques"),
        keywords=("culture", "musées", "patrimoine", "spectacle", "associations"),
        frequencies={F.MONTHLY: 4, F.ANNUAL: 5, F.SEMIANNUAL: 1, F.IRREGULAR: 1},
        confidential=0.5, external=0.8, personal=0.7,
    ),
    Theme(
        ECONOMIE, 34,
        subjects=(
            "des taxes par zone d'activité économique", "des entreprises implantées",
            "des créations et fermetures de commerces", "des locaux commerciaux vacants",
            "des demandeurs d'emploi|France Travail", "!des bénéficiaires des clauses d'insertion",
            "!des aides sociales facultatives versées", "!des domiciliations administratives",
            "!des bénéficiaires de l'aide alimentaire", "des marchés forains",
            "de la fréquentation des transports en commun|Opérateur du réseau de transport",
            "des locations de vélos en libre-service|Opérateur de vélos en libre-service",
            "des revenus des ménages|INSEE;DGFiP",
            "de la population par quartier|INSEE", "des foyers allocataires|CAF",
            "!des demandes d'aide au logement temporaire", "de l'offre de services aux seniors",
        ),
        qualifiers=(" par quartier", " par zone d'activité", " par commune", " par trimestre",
                    *_YEARS),
        producers=("INSEE", "Chambre de commerce et d'industrie", "URSSAF", "CAF"),
        keywords=("économie", "emploi", "social", "commerce", "population"),
        frequencies={F.ANNUAL: 5, F.QUARTERLY: 3, F.MONTHLY: 3, F.IRREGULAR: 1},
        confidential=1.2, external=1.6, personal=1.4,
    ),
    Theme(
        EDUCATION, 22,
        subjects=(
            "du nombre de dérogations scolaires", "des effectifs scolaires par école",
            "!des inscriptions à la restauration scolaire",
            "de la fréquentation des accueils périscolaires", "des places en crèche",
            "!des demandes de place en crèche", "de la démographie scolaire",
            "des repas servis dans les cantines", "des travaux dans les écoles",
            "des activités des centres de loisirs", "!du transport scolaire",
            "des projets éducatifs territoriaux",
        ),
        qualifiers=(" par école", " par année scolaire", " par quartier", " par mois", *_YEARS),
        producers=("Éducation nationale", "CAF", "Prestataire de restauration scolaire"),
        keywords=("école", "enfance", "jeunesse", "périscolaire", "crèche"),
        frequencies={F.ANNUAL: 5, F.MONTHLY: 4, F.WEEKLY: 1, F.DAILY: 1},
        confidential=1.3, external=0.6, personal=1.8,
    ),
    Theme(
        ENERGIE, 205,
        subjects=(
            "de la consommation d'énergie des bâtiments de plus de 1 000 m² (décret tertiaire)"
            "|Fournisseur d'énergie;Exploitant des installations de chauffage",
            "des consommations énergétiques du territoire|ADEME;Observatoire régional de l'énergie",
            "des consommations d'électricité des bâtiments municipaux|Enedis;Fournisseur d'énergie",
            "des consommations de gaz des équipements|GRDF;Fournisseur d'énergie",
            "de l'éclairage public|Exploitant de l'éclairage public",
            "de la production photovoltaïque|Enedis",
            "des émissions de gaz à effet de serre|Observatoire régional de l'énergie;ADEME",
            "de la qualité de l'air|Association agréée de surveillance de la qualité de l'air",
            "des îlots de chaleur",
            "des arbres d'alignement",
            "de la plantation d'arbres",
            "des bornes de recharge pour véhicules électriques|Opérateur des bornes de recharge",
            "des aménagements cyclables", "des comptages vélos|Prestataire des compteurs vélos",
            "de la collecte des déchets ménagers|Opérateur de collecte des déchets",
            "du tri sélectif"
            "|Opérateur de collecte des déchets;Éco-organisme de la filière emballages",
            "des points d'apport volontaire", "des dépôts sauvages",
            "des actions du plan climat-air-énergie territorial",
            "de la rénovation énergétique des logements|ANAH;ADEME",
            "!des aides à la rénovation énergétique|ANAH",
            "!de la précarité énergétique des ménages",
            "de l'entretien des espaces verts", "de la biodiversité urbaine",
            "des jardins partagés", "des certificats d'économies d'énergie|Fournisseur d'énergie",
            "de la flotte de véhicules à faibles émissions",
            "des consommations d'eau des bâtiments publics", "du compostage",
            "des livraisons des réseaux de chaleur", "de la production des chaufferies bois",
            "des pollens et allergènes|Réseau de surveillance aérobiologique",
            "des nuisances sonores",
        ),
        qualifiers=(" par commune", " par quartier", " par mois", *_YEARS),
        producers=("ADEME", "Observatoire régional de l'énergie",
                   "Bureau d'études en environnement"),
        keywords=("énergie", "climat", "transition écologique", "environnement",
                  "développement durable", "déchets"),
        frequencies={F.MONTHLY: 6, F.ANNUAL: 5, F.DAILY: 2, F.CONTINUOUS: 2, F.QUARTERLY: 2,
                     F.IRREGULAR: 1},
        confidential=0.7, external=1.3, personal=0.3,
    ),
    Theme(
        ENS_SUP, 13,
        subjects=(
            "des effectifs étudiants et de leur origine géographique", "des logements étudiants",
            "des formations post-bac", "!des aides aux étudiants",
            "des laboratoires de recherche", "des événements de la vie étudiante",
            "des partenariats avec les écoles supérieures",
        ),
        qualifiers=(" par établissement", " par année universitaire", *_YEARS),
        producers=("Rectorat", "Université", "CROUS"),
        keywords=("étudiants", "recherche", "université", "formation"),
        frequencies={F.ANNUAL: 6, F.SEMIANNUAL: 2, F.IRREGULAR: 1},
        confidential=0.6, external=1.5, personal=0.8,
    ),
    Theme(
        ESPACE_PUBLIC, 14,
        subjects=(
            "de l'abattage des arbres", "des demandes d'intervention sur la voirie",
            "du mobilier urbain", "des aires de jeux", "des toilettes publiques",
            "!des signalements des habitants", "des terrasses", "du nettoiement des rues",
            "des graffitis effacés", "des travaux de voirie",
        ),
        qualifiers=(" par quartier", " par mois", " par rue", *_YEARS),
        producers=("Prestataire d'élagage", "Application de signalement citoyen"),
        keywords=("voirie", "espace public", "propreté", "cadre de vie"),
        frequencies={F.MONTHLY: 5, F.WEEKLY: 2, F.CONTINUOUS: 2, F.ANNUAL: 2},
        confidential=0.6, external=0.7, personal=0.7,
    ),
    Theme(
        PATRIMOINE, 19,
        subjects=(
            "des diagnostics des logements municipaux", "des bâtiments communaux",
            "des travaux dans les bâtiments", "des contrôles réglementaires des bâtiments",
            "de l'accessibilité des établissements recevant du public", "!des baux et loyers",
            "du patrimoine foncier", "de l'entretien des églises et monuments",
            "des diagnostics amiante",
        ),
        qualifiers=(" par site", *_YEARS),
        producers=("Bureau de contrôle", "Diagnostiqueur immobilier"),
        keywords=("bâtiments", "patrimoine", "travaux", "foncier"),
        frequencies={F.ANNUAL: 5, F.IRREGULAR: 3, F.QUARTERLY: 2, F.MONTHLY: 1},
        confidential=1.1, external=0.6, personal=0.6,
    ),
    Theme(
        SECURITE, 49,
        subjects=(
            "des délits et infractions par motif et tranche horaire|Police nationale",
            "des interventions de la police municipale", "des caméras de vidéoprotection",
            "!des verbalisations du stationnement"
            "|Agence nationale de traitement automatisé des infractions",
            "!des enlèvements en fourrière|Gestionnaire de la fourrière",
            "des accidents de la circulation|Préfecture;Police nationale",
            "!des mains courantes",
            "des objets trouvés",
            "des arrêtés de péril", "des commissions de sécurité", "!des badges riverains",
            "des alertes du centre de supervision urbain",
            "de la fréquentation des parkings|Délégataire du stationnement",
            "des places de stationnement", "des feux tricolores",
        ),
        qualifiers=(" par quartier", " par tranche horaire", " par mois", " par secteur",
                    *_YEARS),
        producers=("Police nationale", "Préfecture", "Délégataire du stationnement"),
        keywords=("sécurité", "tranquillité publique", "stationnement", "circulation"),
        frequencies={F.DAILY: 3, F.MONTHLY: 5, F.CONTINUOUS: 2, F.ANNUAL: 2, F.WEEKLY: 1},
        confidential=2.2, external=0.9, personal=1.6,
    ),
    Theme(
        SPORTS, 16,
        subjects=(
            "des fréquentations par type d'activité aux piscines municipales",
            "des réservations des gymnases", "des clubs sportifs subventionnés",
            "des licenciés sportifs", "des équipements sportifs", "des manifestations sportives",
            "!des inscriptions aux stages sportifs", "de la fréquentation de la patinoire",
        ),
        qualifiers=(" par équipement", " par mois", " par discipline", *_YEARS),
        producers=("Fédérations sportives", "Délégataire du centre aquatique"),
        keywords=("sport", "piscines", "équipements sportifs", "clubs"),
        frequencies={F.MONTHLY: 5, F.ANNUAL: 4, F.WEEKLY: 1},
        confidential=0.5, external=0.8, personal=0.8,
    ),
    Theme(
        URBANISME, 104,
        subjects=(
            "des marchés immobiliers|DGFiP (DV3F);Notaires de France", "!des permis de construire",
            "!des déclarations d'intention d'aliéner",
            "du parc de logements sociaux|Bailleurs sociaux",
            "des logements vacants", "!des demandes de logement social",
            "des copropriétés fragiles", "des loyers du parc privé", "de la construction neuve",
            "des ménages en situation de vulnérabilité énergétique (parc privé)",
            "des quartiers prioritaires de la politique de la ville",
            "du plan local d'urbanisme intercommunal", "de la consommation foncière",
            "des opérations d'aménagement", "!de l'habitat indigne",
            "!des aides à l'amélioration de l'habitat", "de la population par IRIS|INSEE",
            "des attributions de logements sociaux", "des transactions foncières",
            "de l'occupation du parc social", "des résidences principales",
        ),
        qualifiers=(" par commune", " par quartier", *_YEARS),
        producers=("DGFiP (DV3F)", "INSEE", "Notaires de France", "Bailleurs sociaux", "ANAH",
                   "Agence d'urbanisme", "Observatoire régional de l'habitat"),
        keywords=("habitat", "logement", "urbanisme", "foncier", "politique de la ville"),
        frequencies={F.ANNUAL: 7, F.SEMIANNUAL: 2, F.QUARTERLY: 2, F.MONTHLY: 2,
                     F.IRREGULAR: 1},
        confidential=1.1, external=1.5, personal=0.9,
    ),
)}

# Parts of a theme that only some directions keep.
ADMIN_RH = (
    "!des effectifs par direction", "!de l'absentéisme", "!des recrutements",
    "!des formations suivies par les agents", "!des heures supplémentaires",
    "!des rémunérations par grade", "!des accidents du travail", "!des entretiens annuels",
)
ADMIN_SI = (
    "du parc informatique", "des demandes d'assistance informatique", "des licences logicielles",
    "des applications métiers", "des sauvegardes informatiques", "des contrats de maintenance",
    "des incidents de sécurité informatique", "de la téléphonie mobile",
)
ADMIN_ACHATS = (
    "des marchés publics notifiés", "des fournisseurs et délais de paiement",
    "des achats transversaux", "des contrats de maintenance", "des dépenses de fonctionnement",
)
ADMIN_METROPOLE = (
    "des fonds de concours attribués aux communes", "des délibérations du conseil",
    "des subventions versées aux associations", "des dépenses de fonctionnement",
)
ADMIN_ASSEMBLEES = (
    "des délibérations du conseil", "des arrêtés du maire", "des contentieux en cours",
    "des sinistres et des assurances", "des demandes d'accès aux documents administratifs",
)
ADMIN_CITOYENS = (
    "!des actes d'état civil", "!des demandes de cartes d'identité et passeports",
    "des courriers entrants", "des réclamations des usagers",
    "!des inscriptions sur les listes électorales",
)
ADMIN_MOYENS = (
    "du parc automobile", "de la consommation de papier", "des sinistres et des assurances",
    "des courriers entrants", "des fournitures de bureau",
)
ECONOMIE_SOCIAL = (
    "!des aides sociales facultatives versées", "!des domiciliations administratives",
    "!des bénéficiaires de l'aide alimentaire", "!des demandes d'aide au logement temporaire",
    "de l'offre de services aux seniors", "des foyers allocataires|CAF",
)
ECONOMIE_ENTREPRISES = (
    "des taxes par zone d'activité économique", "des entreprises implantées",
    "des créations et fermetures de commerces", "des locaux commerciaux vacants",
)
ECONOMIE_MOBILITE = (
    "de la fréquentation des transports en commun|Opérateur du réseau de transport",
    "des locations de vélos en libre-service|Opérateur de vélos en libre-service",
)
SECURITE_ROUTE = (
    "!des verbalisations du stationnement"
    "|Agence nationale de traitement automatisé des infractions",
    "!des enlèvements en fourrière|Gestionnaire de la fourrière",
    "des accidents de la circulation|Préfecture;Police nationale",
    "de la fréquentation des parkings|Délégataire du stationnement",
    "des places de stationnement", "des feux tricolores",
)
SECURITE_CSU = (
    "des délits et infractions par motif et tranche horaire|Police nationale",
    "des interventions de la police municipale", "des caméras de vidéoprotection",
    "des alertes du centre de supervision urbain",
)
SECURITE_PROXIMITE = (
    "!des mains courantes", "des objets trouvés", "des arrêtés de péril",
    "des commissions de sécurité", "!des badges riverains",
)

def _pick(theme: str, *starts: str) -> tuple[str, ...]:
    """The subjects of `theme` that begin with one of `starts` (producers kept)."""
    found = tuple(x for x in THEMES[theme].subjects if x.lstrip("!").startswith(starts))
    assert len(found) >= len(starts), (theme, starts)
    return found


ENERGIE_BATIMENTS = _pick(
    ENERGIE, "de la consommation d'énergie des bâtiments", "des consommations d'électricité",
    "des consommations de gaz", "des consommations d'eau", "de la production photovoltaïque",
    "des certificats")
ENERGIE_MOBILITE = _pick(ENERGIE, "des bornes", "des aménagements cyclables", "des comptages",
                         "de la flotte")
ENERGIE_DECHETS = _pick(ENERGIE, "de la collecte", "du tri", "des points d'apport",
                        "des dépôts sauvages", "du compostage")
ENERGIE_HABITAT = _pick(ENERGIE, "de la rénovation", "des aides à la rénovation",
                        "de la précarité")
ENERGIE_RESEAUX = _pick(ENERGIE, "des livraisons des réseaux", "de la production des chaufferies",
                        "de la consommation d'énergie des bâtiments")


# Words that open a title, with weights: most entries are "tableaux de suivi".
TITLE_OPENINGS: dict[str, int] = {
    "Suivi": 8, "Suivi mensuel": 3, "Suivi annuel": 3, "Tableau de bord": 2,
    "Bilan annuel": 1, "Statistiques": 2, "Indicateurs": 1, "Évolution": 1, "Inventaire": 1,
}


@dataclass(frozen=True)
class Direction:
    """A direction of the Troyes audit, as a demo organisation holds it.

    `themes` weighs the plausible themes of its tables; the overall theme mix is then fitted
    to the audit's theme counts.
    """

    name: str
    count: int
    themes: dict[str, float]
    # Tables of a "service commun" shared by the ville and the métropole.
    mutualised: bool = False
    email: str = ""
    # For some themes, the part of the theme's subjects this direction's tables are about.
    subjects: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _d(name: str, count: int, themes: dict[str, float], *, mutualised: bool = False,
       email: str = "", subjects: dict[str, tuple[str, ...]] | None = None) -> Direction:
    return Direction(name, count, themes, mutualised, email, subjects or {})


# The audit's 653 tables by organisation and direction: 341 métropole, 207 ville,
# 91 shared by both (kept by the métropole's services communs), 14 CCAS.
METROPOLE_DIRECTIONS = (
    _d("Développement durable - Climat - Énergie", 150,
       {ENERGIE: 8, EAU: 0.6, ESPACE_PUBLIC: 0.5, PATRIMOINE: 0.3, ADMINISTRATION: 0.4,
        URBANISME: 0.3}, email="developpement-durable",
       subjects={ADMINISTRATION: ADMIN_METROPOLE}),
    _d("Eau - Trame hydraulique - Réseaux de chaleur - Régie assainissement", 36,
       {EAU: 8, ENERGIE: 1.5, ADMINISTRATION: 0.3}, email="eau-assainissement",
       subjects={ENERGIE: ENERGIE_RESEAUX, ADMINISTRATION: ADMIN_ACHATS}),
    _d("Mobilités", 22, {ENERGIE: 2, ECONOMIE: 1.5, ESPACE_PUBLIC: 0.5, SECURITE: 0.8},
       email="mobilites",
       subjects={ENERGIE: ENERGIE_MOBILITE, ECONOMIE: ECONOMIE_MOBILITE,
                 SECURITE: SECURITE_ROUTE}),
    _d("Gestion et prévention des déchets", 4, {ENERGIE: 4, ESPACE_PUBLIC: 1}, email="dechets",
       subjects={ENERGIE: ENERGIE_DECHETS}),
    _d("Enseignement supérieur - Recherche - Vie étudiante", 14,
       {ENS_SUP: 6, ECONOMIE: 0.5, SPORTS: 0.3}, email="enseignement-superieur",
       subjects={ECONOMIE: ECONOMIE_ENTREPRISES}),
    _d("Emploi - Insertion", 4, {ECONOMIE: 5, ADMINISTRATION: 0.5}, email="emploi-insertion",
       subjects={ECONOMIE: ("des demandeurs d'emploi|France Travail",
                            "!des bénéficiaires des clauses d'insertion",
                            "!des participants aux chantiers d'insertion"),
                 ADMINISTRATION: ADMIN_METROPOLE}),
    _d("Aménagement économique", 3, {ECONOMIE: 4, URBANISME: 1}, email="developpement-economique",
       subjects={ECONOMIE: ECONOMIE_ENTREPRISES}),
    _d("Action foncière", 3, {URBANISME: 3, PATRIMOINE: 1}, email="foncier"),
    _d("Observatoire de l'habitat et des territoires", 76,
       {URBANISME: 6, ECONOMIE: 1, ADMINISTRATION: 0.3, ENERGIE: 0.5, EDUCATION: 0.2},
       email="observatoire",
       subjects={ENERGIE: ENERGIE_HABITAT, ADMINISTRATION: ADMIN_METROPOLE,
                 EDUCATION: ("de la démographie scolaire",)}),
    _d("Urbanisme - Développement urbain", 6, {URBANISME: 5, EAU: 0.5}, email="urbanisme"),
    _d("Systèmes d'information", 14,
       {ADMINISTRATION: 4, URBANISME: 1, SECURITE: 0.5, ENERGIE: 0.5, EAU: 0.5, ESPACE_PUBLIC: 0.3},
       email="dsi",
       subjects={ADMINISTRATION: ADMIN_SI, SECURITE: SECURITE_CSU}),
    _d("Ressources humaines", 5, {ADMINISTRATION: 6}, email="rh",
       subjects={ADMINISTRATION: ADMIN_RH}),
    _d("Commande publique - Achats transversaux", 4, {ADMINISTRATION: 4, ECONOMIE: 1},
       email="commande-publique",
       subjects={ADMINISTRATION: ADMIN_ACHATS + ADMIN_METROPOLE[:1],
                 ECONOMIE: ("!des bénéficiaires des clauses d'insertion",
                            "des entreprises attributaires des marchés")}),
    # Services communs: the tables of the audit's "Ville / Métropole" line.
    _d("Systèmes d'information", 60,
       {ADMINISTRATION: 4, URBANISME: 1, SECURITE: 0.6, ENERGIE: 0.6, EAU: 0.6, ESPACE_PUBLIC: 0.3,
        PATRIMOINE: 0.2}, mutualised=True, email="dsi",
       subjects={ADMINISTRATION: ADMIN_SI, SECURITE: SECURITE_CSU}),
    _d("Ressources humaines", 16, {ADMINISTRATION: 6}, mutualised=True, email="rh",
       subjects={ADMINISTRATION: ADMIN_RH}),
    _d("Commande publique - Achats transversaux", 9, {ADMINISTRATION: 4, ECONOMIE: 1},
       mutualised=True, email="commande-publique",
       subjects={ADMINISTRATION: ADMIN_ACHATS,
                 ECONOMIE: ("!des bénéficiaires des clauses d'insertion",
                            "des entreprises attributaires des marchés")}),
    _d("Moyens généraux", 6, {ADMINISTRATION: 3, PATRIMOINE: 1, ENERGIE: 0.5}, mutualised=True,
       email="moyens-generaux",
       subjects={ADMINISTRATION: ADMIN_MOYENS, ENERGIE: ENERGIE_MOBILITE[-1:]}),
)

VILLE_DIRECTIONS = (
    _d("Affaires juridiques - Contentieux - Assemblées", 8, {ADMINISTRATION: 6},
       email="affaires-juridiques", subjects={ADMINISTRATION: ADMIN_ASSEMBLEES}),
    _d("Moyens généraux", 3, {ADMINISTRATION: 3, PATRIMOINE: 1, ENERGIE: 0.5},
       email="moyens-generaux",
       subjects={ADMINISTRATION: ADMIN_MOYENS, ENERGIE: ENERGIE_MOBILITE[-1:]}),
    _d("Circulation - Stationnement - Régie voirie", 38,
       {SECURITE: 4, ESPACE_PUBLIC: 1, ECONOMIE: 0.5, ADMINISTRATION: 0.5}, email="circulation",
       subjects={SECURITE: SECURITE_ROUTE,
                 ECONOMIE: ("des recettes du stationnement payant",
                            "des abonnements de stationnement résidentiel")}),
    _d("Centre de supervision urbain", 5, {SECURITE: 6}, email="csu",
       subjects={SECURITE: SECURITE_CSU}),
    _d("Culture - Labels et patrimoine - Vie associative", 25,
       {CULTURE: 5, PATRIMOINE: 1, ECONOMIE: 0.3}, email="culture",
       subjects={ECONOMIE: ("des associations par domaine d'activité",)}),
    _d("Enfance - Éducation - Jeunesse", 24, {EDUCATION: 6, ADMINISTRATION: 0.5, SPORTS: 0.3},
       email="education",
       subjects={ADMINISTRATION: ("des réclamations des usagers",
                                  "des dépenses de fonctionnement")}),
    _d("Sports", 14, {SPORTS: 6, ADMINISTRATION: 0.3}, email="sports",
       subjects={ADMINISTRATION: ("des subventions versées aux associations",)}),
    _d("Vie quotidienne", 11, {ADMINISTRATION: 2, ESPACE_PUBLIC: 1, SECURITE: 1},
       email="vie-quotidienne",
       subjects={ADMINISTRATION: ADMIN_CITOYENS, SECURITE: SECURITE_PROXIMITE}),
    _d("Occupation du domaine public", 13,
       {ESPACE_PUBLIC: 2, ECONOMIE: 1, ADMINISTRATION: 1, SECURITE: 1}, email="domaine-public",
       subjects={ECONOMIE: ("des marchés forains", "des redevances d'occupation du domaine public"),
                 ADMINISTRATION: ("!des autorisations d'occupation temporaire",),
                 SECURITE: SECURITE_PROXIMITE}),
    _d("Protocole", 3, {ADMINISTRATION: 2, CULTURE: 1}, email="protocole",
       subjects={ADMINISTRATION: ("des réceptions officielles", "des invitations protocolaires")}),
    _d("Coordination des événementiels et commémorations", 6,
       {CULTURE: 2, ADMINISTRATION: 1, SECURITE: 0.5}, email="evenementiel",
       subjects={ADMINISTRATION: ("des manifestations autorisées",),
                 SECURITE: ("des commissions de sécurité",)}),
    _d("Médiathèque des Tilleuls", 1, {CULTURE: 5}, email="mediatheque"),
    _d("Requalification des espaces publics", 11, {ESPACE_PUBLIC: 3, URBANISME: 1, EAU: 0.5},
       email="espaces-publics"),
    _d("Patrimoine bâti", 39, {PATRIMOINE: 4, ENERGIE: 2, ADMINISTRATION: 0.5, SPORTS: 0.3},
       email="patrimoine-bati",
       subjects={ENERGIE: ENERGIE_BATIMENTS, ADMINISTRATION: ADMIN_ACHATS,
                 SPORTS: ("des équipements sportifs",)}),
    _d("Administration du pôle Famille et proximité", 6, {ADMINISTRATION: 3, EDUCATION: 1},
       email="pole-famille", subjects={ADMINISTRATION: ADMIN_CITOYENS}),
)

CCAS_DIRECTIONS = (
    _d("Direction générale du CCAS", 4, {ADMINISTRATION: 3, ECONOMIE: 1}, email="direction",
       subjects={ECONOMIE: ECONOMIE_SOCIAL}),
    _d("Action sociale et insertion", 6, {ECONOMIE: 5, ADMINISTRATION: 0.5},
       email="action-sociale", subjects={ECONOMIE: ECONOMIE_SOCIAL}),
    _d("Autonomie et seniors", 4, {ECONOMIE: 4, ADMINISTRATION: 0.5}, email="autonomie",
       subjects={ECONOMIE: ("de l'offre de services aux seniors",
                            "!des portages de repas à domicile",
                            "!des bénéficiaires de la téléassistance")}),
)

# A member commune runs a few services of its own and a handful of tracking tables.
COMMUNE_DIRECTIONS = (
    _d("Secrétariat général", 3, {ADMINISTRATION: 5, URBANISME: 1}, email="mairie",
       subjects={ADMINISTRATION: ADMIN_CITOYENS + ADMIN_ASSEMBLEES,
                 URBANISME: ("!des permis de construire",
                             "!des déclarations d'intention d'aliéner")}),
    _d("Services techniques", 3, {ESPACE_PUBLIC: 2, PATRIMOINE: 2, ENERGIE: 2, EAU: 0.5},
       email="services-techniques", subjects={ENERGIE: ENERGIE_BATIMENTS}),
    _d("Vie scolaire et associative", 2, {EDUCATION: 3, SPORTS: 1, CULTURE: 1},
       email="vie-locale"),
)

# The audit's other tables (source, sharing, confidentiality), out of 653.
SOURCE_COUNTS = {"external": 189, "internal": 450, "both": 14}
SHARING_COUNTS = {"no": 160, "yes": 452, "undefined": 41}
CONFIDENTIALITY_COUNTS = {"no": 449, "yes": 132, "undefined": 72}

