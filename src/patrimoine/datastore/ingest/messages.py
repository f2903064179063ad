"""DuckDB's English errors, met while reading a file, told in French.

The detail users can act on (line, byte, value, type) is kept; file paths, DuckDB's option
dumps and stack traces never reach them (the original goes to the log for operators).
"""

from __future__ import annotations

import logging
import re

import duckdb

log = logging.getLogger("patrimoine.ingest")

_MAX_LINE = re.compile(r"Maximum line size of (\d+) bytes exceeded\. Actual Size:\s*(\d+)")
_JSON_AT = re.compile(r"Malformed JSON in file .*?, at byte (\d+) in (?:record/value|line) (\d+)"
                      r": ([^.]*)")
_JSON_DEPTH = re.compile(r"JSON exceeds maximum recursion depth of (\d+)")
_CONVERT = re.compile(r"Could not convert string '(.*?)' to (\w+)")
_TYPES = {"INT8": "entier", "INT16": "entier", "INT32": "entier", "INT64": "entier",
          "BIGINT": "entier", "INTEGER": "entier", "DOUBLE": "nombre décimal",
          "FLOAT": "nombre décimal", "DATE": "date", "TIMESTAMP": "date et heure",
          "BOOLEAN": "booléen (oui/non)"}
_JSON_PROBLEMS = {"unexpected character": "caractère inattendu",
                  "unexpected end of data": "fin de fichier inattendue",
                  "unexpected content after document": "contenu après la fin du document"}


def mb(n: int) -> str:
    return f"{n / 1_000_000:.0f} Mo" if n >= 10_000_000 else f"{n / 1_000_000:.1f} Mo"


def french(exc: BaseException, what: str = "fichier") -> str:
    """A French sentence for a DuckDB error met reading `what` (« fichier JSON »…); the CSV
    line, when DuckDB gives one, is for the caller to add."""
    message = str(exc)
    log.info("reading refused by DuckDB: %s", message.splitlines()[0] if message else exc)
    if isinstance(exc, duckdb.OutOfMemoryException) or "Out of Memory" in message:
        return ("la mémoire réservée au chargement ne suffit pas pour ce fichier ; découpez-le "
                "ou enregistrez-le en CSV")
    if isinstance(exc, duckdb.InterruptException) or "INTERRUPT" in message:
        return "le chargement a été interrompu ; réessayez"
    if found := _MAX_LINE.search(message):
        limit, actual = map(int, found.groups())
        return (f"un enregistrement de {mb(actual)} dépasse la taille maximale d'une ligne "
                f"({mb(limit)}, réglée par PATRIMOINE_MAX_CSV_LINE_BYTES) ; un guillemet "
                "est-il mal fermé ?")
    if "unterminated quote" in message:
        return "un guillemet ouvert n'est jamais refermé"
    if "Invalid unicode" in message or "not utf-8" in message:
        return "caractères invalides en UTF-8 ; précisez l'encodage du fichier"
    if found := _JSON_AT.search(message):
        byte, record, problem = found.groups()
        return (f"{what} invalide à l'octet {byte} de l'enregistrement {record} "
                f"({_JSON_PROBLEMS.get(problem.strip(), 'syntaxe incorrecte')})")
    if found := _JSON_DEPTH.search(message):
        return f"{what} imbriqué sur plus de {found.group(1)} niveaux"
    if found := _CONVERT.search(message):
        value, type_ = found.groups()
        return (f"la valeur « {value[:200]} » n'est pas du type attendu "
                f"({_TYPES.get(type_, type_.lower())})")
    if "No magic bytes" in message or "not a Parquet file" in message.lower():
        return f"{what} endommagé ou d'un autre format"
    if isinstance(exc, duckdb.IOException) or "IO Error" in message:
        return f"{what} introuvable ou illisible"
    return f"{what} d'une forme inattendue (erreur de lecture)"
