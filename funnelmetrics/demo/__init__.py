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
    """Generate the demo files beside `db` (in `data/`), load them, return (workspace, report)."""
    from funnelmetrics.demo.generate import generate

    db = Path(db)
    data = db.resolve().parent / "data"
    for stale in data.glob("*.parquet"):
        stale.unlink()
    for suffix in ("", ".wal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    files = generate(data, leads=leads, seed=seed, months=months, end=end)
    ws = funnelmetrics.open(db)
    ws.init()
    report = ws.ingest(sorted(files.values()), progress=progress)
    return ws, report
