"""A small table of Python values (the period spine) in an Ibis expression, without pandas.

`ibis.memtable` of a dict builds a pandas DataFrame at once, and importing pandas costs more
than compiling a small metric. `values_table` keeps the columns as tuples: the SQL written for
DuckDB spells them out (`query.standalone_sql`), so nothing loads pandas; only when Ibis runs
the expression itself (another engine, a pandas result) is the DataFrame made — the same one
`ibis.memtable` makes of the dict, so every engine receives the table as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.operations as ops
from ibis import util
from ibis.formats import TableProxy

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    import pyarrow as pa
    from ibis.expr.schema import Schema


class ColumnsProxy(TableProxy[dict]):
    """Columns of Python values, `{name: tuple of values}` (hashed by value, so equal
    columns compare equal)."""

    def rows(self, names: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """The rows as tuples of the Python values given, columns in the order of `names`."""
        return zip(*(self.obj[name] for name in names), strict=True)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame({name: list(values) for name, values in self.obj.items()})

    def _pandas(self) -> Any:
        from ibis.formats.pandas import PandasDataFrameProxy

        return PandasDataFrameProxy(self.to_frame())

    def to_pyarrow(self, schema: Schema) -> pa.Table:
        return self._pandas().to_pyarrow(schema)

    def to_polars(self, schema: Schema) -> pl.DataFrame:
        return self._pandas().to_polars(schema)


def values_table(columns: Mapping[str, Sequence[Any]], schema: Mapping[str, str]) -> ibis.Table:
    """An in-memory table of `columns` (Python values) with the given Ibis types, named as
    Ibis names a dict's memtable (the SQL snapshots expect that name)."""
    return ops.InMemoryTable(name=util.gen_name("pandas_memtable"), schema=ibis.schema(schema),
                             data=ColumnsProxy({name: tuple(values)
                                                for name, values in columns.items()})).to_expr()
