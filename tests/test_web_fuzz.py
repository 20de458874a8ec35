"""Schemathesis against the app's own OpenAPI schema, in process (ASGI): whatever a client
sends, the answer is never a 500 and always matches the documented responses."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from test_web_data import build_workspace

from funnelmetrics.web.app import create_app


def no_server_error(ctx: object, response: Any, case: schemathesis.Case) -> None:
    """No 5xx at all: a user's mistake is a 4xx with a reason."""
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code} for {case.method} {case.formatted_path}: "
                             f"{response.text[:300]}")


CHECKS = [no_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


# The schema is loaded when the module is collected (schemathesis' lazy fixture loader does not
# work with this pytest), over a small workspace of its own.
_DIR = Path(tempfile.mkdtemp(prefix="funnelmetrics-fuzz-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
TOKENS = build_workspace(_DIR / "funnel.duckdb", leads=300)
as_admin = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json", create_app(_DIR / "funnel.duckdb", auth=False))
as_rep = schemathesis.openapi.from_asgi("/api/v1/openapi.json",
                                        create_app(_DIR / "funnel.duckdb"))
# Every edge case of the schema (coverage phase) as admin; random cases only as a rep, and for
# the overview (twelve metrics per request: its edge cases alone would take a minute).
as_rep.config.phases.update(phases=["examples", "fuzzing"])
as_admin_overview = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json", create_app(_DIR / "funnel.duckdb", auth=False))
as_admin_overview.config.phases.update(phases=["examples", "fuzzing"])


# Insights run every detector (dozens of metric queries) per new period: random cases only,
# with a longer read timeout, like the overview.
SLOW = r"^/api/v1/(insights|benchmarks|forecast|ltv)"  # forecasts fit models per request
as_admin_insights = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json", create_app(_DIR / "funnel.duckdb", auth=False))
as_admin_insights.config.phases.update(phases=["examples", "fuzzing"])


@as_admin.exclude(path="/api/v1/overview").exclude(path_regex=SLOW).parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck),
          database=None)
def test_answers_are_as_documented_and_never_a_crash(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@as_rep.exclude(method="POST").exclude(path_regex=SLOW).parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck),
          database=None)
def test_answers_to_a_rep_are_as_documented_and_never_a_crash(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS['ana']}"}, checks=CHECKS)


@as_admin_overview.include(path="/api/v1/overview").parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck),
          database=None)
def test_overview_answers_are_as_documented_and_never_a_crash(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


# The probe's inputs that answered 500 (connection closed), as explicit cases: each is now a 4xx
# with a reason (or a 200), never a server error.
PROBE_CASES = [
    ("GET", "/api/v1/metric/lead_conversion_rate?param=window_days=1e308"),
    ("GET", "/api/v1/metric/lead_conversion_rate?param=window_days=1e18"),
    ("GET", "/api/v1/metric/lead_conversion_rate?param=window_days=nan"),
    ("GET", "/api/v1/metric/lead_conversion_rate?param=window_days=inf"),
    ("GET", "/api/v1/metric/lead_conversion_rate?param=window_days=0"),
    ("GET", "/api/v1/metric/lead_conversion_rate?param=window_days=-3"),
    ("GET", "/api/v1/metric/leads_created?by=source&by=source"),
    ("GET", "/api/v1/metric/leads_created?start=9999-12-31"),
    ("GET", "/api/v1/metric/leads_created?grain=day&start=1900-01-01"),
    ("GET", "/api/v1/metric/win_rate?by=source&by=rep_id&by=campaign_id&by=account_id"
            "&by=industry&by=country&grain=day"),
    ("GET", "/api/v1/export/metric/leads_created.xlsx?by=source"),
    ("GET", "/api/v1/metric/enps?by=respondent_id"),
    ("POST", "/api/v1/ingest"),
]


def test_the_probe_inputs_are_never_a_server_error() -> None:
    import asyncio

    import httpx

    async def run() -> list[tuple[str, int, str]]:
        app = create_app(_DIR / "funnel.duckdb", auth=False, max_rows=5_000)
        out = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as client:
            for method, url in PROBE_CASES:
                if method == "POST":
                    long_name = "l" * 300 + ".csv"
                    r = await client.post(url, files={"files": (long_name, b"lead_id\n")})
                else:
                    r = await client.request(method, url)
                out.append((url, r.status_code, r.text[:200]))
        return out

    answers = asyncio.run(run())
    for url, status, body in answers:
        assert status < 500, (url, status, body)
        if status >= 400:
            assert "detail" in body, (url, body)
    statuses = {u: s for u, s, _ in answers}
    assert statuses[PROBE_CASES[0][1]] in (400, 422)  # an infinite window is refused
    assert statuses[PROBE_CASES[-1][1]] == 400  # a file name over 255 bytes


@as_admin_insights.include(path_regex=SLOW).parametrize()
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck),
          database=None)
def test_insights_answers_are_as_documented_and_never_a_crash(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=300)
