"""All settings in one declared class, read from PATRIMOINE_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PATRIMOINE_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"),
        description="Folder holding the embedded database, dataset versions and the secret key.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata database; default: SQLite in the data folder.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs session cookies; default: a random key kept in the data folder.",
    )
    host: str = Field(default="127.0.0.1", description="Address `patrimoine serve` listens on.")
    port: int = Field(default=8000, description="Port `patrimoine serve` listens on.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base of the links that leave the instance (DCAT and CKAN URIs, the "
                    "catalogue-donnees export, the full export's catalog): the address the "
                    "public reaches the portal at. `patrimoine serve` prints it.")
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024, description="Largest file an upload may send (web forms, API)."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024,
        description="Largest request body other than a file upload (JSON, forms): a larger one "
                    "is refused (413) before it is read.",
    )
    db_connections: int = Field(
        default=16, ge=1, le=500,
        description="Requests of one server process that may use the database at once (the "
                    "others wait their turn without holding a thread); its pool keeps 4 more "
                    "connections for background work. On PostgreSQL, processes times "
                    "(this + 4) must stay below the server's max_connections.",
    )
    session_max_age_seconds: int = Field(
        default=12 * 3600, description="How long a web login lasts."
    )
    secure_cookies: bool = Field(
        default=False, description="Mark cookies Secure (set when served over HTTPS)."
    )
    login_failures_per_account: int = Field(
        default=5, ge=1,
        description="Failed logins with one account name, within the window, after which "
                    "that name's logins are refused until the window has passed.",
    )
    login_failures_per_address: int = Field(
        default=30, ge=1,
        description="Failed logins from one client address (whatever the names tried), within "
                    "the window, after which logins from it are refused (higher than per "
                    "account: several people may share an address).",
    )
    login_failure_window_seconds: int = Field(
        default=15 * 60, ge=60,
        description="The window over which failed logins are counted, and how long a lock lasts.",
    )
    smtp_host: str = Field(
        default="",
        description="SMTP server that sends invitations and password resets; empty: no "
                    "e-mail, an administrator hands over a one-time link instead.",
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_tls: str = Field(
        default="starttls", pattern="^(none|starttls|tls)$",
        description="Encryption towards the SMTP server: none, starttls (port 587, or 25) "
                    "or tls (implicit TLS, port 465).",
    )
    smtp_user: str = Field(default="", description="SMTP login; empty: no authentication.")
    smtp_password: str = Field(default="", description="SMTP password.")
    smtp_sender: str = Field(
        default="", description="Sender address of the messages, e.g. "
                                "\"Patrimoine <donnees@ville.fr>\" (required with smtp_host).",
    )
    account_link_hours: int = Field(
        default=72, ge=1, le=24 * 30,
        description="How long an invitation or password-reset link stays valid (used once).",
    )
    small_count_threshold: int = Field(default=11, ge=1, description="Counts below this are suppressed from published aggregates (statistical secrecy).")  # noqa: E501
    open_data_min_k: int = Field(default=5, ge=1, description="An anonymised version is published as open data only if every combination of its quasi-identifiers is shared by at least this many rows (k-anonymity).")  # noqa: E501
    open_data_min_l: int = Field(default=2, ge=1, description="With a sensitive column declared, each class of the quasi-identifiers must hold at least this many distinct sensitive values (l-diversity).")  # noqa: E501
    archives_service: str = Field(default="", max_length=300, description="The archives service the elimination slips are addressed to (e.g. \"Archives départementales du Loiret\"), printed on each slip.")  # noqa: E501
    map_tiles: str = Field(
        default="",
        description="Tile URL template of the public maps (e.g. https://tile.openstreetmap.org/"
                    "{z}/{x}/{y}.png); empty: no background, the points still show.",
    )
    map_attribution: str = Field(
        default="", description="Attribution shown under the map tiles (their licence)."
    )
    access_log: bool = Field(
        default=True,
        description="`patrimoine serve` logs every request (turn off behind a proxy that logs "
                    "them: it costs about 0.15 ms a request).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Addresses of the reverse proxies whose X-Forwarded-For and "
                    "X-Forwarded-Proto headers are believed (comma-separated, e.g. "
                    "\"10.0.0.5\"; \"*\" trusts any). Empty: none, and the address seen is "
                    "the connection's. Behind a proxy, set it, or the per-address login "
                    "throttle counts every visitor as the proxy.",
    )
    query_time_limit_seconds: float = Field(
        default=10.0, gt=0,
        description="How long one datastore query (a page of records, facets, an aggregate) "
                    "may run before it is interrupted with a French message.",
    )
    export_time_limit_seconds: float = Field(
        default=900.0, gt=0,
        description="How long one datastore export (or the first sort on a column, which "
                    "writes that column's sort positions) may run before it is interrupted.",
    )
    max_page_size: int = Field(
        default=1_000, ge=1,
        description="Most records one page of the datastore API may hold (its `limit`).",
    )
    max_aggregate_rows: int = Field(
        default=10_000, ge=1,
        description="Most rows an aggregate of the datastore may produce; beyond it the "
                    "query is refused with a French message.",
    )
    duckdb_memory_limit: str = Field(
        default="1GB", pattern=r"(?i)^\s*\d+(\.\d+)?\s*([KMGT]i?B|%)\s*$",
        description="Memory DuckDB may use for each version the datastore queries "
                    "(DuckDB's notation: 512MB, 2GB, 50%); a query needing more spills to "
                    "disk, and past the temporary space is refused with a French message.",
    )
    duckdb_threads: int = Field(
        default=2, ge=1,
        description="Threads DuckDB may use for each version the datastore queries.",
    )
    layout_memory_limit: str = Field(
        default="1GB", pattern=r"(?i)^\s*\d+(\.\d+)?\s*([KMGT]i?B|%)\s*$",
        description="Memory DuckDB may use while it builds a version's query layout (one "
                    "build at a time per data folder); beyond it the build spills to disk "
                    "under the data folder's tmp/duckdb (docs/datastore-query.md gives the "
                    "peak RSS measured).",
    )
    layout_threads: int = Field(
        default=2, ge=1,
        description="Threads DuckDB may use while it builds a version's query layout.",
    )
    duckdb_temp_space: str = Field(
        default="100GB", pattern=r"(?i)^\s*\d+(\.\d+)?\s*[KMGT]i?B\s*$",
        description="Disk DuckDB may fill under the data folder's tmp/duckdb when a layout "
                    "build or a query spills (about 3 times the version's Parquet file for "
                    "a build); a build needing more fails, is recorded with its reason and "
                    "retried later, and the version is read from its Parquet file meanwhile.",
    )
    max_unpacked_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1,
        description="Largest size a workbook (XLSX, ODS: a ZIP archive) may reach once "
                    "decompressed; beyond it the file is refused before it is read.",
    )
    max_compression_ratio: int = Field(
        default=100, ge=1,
        description="How many times one part of a workbook may grow when decompressed "
                    "(a zip bomb grows a thousand times); beyond it the file is refused.",
    )
    max_spreadsheet_cells: int = Field(
        default=5_000_000, ge=1,
        description="Most cells (last row x last column) one sheet of an imported workbook "
                    "may span; larger tables are loaded as CSV. The spreadsheet reader holds "
                    "a sheet in memory, about 80 bytes a cell: the default keeps a load under "
                    "about 600 MB.",
    )
    max_spreadsheet_rows: int = Field(
        default=1_000_000, ge=1,
        description="Most rows one sheet of an imported workbook may have.",
    )
    max_json_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1,
        description="Largest JSON file read whole in memory (personal-data scans of JSON "
                    "uploads); GeoJSON loads are read a feature at a time and have no such "
                    "limit.",
    )
    max_json_depth: int = Field(
        default=64, ge=1,
        description="How deeply a JSON or GeoJSON file may nest arrays and objects.",
    )
    max_csv_line_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024,
        description="Longest record (line, with its quoted line breaks) a CSV file may hold; "
                    "a longer one stops the load with its line number.",
    )
    warm_layouts: bool = Field(
        default=True,
        description="Build the query layouts of versions in the background (at start-up, the "
                    "newest version of each dataset; then each version created through the web) "
                    "so that no request waits for one.",
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'patrimoine.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> str:
        """The configured key, else one generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        self.ensure_data_dir()
        path = self.data_dir / "secret_key"
        if not path.exists():
            # Several processes may start at once on one data folder: the first link wins
            # and every process reads the same key.
            tmp = path.with_name(f".secret_key.{os.getpid()}.tmp")
            tmp.write_text(secrets.token_urlsafe(48))
            tmp.chmod(0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    # Users paste libpq-style URLs; SQLAlchemy needs the driver named.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
