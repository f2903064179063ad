"""What udata's CKAN harvester (opendatateam/udata, harvest/backends/ckan) demands of a
`package_show` result, restated here as plain checks (the harvester itself validates with
voluptuous, every key required unless said otherwise, and then reads the resources it keeps).

`problems(package)` lists every departure from it; an empty list means data.gouv.fr can
harvest the package. udata itself runs its harvesters against a live instance in
tests/interop (`make interop`); this restatement keeps a quick check in the main suite.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

RESOURCE_TYPES = ("file", "file.upload", "api", "documentation", "image", "visualization")
# Resource types the harvester imports (the others are skipped).
HARVESTED_TYPES = ("file", "file.upload", "api", "metadata")


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _email(value: Any) -> bool:
    return value in (None, "") or (isinstance(value, str) and "@" in value)


def _boolean(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return True
    return str(value).strip().lower() in ("0", "1", "f", "false", "n", "no", "off", "on", "t",
                                          "true", "y", "yes", "")


def _url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlparse(value if "://" in value else "http://" + value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _require(data: dict[str, Any], keys: tuple[str, ...], where: str) -> list[str]:
    return [f"{where}: clé « {k} » absente" for k in keys if k not in data]


def _tag_problems(tag: Any, where: str) -> list[str]:
    if not isinstance(tag, dict):
        return [f"{where}: un objet est attendu"]
    out = _require(tag, ("id", "name"), where)
    if not isinstance(tag.get("id"), str):
        out.append(f"{where}.id: texte attendu")
    if not isinstance(tag.get("name"), str) or not tag.get("name", "").strip():
        out.append(f"{where}.name: texte non vide attendu")
    if "vocabulary_id" in tag and not _str_or_none(tag["vocabulary_id"]):
        out.append(f"{where}.vocabulary_id: texte ou null attendu")
    for optional in ("display_name", "state"):
        if optional in tag and not isinstance(tag[optional], str):
            out.append(f"{where}.{optional}: texte attendu")
    return out


def _organisation_problems(org: Any) -> list[str]:
    if org is None:
        return []
    if not isinstance(org, dict):
        return ["organization: objet ou null attendu"]
    keys = ("id", "description", "created", "title", "name", "revision_timestamp",
            "is_organization", "state", "image_url", "revision_id", "type", "approval_status")
    out = _require(org, keys, "organization")
    for k in ("id", "description", "title", "name", "state", "image_url", "revision_id"):
        if k in org and not isinstance(org[k], str):
            out.append(f"organization.{k}: texte attendu")
    for k in ("created", "revision_timestamp"):
        if k in org and not _is_date(org[k]):
            out.append(f"organization.{k}: date attendue")
    if "is_organization" in org and not _boolean(org["is_organization"]):
        out.append("organization.is_organization: booléen attendu")
    if org.get("type") != "organization":
        out.append("organization.type: « organization » attendu")
    if org.get("approval_status") != "approved":
        out.append("organization.approval_status: « approved » attendu")
    return out


def _resource_problems(res: Any, where: str) -> list[str]:
    if not isinstance(res, dict):
        return [f"{where}: un objet est attendu"]
    keys = ("id", "position", "name", "description", "format", "mimetype", "size", "hash",
            "created", "last_modified", "url", "resource_type")
    out = _require(res, keys, where)
    if not isinstance(res.get("id"), str):
        out.append(f"{where}.id: texte attendu")
    else:
        try:
            uuid.UUID(res["id"])
        except ValueError:
            out.append(f"{where}.id: le moissonneur attend un UUID")
    if not isinstance(res.get("position"), int) or isinstance(res.get("position"), bool):
        out.append(f"{where}.position: entier attendu")
    if not _str_or_none(res.get("name")):
        out.append(f"{where}.name: texte attendu")
    if not _str_or_none(res.get("description")):
        out.append(f"{where}.description: texte ou null attendu")
    if not isinstance(res.get("format"), str):
        out.append(f"{where}.format: texte attendu")
    if not _str_or_none(res.get("mimetype")):
        out.append(f"{where}.mimetype: texte ou null attendu")
    size = res.get("size")
    if size is not None:
        try:
            int(size)
        except (TypeError, ValueError):
            out.append(f"{where}.size: entier ou null attendu")
    if not _str_or_none(res.get("hash")):
        out.append(f"{where}.hash: texte ou null attendu")
    if not _is_date(res.get("created")):
        out.append(f"{where}.created: date en texte attendue")
    if res.get("last_modified") is not None and not _is_date(res.get("last_modified")):
        out.append(f"{where}.last_modified: date en texte ou null attendue")
    if not _url(res.get("url")):
        out.append(f"{where}.url: URL attendue")
    kind = res.get("resource_type") or "file"
    if kind not in RESOURCE_TYPES:
        out.append(f"{where}.resource_type: un de {', '.join(RESOURCE_TYPES)} attendu")
    elif kind not in HARVESTED_TYPES:
        out.append(f"{where}.resource_type: « {kind} » n'est pas moissonné")
    return out


def problems(package: Any) -> list[str]:
    if not isinstance(package, dict):
        return ["le résultat doit être un objet"]
    keys = ("id", "name", "title", "notes", "license_id", "license_title", "tags",
            "metadata_created", "metadata_modified", "organization", "resources", "private",
            "type", "author", "author_email", "maintainer", "maintainer_email", "state")
    out = _require(package, keys, "package")
    for k in ("id", "name", "title"):
        if not isinstance(package.get(k), str):
            out.append(f"{k}: texte attendu")
    for k in ("notes", "license_title", "author", "maintainer", "state"):
        if not _str_or_none(package.get(k)):
            out.append(f"{k}: texte ou null attendu")
    if not _str_or_none(package.get("license_id")):
        out.append("license_id: texte attendu")
    for k in ("metadata_created", "metadata_modified"):
        if not _is_date(package.get(k)):
            out.append(f"{k}: date en texte attendue")
    for k in ("author_email", "maintainer_email"):
        if not _email(package.get(k)):
            out.append(f"{k}: adresse électronique attendue")
    if not _boolean(package.get("private")):
        out.append("private: booléen attendu")
    if package.get("type") != "dataset":
        out.append("type: « dataset » attendu")
    tags = package.get("tags")
    if not isinstance(tags, list):
        out.append("tags: liste attendue")
    else:
        for i, tag in enumerate(tags):
            out += _tag_problems(tag, f"tags[{i}]")
    out += _organisation_problems(package.get("organization"))
    resources = package.get("resources")
    if not isinstance(resources, list):
        out.append("resources: liste attendue")
    else:
        for i, res in enumerate(resources):
            out += _resource_problems(res, f"resources[{i}]")
    extras = package.get("extras", [])
    if not isinstance(extras, list):
        out.append("extras: liste attendue")
    else:
        for i, extra in enumerate(extras):
            if not isinstance(extra, dict) or not isinstance(extra.get("key"), str) or \
                    not isinstance(extra.get("value"), (str, int, float, bool, dict, list)):
                out.append(f"extras[{i}]: {{key: texte, value: valeur}} attendu")
    return out
