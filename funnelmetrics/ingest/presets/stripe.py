"""Stripe subscriptions preset (Dashboard export; FORMATS.md, Stripe)."""

from __future__ import annotations

from collections.abc import Sequence

from funnelmetrics.config import CrmSettings
from funnelmetrics.ingest.presets.expressions import col, number, shipped
from funnelmetrics.ingest.view import View

# Months per billing interval: MRR = amount × quantity / (months per interval × interval count).
MONTHS = {"month": "1.0", "year": "12.0", "week": "(12.0 / 52)", "day": "(12.0 / 365)"}
ENDED = ("canceled", "incomplete_expired", "ended")
NEVER_PAID = ("incomplete", "incomplete_expired")


def is_subscriptions(header: Sequence[str]) -> bool:
    return shipped("stripe-subscriptions").detected(header)


def subscriptions(header: Sequence[str], crm: CrmSettings) -> list[View]:
    """Subscriptions with MRR from the interval and quantity; a trial is not revenue (a
    trialing subscription starts at its trial end); ended and never-paid ones end."""
    mapping = shipped("stripe-subscriptions")
    amount = col(header, "Amount", "Plan Amount")
    quantity = col(header, "Quantity")
    interval = col(header, "Interval", "Plan Interval")
    count = col(header, "Interval Count", "Plan Interval Count")
    per = "CASE lower(trim({i})) " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in MONTHS.items())
    per = per.format(i=interval) + " END"
    if count:
        per = f"({per} * coalesce({number(count)}, 1))"
    mrr = f"{number(amount)} * coalesce({number(quantity) if quantity else 'NULL'}, 1) / {per}"
    status = f"lower(trim({col(header, 'Status')}))"
    trial_end = col(header, "Trial End (UTC)", "Trial End")
    period_end = col(header, "Current Period End (UTC)", "Current Period End")
    start = [c for c in (col(header, "Start Date (UTC)", "Start (UTC)", "Start Date", "Start"),
                         col(header, "Created (UTC)", "Created")) if c]
    trialing = f"CASE WHEN {status} = 'trialing' THEN {period_end or 'NULL'} END"
    started = f"coalesce({', '.join([trial_end or 'NULL', trialing, *start])})"
    # an active subscription set to cancel at its period's end has a Canceled At but has not
    # ended: only Ended At ends it; an ended one without Ended At stopped when canceled
    ended_col = col(header, "Ended At (UTC)", "Ended At")
    canceled = col(header, "Canceled At (UTC)", "Canceled At")
    stops = ", ".join([c for c in (ended_col, canceled) if c] + [period_end or "NULL"])
    ended = (f"CASE WHEN {status} IN {NEVER_PAID} THEN {started} "
             f"WHEN {status} IN {ENDED} THEN coalesce({stops}) "
             + (f"ELSE {ended_col} " if ended_col else "") + "END")
    columns = {"mrr": mrr, "started_at": started, "ended_at": ended}
    currency = col(header, "Currency", "Plan Currency")
    if currency:
        columns["currency"] = f"upper(trim({currency}))"
    elif crm.currency:
        columns["currency"] = f"'{crm.currency}'"
    return [mapping.view(header, "preset stripe-subscriptions", columns=columns)]
