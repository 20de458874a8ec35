"""`funnelmetrics report`: one review to a file, the language chosen by --lang, then
$FUNNELMETRICS_LANG, then the config's locale; `--due` writes the [[reports]] whose period has
ended, once; a user's mistake is one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from funnelmetrics.cli import app
from tests.journeys import journeys
from tests.test_reports import EVENTS, OPPORTUNITIES

SCHEDULE = """
locale = "ms"

[[reports]]
period = "month"
format = "html"
lang = "id"
folder = "reviews"

[[reports]]
period = "quarter"
format = "xlsx"
folder = "reviews"
"""


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    journeys(folder, EVENTS, opportunities=OPPORTUNITIES).close()
    (folder / "funnelmetrics.toml").write_text(SCHEDULE, encoding="utf-8")
    return folder / "journeys.duckdb"


def run(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, ["report", *args], env=env)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def test_one_review_in_the_language_asked(db, tmp_path):
    out = tmp_path / "feb.html"
    run("--db", str(db), "--period", "2026-02", "--lang", "en", "--output", str(out))
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'lang="en"' in page
    assert "Monthly review: February 2026" in page


@pytest.mark.parametrize(("env", "expected"), [
    ({"FUNNELMETRICS_LANG": "id"}, "Tinjauan bulanan: Februari 2026"),
    ({"FUNNELMETRICS_LANG": ""}, "Kajian semula bulanan: Februari 2026")])  # the config's ms
def test_language_falls_back_to_the_environment_then_the_config(db, tmp_path, env, expected):
    out = tmp_path / "feb.html"
    run("--db", str(db), "--period", "2026-02", "--output", str(out), env=env)
    assert expected in out.read_text(encoding="utf-8")


def test_default_file_name_is_sanitised(db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run("--db", str(db), "--period", "2026-Q1", "--lang", "en", "--where", "source=a/../b c")
    assert [p.name for p in tmp_path.iterdir()] == ["review-2026-Q1-en-source-a_.._b_c.html"]


def test_due_writes_the_periods_just_ended_once(db):
    reviews = db.parent / "reviews"
    first = run("--db", str(db), "--due", "--today", "2026-04-02")
    month, quarter = reviews / "review-2026-03-id.html", reviews / "review-2026-Q1-ms.xlsx"
    assert f"wrote {month}" in first and f"wrote {quarter}" in first
    stamp = month.stat().st_mtime_ns
    again = run("--db", str(db), "--due", "--today", "2026-04-20")  # cron, a later day
    assert f"kept {month}" in again and f"kept {quarter}" in again
    assert month.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in reviews.iterdir()) == [month.name, quarter.name]


@pytest.mark.parametrize(("args", "message"), [
    (["--period", "2026-13"], "--period '2026-13'"),
    (["--period", "2026-03", "--format", "docx"], "--format must be one of html, pdf, xlsx"),
    (["--period", "2026-03", "--lang", "fr"], "--lang must be one of en, id, ms"),
    (["--period", "2026-03", "--where", "planet=mars"], "unknown dimension 'planet'"),
    (["--period", "2026-03", "--where", "nokey"], "--where takes KEY=VALUE"),
    ([], "give --period PERIOD (one review) or --due"),
    (["--period", "2026-03", "--due"], "give --period PERIOD (one review) or --due"),
    (["--due", "--today", "April"], "--today 'April': use YYYY-MM-DD")])
def test_mistakes_are_one_line(db, tmp_path, args, message):
    result = CliRunner().invoke(app, ["report", "--db", str(db), "--output",
                                      str(tmp_path / "x.html"), *args])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 2  # one line (the terminal may wrap it)
    assert not (tmp_path / "x.html").exists()
