"""Insights page: the period's top findings (`funnelmetrics.insights.report`, through the API's
`insights_for`: the caller's scope and filters), each in the page's language with a link to the
rows behind it (the `/rows/{table}` page) for roles that see rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from funnelmetrics.i18n.ui import t
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session
from funnelmetrics.web.views.common import Filters

PERIOD_GRAINS = ("week", "month", "quarter", "year")


def rows_link(rows: dict[str, Any] | None) -> str | None:
    """`/rows/TABLE?where=DIM=VALUE&start=…&end=…` for a finding's rows (None: no rows)."""
    if not rows:
        return None
    query: list[tuple[str, str]] = [("where", f"{k}={v}") for k, v in rows["where"].items()
                                    if v is not None]
    query += [(k, str(rows[k])) for k in ("start", "end", "date_column") if rows.get(k)]
    return f"/rows/{rows['table']}?{urlencode(query)}"


def page(session: Session, who: Principal, f: Filters, request: Any) -> dict[str, Any]:
    from funnelmetrics.web.api_insights import insights_for

    grain = f.grain if f.grain in PERIOD_GRAINS else "month"
    period = request.query_params.get("period") or f.end
    f.extra["period"] = request.query_params.get("period") or None
    answer = insights_for(session, who, period=period, grain=grain, lang=f.lang, top=15,
                          as_of=f.as_of, where=dict(f.where))
    items = []
    for finding, rows in zip(answer["findings"], answer["rows"], strict=True):
        impact = finding["impact"]
        items.append({"kind": finding["kind"], "message": finding["message"],
                      "impact": None if impact is None else f.fmt(impact, "currency"),
                      "link": rows_link(rows) if who.sees_rows else None})
    return {"period": answer["period"], "items": items,
            "empty": t("no_insights", f.lang) if not items else None}
