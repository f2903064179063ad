"""The data schemas shipped with Patrimoine (SCDL and others from schema.data.gouv.fr).

The files under `standards/schemas/<folder>/` are copies, byte for byte, of the publishers'
files. This module finds in them, without changing anything:

- the Table Schemas (a JSON object with a `fields` list), declarable on a dataset;
- the JSON Schemas (DECP, GeoJSON cycle lanes), which describe JSON documents, not tables;
- each schema's example files, the ones found below the schema's own folder in a folder or
  file named `exemple*` / `example*`. An example is expected to be invalid when its name says
  so (`invalide`, `invalid`, `ko`, `duplicate`, as the publishers name them), valid otherwise.

A folder holding one schema gives it its name (`scdl-subventions`); a folder holding several
names each after its own sub-folder (`irve/statique`, `irve/dynamique`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from patrimoine.core.errors import Invalid, NotFound
from patrimoine.core.text import key

SCHEMAS_DIR = Path(__file__).parent / "schemas"

TABLE = "table-schema"
JSON_SCHEMA = "json-schema"
KIND_LABELS = {TABLE: "Table Schema", JSON_SCHEMA: "JSON Schema"}

_INVALID_WORDS = ("invalide", "invalid", "ko", "duplicate", "erreur", "error")
_EXAMPLE_WORDS = ("exempl", "exampl")


@dataclass(frozen=True)
class Example:
    path: Path
    expected_valid: bool

    @property
    def relative(self) -> str:
        return self.path.relative_to(SCHEMAS_DIR).as_posix()


@dataclass(frozen=True)
class ShippedSchema:
    name: str
    kind: str  # TABLE or JSON_SCHEMA
    path: Path
    title: str
    version: str | None
    description: str
    homepage: str | None
    examples: tuple[Example, ...]
    scdl: bool  # part of the Socle Commun des Données Locales

    @property
    def relative(self) -> str:
        return self.path.relative_to(SCHEMAS_DIR).as_posix()

    @property
    def is_table_schema(self) -> bool:
        return self.kind == TABLE

    def descriptor(self) -> dict[str, Any]:
        """The schema as published (a fresh copy each time: callers may change it)."""
        return json.loads(self.path.read_text(encoding="utf-8"))

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "title": self.title, "version": self.version,
            "description": self.description, "homepage": self.homepage, "scdl": self.scdl,
            "file": self.relative,
            "examples": [{"file": e.relative, "expected_valid": e.expected_valid}
                         for e in self.examples],
        }


def _is_example(path: Path, root: Path) -> bool:
    parts = [key(p) for p in path.relative_to(root).parts]
    return any(p.startswith(_EXAMPLE_WORDS) for p in parts)


def expected_valid(path: Path) -> bool:
    """Whether the publishers name this example as a valid one."""
    words = key(path.stem.replace("_", " ").replace("-", " ")).split()
    return not any(w in _INVALID_WORDS for w in words)


def _kind(document: Any, path: Path) -> str | None:
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("fields"), list):
        return TABLE
    if "resources" in document:  # a Data Package: its schemas are listed on their own
        return None
    if "json-schema.org" in str(document.get("$schema", "")) or (
        path.stem.lower().startswith("schema")
        and any(k in document for k in ("properties", "allOf", "definitions", "$defs"))
    ):
        return JSON_SCHEMA
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, ShippedSchema]:
    found: dict[str, ShippedSchema] = {}
    for folder in sorted(p for p in SCHEMAS_DIR.iterdir() if p.is_dir()):
        schemas: list[tuple[Path, str, dict[str, Any]]] = []
        examples: list[Path] = []
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix.lower() not in (".json", ".csv", ".geojson"):
                continue
            if _is_example(path, folder):
                examples.append(path)
                continue
            if path.suffix.lower() != ".json":
                continue
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            kind = _kind(document, path)
            if kind is not None:
                schemas.append((path, kind, document))
        readme = _scdl_label(folder)
        for path, kind, document in schemas:
            name = folder.name if len(schemas) == 1 else f"{folder.name}/{path.parent.name}"
            # An example belongs to the schema whose folder is its nearest ancestor.
            own = [e for e in examples if _nearest(e, [p for p, _, _ in schemas]) == path]
            wanted = ".csv" if kind == TABLE else ".json"
            found[name] = ShippedSchema(
                name=name, kind=kind, path=path,
                title=_text(document.get("title")) or name,
                version=_text(document.get("version")) or None,
                description=_text(document.get("description")),
                homepage=_text(document.get("homepage")) or None,
                examples=tuple(Example(e, expected_valid(e)) for e in own
                               if e.suffix.lower() in (wanted, ".geojson")),
                scdl=readme,
            )
    return found


def _nearest(example: Path, schema_paths: list[Path]) -> Path | None:
    best: Path | None = None
    for path in schema_paths:
        if example.is_relative_to(path.parent) and (
            best is None or len(path.parent.parts) > len(best.parent.parts)
        ):
            best = path
    return best


def _scdl_label(folder: Path) -> bool:
    if folder.name.startswith("scdl-"):
        return True
    readme = folder / "README.md"
    if not readme.is_file():
        return False
    head = readme.read_text(encoding="utf-8")[:2000]
    return "Socle Commun des Données Locales" in head


def shipped_schemas() -> list[ShippedSchema]:
    """Every shipped schema, Table Schemas first, by name."""
    return sorted(_catalogue().values(), key=lambda s: (s.kind != TABLE, s.name))


def table_schemas() -> list[ShippedSchema]:
    return [s for s in shipped_schemas() if s.kind == TABLE]


def get_schema(name: str) -> ShippedSchema:
    found = _catalogue().get(name.strip().strip("/"))
    if found is None:
        raise NotFound(f"Schéma inconnu : « {name} ». Schémas disponibles : "
                       f"{', '.join(s.name for s in table_schemas())}.")
    return found


def schema_digest(descriptor: dict[str, Any]) -> str:
    """A descriptor's identity, whatever its keys' order: validation results are kept per
    version and digest."""
    canonical = json.dumps(descriptor, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@lru_cache(maxsize=64)
def shipped_digest(name: str) -> str:
    return schema_digest(get_schema(name).descriptor())


def schema_by_descriptor_name(descriptor_name: str) -> ShippedSchema | None:
    """The shipped schema whose descriptor has this `name` (or folder name), if any."""
    for schema in _catalogue().values():
        if schema.name == descriptor_name:
            return schema
    for schema in _catalogue().values():
        if schema.kind == TABLE and schema.descriptor().get("name") == descriptor_name:
            return schema
    return None


def parse_uploaded(data: bytes | str, filename: str = "schema.json") -> dict[str, Any]:
    """An uploaded schema file as a dict, or Invalid with a French message."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        document = json.loads(text)
    except UnicodeDecodeError:
        raise Invalid(f"Le schéma « {filename} » n'est pas un fichier texte UTF-8.") from None
    except json.JSONDecodeError as exc:
        raise Invalid(f"Le schéma « {filename} » n'est pas un JSON valide "
                      f"(ligne {exc.lineno}, colonne {exc.colno}).") from None
    if not isinstance(document, dict):
        raise Invalid(f"Le schéma « {filename} » doit être un objet JSON.")
    return document
