"""A finding in plain language: English, Indonesian and Malay, each sentence written for its
language (word order, number format and the words a reader there uses), not translated word
by word. Numbers are formatted for the language's locale (`i18n.format`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from funnelmetrics.i18n import format as fmt
from funnelmetrics.insights.findings import Finding

LANGS = ("en", "id", "ms")

DIMENSIONS = {
    "source": ("source", "sumber", "sumber"),
    "industry": ("industry", "industri", "industri"),
    "segment": ("segment", "segmen", "segmen"),
    "country": ("country", "negara", "negara"),
    "rep_id": ("rep", "tenaga penjual", "wakil jualan"),
    "lead_type": ("lead type", "jenis prospek", "jenis prospek"),
    "company_size": ("company size", "ukuran perusahaan", "saiz syarikat"),
}
OUTCOMES = {
    "bookings": ("Bookings", "Nilai penjualan", "Nilai tempahan jualan"),
    "won_deals": ("Won deals", "Jumlah transaksi yang dimenangkan", "Bilangan urus niaga dimenangi"),
    "conversions": ("Conversions", "Jumlah konversi", "Bilangan penukaran"),
}
STATUS = {"on track": ("on track", "sesuai target", "mengikut sasaran"),
          "at risk": ("at risk", "berisiko", "berisiko"),
          "behind": ("behind", "tertinggal", "ketinggalan")}


def _i(lang: str) -> int:
    return LANGS.index(lang) if lang in LANGS else 0


def _dim(name: str | None, lang: str) -> str:
    return DIMENSIONS.get(name or "", (name,) * 3)[_i(lang)] or ""


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
    n_base = d.get("baseline_periods", 3)
    who = "" if f.dimension is None else f" for {_dim(f.dimension, lang)} {f.dimension_value}"
    args = dict(stages=_stages(f), cur=_pct(f.current, lang), base=_pct(f.baseline, lang),
                period=d.get("period", ""), p=_p(f.p_value, lang),
                lost=money(f.impact or 0), n=n_base, dim=_dim(f.dimension, lang),
                value=f.dimension_value)
    if lang == "id":
        scope = "" if f.dimension is None else " untuk {dim} {value}".format(**args)
        return ("Konversi {stages}" + scope + " hanya {cur} pada {period}, turun dari {base} "
                "dalam {n} periode sebelumnya ({p}); sekitar {lost} nilai penjualan "
                "hilang.").format(**args)
    if lang == "ms":
        scope = "" if f.dimension is None else " bagi {dim} {value}".format(**args)
        return ("Penukaran {stages}" + scope + " hanya {cur} pada {period}, turun daripada "
                "{base} dalam {n} tempoh sebelumnya ({p}); kira-kira {lost} nilai jualan "
                "hilang.").format(**args)
    return ("{stages}" + who + " converted {cur} in {period}, down from {base} over the "
            "previous {n} periods ({p}): about {lost} in bookings lost.").format(**args)


def _segment(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    worse = bool(f.details.get("worse"))
    args = dict(stages=_stages(f), cur=_pct(f.current, lang), rest=_pct(f.baseline, lang),
                p=_p(f.p_value, lang), q=_q(f.p_adjusted, lang), dim=_dim(f.dimension, lang),
                value=f.dimension_value, a=(f.from_stage or "").upper(),
                b=(f.to_stage or "").upper())
    if lang == "id":
        side = "lebih buruk" if worse else "lebih baik"
        return ("Prospek dengan {dim} {value} berkonversi dari {a} ke {b} sebesar {cur}, "
                f"{side} daripada prospek lainnya ({{rest}}; {{p}}, setelah koreksi Holm "
                "{q}).").format(**args)
    if lang == "ms":
        side = "lebih teruk" if worse else "lebih baik"
        return ("Prospek dengan {dim} {value} bertukar daripada {a} ke {b} pada kadar {cur}, "
                f"{side} berbanding prospek lain ({{rest}}; {{p}}, selepas pelarasan Holm "
                "{q}).").format(**args)
    side = "worse" if worse else "better"
    return ("Leads with {dim} {value} convert {stages} at {cur}, " + side + " than the rest "
            "({rest}; {p}, Holm-adjusted {q}).").format(**args)


def _change(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    d = f.details
    name = OUTCOMES.get(f.metric, (f.metric,) * 3)[_i(lang)]
    args = dict(name=name, dim=_dim(f.dimension, lang), value=f.dimension_value,
                change=money(d["change"]), vol=money(d["volume"]), mix=money(d["mix"]),
                rate=money(d["rate"]), total=money(d["total_change"]), period=d["period"],
                against=d["against"])
    if lang == "id":
        return ("{name} berubah {total} pada {period} dibanding {against}; {dim} {value} "
                "menyumbang {change} (volume {vol}, bauran {mix}, tingkat {rate}).").format(**args)
    if lang == "ms":
        return ("{name} berubah sebanyak {total} pada {period} berbanding {against}; {dim} "
                "{value} menyumbang {change} (volum {vol}, campuran {mix}, kadar {rate})."
                ).format(**args)
    return ("{name} changed by {total} in {period} against {against}; {dim} {value} "
            "accounts for {change} (volume {vol}, mix {mix}, rate {rate}).").format(**args)


def _stalled(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    d = f.details
    args = dict(deal=f.dimension_value, stage=d["deal_stage"], days=_num(f.current, lang, 0),
                p90=_num(f.baseline, lang, 0),
                amount="–" if f.impact is None else money(f.impact))
    if lang == "id":
        return ("Peluang {deal} sudah {days} hari di tahap {stage}, lebih lama daripada 90% "
                "peluang sebelumnya di tahap itu ({p90} hari); nilai {amount} "
                "dipertaruhkan.").format(**args)
    if lang == "ms":
        return ("Peluang {deal} sudah {days} hari di peringkat {stage}, lebih lama daripada "
                "90% peluang terdahulu di peringkat itu ({p90} hari); nilai {amount} "
                "dipertaruhkan.").format(**args)
    return ("Deal {deal} has sat in {stage} for {days} days, longer than 90% of past deals in "
            "that stage ({p90} days); {amount} at stake.").format(**args)


def _churn(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    d = f.details
    args = dict(account=f.dimension_value, now=_num(f.current, lang, 0),
                usual=_num(f.baseline, lang, 0), period=d.get("period", ""),
                arr=money(f.impact or 0), mrr=money(d["mrr"]))
    if lang == "id":
        return ("Keterlibatan akun {account} turun ke skor {now} (biasanya {usual}) pada "
                "{period}, di bawah sebagian besar akun; pendapatan {arr} per tahun (MRR {mrr}) "
                "berisiko hilang.").format(**args)
    if lang == "ms":
        return ("Penglibatan akaun {account} jatuh ke skor {now} (biasanya {usual}) pada "
                "{period}, di bawah kebanyakan akaun; hasil {arr} setahun (MRR {mrr}) berisiko "
                "hilang.").format(**args)
    return ("Account {account}'s engagement fell to {now} (usually {usual}) in {period}, "
            "below most accounts; {arr} a year (MRR {mrr}) at risk.").format(**args)


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
    below = d.get("status") == "below"
    if lang == "id":
        side = "di bawah" if below else "di atas"
        return (f"{{name}} {{value}}, {side} kisaran acuan {{range}} ({{source}}, {{year}})."
                ).format(**args)
    if lang == "ms":
        side = "di bawah" if below else "melebihi"
        return (f"{{name}} {{value}}, {side} julat penanda aras {{range}} ({{source}}, "
                "{year}).").format(**args)
    side = "below" if below else "above"
    return (f"{{name}} is {{value}}, {side} the reference range {{range}} ({{source}}, "
            "{year}).").format(**args)


def _kpi(f: Finding, lang: str, money: Callable[[float], str]) -> str:
    d = f.details
    unit = d.get("unit") or ""
    args = dict(name=_label(f, lang), pct=_pct(d.get("pct_of_target"), lang),
                actual=_value(f.current, unit, lang, money),
                expected=_value(f.baseline, unit, lang, money),
                status=STATUS.get(d.get("status", ""), (d.get("status"),) * 3)[_i(lang)])
    if lang == "id":
        return ("{name} baru mencapai {pct} dari target ({actual} dari {expected} yang "
                "diharapkan sejauh ini): {status}.").format(**args)
    if lang == "ms":
        return ("{name} baru mencapai {pct} daripada sasaran ({actual} daripada {expected} "
                "yang dijangka setakat ini): {status}.").format(**args)
    return ("{name} is at {pct} of its target ({actual} of {expected} expected so far): "
            "{status}.").format(**args)


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
