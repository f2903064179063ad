"""The demo's charter: five engagements modelled on those the seeds' authorities made
(protecting personal data, keeping control of data and hosting, accounting for algorithms
and opening data, sobriety and retention, knowing the data), in Patrimoine's own words; a
running deviation and an expired one; an action plan with actions done, in progress and
late; and a first evaluation stored, so the dashboard has something to show."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from patrimoine.access.principal import Principal
from patrimoine.charter import actions, config, deviations, evaluations
from patrimoine.charter.config import Charter, Engagement, OrganisationSetting, RuleUse
from patrimoine.charter.engine import evaluate
from patrimoine.core.clock import now
from patrimoine.demo.territory import CCAS, METROPOLE, VILLE, DemoContext
from patrimoine.sovereignty.models import Contract
from patrimoine.transparency.models import PublicAlgorithm

TEXTS = {
    "proteger": (
        "Protéger les données personnelles des habitants",
        "Nous ne collectons que ce dont le service a besoin, nous évaluons les traitements à "
        "risque avant de les mettre en œuvre, nous répondons à chaque personne dans les délais "
        "et nous signalons sans tarder toute violation. Aucune donnée ouverte ne laisse "
        "paraître une personne."),
    "maitriser": (
        "Garder la maîtrise de nos données et de leur hébergement",
        "Les données du territoire sont hébergées selon leur sensibilité, chez nous ou dans "
        "l'Union européenne. Nos contrats portent les clauses de la charte, et nous vérifions, "
        "avant qu'un contrat ne finisse, que nous savons récupérer nos données. Les "
        "partenaires qui signent la charte renouvellent leur engagement."),
    "rendre-compte": (
        "Rendre compte : algorithmes publics et données ouvertes",
        "Chaque algorithme qui fonde une décision individuelle est expliqué en quatre "
        "documents. Nos données ouvertes sont sous licence ouverte, décrites, tenues à jour "
        "au rythme annoncé et conformes aux schémas nationaux quand elles en suivent un."),
    "sobriete": (
        "Une donnée sobre, conservée le temps utile",
        "Nous gardons les données le temps que fixent la loi et nos besoins, puis nous les "
        "éliminons avec le visa des Archives ou nous les versons. Nous repérons les données "
        "que personne ne lit, les doublons et la croissance du stockage."),
    "connaitre": (
        "Connaître et gouverner notre patrimoine de données",
        "Chaque jeu de données de l'inventaire a un responsable et un niveau de "
        "confidentialité ; c'est la condition pour décider de son ouverture ou de son "
        "partage."),
}

RULES = {
    "proteger": ("protection.dpia", "protection.requests_on_time",
                 "protection.breaches_notified", "openness.no_undecided_personal_data"),
    "maitriser": ("sovereignty.hosting_strategy", "sovereignty.processor_clauses",
                  "sovereignty.reversibility_tested", "sovereignty.partner_signatures"),
    "rendre-compte": ("transparency.algorithms_published", "openness.open_licence",
                      "openness.described", "openness.updated_on_time",
                      "openness.schema_conformity"),
    "sobriete": ("retention.rule_everywhere", "retention.past_due_handled",
                 "sobriety.read_within_year", "sobriety.no_duplicate_files",
                 "sobriety.storage_growth"),
    "connaitre": ("inventory.owner_and_confidentiality",),
}


def demo_charter(ctx: DemoContext) -> Charter:
    ccas = ctx.organisations[CCAS].id
    # The CCAS's contracts run long: it watches their end eighteen months ahead.
    overrides = {"sovereignty.reversibility_tested": {
        ccas: OrganisationSetting({"months": 18})}}
    return Charter(
        title="Charte de la donnée de Val-de-Loire",
        preamble="La métropole, la ville de Ligérac, son CCAS et les communes membres "
                 "s'engagent ensemble sur la manière dont ils produisent, protègent, "
                 "partagent et ouvrent les données du territoire. Ce que la charte promet "
                 "est vérifié chaque jour par Patrimoine, et chaque écart est documenté.",
        approver_roles=("chief_data_officer", "dpo"), publish_deviations=True,
        engagements=tuple(
            Engagement(code, TEXTS[code][0], TEXTS[code][1], tuple(
                RuleUse(rule_id, organisations=overrides.get(rule_id, {}))
                for rule_id in rules))
            for code, rules in RULES.items()))


def build_charter(ctx: DemoContext) -> None:
    s = ctx.session
    config.save(s, ctx.principal, demo_charter(ctx))
    today = now().date()
    metropole, ville = ctx.organisations[METROPOLE].id, ctx.organisations[VILLE].id
    cdo = Principal.of(ctx.accounts["a.mercier@valdeloire.example"])
    contract = s.scalars(select(Contract).where(Contract.organisation_id == metropole)
                         .order_by(Contract.id)).first()
    if contract is not None:
        deviations.record(s, cdo, deviations.DeviationInput(
            rule_id="sovereignty.reversibility_tested", item=f"contract:{contract.id}",
            item_label=f"Contrat {contract.reference} « {contract.title} »",
            organisation_id=metropole,
            justification="Le test de réversibilité est programmé avec le prestataire lors de "
                          "la migration de l'infrastructure ; le tester avant serait refaire "
                          "deux fois le même travail.",
            approver_role="chief_data_officer", starts_on=today - timedelta(days=60),
            expires_on=today + timedelta(days=120),
            link="https://valdeloire.example/experimentations/migration-hebergement"))
    algorithm = s.scalars(select(PublicAlgorithm).where(
        PublicAlgorithm.organisation_id == ville).order_by(PublicAlgorithm.id)).first()
    if algorithm is not None:
        deviations.record(s, cdo, deviations.DeviationInput(
            rule_id="transparency.algorithms_published", item=f"algorithm:{algorithm.id}",
            item_label=f"Algorithme {algorithm.reference} « {algorithm.name} »",
            organisation_id=ville,
            justification="Expérimentation d'un nouveau barème pendant six mois : la "
                          "documentation complète suivra son adoption par le conseil.",
            approver_role="chief_data_officer", starts_on=today - timedelta(days=200),
            expires_on=today - timedelta(days=15)))
    plan = (
        ("proteger", "Conduire l'analyse d'impact de la vidéoprotection", "Nadia Benali (DPO)",
         -90, ["protection.dpia"], "AIPD validée en comité le 12 du mois.", -100),
        ("proteger", "Former les agents d'accueil au traitement des demandes d'accès",
         "Direction des ressources humaines", 45, ["protection.requests_on_time"], "", None),
        ("maitriser", "Tester la réversibilité des contrats qui finissent dans l'année",
         "Direction du numérique", -20, ["sovereignty.reversibility_tested"], "", None),
        ("rendre-compte", "Publier les quatre documents de chaque algorithme",
         "Antoine Mercier", 120, ["transparency.algorithms_published"], "", None),
        ("rendre-compte", "Décrire chaque jeu ouvert en plus de cent caractères",
         "Réseau des référents données", -5, ["openness.described"], "", None),
        ("sobriete", "Fixer une durée de conservation pour chaque traitement",
         "Nadia Benali (DPO)", -30, ["retention.rule_everywhere"],
         "Registre complété : toutes les fiches actives ont leur durée.", -40),
        ("connaitre", "Nommer un responsable pour chaque jeu de l'inventaire",
         "Antoine Mercier", 200, ["inventory.owner_and_confidentiality"], "", None),
    )
    for code, title, owner, due, rules, evidence, done in plan:
        actions.create(s, cdo, actions.ActionInput(
            engagement=code, title=title, owner=owner, due_on=today + timedelta(days=due),
            rule_ids=rules, evidence=evidence,
            started_on=today - timedelta(days=150),
            done_on=today + timedelta(days=done) if done is not None else None))
    evaluations.record(s, ctx.principal, evaluate(s))
