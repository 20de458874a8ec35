"""Shared fixtures. Metric tests run once per available backend (STYLE.md: one suite, many
backends): DuckDB always, a second engine only where it is installed here."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `from journeys import …` in every test module


def available_backends() -> list[str]:
    """DuckDB, plus PySpark where it runs: installed (the dev extras have it) and a Java to run
    it on."""
    backends = ["duckdb"]
    if importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None:
        backends.append("pyspark")
    return backends


@pytest.fixture(params=available_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_ws(tmp_path: Path, backend: str):
    """`make_ws(events, **tables)`: a journeys() workspace on the current backend.

    Each call gets its own directory under tmp_path, so one test may build several.
    """
    from journeys import journeys

    opened = []

    def make(events=None, **kwargs):
        ws = journeys(tmp_path / f"ws{len(opened)}", events, backend=backend, **kwargs)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()
