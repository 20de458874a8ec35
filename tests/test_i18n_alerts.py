"""The alerts' sentences in the gettext catalogues (issue 16 item 4): every template of
insights/alerts.py has a non-empty id and ms translation (msgctxt alert:CONDITION) with the
same placeholders, none is left over, and a fired alert reads in the workspace's language with
its figures written that language's way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_alerts import _world
from typer.testing import CliRunner

from funnelmetrics.cli import app
from funnelmetrics.i18n.gettext import contexts
from funnelmetrics.insights.alerts import CONTEXT, entries, evaluate, parse_rule
from funnelmetrics.insights.findings import parse_period


def alert_entries(lang: str) -> dict[tuple[str, str], str]:
    return {key: text for key, text in contexts(lang).items()
            if key[0].startswith(CONTEXT + ":")}


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_every_alert_sentence_is_translated_and_none_left_over(lang: str) -> None:
    translated = alert_entries(lang)
    assert [key for key in entries() if not translated.get(key, "").strip()] == []
    assert sorted(set(translated) - set(entries())) == []
    for (ctx, english), text in translated.items():
        assert sorted(re.findall(r"\{(\w*)\}", english)) == \
            sorted(re.findall(r"\{(\w*)\}", text)), (ctx, english)


def test_a_fired_alert_in_each_language(tmp_path: Path) -> None:
    ws = _world(tmp_path)
    rule = parse_rule({"name": "win", "metric": "win_rate", "below": 0.3})
    # February's win rate is 1 of 4 won = 0.25, under 0.3
    said = {lang: evaluate(ws, rule, parse_period("2026-02"), as_of="2026-12-31",
                           lang=lang)["message"] for lang in ("en", "id", "ms")}
    assert said["en"] == "win: win_rate is 0.25, below 0.3"
    assert said["id"] == "win: win_rate bernilai 0,25, di bawah 0,3"
    assert said["ms"] == "win: win_rate bernilai 0.25, di bawah 0.3"
    change = parse_rule({"name": "drop", "metric": "win_rate", "change_below": -0.4})
    # 0.5 in January to 0.25 in February: -50.0 %, under -40 %
    hit = evaluate(ws, change, parse_period("2026-02"), as_of="2026-12-31", lang="id")
    assert hit["message"] == ("drop: win_rate bernilai 0,25, berubah -50,0% dibanding periode "
                              "sebelumnya (0,5; peringatan di bawah -40,0%)")


def test_alerts_command_takes_lang(tmp_path: Path) -> None:
    _world(tmp_path)  # the rules come from the workspace's funnelmetrics.toml
    (tmp_path / "funnelmetrics.toml").write_text(
        '[[alerts]]\nname = "win"\nmetric = "win_rate"\nbelow = 0.3\n', encoding="utf-8")
    r = CliRunner().invoke(app, ["alerts", "--db", str(tmp_path / "journeys.duckdb"),
                                 "--period", "2026-02", "--no-deliver", "--lang", "ms"])
    assert r.exit_code == 0, r.output
    assert "win: win_rate bernilai 0.25, di bawah 0.3" in r.output
