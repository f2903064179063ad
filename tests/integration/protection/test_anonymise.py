"""Anonymised versions: each operation's values, the key kept outside the data, the gate,
k-anonymity figures and small-count suppression (through the reading service)."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import select, text

from patrimoine.access.audit import AuditEvent
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Forbidden, Invalid
from patrimoine.datastore.models import DatasetVersion
from patrimoine.datastore.versions import version_path
from patrimoine.inventory.models import Dataset, DatasetChange
from patrimoine.protection.findings import anonymise as anon
from patrimoine.protection.findings import disclosure, keys, service
from patrimoine.protection.findings.models import Anonymisation
from patrimoine.protection.gate import publication_blockers
from patrimoine.reading.service import Purpose, open_for_reader
from tests.factories import KNOWN_CLASSES_CSV, PersonsWorld, persons_world


def _rows(services: Services, version: DatasetVersion) -> list[dict[str, Any]]:
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{version_path(services.settings, version)}')"
                     " ORDER BY _row")
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def _run(services: Services, w: PersonsWorld, plan: list[dict[str, Any]],
         who: Any = None) -> DatasetVersion:
    with services.db.unit_of_work() as s:
        return anon.anonymise(s, services.settings, who or w.editor, s.get(Dataset, w.dataset.id),
                              s.get(DatasetVersion, w.version.id), anon.parse_plan(plan))


def test_each_operation_gives_the_expected_values(services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path)
    before = _rows(services, w.version)
    v2 = _run(services, w, [
        {"op": "drop", "column": "prenom"},
        {"op": "mask", "column": "nom", "keep_first": 1, "keep_last": 1},
        {"op": "pseudonymise", "column": "email"},
        {"op": "generalise", "column": "date_naissance", "level": "month"},
        {"op": "generalise", "column": "age", "level": "band", "size": 10},
        {"op": "generalise", "column": "code_postal", "level": "department"},
        {"op": "generalise", "column": "latitude", "level": "grid", "size": 500},
    ])
    assert v2.number == 2 and v2.row_count == 40
    after = _rows(services, v2)
    assert "prenom" not in after[0]
    assert [r["_row"] for r in after] == list(range(1, 41))
    names = {c["name"]: c["type"] for c in v2.columns}
    assert names["date_naissance"] == "string" and names["age"] == "string"
    assert names["latitude"] == "number" and "prenom" not in names
    key = keys.dataset_key(services.settings, w.dataset)
    for b, a in zip(before, after, strict=True):
        assert a["nom"] == b["nom"][0] + "*" * (len(b["nom"]) - 2) + b["nom"][-1]
        assert a["email"] == hmac.new(key, b["email"].encode(), hashlib.sha256).hexdigest()
        assert a["date_naissance"] == b["date_naissance"].strftime("%Y-%m")
        low = b["age"] // 10 * 10
        assert a["age"] == f"{low}-{low + 9}"
        assert a["montant"] == b["montant"]
        # Within half a cell of the original, on the cell centre.
        assert abs(a["latitude"] - b["latitude"]) <= 250 / 111_320 + 1e-6
        assert abs(a["longitude"] - b["longitude"]) <= 400 / 111_320 + 1e-6
    postcodes = {b["code_postal"]: a["code_postal"] for b, a in zip(before, after, strict=True)}
    assert {str(k).zfill(5): v for k, v in postcodes.items()} == {
        "45000": "45", "20090": "2A", "20200": "2B", "97411": "974", "13001": "13"}
    # Nearby points fall in one cell: fewer distinct positions than rows.
    assert len({(a["latitude"], a["longitude"]) for a in after}) < 40
    # The original version is untouched; what was applied is recorded.
    assert _rows(services, w.version) == before
    with services.db.session() as s:
        record = s.scalar(select(Anonymisation).where(Anonymisation.result_version_id == v2.id))
        stored = s.get(DatasetVersion, v2.id)
        history = s.scalars(select(DatasetChange.action).where(
            DatasetChange.dataset_id == w.dataset.id)).all()
    assert record.source_number == 1 and record.key_id == keys.key_id(w.dataset)
    assert [o["op"] for o in record.operations].count("generalise") == 5  # lat + lon
    assert stored.ingest_settings["anonymisation"]["source_version"] == 1
    assert "version_anonymised" in history


def test_mask_of_short_values_and_other_widths(services: Services, tmp_path: Path) -> None:
    csv = "ref,code\nab,1234567\nabcdef,12\n,5\n"
    w = persons_world(services, tmp_path, csv)
    v2 = _run(services, w, [{"op": "mask", "column": "ref", "keep_first": 2, "keep_last": 0},
                            {"op": "mask", "column": "code", "keep_first": 0, "keep_last": 2}])
    assert [(r["ref"], r["code"]) for r in _rows(services, v2)] == [
        ("**", "*****67"), ("ab****", "**"), (None, "*")]


def test_year_generalisation(services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path)
    v2 = _run(services, w, [{"op": "generalise", "column": "date_naissance", "level": "year"}])
    years = [r["date_naissance"] for r in _rows(services, v2)]
    assert years[0] == 1950 and all(isinstance(y, int) for y in years)


def test_the_key_stays_outside_the_data(services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path)
    v2 = _run(services, w, [{"op": "pseudonymise", "column": "email"}])
    path = services.settings.data_dir / "keys" / keys.key_id(w.dataset)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    secret = path.read_text().strip()
    raw = bytes.fromhex(secret)
    parquet = version_path(services.settings, v2).read_bytes()
    assert secret.encode() not in parquet and raw not in parquet
    with services.db.session() as s:
        for table in ("dataset_version", "anonymisation", "audit_event", "dataset_change",
                      "personal_data_finding"):
            for row in s.execute(text(f"SELECT * FROM {table}")):
                assert secret not in str(row) and secret.upper() not in str(row)
    # The same key gives the same pseudonyms in a later anonymisation.
    with services.db.unit_of_work() as s:
        again = anon.anonymise(s, services.settings, w.editor, s.get(Dataset, w.dataset.id),
                               s.get(DatasetVersion, w.version.id),
                               anon.parse_plan([{"op": "pseudonymise", "column": "email"},
                                                {"op": "drop", "column": "montant"}]))
    assert [r["email"] for r in _rows(services, again)] == [
        r["email"] for r in _rows(services, v2)]


def test_gate_after_anonymisation(services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path)
    with services.db.unit_of_work() as s:
        v1 = s.get(DatasetVersion, w.version.id)
        assert publication_blockers(s, v1, services.settings)
    # Pseudonymised email still blocks; everything else is cleared.
    v2 = _run(services, w, [
        {"op": "drop", "column": "prenom"}, {"op": "mask", "column": "nom"},
        {"op": "pseudonymise", "column": "email"},
        {"op": "generalise", "column": "date_naissance", "level": "year"},
        {"op": "generalise", "column": "latitude", "level": "grid", "size": 1000},
    ])
    with services.db.session() as s:
        version = s.get(DatasetVersion, v2.id)
        reasons = publication_blockers(s, version, services.settings)
        statuses = {v.finding.key: v.status for v in service.views(s, version)}
        assert publication_blockers(s, s.get(DatasetVersion, w.version.id))  # original: closed
    assert len(reasons) == 2 and "« email »" in reasons[0] and "pseudonymisée" in reasons[0]
    assert reasons[1].startswith("k-anonymat insuffisant sur date_naissance, latitude")
    assert statuses[("email", "email")] == "undecided"
    assert all(st == "cleared" for k, st in statuses.items() if k[0] != "email")
    v3 = _run(services, w, [
        {"op": "drop", "column": "prenom"}, {"op": "mask", "column": "nom"},
        {"op": "drop", "column": "email"},
        {"op": "generalise", "column": "date_naissance", "level": "year"},
        {"op": "generalise", "column": "latitude", "level": "grid", "size": 1000},
    ])
    with services.db.session() as s:
        v3 = s.get(DatasetVersion, v3.id)
        assert [r[:22] for r in publication_blockers(s, v3, services.settings)] == [
            "k-anonymat insuffisant"]
        # Without the settings to read its file, its risk is not judged: it stays closed.
        assert "n'a pas pu être évalué" in publication_blockers(s, v3)[0]
    v4 = _run(services, w, [
        {"op": "drop", "column": "prenom"}, {"op": "mask", "column": "nom"},
        {"op": "drop", "column": "email"}, {"op": "drop", "column": "date_naissance"},
        {"op": "drop", "column": "latitude"}, {"op": "drop", "column": "longitude"},
    ])
    with services.db.session() as s:
        assert publication_blockers(s, s.get(DatasetVersion, v4.id), services.settings) == []


def test_invalid_plans_are_explained(services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path)
    cases = [
        ([{"op": "anonymise", "column": "nom"}], "précisez l'opération"),
        ([{"op": "drop", "column": "inconnue"}], "Colonne inconnue"),
        ([{"op": "generalise", "column": "nom", "level": "month"}], "s'applique aux colonnes"),
        ([{"op": "generalise", "column": "montant", "level": "grid"}], "position"),
        ([{"op": "generalise", "column": "age", "level": "siècle"}], "niveau"),
        ([{"op": "mask", "column": "nom", "keep_first": "x"}], "nombre entier"),
        ([{"op": "drop", "column": "nom"}, {"op": "mask", "column": "nom"}], "une seule"),
        ([], "Aucune opération"),
    ]
    for plan, message in cases:
        with pytest.raises(Invalid) as info:
            with services.db.unit_of_work() as s:
                anon.anonymise(s, services.settings, w.editor, s.get(Dataset, w.dataset.id),
                               s.get(DatasetVersion, w.version.id), anon.parse_plan(plan))
        assert message in " ".join(info.value.errors), (plan, info.value.errors)
    every = [{"op": "drop", "column": c} for c in w.version.column_names()]
    with pytest.raises(Invalid) as info, services.db.unit_of_work() as s:
        anon.anonymise(s, services.settings, w.editor, s.get(Dataset, w.dataset.id),
                       s.get(DatasetVersion, w.version.id), anon.parse_plan(every))
    assert "Toutes les colonnes" in " ".join(info.value.errors)
    with pytest.raises(Forbidden), services.db.unit_of_work() as s:
        anon.anonymise(s, services.settings, w.reader, s.get(Dataset, w.dataset.id),
                       s.get(DatasetVersion, w.version.id),
                       anon.parse_plan([{"op": "drop", "column": "nom"}]))
    with services.db.session() as s:
        assert s.scalar(select(DatasetVersion.number).order_by(
            DatasetVersion.number.desc()).limit(1)) == 1


def test_cli_specs() -> None:
    ops = anon.parse_cli(["a"], ["b", "c:2:3"], ["d"], ["e:month", "f:band:5", "g:grid"])
    assert [o.record() for o in ops] == [
        {"op": "drop", "column": "a"},
        {"op": "mask", "column": "b", "keep_first": 1, "keep_last": 1},
        {"op": "mask", "column": "c", "keep_first": 2, "keep_last": 3},
        {"op": "pseudonymise", "column": "d"},
        {"op": "generalise", "column": "e", "level": "month"},
        {"op": "generalise", "column": "f", "level": "band", "size": 5},
        {"op": "generalise", "column": "g", "level": "grid", "size": 200},
    ]


def test_k_anonymity_on_a_known_table(services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path, KNOWN_CLASSES_CSV)
    report = disclosure.k_anonymity(services.settings, w.version,
                                    ["sexe", "annee", "commune"], target=3)
    # Classes: (F,1980,Orléans)=3, (M,1980,Orléans)=2, (F,1990,Olivet)=1, (M,1990,Olivet)=4
    assert (report.rows, report.classes, report.k) == (10, 4, 1)
    assert (report.classes_below_target, report.rows_below_target) == (2, 3)
    assert report.worst[0] == {"values": {"sexe": "F", "annee": 1990, "commune": "Olivet"},
                               "size": 1}
    assert [c["size"] for c in report.worst] == [1, 2, 3, 4]
    coarse = disclosure.k_anonymity(services.settings, w.version, ["commune"], target=3)
    assert (coarse.k, coarse.classes, coarse.classes_below_target) == (5, 2, 0)
    default = disclosure.k_anonymity(services.settings, w.version, ["commune"])
    assert default.target == 11 and default.classes_below_target == 2
    with pytest.raises(Invalid, match="inconnue"):
        disclosure.k_anonymity(services.settings, w.version, ["nope"])


def test_small_counts_are_suppressed(services: Services, tmp_path: Path) -> None:
    w = persons_world(services, tmp_path, KNOWN_CLASSES_CSV)
    with services.db.unit_of_work() as s:
        readable = open_for_reader(s, services.settings, w.editor, w.dataset.slug, 1,
                                   Purpose("dataset.counts_read"))
        result = readable.counts(["sexe", "commune"], threshold=3)
        default = readable.counts(["commune"])
        with pytest.raises(Invalid, match="inconnue"):
            readable.counts(["nope"])
    # A suppressed cell is left out whole: its keys would tell who is in it.
    assert [(g["values"]["sexe"], g["values"]["commune"], g["count"]) for g in result.groups] \
        == [("F", "Orléans", 3), ("M", "Olivet", 4)]
    assert result.suppressed_groups == 2
    assert default.threshold == 11 and default.groups == [] and default.suppressed_groups == 2
    with services.db.session() as s:
        assert s.scalars(select(AuditEvent)).first() is not None


def test_lineage_keeps_pseudonymised_and_cleared_columns(services: Services, tmp_path: Path
                                                         ) -> None:
    from patrimoine.protection.gate import stays_closed
    w = persons_world(services, tmp_path)
    v2 = _run(services, w, [
        {"op": "pseudonymise", "column": "email"}, {"op": "mask", "column": "nom"},
        {"op": "drop", "column": "prenom"},
        {"op": "generalise", "column": "date_naissance", "level": "year"},
        {"op": "generalise", "column": "latitude", "level": "grid", "size": 1000}])
    with services.db.unit_of_work() as s:
        v3 = anon.anonymise(s, services.settings, w.editor, s.get(Dataset, w.dataset.id),
                            s.get(DatasetVersion, v2.id),
                            anon.parse_plan([{"op": "drop", "column": "montant"}]))
        statuses = {v.finding.key: v.status for v in service.views(s, v3)}
        reasons = publication_blockers(s, v3, services.settings)
        assert service.applied_operations(s, v3)["nom"] == "mask"
        assert stays_closed(s, s.get(DatasetVersion, w.version.id))  # anonymised from
        assert stays_closed(s, s.get(DatasetVersion, v2.id))  # pseudonymised email
        assert stays_closed(s, v3)
    assert statuses[("email", "email")] == "undecided"
    # The quasi-identifiers generalised in v2 are judged in v3 too.
    assert len(reasons) == 2 and "pseudonymisée" in reasons[0] and "k = 1" in reasons[1]
    with services.db.unit_of_work() as s:
        v3 = s.get(DatasetVersion, v3.id)
        service.decide(s, w.dpo, s.get(Dataset, w.dataset.id), v3, "email", "email",
                       "accepted", "Pseudonymes nécessaires au suivi ; clé détruite à J+30.")
        assert [r[:22] for r in publication_blockers(s, v3, services.settings)] == [
            "k-anonymat insuffisant"]
        assert not stays_closed(s, v3)
