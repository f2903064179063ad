"""Small versions written directly as Parquet by DuckDB, opened through the query engine."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import duckdb

from patrimoine.core.settings import Settings
from patrimoine.datastore import engine

# The limits of the default settings.
LIMITS = engine.Limits.from_settings(Settings())

EQUIPEMENTS_COLUMNS: list[dict[str, Any]] = [
    {"name": "nom", "type": "string"},
    {"name": "commune", "type": "string"},
    {"name": "montant", "type": "number"},
    {"name": "quantite", "type": "integer"},
    {"name": "actif", "type": "boolean"},
    {"name": "signe", "type": "date"},
    {"name": "maj", "type": "datetime"},
    {"name": "latitude", "type": "number"},
    {"name": "longitude", "type": "number"},
]
POSITIONS = {"lat": "latitude", "lon": "longitude"}

EQUIPEMENTS_SQL = """
SELECT _row::BIGINT AS _row, nom, commune, montant::DOUBLE AS montant,
  quantite::BIGINT AS quantite, actif, signe, maj, latitude::DOUBLE AS latitude,
  longitude::DOUBLE AS longitude
FROM (VALUES
 (1, 'Piscine Jean-Bouin', 'Saint-Étienne', 1200.5, 3, true, DATE '2024-01-15',
  TIMESTAMP '2024-01-15 10:00:00', 45.4397, 4.3872),
 (2, 'Médiathèque Élise', 'Lyon', 300.0, 10, false, DATE '2024-02-01',
  TIMESTAMP '2024-02-01 08:30:00', 45.7640, 4.8357),
 (3, '=HYPERLINK("http://x")', 'Lyon', NULL, 1, true, DATE '2023-12-31', NULL, 45.7600, 4.8400),
 (4, 'Gymnase Œuvre', 'Évry', -50.0, NULL, NULL, DATE '2024-02-20',
  TIMESTAMP '2024-02-20 17:45:00', 48.6300, 2.4400),
 (5, '+33 stade', 'Paris', 999.99, 7, true, NULL, TIMESTAMP '2024-03-01 00:00:00',
  48.8566, 2.3522),
 (6, '-tiret', 'Paris', 10.0, 2, false, DATE '2024-03-05', TIMESTAMP '2024-03-05 12:00:00',
  NULL, NULL),
 (7, '@arobase', 'Saint-Étienne', 10.0, 5, true, DATE '2024-03-06',
  TIMESTAMP '2024-03-06 09:15:00', 45.4400, 4.3900),
 (8, 'Salle ; "guillemets", virgule' || chr(10) || 'ligne', NULL, 75.0, 8, false,
  DATE '2024-01-20', TIMESTAMP '2024-01-20 20:20:20', 43.6047, 1.4442),
 (9, chr(9) || 'tabulation', 'Lyon', 20.0, 4, true, DATE '2024-02-10',
  TIMESTAMP '2024-02-10 10:10:10', 45.7500, 4.8500)
) t(_row, nom, commune, montant, quantite, actif, signe, maj, latitude, longitude)
"""

# n rows with repeated values, nulls in every column kind, for paging and sorting.
def generated_sql(n: int) -> str:
    return f"""
SELECT i::BIGINT AS _row,
  'Ligne ' || i AS nom,
  CASE WHEN i % 11 = 0 THEN NULL
       ELSE (['Lyon', 'Saint-Étienne', 'Évry', 'Paris', 'Nîmes'])[1 + (i % 5)::INT] END
    AS commune,
  CASE WHEN i % 13 = 0 THEN NULL ELSE ((i * 7919) % 1000) / 4.0 END::DOUBLE AS montant,
  CASE WHEN i % 17 = 0 THEN NULL ELSE (i * 31) % 23 END::BIGINT AS quantite,
  CASE WHEN i % 19 = 0 THEN NULL ELSE i % 2 = 0 END AS actif,
  CASE WHEN i % 7 = 0 THEN NULL ELSE DATE '2023-01-01' + ((i * 37) % 500)::INT END AS signe,
  TIMESTAMP '2023-01-01 00:00:00' + to_seconds(((i * 7717) % 40000000)::BIGINT) AS maj,
  43.0 + ((i * 13) % 500) / 100.0 AS latitude,
  1.0 + ((i * 29) % 500) / 100.0 AS longitude
FROM range(1, {n} + 1) t(i)
"""


def write_parquet(path: Path, select_sql: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"COPY ({select_sql} ORDER BY _row) TO '{path}' (FORMAT parquet)")
    finally:
        con.close()
    return path


def open_table(
    tmp_path: Path,
    select_sql: str = EQUIPEMENTS_SQL,
    columns: list[dict[str, Any]] | None = None,
    positions: dict[str, str] | None = POSITIONS,
    limits: engine.Limits = LIMITS,
) -> engine.VersionTable:
    key = uuid.uuid4().hex
    parquet = write_parquet(tmp_path / f"{key}.parquet", select_sql)
    return engine.open_file(parquet, columns or EQUIPEMENTS_COLUMNS,
                            cache_root=tmp_path / "cache", key=key, positions=positions,
                            limits=limits)
