"""Ingest: sniff a tabular file, then publish it as an immutable Parquet version."""

from patrimoine.datastore.ingest.plan import ColumnPlan, IngestPlan, Overrides
from patrimoine.datastore.ingest.service import ProgressCallback, RejectsRefused, ingest, sniff

__all__ = ["ColumnPlan", "IngestPlan", "Overrides", "ProgressCallback", "RejectsRefused",
           "ingest", "sniff"]
