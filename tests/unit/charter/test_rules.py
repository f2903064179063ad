"""Each built-in rule of the charter over a snapshot built by hand: a passing, a failing and
a not-applicable item, and the reason each gives."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from patrimoine.charter import quality
from patrimoine.charter import rules as _library  # noqa: F401  (registers the rules)
from patrimoine.charter.rules.base import RULES, Outcome
from patrimoine.charter.snapshot import Snapshot
from patrimoine.datastore.queries import StoredVersion
from patrimoine.inventory.models import (
    AccessLevel,
    LifecycleStage,
    UpdateFrequency,
    YesNoUndefined,
)
from patrimoine.inventory.queries import DatasetFacts, OrganisationFacts
from patrimoine.protection.queries import ActivityFacts, BreachFacts, RequestFacts
from patrimoine.retention.queries import DatasetRuleFacts, SlipItemFacts
from patrimoine.retention.rules import DurationUnit, FinalFate, StartEvent
from patrimoine.sovereignty.models import DataLocation, HostingMode
from patrimoine.sovereignty.queries import (
    ApplicationFacts,
    ClauseFacts,
    ContractFacts,
    LevelFacts,
    PartnerFacts,
)
from patrimoine.transparency.queries import AlgorithmFacts

AT = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
TODAY = AT.date()
ORG = OrganisationFacts(1, "ville", "Ville de Test")


def dataset(id: int, **fields: Any) -> DatasetFacts:
    base: dict[str, Any] = dict(
        id=id, uid=f"u{id}", slug=f"jeu-{id}", title=f"Jeu {id}", organisation_id=1,
        description="", licence=None, temporal_start=None, temporal_end=None,
        spatial_coverage=None, update_frequency=UpdateFrequency.UNKNOWN, updated_at=AT,
        extra={}, contains_personal_data=None)
    return DatasetFacts(**(base | fields))


OPEN = {"access_level": AccessLevel.OPEN, "lifecycle_stage": LifecycleStage.PUBLISHED}


def activity(id: int, **fields: Any) -> ActivityFacts:
    base: dict[str, Any] = dict(
        id=id, organisation_id=1, reference=f"T-{id}", name=f"Traitement {id}", draft=False,
        ended=False, special_categories=(), monitoring=False, dpia_required=False,
        dpia_exemption=None, retention_rules=())
    return ActivityFacts(**(base | fields))


def version(dataset_id: int, days_ago: int, content: str = "h", size: int = 1000
            ) -> StoredVersion:
    return StoredVersion(dataset_id, content, size, AT - timedelta(days=days_ago))


def outcomes(rule_id: str, snapshot: Snapshot, **params: Any) -> dict[str, tuple[Outcome, str]]:
    return {r.item: (r.outcome, r.reason) for r in RULES[rule_id].run(snapshot, params)}


def test_every_rule_is_documented_and_tested_here() -> None:
    tested = {name.removeprefix("test_").replace("__", ".") for name in globals()
              if name.startswith("test_") and "__" in name}
    assert set(RULES) == tested
    for rule in RULES.values():
        assert rule.doc and rule.title and rule.reference


def test_protection__dpia() -> None:
    snap = Snapshot(AT, activities=(
        activity(1, special_categories=("health",), dpia="favourable"),
        activity(2, monitoring=True),
        activity(3),
        activity(4, monitoring=True, dpia="pending"),
        activity(5, special_categories=("health",), dpia_exemption="Liste CNIL n° 3"),
        activity(6, dpia_required=True, dpia="unfavourable"),
        activity(7, dpia_required=True, ended=True),
    ))
    got = outcomes("protection.dpia", snap)
    assert got["activity:1"][0] == Outcome.PASSED
    assert got["activity:2"] == (Outcome.FAILED, "Analyse d'impact requise (surveillance "
                                                 "systématique ou à grande échelle) mais "
                                                 "absente.")
    assert got["activity:3"][0] == Outcome.NOT_APPLICABLE
    assert got["activity:4"][0] == Outcome.FAILED
    assert got["activity:5"][0] == Outcome.PASSED
    assert got["activity:6"][0] == Outcome.FAILED
    assert got["activity:7"][0] == Outcome.NOT_APPLICABLE


def test_protection__requests_on_time() -> None:
    def request(id: int, received: date, deadline: date, closed: bool,
                answered: date | None = None, withdrawn: bool = False) -> RequestFacts:
        return RequestFacts(id, 1, f"D-{id}", received, deadline, closed, withdrawn, answered)
    snap = Snapshot(AT, requests=(
        request(1, date(2026, 3, 1), date(2026, 4, 1), True, date(2026, 3, 20)),
        request(2, date(2026, 3, 1), date(2026, 4, 1), True, date(2026, 4, 20)),
        request(3, date(2026, 3, 1), date(2026, 4, 1), False),
        request(4, date(2026, 4, 1), date(2026, 7, 1), False),  # extended to three months
        request(5, date(2024, 3, 1), date(2024, 4, 1), False),
        request(6, date(2026, 6, 1), date(2026, 7, 1), False),
        request(7, date(2026, 6, 1), date(2026, 7, 1), True, withdrawn=True),
    ))
    got = outcomes("protection.requests_on_time", snap)
    assert got["request:1"][0] == Outcome.PASSED
    assert got["request:2"] == (Outcome.FAILED, "Répondue le 20/04/2026, après l'échéance du "
                                                "01/04/2026.")
    assert got["request:3"][0] == Outcome.FAILED
    assert got["request:4"][0] == Outcome.PASSED
    assert got["request:5"][0] == Outcome.NOT_APPLICABLE
    assert got["request:6"][0] == Outcome.PASSED
    assert got["request:7"][0] == Outcome.NOT_APPLICABLE
    assert outcomes("protection.requests_on_time", snap, period_days=1000)["request:5"][0] \
        == Outcome.FAILED


def test_protection__breaches_notified() -> None:
    aware, recent = AT - timedelta(days=10), AT - timedelta(hours=5)
    due, soon = aware + timedelta(hours=72), recent + timedelta(hours=72)
    snap = Snapshot(AT, breaches=(
        BreachFacts(1, 1, "V-1", "Courriel", aware, due, True, aware + timedelta(hours=70),
                    None),
        BreachFacts(2, 1, "V-2", "Vol", aware, due, True, aware + timedelta(hours=80),
                    "Week-end"),
        BreachFacts(3, 1, "V-3", "Perte", aware, due, False, None, None),
        BreachFacts(4, 1, "V-4", "Fuite", aware, due, True, None, None),
        BreachFacts(5, 1, "V-5", "Récente", recent, soon, True, None, None),
    ))
    got = outcomes("protection.breaches_notified", snap)
    assert got["breach:1"][0] == Outcome.PASSED
    assert got["breach:2"][0] == Outcome.FAILED
    assert "motifs du retard consignés" in got["breach:2"][1]
    assert got["breach:3"][0] == Outcome.NOT_APPLICABLE
    assert got["breach:4"][0] == Outcome.FAILED
    assert got["breach:5"][0] == Outcome.PASSED


def test_retention__rule_everywhere() -> None:
    rule = {"duration": 5, "unit": "years"}
    snap = Snapshot(AT, activities=(activity(1, retention_rules=(rule,)), activity(2),
                                    activity(3, draft=True)))
    got = outcomes("retention.rule_everywhere", snap)
    assert [got[f"activity:{i}"][0] for i in (1, 2, 3)] == [
        Outcome.PASSED, Outcome.FAILED, Outcome.NOT_APPLICABLE]


def test_retention__past_due_handled() -> None:
    def rule(dataset_id: int, years: int, event: StartEvent = StartEvent.CREATED,
             fate: FinalFate = FinalFate.DESTRUCTION) -> DatasetRuleFacts:
        return DatasetRuleFacts(dataset_id, years, DurationUnit.YEARS, event, fate, None, None)
    snap = Snapshot(
        AT, datasets=tuple(dataset(i) for i in range(1, 7)),
        dataset_rules={1: rule(1, 5), 2: rule(2, 1), 3: rule(3, 1), 4: rule(4, 1),
                       6: rule(6, 1, StartEvent.DATE_COLUMN)},
        versions=(version(1, 400), version(2, 400), version(3, 400), version(6, 400)),
        slip_items=(SlipItemFacts(3, "BE-2026-1", True), SlipItemFacts(2, "BE-2025-4", False)))
    got = outcomes("retention.past_due_handled", snap)
    assert got["dataset:1"][0] == Outcome.PASSED
    assert got["dataset:2"][0] == Outcome.FAILED
    assert "échue le" in got["dataset:2"][1]
    assert got["dataset:3"] == (Outcome.PASSED, "Échu le 11/05/2026, en attente d'élimination "
                                                "(bordereau BE-2026-1).")
    assert got["dataset:4"][0] == Outcome.NOT_APPLICABLE  # nothing stored
    assert got["dataset:5"][0] == Outcome.NOT_APPLICABLE  # no rule of its own
    assert got["dataset:6"][0] == Outcome.NOT_APPLICABLE  # row by row


def test_inventory__owner_and_confidentiality() -> None:
    snap = Snapshot(AT, datasets=(
        dataset(1, producer="Direction des mobilités", confidentiality=YesNoUndefined.NO),
        dataset(2, contact_name="Léa", confidentiality=YesNoUndefined.UNDEFINED),
        dataset(3),
        dataset(4, lifecycle_stage=LifecycleStage.DELETED),
    ))
    got = outcomes("inventory.owner_and_confidentiality", snap)
    assert got["dataset:1"][0] == Outcome.PASSED
    assert got["dataset:2"] == (Outcome.FAILED, "Non renseigné : niveau de confidentialité.")
    assert got["dataset:3"] == (Outcome.FAILED,
                                "Non renseigné : responsable et niveau de confidentialité.")
    assert got["dataset:4"][0] == Outcome.NOT_APPLICABLE


def _scored(criterion: str, met: bool | None, reason: str) -> quality.Score:
    return quality.Score(50, [quality.Criterion(criterion, met, reason)])


@pytest.mark.parametrize(("rule_id", "criterion"), [
    ("openness.no_undecided_personal_data", "no_personal_data_findings"),
    ("openness.open_licence", "licence"),
    ("openness.described", "description"),
    ("openness.updated_on_time", "updated_on_time"),
    ("openness.schema_conformity", "schema_conformity"),
])
def test_openness_rules_read_the_quality_criteria(rule_id: str, criterion: str) -> None:
    snap = Snapshot(AT, datasets=(dataset(1, **OPEN), dataset(2, **OPEN), dataset(3),
                                  dataset(4, **OPEN)),
                    quality={1: _scored(criterion, True, "Bien."),
                             2: _scored(criterion, False, "Pas bien."),
                             4: _scored(criterion, None, "Rien à juger.")})
    got = outcomes(rule_id, snap)
    assert got["dataset:1"] == (Outcome.PASSED, "Bien.")
    assert got["dataset:2"] == (Outcome.FAILED, "Pas bien.")
    assert "dataset:3" not in got  # not open data: not an item of these rules
    assert got["dataset:4"] == (Outcome.NOT_APPLICABLE, "Rien à juger.")


def test_openness__no_undecided_personal_data() -> None:
    test_openness_rules_read_the_quality_criteria("openness.no_undecided_personal_data",
                                                  "no_personal_data_findings")


def test_openness__open_licence() -> None:
    test_openness_rules_read_the_quality_criteria("openness.open_licence", "licence")


def test_openness__described() -> None:
    test_openness_rules_read_the_quality_criteria("openness.described", "description")


def test_openness__updated_on_time() -> None:
    test_openness_rules_read_the_quality_criteria("openness.updated_on_time", "updated_on_time")


def test_openness__schema_conformity() -> None:
    snap = Snapshot(AT, datasets=(dataset(1, **OPEN),),
                    quality={1: _scored("schema_conformity", False, quality.NO_SCHEMA_REASON)})
    assert outcomes("openness.schema_conformity", snap)["dataset:1"][0] \
        == Outcome.NOT_APPLICABLE  # no declared schema: nothing to conform to
    test_openness_rules_read_the_quality_criteria("openness.schema_conformity",
                                                  "schema_conformity")


LEVELS = {1: {"sensible": LevelFacts(1, "sensible", "Données sensibles", ("own",),
                                     ("france",), ())}}


def application(id: int, **fields: Any) -> ApplicationFacts:
    base: dict[str, Any] = dict(
        id=id, organisation_id=1, reference=f"APP-{id}", name=f"Application {id}",
        status="in_service", hosting_mode=HostingMode.OWN, location=DataLocation.FRANCE,
        certifications=(), non_eu_law_exposure=False, sensitivity="sensible")
    return ApplicationFacts(**(base | fields))


def test_sovereignty__hosting_strategy() -> None:
    snap = Snapshot(AT, levels=LEVELS, applications=(
        application(1), application(2, hosting_mode=HostingMode.SAAS),
        application(3, sensitivity=None), application(4, status="retired"),
        application(5, sensitivity="inconnu")))
    got = outcomes("sovereignty.hosting_strategy", snap)
    assert got["application:1"][0] == Outcome.PASSED
    assert got["application:2"][0] == Outcome.FAILED
    assert "SaaS" in got["application:2"][1]
    assert got["application:3"][0] == Outcome.NOT_APPLICABLE
    assert got["application:4"][0] == Outcome.NOT_APPLICABLE
    assert got["application:5"][0] == Outcome.FAILED


CLAUSES = {1: (ClauseFacts(1, "rgpd", "Protection des données", False),
               ClauseFacts(1, "reversibilite", "Réversibilité", True))}


def contract(id: int, **fields: Any) -> ContractFacts:
    base: dict[str, Any] = dict(
        id=id, organisation_id=1, reference=f"C-{id}", title=f"Contrat {id}",
        supplier_name="Prestataire", processor=True, end_date=None, clauses={}, tests=())
    return ContractFacts(**(base | fields))


def test_sovereignty__processor_clauses() -> None:
    snap = Snapshot(AT, clauses=CLAUSES, contracts=(
        contract(1, clauses={"rgpd": "present", "reversibilite": "negotiated"}),
        contract(2, clauses={"rgpd": "absent"}),
        contract(3, processor=False),
        contract(4, end_date=TODAY - timedelta(days=1))))
    got = outcomes("sovereignty.processor_clauses", snap)
    assert got["contract:1"][0] == Outcome.PASSED
    assert got["contract:2"] == (Outcome.FAILED, "2 clause(s) absente(s) ou non vérifiée(s) : "
                                                 "Protection des données, Réversibilité.")
    assert got["contract:3"][0] == Outcome.NOT_APPLICABLE
    assert got["contract:4"][0] == Outcome.NOT_APPLICABLE


def test_sovereignty__reversibility_tested() -> None:
    soon = TODAY + timedelta(days=100)
    snap = Snapshot(AT, clauses=CLAUSES, contracts=(
        contract(1, end_date=soon, tests=((date(2026, 1, 10), "success"),)),
        contract(2, end_date=soon),
        contract(3, end_date=soon, tests=((date(2026, 1, 10), "partial"),)),
        contract(4, end_date=TODAY + timedelta(days=800)),
        contract(5, end_date=soon, clauses={"reversibilite": "not_applicable"})))
    got = outcomes("sovereignty.reversibility_tested", snap)
    assert got["contract:1"][0] == Outcome.PASSED
    assert got["contract:2"][0] == Outcome.FAILED
    assert got["contract:3"][0] == Outcome.FAILED
    assert got["contract:4"][0] == Outcome.NOT_APPLICABLE
    assert got["contract:5"][0] == Outcome.NOT_APPLICABLE
    assert outcomes("sovereignty.reversibility_tested", snap, months=36)["contract:4"][0] \
        == Outcome.FAILED


def test_sovereignty__partner_signatures() -> None:
    snap = Snapshot(AT, organisations=(ORG,), partners=(
        PartnerFacts(1, 1, "Coopérative", date(2025, 1, 1), None),
        PartnerFacts(2, 1, "Association", date(2020, 1, 1), None),
        PartnerFacts(3, 1, "Entreprise", date(2020, 1, 1), date(2027, 1, 1)),
        PartnerFacts(4, 1, "Futur", date(2027, 1, 1), None)))
    got = outcomes("sovereignty.partner_signatures", snap)
    assert got["partner:1"] == (Outcome.PASSED, "Signature valable jusqu'au 01/01/2028.")
    assert got["partner:2"] == (Outcome.FAILED, "Signature expirée depuis le 01/01/2023.")
    assert got["partner:3"][0] == Outcome.PASSED  # its renewal date rules
    assert got["partner:4"][0] == Outcome.NOT_APPLICABLE


def test_transparency__algorithms_published() -> None:
    docs = {k: {"url": f"https://ville.example/{k}"}
            for k in ("description", "diagram", "technical")}

    def algorithm(id: int, status: str, documents: dict[str, Any], source: str | None = None
                  ) -> AlgorithmFacts:
        return AlgorithmFacts(id, 1, f"ALG-{id}", f"Algo {id}", status, "decision_support",
                              None, documents, source)
    snap = Snapshot(AT, algorithms=(
        algorithm(1, "published", docs, "https://forge.example/algo"),
        algorithm(2, "published", {"description": docs["description"]}),
        algorithm(3, "draft", docs, "https://forge.example/algo"),
        algorithm(4, "withdrawn", {})))
    got = outcomes("transparency.algorithms_published", snap)
    assert got["algorithm:1"][0] == Outcome.PASSED
    assert got["algorithm:2"] == (Outcome.FAILED, "Document(s) manquant(s) : logigramme, "
                                                  "document technique, code source commenté.")
    assert got["algorithm:3"] == (Outcome.FAILED, "Algorithme non publié.")
    assert got["algorithm:4"][0] == Outcome.NOT_APPLICABLE


def test_sobriety__read_within_year() -> None:
    snap = Snapshot(AT, datasets=tuple(dataset(i) for i in range(1, 5)),
                    versions=(version(1, 800), version(2, 800), version(3, 30)),
                    last_read={1: TODAY - timedelta(days=10), 2: TODAY - timedelta(days=500)})
    got = outcomes("sobriety.read_within_year", snap)
    assert got["dataset:1"][0] == Outcome.PASSED
    assert got["dataset:2"][0] == Outcome.FAILED
    assert got["dataset:3"] == (Outcome.PASSED, "Stocké depuis le 16/05/2026, pas encore lu.")
    assert got["dataset:4"][0] == Outcome.NOT_APPLICABLE


def test_sobriety__no_duplicate_files() -> None:
    snap = Snapshot(AT, datasets=tuple(dataset(i) for i in range(1, 5)),
                    versions=(version(1, 10, "a"), version(2, 10, "a"), version(3, 10, "b")))
    got = outcomes("sobriety.no_duplicate_files", snap)
    assert got["dataset:1"] == (Outcome.FAILED, "Contenu identique à : « Jeu 2 ».")
    assert got["dataset:3"][0] == Outcome.PASSED
    assert got["dataset:4"][0] == Outcome.NOT_APPLICABLE


def test_sobriety__storage_growth() -> None:
    other = OrganisationFacts(2, "ccas", "CCAS")
    third = OrganisationFacts(3, "commune", "Commune")
    snap = Snapshot(AT, organisations=(ORG, other, third),
                    datasets=(dataset(1), dataset(2, organisation_id=2),
                              dataset(3, organisation_id=3)),
                    versions=(version(1, 400, size=1_000_000), version(1, 10, size=100_000),
                              version(2, 400, size=1_000_000), version(2, 10, size=900_000),
                              version(3, 10, size=5)))
    got = outcomes("sobriety.storage_growth", snap)
    assert got["organisation:1"][0] == Outcome.PASSED
    assert got["organisation:2"][0] == Outcome.FAILED
    assert "90 %" in got["organisation:2"][1]
    assert got["organisation:3"][0] == Outcome.NOT_APPLICABLE
    assert outcomes("sobriety.storage_growth", snap, max_growth_percent=95)[
        "organisation:2"][0] == Outcome.PASSED


def test_a_parameter_the_rule_does_not_have_is_refused_in_french() -> None:
    with pytest.raises(ValueError, match="n'a pas de paramètre « jours »"):
        RULES["sobriety.read_within_year"].parameters_with({"jours": 3})
    for wrong in ("beaucoup", -3, 12.5, True):
        with pytest.raises(ValueError, match="nombre positif attendu"):
            RULES["sobriety.read_within_year"].parameters_with({"days": wrong})
    assert RULES["sobriety.read_within_year"].parameters_with({"days": "30"}) == {"days": 30}


def test_results_are_frozen_records() -> None:
    snap = Snapshot(AT, activities=(activity(1),))
    result = RULES["retention.rule_everywhere"].run(snap)[0]
    assert replace(result, reason="x").reason == "x"
    assert result.link == "/admin/protection/traitements/1"
