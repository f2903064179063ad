"""The GDPR register's enumerations, their French labels and the words accepted on input
(given to core/vocabulary.py, which labels and parses them).

Values follow the CNIL's register model ("registre de base"), the CNIL's nine DPIA criteria
(from the EDPB guidelines WP248) and Articles 6, 9, 12, 33 and 34 of the GDPR.
"""

from __future__ import annotations

from enum import StrEnum

from patrimoine.core.vocabulary import define


class ActivityStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ENDED = "ended"


class LegalBasis(StrEnum):
    """Article 6(1) GDPR."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"


class Art9Condition(StrEnum):
    """Article 9(2) GDPR: the condition that lifts the ban on special categories."""

    EXPLICIT_CONSENT = "a"
    EMPLOYMENT_SOCIAL_SECURITY = "b"
    VITAL_INTERESTS = "c"
    NOT_FOR_PROFIT_BODY = "d"
    MADE_PUBLIC = "e"
    LEGAL_CLAIMS = "f"
    SUBSTANTIAL_PUBLIC_INTEREST = "g"
    HEALTH_SOCIAL_CARE = "h"
    PUBLIC_HEALTH = "i"
    ARCHIVING_RESEARCH_STATISTICS = "j"


class DataCategory(StrEnum):
    """The CNIL model's categories of personal data."""

    IDENTITY = "identity"
    PERSONAL_LIFE = "personal_life"
    PROFESSIONAL_LIFE = "professional_life"
    ECONOMIC_FINANCIAL = "economic_financial"
    CONNECTION = "connection"
    LOCATION = "location"
    INTERNET = "internet"
    OTHER = "other"


class SpecialCategory(StrEnum):
    """Article 9 categories, Article 10 (offences) and the French social security number."""

    RACIAL_ETHNIC_ORIGIN = "racial_ethnic_origin"
    POLITICAL_OPINIONS = "political_opinions"
    RELIGIOUS_BELIEFS = "religious_beliefs"
    TRADE_UNION = "trade_union"
    GENETIC = "genetic"
    BIOMETRIC = "biometric"
    HEALTH = "health"
    SEX_LIFE = "sex_life"
    CRIMINAL = "criminal"
    NIR = "nir"


# Only these need an Article 9(2) condition; offences (Art. 10) and the NIR have own rules.
ARTICLE_9 = frozenset(SpecialCategory) - {SpecialCategory.CRIMINAL, SpecialCategory.NIR}


