"""Alerts (SPEC §4, issue 15 §6): rules on any catalogue metric, in `funnelmetrics.toml`:

    [[alerts]]
    name = "low mql to sql"
    metric = "stage_conversion_rate"
    params = { from_stage = "mql", to_stage = "sql" }
    grain = "month"
    where = { segment = "SMB" }      # optional
    below = 0.55                     # or above = …, change_below = -0.1, anomaly = true
    deliver = ["terminal", "file:alerts.jsonl", "webhook:http://127.0.0.1:9000/hook"]

A rule fires exactly when it holds for the period's value (the catalogue's, with the rule's
grain, filter and parameters), strictly: `below` when value < threshold, `above` when
value > threshold, `change_below` when the relative change against the previous period,
(value − previous) / |previous|, is < threshold, `anomaly` when the value is outside the
expected interval. No value (no data, or no previous value to change from) never fires.

Anomaly: the expected value is the mean of the same period in earlier years when there are at
least two (seasonality: March against earlier Marches), else of the `ANOMALY_TRAILING` periods
before; the interval is that mean ± 2 standard deviations of those values (at least two needed).
Periods before the first non-zero value read are before the data began (a count is 0 there):
left out. (A forecast model's interval would be the better expectation once one exists.)

Delivery: `terminal` (the command prints it), `file:PATH` (one JSON line appended; a relative
path is beside the workspace), `webhook:URL` (HTTP POST of the JSON, `timeout` seconds,
`retries` more tries after a failure, waiting `backoff` × 2^k seconds).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from funnelmetrics.compile.time import Grain, parse_grain, shift
from funnelmetrics.errors import ConfigError, FunnelmetricsError
from funnelmetrics.insights.findings import Period, clean, parse_period

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

CONDITIONS = ("below", "above", "change_below", "anomaly")
KEYS = {"name", "metric", "params", "grain", "where", "deliver", *CONDITIONS}
ANOMALY_TRAILING = 6
ANOMALY_SIGMAS = 2.0
SEASON_YEARS = 3


@dataclass(frozen=True)
class Rule:
    name: str
    metric: str
    condition: str
    threshold: float | None
    grain: Grain = Grain.MONTH
    params: dict[str, Any] = field(default_factory=dict)
    where: dict[str, Any] = field(default_factory=dict)
    deliver: tuple[str, ...] = ("terminal",)


def _bad(name: str, why: str) -> ConfigError:
    return ConfigError(f"alert {name!r}: {why}")


def parse_rule(raw: Mapping[str, Any], index: int = 0) -> Rule:
    """One `[[alerts]]` table as a rule; anything wrong is a ConfigError naming the rule."""
    from funnelmetrics import catalog

    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"alert #{index + 1}: every [[alerts]] rule needs a name")
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise _bad(name, f"unknown key(s) {', '.join(unknown)} "
                         f"(use {', '.join(sorted(KEYS))})")
    metric = raw.get("metric")
    if not isinstance(metric, str):
        raise _bad(name, "needs a metric")
    try:
        catalog.get(metric)
        grain = parse_grain(str(raw.get("grain", "month")))
    except FunnelmetricsError as exc:
        raise _bad(name, str(exc).splitlines()[0]) from None
    if grain is Grain.ALL:
        raise _bad(name, "grain must be day, week, month, quarter or year")
    given = [c for c in CONDITIONS if c in raw]
    if len(given) != 1:
        raise _bad(name, f"needs exactly one of {', '.join(CONDITIONS)}"
                         + (f", not {' and '.join(given)}" if given else ""))
    condition = given[0]
    threshold: float | None = None
    if condition == "anomaly":
        if raw["anomaly"] is not True:
            raise _bad(name, "anomaly takes true")
    else:
        value = raw[condition]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(name, f"{condition} must be a number, not {value!r}")
        threshold = float(value)
    for key in ("params", "where"):
        if not isinstance(raw.get(key, {}), Mapping):
            raise _bad(name, f"{key} must be a table, e.g. {key} = {{ key = \"value\" }}")
    deliver = _targets(name, raw.get("deliver", ["terminal"]))
    return Rule(name=name, metric=metric, condition=condition, threshold=threshold,
                grain=grain, params=dict(raw.get("params", {})),
                where=dict(raw.get("where", {})), deliver=tuple(deliver))


def _targets(name: str, deliver: Any) -> list[str]:
    if isinstance(deliver, str):
        deliver = [deliver]
    if not isinstance(deliver, list) or not all(isinstance(d, str) for d in deliver):
        raise _bad(name, "deliver is a list of \"terminal\", \"file:PATH\" or \"webhook:URL\"")
    for target in deliver:
        kind, _, rest = target.partition(":")
        if target != "terminal" and not (kind == "file" and rest) and not (
                kind == "webhook" and rest.startswith(("http://", "https://"))):
            raise _bad(name, f"cannot deliver to {target!r} (use terminal, file:PATH or "
                             "webhook:http(s)://…)")
    return deliver


def rules_of(ws: Workspace) -> list[Rule]:
    rules = [parse_rule(raw, i) for i, raw in enumerate(ws.config.alerts)]
    names = [r.name for r in rules]
    for name in names:
        if names.count(name) > 1:
            raise _bad(name, "two rules share this name")
    return rules


def _values(ws: Workspace, rule: Rule, starts: list[dt.date], as_of: Any) -> dict[dt.date, float]:
    import pandas as pd

    query = {"grain": rule.grain.value, "params": rule.params, "where": rule.where,
             "as_of": as_of}
    out: dict[dt.date, float] = {}
    try:
        frames = ws.metrics([(rule.metric, {**query, "start": s, "end": shift(s, rule.grain)
                                            - dt.timedelta(days=1)}) for s in starts])
    except FunnelmetricsError as exc:
        raise _bad(rule.name, str(exc).splitlines()[0]) from None
    for start, df in zip(starts, frames, strict=True):
        rows = df[df["period_start"] == start] if not df.empty else df
        if len(rows) > 1:
            raise _bad(rule.name, "the metric has several rows per period (a dimension "
                                  "without a where filter?)")
        if len(rows) == 1 and pd.notna(rows["value"].iloc[0]):
            out[start] = float(rows["value"].iloc[0])
    return out


def expected_interval(history: list[float]) -> tuple[float, float, float] | None:
    """(expected, low, high): mean ± ANOMALY_SIGMAS standard deviations; None under 2 values."""
    if len(history) < 2:
        return None
    mean, sd = statistics.fmean(history), statistics.stdev(history)
    return mean, mean - ANOMALY_SIGMAS * sd, mean + ANOMALY_SIGMAS * sd


def _today(ws: Workspace, as_of: Any) -> dt.date | None:
    from funnelmetrics.compile.time import parse_instant

    moment = parse_instant(as_of, ws.config.timezone) if as_of is not None else None
    return moment.date() if moment is not None else None


def evaluate(ws: Workspace, rule: Rule, period: Period | None = None, *,
             as_of: Any = None, lang: str = "en") -> dict[str, Any] | None:
    """The alert the rule raises for the period (default: the last full one), or None; its
    message in `lang`."""
    period = parse_period(period.start if period is not None else None, rule.grain,
                          today=_today(ws, as_of))
    seasonal = [shift(period.start, Grain.YEAR, -k) for k in range(1, SEASON_YEARS + 1)]
    trailing = [period.back(k).start for k in range(1, ANOMALY_TRAILING + 1)]
    starts = [period.start]
    if rule.condition == "change_below":
        starts.append(period.back(1).start)
    elif rule.condition == "anomaly":
        starts += [s for s in seasonal + trailing if s not in starts]
    values = _values(ws, rule, starts, as_of)
    value = values.get(period.start)
    if value is None:
        return None
    extra: dict[str, Any] = {}
    threshold = rule.threshold
    if rule.condition == "below":
        fired = value < threshold  # type: ignore[operator]
    elif rule.condition == "above":
        fired = value > threshold  # type: ignore[operator]
    elif rule.condition == "change_below":
        previous = values.get(period.back(1).start)
        if previous is None or previous == 0:
            return None
        change = (value - previous) / abs(previous)
        fired = change < threshold  # type: ignore[operator]
        extra = {"previous": previous, "change": change}
    else:
        began = min((s for s, v in values.items() if v != 0), default=period.start)
        past = [values[s] for s in seasonal if s in values and s >= began]
        basis = "same period in earlier years"
        if len(past) < 2:
            past = [values[s] for s in trailing if s in values and s >= began]
            basis = "trailing periods"
        interval = expected_interval(past)
        if interval is None:
            return None
        expected, low, high = interval
        fired = value < low or value > high
        threshold = low if value < low else high
        extra = {"expected": expected, "low": low, "high": high, "basis": basis}
    if not fired:
        return None
    return {"alert": rule.name, "metric": rule.metric, "period_start": period.start.isoformat(),
            "value": clean(value), "threshold": clean(threshold), "condition": rule.condition,
            "where": rule.where or None, **{k: clean(v) for k, v in extra.items()},
            "message": message(rule, value, threshold, extra, lang)}


# The alert's sentence per condition, in the gettext catalogues (msgctxt alert:CONDITION; the
# English text is the msgid). Figures are formatted for the language before they are put in.
CONTEXT = "alert"
TEMPLATES = {
    "below": "{name}: {metric}{where} is {value}, below {threshold}",
    "above": "{name}: {metric}{where} is {value}, above {threshold}",
    "change_below": "{name}: {metric}{where} is {value}, {change} against the previous period "
                    "({previous}; alert under {threshold})",
    "anomaly": "{name}: {metric}{where} is {value}, outside the expected {low}–{high} "
               "(expected {expected} from the {basis})",
}
BASES = ("same period in earlier years", "trailing periods")


def entries() -> list[tuple[str, str]]:
    """Every (msgctxt, msgid) the alerts' messages read from the catalogues."""
    return [*((f"{CONTEXT}:{k}", v) for k, v in TEMPLATES.items()),
            *((f"{CONTEXT}:basis", b) for b in BASES)]


