"""A review's cells and sentences for people, in a language: numbers, money, percentages and
dates by Babel (`funnelmetrics.i18n.format`), period names with localised month names, labels
through the gettext catalogues. The narrative and the tables both format through `format_cell`,
so a figure reads the same in both.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from funnelmetrics.compile.time import Grain
from funnelmetrics.i18n.format import format_value, locale_of
from funnelmetrics.i18n.gettext import N_, gettext
from funnelmetrics.insights.findings import Period
from funnelmetrics.reports.model import Label, Ref, Section, Sentence

# units the catalogue does not have: a change in percentage points or relative, a status …
PP, RELATIVE = "pp", "relative"
PP_SUFFIX = N_("{value} pp")
MISSING = "—"


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def period_label(period: Period, lang: str) -> str:
    """March 2026 / Maret 2026 / Mac 2026; 1st quarter 2026 / Kuartal ke-1 2026 / …; 2026."""
    from babel.dates import format_date

    pattern = {Grain.MONTH: "LLLL y", Grain.QUARTER: "QQQQ y", Grain.YEAR: "y"}.get(period.grain)
    if pattern is None:
        return format_date(period.start, format="medium", locale=locale_of(lang))
    return format_date(period.start, format=pattern, locale=locale_of(lang))


def signed(value: float, unit: str, lang: str) -> str:
    """A change: +2.0 pp (percentage points of a rate) or +12.5% (relative)."""
    from babel.numbers import format_decimal, format_percent

    if unit == PP:
        number = format_decimal(value, format="+#,##0.0;-#,##0.0", locale=locale_of(lang))
        return gettext(PP_SUFFIX, lang).format(value=number)
    return format_percent(value, format="+#,##0.0%;-#,##0.0%", locale=locale_of(lang))


def format_cell(value: Any, unit: str, lang: str, currency: str) -> str:
    """One cell's text in `lang` (see the module doc)."""
    if is_missing(value):
        return MISSING
    if unit in (PP, RELATIVE):
        return signed(float(value), unit, lang)
    if unit == "metric":
        from funnelmetrics import catalog

        try:
            return catalog.get(str(value)).name(lang)
        except Exception:  # noqa: BLE001 — an id the catalogue does not know reads as itself
            return str(value)
    if unit == "label":
        return gettext(str(value), lang)
    if unit == "period" and isinstance(value, Period):
        return period_label(value, lang)
    if unit == "date" and isinstance(value, dt.date):
        from babel.dates import format_date

        return format_date(value, format="medium", locale=locale_of(lang))
    if unit == "text":
        return str(value)
    return format_value(float(value), unit, lang=lang, currency=currency)


def mid_sentence(name: str) -> str:
    """A metric's name inside a sentence: "Win rate" → "win rate" (an acronym such as MRR or
    eNPS keeps its case)."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def sentence_args(section: Section, sentence: Sentence, lang: str,
                  currency: str) -> dict[str, str]:
    """Each argument formatted as its table cell is (`format_cell`); a metric's name not at the
    start of the sentence in lower case (`mid_sentence`)."""
    template = gettext(sentence.msgid, lang)
    args = {}
    for name, arg in sentence.args.items():
        if isinstance(arg, Ref):
            value, unit = section.cell(arg)
        else:
            assert isinstance(arg, Label)
            value, unit = arg.value, arg.unit
        text = format_cell(value, unit, lang, currency)
        if unit == "metric" and not template.startswith("{" + name + "}"):
            text = mid_sentence(text)
        args[name] = text
    return args


def render_sentence(section: Section, sentence: Sentence, lang: str, currency: str) -> str:
    """The sentence's translated template with its figures formatted from their cells."""
    return gettext(sentence.msgid, lang).format(**sentence_args(section, sentence, lang,
                                                                currency))
