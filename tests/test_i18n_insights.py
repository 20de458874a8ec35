"""The insights' sentences and words in the gettext catalogues (issue 16 item 4): every
template and word of insights/messages.py has a non-empty id and ms translation (msgctxt
insight:KEY) with the same placeholders, none is left over, and a finding reads in each
language from the catalogue."""

from __future__ import annotations

import re

import pytest

from funnelmetrics.i18n.gettext import contexts
from funnelmetrics.insights.findings import Finding
from funnelmetrics.insights.messages import CONTEXT, TEMPLATES, entries, message


def insight_entries(lang: str) -> dict[tuple[str, str], str]:
    return {key: text for key, text in contexts(lang).items()
            if key[0].startswith(CONTEXT + ":")}


def test_entries_cover_templates_and_words():
    keys = entries()
    assert len(keys) == len(set(keys)) == len(TEMPLATES) + 7 + 3 + 3
    assert ("insight:dimension", "company size") in keys and ("insight:kpi", TEMPLATES["kpi"]) \
        in keys


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_every_entry_is_translated(lang):
    translated = insight_entries(lang)
    assert [key for key in entries() if not translated.get(key, "").strip()] == []


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_no_insight_entry_is_left_over(lang):
    assert sorted(set(insight_entries(lang)) - set(entries())) == []


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_translations_keep_the_placeholders(lang):
    for (ctx, english), text in insight_entries(lang).items():
        assert sorted(re.findall(r"\{(\w*)\}", english)) == \
            sorted(re.findall(r"\{(\w*)\}", text)), (ctx, english)


BOTTLENECK = Finding("bottleneck", "conversion", current=0.1, baseline=0.5, impact=1_234_567,
                     from_stage="mql", to_stage="sql", dimension="source", dimension_value="B",
                     p_value=0.0004, details={"period": "2026-04", "baseline_periods": 3})


def test_a_finding_in_three_languages_with_local_money():
    assert message(BOTTLENECK, "en", "USD") == (
        "MQL → SQL for source B converted 10.0% in 2026-04, down from 50.0% over the previous 3 "
        "periods (p < 0.001): about $1,234,567.00 in bookings lost.")
    assert message(BOTTLENECK, "id", "IDR") == (
        "Konversi MQL → SQL untuk sumber B hanya 10,0% pada 2026-04, turun dari 50,0% dalam 3 "
        "periode sebelumnya (p < 0,001); sekitar Rp 1.234.567 nilai penjualan hilang.")
    assert message(BOTTLENECK, "ms", "MYR") == (
        "Penukaran MQL → SQL bagi sumber B hanya 10.0% pada 2026-04, turun daripada 50.0% dalam "
        "3 tempoh sebelumnya (p < 0.001); kira-kira RM 1,234,567.00 nilai jualan hilang.")


def test_cases_and_words_read_from_the_catalogue():
    kpi = Finding("kpi", "bookings", current=0.45, baseline=0.5, details={
        "unit": "ratio", "pct_of_target": 0.9, "status": "at risk", "label": "Win rate",
        "labels": {"ms": "Kadar menang"}})
    assert message(kpi, "ms") == ("Kadar menang baru mencapai 90.0% daripada sasaran (45.0% "
                                  "daripada 50.0% yang dijangka setakat ini): berisiko.")
    better = Finding("segment", "c", current=0.3, baseline=0.2, from_stage="sql",
                     to_stage="won", dimension="company_size", dimension_value="51-200",
                     p_value=0.02, p_adjusted=0.04, details={"worse": False})
    assert message(better, "id").startswith("Prospek dengan ukuran perusahaan 51-200 "
                                            "berkonversi dari SQL ke WON sebesar 30,0%, lebih baik")
    unknown = Finding("bottleneck", "c", current=0.1, baseline=0.2, from_stage="a", to_stage="b",
                      dimension="plan", dimension_value="pro", details={"period": "2026-04"})
    assert " untuk plan pro " in message(unknown, "id")  # a dimension with no word: its name
    assert message(BOTTLENECK, "fr").startswith("MQL → SQL for source B")  # unknown: English
