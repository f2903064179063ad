"""Writing a version: DuckDB streams typed Arrow batches, PyArrow writes them with `_row`.

Row groups have a fixed size so the same content always gives the same bytes (and hash).
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 122_880
ROW_COLUMN = "_row"


def _plain_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    return t


class _HashingFile(io.RawIOBase):
    """A write-only file that hashes what goes through it (saves reading the file again)."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.digest = hashlib.sha256()
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        view = memoryview(data)
        self.digest.update(view)
        self._file.write(view)
        self._position += len(view)
        return len(view)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        super().close()


class _Prefetch:
    """Fetches DuckDB batches in a thread so that DuckDB computes the next batches while
    PyArrow encodes the current one; at most `depth` batches wait in memory."""

    _DONE = object()

    def __init__(self, reader: pa.RecordBatchReader, depth: int = 2) -> None:
        self._reader = reader
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="ingest-fetch", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for batch in self._reader:
                if not self._put(batch):
                    return
            self._put(self._DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put(exc)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            while True:
                item = self._queue.get()
                if item is self._DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._stop.set()
            self._thread.join()


def write_parquet(
    con: duckdb.DuckDBPyConnection,
    select_sql: str,
    target: Path,
    on_batch: Callable[[int], None] | None = None,
    transform: Callable[[pa.Table], pa.Table] | None = None,
) -> tuple[int, str]:
    """Run `select_sql` and write its rows to `target` with a leading `_row` (1..n), each
    row group passed through `transform` first when given (same columns, same types).

    Returns the row count and the sha256 of the written file."""
    reader = con.sql(select_sql).to_arrow_reader(ROW_GROUP_ROWS)
    data_schema = pa.schema([pa.field(f.name, _plain_type(f.type)) for f in reader.schema])
    schema = pa.schema([pa.field(ROW_COLUMN, pa.int64(), nullable=False), *data_schema])
    written = 0
    # `_row` of each row group: those of the first (the largest) shifted, not built from a range.
    first_rows: pa.Array | None = None
    strings = [f.name for f in data_schema if pa.types.is_string(f.type)]
    sink = _HashingFile(target)
    with sink, pq.ParquetWriter(sink, schema, compression="snappy", write_statistics=True,
                                use_dictionary=strings, store_schema=False) as writer:

        def flush(table: pa.Table) -> None:
            nonlocal written, first_rows
            n = table.num_rows
            if first_rows is None:
                first_rows = pa.array(range(1, n + 1), pa.int64())
            row = pc.add(first_rows.slice(0, n), pa.scalar(written, pa.int64()))
            if transform is not None:
                table = transform(table)
            if table.schema != data_schema:
                table = table.cast(data_schema)
            writer.write_table(table.add_column(0, schema.field(0), row),
                               row_group_size=ROW_GROUP_ROWS)
            written += n
            if on_batch is not None:
                on_batch(written)

        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        for batch in _Prefetch(reader):
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= ROW_GROUP_ROWS:
                table = pa.Table.from_batches(pending, schema=reader.schema)
                while table.num_rows >= ROW_GROUP_ROWS:
                    flush(table.slice(0, ROW_GROUP_ROWS))
                    table = table.slice(ROW_GROUP_ROWS)
                pending = table.to_batches()
                pending_rows = table.num_rows
        if pending_rows:
            flush(pa.Table.from_batches(pending, schema=reader.schema))
    return written, sink.digest.hexdigest()

