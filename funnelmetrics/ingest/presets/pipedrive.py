"""Pipedrive deals preset: `<Entity> - <Field>` headers, the entity in the user's language
(FORMATS.md, Pipedrive)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from funnelmetrics.config import CrmSettings
from funnelmetrics.ingest.presets.expressions import number, shipped
from funnelmetrics.ingest.readers import ident
from funnelmetrics.ingest.view import Part, Select, View

FIELD = re.compile(r"^(.+?) - (.+)$")
CLOSED = {"won": ("Won time", "Deal closed on", "Close time"),
          "lost": ("Lost time", "Deal closed on", "Close time")}


def entity(header: Sequence[str]) -> str | None:
    """The deal entity's prefix: the entity of the first `<Entity> - ID` column that also has
    a Status and a Stage (`Deal`, `Obchod`, …)."""
    for h in header:
        m = FIELD.match(h)
        if m and m.group(2) == "ID":
            name = m.group(1)
            fields = {f.group(2) for x in header if (f := FIELD.match(x)) and f.group(1) == name}
            if {"Status", "Stage"} <= fields:
                return name
    return None


def is_deals(header: Sequence[str]) -> bool:
    return entity(header) is not None


def deals(header: Sequence[str], crm: CrmSettings) -> list[View]:
    """Opportunities from the deal entity's fields (other entities' fields and custom fields
    kept as attributes); a deleted deal is skipped; a won or lost deal closes at its won or
    lost time."""
    mapping = shipped("pipedrive-deals")
    prefix = entity(header)
    assert prefix is not None
    fields = {m.group(2): h for h in header if (m := FIELD.match(h)) and m.group(1) == prefix}
    short = list(fields)
    view = mapping.view(short, "preset pipedrive-deals", timezone=crm.timezone)
    # the mapping was resolved on field names: point its SQL at the file's full names
    cols = {c: _full(sql, fields) for c, sql in view.part.selects[0].columns.items()}
    status = cols["status"]

    def field(*names: str) -> str | None:
        return next((ident(fields[n]) for n in names if n in fields), None)

    closes = {s: [f for n in names if (f := field(n))] for s, names in CLOSED.items()}
    whens = " ".join(f"WHEN {status} = '{s}' THEN coalesce({', '.join(fs)}, NULL)"
                     for s, fs in closes.items() if fs)
    if whens:
        cols["closed_at"] = f"CASE {whens} END"
    prob = field("Probability")
    if prob:
        cols["probability"] = f"{number(prob)} / 100"
    if crm.currency and "currency" not in cols:
        cols["currency"] = f"'{crm.currency}'"
    used = {fields[m] for c in mapping.columns if (m := mapping.column(short, c))}
    extras = tuple(h for h in header if h not in used)
    where = f"coalesce(lower({ident(fields['Status'])}) <> 'deleted', true)"
    part = Part(view.table, (Select(cols, where),), extras, "deleted in Pipedrive")
    return [View(view.via, part, timezone=view.timezone)]


def _full(sql: str, fields: dict[str, str]) -> str:
    """SQL written over field names (`"Stage"`) rewritten over the file's (`"Deal - Stage"`)."""
    for name in sorted(fields, key=len, reverse=True):
        sql = sql.replace(ident(name), ident(fields[name]))
    return sql
