"""HubSpot presets: deals, and contacts with their lifecycle stage dates (FORMATS.md, HubSpot)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from funnelmetrics.config import CrmSettings
from funnelmetrics.ingest.presets.expressions import (
    close_dates,
    col,
    number,
    shipped,
    status_sql,
    truthy,
)
from funnelmetrics.ingest.readers import ident, sql_str
from funnelmetrics.ingest.view import Part, Select, View

# Lifecycle stage labels (HubSpot's defaults) → funnel stages; other stages stay attributes.
LIFECYCLE = {"Lead": "lead", "Marketing Qualified Lead": "mql", "Sales Qualified Lead": "sql",
             "Opportunity": "opportunity", "Customer": "won"}
BECAME = re.compile(r"^Became an? (.+?) Date$", re.IGNORECASE)
ENTERED = re.compile(r"^Date entered [\"“'](.+?) \(Lifecycle Stage Pipeline\)[\"”']$",
                     re.IGNORECASE)


# ---- deals --------------------------------------------------------------------------------------
def is_deals(header: Sequence[str]) -> bool:
    return shipped("hubspot-deals").detected(header)


def deals(header: Sequence[str], crm: CrmSettings) -> list[View]:
    """Opportunities: status from `Is Deal Closed?` and probability (a closed deal at 100% is
    won), else from the stage name; `Close Date` closes closed deals, is expected for open ones."""
    mapping = shipped("hubspot-deals")
    stage = col(header, *mapping.columns["deal_stage"])
    closed = col(header, "Is Deal Closed?", "Is closed")
    prob = col(header, *mapping.columns["probability"])
    won = None
    if closed is not None:
        won = f"coalesce({number(prob)} >= 1, false)" if prob else "false"
        if stage is not None:
            won = f"({won} OR regexp_matches(lower(trim({stage})), '^closed\\W*won$'))"
    status = status_sql(stage, crm.deal_stages, closed=truthy(closed) if closed else None,
                        won=won)
    columns = {"status": status, **close_dates(status, col(header, "Close Date", "Close date"))}
    if prob:  # a share (0.1); some exports write percent (10): read both
        columns["probability"] = (f"CASE WHEN {number(prob)} > 1 THEN {number(prob)} / 100 "
                                  f"ELSE {number(prob)} END")
    currency = {"currency": sql_str(crm.currency)} if crm.currency else {}
    return [mapping.view(header, "preset hubspot-deals", columns=currency | columns,
                         timezone=crm.timezone)]


# ---- contacts -----------------------------------------------------------------------------------
def is_contacts(header: Sequence[str]) -> bool:
    return (shipped("hubspot-contacts").detected(header) and "Deal Stage" not in header
            and any(h.lower() == "lifecycle stage" or BECAME.match(h) or ENTERED.match(h)
                    for h in header))


def lifecycle_columns(header: Sequence[str], crm: CrmSettings) -> list[tuple[str, str]]:
    """(funnel stage, file column) of every lifecycle date column of a funnel stage (several
    CRM stages may count as one funnel stage: each date is an event, the earliest reaches it);
    a stage's current `Date entered` column wins over its older `Became a` one."""
    stages = {k.lower(): v for k, v in (LIFECYCLE | crm.lifecycle_stages).items()}
    found: dict[str, tuple[str, str]] = {}  # CRM stage → (funnel stage, column)
    for pattern in (BECAME, ENTERED):
        for h in header:
            m = pattern.match(h)
            label = m.group(1).strip().lower() if m else ""
            if label in stages:
                found[label] = (stages[label], h)
    return list(found.values())


def contacts(header: Sequence[str], crm: CrmSettings) -> list[View]:
    """Leads (custom properties kept as attributes) and one stage event per lifecycle date."""
    mapping = shipped("hubspot-contacts")
    leads = mapping.view(header, "preset hubspot-contacts", timezone=crm.timezone)
    lead_id = leads.part.selects[0].columns["lead_id"]
    events = tuple(Select({"lead_id": lead_id, "stage": sql_str(stage),
                           "occurred_at": ident(column)}, f"{ident(column)} IS NOT NULL")
                   for stage, column in lifecycle_columns(header, crm))
    views = [leads]
    if events:
        views.append(View("preset hubspot-contacts", Part("stage_events", events),
                          timezone=crm.timezone))
    return views
