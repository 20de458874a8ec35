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
SLOW = r"^/api/v1/(insights|benchmarks)"
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


@as_admin_insights.include(path_regex=SLOW).parametrize()
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck),
          database=None)
def test_insights_answers_are_as_documented_and_never_a_crash(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=300)
