"""A finding in plain language: English, Indonesian and Malay, each sentence written for its
language (word order, number format and the words a reader there uses), not translated word
by word. Numbers are formatted for the language's locale (`i18n.format`).

The English sentences are below; their Indonesian and Malay are in the gettext catalogues
(`i18n/locale/{id,ms}/LC_MESSAGES/funnelmetrics.po`), msgctxt `insight:<key>` for a sentence
of `TEMPLATES` and `insight:dimension`, `insight:outcome`, `insight:status` for the words.
A sentence that reads differently by case (worse/better, below/above, a segment or none) is
one whole template per case, so each language can order its words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from funnelmetrics.i18n import format as fmt
from funnelmetrics.i18n.gettext import pgettext
from funnelmetrics.insights.findings import Finding

LANGS = ("en", "id", "ms")
CONTEXT = "insight"

DIMENSIONS = {"source": "source", "industry": "industry", "segment": "segment",
              "country": "country", "rep_id": "rep", "lead_type": "lead type",
              "company_size": "company size"}
OUTCOMES = {"bookings": "Bookings", "won_deals": "Won deals", "conversions": "Conversions"}
STATUS = {"on track": "on track", "at risk": "at risk", "behind": "behind"}
TEMPLATES = {
    "bottleneck": "{stages} converted {cur} in {period}, down from {base} over the previous {n} "
                  "periods ({p}): about {lost} in bookings lost.",
    "bottleneck_in": "{stages} for {dim} {value} converted {cur} in {period}, down from {base} "
                     "over the previous {n} periods ({p}): about {lost} in bookings lost.",
    "segment_worse": "Leads with {dim} {value} convert {a} → {b} at {cur}, worse than the rest "
                     "({rest}; {p}, Holm-adjusted {q}).",
    "segment_better": "Leads with {dim} {value} convert {a} → {b} at {cur}, better than the "
                      "rest ({rest}; {p}, Holm-adjusted {q}).",
    "change": "{name} changed by {total} in {period} against {against}; {dim} {value} accounts "
              "for {change} (volume {vol}, mix {mix}, rate {rate}).",
    "stalled_deal": "Deal {deal} has sat in {stage} for {days} days, longer than 90% of past "
                    "deals in that stage ({p90} days); {amount} at stake.",
    "churn_risk": "Account {account}'s engagement fell to {now} (usually {usual}) in {period}, "
                  "below most accounts; {arr} a year (MRR {mrr}) at risk.",
    "benchmark_below": "{name} is {value}, below the reference range {range} ({source}, {year}).",
    "benchmark_above": "{name} is {value}, above the reference range {range} ({source}, {year}).",
    "kpi": "{name} is at {pct} of its target ({actual} of {expected} expected so far): {status}.",
}
# The catalogue entries of this module: (msgctxt, English msgid).
WORDS = {"dimension": DIMENSIONS, "outcome": OUTCOMES, "status": STATUS}


def entries() -> list[tuple[str, str]]:
    return [(f"{CONTEXT}:{key}", text) for key, text in TEMPLATES.items()] + [
        (f"{CONTEXT}:{kind}", text) for kind, words in WORDS.items() for text in words.values()]


def _word(kind: str, key: str | None, lang: str) -> str:
    """A dimension's, outcome's or status's word in `lang` (unknown: the key itself)."""
    english = WORDS[kind].get(key or "")
    return (key or "") if english is None else pgettext(f"{CONTEXT}:{kind}", english, lang)


def _say(key: str, lang: str, **args: Any) -> str:
    return pgettext(f"{CONTEXT}:{key}", TEMPLATES[key], lang).format(**args)


def _dim(name: str | None, lang: str) -> str:
    return _word("dimension", name, lang)


def _pct(value: float | None, lang: str) -> str:
    return "–" if value is None else fmt.percent(value, lang)


def _num(value: float | None, lang: str, digits: int = 3) -> str:
    return "–" if value is None else fmt.number(round(value, digits), lang, digits)


def _q(value: float | None, lang: str) -> str:
    """A p-value as a number, or "< 0.001"."""
    if value is None:
        return "–"
    return "< " + _num(0.001, lang) if value < 0.001 else _num(value, lang)


