"""`funnelmetrics.serialize`: the one place results become JSON, CSV and marked display rows for
the CLI and the web (SPEC §5). Hand-made frames, expected text written out in full."""

from __future__ import annotations

import ast
import datetime as dt
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnelmetrics import serialize as s

PACKAGE = Path(s.__file__).parent


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


# ---- cells ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    (None, None),
    (float("nan"), None),
    (np.float64("nan"), None),
    (pd.NaT, None),
    (pd.NA, None),
    (np.datetime64("NaT"), None),
    (pd.Timestamp("2026-03-01"), "2026-03-01"),  # midnight: a date
    (pd.Timestamp("2026-03-01 12:30"), "2026-03-01T12:30:00"),
    (dt.date(2026, 3, 1), "2026-03-01"),
    (dt.datetime(2026, 3, 1, 8), "2026-03-01T08:00:00"),
    (np.int64(7), 7),
    (np.float64(0.25), 0.25),
    (np.bool_(True), True),
    ("web", "web"),
])
def test_jsonable(value, expected):
    got = s.jsonable(value)
    assert got == expected and type(got) is type(expected)


def test_csv_cells():
    assert [s.csv_cell(v) for v in (None, True, False, 0.5, "x")] == ["", "true", "false", 0.5,
                                                                      "x"]


# ---- rows -------------------------------------------------------------------------------------
def test_metric_frame_puts_ratio_parts_after_value_and_flags_last():
    # the library's layout for a count metric: no ratio parts; partial right after value
    df = frame(period_start=[dt.date(2026, 1, 1)], source=["web"], value=[2.0], partial=[True])
    out = s.metric_frame(df)
    assert list(out.columns) == ["period_start", "source", "value", "numerator", "denominator",
                                 "partial"]
    # a cohort ratio: immature before partial, whatever order they came in
    df = frame(period_start=[dt.date(2026, 1, 1)], partial=[False], value=[0.5],
               immature=[True], denominator=[2.0], numerator=[1.0])
    assert list(s.metric_frame(df).columns) == ["period_start", "value", "numerator",
                                                "denominator", "immature", "partial"]
    # several metrics in one CSV table: immature (null) added where a metric has none
    df = frame(period_start=[dt.date(2026, 1, 1)], value=[2.0], partial=[False])
    assert list(s.metric_frame(df, immature=True).columns)[-2:] == ["immature", "partial"]


def test_metric_json_is_the_spec_object():
    df = frame(period_start=pd.to_datetime(["2026-01-01", "2026-02-01"]), value=[1.0, math.nan],
               numerator=[1.0, 0.0], denominator=[1.0, 0.0], partial=[False, True])
    assert s.metric_json("win_rate", "ratio", df) == {"metric": "win_rate", "unit": "ratio",
                                                      "rows": [
        {"period_start": "2026-01-01", "value": 1.0, "numerator": 1.0, "denominator": 1.0,
         "partial": False},
        {"period_start": "2026-02-01", "value": None, "numerator": 0.0, "denominator": 0.0,
         "partial": True}]}
    assert s.json_line({"a": "é", "b": None}) == '{"a": "é", "b": null}'


def test_records_of_any_result_keep_their_columns_flags_last():
    df = frame(partial=[True], stage=["mql"], reached=[np.int64(3)])
    assert s.records(df) == [{"stage": "mql", "reached": 3, "partial": True}]
    assert list(s.records(df)[0]) == ["stage", "reached", "partial"]


def test_csv_text():
    df = frame(period_start=[dt.date(2026, 1, 1), dt.date(2026, 2, 1)], value=[2.0, None],
               partial=[False, True])
    assert s.csv_text(df, extra={"metric": "leads_created"}) == (
        "metric,period_start,value,partial\n"
        "leads_created,2026-01-01,2.0,false\n"
        "leads_created,2026-02-01,,true\n")
    assert s.csv_text(df, header=False).splitlines()[0] == "2026-01-01,2.0,false"


def test_rounded_for_display_only():
    df = frame(key=["ads"], linear=[1234.567], spend=[99.5], flag=[True])
    assert s.rounded(df, 1).to_dict(orient="records") == [
        {"key": "ads", "linear": 1234.6, "spend": 99.5, "flag": True}]
    assert s.rounded(df, {"linear": 0}).to_dict(orient="records") == [
        {"key": "ads", "linear": 1235.0, "spend": 99.5, "flag": True}]
    assert df["linear"].iloc[0] == 1234.567  # a copy