class RecipientKind(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"
    PROCESSOR = "processor"


class TransferSafeguard(StrEnum):
    """Chapter V GDPR: what makes a transfer outside the EU lawful."""

    ADEQUACY = "adequacy"
    STANDARD_CLAUSES = "standard_clauses"
    BINDING_CORPORATE_RULES = "bcr"
    CODE_OF_CONDUCT = "code_of_conduct"
    CERTIFICATION = "certification"
    DEROGATION = "derogation"


class DurationUnit(StrEnum):
    DAYS = "days"
    MONTHS = "months"
    YEARS = "years"


class StartEvent(StrEnum):
    """From when a retention duration is counted: one fixed list for the register and for
    retention (retention/rules.py), never free text."""

    CREATED = "created"  # creation of the record: each stored version, from its creation
    UPDATED = "updated"  # last update of the data (the newest version)
    RELATIONSHIP_END = "relationship_end"  # end of the relationship or contract (a date)
    FILE_CLOSED = "file_closed"  # closure of the file (a date)
    DATE_COLUMN = "date_column"  # a date column of the data: row by row


class FinalFate(StrEnum):
    """What happens at the end of the retention period (sort final)."""

    ARCHIVES = "archives"
    DESTRUCTION = "destruction"
    SORTING = "sorting"
    ANONYMISATION = "anonymisation"


class SecurityMeasure(StrEnum):
    ACCESS_CONTROL = "access_control"
    TRACEABILITY = "traceability"
    SOFTWARE_PROTECTION = "software_protection"
    BACKUP = "backup"
    ENCRYPTION = "encryption"
    PROCESSOR_CONTROL = "processor_control"
    OTHER = "other"


class DataSource(StrEnum):
    DATA_SUBJECT = "data_subject"
    OTHER_ADMINISTRATION = "other_administration"
    THIRD_PARTY = "third_party"
    PUBLIC_SOURCE = "public_source"
    GENERATED = "generated"


class DpiaCriterion(StrEnum):
    """The nine criteria of the CNIL (EDPB WP248 rev.01)."""

    EVALUATION_SCORING = "evaluation_scoring"
    AUTOMATED_DECISION = "automated_decision"
    SYSTEMATIC_MONITORING = "systematic_monitoring"
    SENSITIVE_DATA = "sensitive_data"
    LARGE_SCALE = "large_scale"
    MATCHING_DATASETS = "matching_datasets"
    VULNERABLE_PERSONS = "vulnerable_persons"
    INNOVATIVE_USE = "innovative_use"
    PREVENTS_RIGHT = "prevents_right"


class DpiaDecision(StrEnum):
    PENDING = "pending"
    FAVOURABLE = "favourable"
    FAVOURABLE_WITH_RESERVATIONS = "favourable_with_reservations"
    UNFAVOURABLE = "unfavourable"


class RiskKind(StrEnum):
    """The three risks of the CNIL's PIA method."""

    ILLEGITIMATE_ACCESS = "illegitimate_access"
    UNWANTED_MODIFICATION = "unwanted_modification"
    DISAPPEARANCE = "disappearance"


class RequestKind(StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    OBJECTION = "objection"
    RESTRICTION = "restriction"
    PORTABILITY = "portability"
    AUTOMATED_DECISION = "automated_decision"
    CONSENT_WITHDRAWAL = "consent_withdrawal"


class RequestStatus(StrEnum):
    RECEIVED = "received"
    AWAITING_IDENTITY = "awaiting_identity"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


CLOSED_REQUEST_STATUSES = frozenset(
    {RequestStatus.ANSWERED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN})


class BreachNature(StrEnum):
    CONFIDENTIALITY = "confidentiality"
    INTEGRITY = "integrity"
    AVAILABILITY = "availability"


class BreachRisk(StrEnum):
    """The controller's assessment, which decides Art. 33 (CNIL) and Art. 34 (persons)."""

    TO_ASSESS = "to_assess"
    UNLIKELY = "unlikely"
    RISK = "risk"
    HIGH = "high"


_LABELS: dict[type[StrEnum], dict[StrEnum, str]] = {
    ActivityStatus: {
        ActivityStatus.DRAFT: "Brouillon",
        ActivityStatus.ACTIVE: "En cours",
        ActivityStatus.ENDED: "Terminé",
    },
    LegalBasis: {
        LegalBasis.CONSENT: "Consentement",
        LegalBasis.CONTRACT: "Exécution d'un contrat",
        LegalBasis.LEGAL_OBLIGATION: "Obligation légale",
        LegalBasis.VITAL_INTERESTS: "Sauvegarde des intérêts vitaux",
        LegalBasis.PUBLIC_TASK: "Mission d'intérêt public",
        LegalBasis.LEGITIMATE_INTERESTS: "Intérêt légitime",
    },
    Art9Condition: {
        Art9Condition.EXPLICIT_CONSENT: "9.2.a Consentement explicite",
        Art9Condition.EMPLOYMENT_SOCIAL_SECURITY: "9.2.b Droit du travail et protection sociale",
        Art9Condition.VITAL_INTERESTS: "9.2.c Intérêts vitaux",
        Art9Condition.NOT_FOR_PROFIT_BODY: "9.2.d Organisme à but non lucratif",
        Art9Condition.MADE_PUBLIC: "9.2.e Données rendues publiques par la personne",
        Art9Condition.LEGAL_CLAIMS: "9.2.f Droits en justice",
        Art9Condition.SUBSTANTIAL_PUBLIC_INTEREST: "9.2.g Intérêt public important",
        Art9Condition.HEALTH_SOCIAL_CARE: "9.2.h Médecine, prise en charge sanitaire ou sociale",
        Art9Condition.PUBLIC_HEALTH: "9.2.i Santé publique",
        Art9Condition.ARCHIVING_RESEARCH_STATISTICS: "9.2.j Archives, recherche, statistiques",
    },
    DataCategory: {
        DataCategory.IDENTITY: "État civil, identité, données d'identification, images",
        DataCategory.PERSONAL_LIFE: "Vie personnelle",
        DataCategory.PROFESSIONAL_LIFE: "Vie professionnelle",
        DataCategory.ECONOMIC_FINANCIAL: "Informations d'ordre économique et financier",
        DataCategory.CONNECTION: "Données de connexion",
        DataCategory.LOCATION: "Données de localisation",
        DataCategory.INTERNET: "Internet (cookies, traceurs)",
        DataCategory.OTHER: "Autres catégories de données",
    },
    SpecialCategory: {
        SpecialCategory.RACIAL_ETHNIC_ORIGIN: "Origine raciale ou ethnique",
        SpecialCategory.POLITICAL_OPINIONS: "Opinions politiques",
        SpecialCategory.RELIGIOUS_BELIEFS: "Convictions religieuses ou philosophiques",
        SpecialCategory.TRADE_UNION: "Appartenance syndicale",
        SpecialCategory.GENETIC: "Données génétiques",
        SpecialCategory.BIOMETRIC: "Données biométriques",
        SpecialCategory.HEALTH: "Données de santé",
        SpecialCategory.SEX_LIFE: "Vie sexuelle ou orientation sexuelle",
        SpecialCategory.CRIMINAL: "Condamnations pénales et infractions",
        SpecialCategory.NIR: "Numéro de sécurité sociale (NIR)",
    },
    RecipientKind: {
        RecipientKind.INTERNAL: "Interne",
        RecipientKind.EXTERNAL: "Organisme externe",
        RecipientKind.PROCESSOR: "Sous-traitant",
    },
    TransferSafeguard: {
        TransferSafeguard.ADEQUACY: "Pays adéquat",
        TransferSafeguard.STANDARD_CLAUSES: "Clauses contractuelles types",
        TransferSafeguard.BINDING_CORPORATE_RULES: "Règles d'entreprise contraignantes",
        TransferSafeguard.CODE_OF_CONDUCT: "Code de conduite",
        TransferSafeguard.CERTIFICATION: "Certification",
        TransferSafeguard.DEROGATION: "Dérogation (article 49)",
    },
    StartEvent: {
        StartEvent.CREATED: "la création de l'enregistrement",
        StartEvent.UPDATED: "la dernière mise à jour",
        StartEvent.RELATIONSHIP_END: "la fin de la relation ou du contrat",
        StartEvent.FILE_CLOSED: "la clôture du dossier",
        StartEvent.DATE_COLUMN: "la date portée par chaque ligne",
    },
    DurationUnit: {
        DurationUnit.DAYS: "jours",
        DurationUnit.MONTHS: "mois",
        DurationUnit.YEARS: "ans",
    },
    FinalFate: {
        FinalFate.ARCHIVES: "Versement aux archives",
        FinalFate.DESTRUCTION: "Destruction",
        FinalFate.SORTING: "Tri",
        FinalFate.ANONYMISATION: "Anonymisation",
    },
    SecurityMeasure: {
        SecurityMeasure.ACCESS_CONTROL: "Contrôle d'accès des utilisateurs",
        SecurityMeasure.TRACEABILITY: "Mesures de traçabilité",
        SecurityMeasure.SOFTWARE_PROTECTION: "Mesures de protection des logiciels",
        SecurityMeasure.BACKUP: "Sauvegarde des données",
        SecurityMeasure.ENCRYPTION: "Chiffrement des données",
        SecurityMeasure.PROCESSOR_CONTROL: "Contrôle des sous-traitants",
        SecurityMeasure.OTHER: "Autres mesures",
    },
    DataSource: {
        DataSource.DATA_SUBJECT: "Personne concernée",
        DataSource.OTHER_ADMINISTRATION: "Autre administration",
        DataSource.THIRD_PARTY: "Tiers",
        DataSource.PUBLIC_SOURCE: "Source publique",
        DataSource.GENERATED: "Produites par le traitement",
    },
    DpiaCriterion: {
        DpiaCriterion.EVALUATION_SCORING: "Évaluation ou notation",
        DpiaCriterion.AUTOMATED_DECISION: "Décision automatisée avec effet juridique",
        DpiaCriterion.SYSTEMATIC_MONITORING: "Surveillance systématique",
        DpiaCriterion.SENSITIVE_DATA: "Données sensibles ou hautement personnelles",
        DpiaCriterion.LARGE_SCALE: "Traitement à grande échelle",
        DpiaCriterion.MATCHING_DATASETS: "Croisement ou combinaison de données",
        DpiaCriterion.VULNERABLE_PERSONS: "Personnes vulnérables",
        DpiaCriterion.INNOVATIVE_USE: "Usage innovant ou nouvelle technologie",
        DpiaCriterion.PREVENTS_RIGHT: "Exclusion du bénéfice d'un droit ou d'un contrat",
    },
    DpiaDecision: {
        DpiaDecision.PENDING: "En cours",
        DpiaDecision.FAVOURABLE: "Favorable",
        DpiaDecision.FAVOURABLE_WITH_RESERVATIONS: "Favorable avec réserves",
        DpiaDecision.UNFAVOURABLE: "Défavorable",
    },
    RiskKind: {
        RiskKind.ILLEGITIMATE_ACCESS: "Accès illégitime à des données",
        RiskKind.UNWANTED_MODIFICATION: "Modification non désirée de données",
        RiskKind.DISAPPEARANCE: "Disparition de données",
    },
    RequestKind: {
        RequestKind.ACCESS: "Accès",
        RequestKind.RECTIFICATION: "Rectification",
        RequestKind.ERASURE: "Effacement",
        RequestKind.OBJECTION: "Opposition",
        RequestKind.RESTRICTION: "Limitation",
        RequestKind.PORTABILITY: "Portabilité",
        RequestKind.AUTOMATED_DECISION: "Décision automatisée",
        RequestKind.CONSENT_WITHDRAWAL: "Retrait du consentement",
    },
    RequestStatus: {
        RequestStatus.RECEIVED: "Reçue",
        RequestStatus.AWAITING_IDENTITY: "En attente de justificatif d'identité",
        RequestStatus.IN_PROGRESS: "En cours de traitement",
        RequestStatus.ANSWERED: "Répondue",
        RequestStatus.REFUSED: "Refusée",
        RequestStatus.WITHDRAWN: "Retirée par la personne",
    },
    BreachNature: {
        BreachNature.CONFIDENTIALITY: "Confidentialité",
        BreachNature.INTEGRITY: "Intégrité",
        BreachNature.AVAILABILITY: "Disponibilité",
    },
    BreachRisk: {
        BreachRisk.TO_ASSESS: "À évaluer",
        BreachRisk.UNLIKELY: "Risque peu probable",
        BreachRisk.RISK: "Risque",
        BreachRisk.HIGH: "Risque élevé",
    },
}

# Folded wordings of starting events met in registers and tableaux de gestion.
_START_WORDS: dict[str, StrEnum] = {
    "creation": StartEvent.CREATED, "collecte": StartEvent.CREATED,
    "enregistrement": StartEvent.CREATED, "saisie": StartEvent.CREATED,
    "mise a jour": StartEvent.UPDATED, "modification": StartEvent.UPDATED,
    "derniere modification": StartEvent.UPDATED, "dernier contact": StartEvent.UPDATED,
    "fin de la relation": StartEvent.RELATIONSHIP_END,
    "fin du contrat": StartEvent.RELATIONSHIP_END,
    "fin de contrat": StartEvent.RELATIONSHIP_END, "fin de relation": StartEvent.RELATIONSHIP_END,
    "depart": StartEvent.RELATIONSHIP_END, "fin de l abonnement": StartEvent.RELATIONSHIP_END,
    "fin de la prise en charge": StartEvent.RELATIONSHIP_END,
    "fin du traitement": StartEvent.RELATIONSHIP_END,
    "cloture": StartEvent.FILE_CLOSED, "cloture du dossier": StartEvent.FILE_CLOSED,
    "fin du dossier": StartEvent.FILE_CLOSED, "fin de l instruction": StartEvent.FILE_CLOSED,
    "date de la ligne": StartEvent.DATE_COLUMN, "colonne de date": StartEvent.DATE_COLUMN,
    # Events of one record, counted from when it was stored.
    "vente": StartEvent.CREATED, "achat": StartEvent.CREATED, "validation": StartEvent.CREATED,
    "connexion": StartEvent.CREATED, "passage": StartEvent.CREATED,
    "emission": StartEvent.CREATED, "releve": StartEvent.CREATED,
    "paiement": StartEvent.CREATED, "transaction": StartEvent.CREATED,
    "reception": StartEvent.CREATED, "depot": StartEvent.CREATED,
    "inscription": StartEvent.CREATED,
    "derniere aide versee": StartEvent.UPDATED, "dernier versement": StartEvent.UPDATED,
    "derniere activite": StartEvent.UPDATED,
    "resiliation": StartEvent.RELATIONSHIP_END, "radiation": StartEvent.RELATIONSHIP_END,
    "fin du service": StartEvent.RELATIONSHIP_END, "fin de fonctions": StartEvent.RELATIONSHIP_END,
    "fin de la scolarite": StartEvent.RELATIONSHIP_END, "deces": StartEvent.RELATIONSHIP_END,
    "decision": StartEvent.FILE_CLOSED, "fin de l exercice": StartEvent.FILE_CLOSED,
    "cloture de l exercice": StartEvent.FILE_CLOSED,
    "fin de l annee scolaire": StartEvent.FILE_CLOSED, "solde": StartEvent.FILE_CLOSED,
    "fin de la procedure": StartEvent.FILE_CLOSED, "achevement": StartEvent.FILE_CLOSED,
}

# Extra words accepted on input (folded), besides labels and values.
_SYNONYMS: dict[type[StrEnum], dict[str, StrEnum]] = {
    StartEvent: _START_WORDS,
    ActivityStatus: {"brouillon": ActivityStatus.DRAFT, "actif": ActivityStatus.ACTIVE,
                     "en production": ActivityStatus.ACTIVE, "clos": ActivityStatus.ENDED,
                     "archive": ActivityStatus.ENDED},
    LegalBasis: {"contrat": LegalBasis.CONTRACT,
                 "mission de service public": LegalBasis.PUBLIC_TASK,
                 "mission d interet public ou exercice de l autorite publique":
                     LegalBasis.PUBLIC_TASK,
                 "interet public": LegalBasis.PUBLIC_TASK,
                 "interets vitaux": LegalBasis.VITAL_INTERESTS,
                 "interets legitimes": LegalBasis.LEGITIMATE_INTERESTS,
                 "6 1 a": LegalBasis.CONSENT, "6 1 b": LegalBasis.CONTRACT,
                 "6 1 c": LegalBasis.LEGAL_OBLIGATION, "6 1 d": LegalBasis.VITAL_INTERESTS,
                 "6 1 e": LegalBasis.PUBLIC_TASK, "6 1 f": LegalBasis.LEGITIMATE_INTERESTS},
    DataCategory: {"etat civil": DataCategory.IDENTITY, "identite": DataCategory.IDENTITY,
                   "economique et financier": DataCategory.ECONOMIC_FINANCIAL,
                   "connexion": DataCategory.CONNECTION, "localisation": DataCategory.LOCATION,
                   "internet": DataCategory.INTERNET, "autres": DataCategory.OTHER,
                   "autre": DataCategory.OTHER},
    SpecialCategory: {"sante": SpecialCategory.HEALTH, "nir": SpecialCategory.NIR,
                      "infractions": SpecialCategory.CRIMINAL,
                      "biometrie": SpecialCategory.BIOMETRIC},
    RecipientKind: {"externe": RecipientKind.EXTERNAL, "sous traitant": RecipientKind.PROCESSOR},
    TransferSafeguard: {"cct": TransferSafeguard.STANDARD_CLAUSES,
                        "bcr": TransferSafeguard.BINDING_CORPORATE_RULES,
                        "decision d adequation": TransferSafeguard.ADEQUACY},
    DurationUnit: {"jour": DurationUnit.DAYS, "j": DurationUnit.DAYS,
                   "an": DurationUnit.YEARS, "annee": DurationUnit.YEARS,
                   "annees": DurationUnit.YEARS},
    FinalFate: {"archives": FinalFate.ARCHIVES, "versement": FinalFate.ARCHIVES,
                "conservation": FinalFate.ARCHIVES, "archivage definitif": FinalFate.ARCHIVES,
                "suppression": FinalFate.DESTRUCTION, "elimination": FinalFate.DESTRUCTION,
                "tri": FinalFate.SORTING, "echantillonnage": FinalFate.SORTING},
    DpiaDecision: {"en attente": DpiaDecision.PENDING},
    RequestStatus: {"repondue": RequestStatus.ANSWERED, "refusee": RequestStatus.REFUSED},
    BreachRisk: {"aucun risque": BreachRisk.UNLIKELY, "eleve": BreachRisk.HIGH},
}

for _kind, _labels in _LABELS.items():
    define(_kind, _labels, _SYNONYMS.get(_kind), found_in_text=_kind is StartEvent)
