"""A small, deterministic workspace for the web tests (no tests here; imported by them).

Four reps in two teams (r1, r2: east; r3, r4: west), `leads` leads over the 13 months before
today, with stage events, opportunities, quotas, campaigns, spend, touchpoints, subscriptions
and survey answers. Pseudo-random choices come from hash(i), so every run of a day builds the
same rows. The dates move with today: tests take their date ranges from `whole_months`, never
from a calendar.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import httpx

import funnelmetrics
from funnelmetrics.web.users import add_user

REPS = [("r1", "Ana", "east"), ("r2", "Budi", "east"), ("r3", "Chen", "west"),
        ("r4", "Dewi", "west")]


def _u(i: str, k: int) -> str:
    """A deterministic pseudo-random integer in [0, 1000) from row number `i`."""
    return f"CAST(hash({i} * 7919 + {k}) % 1000 AS BIGINT)"


def build_workspace(path: str | Path, *, leads: int = 1200) -> dict[str, str]:
    """Create the workspace at `path` and one user per role; returns {role: token}."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    first = (now - dt.timedelta(days=400)).replace(hour=0, minute=0, second=0)
    ws = funnelmetrics.open(path)
    con = ws.duckdb
    con.execute("INSERT INTO reps VALUES " + ", ".join(
        f"('{r}', '{n}', '{t}', 'APAC', NULL)" for r, n, t in REPS))
    con.execute("""INSERT INTO campaigns (campaign_id, channel, name) VALUES
        ('c1', 'organic', 'SEO'), ('c2', 'paid_search', 'Search ads'),
        ('c3', 'referral', 'Partners'), ('c4', 'events', 'Expo')""")
    con.execute(f"""
        INSERT INTO leads (lead_id, created_at, source, campaign_id, rep_id, account_id,
                           industry, country, segment)
        SELECT 'L' || i,
               TIMESTAMP '{first}' + to_days(CAST(i * 395 // {leads} AS INTEGER))
                 + to_hours(CAST({_u('i', 1)} % 20 AS INTEGER)),
               ['web', 'ads', 'referral', 'event'][1 + {_u('i', 2)} % 4],
               'c' || (1 + {_u('i', 2)} % 4),
               'r' || (1 + {_u('i', 3)} % 4),
               'A' || (i % 300),
               ['saas', 'retail', 'finance'][1 + {_u('i', 4)} % 3],
               ['ID', 'MY'][1 + {_u('i', 5)} % 2],
               ['SMB', 'MM', 'ENT'][1 + {_u('i', 6)} % 3]
        FROM range({leads}) t(i)""")
    con.execute(f"""CREATE TEMP TABLE fate AS
        SELECT lead_id, created_at, rep_id, account_id,
               {_u('CAST(substr(lead_id, 2) AS INTEGER)', 7)} AS u,
               {_u('CAST(substr(lead_id, 2) AS INTEGER)', 8)} AS v
        FROM leads""")
    stages = [("mql", 600, 2), ("sql", 350, 6), ("opportunity", 200, 10), ("won", 80, 40)]
    for stage, below, days in stages:
        con.execute(f"""INSERT INTO stage_events
            SELECT lead_id, '{stage}', created_at + to_days({days}) + to_hours(v % 48)
            FROM fate WHERE u < {below}
              AND created_at + to_days({days}) + to_hours(v % 48) < TIMESTAMP '{now}'""")
    con.execute(f"""INSERT INTO opportunities (opportunity_id, created_at, status, amount,
            lead_id, account_id, rep_id, closed_at, expected_close_at, deal_stage,
            probability, contract_months)
        SELECT 'O' || substr(lead_id, 2), created_at + to_days(10),
               CASE WHEN u < 80 AND created_at + to_days(40) < TIMESTAMP '{now}' THEN 'won'
                    WHEN u >= 140 AND created_at + to_days(30) < TIMESTAMP '{now}' THEN 'lost'
                    ELSE 'open' END,
               1000 + (v * 37) % 9000, lead_id, account_id, rep_id,
               CASE WHEN u < 80 AND created_at + to_days(40) < TIMESTAMP '{now}'
                      THEN created_at + to_days(40)
                    WHEN u >= 140 AND created_at + to_days(30) < TIMESTAMP '{now}'
                      THEN created_at + to_days(30) END,
               created_at + to_days(60), 'proposal', 0.4, 12
        FROM fate WHERE u < 200 AND created_at + to_days(10) < TIMESTAMP '{now}'""")
    con.execute(f"""INSERT INTO quotas
        SELECT r.rep_id, m, m + INTERVAL 1 MONTH - INTERVAL 1 DAY, 15000
        FROM (VALUES ('r1'), ('r2'), ('r3'), ('r4')) r(rep_id),
             range(date_trunc('month', TIMESTAMP '{first}'),
                   date_trunc('month', TIMESTAMP '{now}') + INTERVAL 1 MONTH,
                   INTERVAL 1 MONTH) t(m)""")
    con.execute(f"""INSERT INTO spend (date, amount, channel, campaign_id, category)
        SELECT d, 50 + CAST(hash(d) % 100 AS BIGINT), c.channel, c.campaign_id, 'marketing'
        FROM range(TIMESTAMP '{first}', TIMESTAMP '{now}', INTERVAL 1 DAY) t(d),
             campaigns c""")
    con.execute("""INSERT INTO touchpoints (lead_id, occurred_at, channel, campaign_id)
        SELECT l.lead_id, l.created_at - INTERVAL 1 DAY, c.channel, c.campaign_id
        FROM leads l JOIN campaigns c USING (campaign_id)""")
    con.execute("""INSERT INTO subscriptions (subscription_id, account_id, mrr, started_at,
            ended_at, plan)
        SELECT 'S' || opportunity_id, account_id, round(amount / 12, 2), closed_at,
               CASE WHEN hash(opportunity_id) % 5 = 0 THEN closed_at + to_days(120) END,
               'pro'
        FROM opportunities WHERE status = 'won'""")
    con.execute(f"""INSERT INTO survey_responses
        SELECT 'q' || strftime(m, '%Y%m'), r.rep_id, m + INTERVAL 3 DAY,
               CAST(hash(r.rep_id || strftime(m, '%Y%m')) % 11 AS INTEGER), r.team
        FROM (SELECT * FROM reps) r,
             range(date_trunc('month', TIMESTAMP '{first}'),
                   date_trunc('month', TIMESTAMP '{now}'), INTERVAL 1 MONTH) t(m)""")
    this_month = now.date().replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    next_month = (this_month + dt.timedelta(days=32)).replace(day=1)
    con.execute(f"""INSERT INTO kpi_targets VALUES
        ('leads_created', '{last_month}', '{this_month - dt.timedelta(days=1)}', 80, NULL, NULL),
        ('win_rate', '{last_month}', '{this_month - dt.timedelta(days=1)}', 0.9, NULL, NULL),
        ('leads_created', '{this_month}', '{next_month - dt.timedelta(days=1)}', 100, NULL,
         NULL)""")
    tokens = {}
    for name, role, extra in (("root", "admin", {}), ("east-boss", "manager", {"team": "east"}),
                              ("ana", "rep", {"rep_id": "r1"}), ("budi", "rep", {"rep_id": "r2"}),
                              ("board", "viewer", {})):
        _, tokens[name] = add_user(ws, name, role, **extra)
    ws.close()
    return tokens


def whole_months(db: str | Path) -> list[dt.date]:
    """The first days of the calendar months that lie wholly inside the leads' dates, oldest
    first: at least twelve (the leads span 395 days ending about a week before today)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        first, last = con.execute("SELECT min(created_at), max(created_at) FROM leads").fetchone()
    finally:
        con.close()
    month = first.date().replace(day=1)
    if month < first.date():
        month = next_month(month)
    months = []
    while month_end(month) <= last.date():
        months.append(month)
        month = next_month(month)
    return months


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of `day`'s month."""
    return next_month(day) - dt.timedelta(days=1)


class Client:
    """A synchronous httpx client driving the ASGI app in process (cookies kept between calls)."""

    def __init__(self, app: Any) -> None:
        self._runner = asyncio.Runner()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://testserver")

    def request(self, method: str, url: str, *, token: str | None = None,
                **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self._runner.run(self._client.request(method, url, headers=headers, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._client.cookies

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()