# ---- marks ------------------------------------------------------------------------------------
def test_marks_and_their_notes():
    assert s.marks(True, False) == "*" and s.marks(False, True) == "†"
    assert s.marks(True, True) == "*†" and s.marks(None, np.nan) == ""
    assert s.marks(np.bool_(True), np.bool_(False)) == "*"  # a DataFrame's cells
    assert s.mark_notes("en", partial=True, immature=True) == [
        "* period not over yet: its figures may still change",
        "† cohort younger than its conversion window"]
    assert s.mark_notes("id", partial=True) == [
        "* periode belum berakhir: angkanya masih dapat berubah"]
    assert s.mark_notes("ms", immature=True) == [
        "† kohort lebih muda daripada tetingkap penukarannya"]
    assert s.mark_notes("en") == []


# ---- one place, imported one way ----------------------------------------------------------------
def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((PACKAGE / "web").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_web_module_imports_the_cli(path):
    assert not [m for m in _imports(path) if m.startswith("funnelmetrics.cli")]


def test_serialize_names_no_surface():
    assert not [m for m in _imports(PACKAGE / "serialize.py")
                if m.startswith(("funnelmetrics.cli", "funnelmetrics.web"))]


# ---- the web shows the same flags --------------------------------------------------------------
def test_web_exports_carry_partial_last():
    from openpyxl import load_workbook

    from funnelmetrics.web.exports import csv_bytes, xlsx_bytes

    df = s.metric_frame(frame(period_start=[dt.date(2026, 1, 1), dt.date(2026, 2, 1)],
                              value=[2.0, 1.0], partial=[False, True]))
    assert csv_bytes(df, {"metric": "leads_created"}).decode().splitlines() == [
        "metric,period_start,value,numerator,denominator,partial",
        "leads_created,2026-01-01,2.0,,,false",
        "leads_created,2026-02-01,1.0,,,true"]
    sheet = load_workbook(io.BytesIO(xlsx_bytes(df, "leads_created"))).active
    assert [c.value for c in sheet[1]] == ["period_start", "value", "numerator", "denominator",
                                           "partial"]
    assert [c.value for c in sheet[3]] == [dt.datetime(2026, 2, 1), 1.0, None, None, True]  # a date cell


def test_chart_points_of_partial_periods_are_lighter():
    from funnelmetrics.web import charts

    spec = charts.lines([("Leads", ["2026-01-01", "2026-02-01"], [2, 1], None)], unit="count",
                        partial=[[False, True]], partial_label="partial period")
    trace = spec["data"][0]
    assert trace["marker"]["symbol"] == ["circle", "circle-open"]
    assert trace["marker"]["opacity"] == [1.0, 0.45]
    assert trace["text"] == ["", " (partial period)"] and "%{text}" in trace["hovertemplate"]
    bars = charts.lines([("Leads", ["2026-01-01", "2026-02-01"], [2, 1], None)], unit="count",
                        kind="bar", partial=[[False, True]])["data"][0]
    assert bars["marker"]["opacity"] == [1.0, 0.45] and bars["textposition"] == "none"
    plain = charts.lines([("Leads", ["2026-01-01"], [2], None)], unit="count")["data"][0]
    assert "text" not in plain and "opacity" not in plain["marker"]  # nothing partial


def test_sparkline_dashed_over_partial_periods():
    from funnelmetrics.web import charts

    # 4 points over 120 px (step 40), values 0..3 over 32 px (2 px margins): y = 30 − v × 28 / 3
    solid, dashed = charts.sparkline_parts([0, 3, 0, 3], [False, False, False, True])
    assert solid == "0.0,30.0 40.0,2.0 80.0,30.0"
    assert dashed == "80.0,30.0 120.0,2.0"  # from the last full point to the partial one
    assert charts.sparkline_parts([0, 3], [False, False]) == ("0.0,30.0 120.0,2.0", "")


def test_json_lines_never_hold_nan_or_infinity():
    """A model fitted on too little data may give NaN (BG/NBD with one repeat buyer): the JSON
    says null, and stays valid JSON (Python's `NaN` is not)."""
    line = s.json_line({"expected": math.nan, "rows": [{"x": math.inf, "y": 1.5}], "n": 2,
                        "pair": (-math.inf, "a")})
    assert line == '{"expected": null, "rows": [{"x": null, "y": 1.5}], "n": 2, "pair": [null, "a"]}'