def _p(value: float | None, lang: str) -> str:
    """"p = 0.024" or "p < 0.001"."""
    text = _q(value, lang)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _label(f: Finding, lang: str) -> str:
    """The metric's name in `lang` (`details["labels"]`), else its id."""
    return str(f.details.get("labels", {}).get(lang) or f.details.get("label") or f.metric)


def _stages(f: Finding) -> str:
    return f"{(f.from_stage or '').upper()} → {(f.to_stage or '').upper()}"


def _bottleneck(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    d = f.details
    return _say("bottleneck" if f.dimension is None else "bottleneck_in", lang,
                stages=_stages(f), cur=_pct(f.current, lang), base=_pct(f.baseline, lang),
                period=d.get("period", ""), p=_p(f.p_value, lang), lost=money(f.impact or 0),
                n=d.get("baseline_periods", 3), dim=_dim(f.dimension, lang),
                value=f.dimension_value)


def _segment(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    return _say("segment_worse" if f.details.get("worse") else "segment_better", lang,
                cur=_pct(f.current, lang), rest=_pct(f.baseline, lang), p=_p(f.p_value, lang),
                q=_q(f.p_adjusted, lang), dim=_dim(f.dimension, lang), value=f.dimension_value,
                a=(f.from_stage or "").upper(), b=(f.to_stage or "").upper())


def _change(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    d = f.details
    return _say("change", lang, name=_word("outcome", f.metric, lang),
                dim=_dim(f.dimension, lang), value=f.dimension_value,
                change=money(d["change"]), vol=money(d["volume"]), mix=money(d["mix"]),
                rate=money(d["rate"]), total=money(d["total_change"]), period=d["period"],
                against=d["against"])


def _stalled(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    d = f.details
    return _say("stalled_deal", lang, deal=f.dimension_value, stage=d["deal_stage"],
                days=_num(f.current, lang, 0), p90=_num(f.baseline, lang, 0),
                amount="–" if f.impact is None else money(f.impact))


def _churn(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    d = f.details
    return _say("churn_risk", lang, account=f.dimension_value, now=_num(f.current, lang, 0),
                usual=_num(f.baseline, lang, 0), period=d.get("period", ""),
                arr=money(f.impact or 0), mrr=money(d["mrr"]))


def _value(value: float | None, unit: str, lang: str, money: Callable[[float], str]) -> str:
    if value is None:
        return "–"
    if unit == "ratio":
        return _pct(value, lang)
    if unit == "currency":
        return money(value)
    return _num(value, lang, 2)


def _benchmark(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    d = f.details
    unit = d.get("unit", "ratio")
    low, high = d.get("low"), d.get("high")
    show = (lambda v: _value(v, unit, lang, money))  # noqa: E731
    rng = f"{show(low)}–{show(high)}" if low is not None and high is not None else (
        f"≥ {show(low)}" if low is not None else f"≤ {show(high)}")
    args = dict(name=_label(f, lang), value=show(f.current), range=rng,
                source=d.get("source_short", d.get("source", "")), year=d.get("year", ""))
    return _say("benchmark_below" if d.get("status") == "below" else "benchmark_above", lang,
                **args)


def _kpi(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    d = f.details
    unit = d.get("unit") or ""
    args = dict(name=_label(f, lang), pct=_pct(d.get("pct_of_target"), lang),
                actual=_value(f.current, unit, lang, money),
                expected=_value(f.baseline, unit, lang, money),
                status=_word("status", d.get("status"), lang))
    return _say("kpi", lang, **args)


WRITERS: dict[str, Callable[[Finding, str, Callable[[float], str]], str]] = {
    "bottleneck": _bottleneck, "segment": _segment, "change": _change,
    "stalled_deal": _stalled, "churn_risk": _churn, "benchmark": _benchmark, "kpi": _kpi}


def message(f: Finding, lang: str = "en", currency: str = "USD") -> str:
    """The finding as one sentence in `lang` (en, id or ms)."""
    def money(value: float) -> str:
        return fmt.money(value, currency, lang)

    return WRITERS[f.kind](f, lang if lang in LANGS else "en", money)


def describe(findings: list[Finding], lang: str, currency: str) -> list[dict[str, Any]]:
    return [f.to_json(message(f, lang, currency)) for f in findings]
