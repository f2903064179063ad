"""Demo content of sovereignty: the métropole's application map in Nantes-like proportions
(most applications on its own infrastructure, some at French hosts, a few SaaS in the EU
and one in Canada), a handful of placements that break its hosting strategy, and contracts
whose charter clauses are partly missing, one of them ending soon without a tested
reversibility, and three charter partners with their reported actions.

Its step is listed in demo/loader.py.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from patrimoine.demo.territory import METROPOLE, DemoContext
from patrimoine.inventory.models import Dataset
from patrimoine.protection.deadlines import add_months, legal_today
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.sovereignty import applications as apps
from patrimoine.sovereignty import contracts as ctr
from patrimoine.sovereignty import partners
from patrimoine.sovereignty.models import Application, ClauseStatus, TestResult

# Fictional suppliers carry SIRETs made up with a valid key (no real company's).
# (hosting mode, host, country, how many): 300 applications, Nantes' 442 scaled down.
PLACEMENTS = (
    ("own", None, "France", 276),
    ("private_host", "Hébergeur Val de Loire", "France", 20),
    ("saas", "Logiciels Europe", "Allemagne", 3),
    ("saas", "Cloud Nord-Américain", "Canada", 1),
)
KINDS = ("Gestion", "Portail", "Suivi", "Référentiel", "Tableau de bord", "Outil",
         "Application mobile", "Base")
SUBJECTS = ("des subventions", "des marchés", "de la paie", "des congés", "de la voirie",
            "des espaces verts", "de l'état civil", "des inscriptions scolaires",
            "des réservations de salles", "du courrier", "des délibérations",
            "des interventions techniques", "des stocks", "du parc automobile",
            "des équipements sportifs", "de la relation usagers", "des archives",
            "des autorisations d'urbanisme", "de la collecte des déchets",
            "des aides sociales", "de la restauration scolaire", "de l'éclairage public",
            "des emprunts", "du patrimoine bâti", "de la téléphonie")
VENDORS = ("Berger-Levrault", "Ciril Group", "Arpège", "Inetum", "JVS-Mairistem",
           "Développement interne", "Logiciel libre (Adullact)")
SENSITIVITIES = ("public", "interne", "interne", "personnel", "personnel", "sensible")


def build_sovereignty(ctx: DemoContext) -> None:
    org = ctx.organisations[METROPOLE]
    departments = [name for (key, name) in ctx.departments if key == METROPOLE]
    datasets = list(ctx.session.scalars(select(Dataset.slug).where(
        Dataset.organisation_id == org.id).order_by(Dataset.id).limit(40)))
    activities = list(ctx.session.scalars(select(ProcessingActivity.reference).where(
        ProcessingActivity.organisation_id == org.id).order_by(ProcessingActivity.id)))
    rng = ctx.rng
    created = []
    n = 0
    for mode, host, country, count in PLACEMENTS:
        for _ in range(count):
            n += 1
            name = f"{KINDS[n % len(KINDS)]} {SUBJECTS[n % len(SUBJECTS)]}"
            if n > len(KINDS) * len(SUBJECTS) // 2:
                name += f" ({n})"
            sensitivity = rng.choice(SENSITIVITIES)
            if mode == "saas" and sensitivity == "sensible":
                sensitivity = "personnel"
            certifications = ["iso27001"] if mode != "own" else []
            # A few placements that break the strategy: sensitive data at a private host
            # without SecNumCloud, and the Canadian SaaS holding personal data.
            if mode == "private_host" and n % 7 == 0:
                sensitivity = "sensible"
            if country == "Canada":
                sensitivity = "personnel"
            location = {"France": "france", "Allemagne": "eu", "Canada": "adequacy"}[country]
            data = apps.ApplicationInput(
                organisation_id=org.id, name=name, vendor=rng.choice(VENDORS),
                department=rng.choice(departments) if departments else None,
                status="in_service" if n % 40 else "being_replaced",
                hosting_mode=mode, host=host, location=location,
                country=None if country == "France" else country,
                adequacy_decision="Décision d'adéquation de la Commission (Canada)"
                if country == "Canada" else None,
                non_eu_law_exposure=country == "Canada", certifications=certifications,
                sensitivity=sensitivity,
                datasets=[datasets[n % len(datasets)]] if datasets and n % 9 == 0 else [],
                activities=[activities[n % len(activities)]]
                if activities and n % 11 == 0 else [])
            created.append(apps.create_application(ctx.session, ctx.principal, data,
                                                   action="imported"))
    _contracts(ctx, created, activities)
    _partners(ctx)


# Fictional signatories, SIRENs made up with a valid key.
PARTNERS = (
    ("Coopérative des mobilités partagées", "900100017", "company", date(2023, 5, 12),
     "Publier chaque trimestre les données anonymisées des trajets en autopartage.",
     ((2024, "Jeu de données des stations d'autopartage publié sous Licence Ouverte."),)),
    ("Association Quartiers numériques", "900100025", "association", date(2024, 2, 1),
     "Animer deux ateliers par an sur la réutilisation des données ouvertes.",
     ((2024, "Trois ateliers « Lire son budget communal » en médiathèque."),
      (2025, "Cartographie participative des bancs publics."))),
    ("Syndicat départemental d'énergie", "900100033", "public_body", date(2025, 9, 30),
     "Ouvrir les consommations d'énergie agrégées des bâtiments publics.", ()),
)


def _partners(ctx: DemoContext) -> None:
    org = ctx.organisations[METROPOLE]
    for name, siren, kind, signed_on, commitments, actions in PARTNERS:
        partner = partners.create_partner(ctx.session, ctx.principal, partners.PartnerInput(
            organisation_id=org.id, name=name, siren=siren, kind=kind, signed_on=signed_on,
            commitments=commitments, renewal_on=date(signed_on.year + 3, signed_on.month, 1),
            document=f"Charte signée — {name}.pdf"))
        for year, text in actions:
            partners.record_action(ctx.session, ctx.principal, partner,
                                   partners.ActionInput(year=year, description=text))


def _contracts(ctx: DemoContext, created: list[Application], activities: list[str]) -> None:
    org = ctx.organisations[METROPOLE]
    today = legal_today()
    external = [a for a in created if a.hosting_mode.value != "own"]
    specs = (
        ("Hébergement des applications métier", "Hébergeur Val de Loire", "90010001700004",
         date(2022, 1, 1), add_months(today, 5), external[:10], ("reversibilite",)),
        ("Abonnement au portail usagers", "Logiciels Europe", "90010002500007",
         date(2023, 3, 1), add_months(today, 30), external[20:23],
         ("hebergement-ue", "formats-ouverts")),
        ("Logiciel de gestion des aides sociales", "Cloud Nord-Américain", "90010003300001",
         date(2024, 9, 1), add_months(today, 9), external[23:24],
         ("hebergement-ue", "reversibilite", "donnees-publiques")),
        ("Tierce maintenance applicative", "Inetum", "90010004100004",
         date(2021, 6, 1), add_months(today, 18), created[:5], ()),
    )
    for title, supplier, siret, start, end, covered, missing in specs:
        contract = ctr.create_contract(ctx.session, ctx.principal, ctr.ContractInput(
            organisation_id=org.id, title=title, supplier_name=supplier,
            supplier_siret=siret, start_date=start, end_date=end, notice_months=3,
            processor=bool(activities), applications=[a.reference for a in covered],
            activities=activities[:1]))
        for n, line in enumerate(ctr.clause_table(ctx.session, contract)):
            code = line.clause.code
            status = ClauseStatus.ABSENT if code in missing else (
                ClauseStatus.NEGOTIATED if n % 3 == 0 else ClauseStatus.PRESENT)
            ctr.set_clause_status(ctx.session, ctx.principal, contract, code,
                                  ctr.ClauseStatusInput(
                                      status=status,
                                      article=None if status == ClauseStatus.ABSENT
                                      else f"CCAP article {n + 4}"))
        if title == "Tierce maintenance applicative":
            ctr.record_test(ctx.session, ctx.principal, contract, ctr.TestInput(
                tested_on=date(2025, 11, 4), formats=["CSV", "SQL"],
                result=TestResult.SUCCESS, notes="Restitution complète en deux jours."))
