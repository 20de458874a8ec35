"""The dashboard's texts in the gettext catalogues (issue 16 item 4): every key of `TEXTS` has
a non-empty id and ms translation (msgctxt = key, msgid = its English) with the same
placeholders, no catalogue entry is left over, and every key is used by the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import funnelmetrics
from funnelmetrics.i18n.gettext import contexts
from funnelmetrics.i18n.ui import TEXTS, t

PACKAGE = Path(funnelmetrics.__file__).parent
# Keys the code builds from data rather than writing them: a KPI target's status
# (web/tiles.py: "on track" → on_track) is looked up as t(tile.target_status).
COMPUTED_KEYS = {"on_track", "at_risk", "behind"}
# The msgctxts of the other surfaces' texts (the command line's help, i18n/format.py; the
# insights' are insight:KEY); every other msgctxt is a dashboard key.
OTHER_CONTEXTS = {"cli", "format"}


def ui_entries(lang: str) -> dict[str, tuple[str, str]]:
    """{key: (English msgid, translation)} of the catalogue's dashboard entries."""
    return {ctx: (msgid, text) for (ctx, msgid), text in contexts(lang).items()
            if ctx not in OTHER_CONTEXTS and not ctx.startswith(("insight:", "alert:"))}


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_every_key_is_translated_from_its_english(lang):
    entries = ui_entries(lang)
    missing = [key for key, english in TEXTS.items()
               if entries.get(key, ("", ""))[0] != english or not entries[key][1].strip()]
    assert missing == []


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_no_dashboard_entry_is_left_over(lang):
    assert sorted(set(ui_entries(lang)) - set(TEXTS)) == []


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_translations_keep_the_placeholders(lang):
    for key, (english, text) in ui_entries(lang).items():
        assert sorted(re.findall(r"\{(\w*)\}", english)) == \
            sorted(re.findall(r"\{(\w*)\}", text)), key


def test_every_key_is_used():
    """A key appears as a string literal in the package's code or templates (besides ui.py)."""
    sources = "".join(p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*"))
                      if p.suffix in (".py", ".html") and p.name != "ui.py")
    unused = [key for key in TEXTS if key not in COMPUTED_KEYS
              and not re.search(r"[\"']" + re.escape(key) + r"[\"']", sources)]
    assert unused == []
    assert set(TEXTS) >= COMPUTED_KEYS


def test_t_reads_the_catalogue_and_fills_placeholders():
    assert t("revenue", "en") == "Revenue"
    assert t("revenue", "id") == "Pendapatan"
    assert t("revenue", "ms") == "Hasil"
    assert t("showing", "id", a=1, b=20, n=57) == "Menampilkan 1–20 dari 57"
    assert t("showing", "ms", a=1, b=20, n=57) == "Memaparkan 1–20 daripada 57"
    assert t("showing", "en", a=1, b=20, n=57) == "Showing 1–20 of 57"


def test_t_falls_back_to_english_and_to_the_key():
    assert t("revenue", "fr") == "Revenue"
    assert t("a message that is not a key", "id") == "a message that is not a key"

