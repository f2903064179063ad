"""Demo content of transparency: four algorithms in the public register and two requests for
the rules of a decision.

- the Métropole's solidarity transport fares and social water pricing (explicit rules, fully
  automated, published with their documents and source code, each naming the contract and
  the application of the map it runs under: the sovereignty step comes first);
- the Ville's nursery place allocation (a score that prepares the committee's decision,
  published, linked to the DPIA of the school registrations when the demo made one, its
  commented source kept as a file of the register);
- the Ville's canteen meal forecast (a statistical model over the canteens' attendance, still
  in preparation: it decides nothing about a person yet);
- one request answered with the four items, one waiting within its month;
- two requests for data of general interest: the park-and-ride concession holder delivered
  the hourly occupancy (concession data), a navigation app discusses its GPS speeds
  (voluntary agreement).

The texts are the demo's own. Its step is listed in demo/loader.py.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from patrimoine.core.clock import now
from patrimoine.demo.territory import METROPOLE, VILLE, DemoContext
from patrimoine.inventory.models import Dataset
from patrimoine.protection.register.models import Dpia, ProcessingActivity
from patrimoine.sovereignty.models import Application, Contract
from patrimoine.transparency import general_interest, requests, service
from patrimoine.transparency.general_interest import GeneralInterestInput
from patrimoine.transparency.models import DocumentKind
from patrimoine.transparency.requests import AlgorithmRequestInput
from patrimoine.transparency.service import AlgorithmInput

_DOCS = "https://transparence.valdeloire.example/algorithmes"

ALGORITHMS: tuple[tuple[str, dict[str, Any]], ...] = (
    (METROPOLE, {
        "name": "Tarification solidaire des transports", "department": "Mobilités",
        "contact": "transparence@valdeloire.example",
        "purpose": "Déterminer la réduction accordée sur l'abonnement au réseau de transport "
                   "selon les ressources du foyer.",
        "legal_basis": "Code des transports, article L1113-1 ; délibération du conseil "
                       "métropolitain fixant la grille tarifaire.",
        "decisions_per_year": 38000, "public_concerned": "Foyers résidant dans la métropole",
        "automation": "fully_automated", "kind": "rules",
        "parameters": [
            {"name": "Quotient familial", "weight": "Détermine la tranche",
             "description": "Revenu fiscal de référence divisé par le nombre de parts"},
            {"name": "Nombre de parts", "weight": "",
             "description": "Composition du foyer déclarée à l'administration fiscale"}],
        "operations": "Le quotient familial est calculé puis comparé aux seuils des quatre "
                      "tranches de réduction (100 %, 75 %, 50 %, 0 %).",
        "human_oversight": "Un agent contrôle les pièces justificatives avant l'ouverture du "
                           "droit.",
        "appeal": "Recours gracieux auprès de la direction des Mobilités dans les deux mois.",
        "risks": "Erreur de déclaration des ressources ; changement de situation en cours "
                 "d'année (une révision est possible sur demande).",
        "source_code_url": "https://git.valdeloire.example/transparence/tarifs-transport",
        "source_code_licence": "EUPL-1.2", "status": "published", "days_ago": 400,
        "activity": "Billettique et abonnements du réseau de transport",
        "contract": "Abonnement au portail usagers", "application": "relation usagers",
        "documents": {k: {"url": f"{_DOCS}/transport/{k}.pdf"}
                      for k in ("description", "diagram", "technical", "source")}}),
    (METROPOLE, {
        "name": "Tarification sociale de l'eau", "department": "Eau - Trame hydraulique",
        "contact": "transparence@valdeloire.example",
        "purpose": "Calculer le chèque eau versé aux abonnés dont la facture dépasse une part "
                   "de leurs ressources.",
        "legal_basis": "Code général des collectivités territoriales, article L2224-12-1-1 ; "
                       "délibération instituant la tarification sociale.",
        "decisions_per_year": 9500, "public_concerned": "Abonnés domestiques du service de "
                                                        "l'eau",
        "automation": "fully_automated", "kind": "rules",
        "parameters": [
            {"name": "Ressources du foyer", "weight": "Dénominateur du taux d'effort",
             "description": "Revenu fiscal de référence"},
            {"name": "Consommation de référence", "weight": "Numérateur",
             "description": "Volume forfaitaire selon la taille du foyer"}],
        "operations": "Le taux d'effort (facture de référence / ressources) est calculé ; "
                      "au-delà de 3 %, l'aide couvre la différence.",
        "human_oversight": "Aucune intervention avant le versement ; le service examine les "
                           "réclamations.",
        "appeal": "Réclamation auprès du service de l'eau, puis médiation de l'eau.",
        "risks": "Foyers non repérés faute de données fiscales.",
        "source_code_url": "https://git.valdeloire.example/transparence/cheque-eau",
        "source_code_licence": "EUPL-1.2", "status": "published", "days_ago": 200,
        "activity": "Facturation de l'eau et de l'assainissement",
        "contract": "Logiciel de gestion des aides sociales", "application": "aides sociales",
        "documents": {"description": {"url": f"{_DOCS}/eau/description.pdf"},
                      "diagram": {"url": f"{_DOCS}/eau/logigramme.png"}}}),
    (VILLE, {
        "name": "Attribution des places en crèche", "department": "Éducation - Enfance",
        "contact": "petite-enfance@ligerac.example",
        "purpose": "Classer les demandes de place en crèche selon les critères votés, avant "
                   "la commission d'attribution.",
        "legal_basis": "Code de l'action sociale et des familles, article L214-2 ; règlement "
                       "d'attribution adopté par le conseil municipal.",
        "decisions_per_year": 1100, "public_concerned": "Familles résidant à Ligérac",
        "automation": "decision_support", "kind": "rules",
        "parameters": [
            {"name": "Situation professionnelle des parents", "weight": "40 points"},
            {"name": "Proximité du domicile", "weight": "30 points"},
            {"name": "Fratrie déjà accueillie", "weight": "20 points"},
            {"name": "Ancienneté de la demande", "weight": "10 points"}],
        "operations": "Un score sur 100 est calculé pour chaque demande ; la liste classée est "
                      "remise à la commission, qui attribue les places.",
        "human_oversight": "La commission d'attribution examine chaque dossier et peut "
                           "s'écarter du classement en motivant sa décision.",
        "appeal": "Recours gracieux auprès du maire dans les deux mois.",
        "risks": "Critères défavorables aux familles monoparentales : suivi annuel des "
                 "attributions.",
        "status": "published", "days_ago": 120,
        "activity": "Inscriptions scolaires et périscolaires",
        "documents": {"description": {"url": f"{_DOCS}/creches/description.pdf"}}}),
    (VILLE, {
        "name": "Prévision des repas des cantines", "department": "Éducation - Enfance",
        "contact": "restauration@ligerac.example",
        "purpose": "Prévoir le nombre de repas à commander par cantine et par jour pour "
                   "réduire le gaspillage.",
        "legal_basis": "Loi EGalim (lutte contre le gaspillage alimentaire).",
        "public_concerned": "Aucune décision individuelle : commandes de repas",
        "automation": "decision_support", "kind": "statistical",
        "parameters": [{"name": "Fréquentation des semaines précédentes"},
                       {"name": "Jour de la semaine"}, {"name": "Menu du jour"}],
        "operations": "Une moyenne pondérée des fréquentations passées, corrigée du jour et du "
                      "menu, propose la commande du lendemain.",
        "status": "draft", "dataset": "frequentation-cantines-scolaires"}),
)


def _dpia_id(ctx: DemoContext, organisation_id: int, activity: str | None) -> int | None:
    if activity is None:
        return None
    return ctx.session.scalar(
        select(Dpia.id).join(ProcessingActivity, Dpia.activity_id == ProcessingActivity.id)
        .where(ProcessingActivity.organisation_id == organisation_id,
               ProcessingActivity.name == activity).limit(1))


def build_transparency(ctx: DemoContext) -> None:
    build_algorithms(ctx)
    build_general_interest(ctx)


def build_algorithms(ctx: DemoContext) -> None:
    today = now().date()
    created = []
    for org_key, spec in ALGORITHMS:
        values = dict(spec)
        organisation_id = ctx.organisations[org_key].id
        days_ago = values.pop("days_ago", None)
        slug = values.pop("dataset", None)
        dataset = ctx.session.scalar(select(Dataset.id).where(
            Dataset.slug == slug, Dataset.organisation_id == organisation_id)) if slug else None
        if days_ago is not None:
            values["published_on"] = today - timedelta(days=days_ago)
            values["review_on"] = values["published_on"] + timedelta(days=365)
        values["dpia_id"] = _dpia_id(ctx, organisation_id, values.pop("activity", None))
        title, subject = values.pop("contract", None), values.pop("application", None)
        contract = ctx.session.scalar(select(Contract.id).where(
            Contract.organisation_id == organisation_id, Contract.title == title)
            .limit(1)) if title else None
        application = ctx.session.scalar(select(Application.id).where(
            Application.organisation_id == organisation_id, Application.name.contains(subject))
            .order_by(Application.id).limit(1)) if subject else None
        created.append(service.create_algorithm(ctx.session, ctx.principal, AlgorithmInput(
            organisation_id=organisation_id, dataset_ids=[dataset] if dataset else [],
            contract_ids=[contract] if contract else [],
            application_ids=[application] if application else [], **values)))
    transport, _, nursery, _ = created
    _attach_nursery_source(ctx, nursery)
    answered = requests.create_request(ctx.session, ctx.principal, AlgorithmRequestInput(
        algorithm_id=transport.id, requester="Demandeur de démonstration n° 1",
        decision="Réduction de 50 % sur l'abonnement annuel", received_on=today -
        timedelta(days=60)))
    items = requests.draft_answer(transport)
    items["data_and_sources"] = ("Revenu fiscal de référence et nombre de parts, tirés de "
                                 "l'avis d'imposition que vous avez fourni ; adresse, tirée "
                                 "du fichier des abonnés du réseau.")
    items["parameters_applied"] = ("Quotient familial : 742 € (tranche 3, de 601 à 800 €) ; "
                                   "nombre de parts : 2,5.")
    requests.update_request(ctx.session, ctx.principal, answered, AlgorithmRequestInput(
        **{**requests.request_input(answered).model_dump(), **items, "status": "answered",
           "answered_on": today - timedelta(days=40)}))
    requests.create_request(ctx.session, ctx.principal, AlgorithmRequestInput(
        algorithm_id=nursery.id, requester="Demandeur de démonstration n° 2",
        decision="Place refusée pour la rentrée", received_on=today - timedelta(days=10)))


# The nursery score's commented source, the demo's own, kept as a file of the register.
NURSERY_SOURCE = '''"""Score d'une demande de place en crèche (règlement d'attribution de Ligérac).

