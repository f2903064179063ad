"""What a processing activity's own fields say about its DPIA: the criteria they point to, and
the types of processing on the CNIL's list of those that always require a DPIA.

- `proposed_criteria`: the nine criteria of the EDPB guidelines (WP248 rev.01) the CNIL
  applies, read from the entry: special categories (sensitive data), the data subjects and the
  wording of the entry (vulnerable persons, systematic monitoring, evaluation, automated
  decision, exclusion from a right or a service, innovative technology), the number of
  persons concerned (large scale), the sources of the data (matching of datasets). Each
  with the reason, in French, that the DPO reads and confirms by ticking it, or answers with
  a recorded exemption.
- `cnil_mandatory_types`: the types of processing the CNIL lists as always requiring a DPIA
  (deliberation n° 2018-327 of 11 October 2018), recognised from the same fields: a match
  makes the DPIA required whatever the criteria ticked.

Words are matched on the folded text (no accents, lower case) of the entry's name, purpose,
sub-purposes, description, service, data subjects and categories' details, and quoted in the
reasons as the entry wrote them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from patrimoine.core.text import fold
from patrimoine.core.vocabulary import label
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.protection.register.vocabulary import (
    DataCategory,
    DataSource,
    DpiaCriterion,
    SpecialCategory,
)

# No official figure: the EDPB weighs the number of persons, the volume, the duration and the
# geographic extent. For a local authority's register, a processing about this many persons
# is proposed as large scale; the DPO confirms or not.
LARGE_SCALE_SUBJECTS = 5_000


def _words(*patterns: str) -> re.Pattern[str]:
    """Whole words (or word starts ending in `*`) of folded text."""
    parts = [p[:-1] + r"\w*" if p.endswith("*") else p for p in patterns]
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b")


VULNERABLE = _words(
    "enfant*", "mineur*", "eleve*", "collegien*", "lyceen*", "creche*", "petite enfance",
    "personnes? agees?", r"agee?s? de (?:plus de )?[6-9]\d ans", r"plus de [6-9]\d ans",
    "senior*", "retraite*", "ehpad", "residence autonomie", "handicap*",
    "dependance", "dependant*", "apa", "allocation personnalisee d'autonomie", "patient*",
    "malade*", "demandeurs? d'asile", "refugie*", "migrant*", "precarite", "precaire*",
    "sans[- ]abri*", "sans domicile", "tutelle", "curatelle", "majeurs? proteges?",
    "beneficiaires? du rsa", "rsa", "portage de repas", "maintien a domicile")
EMPLOYEES = _words("agents?", "salarie*", "employe*", "personnel", "fonctionnaires?",
                   "stagiaires?", "candidats?")
MONITORING = _words("videoprotection", "video-protection", "videosurveillance", "surveillance",
                    "geolocalisation", "pointage", "badge*", "lecture automatique de plaques",
                    "lapi", "controle d'acces", "tracage", "suivi des deplacements")
EVALUATION = _words("score*", "scoring", "notation", "profilage", "profil*", "prediction*",
                    "predictif*", "evaluation des", "cotation")
AUTOMATED = _words("decisions? automatique*", "decisions? automatisee*", "automatise*",
                   "sans intervention humaine")
EXCLUSION = _words("attribution", "eligibilite", "instruction des demandes", "exclusion*",
                   "suspension*", "refus", "sanction*", "radiation*")
INNOVATIVE = _words("intelligence artificielle", "ia", "apprentissage automatique",
                    "reconnaissance faciale", "biometri*", "objets? connectes?", "capteurs?",
                    "drones?", "algorithme*")
MATCHING = _words("croisement*", "rapprochement*", "interconnexion*", "appariement*",
                  "fusion de fichiers", "mise en relation des fichiers")


class Folded(str):
    """Folded text that remembers where each of its characters came from, so that a word
    found in it is quoted as the entry wrote it."""

    source: str
    origins: list[int]

    def __new__(cls, text: str) -> Folded:
        parts, origins = [], []
        for i, char in enumerate(text):
            folded = fold(char)
            parts.append(folded)
            origins.extend([i] * len(folded))
        made = super().__new__(cls, "".join(parts))
        made.source, made.origins = text, origins
        return made

    def quote(self, match: re.Match[str]) -> str:
        return self.source[self.origins[match.start()]:self.origins[match.end() - 1] + 1]


@dataclass(frozen=True)
class Facts:
    """What the rules read of an entry."""

    text: Folded  # the wording of the entry
    subjects: Folded  # its data subjects
    special: frozenset[str]
    categories: frozenset[str]
    sources: frozenset[str]
    subjects_count: int | None

    @property
    def vulnerable(self) -> bool:
        return bool(VULNERABLE.search(self.text) or VULNERABLE.search(self.subjects))

    @property
    def large_scale(self) -> bool:
        return (self.subjects_count or 0) >= LARGE_SCALE_SUBJECTS


def facts(activity: ProcessingActivity) -> Facts:
    wording = [activity.name, activity.purpose, activity.description, activity.department or "",
               *(activity.sub_purposes or []), *(activity.data_subjects or []),
               *(str(c.get("details") or "") for c in activity.data_categories or [])]
    return Facts(
        text=Folded(" ".join(w for w in wording if w)),
        subjects=Folded(" ".join(activity.data_subjects or [])),
        special=frozenset(activity.special_categories or []),
        categories=frozenset(str(c.get("category")) for c in activity.data_categories or []),
        sources=frozenset(activity.data_sources or []),
        subjects_count=activity.estimated_data_subjects)


def _found(pattern: re.Pattern[str], text: Folded) -> str | None:
    match = pattern.search(text)
    return text.quote(match) if match else None


def _special_labels(special: frozenset[str]) -> str:
    return ", ".join(label(SpecialCategory(s)).lower() for s in sorted(special))


def proposed_criteria(activity: ProcessingActivity) -> dict[DpiaCriterion, str]:
    """The criteria the entry's fields point to, each with its reason in French."""
    f = facts(activity)
    out: dict[DpiaCriterion, str] = {}
    if f.special:
        out[DpiaCriterion.SENSITIVE_DATA] = ("catégories particulières déclarées : "
                                             + _special_labels(f.special))
    word = _found(VULNERABLE, f.subjects) or _found(VULNERABLE, f.text)
    if word:
        out[DpiaCriterion.VULNERABLE_PERSONS] = f"personnes vulnérables (« {word} »)"
    elif employee := _found(EMPLOYEES, f.subjects):
        out[DpiaCriterion.VULNERABLE_PERSONS] = ("personnes concernées en situation de "
                                                 f"dépendance (« {employee} »)")
    if f.large_scale:
        out[DpiaCriterion.LARGE_SCALE] = (f"{f.subjects_count} personnes concernées "
                                          f"(à partir de {LARGE_SCALE_SUBJECTS})")
    if word := _found(MONITORING, f.text):
        out[DpiaCriterion.SYSTEMATIC_MONITORING] = f"surveillance systématique (« {word} »)"
    if word := _found(EVALUATION, f.text):
        out[DpiaCriterion.EVALUATION_SCORING] = f"évaluation ou notation (« {word} »)"
    if word := _found(AUTOMATED, f.text):
        out[DpiaCriterion.AUTOMATED_DECISION] = f"décision automatisée (« {word} »)"
    if word := _found(EXCLUSION, f.text):
        out[DpiaCriterion.PREVENTS_RIGHT] = ("décide de l'accès à un droit, un service ou "
                                             f"un contrat (« {word} »)")
    if SpecialCategory.BIOMETRIC in f.special:
        out[DpiaCriterion.INNOVATIVE_USE] = "données biométriques"
    elif word := _found(INNOVATIVE, f.text):
        out[DpiaCriterion.INNOVATIVE_USE] = f"technologie innovante (« {word} »)"
    other = f.sources & {DataSource.OTHER_ADMINISTRATION, DataSource.THIRD_PARTY}
    if word := _found(MATCHING, f.text):
        out[DpiaCriterion.MATCHING_DATASETS] = f"croisement de données (« {word} »)"
    elif other and len(f.sources) >= 2:
        out[DpiaCriterion.MATCHING_DATASETS] = ("données de la personne croisées avec celles "
                                                "d'une autre administration ou d'un tiers")
    return {c: out[c] for c in DpiaCriterion if c in out}


