"""An anonymised version is judged by its re-identification risk before open publication:
k-anonymity (and l-diversity with a sensitive column) over the quasi-identifiers that the
anonymisation and the DPO designate, a warning when a kept column defeats a generalisation,
and small-count suppression that never shows a suppressed cell's keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from patrimoine.access import service as accounts
from patrimoine.access.models import Account
from patrimoine.bootstrap import Services
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset
from patrimoine.protection.findings import anonymise as anon
from patrimoine.protection.gate import publication_blockers
from patrimoine.reading.service import Purpose, open_for_reader
from tests.factories import persons_world

T = TypeVar("T")

PLACES = [("45000", "Orléans"), ("45160", "Olivet"), ("45140", "Saint-Jean-de-la-Ruelle"),
          ("37000", "Tours"), ("37300", "Joué-lès-Tours")]


def social_aid_csv(n: int = 45) -> str:
    """Beneficiaries: three birth years, five communes (one postcode each, two
    départements); the allowance is the same for everyone born in 1950 in Indre-et-Loire."""
    lines = ["nom,date_naissance,code_postal,commune,aide"]
    for i in range(n):
        postcode, commune = PLACES[i % 5]
        aide = "APA" if i % 3 == 0 and i % 5 in (3, 4) else ["APA", "RSA"][i % 2]
        lines.append(f"Nom{i},{1950 + (i % 3) * 10}-0{1 + i % 9}-1{i % 10},{postcode},"
                     f"{commune},{aide}")
    return "\n".join(lines) + "\n"


GENERALISED: list[dict[str, Any]] = [
    {"op": "drop", "column": "nom"},
    {"op": "generalise", "column": "date_naissance", "level": "year"},
    {"op": "generalise", "column": "code_postal", "level": "department"},
]


def _get(s: Session, cls: type[T], id_: int | None) -> T:
    found = s.get(cls, id_)
    assert found is not None
    return found


def _anonymise(services: Services, w: Any, plan: list[dict[str, Any]], **kw: Any
               ) -> DatasetVersion:
    with services.db.unit_of_work() as s:
        return anon.anonymise(s, services.settings, w.editor, _get(s, Dataset, w.dataset.id),
                              _get(s, DatasetVersion, w.version.id), anon.parse_plan(plan),
                              **kw)


def _blockers(services: Services, version: DatasetVersion) -> list[str]:
    with services.db.unit_of_work() as s:
        return publication_blockers(s, _get(s, DatasetVersion, version.id), services.settings)


def test_a_kept_commune_defeats_the_departement_and_blocks(services: Services,
                                                            tmp_path: Path) -> None:
    w = persons_world(services, tmp_path, social_aid_csv())
    kept = _anonymise(services, w, GENERALISED)
    record = kept.ingest_settings["anonymisation"]
    assert record["quasi_identifiers"] == ["date_naissance", "code_postal", "commune"]
    assert len(record["warnings"]) == 1
    assert "« commune »" in record["warnings"][0] and "« code_postal »" in record["warnings"][0]
    reasons = _blockers(services, kept)
    assert len(reasons) == 1, reasons
    assert "k-anonymat insuffisant" in reasons[0] and "k = 3" in reasons[0]
    assert "le seuil de l'ouverture est 5" in reasons[0]
    assert "[date_naissance = 1950, code_postal = 37, commune = Joué-lès-Tours] : 3" \
        in reasons[0]
    # Without the commune: classes (year, département) of 6 and 9 rows pass k >= 5.
    dropped = _anonymise(services, w, GENERALISED + [{"op": "drop", "column": "commune"}])
    assert dropped.ingest_settings["anonymisation"]["warnings"] == []
    assert _blockers(services, dropped) == []


def test_the_threshold_is_a_setting_and_the_dpo_adds_quasi_identifiers(
        services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path, social_aid_csv())
    plan = GENERALISED + [{"op": "drop", "column": "commune"}]
    version = _anonymise(services, w, plan, quasi_identifiers=["aide"])
    assert version.ingest_settings["anonymisation"]["quasi_identifiers"] == [
        "date_naissance", "code_postal", "aide"]
    reasons = _blockers(services, version)
    assert len(reasons) == 1 and "sur date_naissance, code_postal, aide : k = 2" in reasons[0]
    services.settings.open_data_min_k = 1
    assert _blockers(services, version) == []


def test_l_diversity_of_a_sensitive_column(services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path, social_aid_csv())
    masked = [{"op": "mask", "column": "nom"}, *GENERALISED[1:],
              {"op": "drop", "column": "commune"}]
    version = _anonymise(services, w, masked, sensitive="aide")
    reasons = _blockers(services, version)
    assert len(reasons) == 1, reasons
    assert "l-diversité insuffisante pour « aide » : l = 1" in reasons[0]
    assert "[date_naissance = 1950, code_postal = 37] : 1 valeur(s)" in reasons[0]
    # A later anonymised copy keeps the quasi-identifiers and the sensitive column.
    with services.db.unit_of_work() as s:
        again = anon.anonymise(s, services.settings, w.editor, _get(s, Dataset, w.dataset.id),
                               _get(s, DatasetVersion, version.id),
                               anon.parse_plan([{"op": "drop", "column": "nom"}]))
        record = again.ingest_settings["anonymisation"]
        assert (record["quasi_identifiers"], record["sensitive"]) == (
            ["date_naissance", "code_postal"], "aide")
        assert publication_blockers(s, again, services.settings) == reasons


def test_the_api_shows_the_warning_and_the_classes_at_fault(
        client: TestClient, services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path, social_aid_csv())
    with services.db.unit_of_work() as s:
        _, token = accounts.create_api_token(s, _get(s, Account, w.editor.account_id),
                                             "tests")
    base = f"/api/v1/datasets/{w.dataset.slug}/versions"
    r = client.post(base + "/1/anonymise", json={"operations": GENERALISED},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["quasi_identifiers"] == ["date_naissance", "code_postal", "commune"]
    assert "annule sa généralisation" in body["warnings"][0]
    assert any("k-anonymat insuffisant" in b for b in body["blockers"])
    r = client.get(base + "/2/findings", headers={"Authorization": f"Bearer {token}"})
    assert any("Classes en défaut" in b for b in r.json()["blockers"])


def test_suppressed_cells_do_not_show_who_is_in_them(services: Services,
                                                     tmp_path: Path) -> None:
    w = persons_world(services, tmp_path, social_aid_csv())
    with services.db.unit_of_work() as s:
        readable = open_for_reader(s, services.settings, w.editor, w.dataset.slug, 1,
                                   Purpose("dataset.counts_read"))
        result = readable.counts(["nom", "commune"], threshold=2)
    assert result.groups == [] and result.suppressed_groups == 45
    assert "Nom7" not in str(result.to_dict())
