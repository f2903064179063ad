"""Destruction destroys: after a visa'd purge no copy of the purged rows is left anywhere in
the data folder (version files, kept originals, query layouts, row stores, word and sort
indexes, cached exports, temporary files), and the audit log and the slip say which files
went and how many bytes."""

from __future__ import annotations

import io
import shutil
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from patrimoine.access.models import AuditEvent
from patrimoine.bootstrap import Services
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.reading import language
from patrimoine.reading.service import Purpose, open_for_reader
from patrimoine.retention import slips
from patrimoine.retention.apply import apply_plan
from patrimoine.retention.models import EliminationSlip
from tests.factories import SYSTEM, load, retention_world, set_rule, write

PURGED = "Quarantotto"  # the surname of every expired row
KEPT = "Valdemarsson"  # the surname of every row still within its retention period
TODAY = date(2026, 6, 30)


def _subscribers(years: range) -> str:
    lines = ["nom,date_naissance,date_fin_abonnement"]
    for year in years:
        for month in (2, 9):
            name = PURGED if year < 2020 else KEPT
            lines.append(f"{name} Éloïse-{year}-{month},1961-0{month}-1{month % 7},"
                         f"{year}-0{month}-15")
    return "\n".join(lines) + "\n"


def _texts(path: Path) -> list[str]:
    """What a file holds, as text: its bytes, and its rows when it is a Parquet or DuckDB file
    (their strings may be compressed)."""
    raw = path.read_bytes()
    found = [raw.decode("utf-8", "replace")]
    if raw[:4] == b"PAR1":
        found.append(str(pq.read_table(path).to_pylist()))
    elif raw[8:12] == b"DUCK":
        # A copy: this process may hold the layout open under another configuration.
        copy = Path(tempfile.mkdtemp()) / "copy.duckdb"
        shutil.copyfile(path, copy)
        con = duckdb.connect(str(copy), read_only=True)
        try:
            for (table,) in con.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = 'main'").fetchall():
                found.append(str(con.execute(f'SELECT * FROM "{table}"').fetchall()))
        finally:
            con.close()
            shutil.rmtree(copy.parent)
    return found


def _holding(data_dir: Path, value: str) -> list[str]:
    """The files of the data folder holding `value` (any case, accents folded or not)."""
    wanted = value.lower()
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*")
                  if p.is_file() and any(wanted in t.lower() for t in _texts(p)))


def _read_every_way(services: Services, dataset: Dataset) -> None:
    """Read each version as readers do, so that every derived copy exists: its layout, row
    store and word index, a sort file, the cached CSV export of the whole version."""
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        for number in (1, 2):
            readable = open_for_reader(s, services.settings, SYSTEM, entry, number,
                                       Purpose("tests.read"))
            readable.records(language.Query(search=PURGED.lower()), language.Page())
            readable.records(language.Query(),
                             language.Page(sort=(language.SortKey("nom", True),)))
            for _ in readable.export(language.Query(), language.ExportRequest("csv")).chunks:
                pass


def test_a_visa_d_purge_leaves_no_copy_of_the_purged_rows(services: Services,
                                                           tmp_path: Path) -> None:
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "a.csv", _subscribers(range(2015, 2022))))
    load(services, w.dataset, write(tmp_path, "b.csv", _subscribers(range(2015, 2030))))
    _read_every_way(services, w.dataset)
    data_dir = services.settings.data_dir
    before = _holding(data_dir, PURGED)
    # Every kind of copy is there before, and the search finds it (the test can fail).
    assert any(p.endswith(".parquet") for p in before)
    assert any("/originals/" in p for p in before)
    assert any(p.endswith(".rows.json") for p in before)
    assert any(".export-" in p for p in before)
    assert any(p.endswith(".duckdb") and ".export-" not in p for p in before)
    set_rule(services, w.dataset, duration=5, unit="years", start_event="date_column",
             date_column="date_fin_abonnement", final_fate="destruction")
    with services.db.unit_of_work() as s:
        slip_id = slips.create_slip(s, services.settings, SYSTEM, w.org_id, today=TODAY).id
    with services.db.unit_of_work() as s:
        slips.record_visa(s, SYSTEM, slip_id, by="Mme Durand, directrice des archives "
                          "départementales", reference="VISA-2026-17")
    with services.db.unit_of_work() as s:
        outcome = apply_plan(s, services.settings, SYSTEM, today=TODAY)
    [done] = outcome.done
    assert done["details"]["new_version"] == 3

    assert _holding(data_dir, PURGED) == []
    # The kept rows are still there, and found: the search sees into what is left.
    _read_every_way_kept(services, w.dataset)
    assert any(p.endswith(".rows.json") for p in _holding(data_dir, KEPT))

    # What went, file by file, with its bytes: in the audit log and on the slip.
    gone = {p for p in before}
    with services.db.session() as s:
        [event] = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "retention.versions_destroyed")).all()
        destroyed = event.details["versions"]
        slip = s.get(EliminationSlip, slip_id)
        assert slip is not None
        record = slips.slip_json(slip)["items"][0]["destroyed"]
        organisation = s.get(Organisation, slip.organisation_id)
        assert organisation is not None
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(slips.slip_xlsx(
            slip, organisation))).get_sheet_by_index(0).to_python()
        remaining = s.scalars(select(DatasetVersion)).all()
    assert [v["version"] for v in destroyed] == [1, 2]
    listed = {f["file"] for v in destroyed for f in v["files"]}
    assert gone <= listed, "every file that held a purged row is listed"
    assert all(f["bytes"] > 0 for v in destroyed for f in v["files"]
               if not Path(f["file"]).name.startswith("."))
    assert record["files"] == sum(len(v["files"]) for v in destroyed)
    assert record["bytes"] == sum(f["bytes"] for v in destroyed for f in v["files"]) > 0
    assert record["versions"] == [1, 2]
    assert sheet[6][-1] == "Détruit"
    assert sheet[7][-1] == (f"{record['rows']} ligne(s) ; {record['files']} fichier(s), "
                            f"{record['bytes']} octets")
    assert [v.number for v in remaining] == [3]


def _read_every_way_kept(services: Services, dataset: Dataset) -> None:
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        readable = open_for_reader(s, services.settings, SYSTEM, entry, 3,
                                   Purpose("tests.read"))
        readable.records(language.Query(), language.Page())