def _figure(value: float, lang: str) -> str:
    """Four significant digits, written the language's way (0.4833 / 0,4833)."""
    if lang == "en":
        return f"{value:.4g}"
    from babel.numbers import format_decimal

    from funnelmetrics.i18n.format import locale_of

    return format_decimal(float(f"{value:.4g}"), format="#,##0.####", locale=locale_of(lang))


def _change(value: float, lang: str) -> str:
    if lang == "en":
        return f"{value:+.1%}"
    from babel.numbers import format_percent

    from funnelmetrics.i18n.format import locale_of

    sign = "+" if value >= 0 else ""
    return sign + format_percent(value, format="#,##0.0%", locale=locale_of(lang))


def message(rule: Rule, value: float, threshold: float | None, extra: Mapping[str, Any],
            lang: str = "en") -> str:
    """The fired alert in a sentence, in `lang` (en, id or ms)."""
    from funnelmetrics.i18n.gettext import pgettext

    where = "".join(f" ({k} = {v})" for k, v in rule.where.items())
    args: dict[str, Any] = {"name": rule.name, "metric": rule.metric, "where": where,
                            "value": _figure(value, lang)}
    if rule.condition == "change_below":
        args.update(change=_change(extra["change"], lang),
                    previous=_figure(extra["previous"], lang),
                    threshold=_change(threshold, lang))  # type: ignore[arg-type]
    elif rule.condition == "anomaly":
        args.update(low=_figure(extra["low"], lang), high=_figure(extra["high"], lang),
                    expected=_figure(extra["expected"], lang),
                    basis=pgettext(f"{CONTEXT}:basis", extra["basis"], lang))
    else:
        args["threshold"] = _figure(threshold, lang)  # type: ignore[arg-type]
    template = TEMPLATES[rule.condition]
    return pgettext(f"{CONTEXT}:{rule.condition}", template, lang).format(**args)


