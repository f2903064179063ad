"""Read a version's rows for someone: the one path every face takes.

`open_for_reader` applies the rule, in this order:

1. The reader may read the dataset (`access.permissions.can_read_dataset`); otherwise
   NotFound, never Forbidden, so that a closed dataset's existence stays hidden. Faces that
   show less than that (the portal and CKAN: published datasets that are not restricted)
   find the dataset in their own catalogue first and pass it.
2. The version is one the personal-data gate lets this reader read
   (`protection.gate.readable_version`): of an open dataset, the public reads only the
   versions scanned and cleared; its editors and its DPO read every version. Otherwise
   NotFound, in French.
3. The reader reads through its grants' scope (`grants.service.read_scope`): the rows of
   its grants, without the columns they hide; staff read the whole version. A hidden column
   is unknown to the view: it cannot be selected, filtered, sorted, grouped, counted,
   searched, exported or used as positions.
4. Every read of a dataset that is not open is written to the audit log with the action the
   face names (`datastore.read`, `datastore.export`, `portal.read`...), the version, the
   address asked (path and query string), the grants used and their stated purposes. A
   read asked of a version the reader may not read is logged too, with the number asked (a
   portal page of an internal dataset without data is still a read of that dataset).

Records, match counts, facets, aggregates, small-count tables, exports and their ETags then
run on the returned `ReadableVersion`, the only view of a version a face ever gets. Reports
computed over a whole version elsewhere (schema validation, k-anonymity) are refused to a
reader whose grants show only part of it (`require_whole`). `versions_for_reader` lists
the versions as the same reader sees them. tests/integration/reading checks that no face
imports the datastore modules that open versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import can_read_dataset, is_public
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Forbidden, Invalid, NotFound
from patrimoine.core.settings import Settings
from patrimoine.datastore import export as exports
from patrimoine.datastore import query as queries
from patrimoine.datastore import versions
from patrimoine.datastore.engine import (
    Column,
    Limits,
    VersionTable,
    open_version,
    restrict,
)
from patrimoine.datastore.models import DatasetVersion
from patrimoine.grants.service import ReadScope, read_scope
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset
from patrimoine.protection import gate
from patrimoine.protection.findings import disclosure
from patrimoine.standards import validation


@dataclass(frozen=True)
class Purpose:
    """Why a version is read, as the audit log records it: the action (`datastore.read`,
    `portal.read`...) and the address asked (path and query string)."""

    action: str
    path: str = ""
    query: str = ""


@dataclass(frozen=True)
class VersionSeen:
    """A version as one reader sees it: without the columns its grants hide (and without
    positions when they use one), without a row count when its rows are limited."""

    version: DatasetVersion
    columns: list[dict[str, Any]]
    positions: dict[str, str] | None
    row_count: int | None


def _seen(version: DatasetVersion, scope: ReadScope | None) -> VersionSeen:
    hidden = scope.hidden if scope is not None else frozenset()
    positions = version.positions
    if hidden & set((positions or {}).values()):
        positions = None
    return VersionSeen(
        version, [c for c in version.columns if c["name"] not in hidden], positions,
        None if scope is not None and scope.rows is not None else version.row_count)


def _scoped(table: VersionTable, scope: ReadScope | None) -> VersionTable:
    """The version as the scope shows it. A grant filtering on a column this version lacks
    gives no rows of it (refused in French), never all of them."""
    if scope is None:
        return table
    rows = None
    if scope.rows is not None:
        try:
            sql = queries.compile_filter(table, scope.rows)
        except Invalid as exc:
            raise Forbidden("Votre autorisation limite les lignes par un filtre qui ne "
                            "s'applique pas à cette version (" + exc.message.rstrip(".")
                            + ") : demandez sa mise à jour à l'administrateur des "
                              "données.") from exc
        rows = (sql.text, tuple(sql.params))
    return restrict(table, hidden=scope.hidden, rows=rows, scope_key=scope.key)


class ReadableVersion:
    """A version opened for one reader: every query runs on the rows and columns this reader
    may see. The version's layout is opened on the first query (a redirect to a download
    needs only the version chosen)."""

    def __init__(self, session: Session, dataset: Dataset, version: DatasetVersion,
                 scope: ReadScope | None, settings: Settings) -> None:
        self.dataset = dataset
        self.version = version
        self.scope = scope
        self.limits = Limits.from_settings(settings)
        self._settings = settings
        self._session = session

    @cached_property
    def _table(self) -> VersionTable:
        return _scoped(open_version(self._settings, self.version), self.scope)

    @property
    def seen(self) -> VersionSeen:
        return _seen(self.version, self.scope)

    @property
    def columns(self) -> list[Column]:
        """The columns of the view (name and datastore type), in the version's order."""
        return list(self._table.columns)

    @property
    def names(self) -> list[str]:
        return self._table.names

    def records(self, query: queries.Query, page: queries.Page, *,
                as_json: bool = False) -> queries.RecordsPage:
        return queries.records(self._table, query, page, as_json=as_json)

    def count(self, query: queries.Query) -> int:
        """How many rows match."""
        return int(queries.records(self._table, query,
                                   queries.Page(limit=1, count=True)).total or 0)

    def facets(self, query: queries.Query, columns: list[str],
               size: int = 30) -> list[queries.Facet]:
        return queries.facets(self._table, query, columns, size)

    def aggregate(self, query: queries.Query, groups: list[queries.GroupKey],
                  metrics: list[queries.Metric], sort: tuple[queries.SortKey, ...] = (),
                  limit: int | None = None) -> queries.AggregateResult:
        return queries.aggregate(self._table, query, groups, metrics, sort, limit)

    def counts(self, by: list[str], threshold: int | None = None) -> disclosure.CountsResult:
        """Rows per group of `by`, counts below the small-count threshold suppressed (the
        settings' threshold when None)."""
        columns = disclosure.check_columns(self.names, by, "regroupement")
        cap = min(disclosure.MAX_GROUPS, self.limits.max_aggregate_rows - 1)
        found = self.aggregate(queries.Query(), [queries.GroupKey(c) for c in columns],
                               [queries.Metric("count")], limit=cap + 1).rows
        groups = [([row[c] for c in columns], int(row["count"])) for row in found[:cap]]
        return disclosure.suppress_small_counts(
            columns, groups,
            self._settings.small_count_threshold if threshold is None else threshold,
            truncated=len(found) > cap)

    def sql(self, table_name: str, text: str) -> queries.SqlResult:
        """The answer to the reader's own SELECT over this view, named `table_name` (checked
        first: one SELECT over that table alone, no file functions; see
        datastore/query/sql.py), at most a page's worth of rows."""
        return queries.run_sql(self._table, table_name, text, self.limits.max_page_size)

    def _spellings(self, request: exports.ExportRequest) -> exports.Spellings:
        """The columns under the loaded file's headers (or the technical names), values as
        the declared schema spells them: the files the conformity badge checks."""
        return validation.download_spellings(self._session, self.dataset, self.version,
                                             request.names)

    def export(self, query: queries.Query, request: exports.ExportRequest) -> exports.Export:
        return exports.export(self._table, query, request,
                              f"{self.dataset.slug}-v{self.version.number}",
                              self._spellings(request))

    def export_etag(self, query: queries.Query, request: exports.ExportRequest) -> str:
        """The validator of an export: the request, and how its columns are written."""
        return self.etag(query, ["export", request, self._spellings(request)])

    def etag(self, query: queries.Query, extra: Any) -> str:
        """The validator of an answer to `query` (`extra`: what else shapes the answer)."""
        return exports.etag(self._table, query, extra)

    def original(self) -> tuple[Path, str, str]:
        """The file the version was loaded from (path, name, media type): every row and
        column, so refused to a reader whose grants show part of the version; NotFound in
        French for a version without one (derived from another, or loaded before originals
        were kept)."""
        self.require_whole("le fichier d'origine")
        path = versions.original_path(self._settings, self.version)
        if path is None or not path.is_file():
            raise NotFound(f"La version {self.version.number} n'a pas de fichier d'origine "
                           "conservé (version dérivée d'une autre, ou chargée avant que "
                           "Patrimoine ne les conserve) : téléchargez-la en CSV ou en Parquet.")
        media = self.version.source_media_type or "application/octet-stream"
        return path, self.version.source_filename or path.name, media

    def require_whole(self, what: str) -> None:
        """Refuse (Forbidden, in French) what is computed over the whole version to a reader
        whose grants show only some of its rows or columns."""
        if self.scope is not None and (self.scope.rows is not None or self.scope.hidden):
            raise Forbidden(f"Votre autorisation ne donne accès qu'à une partie de ce jeu de "
                            f"données : {what} porte sur la version entière.")


