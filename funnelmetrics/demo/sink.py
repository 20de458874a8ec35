"""Writing demo tables chunk by chunk as Parquet or CSV, typed by the data contract (SPEC §2).

A chunk is a `Columns` mapping: numpy arrays (instants as int64 seconds, NEVER = null; numbers as
float64, NaN = null) or ready Arrow arrays (text), or None for an all-null column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from funnelmetrics.demo.timeline import NEVER
from funnelmetrics.schema import TABLES, Kind

Columns = dict[str, Any]
FORMATS = ("parquet", "csv")
ARROW_TYPES = {Kind.TEXT: pa.string(), Kind.TIMESTAMP: pa.timestamp("us"),
               Kind.NUMBER: pa.float64(), Kind.INTEGER: pa.int64()}
# Columns that hold calendar dates; CSV writes them as YYYY-MM-DD (00:00 UTC, SPEC §2).
DATE_COLUMNS = {("quotas", "period_start"), ("quotas", "period_end"), ("spend", "date"),
                ("fx_rates", "date"), ("kpi_targets", "period_start"),
                ("kpi_targets", "period_end")}


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded ids such as L0000042; numbers below 1 become null."""
    numbers = np.asarray(numbers, dtype=np.int64)
    digits = pc.cast(pa.array(numbers, mask=numbers < 1), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width, "0"), "")


def lookup(values: pa.Array, index: np.ndarray) -> pa.Array:
    """`values[index]` as Arrow; negative indexes become null (cheap for repeated ids)."""
    index = np.asarray(index, dtype=np.int64)
    return values.take(pa.array(index, mask=index < 0))


def numbered(prefix: str, index: np.ndarray, width: int) -> pa.Array:
    """Ids of a small numbered table (reps, campaigns) for 0-based indexes; -1 becomes null."""
    index = np.asarray(index, dtype=np.int64)
    top = int(index.max()) + 1 if index.size else 1
    return lookup(ids(prefix, np.arange(1, top + 1), width), index)


def labels(names: Sequence[str | None], codes: np.ndarray) -> pa.Array:
    """Text from category codes; negative codes become null."""
    codes = np.asarray(codes, dtype=np.int64)
    return pa.array(names, pa.string()).take(pa.array(codes, mask=codes < 0))


def _arrow(value: Any, kind: Kind, n: int) -> pa.Array:
    """One column as an Arrow array of the contract's type."""
    target = ARROW_TYPES[kind]
    if value is None:
        return pa.nulls(n, target)
    if isinstance(value, pa.ChunkedArray | pa.Array):
        return value.cast(target) if value.type != target else value
    array = np.asarray(value)
    if kind is Kind.TIMESTAMP:
        missing = array == NEVER
        micros = np.where(missing, 0, array).astype(np.int64) * 1_000_000
        return pa.array(micros, pa.timestamp("us"), mask=missing)
    if kind is Kind.NUMBER:
        array = array.astype(np.float64)
        return pa.array(array, target, mask=np.isnan(array))
    return pa.array(array, target)


class TableSink:
    """One output file of one table, written in chunks with a fixed schema."""

    def __init__(self, directory: Path, table: str, file_format: str,
                 extras: Mapping[str, Kind] | None = None) -> None:
        """Prepare `<directory>/<table>.<file_format>` with the contract's columns + extras."""
        self.table = table
        self.kinds = {c.name: c.kind for c in TABLES[table].columns} | dict(extras or {})
        self.schema = pa.schema([(name, ARROW_TYPES[k]) for name, k in self.kinds.items()])
        self.path = directory / f"{table}.{file_format}"
        self.file_format = file_format
        self.rows = 0
        self._writer: pq.ParquetWriter | pacsv.CSVWriter | None = None

    def write(self, columns: Columns) -> None:
        """Append one chunk; every column of the table must be present."""
        missing = set(self.kinds) - set(columns)
        if missing:
            raise KeyError(f"{self.table}: chunk lacks {sorted(missing)}")
        n = _length(columns)
        arrays = [_arrow(columns[name], kind, n) for name, kind in self.kinds.items()]
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        if self.file_format == "csv":
            table = self._as_text(table)
        if self._writer is None:
            self._writer = (pacsv.CSVWriter(self.path, table.schema) if self.file_format == "csv"
                            else pq.ParquetWriter(self.path, self.schema))
        self._writer.write_table(table)
        self.rows += n

    def _as_text(self, table: pa.Table) -> pa.Table:
        """ISO 8601 text for instants (…Z) and dates, for CSV."""
        for i, field in enumerate(table.schema):
            if self.kinds[field.name] is not Kind.TIMESTAMP:
                continue
            seconds = table.column(i).cast(pa.timestamp("s"))
            if (self.table, field.name) in DATE_COLUMNS:
                text = seconds.cast(pa.date32()).cast(pa.string())
            else:  # casting is ~7x faster than pc.strftime: "YYYY-MM-DD hh:mm:ss" → "…Thh:mm:ssZ"
                text = pc.binary_join_element_wise(
                    pc.replace_substring(seconds.cast(pa.string()), " ", "T"), "Z", "")
            table = table.set_column(i, field.name, text)
        return table

    def close(self) -> None:
        """Finish the file; a table that got no chunk is written empty with its header."""
        if self._writer is None:
            self.write({name: np.array([], dtype=np.int64) if kind is not Kind.TEXT else None
                        for name, kind in self.kinds.items()})
        assert self._writer is not None
        self._writer.close()


def _length(columns: Columns) -> int:
    """Row count of a chunk (from its first non-None column)."""
    return next((len(value) for value in columns.values() if value is not None), 0)
