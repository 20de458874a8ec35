"""The demo workspace: a generated B2B SaaS company, loaded through the same validated ingest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import funnelmetrics
from funnelmetrics.workspace import Workspace


def build_demo(db: str | Path, *, leads: int = 50_000, seed: int = 7, months: int = 24,
               end: dt.date | None = None,
               progress: Callable[[str, float], None] | None = None) -> tuple[Workspace, Any]:
    """Generate the demo files and load them into a new workspace; returns (workspace, report).

    `db` is a DuckDB file (replaced; the files go beside it, in `data/`) or an engine's URL
    (`pyspark:///WAREHOUSE_DIR…`, `postgres://…`: the workspace's tables there are emptied and
    loaded; the files go to `demo-data/` in the current folder)."""
    from funnelmetrics.demo.generate import generate
    from funnelmetrics.engines import is_url
    from funnelmetrics.schema import QUARANTINE_TABLE, TABLES

    target = str(db)
    if is_url(target):
        ws = funnelmetrics.open(target)  # a URL that cannot be opened fails here, first
        data = Path.cwd() / "demo-data"
        stored = set(ws.con.list_tables())
        for name in [*TABLES, QUARANTINE_TABLE]:
            if name in stored:
                ws.con.drop_table(name, force=True)
        ws.forget()
    else:
        path = Path(db)
        data = path.resolve().parent / "data"
        for suffix in ("", ".wal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    for stale in data.glob("*.parquet"):
        stale.unlink()
    files = generate(data, leads=leads, seed=seed, months=months, end=end)
    if not is_url(target):
        ws = funnelmetrics.open(db)
    ws.init()
    report = ws.ingest(sorted(files.values()), progress=progress)
    return ws, report
