"""Shared fixtures. Metric tests run once per available backend (STYLE.md: one suite, many
backends): DuckDB always, PySpark and PostgreSQL where they run here.

The PySpark cases carry the `spark` marker and the PostgreSQL cases the `postgres` marker
(`make test-fast` leaves both out). A test that checks something only DuckDB has says so with
`@pytest.mark.duckdb_only("why")`; a known difference of an engine's figures is
`@pytest.mark.spark_differs("what differs")` or `@pytest.mark.postgres_differs("…")`, an
expected failure on that engine that turns into an error once the engines agree.

The PostgreSQL cases run against a real server from Debian's package (`initdb`, `pg_ctl`),
started once per test session on 127.0.0.1 with a temporary data directory (as the `postgres`
user when the tests run as root) and stopped at the end; each workspace is its own schema.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `from journeys import …` in every test module

DUCKDB, PYSPARK, POSTGRES = "duckdb", "pyspark", "postgres"
DIFFERS = {PYSPARK: ("spark_differs", "Spark"), POSTGRES: ("postgres_differs", "PostgreSQL")}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres_differs(reason): a known difference of "
                            "PostgreSQL's figures; an expected failure there")
    config.addinivalue_line("markers", "spark_skip(reason): not run on Spark, and why (not a "
                            "difference of figures: e.g. too slow for Spark's per-query cost)")


def postgres_binaries() -> Path | None:
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl), if installed."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


def available_backends() -> list[Any]:
    """DuckDB, plus PySpark where it runs (installed, the dev extras have it, and a Java to run
    it on), plus PostgreSQL where its server programs and psycopg are installed."""
    backends = [pytest.param(DUCKDB, id=DUCKDB)]
    if importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None:
        backends.append(pytest.param(PYSPARK, id=PYSPARK, marks=pytest.mark.spark))
    if importlib.util.find_spec("psycopg") is not None and postgres_binaries() is not None:
        backends.append(pytest.param(POSTGRES, id=POSTGRES, marks=pytest.mark.postgres))
    return backends


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`duckdb_only` skips, and `spark_differs`/`postgres_differs` expect to fail, a test's
    other-engine cases, each with its reason in the report."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("backend") if callspec is not None else None
        if engine in (None, DUCKDB):
            continue
        only = item.get_closest_marker("duckdb_only")
        if only is not None:
            item.add_marker(pytest.mark.skip(reason=f"DuckDB only: {only.args[0]}"))
        skip = item.get_closest_marker("spark_skip")
        if skip is not None and engine == PYSPARK:
            item.add_marker(pytest.mark.skip(reason=f"not on Spark: {skip.args[0]}"))
        marker, name = DIFFERS.get(engine, ("", ""))
        differs = item.get_closest_marker(marker) if marker else None
        if differs is not None:
            item.add_marker(pytest.mark.xfail(reason=f"{name} differs: {differs.args[0]}",
                                              strict=True))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server for the session: its URL (`postgres://postgres@127.0.0.1:PORT/
    postgres`, trust authentication on loopback only)."""
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server programs not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="fm-postgres-"))
    data, port = root / "data", _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        root.chmod(0o755)

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    run(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
        "--no-sync", "-E", "UTF8", "--locale=C")
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
        "-w", "-t", "60", "start")
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        import journeys

        if journeys._admin is not None:
            journeys._admin.close()
        with contextlib.suppress(subprocess.SubprocessError):
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=available_backends())
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == POSTGRES:
        import journeys

        journeys.POSTGRES_URL = request.getfixturevalue("postgres_server")
    return request.param


@pytest.fixture(autouse=True)
def _sql_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[Path]:
    """Each test its own cache of compiled queries (`compile.sqlcache`), in memory and on disk,
    and of a server's kept results (`web.kept`): what one test kept never answers another's
    (and nothing is written to ~/.cache)."""
    from funnelmetrics.compile import sqlcache
    from funnelmetrics.web import kept

    folder = tmp_path_factory.mktemp("sqlcache")
    monkeypatch.setenv(sqlcache.ENV, str(folder))
    # and the results a server keeps for the next one (`web.kept`), per test too
    monkeypatch.setenv(kept.ENV, str(tmp_path_factory.mktemp("results")))
    sqlcache.clear_memory()
    yield folder
    sqlcache.clear_memory()


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
    SQL statements or functions of it, then moved to the current backend (Spark, PostgreSQL:
    a copy of every table).

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