@dataclass(frozen=True)
class MandatoryType:
    """A type of processing of the CNIL's list (deliberation 2018-327), as it words it."""

    number: int
    label: str
    applies: Callable[[Facts], bool]


HEALTH_CARE = _words("etablissements? de sante", "hopita*", "clinique*", "ehpad",
                     "medico-soci*", "centres? de sante", "ssiad", "soins", "prise en charge")
ALERTS = _words("signalement*", "alertes?", "informations? preoccupantes?")
SOCIAL_HEALTH = _words("soci*", "sanitaire*", "enfance", "maltraitance", "sante")
PROFESSIONAL_ALERTS = _words("lanceurs? d'alerte", "alertes? professionnel*",
                             "signalements? professionnel*")
WAREHOUSE = _words("entrepots? de donnees", "registres? de sante", "registres? des cancers",
                   "cohorte*")
HR = _words("ressources humaines", "gestion du personnel", "recrutement*", "carrieres?",
            "entretiens? professionnels?", "evaluation des agents")
CONTRACT_END = _words("exclusion*", "suspension*", "rupture*", "resiliation*")
BREACHES = _words("manquements?", "impayes?", "liste noire", "incidents de paiement")
SOCIAL_HOUSING = _words("logements? soci*", "habitat social", "attribution de logements?",
                        "demandes? de logement")
