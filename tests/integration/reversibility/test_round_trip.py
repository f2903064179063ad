"""Reversibility: `export` then `import-all` into an empty store loses nothing.

The source instance (built once per module) is a copy of the demo territory with its
published versions, plus objects the demo does not make: an API token, a sub-organisation, a
second version of a dataset, a closed dataset with data. It is exported once; each test imports
that export (or an altered copy) into a fresh empty store, a second database from the template.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from patrimoine.access import audit
from patrimoine.access import service as accounts
from patrimoine.access.models import Account, AuditEvent
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services, bootstrap
from patrimoine.core.errors import Conflict, Invalid
from patrimoine.core.settings import Settings
from patrimoine.datastore import engine
from patrimoine.datastore.ingest import ingest
from patrimoine.datastore.models import DatasetVersion
from patrimoine.datastore.query import Page, Query, records
from patrimoine.datastore.versions import version_path
from patrimoine.documents.models import Document
from patrimoine.documents.service import path_of
from patrimoine.inventory import queries
from patrimoine.inventory.models import AccessLevel, Dataset, LifecycleStage, OrganisationKind
from patrimoine.reversibility import formats
from patrimoine.reversibility.export import export_all
from patrimoine.reversibility.restore import BadExport, import_all, store_rows
from patrimoine.storage import migrate
from patrimoine.storage.schema import metadata
from tests import factories
from tests.conftest import DemoTemplate

pytestmark = pytest.mark.heavy

BACKEND = os.environ.get("PATRIMOINE_TEST_DB", "sqlite")
TREES = "essence;hauteur;commune\nPlatane;21;Ligérac\nTilleul;12,5;Belvoir\n=SOMME(A1);3;-x\n"
TREES_2 = TREES + "Chêne;25;Montaigu\n"


@dataclass
class Source:
    services: Services
    export: Path


def _store(templates: Any, tmp: Path) -> Services:
    tmp.mkdir(parents=True, exist_ok=True)
    url = templates.new_url(tmp)
    settings = Settings(data_dir=tmp / "data", database_url=url, secret_key="test-secret-key")
    return bootstrap(settings)


@pytest.fixture(scope="module")
def source(demo_template: DemoTemplate, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Source]:
    tmp = tmp_path_factory.mktemp("reversibility-source")
    url = demo_template.copy(tmp, tmp / "data")
    services = bootstrap(Settings(data_dir=tmp / "data", database_url=url,
                                  secret_key="test-secret-key"))
    with services.db.unit_of_work() as s:
        parent = factories.organisation(s, "Métropole de Test", OrganisationKind.METROPOLE)
        child = factories.organisation(s, "Commune de Test", OrganisationKind.COMMUNE)
        child.parent_id = parent.id
        trees = factories.dataset(s, child, "Arbres d'alignement", theme="Environnement",
                                  access_level=AccessLevel.OPEN, licence="etalab-2.0",
                                  lifecycle_stage=LifecycleStage.PUBLISHED)
        factories.dataset(s, parent, "Dossiers nominatifs", theme="Social",
                          access_level=AccessLevel.RESTRICTED)
        agent = factories.account(s, "export@example.fr")
        accounts.create_api_token(s, agent, "Moissonneur")
        audit.record(s, Principal.system("tests"), "test.reversibility", "export",
                     {"accents": "é", "n": 1.5})
        trees_id = trees.id
    for content in (TREES, TREES_2):
        path = tmp / "arbres.csv"
        path.write_text(content, encoding="utf-8")
        with services.db.unit_of_work() as s:
            entry = s.get(Dataset, trees_id)
            assert entry is not None
            ingest(s, services.settings, factories.SYSTEM, entry, path)
    with services.db.session() as s:  # anchors the audit log's tip in the data folder
        assert audit.verify_with_anchor(s, services.settings.data_dir).ok
    folder = tmp / "export"
    export_all(services.settings, services.db, folder)
    yield Source(services, folder)
    services.db.dispose()


@pytest.fixture
def empty_store(_templates: Any, tmp_path: Path) -> Iterator[Services]:
    services = _store(_templates, tmp_path / "target")
    yield services
    services.db.dispose()


def _rows(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with services.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = formats.exported_columns(table)
            out[table.name] = [tuple(r) for r in conn.execute(
                select(*columns).order_by(*table.primary_key.columns))]
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_round_trip_loses_nothing(source: Source, empty_store: Services,
                                  tmp_path: Path) -> None:
    report = import_all(empty_store.settings, empty_store.db, source.export)
    assert report.versions >= 3

    # Every table's rows are equal, secret columns aside.
    before, after = _rows(source.services), _rows(empty_store)
    assert before == after
    assert all(before[t] for t in ("organisation", "dataset", "account", "api_token",
                                   "audit_event", "dataset_version", "dataset_change",
                                   "public_algorithm", "public_algorithm_dataset",
                                   "algorithm_request", "general_interest_request",
                                   "general_interest_dataset", "public_algorithm_contract",
                                   "public_algorithm_application", "stored_document"))
    # The files kept for register entries come back byte for byte.
    with source.services.db.session() as s1:
        kept = s1.scalars(select(Document)).all()
        assert kept
        for document in kept:
            copy = path_of(empty_store.settings, document)
            assert copy.read_bytes() == path_of(source.services.settings, document).read_bytes()

    # Every version file is byte-identical, and the datastore answers the same records.
    with source.services.db.session() as s1, empty_store.db.session() as s2:
        versions = s1.scalars(select(DatasetVersion).order_by(DatasetVersion.id)).all()
        for version in versions:
            twin = s2.get(DatasetVersion, version.id)
            assert twin is not None
            old = version_path(source.services.settings, version)
            new = version_path(empty_store.settings, twin)
            assert new.read_bytes() == old.read_bytes()
            page = Page(limit=50)
            assert records(engine.open_version(empty_store.settings, twin), Query(), page) \
                == records(engine.open_version(source.services.settings, version), Query(), page)

        # The audit chain still verifies, over the same number of entries.
        chain = audit.verify(s2)
        assert chain.ok and chain.checked == audit.verify(s1).checked > 0
        # … and so does its anchor, carried along (tail truncation stays detectable).
        assert (empty_store.settings.data_dir / "audit-anchor").read_bytes() == \
            (source.services.settings.data_dir / "audit-anchor").read_bytes()
        assert audit.verify_with_anchor(s2, empty_store.settings.data_dir, update=False).ok

        # The inventory statistics are the same.
        system = Principal.system("tests")
        for by in queries.STATS_FIELDS:
            assert queries.statistics(s2, system, by) == queries.statistics(s1, system, by)
        # … and the full-text search finds the same entries (its index rebuilt on insert).
        for words in ("arbres", "budget", "énergie"):
            found = [[d.id for d in queries.list_datasets(
                s, system, queries.DatasetFilters(q=words), sort="relevance").items]
                for s in (s1, s2)]
            assert found[0] == found[1] and found[0]

        # Secrets did not travel: no password works until it is set again.
        email = "export@example.fr"
        assert accounts.authenticate(s1, email, factories.PASSWORD) is not None
        assert accounts.authenticate(s2, email, factories.PASSWORD) is None
        restored = s2.scalar(select(Account).where(Account.email == email))
        assert restored is not None and restored.password_hash.startswith("!")
        restored.password_hash = accounts.hash_password("nouveau-mot-de-passe")
        assert accounts.authenticate(s2, email, "nouveau-mot-de-passe") is not None
        s2.rollback()

    # A second export of the restored instance holds the same tables, versions and catalog.
    again = tmp_path / "again"
    export_all(empty_store.settings, empty_store.db, again)
    first, second = _files(source.export), _files(again)
    assert first.keys() == second.keys()
    differing = {name for name in first if first[name] != second[name]}
    assert differing <= {"datapackage.json", "manifest.json", "README.md"}, differing  # dates

    # New rows get fresh ids after the restored ones (sequences moved on PostgreSQL).
    with empty_store.db.unit_of_work() as s:
        org = factories.organisation(s, "Nouvelle commune")
        assert org.id > max(r[0] for r in before["organisation"])


def test_export_contents(source: Source) -> None:
    folder = source.export
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for name, meta in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == meta["sha256"]
    assert set(manifest["tables"]) == {t.name for t in metadata.sorted_tables}
    assert manifest["schema_revisions"]
    assert {"table": "account", "column": "password_hash"} .items() <= \
        next(e for e in manifest["excluded"] if e["column"] == "password_hash").items()

    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    account = next(r for r in package["resources"] if r["name"] == "account")
    names = [f["name"] for f in account["schema"]["fields"]]
    assert "password_hash" not in names and "email" in names
    header = (folder / "tables/api_token.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "token_hash" not in header
    assert b"argon2" not in (folder / "tables/account.csv").read_bytes()
    event = next(r for r in package["resources"] if r["name"] == "audit_event")
    types = {f["name"]: f["type"] for f in event["schema"]["fields"]}
    assert types["at"] == "datetime" and types["details"] == "object"

    trees = json.loads((folder / "datasets/arbres-d-alignement/datapackage.json")
                       .read_text(encoding="utf-8"))
    assert trees["patrimoine:inventory"]["title"] == "Arbres d'alignement"
    assert [r["name"] for r in trees["resources"]] == ["v1-parquet", "v1-csv", "v2-parquet",
                                                       "v2-csv"]
    csv_text = (folder / "datasets/arbres-d-alignement/v2.csv").read_text(encoding="utf-8")
    assert "Chêne" in csv_text
    assert (folder / "catalog.ttl").read_text(encoding="utf-8").count("dcat:Dataset") > 1


def test_export_package_is_valid_frictionless(source: Source) -> None:
    from frictionless import Package, system

    with system.use_context(trusted=True):
        report = Package(str(source.export / "datapackage.json")).validate()
    errors = [e.message for task in report.tasks for e in task.errors][:10]
    assert report.valid, errors


def test_refuses_a_store_that_is_not_empty(source: Source) -> None:
    with pytest.raises(Conflict, match="n'est pas vide"):
        import_all(source.services.settings, source.services.db, source.export)


def _tampered(source: Source, tmp_path: Path, edit: Callable[[Path], None],
              rehash: bool = False) -> Path:
    folder = tmp_path / "tampered"
    shutil.copytree(source.export, folder)
    edit(folder)
    if rehash:  # a consistent manifest: only the import itself can notice
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for name, meta in manifest["files"].items():
            data = (folder / name).read_bytes()
            meta.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def _assert_still_empty(store: Services) -> None:
    assert not any(store_rows(store.db).values())
    versions = store.settings.data_dir / "versions"
    assert not versions.exists() or not any(p.is_file() for p in versions.rglob("*"))


def test_a_tampered_file_is_detected(source: Source, empty_store: Services,
                                     tmp_path: Path) -> None:
    def edit(folder: Path) -> None:
        path = folder / "tables/audit_event.csv"
        path.write_text(path.read_text(encoding="utf-8").replace("test.reversibility",
                                                                 "test.falsifie"))

    folder = _tampered(source, tmp_path, edit)
    with pytest.raises(BadExport, match="modifié") as caught:
        import_all(empty_store.settings, empty_store.db, folder)
    assert caught.value.errors == ["tables/audit_event.csv : contenu modifié (empreinte sha256 "
                                   "différente)"]
    _assert_still_empty(empty_store)


def test_a_bad_row_late_in_the_import_leaves_the_store_empty(
        source: Source, empty_store: Services, tmp_path: Path) -> None:
    # The last table inserted gets an unreadable value, after the versions' rows: the
    # transaction is rolled back and no version file stays behind.
    last = formats.insertion_plan(list(metadata.sorted_tables))[-1].table.name

    def edit(folder: Path) -> None:
        path = folder / "tables" / f"{last}.csv"
        lines = path.read_text(encoding="utf-8").split("\r\n")
        lines.insert(1, ",".join(["pas-un-nombre"] * len(lines[0].split(","))))
        path.write_text("\r\n".join(lines), encoding="utf-8")

    folder = _tampered(source, tmp_path, edit, rehash=True)
    with pytest.raises(Invalid):
        import_all(empty_store.settings, empty_store.db, folder)
    _assert_still_empty(empty_store)

    # The last version file does not match its row: refused after the other files were
    # copied into the data folder, which are removed again.
    def swap(folder: Path) -> None:
        trees = folder / "datasets/arbres-d-alignement"
        (trees / "v2.parquet").write_bytes((trees / "v1.parquet").read_bytes())

    shutil.rmtree(tmp_path / "tampered")
    folder = _tampered(source, tmp_path, swap, rehash=True)
    with pytest.raises(BadExport, match="ne correspond pas"):
        import_all(empty_store.settings, empty_store.db, folder)
    _assert_still_empty(empty_store)


def test_other_schema_revision_is_refused(source: Source, empty_store: Services,
                                          tmp_path: Path) -> None:
    def edit(folder: Path) -> None:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest["schema_revisions"] = ["zz9999"]
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    folder = _tampered(source, tmp_path, edit)
    with pytest.raises(BadExport, match="révision de schéma zz9999"):
        import_all(empty_store.settings, empty_store.db, folder)
    with pytest.raises(BadExport, match="n'est pas un export"):
        import_all(empty_store.settings, empty_store.db, tmp_path)


def test_cli_export_import_and_set_password(
        cli: Callable[..., Any], services: Services, _templates: Any, tmp_path: Path) -> None:
    with services.db.unit_of_work() as s:
        org = factories.organisation(s)
        factories.dataset(s, org, "Budget primitif", theme="Finances")
        factories.account(s, "cli@example.fr")
    folder = tmp_path / "export"
    done = cli("export", str(folder))
    assert done.returncode == 0, done.stderr
    assert "Export terminé" in done.stdout and "account.password_hash" in done.stdout
    assert "README.md" in done.stdout
    with services.db.session() as s:  # exporting is logged (after the snapshot)
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert last.action == "instance.export" and last.details["rows"] > 0

    # A fresh install: a database without any table yet (import-all migrates it first).
    target = tmp_path / "target"
    target.mkdir()
    env = {"PATRIMOINE_DATA_DIR": str(target / "data"),
           "PATRIMOINE_DATABASE_URL": _blank_database(_templates, target)}
    done = cli("import-all", str(folder), env=env)
    assert done.returncode == 0, done.stderr
    assert "Import terminé" in done.stdout and "set-password" in done.stdout
    again = cli("import-all", str(folder), env=env)
    assert again.returncode != 0 and "n'est pas vide" in again.stderr
    assert "Traceback" not in again.stderr

    done = cli("user", "set-password", "cli@example.fr",
               env={**env, "PATRIMOINE_NEW_PASSWORD": "un-nouveau-secret"})
    assert done.returncode == 0, done.stderr
    assert "Mot de passe défini pour cli@example.fr" in done.stdout
    unknown = cli("user", "set-password", "personne@example.fr",
                  env={**env, "PATRIMOINE_NEW_PASSWORD": "un-nouveau-secret"})
    assert unknown.returncode != 0 and "Aucun compte" in unknown.stderr
    restored = bootstrap(Settings(data_dir=target / "data",
                                  database_url=env["PATRIMOINE_DATABASE_URL"]))
    try:
        with restored.db.session() as s:
            assert accounts.authenticate(s, "cli@example.fr", "un-nouveau-secret") is not None
            assert s.scalar(select(func.count()).select_from(Dataset)) == 1
            assert audit.verify(s).ok
            actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
            assert actions[-2:] == ["instance.import", "account.set_password"]
    finally:
        restored.db.dispose()


@pytest.mark.skipif(BACKEND != "postgresql", reason="needs PostgreSQL (PATRIMOINE_TEST_DB)")
def test_sqlite_to_postgresql_and_back(empty_store: Services,
                                                    tmp_path: Path) -> None:
    # A SQLite instance (the default install), moved to PostgreSQL through the export.
    tmp = tmp_path / "sqlite"
    tmp.mkdir()
    settings = Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'p.sqlite3'}",
                        secret_key="test-secret-key")
    lite = bootstrap(settings, check_schema=False)
    migrate.upgrade(lite.db)
    try:
        with lite.db.unit_of_work() as s:
            parent = factories.organisation(s, "Métropole", OrganisationKind.METROPOLE)
            child = factories.organisation(s, "Commune", OrganisationKind.COMMUNE)
            child.parent_id = parent.id
            entry = factories.dataset(s, child, "Arbres", keywords=["arbres", "été"],
                                      cost_per_year=Decimal("1234.50"))
            agent = factories.account(s, "lite@example.fr")
            accounts.create_api_token(s, agent, "Jeton")
            path = tmp / "arbres.csv"
            path.write_text(TREES, encoding="utf-8")
            ingest(s, settings, factories.SYSTEM, entry, path)
        import_all(empty_store.settings, empty_store.db,
                   _exported(lite, tmp_path / "from-sqlite"))
        assert _rows(lite) == _rows(empty_store)
        with empty_store.db.session() as s:
            assert audit.verify(s).ok
            version = s.scalars(select(DatasetVersion)).one()
            page = records(engine.open_version(empty_store.settings, version), Query(), Page())
            assert [r["essence"] for r in page.rows] == ["Platane", "Tilleul", "=SOMME(A1)"]

        # And back: from PostgreSQL into a new SQLite store.
        back = tmp_path / "back"
        back.mkdir()
        again = bootstrap(Settings(data_dir=back / "data",
                                   database_url=f"sqlite:///{back / 'p.sqlite3'}"),
                          check_schema=False)
        try:
            import_all(again.settings, again.db, _exported(empty_store, tmp_path / "from-pg"))
            assert _rows(again) == _rows(lite)
        finally:
            again.db.dispose()
    finally:
        lite.db.dispose()


def _blank_database(templates: Any, tmp: Path) -> str:
    if BACKEND != "postgresql":
        return f"sqlite:///{tmp / 'neuve.sqlite3'}"
    name = f"blank_{tmp.parent.name[-20:].replace('-', '_')}"
    with templates._admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    return f"{templates.server}/{name}"


def _exported(services: Services, folder: Path) -> Path:
    export_all(services.settings, services.db, folder)
    return folder


def test_export_reads_one_snapshot(services: Services) -> None:
    # Rows written while an export runs are not half in it: every table is read as of the
    # moment it began (REPEATABLE READ on PostgreSQL, one WAL read transaction on SQLite).
    from patrimoine.reversibility.export import _snapshot

    with services.db.unit_of_work() as s:
        factories.organisation(s, "Première")
    with _snapshot(services.db) as conn:
        before = conn.scalar(text("SELECT count(*) FROM organisation"))
        with services.db.unit_of_work() as s:
            factories.organisation(s, "Seconde")
        assert conn.scalar(text("SELECT count(*) FROM organisation")) == before == 1


def test_every_dataset_package_is_valid_frictionless(source: Source, tmp_path: Path) -> None:
    """Each dataset's package passes frictionless as a reader gets it: the CSV read against
    its schema, the Parquet file's size and hash checked (file resources)."""
    from frictionless import Package

    packages = sorted((source.export / formats.DATASETS_DIR).glob("*/datapackage.json"))
    assert len(packages) > 1
    failed = {}
    for path in packages:
        report = Package(str(path)).validate()
        if not report.valid:
            failed[path.parent.name] = [f"{e.type}: {e.message}" for task in report.tasks
                                        for e in task.errors][:5] or [
                                            str(e) for e in report.errors][:5]
    assert failed == {}

    # the check covers the Parquet copy: one byte more and the package is refused
    folder = tmp_path / "arbres"
    shutil.copytree(source.export / "datasets/arbres-d-alignement", folder)
    with (folder / "v1.parquet").open("ab") as fh:
        fh.write(b"x")
    report = Package(str(folder / "datapackage.json")).validate()
    assert {e.type for task in report.tasks for e in task.errors} >= {"byte-count", "hash-count"}


def test_frictionless_command_validates_a_dataset_package(source: Source) -> None:
    """The operator's check the README gives, as they would run it."""
    import subprocess
    import sys

    tool = Path(sys.executable).with_name("frictionless")
    done = subprocess.run([str(tool), "validate", "datapackage.json"], capture_output=True,
                          text=True, cwd=source.export / "datasets/arbres-d-alignement",
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_explains_every_file(source: Source) -> None:
    readme = (source.export / formats.README).read_text(encoding="utf-8")
    assert readme.startswith("# Export complet de l'instance Patrimoine")
    lines = readme.splitlines()
    for path in sorted(p for p in source.export.rglob("*") if p.is_file()):
        relative = path.relative_to(source.export).as_posix()
        if relative.startswith(f"{formats.DATASETS_DIR}/"):
            folder = f"`{path.parent.relative_to(source.export).as_posix()}/`"
            line = next((x for x in lines if x.startswith(f"- {folder}")), "")
            assert f"`{path.name}`" in line, relative
        else:
            assert f"`{relative}`" in readme, relative
    assert "« Arbres d'alignement », 2 versions" in readme
    assert "`account.password_hash`" in readme  # the secrets left out are named
