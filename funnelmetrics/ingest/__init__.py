"""Validated ingest (SPEC §2 "Bad input"): read CSV, Parquet, JSON lines and XLSX files, check
every row against the data contract in the database, load the good rows in one transaction and
keep every rejected row in the quarantine.

>>> report = funnelmetrics.ingest.load(ws, [Path("data/")])  # doctest: +SKIP
>>> report.to_json()  # doctest: +SKIP
{'tables': {'leads': {'rows': 3, 'accepted': 2, 'rejected': 1}}, 'quarantine': '…'}
"""

from __future__ import annotations

from funnelmetrics.ingest.load import load
from funnelmetrics.ingest.report import (
    FileReport,
    LoadReport,
    Problem,
    RejectedRowsError,
    TableReport,
)

__all__ = ["FileReport", "LoadReport", "Problem", "RejectedRowsError", "TableReport", "load"]
