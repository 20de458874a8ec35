"""Numbers, money, percentages and dates formatted by Babel for the reader's locale (issue 16
item 4): Rp 1.234.567 in id-ID, RM 1,234.57 in ms-MY, as the issue writes them."""

from __future__ import annotations

import datetime as dt

import pytest

from funnelmetrics.i18n.format import date, format_value, money, number, percent


def test_rupiah_in_indonesian_has_a_space_and_no_minor_units():
    assert money(1_234_567, "IDR", "id") == "Rp 1.234.567"
    assert money(1_234_567.4, "IDR", "id") == "Rp 1.234.567"  # .4 rounds away
    assert money(-1_234_567, "IDR", "id") == "-Rp 1.234.567"
    assert money(0, "IDR", "id") == "Rp 0"


def test_ringgit_in_malay_has_a_space_and_two_decimals():
    assert money(1_234.567, "MYR", "ms") == "RM 1,234.57"
    assert money(1_234_567.4, "MYR", "ms") == "RM 1,234,567.40"
    assert money(-0.5, "MYR", "ms") == "-RM 0.50"


@pytest.mark.parametrize(("value", "currency", "lang", "text"), [
    (1_234.5, "USD", "en", "$1,234.50"),       # a sign symbol: no space
    (1_234.5, "USD", "id", "US$1.234,50"),     # ends in a sign: no space
    (1_234.5, "EUR", "en", "€1,234.50"),
    (1_234_567, "IDR", "en", "IDR 1,234,567"),  # a code ends in a letter: a space
    (1_234.5, "MYR", "id", "MYR 1.234,50"),
    (1_234.5, "usd", "en", "$1,234.50"),       # the code in any case
])
def test_other_currencies_and_locales(value, currency, lang, text):
    assert money(value, currency, lang) == text


def test_numbers_and_percentages_by_locale():
    assert [number(1_234_567.891, lang) for lang in ("en", "id", "ms")] == \
        ["1,234,567.89", "1.234.567,89", "1,234,567.89"]
    assert [percent(0.1234, lang) for lang in ("en", "id", "ms")] == ["12.3%", "12,3%", "12.3%"]


def test_dates_and_month_names_by_locale():
    day = dt.date(2026, 8, 5)
    assert [date(day, lang) for lang in ("en", "id", "ms")] == \
        ["Aug 5, 2026", "5 Agu 2026", "5 Ogo 2026"]
    assert [date(day, lang, "long") for lang in ("en", "id", "ms")] == \
        ["August 5, 2026", "5 Agustus 2026", "5 Ogos 2026"]


def test_format_value_uses_the_money_format():
    assert format_value(1_234_567, "currency", lang="id", currency="IDR") == "Rp 1.234.567"
    assert format_value(12.5, "currency_per_day", lang="ms", currency="MYR") == "RM 12.50/hari"
    assert format_value(None, "currency", lang="id", currency="IDR") == "—"


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_the_formats_texts_are_in_the_catalogue(lang):
    from funnelmetrics.i18n.format import CONTEXT, PER_DAY
    from funnelmetrics.i18n.gettext import contexts

    assert contexts(lang, CONTEXT) == {(CONTEXT, PER_DAY): "{amount}/hari"}


def test_every_command_chooses_its_language_the_same_way(monkeypatch) -> None:
    """--lang, else $FUNNELMETRICS_LANG, else the workspace's locale, else English; a region
    counts as its language; anything else is one line."""
    import pytest

    from funnelmetrics.errors import QueryError
    from funnelmetrics.i18n.ui import choose_lang

    monkeypatch.delenv("FUNNELMETRICS_LANG", raising=False)
    assert choose_lang(None, None) == "en"
    assert choose_lang(None, "ms") == "ms"
    monkeypatch.setenv("FUNNELMETRICS_LANG", "id_ID")
    assert choose_lang(None, "ms") == "id"
    assert choose_lang("ms-MY", "en") == "ms"
    with pytest.raises(QueryError, match="--lang must be one of en, id, ms, not 'fr'"):
        choose_lang("fr", "en")