def run_alerts(ws: Workspace, period: Any = None, *, as_of: Any = None,
               lang: str | None = None) -> list[dict[str, Any]]:
    """Every rule evaluated (for `period`, text or date, at each rule's grain); messages in
    `lang` (default: the workspace's locale)."""
    lang = lang or ws.config.locale
    out = []
    for rule in rules_of(ws):
        chosen = None if period is None else parse_period(period, rule.grain)
        alert = evaluate(ws, rule, chosen, as_of=as_of, lang=lang)
        if alert is not None:
            out.append(alert)
    return out


# ---- delivery ----------------------------------------------------------------------------------
def post_json(url: str, body: Mapping[str, Any], *, timeout: float = 5.0, retries: int = 2,
              backoff: float = 0.5) -> str | None:
    """POST `body` as JSON; None on a 2xx answer, else the last failure (after retries)."""
    data = json.dumps(body).encode()
    failure = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                if 200 <= answer.status < 300:
                    return None
                failure = f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            failure = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            failure = str(getattr(exc, "reason", exc))
    return failure


def deliver(ws: Workspace, alert: Mapping[str, Any], *, timeout: float = 5.0,
            retries: int = 2, backoff: float = 0.5) -> list[str]:
    """Send one fired alert to its rule's file and webhook targets (the terminal is the
    command's own output); the failures, each one line."""
    rule = next(r for r in rules_of(ws) if r.name == alert["alert"])
    problems = []
    for target in rule.deliver:
        kind, _, rest = target.partition(":")
        if kind == "file":
            path = Path(rest)
            if not path.is_absolute() and ws.directory is not None:
                path = Path(ws.directory) / path
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(alert) + "\n")
            except OSError as exc:
                problems.append(f"alert {rule.name!r}: cannot write {path}: {exc.strerror}")
        elif kind == "webhook":
            failure = post_json(rest, alert, timeout=timeout, retries=retries, backoff=backoff)
            if failure is not None:
                problems.append(f"alert {rule.name!r}: webhook {rest} failed after "
                                f"{retries + 1} tries ({failure})")
    return problems
