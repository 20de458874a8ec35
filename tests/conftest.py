"""Shared fixtures. Metric tests run once per available backend (STYLE.md: one suite, many
backends): DuckDB always, a second engine only where it is installed here.

The PySpark cases carry the `spark` marker (`make test-fast` leaves them out). A test that
checks something only DuckDB has says so with `@pytest.mark.duckdb_only("why")`; a known
difference of an engine's figures is `@pytest.mark.spark_differs("what differs")`, an expected
failure on Spark that turns into an error once the engines agree.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `from journeys import …` in every test module

DUCKDB, PYSPARK = "duckdb", "pyspark"


def available_backends() -> list[Any]:
    """DuckDB, plus PySpark where it runs: installed (the dev extras have it) and a Java to run
    it on."""
    backends = [pytest.param(DUCKDB, id=DUCKDB)]
    if importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None:
        backends.append(pytest.param(PYSPARK, id=PYSPARK, marks=pytest.mark.spark))
    return backends


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`duckdb_only` skips, and `spark_differs` expects to fail, a test's other-engine cases,
    each with its reason in the report."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("backend") if callspec is not None else None
        if engine in (None, DUCKDB):
            continue
        only = item.get_closest_marker("duckdb_only")
        if only is not None:
            item.add_marker(pytest.mark.skip(reason=f"DuckDB only: {only.args[0]}"))
        differs = item.get_closest_marker("spark_differs")
        if differs is not None and engine == PYSPARK:
            item.add_marker(pytest.mark.xfail(reason=f"Spark differs: {differs.args[0]}",
                                              strict=True))


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


@pytest.fixture
def make_sql_ws(tmp_path: Path, backend: str) -> Iterator[Any]:
    """`make_sql_ws(*steps, config=None)`: a workspace filled on a fresh DuckDB workspace, by
    SQL statements or functions of it, then moved to the current backend (Spark: a copy of
    every table).

    Each call gets its own directory under tmp_path, so one test may build several.
    """
    from journeys import _copy_to

    import funnelmetrics

    opened = []
    made = iter(range(1_000_000))

    def make(*steps: str | Callable[[Any], object],
             config: funnelmetrics.Config | None = None) -> Any:
        directory = tmp_path / f"sql{next(made)}"
        directory.mkdir()
        ws = funnelmetrics.open(directory / "w.duckdb", config=config)
        opened.append(ws)
        for step in steps:
            if callable(step):
                step(ws)
            else:
                ws.duckdb.execute(step)
        if backend == DUCKDB:
            return ws
        copy = _copy_to(ws, backend)
        opened.append(copy)
        return copy

    yield make
    for ws in opened:
        ws.close()
