"""A CKAN-compatible read API over the public catalog and the datastore.

Speaks CKAN's Action API (`/api/3/action/<name>`, GET parameters or a POST JSON body) with
CKAN's own shapes: `{"help", "success": true, "result"}`, and errors
`{"success": false, "error": {"__type", "message"}}` with CKAN's status codes (404 Not Found
Error, 409 Validation Error and Search Query Error, 403 Authorization Error, 400 for a bad
request). Anonymous callers see what anonymous visitors may read: the public catalog, the same
one as the DCAT-AP catalog. A caller with an API token (`Context.principal`) sees what the
portal shows its account (`access.permissions.public_clause`), such datasets marked
`private`; reading the rows of a dataset that is not open is written to the audit log by the
reading service, as on every other face.

Datasets are CKAN packages named by their slug and identified by their uid (written as a
UUID); each download format of the latest version is a resource whose id is a UUID derived
from the dataset's uid and the format, so that ids never change. `package_show` holds every
key udata's CKAN harvester requires. Themes are CKAN's groups (one per theme, named by its
slug). `datastore_search`, `datastore_info` and `datastore_search_sql` read the version
through the reading service (reading/service.py), as the caller, which runs the datastore's
query package (datastore/query/): no SQL is built here, and the SQL a caller sends is
checked and run by datastore/query/sql.py (one SELECT over that resource alone, in the
sandbox).

No parameter may exceed `PARAM_MAX_CHARS` (a 409 Validation Error, before any parsing), and
the Solr-like `field:value` grammar of q and fq is read in one pass (`_Scanner`), so that no
search costs more than a few times its length.
"""

from __future__ import annotations

import io
import json
import string
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine import __version__
from patrimoine.access.permissions import is_public
from patrimoine.access.principal import Principal
from patrimoine.core import csvcells
from patrimoine.core.errors import Forbidden, Invalid, PatrimoineError
from patrimoine.core.settings import Settings
from patrimoine.core.text import fold, slugify
from patrimoine.datastore.models import COLUMN_TYPES, DatasetVersion
from patrimoine.interop import dcat, public
from patrimoine.interop.public import ANONYMOUS, FORMAT_LABELS, PublicDataset
from patrimoine.inventory import search
from patrimoine.inventory.licences import LICENCE_OUVERTE, ODBL, licence
from patrimoine.inventory.models import Organisation
from patrimoine.protection import gate
from patrimoine.reading import language
from patrimoine.reading.service import Purpose, open_for_reader

CKAN_VERSION = "2.11.0"
ROWS_MAX = 1000
DEFAULT_SORT = "score desc, metadata_modified desc"
SEARCH_FIELDS = ("organization", "owner_org", "tags", "license_id", "res_format", "name", "id",
                 "groups", "type", "dataset_type", "capacity", "metadata_modified",
                 "metadata_created")
RANGE_FIELDS = ("metadata_modified", "metadata_created")
FACET_FIELDS = ("organization", "tags", "license_id", "res_format", "groups")
SORT_FIELDS = ("score", "metadata_modified", "metadata_created", "name", "title_string", "title",
               "id")
MIME_TYPES = {"csv": "text/csv", "json": "application/json", "ndjson": "application/x-ndjson",
              "geojson": "application/geo+json", "parquet": "application/vnd.apache.parquet",
              "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FIELD_TYPES = {"string": "text", "integer": "int", "number": "numeric", "boolean": "bool",
               "date": "date", "datetime": "timestamp", "geometry": "text"}
NAMESPACE = public.RESOURCE_NAMESPACE
RECORDS_FORMATS = ("objects", "lists", "csv", "tsv")
# The longest a parameter may be (a list or an object: written as JSON). Real clients send a
# few hundred characters; the bound keeps every parsing below linear in a small size.
PARAM_MAX_CHARS = 4000


# ------------------------------------------------------------------------- errors


