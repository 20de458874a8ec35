"""The review's texts in the gettext catalogues: every msgid marked in reports/ is translated in
id and ms (not missing, not empty, same placeholders), and the catalogues load with Babel."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import funnelmetrics.reports
from funnelmetrics.i18n.gettext import catalogue, gettext, po_path

REPORTS = Path(funnelmetrics.reports.__file__).parent


def marked_msgids() -> list[str]:
    """Every literal passed to N_(...) in the reports package."""
    out = []
    for path in sorted(REPORTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_":
                arg = node.args[0]
                assert isinstance(arg, ast.Constant), f"{path.name}: N_ takes a literal"
                out.append(arg.value)
    return sorted(set(out))


def test_the_reports_mark_their_texts():
    ids = marked_msgids()
    assert len(ids) > 100
    assert "Headline KPIs" in ids and "{value} pp" in ids


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_no_msgid_is_missing_or_empty(lang):
    assert po_path(lang).exists()
    translated = catalogue(lang)
    missing = [m for m in marked_msgids() if not translated.get(m, "").strip()]
    assert missing == []


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_translations_keep_the_placeholders(lang):
    for msgid, text in catalogue(lang).items():
        assert sorted(re.findall(r"\{(\w+)\}", msgid)) == \
            sorted(re.findall(r"\{(\w+)\}", text)), msgid


def test_gettext_translates_and_falls_back_to_english():
    assert gettext("Headline KPIs", "en") == "Headline KPIs"
    assert gettext("The team", "id") == "Tim"
    assert gettext("The team", "ms") == "Pasukan"
    assert gettext("not a msgid", "ms") == "not a msgid"


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_no_translation_is_left_over(lang):
    """A msgid no longer marked in reports/ is removed from the catalogue (none stale)."""
    assert sorted(set(catalogue(lang)) - set(marked_msgids())) == []