def _find(session: Session, principal: Principal, dataset: Dataset | str) -> Dataset:
    if isinstance(dataset, str):
        return inventory.get_dataset(session, principal, dataset)
    if not can_read_dataset(principal, dataset):
        raise NotFound(f"Jeu de données « {dataset.slug} » introuvable.")
    return dataset


def _audit(session: Session, principal: Principal, dataset: Dataset, purpose: Purpose,
           number: int | None, scope: ReadScope | None) -> None:
    if is_public(dataset):
        return
    details: dict[str, Any] = {"version": number, "query": purpose.query,
                               "path": purpose.path}
    if scope is not None:
        details["grants"] = list(scope.grant_ids)
        details["purposes"] = list(scope.purposes)
    audit.record(session, principal, purpose.action, f"dataset:{dataset.slug}", details)


def open_for_reader(session: Session, settings: Settings, principal: Principal,
                    dataset: Dataset | str, number: int | None, purpose: Purpose
                    ) -> ReadableVersion:
    """Version `number` of `dataset` (a slug, or a dataset a face found in its own catalogue)
    as `principal` may read it; the newest such version when `number` is None. See the
    module docstring for the rule; the settings' limits bound each query."""
    found = _find(session, principal, dataset)
    scope = read_scope(session, principal, found)
    try:
        version = gate.readable_version(session, principal, found, number, settings)
    except NotFound:
        _audit(session, principal, found, purpose, number, scope)
        raise
    _audit(session, principal, found, purpose, version.number, scope)
    return ReadableVersion(session, found, version, scope, settings)


def versions_for_reader(session: Session, settings: Settings, principal: Principal,
                        dataset: Dataset | str) -> list[VersionSeen]:
    """The versions `principal` may read (newest first), as it sees them."""
    found = _find(session, principal, dataset)
    scope = read_scope(session, principal, found)
    return [_seen(v, scope) for v in gate.readable_versions(session, principal, found, settings)]
