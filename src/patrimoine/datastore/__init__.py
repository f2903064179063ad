"""Datastore: ingest tabular files into immutable Parquet versions, query and export them."""