class CkanError(Exception):
    """An error in CKAN's shape: HTTP status, `__type`, message and per-field errors."""

    def __init__(self, status: int, kind: str, message: str,
                 fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.fields = fields or {}

    def body(self) -> dict[str, Any]:
        return {"__type": self.kind, "message": self.message, **self.fields}


def not_found(message: str) -> CkanError:
    return CkanError(404, "Not Found Error", message)


def invalid(name: str, message: str) -> CkanError:
    return CkanError(409, "Validation Error", f"Paramètre « {name} » invalide : {message}",
                     {name: [message]})


def search_error(message: str) -> CkanError:
    return CkanError(409, "Search Query Error", message)


def bad_request(message: str) -> CkanError:
    return CkanError(400, "Bad Request", message)


def from_domain(exc: PatrimoineError) -> CkanError:
    kinds = {404: ("Not Found Error", 404), 403: ("Authorization Error", 403),
             401: ("Authorization Error", 403)}
    if exc.status >= 500:
        kind, status = "Server Error", exc.status  # e.g. a query over its time limit
    else:
        kind, status = kinds.get(exc.status, ("Validation Error", 409))
    message = exc.message + (" " + " ".join(exc.errors) if exc.errors else "")
    return CkanError(status, kind, message, {"errors": exc.errors} if exc.errors else None)


# ------------------------------------------------------------------ request values


@dataclass
class Context:
    session: Session
    settings: Settings
    principal: Principal = ANONYMOUS
    path: str = ""  # the address asked, for the audit log
    _everything: list[PublicDataset] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return self.settings.public_url.rstrip("/")

    @property
    def uris(self) -> dcat.Uris:
        return dcat.Uris.of(self.settings.public_url)

    def everything(self) -> list[PublicDataset]:
        if self._everything is None:
            self._everything = public.everything(self.session, self.settings, self.principal)
        return self._everything


def _bool(params: dict[str, Any], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("true", "1", "yes", "on", "t", "y"):
        return True
    if word in ("false", "0", "no", "off", "f", "n"):
        return False
    raise invalid(name, "oui ou non (true/false) attendu.")


def _int(params: dict[str, Any], name: str, default: int, low: int = 0,
         high: int | None = None, clamp: bool = False) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
        if isinstance(value, float) and value != number:
            raise ValueError
    except (TypeError, ValueError) as exc:
        raise invalid(name, "nombre entier attendu.") from exc
    if number < low:
        raise invalid(name, f"doit être supérieur ou égal à {low}.")
    if high is not None and number > high:
        if clamp:
            return high
        raise invalid(name, f"doit être inférieur ou égal à {high}.")
    return number


def _json_value(params: dict[str, Any], name: str) -> Any:
    """A parameter that CKAN reads as JSON when it arrives as text (GET)."""
    value = params.get(name)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("{", "[")):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise invalid(name, "JSON mal formé.") from exc
    return value


def _list(params: dict[str, Any], name: str) -> list[str]:
    value = _json_value(params, name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise invalid(name, "liste de textes attendue.")


def _check_lengths(params: dict[str, Any]) -> None:
    for name, value in params.items():
        size = len(value) if isinstance(value, str) else len(
            json.dumps(value, ensure_ascii=False, default=str))
        if size > PARAM_MAX_CHARS:
            raise invalid(str(name)[:100], f"trop long ({size} caractères, "
                          f"{PARAM_MAX_CHARS} au plus).")


def _required(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CkanError(409, "Validation Error", f"Paramètre « {name} » manquant.",
                        {name: ["Valeur manquante"]})
    if not isinstance(value, (str, int)):
        raise invalid(name, "texte attendu.")
    return str(value).strip()


# ---------------------------------------------------------------------- shapes


def _timestamp(value: datetime | None) -> str | None:
    """CKAN's timestamps: ISO 8601 in UTC, without an offset."""
    if value is None:
        return None
    return public.aware(value).astimezone(UTC).replace(tzinfo=None).isoformat()


def _uuid(text: str) -> str:
    return str(uuid.uuid5(NAMESPACE, text))


def organisation_id(org: Organisation) -> str:
    return _uuid(f"organisation/{org.id}")


def ckan_licence(text: str | None) -> tuple[str, str, str]:
    """(license_id, license_title, license_url) in CKAN's and data.gouv.fr's ids."""
    found = licence(text)
    if found is None:
        return "notspecified", "Licence non spécifiée", ""
    if found == LICENCE_OUVERTE:
        return "lov2", "Licence Ouverte / Open Licence version 2.0", found.url or ""
    if found == ODBL:
        return "odc-odbl", "Open Data Commons Open Database License (ODbL)", found.url or ""
    return slugify(found.id), found.title, found.url or ""


def licence_dict(license_id: str, title: str, url: str) -> dict[str, Any]:
    is_open = license_id in ("lov2", "odc-odbl")
    return {"id": license_id, "title": title, "url": url, "status": "active",
            "maintainer": "", "family": "", "is_generic": False, "is_okd_compliant": is_open,
            "is_osi_compliant": False, "od_conformance": "approved" if is_open else
            "not reviewed", "osd_conformance": "not reviewed", "domain_content": False,
            "domain_data": True, "domain_software": False}


def tag_dict(name: str) -> dict[str, Any]:
    return {"id": _uuid(f"tag/{name}"), "name": name, "display_name": name,
            "state": "active", "vocabulary_id": None}


def group_name(theme: str) -> str:
    """A theme's name as a CKAN group: its slug."""
    return slugify(theme) or _uuid(f"theme/{theme}")


def group_dict(ctx: Context, theme: str, count: int | None = None) -> dict[str, Any]:
    """A theme as a CKAN group (themes are the only groups: a dataset has at most one)."""
    name = group_name(theme)
    out: dict[str, Any] = {
        "id": _uuid(f"theme/{name}"), "name": name, "title": theme.strip(),
        "display_name": theme.strip(), "description": "", "type": "group",
        "is_organization": False, "state": "active", "approval_status": "approved",
        "image_url": "", "image_display_url": "", "created": None,
        "url": str(ctx.uris.theme(theme.strip())),
    }
    if count is not None:
        out["package_count"] = count
    return out


def organisation_dict(ctx: Context, org: Organisation, count: int | None = None
                      ) -> dict[str, Any]:
    created = _timestamp(org.created_at)
    out: dict[str, Any] = {
        "id": organisation_id(org), "name": org.slug, "title": org.name,
        "display_name": org.name, "description": "", "type": "organization",
        "is_organization": True, "state": "active", "approval_status": "approved",
        "image_url": "", "image_display_url": "", "created": created,
        "revision_id": _uuid(f"organisation/{org.id}/{created}"),
        "revision_timestamp": created, "url": ctx.uris.organisation_page(org),
    }
    if count is not None:
        out["package_count"] = count
    return out


def resource_dict(ctx: Context, entry: PublicDataset, fmt: str, position: int
                  ) -> dict[str, Any]:
    """A download as a CKAN resource: exact `size` and `hash` (sha256, hex, as udata's CKAN
    harvester reads it) when the entry is described, and the declared Table Schema's URL in
    `schema` (the field ckanext-validation uses)."""
    d, version = entry.dataset, entry.version
    assert version is not None
    created = _timestamp(version.created_at)
    label = FORMAT_LABELS.get(fmt, fmt.upper())
    facts = entry.files.get(fmt)
    out = {
        "id": public.resource_uuid(d, fmt), "package_id": public.dataset_uuid(d),
        "position": position, "name": f"{d.slug}.{fmt}",
        "description": f"Dernière version publiée (n° {version.number}, {version.row_count} "
                       f"lignes) au format {label}.",
        "format": label, "mimetype": MIME_TYPES.get(fmt), "mimetype_inner": None,
        "size": facts.size if facts else None, "hash": facts.sha256 if facts else "",
        "created": created, "last_modified": created,
        "metadata_modified": created, "url": ctx.uris.download(d, fmt), "url_type": None,
        "resource_type": "file", "state": "active", "cache_url": None,
        "datastore_active": True,
    }
    if entry.schema is not None:
        out["schema"] = entry.schema.url
    return out


def package_dict(ctx: Context, entry: PublicDataset) -> dict[str, Any]:
    """A dataset as a CKAN package. Besides CKAN's keys, `extras` carry what harvesters map:
    `spatial` (the extent as a GeoJSON polygon, as ckanext-spatial writes it and udata's CKAN
    harvester reads it), `spatial-text`, `schema`, `frequency`, temporal bounds, `uri`."""
    d = entry.dataset
    license_id, license_title, license_url = ckan_licence(d.licence)
    tags = [tag_dict(k) for k in d.keywords or [] if k.strip()]
    extras: list[dict[str, Any]] = [
        {"key": "frequency", "value": d.update_frequency.value},
        {"key": "uri", "value": str(ctx.uris.dataset(d))},
        {"key": "identifier", "value": d.uid},
    ]
    if d.theme:
        extras.append({"key": "theme", "value": d.theme})
    if d.temporal_start:
        extras.append({"key": "temporal_start", "value": d.temporal_start.isoformat()})
    if d.temporal_end:
        extras.append({"key": "temporal_end", "value": d.temporal_end.isoformat()})
    if d.spatial_coverage:
        extras.append({"key": "spatial-text", "value": d.spatial_coverage})
    if entry.extent is not None:
        extras.append({"key": "spatial", "value": entry.extent.geojson()})
    if entry.schema is not None:
        extras.append({"key": "schema", "value": entry.schema.url})
    resources = [resource_dict(ctx, entry, fmt, i) for i, fmt in enumerate(entry.formats)]
    return {
        "id": public.dataset_uuid(d), "name": d.slug, "title": d.title,
        "notes": d.description or "", "type": "dataset", "state": "active",
        "private": not is_public(d), "isopen": license_id in ("lov2", "odc-odbl"),
        "license_id": license_id, "license_title": license_title, "license_url": license_url,
        "author": d.producer, "author_email": None,
        "maintainer": d.contact_name, "maintainer_email": d.contact_email,
        "metadata_created": _timestamp(d.created_at),
        "metadata_modified": _timestamp(entry.modified),
        "tags": tags, "num_tags": len(tags), "extras": extras,
        "organization": organisation_dict(ctx, d.organisation),
        "owner_org": organisation_id(d.organisation),
        "resources": resources, "num_resources": len(resources),
        "groups": [group_dict(ctx, d.theme)] if d.theme and d.theme.strip() else [],
        "relationships_as_object": [], "relationships_as_subject": [],
        "url": ctx.uris.landing_page(d),
        "version": str(entry.version.number) if entry.version else None,
        "creator_user_id": None,
    }


# ------------------------------------------------------------------------ search


@dataclass
class Clause:
    field: str
    values: list[str]
    negated: bool = False


_FIELD_FIRST = frozenset(string.ascii_letters + "_")


def _name_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_."


class _Scanner:
    """Finds the `[+-]field:value` clauses of a q or fq in one pass, without backtracking.

    A value is a quoted text (`"…"`, `\\"` inside), a group (`(…)`), a range (`[…]`) or a bare
    word (up to a space or a bracket). Every character is looked at a bounded number of times
    (`steps` counts them): a quote, a group or a range that never closes is remembered, so
    that the next one is not searched for again to the end of the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.steps = 0
        self._open_quote: tuple[int, int] | None = None  # (from, to): a quote never closing
        self._unclosed: dict[str, int] = {}  # closing bracket -> from where none follows

    def clauses(self) -> Iterator[tuple[int, int, str, str, str]]:
        """(start, end, sign, field, raw value) of each clause, left to right."""
        text, n, i, last = self.text, len(self.text), 0, 0
        while i < n:
            self.steps += 1
            if not _name_char(text[i]):
                i += 1
                continue
            j = i  # the run of name characters i..j; a field starts at its first letter
            start = -1
            while j < n and _name_char(text[j]):
                self.steps += 1
                if start < 0 and text[j] in _FIELD_FIRST:
                    start = j
                j += 1
            end = self._value_end(j + 1) if start >= 0 and j < n and text[j] == ":" else None
            if end is None:
                i = j + 1 if j < n and text[j] == ":" else j
                continue
            sign = text[i - 1] if start == i and i - 1 >= last and text[i - 1] in "+-" else ""
            yield start - len(sign), end, sign, text[start:j], text[j + 1:end]
            i = last = end

    def _value_end(self, v: int) -> int | None:
        text, n = self.text, len(self.text)
        if v >= n:
            return None
        if text[v] == '"':
            end = self._quoted_end(v)
            if end is not None:
                return end
        elif text[v] in "([":
            return self._closed_end(v, ")" if text[v] == "(" else "]")
        k = v
        while k < n and not text[k].isspace() and text[k] not in "()[":
            self.steps += 1
            k += 1
        return k if k > v else None

    def _quoted_end(self, v: int) -> int | None:
        known = self._open_quote
        if known is not None and known[0] < v < known[1]:
            # Inside a quote already found unclosed: this one can only be an escaped quote
            # of it, so the same reading follows and fails at the same place.
            return None
        text, n, k = self.text, len(self.text), v + 1
        while k < n:
            self.steps += 1
            if text[k] == '"':
                return k + 1
            if text[k] == "\\":
                if k + 1 >= n or text[k + 1] == "\n":
                    break
                k += 1
            k += 1
        self._open_quote = (v, k)
        return None

    def _closed_end(self, v: int, closing: str) -> int | None:
        if self._unclosed.get(closing, len(self.text)) <= v:
            return None
        k = self.text.find(closing, v + 1)
        self.steps += (k if k >= 0 else len(self.text)) - v
        if k < 0:
            self._unclosed[closing] = v
            return None
        return k + 1


def _values(raw: str) -> list[str]:
    raw = raw.strip()
    if raw.startswith("(") and raw.endswith(")"):
        return [_unquote(p) for p in raw[1:-1].split() if p != "OR"]
    return [_unquote(raw)]


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text


def check_filter_syntax(text: str, where: str) -> None:
    """Refuse, as Solr does (a Search Query Error), a filter query that cannot be read: a
    quote, a parenthesis or a bracket left open or closed without opening, a field without
    a value. One pass over the text."""
    closing = {"(": ")", "[": "]"}
    stack: list[str] = []
    quoted = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in closing:
            stack.append(closing[ch])
        elif not quoted and ch in ")]":
            if not stack or stack.pop() != ch:
                raise search_error(f"{where} illisible : « {ch} » fermé sans avoir été ouvert "
                                   f"(position {i + 1}).")
        elif not quoted and ch == ":":
            j = i + 1
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] in ")]":
                raise search_error(f"{where} illisible : un champ sans valeur après « : » "
                                   f"(position {i + 1}).")
            i = j
            continue
        i += 1
    if quoted:
        raise search_error(f"{where} illisible : un guillemet n'est pas refermé.")
    if stack:
        raise search_error(f"{where} illisible : « {stack[-1]} » manquant (une parenthèse ou "
                           "un crochet n'est pas refermé).")


def parse_query(text: str, where: str) -> tuple[list[Clause], str]:
    """Solr-like `field:value` clauses of a q or fq, and the free text left."""
    if where == "fq":
        check_filter_syntax(text, where)
    clauses: list[Clause] = []
    rest: list[str] = []
    last = 0
    for start, end, sign, name, raw in _Scanner(text).clauses():
        rest.append(text[last:start])
        last = end
        if name not in SEARCH_FIELDS:
            raise search_error(f"Champ de recherche « {name} » inconnu dans {where} : "
                               f"{', '.join(SEARCH_FIELDS)}.")
        if name in RANGE_FIELDS:
            clauses.append(Clause(name, [raw], negated=sign == "-"))
            _date_range(raw)  # checked now: a bad range is the client's error
        else:
            clauses.append(Clause(name, _values(raw), negated=sign == "-"))
    rest.append(text[last:])
    free = " ".join(" ".join(rest).replace("*:*", " ").split())
    free = " ".join(w for w in free.split() if w not in ("AND", "OR", "&&", "+"))
    return clauses, free


def _entry_values(entry: PublicDataset, name: str, aliases: bool = False) -> set[str]:
    """The values of a search field for one dataset (with `aliases`, also the other names
    a filter may use: a licence's own id, an organisation's slug for owner_org...)."""
    d = entry.dataset
    if name == "organization":
        return {d.organisation.slug}
    if name == "owner_org":
        return {organisation_id(d.organisation)} | ({d.organisation.slug} if aliases else set())
    if name == "tags":
        return {k for k in d.keywords or [] if k.strip()}
    if name == "license_id":
        found = licence(d.licence)
        return {ckan_licence(d.licence)[0]} | ({found.id} if found and aliases else set())
    if name == "res_format":
        return {FORMAT_LABELS.get(f, f.upper()) for f in entry.formats}
    if name == "name":
        return {d.slug}
    if name == "id":
        return {public.dataset_uuid(d)} | ({d.uid} if aliases else set())
    if name in ("type", "dataset_type"):
        return {"dataset"}
    if name == "capacity":
        return {"public"}
    if name == "groups":
        return {group_name(d.theme)} if d.theme and d.theme.strip() else set()
    return set()


def _bound(text: str) -> datetime | None:
    text = text.strip()
    if text == "*":
        return None
    if text.upper().startswith("NOW"):
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise search_error(f"Date « {text} » illisible : écrivez-la en ISO 8601 "
                           "(2025-01-31T00:00:00Z) ou *.") from exc
    return public.aware(value)


def _date_range(raw: str) -> tuple[datetime | None, datetime | None]:
    """`[2025-01-01T00:00:00Z TO *]` (Solr's inclusive range; `*` leaves an end open)."""
    if raw.startswith("[") and raw.endswith("]"):
        low, sep, high = raw[1:-1].partition(" TO ")
        if sep:
            return _bound(low), _bound(high)
    value = _bound(_unquote(raw))
    return value, value


def _matches(entry: PublicDataset, clause: Clause) -> bool:
    if clause.field in RANGE_FIELDS:
        low, high = _date_range(clause.values[0])
        when = (entry.modified if clause.field == "metadata_modified"
                else public.aware(entry.dataset.created_at))
        inside = (low is None or when >= low) and (high is None or when <= high)
        return inside != clause.negated
    have = _entry_values(entry, clause.field, aliases=True)
    if "*" in clause.values:
        hit = bool(have)
    elif clause.field in ("res_format", "license_id", "tags"):
        have_folded = {fold(v) for v in have}
        hit = any(fold(v) in have_folded for v in clause.values)
    else:
        hit = bool(have & set(clause.values))
    return hit != clause.negated


def _sort_keys(text: str) -> list[tuple[str, bool]]:
    keys = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        name, direction = words[0], (words[1].lower() if len(words) > 1 else "asc")
        if name not in SORT_FIELDS or direction not in ("asc", "desc") or len(words) > 2:
            raise search_error(f"Tri « {part.strip()} » impossible : triez sur "
                               f"{', '.join(SORT_FIELDS)} suivi de asc ou desc.")
        keys.append((name, direction == "desc"))
    return keys


def _sort(entries: list[PublicDataset], keys: list[tuple[str, bool]],
          ranks: dict[int, float]) -> None:
    # Stable sorts, last key first: the first key decides, the others break ties.
    entries.sort(key=lambda e: e.dataset.id)
    for name, desc in reversed(keys):
        if name == "score":
            entries.sort(key=lambda e: -ranks.get(e.dataset.id, 0.0), reverse=desc)
        elif name == "metadata_modified":
            entries.sort(key=lambda e: e.modified, reverse=desc)
        elif name == "metadata_created":
            entries.sort(key=lambda e: public.aware(e.dataset.created_at), reverse=desc)
        elif name == "name":
            entries.sort(key=lambda e: e.dataset.slug, reverse=desc)
        elif name == "id":
            entries.sort(key=lambda e: public.dataset_uuid(e.dataset), reverse=desc)
        else:
            entries.sort(key=lambda e: fold(e.dataset.title), reverse=desc)


def package_search(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rows = _int(params, "rows", 10, 0, ROWS_MAX, clamp=True)
    start = _int(params, "start", 0)
    q = params.get("q") or ""
    if not isinstance(q, str):
        raise invalid("q", "texte attendu.")
    clauses, free = parse_query(q, "q")
    fq_texts = [params.get("fq") or ""] + _list(params, "fq_list")
    for fq in fq_texts:
        if not isinstance(fq, str):
            raise invalid("fq", "texte attendu.")
        more, text = parse_query(fq, "fq")
        clauses += more
        free = f"{free} {text}".strip()
    sort_text = params.get("sort") or DEFAULT_SORT
    if not isinstance(sort_text, str):
        raise invalid("sort", "texte attendu.")
    sort_keys = _sort_keys(sort_text)
    facet_fields = _list(params, "facet.field")
    for name in facet_fields:
        if name not in FACET_FIELDS:
            raise search_error(f"Facette « {name} » inconnue : {', '.join(FACET_FIELDS)}.")
    facet_limit = _int(params, "facet.limit", 50, -1)
    facet_mincount = _int(params, "facet.mincount", 1)

    entries = list(ctx.everything())
    ranks: dict[int, float] = {}
    matches = search.ranked_matches(ctx.session, free)
    if matches is not None:
        ranks = {row[0]: float(row[1]) for row in ctx.session.execute(matches)}
        entries = [e for e in entries if e.dataset.id in ranks]
    entries = [e for e in entries if all(_matches(e, c) for c in clauses)]
    _sort(entries, sort_keys, ranks)

    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    titles = {e.dataset.organisation.slug: e.dataset.organisation.name for e in entries}
    for name in facet_fields:
        counts: Counter[str] = Counter()
        for e in entries:
            counts.update(_entry_values(e, name))
        items = sorted(((v, n) for v, n in counts.items() if n >= facet_mincount),
                       key=lambda i: (-i[1], fold(i[0])))
        if facet_limit >= 0:
            items = items[:facet_limit]
        facets[name] = dict(items)
        search_facets[name] = {"title": name, "items": [
            {"name": v, "display_name": titles.get(v, v) if name == "organization" else v,
             "count": n} for v, n in items]}
    shown = entries[start:start + rows]
    return {"count": len(entries), "sort": sort_text, "facets": facets,
            "search_facets": search_facets,
            "results": [package_dict(ctx, e) for e in shown]}


# ----------------------------------------------------------------------- actions


def status_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    root = public.root_organisation(ctx.session)
    return {
        "site_title": f"Données ouvertes — {root.name}" if root else "Données ouvertes",
        "site_description": "Catalogue des données ouvertes du territoire (Patrimoine "
                            f"{__version__}).",
        "site_url": ctx.base, "ckan_version": CKAN_VERSION, "error_emails_to": None,
        "locale_default": "fr", "extensions": ["datastore", "dcat"],
    }


def package_list(ctx: Context, params: dict[str, Any]) -> list[str]:
    limit = _int(params, "limit", 0, 0)
    offset = _int(params, "offset", 0)
    names = sorted(e.dataset.slug for e in ctx.everything())
    return names[offset:offset + limit] if limit else names[offset:]


def package_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ident = _required(params, "id")
    try:
        entry = public.find(ctx.session, ident, ctx.settings, ctx.principal)
    except PatrimoineError as exc:
        raise not_found(f"Jeu de données « {ident} » introuvable.") from exc
    return package_dict(ctx, entry)


def _organisation_counts(ctx: Context) -> Counter[int]:
    return Counter(e.dataset.organisation_id for e in ctx.everything())


def organization_list(ctx: Context, params: dict[str, Any]) -> list[Any]:
    all_fields = _bool(params, "all_fields", False)
    limit = _int(params, "limit", 1000 if not all_fields else 25, 0)
    offset = _int(params, "offset", 0)
    wanted = set(_list(params, "organizations"))
    sort_text = params.get("sort") or "name asc"
    if not isinstance(sort_text, str):
        raise invalid("sort", "texte attendu.")
    words = sort_text.split()
    if not words or words[0] not in ("name", "title", "package_count") or (
            len(words) > 1 and words[1].lower() not in ("asc", "desc")):
        raise invalid("sort", "name, title ou package_count, suivi de asc ou desc.")
    desc = len(words) > 1 and words[1].lower() == "desc"
    counts = _organisation_counts(ctx)
    orgs = [o for o in ctx.session.scalars(select(Organisation))
            if not wanted or o.slug in wanted]
    sort_key: Callable[[Organisation], Any] = {
        "name": lambda o: o.slug, "title": lambda o: fold(o.name),
        "package_count": lambda o: (counts[o.id], o.slug)}[words[0]]
    orgs.sort(key=sort_key, reverse=desc)
    orgs = orgs[offset:offset + limit] if limit else orgs[offset:]
    if not all_fields:
        return [o.slug for o in orgs]
    return [organisation_dict(ctx, o, counts[o.id]) for o in orgs]


def _find_organisation(ctx: Context, ident: str) -> Organisation:
    for org in ctx.session.scalars(select(Organisation)):
        if ident in (org.slug, organisation_id(org), str(org.id)):
            return org
    raise not_found(f"Organisation « {ident} » introuvable.")


def organization_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    org = _find_organisation(ctx, _required(params, "id"))
    entries = [e for e in ctx.everything() if e.dataset.organisation_id == org.id]
    out = organisation_dict(ctx, org, len(entries))
    out["users"] = []
    out["extras"] = []
    out["tags"] = []
    out["groups"] = []
    if _bool(params, "include_datasets", False):
        entries.sort(key=lambda e: e.dataset.slug)
        out["packages"] = [package_dict(ctx, e) for e in entries]
    return out


def tag_list(ctx: Context, params: dict[str, Any]) -> list[Any]:
    if params.get("vocabulary_id"):
        raise not_found(f"Vocabulaire « {params['vocabulary_id']} » introuvable.")
    query = params.get("query") or params.get("q") or ""
    if not isinstance(query, str):
        raise invalid("query", "texte attendu.")
    names = sorted({k for e in ctx.everything() for k in e.dataset.keywords or [] if k.strip()},
                   key=lambda t: (fold(t), t))
    if query:
        names = [n for n in names if fold(query) in fold(n)]
    if _bool(params, "all_fields", False):
        return [tag_dict(n) for n in names]
    return names


def license_list(ctx: Context, params: dict[str, Any]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for text in ("etalab-2.0", "ODbL", None):
        license_id, title, url = ckan_licence(text)
        seen[license_id] = licence_dict(license_id, title, url)
    for e in ctx.everything():
        license_id, title, url = ckan_licence(e.dataset.licence)
        seen.setdefault(license_id, licence_dict(license_id, title, url))
    return list(seen.values())


def _resource(ctx: Context, ident: str) -> tuple[PublicDataset, str]:
    # Resource ids are derived, not stored: look among the datasets that have data.
    for entry in public.everything(ctx.session, ctx.settings, ctx.principal):
        for fmt in entry.formats:
            if public.resource_uuid(entry.dataset, fmt) == ident:
                return entry, fmt
    raise not_found(f"Ressource « {ident} » introuvable.")


def resource_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    entry, fmt = _resource(ctx, _required(params, "id"))
    return resource_dict(ctx, entry, fmt, entry.formats.index(fmt))


# ---------------------------------------------------------------- datastore_search


def _datastore_query(params: dict[str, Any]) -> tuple[language.Query, Any, Any]:
    filters = _json_value(params, "filters")
    conditions: list[language.Filter] = []
    if filters not in (None, ""):
        if not isinstance(filters, dict):
            raise invalid("filters", "objet JSON {\"colonne\": valeur} attendu.")
        for column, value in filters.items():
            if isinstance(value, list):
                conditions.append(language.Condition(column, "in", value))
            elif value is None:
                conditions.append(language.Condition(column, "null"))
            else:
                conditions.append(language.Condition(column, "eq", value))
    q = _json_value(params, "q")
    text = ""
    if isinstance(q, dict):
        for column, value in q.items():
            if not isinstance(value, (str, int, float)):
                raise invalid("q", "texte attendu pour chaque colonne.")
            for word in str(value).split():
                conditions.append(language.Condition(column, "contains", word))
    elif isinstance(q, (str, int, float)):
        text = str(q)
    elif q is not None:
        raise invalid("q", "texte, ou objet {\"colonne\": texte}, attendu.")
    return language.Query(filter=language.Group("and", tuple(conditions)), search=text), \
        filters, q


def _datastore_sort(text: Any) -> tuple[language.SortKey, ...]:
    if text in (None, ""):
        return ()
    if isinstance(text, list):
        text = ",".join(str(t) for t in text)
    if not isinstance(text, str):
        raise invalid("sort", "texte attendu, par exemple « commune, montant desc ».")
    keys = []
    for part in text.split(","):
        words = part.strip().split()
        if not words:
            continue
        name = words[0].strip('"')
        rest = [w.lower() for w in words[1:]]
        desc = "desc" in rest
        if any(w not in ("asc", "desc", "nulls", "last") for w in rest):
            raise invalid("sort", f"« {part.strip()} » : colonne suivie de asc ou desc.")
        if name == "_id":
            if desc:
                raise invalid("sort", "le tri décroissant sur _id n'est pas disponible.")
            continue
        keys.append(language.SortKey(name, desc))
    return tuple(keys)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _json_safe(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def datastore_search(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    resource_id = _required(params, "resource_id")
    if _bool(params, "distinct", False):
        raise invalid("distinct", "les lignes distinctes ne sont pas disponibles ici.")
    records_format = params.get("records_format") or "objects"
    if records_format not in RECORDS_FORMATS:
        raise invalid("records_format", ", ".join(RECORDS_FORMATS) + ".")
    _, readable = _readable(ctx, resource_id, "ckan.datastore_search", params)
    max_limit = readable.limits.max_page_size
    limit = _int(params, "limit", min(100, max_limit), 0, max_limit, clamp=True)
    offset = _int(params, "offset", 0)
    include_total = _bool(params, "include_total", True)
    fields = _list(params, "fields")
    query, filters, q = _datastore_query(params)
    sort = _datastore_sort(params.get("sort"))
    cursor = params.get("cursor") or None
    if cursor is not None and not isinstance(cursor, str):
        raise invalid("cursor", "texte attendu.")
    columns = tuple(f for f in fields if f != "_id")
    with_id = not fields or "_id" in fields
    if limit == 0:
        page = readable.records(query, language.Page(
            columns=columns, sort=sort, limit=1, offset=offset, cursor=cursor,
            count=include_total))
        rows: list[dict[str, Any]] = []
        next_cursor = None
    else:
        page = readable.records(query, language.Page(
            columns=columns, sort=sort, limit=limit, offset=offset, cursor=cursor,
            count=include_total))
        rows = page.rows
        next_cursor = page.next_cursor
    selected = list(columns) or readable.names
    types = {c.name: c.type for c in readable.columns}
    out_fields = ([{"id": "_id", "type": "int"}] if with_id else []) + [
        {"id": name, "type": FIELD_TYPES.get(types[name], "text")} for name in selected]
    names = (["_id"] if with_id else []) + selected
    lines: list[list[Any]] = []
    for row in rows:
        values = {"_id": row["_row"], **{n: _json_safe(row[n]) for n in selected}}
        lines.append([values[n] for n in names])
    records: Any
    if records_format == "objects":
        records = [dict(zip(names, line, strict=True)) for line in lines]
    elif records_format == "lists":
        records = lines
    else:
        # CKAN's csv and tsv: the rows as text, without a header (the fields say it).
        out = io.StringIO()
        writer = csvcells.writer(out, delimiter="," if records_format == "csv" else "\t",
                                 lineterminator="\n")
        writer.writerows([[_csv_cell(v) for v in line] for line in lines])
        records = out.getvalue()
    echoed: dict[str, Any] = {"resource_id": resource_id}
    for name, value in (("q", q), ("filters", filters), ("fields", fields or None),
                        ("sort", params.get("sort"))):
        if value not in (None, "", [], {}):
            echoed[name] = value
    link_params = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
                   for k, v in echoed.items()}
    if limit != 100:
        link_params["limit"] = limit
    start = "/api/3/action/datastore_search?" + urlencode(link_params)
    result: dict[str, Any] = {
        **echoed, "limit": limit, "offset": offset, "include_total": include_total,
        "records_format": records_format, "fields": out_fields, "records": records,
        "_links": {"start": start, "next": f"{start}&offset={offset + limit}"},
        "next_page": ({**echoed, "limit": limit, "cursor": next_cursor}
                      if next_cursor else None),
    }
    if include_total:
        result["total"] = page.total
        result["total_was_estimated"] = False
    return result


# ---------------------------------------------------------------- more actions


def site_read(ctx: Context, params: dict[str, Any]) -> bool:
    return True


def _themes(ctx: Context) -> dict[str, tuple[str, list[PublicDataset]]]:
    """Group name -> (theme as written, its datasets): themes are CKAN's groups."""
    found: dict[str, tuple[str, list[PublicDataset]]] = {}
    for entry in ctx.everything():
        theme = (entry.dataset.theme or "").strip()
        if theme:
            found.setdefault(group_name(theme), (theme, []))[1].append(entry)
    return found


def group_list(ctx: Context, params: dict[str, Any]) -> list[Any]:
    all_fields = _bool(params, "all_fields", False)
    limit = _int(params, "limit", 1000 if not all_fields else 25, 0)
    offset = _int(params, "offset", 0)
    wanted = set(_list(params, "groups"))
    sort_text = params.get("sort") or "title asc"
    if not isinstance(sort_text, str):
        raise invalid("sort", "texte attendu.")
    words = sort_text.split()
    if not words or words[0] not in ("name", "title", "package_count") or len(words) > 2 or (
            len(words) > 1 and words[1].lower() not in ("asc", "desc")):
        raise invalid("sort", "name, title ou package_count, suivi de asc ou desc.")
    desc = len(words) > 1 and words[1].lower() == "desc"
    themes = [(name, theme, len(entries)) for name, (theme, entries) in _themes(ctx).items()
              if not wanted or name in wanted]
    sort_key: Callable[[tuple[str, str, int]], Any] = {
        "name": lambda t: t[0], "title": lambda t: (fold(t[1]), t[0]),
        "package_count": lambda t: (t[2], t[0])}[words[0]]
    themes.sort(key=sort_key, reverse=desc)
    themes = themes[offset:offset + limit] if limit else themes[offset:]
    if not all_fields:
        return [name for name, _, _ in themes]
    return [group_dict(ctx, theme, count) for _, theme, count in themes]


def group_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ident = _required(params, "id")
    for name, (theme, entries) in _themes(ctx).items():
        if ident in (name, _uuid(f"theme/{name}"), theme):
            out = group_dict(ctx, theme, len(entries))
            out.update({"users": [], "extras": [], "tags": [], "groups": []})
            if _bool(params, "include_datasets", False):
                entries = sorted(entries, key=lambda e: e.dataset.slug)
                out["packages"] = [package_dict(ctx, e) for e in entries]
            return out
    raise not_found(f"Groupe (thématique) « {ident} » introuvable.")


def current_package_list_with_resources(ctx: Context, params: dict[str, Any]
                                        ) -> list[dict[str, Any]]:
    """Packages, most recently modified first (CKAN's order), with their resources."""
    limit = _int(params, "limit", 0, 0)
    offset = _int(params, "offset", 0)
    page = _int(params, "page", 0, 0)
    if page and limit:
        offset = (page - 1) * limit
    entries = sorted(ctx.everything(), key=lambda e: (e.modified, e.dataset.id), reverse=True)
    entries = entries[offset:offset + limit] if limit else entries[offset:]
    return [package_dict(ctx, e) for e in entries]


def tag_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ident = _required(params, "id")
    tagged: dict[str, list[PublicDataset]] = {}
    for entry in ctx.everything():
        for keyword in entry.dataset.keywords or []:
            if keyword.strip():
                tagged.setdefault(keyword, []).append(entry)
    for name, entries in sorted(tagged.items()):
        if ident in (name, _uuid(f"tag/{name}")):
            out = tag_dict(name)
            if _bool(params, "include_datasets", False):
                entries.sort(key=lambda e: e.dataset.slug)
                out["packages"] = [package_dict(ctx, e) for e in entries]
            return out
    raise not_found(f"Mot-clé « {ident} » introuvable.")


def package_autocomplete(ctx: Context, params: dict[str, Any]) -> list[dict[str, str]]:
    """Datasets whose name or title contains q (accents and case aside), those that start
    with it first, at most `limit` (10)."""
    q = params.get("q") if params.get("q") not in (None, "") else params.get("incomplete")
    if q is None or not str(q).strip():
        raise CkanError(409, "Validation Error", "Paramètre « q » manquant.",
                        {"q": ["Valeur manquante"]})
    if not isinstance(q, (str, int)):
        raise invalid("q", "texte attendu.")
    limit = _int(params, "limit", 10, 1, ROWS_MAX, clamp=True)
    wanted = fold(str(q).strip())
    found: list[tuple[tuple[int, str], dict[str, str]]] = []
    for entry in ctx.everything():
        d = entry.dataset
        for match_field, value in (("name", d.slug), ("title", d.title)):
            place = fold(value).find(wanted)
            if place >= 0:
                found.append(((0 if place == 0 else 1, d.slug), {
                    "name": d.slug, "title": d.title, "match_field": match_field,
                    "match_displayed": value if match_field == "title"
                    else f"{d.title} ({d.slug})"}))
                break
    found.sort(key=lambda f: f[0])
    return [item for _, item in found[:limit]]


def _activity(entry: PublicDataset, kind: str, when: datetime,
              what: str, package: dict[str, Any]) -> dict[str, Any]:
    stamp = _timestamp(when)
    return {"id": _uuid(f"activity/{entry.dataset.uid}/{what}"), "timestamp": stamp,
            "user_id": None, "object_id": package["id"], "activity_type": kind,
            "data": {"package": package, "what": what}}


def recently_changed_packages_activity_list(ctx: Context, params: dict[str, Any]
                                            ) -> list[dict[str, Any]]:
    """What happened to the catalogue, newest first: each dataset's entry ("new package"),
    each version of it the reader may read ("changed package", new data) and its last
    metadata change. `data.package` is the dataset as it is now."""
    limit = _int(params, "limit", 31, 1, 100, clamp=True)
    offset = _int(params, "offset", 0)
    types = set(_list(params, "activity_types"))
    excluded = set(_list(params, "exclude_activity_types"))
    entries = {e.dataset.id: e for e in ctx.everything()}
    versions = list(ctx.session.scalars(
        select(DatasetVersion).where(DatasetVersion.dataset_id.in_(sorted(entries)))))
    closed = gate.closed_versions(ctx.session, [v.id for v in versions])
    events: list[tuple[datetime, str, PublicDataset, str]] = []
    for entry in entries.values():
        created = public.aware(entry.dataset.created_at)
        events.append((created, "new package", entry, "created"))
        updated = public.aware(entry.dataset.updated_at)
        if updated > created:
            events.append((updated, "changed package", entry, f"metadata/{updated}"))
    for v in versions:
        entry = entries[v.dataset_id]
        if v.id not in closed and entry.version is not None and \
                v.number <= entry.version.number:
            events.append((public.aware(v.created_at), "changed package", entry,
                           f"version/{v.number}"))
    events = [e for e in events if (not types or e[1] in types) and e[1] not in excluded]
    events.sort(key=lambda e: (e[0], e[3]), reverse=True)
    packages: dict[int, dict[str, Any]] = {}
    out = []
    for when, kind, entry, what in events[offset:offset + limit]:
        if entry.dataset.id not in packages:
            packages[entry.dataset.id] = package_dict(ctx, entry)
        out.append(_activity(entry, kind, when, what, packages[entry.dataset.id]))
    return out


# ---------------------------------------------------------- datastore_info and SQL


def _readable(ctx: Context, resource_id: str, action: str, params: dict[str, Any]
              ) -> tuple[PublicDataset, Any]:
    """The resource's version opened for the caller; a read of a dataset that is not open
    is logged with the action, the address and the parameters (GET or POST alike)."""
    entry, _ = _resource(ctx, resource_id)
    assert entry.version is not None
    asked = urlencode({k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                       for k, v in params.items()})
    return entry, open_for_reader(ctx.session, ctx.settings, ctx.principal, entry.dataset,
                                  entry.version.number, Purpose(action, ctx.path, asked))


def datastore_info(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """The resource's table: its columns with their types and labels, and its size."""
    resource_id = str(params.get("id") or "").strip() or _required(params, "resource_id")
    _, readable = _readable(ctx, resource_id, "ckan.datastore_info", params)
    seen = readable.seen
    labels = {c["name"]: c.get("source_name") or c["name"] for c in seen.columns}
    types = {c.name: c.type for c in readable.columns}
    fields = [{"id": "_id", "type": "int", "schema": {
        "native_type": "integer", "notnull": True, "is_index": True, "uniquekey": True}}]
    for name in readable.names:
        native = COLUMN_TYPES.get(types[name], "VARCHAR")
        fields.append({
            "id": name, "type": FIELD_TYPES.get(types[name], "text"),
            "info": {"label": labels.get(name, name), "notes": "", "type_override": ""},
            "schema": {"native_type": native.lower(), "notnull": False, "is_index": False,
                       "uniquekey": False}})
    # Counted on the view: a reader whose grant shows some rows only counts those.
    count = readable.count(language.Query())
    return {"meta": {"id": resource_id, "count": count, "table_type": "BASE TABLE",
                     "aliases": [], "size": seen.version.size_bytes if
                     seen.row_count is not None else None},
            "fields": fields}


def _sql_type(duckdb_type: str) -> str:
    """A DuckDB result type as the datastore names it."""
    base = duckdb_type.split("(")[0].upper()
    if base in ("BIGINT", "HUGEINT", "UBIGINT"):
        return "int8"
    if base in ("INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT"):
        return "int4"
    if base in ("DOUBLE", "FLOAT", "REAL"):
        return "float8"
    if base == "DECIMAL":
        return "numeric"
    if base == "BOOLEAN":
        return "bool"
    if base == "DATE":
        return "date"
    if base.startswith("TIMESTAMP"):
        return "timestamp"
    return "text"


def _sql_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict, bytes, uuid.UUID, timedelta)):
        return str(value)
    return value


def datastore_search_sql(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """One SELECT over one resource's table, named by its resource id in double quotes:
    checked then run in the datastore's sandbox (datastore/query/sql.py)."""
    text = params.get("sql")
    if text is None or (isinstance(text, str) and not text.strip()):
        raise CkanError(409, "Validation Error", "Paramètre « sql » manquant.",
                        {"sql": ["Valeur manquante"]})
    if not isinstance(text, str):
        raise invalid("sql", "texte attendu.")
    try:
        resource_ids = language.sql_tables(text)
    except PatrimoineError as exc:
        raise _sql_error(exc) from exc
    if len(resource_ids) != 1:
        message = ("La requête doit lire exactement une ressource, nommée par son "
                   "identifiant entre guillemets : SELECT * FROM \"<id>\".")
        raise CkanError(409, "Validation Error", message, {"query": [message]})
    resource_id = resource_ids[0].lower()  # DuckDB names ignore case; our ids are lower-case
    _, readable = _readable(ctx, resource_id, "ckan.datastore_search_sql", params)
    try:
        answer = readable.sql(resource_id, text)
    except (Invalid, Forbidden) as exc:
        raise _sql_error(exc) from exc
    names = [name for name, _ in answer.columns]
    records = [dict(zip(names, (_sql_value(v) for v in row), strict=True))
               for row in answer.rows]
    result: dict[str, Any] = {
        "sql": text, "fields": [{"id": n, "type": _sql_type(t)} for n, t in answer.columns],
        "records": records}
    if answer.truncated:
        result["records_truncated"] = True
    return result


def _sql_error(exc: PatrimoineError) -> CkanError:
    # CKAN: a query that is not one SELECT is a Validation Error on `query`; reading another
    # table or calling a refused function, an Authorization Error.
    if isinstance(exc, Forbidden):
        return CkanError(403, "Authorization Error", exc.message,
                         {"permissions": [exc.message]})
    return CkanError(409, "Validation Error", exc.message, {"query": [exc.message]})


HELP = {
    "status_show": "État du site : version de CKAN imitée, adresse, langue, extensions.",
    "package_list": "Noms de tous les jeux de données publics. Paramètres : limit, offset.",
    "package_search": "Recherche de jeux de données. Paramètres : q (mots, ou champ:valeur), "
                      "fq et fq_list (organization:, tags:, license_id:, res_format:, name:, "
                      "id: ; -champ: exclut), rows (10 par défaut, 1000 au plus), start, sort "
                      "(score, metadata_modified, metadata_created, name, title_string suivis "
                      "de asc ou desc), facet.field, facet.limit, facet.mincount.",
    "package_show": "Un jeu de données. Paramètre : id (nom, identifiant ou UUID).",
    "organization_list": "Organisations. Paramètres : all_fields, sort (name, title, "
                         "package_count), limit, offset, organizations.",
    "organization_show": "Une organisation. Paramètres : id, include_datasets.",
    "tag_list": "Mots-clés des jeux de données publics. Paramètres : query, all_fields.",
    "license_list": "Licences.",
    "resource_show": "Une ressource (un format de téléchargement). Paramètre : id.",
    "datastore_search": "Lignes des données d'une ressource. Paramètres : resource_id, q "
                        "(texte, ou {\"colonne\": \"mots\"}), filters ({\"colonne\": "
                        "valeur}, une liste pour plusieurs valeurs), fields, sort "
                        "(\"a, b desc\"), limit (100 par défaut, 1000 au plus), offset, "
                        "include_total, records_format (objects, lists, csv, tsv), cursor "
                        "(curseur de next_page).",
    "help_show": "Aide d'une action. Paramètre : name.",
    "site_read": "Le site est-il lisible (toujours vrai).",
    "group_list": "Groupes : les thématiques des jeux de données. Paramètres : all_fields, "
                  "sort (name, title, package_count ; title asc par défaut), limit, offset, "
                  "groups.",
    "group_show": "Une thématique. Paramètres : id (nom, identifiant ou thématique), "
                  "include_datasets.",
    "current_package_list_with_resources": "Jeux de données avec leurs ressources, les plus "
                                           "récemment modifiés d'abord. Paramètres : limit, "
                                           "offset, page.",
    "tag_show": "Un mot-clé. Paramètres : id, include_datasets.",
    "package_autocomplete": "Jeux de données dont le nom ou le titre contient q (sans tenir "
                            "compte des accents ni de la casse). Paramètres : q, limit (10).",
    "recently_changed_packages_activity_list": "Activité du catalogue, la plus récente "
                                               "d'abord : création d'une fiche (new package), "
                                               "nouvelle version publiée ou fiche modifiée "
                                               "(changed package) ; data.package est le jeu "
                                               "de données tel qu'il est aujourd'hui. "
                                               "Paramètres : limit (31, 100 au plus), "
                                               "offset, activity_types, "
                                               "exclude_activity_types.",
    "datastore_info": "Colonnes d'une ressource (types, libellés) et nombre de lignes. "
                      "Paramètre : id (identifiant de la ressource).",
    "datastore_search_sql": "Une requête SELECT sur une ressource, nommée par son "
                            "identifiant entre guillemets doubles : SELECT essence, count(*) "
                            "FROM \"<id>\" GROUP BY essence. Une seule instruction, une seule "
                            "ressource, sans WITH ni fonction lisant des fichiers ; au plus "
                            "autant de lignes qu'une page de datastore_search "
                            "(records_truncated au-delà). Paramètre : sql.",
}


def help_show(ctx: Context, params: dict[str, Any]) -> str:
    name = _required(params, "name")
    if name not in HELP:
        raise not_found(f"Action « {name} » inconnue.")
    return HELP[name]


ACTIONS: dict[str, Callable[[Context, dict[str, Any]], Any]] = {
    "help_show": help_show,
    "site_read": site_read,
    "status_show": status_show,
    "package_list": package_list,
    "package_search": package_search,
    "package_show": package_show,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "tag_list": tag_list,
    "license_list": license_list,
    "resource_show": resource_show,
    "datastore_search": datastore_search,
    "datastore_info": datastore_info,
    "datastore_search_sql": datastore_search_sql,
    "group_list": group_list,
    "group_show": group_show,
    "current_package_list_with_resources": current_package_list_with_resources,
    "tag_show": tag_show,
    "package_autocomplete": package_autocomplete,
    "recently_changed_packages_activity_list": recently_changed_packages_activity_list,
}


def call(ctx: Context, action: str, params: dict[str, Any]) -> Any:
    """Run one action; CkanError for every failure a client should see."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise bad_request(f"Requête invalide - action inconnue : {action}")
    _check_lengths(params)
    try:
        return handler(ctx, params)
    except CkanError:
        raise
    except PatrimoineError as exc:
        raise from_domain(exc) from exc


def envelope(base: str, action: str, result: Any) -> dict[str, Any]:
    return {"help": f"{base}/api/3/action/help_show?name={action}", "success": True,
            "result": result}


def error_envelope(base: str, action: str, error: CkanError) -> dict[str, Any]:
    return {"help": f"{base}/api/3/action/help_show?name={action}", "success": False,
            "error": error.body()}

