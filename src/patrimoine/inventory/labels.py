"""French labels of the inventory's values, and the words users write for them."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from patrimoine.core.text import key
from patrimoine.inventory.models import (
    AccessLevel,
    LifecycleStage,
    OrganisationKind,
    Source,
    UpdateFrequency,
    YesNoUndefined,
)

LABELS: dict[type[StrEnum], dict[StrEnum, str]] = {
    Source: {
        Source.INTERNAL: "Interne",
        Source.EXTERNAL: "Externe",
        Source.BOTH: "Interne/Externe",
    },
    YesNoUndefined: {
        YesNoUndefined.YES: "Oui",
        YesNoUndefined.NO: "Non",
        YesNoUndefined.UNDEFINED: "À définir",
    },
    AccessLevel: {
        AccessLevel.OPEN: "Ouvert",
        AccessLevel.RESTRICTED: "Restreint",
        AccessLevel.INTERNAL: "Interne",
    },
    LifecycleStage: {
        LifecycleStage.COLLECTED: "Collecté",
        LifecycleStage.STORED: "Stocké",
        LifecycleStage.PUBLISHED: "Publié",
        LifecycleStage.ARCHIVED: "Archivé",
        LifecycleStage.DELETED: "Supprimé",
    },
    UpdateFrequency: {
        UpdateFrequency.CONTINUOUS: "En continu",
        UpdateFrequency.DAILY: "Quotidienne",
        UpdateFrequency.WEEKLY: "Hebdomadaire",
        UpdateFrequency.MONTHLY: "Mensuelle",
        UpdateFrequency.QUARTERLY: "Trimestrielle",
        UpdateFrequency.SEMIANNUAL: "Semestrielle",
        UpdateFrequency.ANNUAL: "Annuelle",
        UpdateFrequency.IRREGULAR: "Irrégulière",
        UpdateFrequency.PUNCTUAL: "Ponctuelle",
        UpdateFrequency.UNKNOWN: "Inconnue",
    },
    OrganisationKind: {
        OrganisationKind.METROPOLE: "Métropole",
        OrganisationKind.AGGLOMERATION: "Communauté d'agglomération",
        OrganisationKind.VILLE: "Ville",
        OrganisationKind.COMMUNE: "Commune",
        OrganisationKind.CCAS: "CCAS",
        OrganisationKind.SYNDICAT: "Syndicat",
        OrganisationKind.OTHER: "Autre",
    },
}

# Extra words accepted on input, compared after folding (case, accents, punctuation).
_SYNONYMS: dict[type[StrEnum], dict[str, StrEnum]] = {
    Source: {
        "interne": Source.INTERNAL,
        "internal": Source.INTERNAL,
        "externe": Source.EXTERNAL,
        "external": Source.EXTERNAL,
        "interne externe": Source.BOTH,
        "externe interne": Source.BOTH,
        "interne et externe": Source.BOTH,
        "mixte": Source.BOTH,
        "les deux": Source.BOTH,
        "both": Source.BOTH,
    },
    YesNoUndefined: {
        "oui": YesNoUndefined.YES,
        "o": YesNoUndefined.YES,
        "yes": YesNoUndefined.YES,
        "vrai": YesNoUndefined.YES,
        "x": YesNoUndefined.YES,
        "1": YesNoUndefined.YES,
        "non": YesNoUndefined.NO,
        "n": YesNoUndefined.NO,
        "no": YesNoUndefined.NO,
        "faux": YesNoUndefined.NO,
        "0": YesNoUndefined.NO,
        "a definir": YesNoUndefined.UNDEFINED,
        "a determiner": YesNoUndefined.UNDEFINED,
        "a preciser": YesNoUndefined.UNDEFINED,
        "ne sait pas": YesNoUndefined.UNDEFINED,
        "nsp": YesNoUndefined.UNDEFINED,
        "inconnu": YesNoUndefined.UNDEFINED,
        "undefined": YesNoUndefined.UNDEFINED,
        "": YesNoUndefined.UNDEFINED,
    },
    AccessLevel: {
        "ouvert": AccessLevel.OPEN,
        "open": AccessLevel.OPEN,
        "public": AccessLevel.OPEN,
        "open data": AccessLevel.OPEN,
        "restreint": AccessLevel.RESTRICTED,
        "restricted": AccessLevel.RESTRICTED,
        "ferme": AccessLevel.RESTRICTED,
        "closed data": AccessLevel.RESTRICTED,
        "interne": AccessLevel.INTERNAL,
        "internal": AccessLevel.INTERNAL,
    },
    UpdateFrequency: {
        "continu": UpdateFrequency.CONTINUOUS,
        "en continu": UpdateFrequency.CONTINUOUS,
        "temps reel": UpdateFrequency.CONTINUOUS,
        "au fil de l eau": UpdateFrequency.CONTINUOUS,
        "quotidien": UpdateFrequency.DAILY,
        "quotidienne": UpdateFrequency.DAILY,
        "journalier": UpdateFrequency.DAILY,
        "journaliere": UpdateFrequency.DAILY,
        "tous les jours": UpdateFrequency.DAILY,
        "hebdomadaire": UpdateFrequency.WEEKLY,
        "chaque semaine": UpdateFrequency.WEEKLY,
        "mensuel": UpdateFrequency.MONTHLY,
        "mensuelle": UpdateFrequency.MONTHLY,
        "chaque mois": UpdateFrequency.MONTHLY,
        "trimestriel": UpdateFrequency.QUARTERLY,
        "trimestrielle": UpdateFrequency.QUARTERLY,
        "semestriel": UpdateFrequency.SEMIANNUAL,
        "semestrielle": UpdateFrequency.SEMIANNUAL,
        "2 fois par an": UpdateFrequency.SEMIANNUAL,
        "annuel": UpdateFrequency.ANNUAL,
        "annuelle": UpdateFrequency.ANNUAL,
        "chaque annee": UpdateFrequency.ANNUAL,
        "une fois par an": UpdateFrequency.ANNUAL,
        "irregulier": UpdateFrequency.IRREGULAR,
        "irreguliere": UpdateFrequency.IRREGULAR,
        "variable": UpdateFrequency.IRREGULAR,
        "a la demande": UpdateFrequency.IRREGULAR,
        "ponctuel": UpdateFrequency.PUNCTUAL,
        "ponctuelle": UpdateFrequency.PUNCTUAL,
        "unique": UpdateFrequency.PUNCTUAL,
        "aucune": UpdateFrequency.PUNCTUAL,
        "jamais": UpdateFrequency.PUNCTUAL,
        "inconnue": UpdateFrequency.UNKNOWN,
        "inconnu": UpdateFrequency.UNKNOWN,
        "a definir": UpdateFrequency.UNKNOWN,
        "": UpdateFrequency.UNKNOWN,
    },
}


def label(value: StrEnum | None) -> str:
    if value is None:
        return "Non renseigné"
    return LABELS[type(value)][value]


def choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    """(value, French label) pairs for forms and facets."""
    return [(m.value, LABELS[enum][m]) for m in enum]


E = TypeVar("E", bound=StrEnum)


def parse(enum: type[E], raw: str) -> E | None:
    """The member a user meant by `raw` (a label, a value or a synonym), else None."""
    k = key(raw)
    labels = LABELS[enum]
    for member in enum:
        if key(labels[member]) == k or member.value == k:
            return member
    found = _SYNONYMS.get(enum, {}).get(k)
    return None if found is None else enum(found)


def accepted_words(enum: type[StrEnum]) -> str:
    return ", ".join(LABELS[enum].values())
