"""The suite runs against SQLite, or with PATRIMOINE_TEST_DB=postgresql against a real
PostgreSQL that the run starts itself (or PATRIMOINE_TEST_DATABASE_URL, an existing one).
Each test gets its own migrated database, a copy of a template (on PostgreSQL, one an
earlier test left and that was emptied); a test marked `demo` gets a store (database and
data folder) copied from the demo territory, which each worker loads once. Commands run in
process (`cli`), or as the installed `patrimoine` in a subprocess (`installed_cli`) where only
a real process shows it."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from patrimoine.access import service as accounts
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services, bootstrap
from patrimoine.cli import common as cli_common
from patrimoine.cli import main as cli_main
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.demo.loader import load_demo
from patrimoine.demo.territory import PASSWORD_ENV, Credential
from patrimoine.storage import migrate
from patrimoine.storage.schema import metadata
from patrimoine.web.app import create_app
from tests.support.postgres import TemporaryCluster

BACKEND = os.environ.get("PATRIMOINE_TEST_DB", "sqlite")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--screenshots", action="store_true",
                     help="Write screenshots of the pages to docs/screenshots.")


def pytest_report_header() -> str:
    return f"patrimoine database backend: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files marked `heavy` (tens of CPU seconds each) come first, so that the workers, which
    take files in order, end together instead of one finishing a heavy file alone.

    Tests that never reach the database run in the SQLite run only, not again on
    PostgreSQL: unit tests (tests/unit touches no database; the marker `database_free` says
    so for an integration test whose subject is not the store) and browser tests (pages)."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)  # stable
    if BACKEND == "sqlite":
        return
    unit = Path(__file__).parent / "unit"
    kept, deselected = [], []
    for item in items:
        database_free = (item.path.is_relative_to(unit)
                         or item.get_closest_marker("database_free") is not None)
        (deselected if database_free else kept).append(item)
    skip = pytest.mark.skip(reason="browser tests run on SQLite only (pages, not the database)")
    for item in kept:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)
    config.hook.pytest_deselected(items=deselected)
    items[:] = kept


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashing() -> Iterator[None]:
    """Argon2id at its smallest cost: tests create and log in hundreds of accounts, each hash
    costing a quarter of a CPU second at the production cost. Same algorithm and checks;
    commands run as subprocesses keep the production cost."""
    production = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    accounts._hasher = production


class _Templates:
    """Makes one migrated database per test by copying a migrated template. On PostgreSQL a
    test's database is emptied when it ends and given to a later test: deleting the rows
    takes milliseconds, creating a database from the template a fifth of a second."""

    def __init__(self, tmp_root: Path) -> None:
        self.counter = itertools.count()
        self.cluster: TemporaryCluster | None = None
        self.emptied: list[str] = []
        if BACKEND == "postgresql":
            server = os.environ.get("PATRIMOINE_TEST_DATABASE_URL")
            if server is None:
                self.cluster = TemporaryCluster().start()
                server = self.cluster.url()
            self.server = server.rsplit("/", 1)[0]
            self._admin = create_engine(f"{self.server}/postgres", isolation_level="AUTOCOMMIT")
            with self._admin.connect() as c:
                c.execute(text("DROP DATABASE IF EXISTS patrimoine_template"))
                c.execute(text("CREATE DATABASE patrimoine_template"))
            db = Database(f"{self.server}/patrimoine_template")
            migrate.upgrade(db)
            db.dispose()
        else:
            self.template = tmp_root / "template.sqlite3"
            db = Database(f"sqlite:///{self.template}")
            migrate.upgrade(db)
            _checkpoint(db)
            db.dispose()

    def new_url(self, tmp_path: Path, template: str | None = None) -> str:
        """A new migrated database; or a copy of `template`, the URL of a database nobody is
        connected to."""
        if BACKEND == "postgresql":
            if template is None and self.emptied:
                return self.emptied.pop()
            source = "patrimoine_template" if template is None else template.rsplit("/", 1)[1]
            name = f"t{os.getpid()}_{next(self.counter)}"
            with self._admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
            return f"{self.server}/{name}"
        target = tmp_path / "patrimoine.sqlite3"
        shutil.copyfile(self.template if template is None else template.removeprefix("sqlite:///"),
                        target)
        return f"sqlite:///{target}"

    def give_back(self, url: str) -> None:
        """Empty a PostgreSQL test database (every table but the migrations' own, sequences
        restarted: as the template left it) for a later test. A database someone is still
        connected to, or holding a table the models do not know, is not reused."""
        if BACKEND != "postgresql":
            return
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                if conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                    "current_database() AND pid <> pg_backend_pid()")):
                    return
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                tables = set(conn.scalars(text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")))
                if tables != {t.name for t in metadata.sorted_tables} | {"alembic_version"}:
                    return
                # Only the tables holding rows and the sequences used (most tests touch a
                # few): a statement on each of the others would cost more than the test.
                filled = set(conn.scalars(text(" UNION ALL ".join(
                    f"SELECT '{t.name}' WHERE EXISTS (SELECT FROM \"{t.name}\")"
                    for t in metadata.sorted_tables))))
                for table in reversed(metadata.sorted_tables):  # rows that refer first
                    if table.name in filled:
                        conn.execute(table.delete())
                sequences = conn.scalars(text(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() "
                    "AND last_value IS NOT NULL")).all()
                for sequence in sequences:
                    conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        except OperationalError:
            return
        finally:
            engine.dispose()
        self.emptied.append(url)

    def close(self) -> None:
        if BACKEND == "postgresql":
            self._admin.dispose()
            if self.cluster:
                self.cluster.stop()


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates(tmp_path_factory.mktemp("db-template"))
    yield templates
    templates.close()


class DemoTemplate:
    """The demo territory loaded as `patrimoine demo` loads it: with its data folder (the
    published datasets' versions too) and without a fixed password (each account gets its own
    random one, kept in `credentials`). Loading it costs CPU seconds: tests get copies."""

    def __init__(self, templates: _Templates, root: Path) -> None:
        self.templates = templates
        self.data_dir = root / "data"
        self.url = templates.new_url(root)
        settings = Settings(data_dir=self.data_dir, database_url=self.url,
                            secret_key="test-secret-key", warm_layouts=False)
        services = bootstrap(settings, check_schema=False)
        try:
            with pytest.MonkeyPatch.context() as patch, services.db.unit_of_work() as s:
                patch.delenv(PASSWORD_ENV, raising=False)
                self.credentials: list[Credential] = load_demo(s, settings=settings)
            if BACKEND == "sqlite":
                _checkpoint(services.db)
        finally:
            services.db.dispose()

    def copy(self, tmp_path: Path, data_dir: Path) -> str:
        """A new database holding the demo territory (its URL), its data folder copied to
        `data_dir`."""
        shutil.copytree(self.data_dir, data_dir)
        return self.templates.new_url(tmp_path, template=self.url)


@pytest.fixture(scope="session")
def demo_template(_templates: _Templates, tmp_path_factory: pytest.TempPathFactory
                  ) -> DemoTemplate:
    return DemoTemplate(_templates, tmp_path_factory.mktemp("demo-template"))


def _checkpoint(db: Database) -> None:
    """Move SQLite's write-ahead log into the database file, so that a copy of the file
    holds everything."""
    with db.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture
def database_url(_templates: _Templates, tmp_path: Path, request: pytest.FixtureRequest
                 ) -> Iterator[str]:
    """The test's database; with the `demo` marker, a copy of the demo territory's, whose
    data folder is copied where `settings` puts the test's."""
    if request.node.get_closest_marker("demo"):
        demo: DemoTemplate = request.getfixturevalue("demo_template")
        url = demo.copy(tmp_path, tmp_path / "data")
    else:
        url = _templates.new_url(tmp_path)
    yield url
    _templates.give_back(url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # No layout warmer (its tests switch it on): at every app start it would build, in the
    # background, the layouts of versions most tests never read.
    return Settings(data_dir=tmp_path / "data", database_url=database_url,
                    secret_key="test-secret-key", warm_layouts=False)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = bootstrap(settings, check_schema=False)  # the template was migrated this session
    yield svc
    svc.db.dispose()


@pytest.fixture
def db(services: Services) -> Database:
    return services.db


@pytest.fixture
def system() -> Principal:
    return Principal.system("tests")


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services)) as c:
        yield c


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for running the `patrimoine` command against the test store."""
    return {
        "PATRIMOINE_DATA_DIR": str(settings.data_dir),
        "PATRIMOINE_DATABASE_URL": settings.resolved_database_url,
        "PATRIMOINE_SECRET_KEY": "test-secret-key",
        "COLUMNS": "200",  # tables and help pages on one line each
    }


Cli = Callable[..., subprocess.CompletedProcess[str]]


def run_cli(args: Sequence[str], env: dict[str, str], input: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    """`patrimoine ARGS` run in this process, through the entry point's own error handling
    (French messages, exit codes), with this environment, stdin and captured output.

    `cli.main.main` adds only a pause of the garbage collector around start-up, which a
    long-lived test process must not inherit, so its body `_run` is called. The database
    connections the command opened are closed when it returns, as its process exit would."""
    opened: list[Services] = []

    def recorded_bootstrap(*a: Any, **kw: Any) -> Services:
        opened.append(bootstrap(*a, **kw))
        return opened[-1]

    runner = CliRunner()
    with runner.isolation(input=input, env=env) as (out, err, _), \
            pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["patrimoine", *args])
        patch.setattr(cli_common, "bootstrap", recorded_bootstrap)
        # The commands' consoles were made at import, with the width of that moment
        # (pytest-xdist's workers set COLUMNS=80): each run gets its environment's width, as
        # a new process would.
        if env.get("COLUMNS", "").isdigit():
            for console in (cli_common.console, cli_common.err_console):
                patch.setattr(console, "size", (int(env["COLUMNS"]), console.size.height))
        try:
            cli_main._run()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        finally:
            for svc in opened:
                svc.db.dispose()
            sys.stdout.flush()
            sys.stderr.flush()
        return subprocess.CompletedProcess(["patrimoine", *args], code,
                                           out.getvalue().decode(), err.getvalue().decode())


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Cli:
    """Run a `patrimoine` command in process against the test store (see run_cli)."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        return run_cli(args, {**cli_env, **(env or {})}, input=input)

    return run


PATRIMOINE = Path(sys.executable).with_name("patrimoine")


@pytest.fixture
def installed_cli(cli_env: dict[str, str]) -> Cli:
    """Run the installed `patrimoine` command in a subprocess against the test store, without
    stdin. Each call costs a Python start-up: kept for what only a real process shows (the
    entry point, exit codes, signals, memory)."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **cli_env, **(env or {})}
        return subprocess.run([str(PATRIMOINE), *args], input=input, env=full_env,
                              stdin=None if input is not None else subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=300)

    return run