Chaque critère rapporte des points ; le total, sur 100, classe les demandes remises à la
commission d'attribution, qui décide.
"""


def score(demande):
    points = 0
    # Les deux parents travaillent, étudient ou suivent une formation : 40 points.
    if demande["parents_en_activite"]:
        points += 40
    # Domicile à moins de deux kilomètres de la crèche : 30 points, puis 15 jusqu'à cinq.
    if demande["distance_km"] <= 2:
        points += 30
    elif demande["distance_km"] <= 5:
        points += 15
    # Un frère ou une sœur déjà accueilli dans la même crèche : 20 points.
    if demande["fratrie_accueillie"]:
        points += 20
    # Un point par mois d'ancienneté de la demande, dix au plus.
    points += min(demande["mois_d_attente"], 10)
    return points
'''


def _attach_nursery_source(ctx: DemoContext, nursery: Any) -> None:
    if ctx.settings is None:
        return
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "score_creche.py"
        source.write_text(NURSERY_SOURCE, encoding="utf-8")
        service.attach_document(ctx.session, ctx.settings, ctx.principal, nursery,
                                DocumentKind.SOURCE, source, source.name)


def build_general_interest(ctx: DemoContext) -> None:
    today = now().date()
    metropole = ctx.organisations[METROPOLE].id
    parkings = ctx.session.scalar(select(Dataset.id).where(
        Dataset.slug == "parkings-relais-occupation", Dataset.organisation_id == metropole))
    common = {"organisation_id": metropole, "public": True}
    delivered = {
        **common, "holder": "Délégataire des parkings relais", "holder_kind": "concession_holder",
        "data_asked": "Occupation horaire de chaque parking relais", "basis": "concession",
        "basis_details": "Données de la concession, dues à l'autorité concédante.",
        "asked_on": today - timedelta(days=300),
        "public_summary": "Le délégataire transmet chaque mois l'occupation horaire des "
                          "parkings relais, publiée en données ouvertes."}
    if parkings is not None:
        request = general_interest.create_request(ctx.session, ctx.principal,
                                                  GeneralInterestInput(**delivered))
        general_interest.update_request(ctx.session, ctx.principal, request,
                                        GeneralInterestInput(
            **delivered, state="agreed", decided_on=today - timedelta(days=280)))
        general_interest.update_request(ctx.session, ctx.principal, request,
                                        GeneralInterestInput(
            **delivered, state="delivered", decided_on=today - timedelta(days=280),
            delivered_on=today - timedelta(days=250), dataset_ids=[parkings]))
    general_interest.create_request(ctx.session, ctx.principal, GeneralInterestInput(
        **common, holder="Application de navigation (démonstration)", holder_kind="company",
        data_asked="Vitesses moyennes agrégées par tronçon et par heure (données GPS)",
        basis="voluntary", state="in_discussion", asked_on=today - timedelta(days=90),
        discussion_on=today - timedelta(days=60),
        public_summary="La métropole propose un échange de données : ses travaux et "
                       "fermetures de voies contre des vitesses agrégées."))
