"""Inventory full-text search behind one small interface.

SQLite uses the FTS5 table kept by triggers; PostgreSQL a GIN index over the same folded
text. Both match every word of the query as a prefix, ignoring accents and case.
"""

from __future__ import annotations

from sqlalchemy import Select, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from patrimoine.core.text import tokens
from patrimoine.inventory.models import Dataset


def _words(query: str) -> list[str]:
    return tokens(query)[:20]


def ranked_matches(session: Session, query: str) -> Select[int, float] | None:
    """A select of (dataset id, rank), lower rank first is better; None for an empty query."""
    words = _words(query)
    if not words:
        return None
    if session.get_bind().dialect.name == "sqlite":
        fts = table("dataset_fts", column("rowid"))
        match = " ".join(f'"{w}"*' for w in words)
        return (
            select(fts.c.rowid.label("id"), literal_column("bm25(dataset_fts)").label("rank"))
            .select_from(fts)
            .where(text("dataset_fts MATCH :match").bindparams(match=match))
        )
    tsquery = func.to_tsquery("simple", " & ".join(f"{w}:*" for w in words))
    vector = func.to_tsvector("simple", Dataset.search_text)
    return select(Dataset.id.label("id"), (-func.ts_rank(vector, tsquery)).label("rank")).where(
        vector.op("@@")(tsquery)
    )