SOCIAL_SUPPORT = _words("accompagnement social", "accompagnement medico-social",
                        "medico-soci*", "action sociale", "aide sociale", "aides sociales",
                        "ccas", "cias", "portage de repas", "maintien a domicile",
                        "aide a domicile", "insertion", "rsa", "protection de l'enfance",
                        "apa", "allocation personnalisee d'autonomie", "suivi social")

CNIL_MANDATORY: tuple[MandatoryType, ...] = (
    MandatoryType(1, "Traitements de données de santé mis en œuvre par les établissements de "
                     "santé ou médico-sociaux pour la prise en charge des personnes",
                  lambda f: SpecialCategory.HEALTH in f.special
                  and bool(HEALTH_CARE.search(f.text))),
    MandatoryType(2, "Traitements portant sur des données génétiques de personnes dites "
                     "« vulnérables »",
                  lambda f: SpecialCategory.GENETIC in f.special and f.vulnerable),
    MandatoryType(3, "Traitements établissant des profils de personnes physiques à des fins "
                     "de gestion des ressources humaines",
                  lambda f: bool(HR.search(f.text)) and bool(EVALUATION.search(f.text))),
    MandatoryType(4, "Traitements ayant pour finalité de surveiller de manière constante "
                     "l'activité des employés concernés",
                  lambda f: bool(MONITORING.search(f.text))
                  and bool(EMPLOYEES.search(f.subjects))),
    MandatoryType(5, "Traitements ayant pour finalité la gestion des alertes et des "
                     "signalements en matière sociale et sanitaire",
                  lambda f: bool(ALERTS.search(f.text)) and bool(SOCIAL_HEALTH.search(f.text))),
    MandatoryType(6, "Traitements ayant pour finalité la gestion des alertes et des "
                     "signalements en matière professionnelle",
                  lambda f: bool(PROFESSIONAL_ALERTS.search(f.text))),
    MandatoryType(7, "Traitements des données de santé nécessaires à la constitution d'un "
                     "entrepôt de données ou d'un registre",
                  lambda f: SpecialCategory.HEALTH in f.special
                  and bool(WAREHOUSE.search(f.text))),
    MandatoryType(8, "Traitements impliquant le profilage des personnes pouvant aboutir à "
                     "leur exclusion du bénéfice d'un contrat ou à la suspension voire à la "
                     "rupture de celui-ci",
                  lambda f: bool(EVALUATION.search(f.text))
                  and bool(CONTRACT_END.search(f.text))),
    MandatoryType(9, "Traitements mutualisés de manquements contractuels constatés, "
                     "susceptibles d'aboutir à une décision d'exclusion ou de suspension du "
                     "bénéfice d'un contrat",
                  lambda f: bool(BREACHES.search(f.text)) and bool(CONTRACT_END.search(f.text))),
    MandatoryType(10, "Traitements de profilage faisant appel à des données provenant de "
                      "sources externes",
                  lambda f: bool(_words("profilage", "profil*").search(f.text))
                  and bool(f.sources & {DataSource.THIRD_PARTY, DataSource.PUBLIC_SOURCE})),
    MandatoryType(11, "Traitements de données biométriques aux fins de reconnaissance des "
                      "personnes parmi lesquelles figurent des personnes dites « vulnérables »",
                  lambda f: SpecialCategory.BIOMETRIC in f.special and f.vulnerable),
    MandatoryType(12, "Instruction des demandes et gestion des logements sociaux",
                  lambda f: bool(SOCIAL_HOUSING.search(f.text))),
    MandatoryType(13, "Traitements ayant pour finalité l'accompagnement social ou "
                      "médico-social des personnes",
                  lambda f: bool(SOCIAL_SUPPORT.search(f.text))),
    MandatoryType(14, "Traitements de données de localisation à large échelle",
                  lambda f: DataCategory.LOCATION in f.categories and f.large_scale),
)


def cnil_mandatory_types(activity: ProcessingActivity) -> list[MandatoryType]:
    """The types of the CNIL's list the entry is recognised as."""
    f = facts(activity)
    return [t for t in CNIL_MANDATORY if t.applies(f)]
