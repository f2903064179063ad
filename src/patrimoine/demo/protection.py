"""Demo content of the GDPR register: processing activities of each organisation (the usual
ones of a métropole, a ville, a CCAS and small communes), their DPIAs (some required ones
missing, one exempted), rights requests (some answered late, some overdue, an extension,
a refusal) and breaches (one notified, one whose 72 hours are running, one without risk).

Dates of requests and breaches are counted back from today, so the clocks show overdue and
running items whenever the demo is loaded. Its step is listed in demo/loader.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from patrimoine.core.clock import now
from patrimoine.core.text import fold
from patrimoine.demo.territory import CCAS, COMMUNES, METROPOLE, VILLE, DemoContext
from patrimoine.inventory.models import Dataset
from patrimoine.protection import breaches, dpia, rights_requests
from patrimoine.protection.breaches import BreachInput
from patrimoine.protection.dpia import DpiaInput
from patrimoine.protection.register import service as register
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.protection.register.service import ActivityInput
from patrimoine.protection.register.vocabulary import StartEvent
from patrimoine.protection.rights_requests import COMPLAINT_MENTION, RequestInput

DPO_NAME, DPO_CONTACT = "Nadia Benali", "dpo@valdeloire.example"


def _keep(n: int, unit: str, start: StartEvent, fate: str, category: str | None = None,
          ref: str | None = None) -> dict[str, Any]:
    return {"data_category": category, "duration": n, "unit": unit, "start_event": start.value,
            "final_fate": fate, "legal_reference": ref}


@dataclass(frozen=True)
class Spec:
    name: str
    department: str
    purpose: str
    basis: str
    subjects: tuple[str, ...]
    categories: tuple[str, ...]
    retention: tuple[dict[str, Any], ...]
    special: tuple[str, ...] = ()
    art9: str | None = None
    criteria: tuple[str, ...] = ()
    processors: tuple[tuple[str, str | None], ...] = ()
    recipients: tuple[tuple[str, str], ...] = (("Agents du service", "internal"),)
    sources: tuple[str, ...] = ("data_subject",)
    applications: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # folded words of linked inventory titles
    estimated: int | None = None
    basis_details: str | None = None
    exemption: str | None = None
    transfers: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


_STANDARD_SECURITY = ({"measure": "access_control", "details": "Habilitations par profil"},
                      {"measure": "traceability"}, {"measure": "backup"})

HR = Spec(
    "Gestion administrative du personnel", "Ressources humaines",
    "Gérer la carrière, la paie et la formation des agents", "legal_obligation",
    ("Agents", "Candidats", "Élus indemnisés"),
    ("identity", "professional_life", "economic_financial"),
    (_keep(5, "years", StartEvent.RELATIONSHIP_END, "archives", "identity",
           "Instruction DPACI/RES/2009/018"),
     _keep(5, "years", StartEvent.FILE_CLOSED, "destruction", "economic_financial"),
     _keep(2, "years", StartEvent.RELATIONSHIP_END, "sorting", "professional_life")),
    special=("health", "nir", "trade_union"), art9="b", criteria=("sensitive_data",),
    processors=(("Éditeur du SIRH", "MAR-2022-031"),),
    recipients=(("Service paie", "internal"), ("Comptable public", "external"),
                ("Centre de gestion", "external")),
    applications=("SIRH", "Logiciel de paie"),
    keywords=("effectif", "absenteisme", "recrutement", "remuneration", "formations suivies"),
    basis_details="Code général de la fonction publique",
    exemption="Liste de la CNIL des traitements dispensés d'AIPD : gestion des ressources "
              "humaines (délibération n° 2019-118).")
CIVIL = Spec(
    "Tenue de l'état civil", "Population et citoyenneté",
    "Établir et conserver les actes de naissance, de mariage et de décès", "legal_obligation",
    ("Administrés",), ("identity", "personal_life"),
    (_keep(75, "years", StartEvent.FILE_CLOSED, "archives", None, "Code civil, art. 40"),),
    applications=("Logiciel d'état civil", "COMEDEC"),
    recipients=(("Officiers d'état civil", "internal"), ("INSEE", "external")),
    keywords=("etat civil", "cartes d identite"), basis_details="Code civil")
ELECTIONS = Spec(
    "Listes électorales", "Population et citoyenneté",
    "Tenir les listes électorales dans le répertoire électoral unique", "legal_obligation",
    ("Électeurs",), ("identity", "location"),
    (_keep(1, "years", StartEvent.RELATIONSHIP_END, "destruction", None,
           "Code électoral, R. 16"),),
    recipients=(("INSEE (REU)", "external"), ("Candidats aux élections", "external")),
    keywords=("listes electorales",), applications=("REU",), basis_details="Code électoral")
SCHOOL = Spec(
    "Inscriptions scolaires et périscolaires", "Éducation - Enfance",
    "Inscrire les enfants à l'école, à la cantine et aux accueils périscolaires", "public_task",
    ("Enfants", "Responsables légaux"), ("identity", "personal_life", "economic_financial"),
    (_keep(1, "years", StartEvent.FILE_CLOSED, "destruction", "identity"),
     _keep(1, "years", StartEvent.FILE_CLOSED, "destruction", "personal_life"),
     _keep(10, "years", StartEvent.CREATED, "destruction", "economic_financial")),
    special=("health",), art9="h", criteria=("vulnerable_persons", "sensitive_data"),
    processors=(("Éditeur du portail famille", "MAR-2023-008"),),
    applications=("Portail famille",), keywords=("scolaire", "creche", "centres de loisirs"),
    estimated=3200)
CEMETERY = Spec(
    "Gestion des cimetières", "Services techniques",
    "Attribuer et suivre les concessions funéraires", "public_task",
    ("Concessionnaires", "Défunts"), ("identity", "economic_financial"),
    (_keep(10, "years", StartEvent.RELATIONSHIP_END, "archives"),),
    keywords=("cimetiere", "concession"))
VIDEO = Spec(
    "Vidéoprotection de la voie publique", "Prévention - Sécurité",
    "Prévenir les atteintes aux personnes et aux biens sur la voie publique", "public_task",
    ("Passants", "Automobilistes"), ("identity", "location"),
    (_keep(30, "days", StartEvent.CREATED, "destruction", None,
           "Code de la sécurité intérieure, L. 252-5"),),
    criteria=("systematic_monitoring", "large_scale"), recipients=(
        ("Centre de supervision urbain", "internal"), ("Police nationale", "external")),
    applications=("Superviseur vidéo",), estimated=150000,
    basis_details="Code de la sécurité intérieure, L. 251-2")
POLICE = Spec(
    "Procès-verbaux et mains courantes de la police municipale", "Prévention - Sécurité",
    "Constater les infractions et consigner les interventions", "legal_obligation",
    ("Contrevenants", "Plaignants", "Témoins"), ("identity", "location"),
    (_keep(5, "years", StartEvent.FILE_CLOSED, "destruction"),),
    special=("criminal",), criteria=("sensitive_data",),
    recipients=(("Officier du ministère public", "external"),),
    keywords=("mains courantes", "verbalisations", "fourriere"), applications=("Logiciel PM",))
SOCIAL_AID = Spec(
    "Aides sociales facultatives", "Action sociale",
    "Instruire et attribuer les aides facultatives du CCAS", "public_task",
    ("Demandeurs", "Membres du foyer"), ("identity", "personal_life", "economic_financial"),
    (_keep(5, "years", StartEvent.UPDATED, "archives", "identity"),
     _keep(5, "years", StartEvent.UPDATED, "destruction", "personal_life"),
     _keep(10, "years", StartEvent.CREATED, "destruction", "economic_financial")),
    special=("health", "nir"), art9="h",
    criteria=("vulnerable_persons", "sensitive_data", "evaluation_scoring"),
    processors=(("Éditeur du logiciel d'action sociale", "MAR-2021-044"),),
    sources=("data_subject", "other_administration"),
    keywords=("aides sociales", "domiciliations", "aide alimentaire"),
    applications=("Logiciel d'action sociale",), estimated=2400)
HEATWAVE = Spec(
    "Registre des personnes vulnérables (plan canicule)", "Action sociale",
    "Contacter les personnes isolées en cas d'alerte canicule ou grand froid", "consent",
    ("Personnes âgées", "Personnes handicapées"), ("identity", "personal_life"),
    (_keep(1, "years", StartEvent.CREATED, "destruction"),),
    special=("health",), art9="a", criteria=("vulnerable_persons",),
    recipients=(("Préfet (sur demande en cas d'alerte)", "external"),),
    keywords=("seniors",), basis_details="Code de l'action sociale et des familles, L. 121-6-1")
MEALS = Spec(
    "Portage de repas à domicile", "Action sociale",
    "Livrer des repas aux personnes âgées ou handicapées", "public_task",
    ("Bénéficiaires",), ("identity", "personal_life", "economic_financial"),
    (_keep(2, "years", StartEvent.RELATIONSHIP_END, "destruction"),),
    special=("health",), art9="h", processors=(("Traiteur livreur", None),),
    keywords=("portages de repas", "teleassistance"))
TRANSPORT = Spec(
    "Billettique et abonnements du réseau de transport", "Mobilités",
    "Vendre et contrôler les titres de transport", "contract",
    ("Voyageurs",), ("identity", "economic_financial", "location", "connection"),
    (_keep(2, "years", StartEvent.RELATIONSHIP_END, "destruction", "identity"),
     _keep(10, "years", StartEvent.CREATED, "destruction", "economic_financial"),
     _keep(48, "days", StartEvent.CREATED, "anonymisation", "location"),
     _keep(1, "years", StartEvent.CREATED, "destruction", "connection")),
    criteria=("large_scale", "matching_datasets"),
    processors=(("Délégataire du réseau de transport", "DSP-2020-001"),
                ("Prestataire billettique", "MAR-2020-019")),
    applications=("Système billettique",), keywords=("transport",), estimated=85000,
    transfers=({"recipient": "Support du prestataire billettique", "country": "Canada",
                "safeguard": "adequacy", "details": "Télémaintenance"},))
WASTE = Spec(
    "Accès aux déchèteries par badge", "Gestion et prévention des déchets",
    "Contrôler l'accès des particuliers aux déchèteries", "public_task",
    ("Usagers des déchèteries",), ("identity", "location"),
    (_keep(1, "years", StartEvent.CREATED, "destruction"),),
    criteria=("systematic_monitoring",),
    processors=(("Exploitant des déchèteries", "MAR-2024-005"),),
    keywords=("dechet",))
WATER = Spec(
    "Facturation de l'eau et de l'assainissement", "Eau - Trame hydraulique - Réseaux de "
    "chaleur - Régie assainissement",
    "Facturer les abonnés et relever les compteurs", "contract",
    ("Abonnés",), ("identity", "economic_financial", "location"),
    (_keep(5, "years", StartEvent.RELATIONSHIP_END, "destruction", "identity"),
     _keep(10, "years", StartEvent.CREATED, "destruction", "economic_financial"),
     _keep(3, "years", StartEvent.CREATED, "destruction", "location")),
    criteria=("large_scale",), processors=(("Éditeur de facturation", "MAR-2019-077"),),
    keywords=("compteurs d eau", "abonnes du service de l eau", "assainissement"),
    estimated=120000)
CRM = Spec(
    "Relation aux usagers et signalements", "Direction générale des services",
    "Répondre aux demandes et signalements des habitants", "public_task",
    ("Habitants",), ("identity", "location", "connection"),
    (_keep(3, "years", StartEvent.FILE_CLOSED, "destruction"),),
    processors=(("Éditeur de la GRC", "MAR-2024-012"),), applications=("GRC", "Site internet"),
    keywords=("signalements",))
PLANNING = Spec(
    "Instruction des autorisations d'urbanisme", "Urbanisme",
    "Instruire les permis de construire et déclarations préalables", "legal_obligation",
    ("Pétitionnaires", "Propriétaires"), ("identity", "economic_financial", "location"),
    (_keep(10, "years", StartEvent.FILE_CLOSED, "archives", None, "Code de l'urbanisme"),),
    keywords=("permis de construire", "intention d aliener"),
    applications=("Logiciel ADS",))
SUPPLIERS = Spec(
    "Marchés publics et fournisseurs", "Commande publique",
    "Passer et exécuter les marchés publics", "legal_obligation",
    ("Représentants des entreprises candidates",), ("identity", "professional_life"),
    (_keep(10, "years", StartEvent.RELATIONSHIP_END, "sorting", None,
           "Code de la commande publique, R. 2184-12"),),
    recipients=(("Comptable public", "external"),), applications=("Profil acheteur",))
LOGS = Spec(
    "Journalisation des accès au système d'information", "Systèmes d'information",
    "Assurer la sécurité du système d'information", "legal_obligation",
    ("Agents", "Prestataires"), ("connection",),
    (_keep(6, "months", StartEvent.CREATED, "destruction"),),
    criteria=("systematic_monitoring",), applications=("Annuaire", "Pare-feu"))
LIBRARY = Spec(
    "Prêts des médiathèques", "Culture - Labels et patrimoine - Vie associative",
    "Gérer les inscriptions et les prêts des médiathèques", "public_task",
    ("Lecteurs",), ("identity", "personal_life"),
    (_keep(1, "years", StartEvent.CREATED, "destruction", "identity"),
     _keep(4, "months", StartEvent.FILE_CLOSED, "destruction", "personal_life")),
    processors=(("Éditeur du SIGB", "MAR-2022-014"),), applications=("SIGB",))

REGISTERS: dict[str, tuple[Spec, ...]] = {
    METROPOLE: (HR, TRANSPORT, WASTE, WATER, CRM, SUPPLIERS, LOGS, PLANNING),
    VILLE: (HR, CIVIL, ELECTIONS, SCHOOL, VIDEO, POLICE, CEMETERY, LIBRARY, CRM),
    CCAS: (HR, SOCIAL_AID, HEATWAVE, MEALS),
    **{c: (CIVIL, ELECTIONS, SCHOOL, CEMETERY) for c in COMMUNES},
}


def _activity(ctx: DemoContext, org_key: str, spec: Spec) -> ActivityInput:
    org = ctx.organisations[org_key]
    linked: list[str] = []
    if spec.keywords:
        for slug, title in ctx.session.execute(
                select(Dataset.slug, Dataset.title).where(Dataset.organisation_id == org.id)
                .order_by(Dataset.slug)):
            if any(k in fold(title).replace("'", " ") for k in spec.keywords):
                linked.append(slug)
        linked = linked[:3]
    status = "active" if ctx.rng.random() > 0.08 else "draft"
    return ActivityInput.model_validate({
        "organisation_id": org.id, "name": spec.name, "status": status,
        "department": spec.department, "purpose": spec.purpose,
        "dpo_name": DPO_NAME, "dpo_contact": DPO_CONTACT,
        "legal_basis": spec.basis, "legal_basis_details": spec.basis_details,
        "art9_condition": spec.art9, "data_subjects": list(spec.subjects),
        "estimated_data_subjects": spec.estimated,
        "data_categories": [{"category": c} for c in spec.categories],
        "special_categories": list(spec.special),
        "recipients": [{"name": n, "kind": k} for n, k in spec.recipients],
        "processors": [{"name": n, "contract_reference": ref} for n, ref in spec.processors],
        "transfers": list(spec.transfers),
        "retention_rules": list(spec.retention),
        "security_measures": list(_STANDARD_SECURITY) + (
            [{"measure": "encryption"}] if spec.special else []),
        "data_sources": list(spec.sources), "linked_datasets": linked,
        "linked_applications": list(spec.applications), "dpia_criteria": list(spec.criteria),
        "dpia_exemption": spec.exemption, "public": org_key in (METROPOLE, VILLE),
        **spec.extra,
    })


def _dpia(started: date, done: bool, reservations: bool = False) -> DpiaInput:
    risks = [{"kind": "illegitimate_access", "description": "Consultation par un agent non "
              "habilité", "likelihood": 2, "severity": 3},
             {"kind": "unwanted_modification", "likelihood": 1, "severity": 2},
             {"kind": "disappearance", "description": "Perte du serveur", "likelihood": 1,
              "severity": 3}]
    values: dict[str, Any] = {
        "started_on": started, "description": "Contexte, données, processus et supports.",
        "necessity_proportionality": "Données limitées au nécessaire ; durées fixées ; "
                                     "personnes informées ; droits exerçables auprès du DPO.",
        "risks": risks, "measures": ["Habilitations revues chaque année",
                                     "Chiffrement des sauvegardes", "Journalisation des accès"]}
    if done:
        values.update({"dpo_opinion": "Avis favorable sous réserve du plan d'action.",
                       "dpo_opinion_on": started + timedelta(days=40),
                       "decision": "favourable_with_reservations" if reservations
                       else "favourable",
                       "decision_by": "Le directeur général des services",
                       "decided_on": started + timedelta(days=50),
                       "review_on": started + timedelta(days=50 + 3 * 365)})
    return DpiaInput.model_validate(values)


_REQUESTERS = ("Lucie Garnier", "Hugo Perrin", "Chantal Robin", "Mehdi Haddad", "Sarah Colin",
               "Bernard Faure", "Inès Lemoine", "Olivier Marchand", "Yasmine Caron",
               "Gérard Lucas", "Manon Barbier", "Karim Benoît")
# (organisation, kind, days ago received, outcome)
_REQUESTS = (
    (VILLE, "access", 420, "answered"), (VILLE, "erasure", 380, "refused"),
    (VILLE, "rectification", 300, "answered"), (METROPOLE, "access", 250, "answered_late"),
    (METROPOLE, "objection", 200, "answered"), (CCAS, "access", 150, "answered"),
    (VILLE, "access", 95, "answered"), (METROPOLE, "portability", 80, "answered"),
    (CCAS, "erasure", 70, "extended"), (VILLE, "access", 52, "overdue"),
    (METROPOLE, "erasure", 41, "overdue_identity"), (COMMUNES[0], "rectification", 35, "overdue"),
    (VILLE, "consent_withdrawal", 20, "answered"), (METROPOLE, "access", 12, "open"),
    (CCAS, "restriction", 6, "open"), (VILLE, "automated_decision", 3, "open"),
)


def _request(ctx: DemoContext, index: int, org_key: str, kind: str, ago: int, outcome: str,
             today: date) -> RequestInput:
    received = today - timedelta(days=ago)
    values: dict[str, Any] = {
        "organisation_id": ctx.organisations[org_key].id, "kind": kind,
        "requester": _REQUESTERS[index % len(_REQUESTERS)],
        "channel": ctx.rng.choice(("Courriel au DPO", "Courrier", "Formulaire en ligne",
                                   "Accueil de la mairie")),
        "received_on": received, "status": "in_progress"}
    if outcome in ("answered", "answered_late", "refused"):
        delay = 45 if outcome == "answered_late" else min(ctx.rng.randint(8, 26), ago)
        values.update({"status": "answered", "answered_on": received + timedelta(days=delay),
                       "answer": "Réponse envoyée avec les éléments demandés."})
    if outcome == "refused":
        values.update({"status": "refused", "refusal_reason": "Conservation imposée par une "
                       "obligation légale (article 17.3.b du RGPD).",
                       "answer": "Nous ne pouvons effacer ces données, conservées en "
                                 f"application du code électoral. {COMPLAINT_MENTION}"})
    if outcome == "extended":
        values.update({"extension_informed_on": received + timedelta(days=20),
                       "extension_reasons": "Données dispersées dans des archives papier."})
    if outcome == "overdue_identity":
        values.update({"status": "awaiting_identity",
                       "identity_requested_on": received + timedelta(days=4)})
    if outcome == "open" and ago > 5:
        values.update({"identity_requested_on": received + timedelta(days=1),
                       "identity_verified_on": received + timedelta(days=3)})
    return RequestInput.model_validate(values)


def _breaches(ctx: DemoContext) -> list[BreachInput]:
    at = now().replace(minute=0, second=0, microsecond=0)
    ville, metropole = ctx.organisations[VILLE].id, ctx.organisations[METROPOLE].id
    return [
        BreachInput(
            organisation_id=ville, title="Courriel aux familles en destinataires visibles",
            description="Un courriel sur l'inscription périscolaire a été envoyé à 180 familles "
                        "sans masquer les adresses.",
            occurred_at=at - timedelta(days=64, hours=3), aware_at=at - timedelta(days=64),
            natures=["confidentiality"], data_categories=["identity"], persons_approx=180,
            records_approx=180, consequences="Divulgation des adresses électroniques.",
            risk="risk", notified_at=at - timedelta(days=63),
            cnil_reference="Notification n° 2026-118",
            persons_informed_at=at - timedelta(days=62),
            persons_information_reason="Excuses et conseils de vigilance envoyés aux familles.",
            measures="Envoi par liste de diffusion ; rappel des consignes aux agents.",
            closed_at=at - timedelta(days=55)),
        BreachInput(
            organisation_id=metropole, title="Rançongiciel sur un serveur de fichiers",
            description="Chiffrement malveillant d'un partage réseau de la direction des "
                        "mobilités ; exfiltration non exclue.",
            aware_at=at - timedelta(hours=30),
            natures=["availability", "confidentiality"],
            data_categories=["identity", "economic_financial"], persons_approx=12000,
            records_approx=40000, consequences="Indisponibilité des dossiers d'abonnés ; "
                                               "risque de divulgation.",
            risk="high", measures="Serveur isolé, restauration depuis la sauvegarde en cours, "
                                  "plainte déposée."),
        BreachInput(
            organisation_id=ctx.organisations[COMMUNES[1]].id,
            title="Perte d'une clé USB chiffrée", aware_at=at - timedelta(days=20),
            natures=["availability"], data_categories=["identity"], persons_approx=40,
            risk="unlikely", no_risk_reason="Clé chiffrée (AES-256), mot de passe non "
                                            "compromis ; copie des données conservée.",
            measures="Rappel de la politique de chiffrement.",
            closed_at=at - timedelta(days=19)),
    ]


def build_protection(ctx: DemoContext) -> None:
    today = now().date()
    activities: list[ProcessingActivity] = []
    for org_key, specs in REGISTERS.items():
        for spec in specs:
            activities.append(register.create_activity(ctx.session, ctx.principal,
                                                       _activity(ctx, org_key, spec)))
    # DPIAs: one in progress (the school registrations', which the crèche algorithm cites),
    # done for about half of the other required ones, the others missing.
    required = [a for a in activities if dpia.assess(a).state == dpia.DpiaState.MISSING]
    under_way = next(a for a in required if a.name == "Inscriptions scolaires et périscolaires")
    dpia.create_dpia(ctx.session, ctx.principal, under_way,
                     _dpia(today - timedelta(days=30), done=False))
    for i, activity in enumerate(a for a in required if a is not under_way):
        if i % 2 == 0:
            started = today - timedelta(days=400 - 20 * i)
            dpia.create_dpia(ctx.session, ctx.principal, activity,
                             _dpia(started, done=True, reservations=i % 4 == 0))
    for index, (org_key, kind, ago, outcome) in enumerate(_REQUESTS):
        rights_requests.create_request(ctx.session, ctx.principal,
                                       _request(ctx, index, org_key, kind, ago, outcome, today))
    for breach in _breaches(ctx):
        breaches.create_breach(ctx.session, ctx.principal, breach)
