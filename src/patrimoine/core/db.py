"""Engine, sessions and the unit of work. Nothing here runs at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from annotated_types import Interval
from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Integers taken from a request. Python's are unbounded; a larger one reaching a query fails
# in the driver (a server error) instead of matching nothing, so validation refuses it (422)
# first and the OpenAPI document states the bounds.
# - DbInt: compared with or stored in an Integer column (identifiers, version numbers,
#   counts): PostgreSQL's `integer` is 32-bit (SQLite's is wider).
# - DbBigInt: an offset or a number of rows (SQL's OFFSET and DuckDB's BIGINT): 64-bit.
DbInt = Annotated[int, Interval(ge=-(2**31), le=2**31 - 1)]
DbBigInt = Annotated[int, Interval(ge=-(2**63), le=2**63 - 1)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def text_enum(cls: type[StrEnum], length: int = 40) -> Enum:
    """A column of an enumeration stored as its values in plain text (no database enum type:
    the same on SQLite and PostgreSQL, and a new value needs no type change)."""
    return Enum(cls, native_enum=False, length=length,
                values_callable=lambda e: [m.value for m in e])


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes; SQLite gives naive ones back, which we mark as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# Connections kept beyond the requests' own: background threads (layout warmer, usage
# counters) and a transaction's after-end work.
BACKGROUND_CONNECTIONS = 4
DEFAULT_CONNECTIONS = 16


def make_engine(url: str, connections: int = DEFAULT_CONNECTIONS) -> Engine:
    """An engine whose pool holds `connections` for requests plus the background's: the web
    application lets at most `connections` requests use the database at once (the others
    wait without holding a thread), so no thread ever waits for a connection held by a
    request that itself waits for a thread."""
    pool = {"pool_size": connections, "max_overflow": BACKGROUND_CONNECTIONS}
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            pool = {}  # one connection in memory: SQLAlchemy's own pool
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "savepoint")
        def _begin_first(conn: Any, _name: str) -> None:
            # The driver opens a transaction only before its first write; a SAVEPOINT before
            # that would open its own, and releasing it would COMMIT the caller's work so far.
            if not conn.connection.dbapi_connection.in_transaction:
                conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


class Database:
    """Owns the engine and hands out sessions and units of work."""

    def __init__(self, url: str, connections: int = DEFAULT_CONNECTIONS) -> None:
        self.url = url
        self.connections = connections
        self.engine = make_engine(url, connections)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A transaction: committed if the block succeeds, rolled back otherwise.

        The faces (a web request, a command) own the unit of work; services flush but never
        commit nor roll back their caller's transaction, and undo their own partial work,
        when they must, with a savepoint (`session.begin_nested()`)."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
