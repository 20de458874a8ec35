"""A filter value answered as a slice (issue "Fast and clear", web latency of never-seen filter
values): the server asks a metric split by the filter's dimension once per query shape and
answers every value of that filter from it (`web.service._sliced`). The slice must be exactly
the filtered query's answer — for every metric of the catalogue, with and without a split, on a
company with every table filled — and must really be used (no query for a second value).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import funnelmetrics
from funnelmetrics import catalog
from funnelmetrics.errors import QueryError
from funnelmetrics.serialize import metric_frame
from funnelmetrics.web import service
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Source
from funnelmetrics.web.users import Role, User

pytestmark = pytest.mark.duckdb_only("the server's cache of a DuckDB workspace")

ADMIN = Principal(User("admin", "Admin", Role.ADMIN))
START, END = "2025-09-01", "2026-06-30"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from funnelmetrics.demo import build_demo

    path = tmp_path_factory.mktemp("slices") / "funnel.duckdb"
    ws, _ = build_demo(path, leads=1500, months=12, seed=11, end=dt.date(2026, 6, 30))
    ws.close()
    return str(path)


@pytest.fixture(scope="module")
def source(db: str) -> Iterator[Source]:
    yield Source(db)


def direct(db: str, metric_id: str, **query: Any) -> pd.DataFrame | QueryError:
    """The filtered query itself, through the Python API."""
    with funnelmetrics.open(db, read_only=True) as ws:
        try:
            return metric_frame(ws.metric(metric_id, **query))
        except QueryError as exc:
            return exc


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for col in a.columns:
        for x, y in zip(a[col].tolist(), b[col].tolist(), strict=True):
            if isinstance(x, float) and isinstance(y, float):
                assert (math.isnan(x) and math.isnan(y)) or math.isclose(
                    x, y, rel_tol=1e-12, abs_tol=1e-12), (col, x, y)
            else:
                assert (x is None or x != x) and (y is None or y != y) or x == y, (col, x, y)


SHAPES = [  # (by, the filter's dimension, its values)
    ([], "segment", ["SMB", "Enterprise"]),
    (["source"], "segment", ["Mid-Market"]),
    (["source"], "source", ["organic"]),
    ([], "channel", ["organic"]),  # spend's dimension: the marketing metrics
    (["channel"], "channel", ["paid_search"]),
    ([], "team", ["Jakarta SMB"]),  # reps' and people's: quotas, pipeline coverage, eNPS
    (["region"], "team", ["KL Mid-Market"]),
]


@pytest.fixture
def filtered(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The `where` of every query the server computes (a slice computes none)."""
    asked: list[Any] = []
    real = service.kept_frame

    def kept_frame(ws: Any, metric_id: str, **query: Any) -> Any:
        asked.append(query.get("where"))
        return real(ws, metric_id, **query)

    monkeypatch.setattr(service, "kept_frame", kept_frame)
    return asked


@pytest.mark.parametrize("metric_id", sorted(m.id for m in catalog.all_metrics()))
def test_a_filter_value_is_the_slice_of_the_split(db: str, source: Source, filtered: list[Any],
                                                  metric_id: str) -> None:
    session = source.session()
    answered, computed = 0, []
    for by, dim, values in SHAPES:
        for value in values:
            query = {"grain": "month", "by": by, "start": START, "end": END}
            want = direct(db, metric_id, **query, where={dim: value})
            filtered.clear()
            try:
                got: pd.DataFrame | QueryError = service.metric(
                    session, ADMIN, metric_id, **query, where={dim: value})
            except QueryError as exc:
                got = exc
            if isinstance(want, QueryError):
                assert isinstance(got, QueryError), f"{metric_id}: {want}"
                continue
            assert isinstance(got, pd.DataFrame), f"{metric_id} {by} {dim}={value}: {got}"
            same(got, want)
            answered += 1
            if {dim: value} in filtered:  # the filtered query itself was computed
                computed.append(f"{by} {dim}={value}")
            filtered.clear()
    assert computed == UNSLICED.get(metric_id, []), f"{metric_id}: not sliced: {computed}"
    assert answered or metric_id in UNANSWERED, f"{metric_id}: no shape answered"


# filter values answered by the filtered query rather than a slice, and why
UNSLICED: dict[str, list[str]] = {
    # no trial of an Enterprise lead, none by a team's rep (trials have no team): no row of
    # the value in the split, so the filtered query fills its empty periods itself
    "trial_to_paid_rate": ["[] segment=Enterprise", "[] team=Jakarta SMB",
                           "['region'] team=KL Mid-Market"],
}
# metrics none of whose filters above apply (their rows have no lead dimension): both say so
UNANSWERED: frozenset[str] = frozenset()


def test_a_second_value_asks_no_query(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = Source(db)
    session = source.session()
    query = {"grain": "month", "by": ["source"], "start": START, "end": END}
    first = service.metric(session, ADMIN, "win_rate", **query, where={"segment": "SMB"})
    assert not first.empty

    def no_query(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a second filter value was computed, not sliced")

    monkeypatch.setattr(service, "kept_frame", no_query)
    monkeypatch.setattr(service, "metric_expr", no_query)
    second = service.metric(session, ADMIN, "win_rate", **query, where={"segment": "Enterprise"})
    same(second, direct(db, "win_rate", **query, where={"segment": "Enterprise"}))
    assert set(second.columns) == set(first.columns) and "segment" not in second.columns


def test_what_is_not_sliced_is_still_answered(db: str) -> None:
    """A value no row has, two values, a scoped caller: the filtered query answers."""
    source = Source(db)
    session = source.session()
    query = {"grain": "month", "by": [], "start": START, "end": END}
    none = service.metric(session, ADMIN, "leads_created", **query, where={"segment": "Nope"})
    same(none, direct(db, "leads_created", **query, where={"segment": "Nope"}))
    assert len(none) == 10 and (none["value"] == 0).all()  # ten months of nothing, not no rows
    two = service.metric(session, ADMIN, "leads_created", **query,
                         where={"segment": ["SMB", "Enterprise"]})
    same(two, direct(db, "leads_created", **query, where={"segment": ["SMB", "Enterprise"]}))
    rep = Principal(User("rep", "Rep", Role.REP, rep_id="R001"), rep_ids=("R001",))
    mine = service.metric(session, rep, "leads_created", **query, where={"segment": "SMB"})
    same(mine, direct(db, "leads_created", **query, where={"segment": "SMB", "rep_id": ["R001"]}))


def test_a_split_too_large_to_keep_leaves_the_filtered_query(db: str) -> None:
    source = Source(db)
    source.max_rows = 12  # the split by source has more rows than this; the filtered one not
    session = source.session()
    query = {"grain": "quarter", "by": [], "start": START, "end": END}
    got = service.metric(session, ADMIN, "leads_created", **query, where={"source": "organic"})
    same(got, direct(db, "leads_created", **query, where={"source": "organic"}))
