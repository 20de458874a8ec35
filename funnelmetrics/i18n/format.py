"""Numbers, money, ratios and dates formatted for a language, with Babel.

Each language maps to the locale its users expect: en → en_US, id → id_ID, ms → ms_MY.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_symbol

from funnelmetrics.i18n.gettext import pgettext

CONTEXT = "format"  # msgctxt of this module's texts in the catalogues
PER_DAY = "{amount}/day"
LOCALES = {"en": "en_US", "id": "id_ID", "ms": "ms_MY"}
# Currencies whose amounts are shown without minor units (rupiah amounts are large and whole).
NO_MINOR_UNITS = {"IDR", "JPY", "KRW", "VND"}


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, lang if "_" in lang else "en_US")


def money(value: float, currency: str = "USD", lang: str = "en") -> str:
    """An amount in a currency, e.g. $1,234.50 / Rp 1.234.567 / RM 1,234.57 / US$1.234,50.

    The locale's currency pattern, with a space between the symbol and the digits when the
    symbol's side next to them is a letter (Rp, RM, IDR: CLDR's currency spacing, which Babel
    does not apply) and no minor units for the currencies in `NO_MINOR_UNITS`."""
    code = currency.upper()
    return format_currency(value, code, format=money_pattern(code, lang),
                           locale=locale_of(lang), currency_digits=code not in NO_MINOR_UNITS)


@lru_cache(maxsize=64)
def money_pattern(currency: str, lang: str) -> str:
    """The Babel number pattern of an amount in `currency` for `lang` (see `money`)."""
    locale = locale_of(lang)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    if currency in NO_MINOR_UNITS:
        pattern = re.sub(r"\.0+", "", pattern)
    symbol = get_currency_symbol(currency, locale=locale)
    if symbol[-1:].isalpha():
        pattern = re.sub(r"¤(?=[#0])", "¤ ", pattern)
    if symbol[:1].isalpha():
        pattern = re.sub(r"(?<=[#0])¤", " ¤", pattern)
    return pattern


def number(value: float, lang: str = "en", digits: int = 2) -> str:
    pattern = "#,##0" if float(value).is_integer() else "#,##0." + "#" * digits
    return format_decimal(value, format=pattern, locale=locale_of(lang))


def percent(value: float, lang: str = "en") -> str:
    return format_percent(value, format="#,##0.0%", locale=locale_of(lang))


def date(value: dt.date, lang: str = "en", style: str = "medium") -> str:
    return format_date(value, format=style, locale=locale_of(lang))


def format_value(value: Any, unit: str | None, *, lang: str = "en", currency: str = "USD") -> str:
    """A metric value for people: by its unit (count, ratio, multiple, currency, days, …)."""
    if value is None:
        return "—"
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, int | float):
        return str(value)
    if unit == "ratio":
        return percent(value, lang)
    if unit == "multiple":
        return number(value, lang, 1) + "×"
    if unit == "currency":
        return money(value, currency, lang)
    if unit == "currency_per_day":
        return pgettext(CONTEXT, PER_DAY, lang).format(amount=money(value, currency, lang))
    if unit == "count":
        return number(value, lang, 0)
    if unit in ("days", "months", "score"):
        return number(value, lang, 1)
    return number(value, lang)
